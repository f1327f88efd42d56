//! An RDS event from EventBridge as a log record: the event's resource, its
//! catalogue entry (category, description, notes), its tags, and a
//! severity from its categories; the text redacted like any log line.

use std::sync::Arc;

use super::rds_events::Catalog;
use crate::input::RdsEvent;
use crate::record::{keys, Attributes, Record, Resource, Value};
use crate::source::SourceKind;
use crate::sql::Redactor;
use crate::time;

/// The record for `ev` and its resource; `region` is the function's, used when the event
/// names none.
pub fn record(
    ev: &RdsEvent,
    catalog: &Catalog,
    region: Option<&str>,
    redactor: &Redactor,
    observed_ns: i64,
) -> (Resource, Record) {
    let d = &ev.detail;
    let entry = catalog.lookup(&d.event_id, &d.source_type, &d.message);
    let severity = super::rds_events::severity_for(&d.event_categories, entry);

    let mut resource = Attributes::with_capacity(6);
    resource.insert(keys::CLOUD_PROVIDER, "aws");
    if !ev.account.is_empty() {
        resource.insert(keys::CLOUD_ACCOUNT_ID, ev.account.as_str());
    }
    match (ev.region.is_empty(), region) {
        (false, _) => resource.insert(keys::CLOUD_REGION, ev.region.as_str()),
        (true, Some(region)) => resource.insert(keys::CLOUD_REGION, region),
        (true, None) => {}
    }
    if !d.source_arn.is_empty() {
        resource.insert(keys::CLOUD_RESOURCE_ID, d.source_arn.as_str());
    }
    let kind = match d.source_type.as_str() {
        "DB_INSTANCE" => Some(SourceKind::Instance),
        "CLUSTER" => Some(SourceKind::Cluster),
        "DB_PROXY" => Some(SourceKind::Proxy),
        _ => None,
    };
    if let Some(kind) = kind {
        resource.insert(keys::RDS_SOURCE_KIND, kind.as_str());
    }
    if let Some(id) = source_identifier(ev) {
        resource.insert(keys::RDS_SOURCE_IDENTIFIER, id);
    }

    let mut attrs = Attributes::with_capacity(12);
    attrs.insert(keys::EVENTBRIDGE_ID, ev.id.as_str());
    attrs.insert(keys::RDS_EVENT_ID, d.event_id.as_str());
    attrs.insert(
        keys::RDS_EVENT_CATEGORIES,
        Value::Array(
            d.event_categories
                .iter()
                .map(|c| Value::from(c.as_str()))
                .collect(),
        ),
    );
    attrs.insert(keys::RDS_EVENT_SOURCE_TYPE, d.source_type.as_str());
    if !d.source_arn.is_empty() {
        attrs.insert(keys::RDS_EVENT_SOURCE_ARN, d.source_arn.as_str());
    }
    attrs.insert(keys::RDS_EVENT_DETAIL_TYPE, ev.detail_type.as_str());
    attrs.insert(keys::RDS_EVENT_KNOWN, entry.is_some());
    if let Some(e) = entry {
        attrs.insert(keys::RDS_EVENT_CATALOG_CATEGORY, e.category.as_str());
        attrs.insert(keys::RDS_EVENT_DESCRIPTION, e.message.as_str());
        if !e.notes.is_empty() {
            attrs.insert(keys::RDS_EVENT_NOTES, e.notes.as_str());
        }
    }
    if let Some(tags) = &d.tags {
        // Linear however many tags the event carries.
        attrs.insert_all(tags.iter().map(|(k, v)| {
            let v = v
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| v.to_string());
            (format!("{}{k}", keys::RDS_EVENT_TAG_PREFIX), v)
        }));
    }

    let timestamp_ns = time::parse_rfc3339(&d.date)
        .or_else(|| time::parse_rfc3339(&ev.time))
        .unwrap_or(observed_ns);
    // The event's own text (and tags) is as untrusted as a log line:
    // a parameter group change can quote a value, a tag can hold anything.
    crate::sql::redact_attributes(&mut attrs, redactor);
    let record = Record {
        timestamp_ns,
        observed_timestamp_ns: observed_ns,
        severity,
        body: redactor.redact(&d.message).into_owned(),
        attributes: attrs,
        id: ev.id.clone(),
    };
    (Arc::new(resource), record)
}

/// The RDS resource name: `SourceIdentifier` without the `rds:` prefix AWS's
/// examples put on instances, clusters and parameter groups (for automated
/// snapshots `rds:` is part of the real name and stays), else the ARN's name.
fn source_identifier(ev: &RdsEvent) -> Option<&str> {
    let d = &ev.detail;
    let id = d.source_identifier.as_str();
    if !id.is_empty() {
        return Some(match d.source_type.as_str() {
            "SNAPSHOT" | "CLUSTER_SNAPSHOT" => id,
            _ => id.strip_prefix("rds:").unwrap_or(id),
        });
    }
    d.source_arn.splitn(7, ':').nth(6).filter(|n| !n.is_empty())
}
