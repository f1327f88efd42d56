//! RDS metadata of a resource (engine, version, class, zone, cluster, role,
//! resource id, tags) added to the resources the log group name and the
//! documents built. The lookup itself is AWS's business (`rdsf_aws::rds`):
//! the core only names what to look up ([`ResourceKey::of`]), what comes
//! back ([`RdsMetadata`]) and how it lands on a resource ([`apply`]), so it
//! stays free of network code. Records are grouped by resource, so this runs
//! once per resource group, not per record.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::boxed::BoxFuture;
use crate::record::{keys, Attributes};

/// What to ask RDS about: the resource a log group or an Enhanced
/// Monitoring stream names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ResourceKey {
    /// `/aws/rds/instance/<id>/…`: `DescribeDBInstances` by identifier.
    Instance(String),
    /// `/aws/rds/cluster/<id>/…`: `DescribeDBClusters` by identifier.
    Cluster(String),
    /// `/aws/rds/proxy/<name>`: `DescribeDBProxies` by name.
    Proxy(String),
    /// An Enhanced Monitoring stream, named by the instance's resource id
    /// (`db-…`): `DescribeDBInstances` filtered on `dbi-resource-id`.
    InstanceResourceId(String),
}

impl ResourceKey {
    /// The key of a resource the core built, if it names an RDS source:
    /// the instance's resource id when the resource has one (Enhanced
    /// Monitoring), else its kind and identifier (log groups).
    pub fn of(resource: &Attributes) -> Option<ResourceKey> {
        if let Some(id) = resource.get_str(keys::RDS_RESOURCE_ID) {
            if id.starts_with("db-") {
                return Some(ResourceKey::InstanceResourceId(id.to_owned()));
            }
        }
        let id = resource
            .get_str(keys::RDS_SOURCE_IDENTIFIER)
            .filter(|id| !id.is_empty())?
            .to_owned();
        match resource.get_str(keys::RDS_SOURCE_KIND)? {
            "instance" => Some(ResourceKey::Instance(id)),
            "cluster" => Some(ResourceKey::Cluster(id)),
            "proxy" => Some(ResourceKey::Proxy(id)),
            _ => None,
        }
    }
}

impl std::fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResourceKey::Instance(id) => write!(f, "DB instance {id}"),
            ResourceKey::Cluster(id) => write!(f, "DB cluster {id}"),
            ResourceKey::Proxy(name) => write!(f, "DB proxy {name}"),
            ResourceKey::InstanceResourceId(id) => write!(f, "DB instance with resource id {id}"),
        }
    }
}

/// An instance's part in its cluster (or, alone, whether it is a replica).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Writer,
    Reader,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Writer => "writer",
            Role::Reader => "reader",
        }
    }
}

/// What RDS says about one instance, cluster or proxy; every field may be
/// missing (a proxy has no class, a cluster no single zone).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RdsMetadata {
    /// RDS's engine name (`aurora-mysql`, `mariadb`, `postgres`, …).
    pub engine: Option<String>,
    /// A proxy's engine family (`MYSQL`, `POSTGRESQL`, `SQLSERVER`).
    pub proxy_engine_family: Option<String>,
    pub engine_version: Option<String>,
    pub instance_class: Option<String>,
    pub availability_zone: Option<String>,
    /// The instance identifier (what an Enhanced Monitoring stream lacks
    /// when its document does not name it).
    pub instance_identifier: Option<String>,
    pub cluster_identifier: Option<String>,
    pub role: Option<Role>,
    /// `db-…` (instance) or `cluster-…` (cluster).
    pub resource_id: Option<String>,
    pub arn: Option<String>,
    /// Tags, already narrowed to the allowed keys.
    pub tags: Vec<(String, String)>,
}

impl RdsMetadata {
    /// `db.system.name` from what RDS says: exact for instances and clusters
    /// (MySQL vs MariaDB vs Aurora); a proxy's `MYSQL` family serves MariaDB
    /// too, so it names no system.
    pub fn db_system(&self) -> Option<&'static str> {
        if let Some(engine) = &self.engine {
            return crate::enhanced_monitoring::db_system(engine);
        }
        match self.proxy_engine_family.as_deref()? {
            "POSTGRESQL" => Some("postgresql"),
            "SQLSERVER" => Some("microsoft.sql_server"),
            _ => None,
        }
    }
}

/// `resource` with `metadata` added: the exact `db.system.name` replaces the
/// one content named (and the "MySQL or MariaDB" marker), the rest is added
/// where the resource lacks it (`cloud.resource_id` the log group built stays).
pub fn apply(resource: &Attributes, metadata: &RdsMetadata) -> Attributes {
    let mut r = Attributes::with_capacity(resource.len() + 10 + metadata.tags.len());
    r.0.extend(resource.0.iter().cloned());
    if let Some(db) = metadata.db_system() {
        r.remove(keys::RDS_ENGINE_FAMILY);
        r.insert(keys::DB_SYSTEM_NAME, db);
    }
    let fields = [
        (keys::RDS_ENGINE, &metadata.engine),
        (keys::RDS_ENGINE_VERSION, &metadata.engine_version),
        (keys::RDS_INSTANCE_CLASS, &metadata.instance_class),
        (keys::CLOUD_AVAILABILITY_ZONE, &metadata.availability_zone),
        (keys::RDS_SOURCE_IDENTIFIER, &metadata.instance_identifier),
        (keys::RDS_CLUSTER_IDENTIFIER, &metadata.cluster_identifier),
        (keys::RDS_RESOURCE_ID, &metadata.resource_id),
        (keys::CLOUD_RESOURCE_ID, &metadata.arn),
    ];
    for (key, value) in fields {
        if let (Some(v), None) = (value, r.get(key)) {
            r.insert(key, v.as_str());
        }
    }
    if let Some(role) = metadata.role {
        r.insert(keys::RDS_INSTANCE_ROLE, role.as_str());
    }
    for (k, v) in &metadata.tags {
        r.insert(format!("{}{k}", keys::RDS_TAG_PREFIX), v.as_str());
    }
    r
}

/// Counts of the metadata stage, for logs and self-monitoring: plain
/// counters that only grow, read with [`MetadataCounters::snapshot`].
#[derive(Debug, Default)]
pub struct MetadataCounters {
    /// Lookups answered from the cache (including a cached "not found").
    pub hits: AtomicU64,
    /// Lookups that had to ask RDS (or join a request already asking).
    pub misses: AtomicU64,
    /// RDS requests that failed (throttled, denied, unreachable, unreadable).
    pub failures: AtomicU64,
    /// Lookups not tried because an earlier failure's back-off runs.
    pub backed_off: AtomicU64,
    /// Resource groups delivered without metadata (failure, back-off, or no
    /// answer within the budget), and their records.
    pub resources_without: AtomicU64,
    pub records_without: AtomicU64,
}

/// A copy of [`MetadataCounters`] at one moment.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct CountersSnapshot {
    pub hits: u64,
    pub misses: u64,
    pub failures: u64,
    pub backed_off: u64,
    pub resources_without: u64,
    pub records_without: u64,
}

impl MetadataCounters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> CountersSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        CountersSnapshot {
            hits: get(&self.hits),
            misses: get(&self.misses),
            failures: get(&self.failures),
            backed_off: get(&self.backed_off),
            resources_without: get(&self.resources_without),
            records_without: get(&self.records_without),
        }
    }
}

/// Where metadata comes from (RDS's API in `rdsf_aws::rds_metadata`). The
/// answer is `None` when it is unknown for now (not found, failed, backing
/// off); the caller bounds how long it waits.
pub trait MetadataSource: Send + Sync {
    fn metadata<'a>(&'a self, key: &'a ResourceKey) -> BoxFuture<'a, Option<Arc<RdsMetadata>>>;

    /// The counters this source and its callers keep.
    fn counters(&self) -> &MetadataCounters;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{PlainKey, Value};

    fn resource(pairs: &[(PlainKey, &str)]) -> Attributes {
        let mut r = Attributes::new();
        for (k, v) in pairs {
            r.insert(*k, *v);
        }
        r
    }

    #[test]
    fn keys_from_log_group_and_enhanced_monitoring_resources() {
        let instance = resource(&[
            (keys::RDS_SOURCE_KIND, "instance"),
            (keys::RDS_SOURCE_IDENTIFIER, "db1"),
        ]);
        assert_eq!(
            ResourceKey::of(&instance),
            Some(ResourceKey::Instance("db1".into()))
        );
        let cluster = resource(&[
            (keys::RDS_SOURCE_KIND, "cluster"),
            (keys::RDS_SOURCE_IDENTIFIER, "c1"),
        ]);
        assert_eq!(
            ResourceKey::of(&cluster),
            Some(ResourceKey::Cluster("c1".into()))
        );
        let proxy = resource(&[
            (keys::RDS_SOURCE_KIND, "proxy"),
            (keys::RDS_SOURCE_IDENTIFIER, "p1"),
        ]);
        assert_eq!(
            ResourceKey::of(&proxy),
            Some(ResourceKey::Proxy("p1".into()))
        );
        // The resource id wins: it is what the stream is named by.
        let em = resource(&[
            (keys::RDS_SOURCE_KIND, "instance"),
            (keys::RDS_SOURCE_IDENTIFIER, "db1"),
            (keys::RDS_RESOURCE_ID, "db-ABC"),
        ]);
        assert_eq!(
            ResourceKey::of(&em),
            Some(ResourceKey::InstanceResourceId("db-ABC".into()))
        );
        assert_eq!(
            ResourceKey::of(&resource(&[(keys::CLOUD_PROVIDER, "aws")])),
            None
        );
    }

    #[test]
    fn apply_names_the_exact_engine_and_keeps_what_the_resource_had() {
        let before = resource(&[
            (keys::CLOUD_RESOURCE_ID, "arn:from-group"),
            (keys::RDS_SOURCE_KIND, "instance"),
            (keys::RDS_SOURCE_IDENTIFIER, "db1"),
            (keys::RDS_ENGINE_FAMILY, "mysql_or_mariadb"),
        ]);
        let md = RdsMetadata {
            engine: Some("mariadb".into()),
            engine_version: Some("10.11.6".into()),
            instance_class: Some("db.t3.micro".into()),
            availability_zone: Some("us-east-1a".into()),
            cluster_identifier: None,
            role: Some(Role::Writer),
            resource_id: Some("db-XYZ".into()),
            arn: Some("arn:from-rds".into()),
            tags: vec![("team".into(), "payments".into())],
            ..Default::default()
        };
        let after = apply(&before, &md);
        assert_eq!(after.get_str(keys::DB_SYSTEM_NAME), Some("mariadb"));
        assert_eq!(after.get(keys::RDS_ENGINE_FAMILY), None);
        assert_eq!(after.get_str(keys::RDS_ENGINE), Some("mariadb"));
        assert_eq!(after.get_str(keys::RDS_ENGINE_VERSION), Some("10.11.6"));
        assert_eq!(after.get_str(keys::RDS_INSTANCE_CLASS), Some("db.t3.micro"));
        assert_eq!(
            after.get_str(keys::CLOUD_AVAILABILITY_ZONE),
            Some("us-east-1a")
        );
        assert_eq!(after.get_str(keys::RDS_INSTANCE_ROLE), Some("writer"));
        assert_eq!(after.get_str(keys::RDS_RESOURCE_ID), Some("db-XYZ"));
        assert_eq!(
            after.get_str(keys::CLOUD_RESOURCE_ID),
            Some("arn:from-group")
        );
        assert_eq!(after.get_str("aws.rds.tag.team"), Some("payments"));
        assert_eq!(after.get(keys::RDS_CLUSTER_IDENTIFIER), None);
        // The original order is kept; metadata follows.
        assert_eq!(after.0[0].0, keys::CLOUD_RESOURCE_ID);
        assert_eq!(after.0[0].1, Value::from("arn:from-group"));
    }

    #[test]
    fn proxy_families_name_a_system_only_when_unambiguous() {
        let family = |f: &str| RdsMetadata {
            proxy_engine_family: Some(f.into()),
            ..Default::default()
        };
        assert_eq!(family("POSTGRESQL").db_system(), Some("postgresql"));
        assert_eq!(family("MYSQL").db_system(), None);
        let aurora = RdsMetadata {
            engine: Some("aurora-mysql".into()),
            ..Default::default()
        };
        assert_eq!(aurora.db_system(), Some("mysql"));
    }
}
