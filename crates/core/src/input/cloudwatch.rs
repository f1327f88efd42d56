//! CloudWatch Logs subscription documents: `{"awslogs":{"data": base64(gzip(JSON))}}`.
//!
//! Hand-written rather than `aws_lambda_events::cloudwatch_logs`: that type
//! inflates the payload inside its deserializer with no size bound (a gzip
//! bomb would exhaust memory) and fails the whole document on one bad event,
//! while we must keep the good events and name the bad one.

use serde::Deserialize;
use serde_json::value::RawValue;

use super::{gzip, InputError};

/// One log event. `id` is CloudWatch's 56-digit decimal id, kept as text.
#[derive(Debug, Clone, PartialEq)]
pub struct LogEvent {
    pub id: String,
    /// Unix ms, as CloudWatch gives it.
    pub timestamp_ms: i64,
    pub message: String,
    /// `extractedFields` of account-level policies, as given.
    pub extracted_fields: Vec<(String, String)>,
    /// The message's original length when the streamed reader cut it past
    /// [`MAX_EVENT_MESSAGE_BYTES`] as it went by (it never held it whole).
    pub cut_from: Option<usize>,
}

/// CloudWatch Logs caps an event at 256 KiB including 26 bytes of overhead,
/// so a longer message is not something CloudWatch delivered: it is cut to
/// this (on a character boundary) before parsing, redaction and the sinks
/// would each copy it, which keeps memory bounded by the event limit rather
/// than by whatever the payload claims.
pub const MAX_EVENT_MESSAGE_BYTES: usize = 262_144 - 26;

/// An event in a document that could not be read; it is still forwarded
/// (raw JSON as body) and reported with its id.
#[derive(Debug, Clone, PartialEq)]
pub struct MalformedEvent {
    pub id: Option<String>,
    pub raw: String,
    pub detail: String,
}

/// One decompressed subscription document (one log group and stream).
#[derive(Debug, Clone, PartialEq)]
pub struct LogDocument {
    pub owner: String,
    pub log_group: String,
    pub log_stream: String,
    pub subscription_filters: Vec<String>,
    pub message_type: String,
    pub policy_level: Option<String>,
    pub events: Vec<LogEvent>,
    pub malformed: Vec<MalformedEvent>,
}

impl LogDocument {
    /// CloudWatch's reachability check: counted, never forwarded.
    pub fn is_control_message(&self) -> bool {
        self.message_type == "CONTROL_MESSAGE"
    }
}

/// A document with its events as `E`: typed [`RawEvent`]s on the fast
/// path, raw JSON ([`RawDocument`]) when one event may be bad.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", bound(deserialize = "E: Deserialize<'de>"))]
struct Document<E> {
    #[serde(default)]
    owner: String,
    log_group: String,
    #[serde(default)]
    log_stream: String,
    #[serde(default)]
    subscription_filters: Vec<String>,
    #[serde(default)]
    message_type: String,
    #[serde(default)]
    policy_level: Option<String>,
    #[serde(default)]
    log_events: Vec<E>,
}

type RawDocument<'a> = Document<&'a RawValue>;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    id: String,
    timestamp: i64,
    message: String,
    #[serde(default)]
    extracted_fields: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct IdOnly {
    id: Option<serde_json::Value>,
}

/// Decodes `awslogs.data` into its documents (several when an account-level
/// policy concatenates them).
pub fn decode_awslogs_data(
    what: &str,
    data: &str,
    limit: usize,
) -> Result<Vec<LogDocument>, InputError> {
    let json = gzip::decode_b64_gzip_json(what, data, limit)?;
    parse_documents(what, &json)
}

/// Parses one or more JSON documents, back to back or newline-separated.
pub fn parse_documents(what: &str, json: &str) -> Result<Vec<LogDocument>, InputError> {
    // Fast path: every event typed in one pass. Only when something does not
    // read (a bad event, or a bad document) is the input read again event by
    // event, so the good events are kept and the bad one named: reading each
    // event as raw JSON first and then again typed cost a quarter of decoding.
    let typed: Result<Vec<Document<RawEvent>>, _> = serde_json::Deserializer::from_str(json)
        .into_iter()
        .collect();
    if let Ok(typed) = typed {
        if !typed.is_empty() {
            return Ok(typed.into_iter().map(convert_typed).collect());
        }
    }
    let mut docs = Vec::new();
    let mut stream = serde_json::Deserializer::from_str(json).into_iter::<RawDocument>();
    loop {
        let start = stream.byte_offset();
        match stream.next() {
            None => break,
            Some(Ok(raw)) => docs.push(convert(raw)),
            Some(Err(e)) => {
                return Err(InputError::CloudWatchDocument {
                    what: what.to_owned(),
                    detail: describe_error(&json[start..], e),
                })
            }
        }
    }
    if docs.is_empty() {
        return Err(InputError::CloudWatchDocument {
            what: what.to_owned(),
            detail: "no JSON document in the decompressed data".to_owned(),
        });
    }
    Ok(docs)
}

/// Re-reads a failing document to name the field at fault (`logEvents: …`);
/// only runs on the error path.
fn describe_error(doc: &str, fallback: serde_json::Error) -> String {
    let mut de = serde_json::Deserializer::from_str(doc);
    match serde_path_to_error::deserialize::<_, RawDocument>(&mut de) {
        Err(e) if e.path().iter().next().is_some() => format!("{}: {}", e.path(), e.inner()),
        _ => fallback.to_string(),
    }
}

fn convert(raw: RawDocument<'_>) -> LogDocument {
    let mut events = Vec::with_capacity(raw.log_events.len());
    let mut malformed = Vec::new();
    for ev in raw.log_events {
        read_event(ev.get(), &mut events, &mut malformed);
    }
    LogDocument {
        owner: raw.owner,
        log_group: raw.log_group,
        log_stream: raw.log_stream,
        subscription_filters: raw.subscription_filters,
        message_type: raw.message_type,
        policy_level: raw.policy_level,
        events,
        malformed,
    }
}

fn convert_typed(doc: Document<RawEvent>) -> LogDocument {
    let events = doc.log_events.into_iter().map(LogEvent::from).collect();
    LogDocument {
        owner: doc.owner,
        log_group: doc.log_group,
        log_stream: doc.log_stream,
        subscription_filters: doc.subscription_filters,
        message_type: doc.message_type,
        policy_level: doc.policy_level,
        events,
        malformed: Vec::new(),
    }
}

impl From<RawEvent> for LogEvent {
    fn from(e: RawEvent) -> Self {
        LogEvent {
            id: e.id,
            timestamp_ms: e.timestamp,
            message: e.message,
            cut_from: None,
            extracted_fields: e
                .extracted_fields
                .map(|m| {
                    m.into_iter()
                        .map(|(k, v)| match v {
                            serde_json::Value::String(s) => (k, s),
                            other => (k, other.to_string()),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

/// [`read_event`] for an element the streamed reader took as bytes: typed
/// straight from them, the one read of a good event. Only an element that
/// is not a readable event is read again, by [`read_event`], so it is kept
/// as malformed exactly as the whole-document path keeps it. An element
/// that is not JSON at all ends the document (the error), as it does there.
pub(super) fn read_event_bytes(
    raw: &[u8],
    events: &mut Vec<LogEvent>,
    malformed: &mut Vec<MalformedEvent>,
) -> Result<(), serde_json::Error> {
    if let Ok(e) = serde_json::from_slice::<RawEvent>(raw) {
        events.push(LogEvent::from(e));
        return Ok(());
    }
    let raw: &RawValue = serde_json::from_slice(raw)?;
    read_event(raw.get(), events, malformed);
    Ok(())
}

/// [`read_event_bytes`] for an element known to be UTF-8: read as text,
/// serde_json does not check each string it reads again (that check was
/// ~550 instructions a log event). Same events, malformed events and errors.
pub(super) fn read_event_text(
    raw: &str,
    events: &mut Vec<LogEvent>,
    malformed: &mut Vec<MalformedEvent>,
) -> Result<(), serde_json::Error> {
    if let Ok(e) = serde_json::from_str::<RawEvent>(raw) {
        events.push(LogEvent::from(e));
        return Ok(());
    }
    let raw: &RawValue = serde_json::from_str(raw)?;
    read_event(raw.get(), events, malformed);
    Ok(())
}

/// Reads one `logEvents` element (its raw JSON) into `events`, or into
/// `malformed` when it is not a readable event. Shared by the whole-document
/// and the streamed decoder, so both treat a bad event the same way.
pub(super) fn read_event(
    raw: &str,
    events: &mut Vec<LogEvent>,
    malformed: &mut Vec<MalformedEvent>,
) {
    match serde_json::from_str::<RawEvent>(raw) {
        Ok(e) => events.push(LogEvent::from(e)),
        Err(err) => {
            let id = serde_json::from_str::<IdOnly>(raw)
                .ok()
                .and_then(|i| i.id)
                .map(|v| match v {
                    serde_json::Value::String(s) => s,
                    other => other.to_string(),
                });
            malformed.push(MalformedEvent {
                id,
                raw: raw.to_owned(),
                detail: err.to_string(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_to_back_documents_and_a_bad_event() {
        let json = r#"{"owner":"1","logGroup":"g","logStream":"s","messageType":"DATA_MESSAGE","logEvents":[{"id":"1","timestamp":5,"message":"a"},{"id":"2","timestamp":"x","message":"b"}]}
{"owner":"1","logGroup":"g2","logStream":"s","messageType":"DATA_MESSAGE","policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{"id":"3","timestamp":6,"message":"c","extractedFields":{"@aws.region":"us-east-1"}}]}"#;
        let docs = parse_documents("t", json).unwrap();
        assert_eq!(docs.len(), 2);
        assert_eq!(docs[0].events.len(), 1);
        assert_eq!(docs[0].malformed.len(), 1);
        assert_eq!(docs[0].malformed[0].id.as_deref(), Some("2"));
        assert_eq!(
            docs[1].policy_level.as_deref(),
            Some("ACCOUNT_LEVEL_POLICY")
        );
        assert_eq!(
            docs[1].events[0].extracted_fields,
            vec![("@aws.region".to_owned(), "us-east-1".to_owned())]
        );
    }

    #[test]
    fn missing_log_group_is_an_error() {
        let err = parse_documents("t", r#"{"logEvents":[]}"#).unwrap_err();
        assert_eq!(err.reason(), "invalid_cloudwatch_document");
    }
}
