//! The input stage: recognises what AWS delivered and decodes it, bounded.
//!
//! The shapes that reach the handler — CloudWatch Logs subscription events,
//! Kinesis events carrying subscription documents, EventBridge `aws.rds`
//! events and CloudTrail `CreateLogGroup` calls — are listed once, in
//! [`envelope::ENVELOPES`]. Anything else is an [`InputError::UnknownShape`]
//! that says what arrived.

mod bounded_json;
pub mod cloudtrail;
pub mod cloudwatch;
mod duplicate_keys;
pub mod envelope;
mod error;
pub mod eventbridge;
pub mod firehose;
pub mod function_url;
pub mod gzip;
mod json_window;
pub mod kinesis;
mod open;
mod settings;
pub mod stream;

pub use open::{open, Limits, Opened, Streamed};
pub use settings::{InputSettings, DEFAULT_MAX_DECOMPRESSED_BYTES};

pub use cloudtrail::LogGroupCreated;
pub use cloudwatch::{LogDocument, LogEvent, MalformedEvent};
pub use error::InputError;
pub use eventbridge::RdsEvent;

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::Value;

/// Which delivery path an invocation came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    CloudWatchLogs,
    EventBridge,
    Kinesis,
    /// A CloudTrail API call (a new log group to subscribe).
    CloudTrail,
    /// A Firehose HTTP endpoint delivery (through a function URL).
    Firehose,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::CloudWatchLogs => "cloudwatch_logs",
            EventKind::EventBridge => "eventbridge",
            EventKind::Kinesis => "kinesis",
            EventKind::CloudTrail => "cloudtrail",
            EventKind::Firehose => "firehose",
        }
    }
}

/// Where a unit came from inside the invocation; Kinesis reports failures
/// per record (`batchItemFailures`), so each record is its own unit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    Whole,
    KinesisRecord { sequence_number: String },
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Logs(Vec<LogDocument>),
    RdsEvent(Box<RdsEvent>),
    /// Not data to forward: a log group to subscribe (auto-subscription).
    LogGroupCreated(LogGroupCreated),
}

/// One independently decodable part of an invocation.
#[derive(Debug)]
pub struct Unit {
    pub origin: Origin,
    pub content: Result<Content, InputError>,
}

impl Unit {
    /// Whether it failed for inflating past its limit: decoded with the
    /// stream threshold as the limit, such a unit is streamed instead.
    pub fn too_large(&self) -> bool {
        matches!(self.content, Err(InputError::TooLarge { .. }))
    }
}

#[derive(Debug)]
pub struct Decoded {
    pub kind: EventKind,
    pub units: Vec<Unit>,
}

/// Decodes a Lambda event. Fails as a whole only when the envelope itself is
/// unreadable; a bad Kinesis record fails alone.
pub fn decode(bytes: &[u8], limit: usize) -> Result<Decoded, InputError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(InputError::Empty);
    }
    if let Some(data) = awslogs_data(bytes) {
        return Ok(decode_awslogs(&data, limit));
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|e| InputError::NotJson(e.to_string()))?;
    // `Value` keeps only the last of a repeated key: the first `awslogs`
    // payload, Kinesis record list or event field would vanish unseen.
    // (The borrowed probes above are derived structs, which refuse a
    // repeated field, so such an event always reaches this check.)
    if let Some(duplicate) = duplicate_keys::first_duplicate_key(bytes) {
        return Err(InputError::UnknownShape(format!(
            "{duplicate}: one of its values would be lost, so the event is refused whole"
        )));
    }
    let Value::Object(map) = &value else {
        return Err(InputError::UnknownShape(format!(
            "expected a JSON object, got {}",
            json_kind(&value)
        )));
    };

    match envelope::ENVELOPES.iter().find(|e| (e.claims)(map)) {
        Some(envelope) => (envelope.decode)(value, limit),
        None => {
            let mut keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
            keys.sort_unstable();
            Err(InputError::UnknownShape(format!(
                "a JSON object with keys [{}]; expected {}",
                keys.join(", "),
                envelope::expected()
            )))
        }
    }
}

/// Just enough of an envelope to find `awslogs.data`, borrowed from the
/// body: the common case skips building a `serde_json::Value`, which would
/// copy the whole base64 text (up to 6 MB) once more.
#[derive(Deserialize)]
struct AwsLogsProbe<'a> {
    #[serde(borrow, default)]
    awslogs: Option<AwsLogsData<'a>>,
}

#[derive(Deserialize)]
struct AwsLogsData<'a> {
    #[serde(borrow)]
    data: Cow<'a, str>,
}

/// `awslogs.data` of a CloudWatch Logs event, borrowed where JSON escapes
/// allow; `None` for anything else (other shapes, or an `awslogs` without a
/// string `data`: [`decode`]'s general path then names what is wrong).
/// Only tried when `awslogs` is the first key, as Lambda sends it, so that
/// Kinesis and EventBridge bodies are not scanned twice; an event with its
/// keys in another order still decodes through the general path.
pub fn awslogs_data(bytes: &[u8]) -> Option<Cow<'_, str>> {
    let text = bytes.trim_ascii_start().strip_prefix(b"{")?;
    if !text.trim_ascii_start().starts_with(b"\"awslogs\"") {
        return None;
    }
    serde_json::from_slice::<AwsLogsProbe>(bytes)
        .ok()?
        .awslogs
        .map(|a| a.data)
}

/// Decodes a CloudWatch Logs event from its `awslogs.data` (see
/// [`awslogs_data`]).
pub fn decode_awslogs(data: &str, limit: usize) -> Decoded {
    let content = cloudwatch::decode_awslogs_data("awslogs.data", data, limit).map(Content::Logs);
    Decoded {
        kind: EventKind::CloudWatchLogs,
        units: vec![Unit {
            origin: Origin::Whole,
            content,
        }],
    }
}

pub(crate) fn decode_records(records: &Value, limit: usize) -> Result<Decoded, InputError> {
    let Some(list) = records.as_array() else {
        return Err(InputError::UnknownShape(
            "`Records` is not an array".to_owned(),
        ));
    };
    if let Some(other) = list
        .iter()
        .filter_map(|r| r.get("eventSource").and_then(Value::as_str))
        .find(|s| *s != "aws:kinesis")
    {
        return Err(InputError::UnknownShape(format!(
            "Records from {other}; only aws:kinesis records are handled"
        )));
    }
    // Each record on its own (borrowed from the already parsed `Value`: no
    // copy): one whose envelope is malformed fails alone, under the best
    // name it has, and the others are still delivered.
    let units = list
        .iter()
        .enumerate()
        .map(|(i, r)| match kinesis::KinesisRecordRef::deserialize(r) {
            Ok(record) => record.unit(limit),
            Err(_) => kinesis::malformed_unit(i, r),
        })
        .collect();
    Ok(Decoded {
        kind: EventKind::Kinesis,
        units,
    })
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}
