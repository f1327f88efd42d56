//! What a log group name tells about its source: RDS names its groups
//! `/aws/rds/{instance|cluster}/<id>/<log type>` and `/aws/rds/proxy/<name>`,
//! and the log type narrows the engine family before any line is read.

/// Every log type RDS exports to CloudWatch Logs (the last part of the
/// log group name; `proxy` for RDS Proxy groups). Tests and fuzz targets
/// walk it so a parser registered later is covered without editing them.
pub const RDS_LOG_TYPES: [&str; 14] = [
    "postgresql",
    "upgrade",
    "error",
    "slowquery",
    "general",
    "audit",
    "alert",
    "listener",
    "trace",
    "oemagent",
    "agent",
    "proxy",
    "iam-db-auth-error",
    "instance",
];

/// Which kind of RDS resource wrote the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    Instance,
    Cluster,
    Proxy,
}

impl SourceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SourceKind::Instance => "instance",
            SourceKind::Cluster => "cluster",
            SourceKind::Proxy => "proxy",
        }
    }
}

pub use crate::parse::format::EngineFamily;

/// Everything known about a log group before reading its events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    /// `None` for groups outside `/aws/rds/`, forwarded as generic logs.
    pub kind: Option<SourceKind>,
    /// Instance, cluster or proxy id.
    pub identifier: Option<String>,
    /// `postgresql`, `error`, `slowquery`, … (`proxy` for RDS Proxy groups).
    pub log_type: Option<String>,
    pub family: Option<EngineFamily>,
}

impl SourceInfo {
    /// Reads a log group name. The log stream breaks the tie for `error` and
    /// `audit`, which MySQL and SQL Server / Oracle share: RDS SQL Server
    /// streams are named `<id>.node1`-style only on Multi-AZ, so the stream
    /// alone cannot decide; the parser refines from content instead.
    pub fn from_log_group(group: &str) -> SourceInfo {
        let generic = SourceInfo {
            kind: None,
            identifier: None,
            log_type: None,
            family: None,
        };
        let Some(rest) = group.strip_prefix("/aws/rds/") else {
            return generic;
        };
        let mut parts = rest.splitn(3, '/');
        let kind = match parts.next() {
            Some("instance") => SourceKind::Instance,
            Some("cluster") => SourceKind::Cluster,
            Some("proxy") => SourceKind::Proxy,
            _ => return generic,
        };
        let Some(id) = parts.next().filter(|s| !s.is_empty()) else {
            return generic;
        };
        if kind == SourceKind::Proxy {
            return SourceInfo {
                kind: Some(kind),
                identifier: Some(id.to_owned()),
                log_type: Some("proxy".to_owned()),
                family: Some(EngineFamily::Any),
            };
        }
        let Some(log_type) = parts.next().filter(|s| !s.is_empty()) else {
            return generic;
        };
        SourceInfo {
            kind: Some(kind),
            identifier: Some(id.to_owned()),
            family: family_of(log_type),
            log_type: Some(log_type.to_owned()),
        }
    }
}

/// The engine family a log type implies: its default format's
/// (`parse::format`). `error` and `audit` are shared (MySQL family, SQL
/// Server, Oracle): the MySQL family, the most common owner, is the default
/// and parsers recognise the others by content.
pub fn family_of(log_type: &str) -> Option<EngineFamily> {
    crate::parse::format::default_for(log_type).map(|f| f.family)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_cluster_and_proxy_groups() {
        let s = SourceInfo::from_log_group("/aws/rds/instance/shopdb-prod/postgresql");
        assert_eq!(s.kind, Some(SourceKind::Instance));
        assert_eq!(s.identifier.as_deref(), Some("shopdb-prod"));
        assert_eq!(s.log_type.as_deref(), Some("postgresql"));
        assert_eq!(s.family, Some(EngineFamily::Postgres));

        let s = SourceInfo::from_log_group("/aws/rds/cluster/aurora-1/slowquery");
        assert_eq!(s.kind, Some(SourceKind::Cluster));
        assert_eq!(s.family, Some(EngineFamily::MySql));

        let s = SourceInfo::from_log_group("/aws/rds/proxy/my-proxy");
        assert_eq!(s.kind, Some(SourceKind::Proxy));
        assert_eq!(s.identifier.as_deref(), Some("my-proxy"));
        assert_eq!(s.log_type.as_deref(), Some("proxy"));

        let s = SourceInfo::from_log_group("/aws/rds/instance/ora/oemagent");
        assert_eq!(s.family, Some(EngineFamily::Oracle));
        let s = SourceInfo::from_log_group("/aws/rds/instance/sql/agent");
        assert_eq!(s.family, Some(EngineFamily::SqlServer));
    }

    #[test]
    fn other_groups_are_generic() {
        for g in [
            "/aws/lambda/x",
            "/aws/rds/instance/",
            "/aws/rds/instance/x",
            "",
            "/aws/rds/other/a/b",
        ] {
            let s = SourceInfo::from_log_group(g);
            assert_eq!(s.kind, None, "{g}");
            assert_eq!(s.log_type, None, "{g}");
        }
    }
}
