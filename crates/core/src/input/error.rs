//! Why an input could not be decoded, with enough context (log group, event
//! id, Kinesis sequence number) to find it again.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum InputError {
    #[error("empty event body")]
    Empty,
    #[error("event is not valid JSON: {0}")]
    NotJson(String),
    #[error("unsupported event shape: {0}")]
    UnknownShape(String),
    #[error("{what}: invalid base64: {detail}")]
    Base64 { what: String, detail: String },
    #[error("{what}: not gzip data: {detail}")]
    Gzip { what: String, detail: String },
    #[error("{what}: decompressed data exceeds the limit of {limit} bytes (gzip bomb or oversized payload; raise RDSF_MAX_DECOMPRESSED_BYTES if genuine)")]
    TooLarge { what: String, limit: usize },
    #[error("{what}: decompressed data is not UTF-8 at byte {offset}")]
    NotUtf8 { what: String, offset: usize },
    #[error("{what}: invalid CloudWatch Logs document: {detail}")]
    CloudWatchDocument { what: String, detail: String },
    #[error("{what}: malformed Kinesis record: {detail}")]
    KinesisRecord { what: String, detail: String },
    #[error("EventBridge event {id}: {detail}")]
    EventBridge { id: String, detail: String },
    #[error("CloudTrail event {id}: {detail}")]
    CloudTrail { id: String, detail: String },
}

impl InputError {
    /// A stable, short reason used to count failures by kind.
    pub fn reason(&self) -> &'static str {
        match self {
            InputError::Empty => "empty_body",
            InputError::NotJson(_) => "invalid_json",
            InputError::UnknownShape(_) => "unknown_event_shape",
            InputError::Base64 { .. } => "invalid_base64",
            InputError::Gzip { .. } => "invalid_gzip",
            InputError::TooLarge { .. } => "decompressed_too_large",
            InputError::NotUtf8 { .. } => "not_utf8",
            InputError::CloudWatchDocument { .. } => "invalid_cloudwatch_document",
            InputError::KinesisRecord { .. } => "invalid_kinesis_record",
            InputError::EventBridge { .. } => "invalid_eventbridge_event",
            InputError::CloudTrail { .. } => "invalid_cloudtrail_event",
        }
    }
}
