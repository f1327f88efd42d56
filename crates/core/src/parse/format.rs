//! One descriptor per engine log format: which RDS log types it covers, the
//! engine family it implies, how its content is told apart where engines
//! share a log type, where an entry starts in a raw file (for `wrap`), and
//! its parser. Source naming ([`crate::source::family_of`]), the parser
//! [`Registry`](super::Registry) and `wrap` all read [`FORMATS`], so a new
//! format is its parser file plus one entry there.

use super::entry_start::{
    is_audit_start, is_error_start, is_general_start, is_pg_start, is_server_header,
    is_slowquery_start,
};
use super::{iam_auth, oracle, postgres, proxy, sqlserver, LogParser};
use super::{MySqlAudit, MySqlError, MySqlGeneral, MySqlSlow, Passthrough};

/// The engine family a log type belongs to; parsers may narrow it further
/// (MySQL vs MariaDB) from content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineFamily {
    Postgres,
    MySql,
    Oracle,
    SqlServer,
    /// Log types every engine shares (`iam-db-auth-error`, `instance`) or a proxy.
    Any,
}

impl EngineFamily {
    /// OTel `db.system.name` when the family alone determines it. Not for
    /// the MySQL family: MySQL and MariaDB share its log types, so only
    /// content (or an earlier batch of the group, `enrich::engine`) can tell.
    pub fn db_system_name(self) -> Option<&'static str> {
        match self {
            EngineFamily::Postgres => Some("postgresql"),
            EngineFamily::MySql => None,
            EngineFamily::Oracle => Some("oracle.db"),
            EngineFamily::SqlServer => Some("microsoft.sql_server"),
            EngineFamily::Any => None,
        }
    }
}

/// Tells from one message whether it comes from a given engine.
pub type ContentTest = fn(&str) -> bool;

/// How a raw file of this format is cut into entries.
#[derive(Clone, Copy)]
pub struct Split {
    /// The `wrap --kind` value that selects these rules.
    pub kind: &'static str,
    /// Whether `line` (after `previous`) starts a new entry.
    pub starts: fn(line: &str, previous: &str) -> bool,
    /// Lines a server writes when it (re)starts, which are no entry.
    pub server_header: Option<fn(&str) -> bool>,
}

/// What an engine's log looks like.
pub struct LogFormat {
    /// Unique, for people and tests (the parser's own name is `rds.parser`).
    pub name: &'static str,
    /// RDS log types (the last part of the log group's name); `prefix*`
    /// matches a family of them (`oemagent*`).
    pub log_types: &'static [&'static str],
    pub family: EngineFamily,
    /// `None`: the log type's default owner. `Some`: the log type is shared
    /// (RDS names SQL Server's error log and Oracle's audit log like
    /// MySQL's), and this test on a message recognises this engine.
    pub sniff: Option<ContentTest>,
    /// `None`: one entry per line.
    pub split: Option<Split>,
    pub parser: &'static dyn LogParser,
}

impl LogFormat {
    pub fn covers(&self, log_type: &str) -> bool {
        self.log_types
            .iter()
            .any(|pattern| match pattern.strip_suffix('*') {
                Some(prefix) => log_type.starts_with(prefix),
                None => *pattern == log_type,
            })
    }
}

const fn split(kind: &'static str, starts: fn(&str, &str) -> bool) -> Option<Split> {
    Some(Split {
        kind,
        starts,
        server_header: None,
    })
}

/// MySQL-family logs a restart writes a banner into.
const fn split_with_headers(kind: &'static str, starts: fn(&str, &str) -> bool) -> Option<Split> {
    Some(Split {
        kind,
        starts,
        server_header: Some(is_server_header),
    })
}

/// Every format, the shared log types' recognisable owners before their
/// defaults.
pub static FORMATS: &[LogFormat] = &[
    LogFormat {
        name: "postgresql",
        log_types: &["postgresql"],
        family: EngineFamily::Postgres,
        sniff: None,
        split: split("postgresql", |l, _| is_pg_start(l)),
        parser: &postgres::POSTGRESQL,
    },
    LogFormat {
        name: "postgresql-upgrade",
        log_types: &["upgrade"],
        family: EngineFamily::Postgres,
        sniff: None,
        split: split("postgresql", |l, _| is_pg_start(l)),
        parser: &postgres::UPGRADE,
    },
    LogFormat {
        name: "oracle",
        log_types: &["alert", "listener", "trace", "oemagent*"],
        family: EngineFamily::Oracle,
        sniff: None,
        split: None,
        parser: &oracle::ORACLE,
    },
    LogFormat {
        name: "oracle-audit",
        log_types: &["audit"],
        family: EngineFamily::Oracle,
        sniff: Some(oracle::looks_like_oracle_audit),
        split: None,
        parser: &oracle::ORACLE,
    },
    LogFormat {
        name: "sqlserver-error",
        log_types: &["error"],
        family: EngineFamily::SqlServer,
        sniff: Some(sqlserver::looks_like_sqlserver),
        split: None,
        parser: &sqlserver::SQLSERVER,
    },
    LogFormat {
        name: "sqlserver-agent",
        log_types: &["agent"],
        family: EngineFamily::SqlServer,
        sniff: None,
        split: None,
        parser: &sqlserver::SQLSERVER,
    },
    LogFormat {
        name: "proxy",
        log_types: &["proxy"],
        family: EngineFamily::Any,
        sniff: None,
        split: None,
        parser: &proxy::Proxy,
    },
    LogFormat {
        name: "iam-db-auth-error",
        log_types: &["iam-db-auth-error"],
        family: EngineFamily::Any,
        sniff: None,
        split: None,
        parser: &iam_auth::IamAuth,
    },
    LogFormat {
        name: "instance",
        log_types: &["instance"],
        family: EngineFamily::Any,
        sniff: None,
        split: None,
        parser: &Passthrough,
    },
    LogFormat {
        name: "mysql-error",
        log_types: &["error"],
        family: EngineFamily::MySql,
        sniff: None,
        split: split("error", |l, _| is_error_start(l)),
        parser: &MySqlError,
    },
    LogFormat {
        name: "mysql-slowquery",
        log_types: &["slowquery"],
        family: EngineFamily::MySql,
        sniff: None,
        split: split_with_headers("slowquery", is_slowquery_start),
        parser: &MySqlSlow,
    },
    LogFormat {
        name: "mysql-general",
        log_types: &["general"],
        family: EngineFamily::MySql,
        sniff: None,
        split: split_with_headers("general", |l, _| is_general_start(l)),
        parser: &MySqlGeneral,
    },
    LogFormat {
        name: "mysql-audit",
        log_types: &["audit"],
        family: EngineFamily::MySql,
        sniff: None,
        split: split("audit", |l, _| is_audit_start(l)),
        parser: &MySqlAudit,
    },
];

/// The format a log type implies before any content is seen (its default
/// owner).
pub fn default_for(log_type: &str) -> Option<&'static LogFormat> {
    FORMATS
        .iter()
        .find(|f| f.sniff.is_none() && f.covers(log_type))
}

/// The entry rules `wrap --kind <kind>` selects.
pub fn split_by_kind(kind: &str) -> Option<Split> {
    FORMATS
        .iter()
        .filter_map(|f| f.split)
        .find(|s| s.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_every_shared_log_type_has_a_default() {
        let mut names: Vec<&str> = FORMATS.iter().map(|f| f.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), FORMATS.len());
        for f in FORMATS.iter().filter(|f| f.sniff.is_some()) {
            for t in f.log_types {
                assert!(default_for(t).is_some(), "{t} has no default owner");
            }
        }
    }
}
