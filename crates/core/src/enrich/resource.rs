//! The resource a log record belongs to: the cloud account and region, the
//! RDS source (instance, cluster or proxy, from the log group's name), the
//! log group and stream, and the database engine, per OpenTelemetry's
//! resource conventions (`docs/schema.md`).

use std::sync::Arc;

use crate::input::LogDocument;
use crate::record::{keys, Attributes, Resource, Value};
use crate::source::{EngineFamily, SourceInfo, SourceKind};

/// The resource of a CloudWatch Logs document's records; `region` is the
/// function's (`AWS_REGION`), which CloudWatch documents do not carry.
pub fn for_log(
    doc: &LogDocument,
    source: &SourceInfo,
    db_system: Option<&'static str>,
    region: Option<&str>,
) -> Resource {
    let mut r = Attributes::with_capacity(10);
    r.insert(keys::CLOUD_PROVIDER, "aws");
    if !doc.owner.is_empty() {
        r.insert(keys::CLOUD_ACCOUNT_ID, doc.owner.as_str());
    }
    if let Some(region) = region {
        r.insert(keys::CLOUD_REGION, region);
        if let (Some(kind), Some(id)) = (source.kind, &source.identifier) {
            let arn_type = match kind {
                SourceKind::Instance => Some("db"),
                SourceKind::Cluster => Some("cluster"),
                // Proxy ARNs use an internal `prx-…` id the group name lacks.
                SourceKind::Proxy => None,
            };
            if let (Some(t), false) = (arn_type, doc.owner.is_empty()) {
                r.insert(
                    keys::CLOUD_RESOURCE_ID,
                    format!("arn:aws:rds:{region}:{}:{t}:{id}", doc.owner),
                );
            }
        }
    }
    r.insert(
        keys::AWS_LOG_GROUP_NAMES,
        Value::Array(vec![doc.log_group.as_str().into()]),
    );
    r.insert(
        keys::AWS_LOG_STREAM_NAMES,
        Value::Array(vec![doc.log_stream.as_str().into()]),
    );
    if let Some(kind) = source.kind {
        r.insert(keys::RDS_SOURCE_KIND, kind.as_str());
    }
    if let Some(id) = &source.identifier {
        r.insert(keys::RDS_SOURCE_IDENTIFIER, id.as_str());
    }
    if let Some(t) = &source.log_type {
        r.insert(keys::RDS_LOG_TYPE, t.as_str());
    }
    match (db_system, source.family) {
        (Some(db), _) => r.insert(keys::DB_SYSTEM_NAME, db),
        (None, Some(EngineFamily::MySql)) => {
            r.insert(keys::RDS_ENGINE_FAMILY, super::engine::MYSQL_OR_MARIADB)
        }
        (None, _) => {}
    }
    Arc::new(r)
}
