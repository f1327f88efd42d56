//! EventBridge events from `aws.rds` (all 11 RDS detail-types share one
//! `detail` shape: EventCategories, SourceType, SourceArn, Date, Message,
//! SourceIdentifier, EventID).

use serde::Deserialize;

use super::InputError;

/// The detail-types EventBridge documents for `source: aws.rds`.
pub const RDS_DETAIL_TYPES: [&str; 11] = [
    "RDS DB Instance Event",
    "RDS DB Cluster Event",
    "RDS DB Snapshot Event",
    "RDS DB Cluster Snapshot Event",
    "RDS DB Parameter Group Event",
    "RDS DB Security Group Event",
    "RDS DB Proxy Event",
    "RDS Blue Green Deployment Event",
    "RDS Custom Engine Version Event",
    "RDS DB Shard Group Event",
    "RDS Zero ETL Event",
];

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RdsEvent {
    pub id: String,
    #[serde(rename = "detail-type")]
    pub detail_type: String,
    pub source: String,
    #[serde(default)]
    pub account: String,
    /// EventBridge's time (second precision).
    #[serde(default)]
    pub time: String,
    #[serde(default)]
    pub region: String,
    #[serde(default)]
    pub resources: Vec<String>,
    pub detail: RdsEventDetail,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RdsEventDetail {
    #[serde(default)]
    pub event_categories: Vec<String>,
    #[serde(default)]
    pub source_type: String,
    #[serde(default)]
    pub source_arn: String,
    /// The time RDS gives, with milliseconds; the record's timestamp.
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub message: String,
    #[serde(default)]
    pub source_identifier: String,
    #[serde(rename = "EventID", default)]
    pub event_id: String,
    /// Resource tags, when the rule asks for them.
    #[serde(default)]
    pub tags: Option<serde_json::Map<String, serde_json::Value>>,
}

/// Reads an `aws.rds` EventBridge event from already-parsed JSON.
pub fn decode(value: serde_json::Value) -> Result<RdsEvent, InputError> {
    let id = value
        .get("id")
        .and_then(|v| v.as_str())
        .unwrap_or("<no id>")
        .to_owned();
    let event: RdsEvent =
        serde_path_to_error::deserialize(value).map_err(|e| InputError::EventBridge {
            id: id.clone(),
            detail: format!("{}: {}", e.path(), e.inner()),
        })?;
    if event.detail.event_id.is_empty() && event.detail.message.is_empty() {
        return Err(InputError::EventBridge {
            id,
            detail: "detail has neither EventID nor Message".to_owned(),
        });
    }
    Ok(event)
}
