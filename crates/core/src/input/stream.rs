//! Streamed decoding of big CloudWatch Logs payloads, in bounded memory.
//!
//! A 6 MB Lambda event can inflate to ~64 MB of JSON and ~275,000 events;
//! holding all of that (and the records built from it) at once costs
//! ~500 MB. Here the gzip stream is inflated as a `Read` (bounded by the
//! same limit, with the same [`InputError::TooLarge`]), its strings are cut
//! to the event limit as they pass ([`BoundedJson`]), and the document is
//! read from it element by element ([`read_documents`]), handing the events
//! on in [`DocChunk`]s of a few thousand. The caller processes and delivers
//! each chunk before the next is read.
//!
//! Only payloads whose gzip trailer announces a big document take this path
//! ([`open`]); the rest keep the whole-document decoder, which holds the
//! whole payload and its records at once.

use std::io::Read;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use super::bounded_json::{uncut, BoundedJson};
use super::cloudwatch::{read_event_bytes, LogDocument, MAX_EVENT_MESSAGE_BYTES};
use super::json_window::{ScanError, Window};
use super::{awslogs_data, gzip, InputError};

/// The most JSON one log event may take once its strings are cut to
/// [`MAX_EVENT_MESSAGE_BYTES`]: a message escaped throughout (`\u0001` is six
/// bytes for one) plus extracted fields stays under it; a bigger event is
/// refused rather than held ([`BoundedJson`]).
pub const MAX_EVENT_JSON_BYTES: usize = 4 * 1024 * 1024;

/// How big a chunk gets before it is handed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Log events per chunk.
    pub events: usize,
    /// Bytes of raw event JSON per chunk (a few huge messages make a chunk
    /// early).
    pub bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            events: 4096,
            bytes: 4 * 1024 * 1024,
        }
    }
}

/// Part of one subscription document: its header fields with some of its
/// events. `first` starts a document, `last` ends it; a document that was
/// not streamed (control message, or header after `logEvents`) comes as one
/// chunk that is both.
#[derive(Debug, Clone, PartialEq)]
pub struct DocChunk {
    pub doc: LogDocument,
    pub first: bool,
    pub last: bool,
}

/// A CloudWatch payload to stream: the compressed bytes, owned, so the
/// decoding can run on its own thread.
#[derive(Debug)]
pub struct CloudWatchStream {
    what: String,
    gz: Vec<u8>,
    limit: usize,
}

/// A CloudWatch Logs event whose gzip trailer says it inflates to more than
/// `threshold` bytes, ready to stream; `None` for any other event, or one
/// whose data is not base64 of gzip (the whole-document path then reports
/// exactly what is wrong, as before).
pub fn open(event: &[u8], limit: usize, threshold: usize) -> Option<CloudWatchStream> {
    open_data(&awslogs_data(event)?, limit, threshold)
}

/// [`open`] from an event's `awslogs.data`, already found.
pub fn open_data(data: &str, limit: usize, threshold: usize) -> Option<CloudWatchStream> {
    // Read from the base64 tail first: small payloads (the hot path) pay
    // for 12 characters here, not for a second base64 decode.
    if gzip::isize_hint_b64(data)? as usize <= threshold {
        return None;
    }
    open_gzip(data, limit)
}

/// Base64 of gzip as a stream whatever its trailer claims: for data the
/// whole path found to inflate past the threshold its trailer was under
/// (ISIZE is written by the sender, and names only a gzip's last member).
pub fn open_gzip(data: &str, limit: usize) -> Option<CloudWatchStream> {
    let gz = gzip::base64_decode("awslogs.data", data).ok()?;
    gzip::is_gzip(&gz).then(|| CloudWatchStream {
        what: "awslogs.data".to_owned(),
        gz,
        limit,
    })
}

impl CloudWatchStream {
    /// Builds a stream over gzip bytes (tests; [`open`] in production).
    pub fn new(what: &str, gz: Vec<u8>, limit: usize) -> Self {
        CloudWatchStream {
            what: what.to_owned(),
            gz,
            limit,
        }
    }

    pub fn what(&self) -> &str {
        &self.what
    }

    /// Inflates and reads every document, calling `emit` for each chunk in
    /// order. `emit` returns `false` to stop early (the consumer gave up);
    /// that is not an error here.
    pub fn run(
        &self,
        limits: ChunkLimits,
        emit: &mut dyn FnMut(DocChunk) -> bool,
    ) -> Result<(), InputError> {
        let bounded = gzip::BoundedRead::new(MultiGzDecoder::new(&self.gz[..]), self.limit);
        let mut json = BoundedJson::new(bounded, MAX_EVENT_MESSAGE_BYTES, MAX_EVENT_JSON_BYTES);
        let result = read_documents(&mut json, limits, emit);
        match result {
            Ok(()) => Ok(()),
            Err(_) if json.inner().exceeded() => Err(InputError::TooLarge {
                what: self.what.clone(),
                limit: self.limit,
            }),
            Err(_) if json.oversized() => Err(InputError::CloudWatchDocument {
                what: self.what.clone(),
                detail: format!(
                    "a log event is over {MAX_EVENT_JSON_BYTES} bytes of JSON, which no CloudWatch Logs event is"
                ),
            }),
            Err(ReadError::Io(e)) => Err(InputError::Gzip {
                what: self.what.clone(),
                detail: e.to_string(),
            }),
            Err(ReadError::Json(e)) => Err(InputError::CloudWatchDocument {
                what: self.what.clone(),
                detail: e.to_string(),
            }),
            Err(ReadError::Syntax(detail)) => Err(InputError::CloudWatchDocument {
                what: self.what.clone(),
                detail,
            }),
            Err(ReadError::NoDocument) => Err(InputError::CloudWatchDocument {
                what: self.what.clone(),
                detail: "no JSON document in the decompressed data".to_owned(),
            }),
        }
    }
}

enum ReadError {
    Io(std::io::Error),
    Json(serde_json::Error),
    Syntax(String),
    NoDocument,
}

impl From<ScanError> for ReadError {
    fn from(e: ScanError) -> Self {
        match e {
            ScanError::Io(e) => ReadError::Io(e),
            ScanError::Syntax(s) => ReadError::Syntax(s),
        }
    }
}

/// Whether the consumer wants more chunks.
#[derive(PartialEq)]
enum Flow {
    Go,
    Stop,
}

/// Reads documents back to back (account-level policies concatenate them,
/// with or without whitespace between).
///
/// Each log event is taken as the bytes of its `logEvents` element
/// ([`Window`]) and parsed once, typed, from that slice
/// ([`read_event_bytes`]); only a bad event is read again, to keep it as
/// malformed with its raw JSON. Reading the document through serde_json's
/// reader instead cannot rewind to an event that fails to read, so every
/// event had to be captured raw (an allocation and a copy) and then parsed
/// a second time; and the reader path costs more per byte than the slice
/// path. Memory stays bounded: the window holds one element (at most
/// [`MAX_EVENT_JSON_BYTES`] once [`BoundedJson`] has cut its strings) and
/// one read.
fn read_documents(
    reader: &mut dyn Read,
    limits: ChunkLimits,
    emit: &mut dyn FnMut(DocChunk) -> bool,
) -> Result<(), ReadError> {
    let mut w = Window::new(reader);
    let mut documents = 0;
    while let Some(b) = w.peek()? {
        if b != b'{' {
            return Err(w
                .unexpected(
                    Some(b),
                    "a CloudWatch Logs subscription document (a JSON object)",
                )
                .into());
        }
        if read_document(&mut w, limits, emit)? == Flow::Stop {
            return Ok(());
        }
        documents += 1;
    }
    if documents == 0 {
        return Err(ReadError::NoDocument);
    }
    Ok(())
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "camelCase")]
enum Field {
    Owner,
    LogGroup,
    LogStream,
    SubscriptionFilters,
    MessageType,
    PolicyLevel,
    LogEvents,
    #[serde(other)]
    Other,
}

/// One document: header fields as they come, `logEvents` element by
/// element ([`read_events`]), then the last chunk when the object closes.
fn read_document(
    w: &mut Window<&mut dyn Read>,
    limits: ChunkLimits,
    emit: &mut dyn FnMut(DocChunk) -> bool,
) -> Result<Flow, ReadError> {
    let mut doc = LogDocument {
        owner: String::new(),
        log_group: String::new(),
        log_stream: String::new(),
        subscription_filters: Vec::new(),
        message_type: String::new(),
        policy_level: None,
        events: Vec::new(),
        malformed: Vec::new(),
    };
    let mut have_group = false;
    let mut emitted = false;
    w.expect(b'{', "a document")?;
    let mut more = w.peek()? != Some(b'}');
    while more {
        if w.peek()? != Some(b'"') {
            let found = w.peek()?;
            return Err(w.unexpected(found, "a key (a string)").into());
        }
        let field: Field = serde_json::from_slice(w.value()?).map_err(ReadError::Json)?;
        w.expect(b':', "`:` after a key")?;
        match field {
            Field::Owner => doc.owner = header_value(w, "owner", b"\"")?,
            Field::LogGroup => {
                doc.log_group = header_value(w, "logGroup", b"\"")?;
                have_group = true;
            }
            Field::LogStream => doc.log_stream = header_value(w, "logStream", b"\"")?,
            Field::SubscriptionFilters => {
                doc.subscription_filters = header_value(w, "subscriptionFilters", b"[")?
            }
            Field::MessageType => doc.message_type = header_value(w, "messageType", b"\"")?,
            Field::PolicyLevel => doc.policy_level = header_value(w, "policyLevel", b"\"n")?,
            Field::LogEvents => {
                // CloudWatch writes the header before `logEvents`. Should a
                // document ever not, its events are buffered whole (correct,
                // just not bounded): a chunk handed on without its log group
                // could not be processed. Control messages (one tiny event)
                // are kept whole too. A header field that comes after
                // `logEvents` only reaches the chunks handed on after it.
                let stream = have_group && !doc.is_control_message();
                let events = Events {
                    stream,
                    limits,
                    emitted: &mut emitted,
                };
                if read_events(w, &mut doc, events, emit)? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            Field::Other => w.skip_value()?,
        }
        more = match w.peek()? {
            Some(b',') => {
                w.bump();
                true
            }
            Some(b'}') => false,
            found => return Err(w.unexpected(found, "`,` or `}` in a document").into()),
        };
    }
    w.bump(); // `}`
    if !have_group {
        return Err(ReadError::Syntax("missing field `logGroup`".to_owned()));
    }
    let last = DocChunk {
        doc,
        first: !emitted,
        last: true,
    };
    Ok(if emit(last) { Flow::Go } else { Flow::Stop })
}

/// A header field's value. Its first byte must be one of `starts` (else the
/// type is wrong: refused before it is held, whatever its size).
fn header_value<T: serde::de::DeserializeOwned>(
    w: &mut Window<&mut dyn Read>,
    name: &str,
    starts: &[u8],
) -> Result<T, ReadError> {
    let found = w.peek()?;
    if !found.is_some_and(|b| starts.contains(&b)) {
        let what = match starts {
            b"[" => "an array of strings",
            b"\"n" => "a string or null",
            _ => "a string",
        };
        return Err(w.unexpected(found, &format!("{what} for `{name}`")).into());
    }
    serde_json::from_slice(w.value()?).map_err(|e| ReadError::Syntax(format!("{name}: {e}")))
}

/// How `logEvents` is handed on.
struct Events<'a> {
    /// In chunks (else whole, with the document's last chunk).
    stream: bool,
    limits: ChunkLimits,
    emitted: &'a mut bool,
}

/// Reads `logEvents` into `doc`, handing on a chunk whenever one is full;
/// a bad event is kept as malformed and the rest goes on.
fn read_events(
    w: &mut Window<&mut dyn Read>,
    doc: &mut LogDocument,
    how: Events<'_>,
    emit: &mut dyn FnMut(DocChunk) -> bool,
) -> Result<Flow, ReadError> {
    w.expect(b'[', "an array of log events for `logEvents`")?;
    let mut more = w.peek()? != Some(b']');
    let mut bytes = 0;
    while more {
        let raw = w.value()?;
        bytes += raw.len();
        let read = doc.events.len();
        read_event_bytes(raw, &mut doc.events, &mut doc.malformed).map_err(ReadError::Json)?;
        if let Some(e) = doc.events.get_mut(read) {
            e.cut_from = uncut(&mut e.message, MAX_EVENT_MESSAGE_BYTES);
            for (_, v) in &mut e.extracted_fields {
                uncut(v, MAX_EVENT_MESSAGE_BYTES);
            }
        }
        let count = doc.events.len() + doc.malformed.len();
        if how.stream && (count >= how.limits.events || bytes >= how.limits.bytes) {
            let chunk = LogDocument {
                events: std::mem::take(&mut doc.events),
                malformed: std::mem::take(&mut doc.malformed),
                ..header_of(doc)
            };
            if !emit(DocChunk {
                doc: chunk,
                first: !*how.emitted,
                last: false,
            }) {
                return Ok(Flow::Stop);
            }
            *how.emitted = true;
            bytes = 0;
        }
        more = match w.peek()? {
            Some(b',') => {
                w.bump();
                true
            }
            Some(b']') => false,
            found => return Err(w.unexpected(found, "`,` or `]` between log events").into()),
        };
    }
    w.bump(); // `]`
    Ok(Flow::Go)
}

/// The header fields of `doc`, without events.
fn header_of(doc: &LogDocument) -> LogDocument {
    LogDocument {
        owner: doc.owner.clone(),
        log_group: doc.log_group.clone(),
        log_stream: doc.log_stream.clone(),
        subscription_filters: doc.subscription_filters.clone(),
        message_type: doc.message_type.clone(),
        policy_level: doc.policy_level.clone(),
        events: Vec::new(),
        malformed: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine as _;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(json: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(json.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn chunks_of(
        json: &str,
        events: usize,
        limit: usize,
    ) -> (Vec<DocChunk>, Result<(), InputError>) {
        let stream = CloudWatchStream::new("t", gz(json), limit);
        let mut out = Vec::new();
        let limits = ChunkLimits {
            events,
            bytes: usize::MAX,
        };
        let result = stream.run(limits, &mut |c| {
            out.push(c);
            true
        });
        (out, result)
    }

    fn ids(c: &DocChunk) -> Vec<&str> {
        c.doc.events.iter().map(|e| e.id.as_str()).collect()
    }

    const HEADER: &str = r#""messageType":"DATA_MESSAGE","owner":"1","logGroup":"/aws/rds/instance/db/postgresql","logStream":"db","subscriptionFilters":["f"]"#;

    fn event(id: usize) -> String {
        format!(r#"{{"id":"{id}","timestamp":{id},"message":"m{id}"}}"#)
    }

    #[test]
    fn events_come_in_chunks_with_the_header_and_a_bad_event_is_kept() {
        let events = [
            event(1),
            event(2),
            r#"{"id":"3","timestamp":"x","message":"b"}"#.to_owned(),
            event(4),
            event(5),
        ];
        let json = format!(r#"{{{HEADER},"logEvents":[{}]}}"#, events.join(","));
        let (chunks, result) = chunks_of(&json, 2, 1 << 20);
        result.unwrap();
        let shape: Vec<(Vec<&str>, usize, bool, bool)> = chunks
            .iter()
            .map(|c| (ids(c), c.doc.malformed.len(), c.first, c.last))
            .collect();
        assert_eq!(
            shape,
            vec![
                (vec!["1", "2"], 0, true, false),
                (vec!["4"], 1, false, false),
                (vec!["5"], 0, false, true),
            ]
        );
        assert_eq!(chunks[1].doc.malformed[0].id.as_deref(), Some("3"));
        for c in &chunks {
            assert_eq!(c.doc.log_group, "/aws/rds/instance/db/postgresql");
            assert_eq!(c.doc.owner, "1");
            assert_eq!(c.doc.subscription_filters, vec!["f".to_owned()]);
        }
    }

    #[test]
    fn a_control_message_comes_whole() {
        let json = format!(
            r#"{{"messageType":"CONTROL_MESSAGE","owner":"CloudwatchLogs","logGroup":"","logStream":"","subscriptionFilters":[],"logEvents":[{},{}]}}"#,
            event(1),
            event(2)
        );
        let (chunks, result) = chunks_of(&json, 1, 1 << 20);
        result.unwrap();
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].first && chunks[0].last);
        assert!(chunks[0].doc.is_control_message());
        assert_eq!(ids(&chunks[0]), vec!["1", "2"]);
    }

    #[test]
    fn back_to_back_documents_each_start_and_end() {
        let a = format!(
            r#"{{{HEADER},"logEvents":[{},{},{}]}}"#,
            event(1),
            event(2),
            event(3)
        );
        let b = format!(
            r#"{{{HEADER},"policyLevel":"ACCOUNT_LEVEL_POLICY","logEvents":[{}]}}"#,
            event(4)
        );
        for sep in ["", "\n", " \r\n\t"] {
            let (chunks, result) = chunks_of(&format!("{a}{sep}{b}\n"), 2, 1 << 20);
            result.unwrap();
            let shape: Vec<(Vec<&str>, bool, bool)> =
                chunks.iter().map(|c| (ids(c), c.first, c.last)).collect();
            assert_eq!(
                shape,
                vec![
                    (vec!["1", "2"], true, false),
                    (vec!["3"], false, true),
                    (vec!["4"], true, true),
                ],
                "separator {sep:?}"
            );
            assert_eq!(
                chunks[2].doc.policy_level.as_deref(),
                Some("ACCOUNT_LEVEL_POLICY")
            );
        }
    }

    #[test]
    fn a_header_after_the_events_buffers_that_document() {
        let json = format!(
            r#"{{"logEvents":[{},{},{}],"logGroup":"/aws/rds/instance/db/postgresql"}}"#,
            event(1),
            event(2),
            event(3)
        );
        let (chunks, result) = chunks_of(&json, 1, 1 << 20);
        result.unwrap();
        assert_eq!(chunks.len(), 1);
        assert!(chunks[0].first && chunks[0].last);
        assert_eq!(ids(&chunks[0]), vec!["1", "2", "3"]);
        assert_eq!(chunks[0].doc.log_group, "/aws/rds/instance/db/postgresql");
    }

    #[test]
    fn a_gzip_bomb_is_too_large_while_streaming() {
        // ~4.5 MB of valid events inflating from a few KB; the limit is 1 MiB.
        let mut json = format!(r#"{{{HEADER},"logEvents":["#);
        for i in 0..100_000 {
            json.push_str(&event(i % 10));
            json.push(',');
        }
        json.push_str(&event(0));
        json.push_str("]}");
        let (chunks, result) = chunks_of(&json, 1000, 1 << 20);
        let err = result.unwrap_err();
        assert_eq!(err.reason(), "decompressed_too_large", "{err}");
        assert!(matches!(err, InputError::TooLarge { limit, .. } if limit == 1 << 20));
        // Events before the limit were handed on, bounded by it.
        let seen: usize = chunks.iter().map(|c| c.doc.events.len()).sum();
        assert!(seen > 0 && seen < 1 << 20, "{seen}");
    }

    #[test]
    fn bad_documents_are_typed_errors() {
        let (_, r) = chunks_of("  \n", 10, 1 << 20);
        assert_eq!(r.unwrap_err().reason(), "invalid_cloudwatch_document");
        let (_, r) = chunks_of(r#"{"logEvents":[]}"#, 10, 1 << 20);
        assert_eq!(r.unwrap_err().reason(), "invalid_cloudwatch_document");
        let (chunks, r) = chunks_of(
            &format!(r#"{{{HEADER},"logEvents":[{},{}"#, event(1), event(2)),
            1,
            1 << 20,
        );
        assert_eq!(r.unwrap_err().reason(), "invalid_cloudwatch_document");
        assert_eq!(
            chunks.len(),
            2,
            "what was read before the cut was handed on"
        );
        let stream = CloudWatchStream::new("t", b"\x1f\x8bnot gzip".to_vec(), 1 << 20);
        let r = stream.run(ChunkLimits::default(), &mut |_| true);
        assert_eq!(r.unwrap_err().reason(), "invalid_gzip");
    }

    #[test]
    fn the_consumer_can_stop_early() {
        let json = format!(
            r#"{{{HEADER},"logEvents":[{},{},{}]}}"#,
            event(1),
            event(2),
            event(3)
        );
        let stream = CloudWatchStream::new("t", gz(&json), 1 << 20);
        let mut calls = 0;
        let limits = ChunkLimits {
            events: 1,
            bytes: usize::MAX,
        };
        stream
            .run(limits, &mut |_| {
                calls += 1;
                false
            })
            .unwrap();
        assert_eq!(calls, 1);
    }

    #[test]
    fn only_big_cloudwatch_payloads_are_opened() {
        let json = format!(r#"{{{HEADER},"logEvents":[{}]}}"#, event(1));
        let data = base64::engine::general_purpose::STANDARD.encode(gz(&json));
        let event = format!(r#"{{"awslogs":{{"data":"{data}"}}}}"#);
        assert_eq!(gzip::isize_hint_b64(&data), Some(json.len() as u32));
        assert!(open(event.as_bytes(), 1 << 20, json.len()).is_none());
        assert!(open(event.as_bytes(), 1 << 20, json.len() - 1).is_some());
        assert!(open(br#"{"Records":[]}"#, 1 << 20, 0).is_none());
        // `awslogs` after another key: not streamed, still decoded whole.
        let later = format!(r#"{{"x":1, "awslogs":{{"data":"{data}"}}}}"#);
        assert!(open(later.as_bytes(), 1 << 20, 0).is_none());
        let decoded = super::super::decode(later.as_bytes(), 1 << 20).unwrap();
        assert!(
            matches!(&decoded.units[0].content, Ok(super::super::Content::Logs(d)) if d[0].events.len() == 1)
        );
        assert!(open(
            format!(" \n{{ \"awslogs\":{{\"data\":\"{data}\"}}}}").as_bytes(),
            1 << 20,
            0
        )
        .is_some());
        assert!(open(br#"{"awslogs":{"data":"bm90IGd6aXA="}}"#, 1 << 20, 0).is_none());
    }
}
