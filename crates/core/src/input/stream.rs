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
//! The reader hands on each chunk's events as the JSON of their elements
//! ([`RawChunk`]); whoever processes the chunk reads them ([`RawChunk::parse`])
//! and hands the emptied buffer back for the next chunk
//! ([`CloudWatchStream::run_raw`]). So when the reader has a thread of its
//! own, the events' strings are allocated by the thread that frees them:
//! mimalloc gives a block freed by another thread back to its owner only
//! every hundred or so of the owner's slow-path allocations, and a reader
//! making one big string per event kept ~20 MB of freed messages out of use
//! (peak RSS 65 MB instead of 44 on 200 events of 256 KB).
//!
//! Only payloads whose gzip trailer announces a big document take this path
//! ([`open`]); the rest keep the whole-document decoder, which holds the
//! whole payload and its records at once.

use std::cell::Cell;

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use super::bounded_json::{uncut, BoundedJson};
use super::cloudwatch::{read_event_bytes, read_event_text, LogDocument, MAX_EVENT_MESSAGE_BYTES};
use super::json_window::{ElementEnds, ScanError, Window};
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
    /// 4,096 events of the usual few hundred bytes are ~1 MiB of JSON, so
    /// the byte bound only binds for big messages. There each byte of a
    /// chunk is held ~4 times (JSON, message, body, query text and its
    /// fingerprint) while it is processed, another chunk is read meanwhile:
    /// 2 MiB rather than 4 took `replay` of 200 events of 256 KB from 44 to
    /// 34 MB peak RSS, at the cost of twice as many (smaller) deliveries for
    /// such payloads.
    fn default() -> Self {
        ChunkLimits {
            events: 4096,
            bytes: 2 * 1024 * 1024,
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

/// A [`DocChunk`] as the reader hands it on: its events still the JSON of
/// their `logEvents` elements, read by [`RawChunk::parse`] on the thread
/// that processes (and so frees) them.
#[derive(Debug)]
pub struct RawChunk {
    what: String,
    /// The document's header fields, without events.
    header: LogDocument,
    first: bool,
    last: bool,
    events: ChunkBuffer,
}

/// The elements of one chunk back to back; handed back to the reader once
/// read, so its capacity serves the next chunk.
#[derive(Debug, Default)]
pub struct ChunkBuffer {
    bytes: Vec<u8>,
    /// Where each element ends in `bytes`.
    ends: Vec<usize>,
}

impl ChunkBuffer {
    /// A buffer a chunk of `limits` does not outgrow: its bytes stop before
    /// `limits.bytes` plus one event (an event of long extracted fields,
    /// past its message's limit, may grow it once). Growing instead would
    /// copy the chunk over and over (doubling) and hold it twice for a
    /// while; the room reserved and not written costs no memory (pages are
    /// only given on first write).
    fn for_chunks(limits: ChunkLimits) -> Self {
        let bytes = limits.bytes.min(MAX_EVENT_JSON_BYTES) + MAX_EVENT_MESSAGE_BYTES + 4096;
        ChunkBuffer {
            bytes: Vec::with_capacity(bytes),
            ends: Vec::with_capacity(limits.events.min(4096)),
        }
    }

    fn push(&mut self, element: &[u8]) {
        self.bytes.extend_from_slice(element);
        self.ends.push(self.bytes.len());
    }

    /// Bytes held (the capacity, not the length: what a recycled buffer
    /// costs even while empty).
    pub fn capacity(&self) -> usize {
        self.bytes.capacity() + self.ends.capacity() * std::mem::size_of::<usize>()
    }
}

impl RawChunk {
    /// Reads the events (a bad one kept as malformed, as the whole path
    /// keeps it; strings cut by [`BoundedJson`] marked as cut) and returns
    /// the emptied buffer with the chunk. An element that is not JSON at
    /// all is the document's error, and no event of this chunk is kept, as
    /// when the whole document fails to read.
    pub fn parse(self) -> (Result<DocChunk, InputError>, ChunkBuffer) {
        let RawChunk {
            what,
            mut header,
            first,
            last,
            mut events,
        } = self;
        let result =
            read_elements(&events, &mut header).map_err(|e| InputError::CloudWatchDocument {
                what,
                detail: e.to_string(),
            });
        events.bytes.clear();
        events.ends.clear();
        let chunk = result.map(|()| DocChunk {
            doc: header,
            first,
            last,
        });
        (chunk, events)
    }
}

/// The events of `buf` into `doc` (see [`RawChunk::parse`]).
///
/// The chunk is checked to be UTF-8 once, whole, and its elements read as
/// text ([`read_event_text`]); every element of a UTF-8 chunk is UTF-8 (it
/// starts after and ends before an ASCII delimiter, or at the chunk's
/// ends). A chunk that is not is read element by element from bytes, as
/// before, so an element's bad UTF-8 fails as it did.
fn read_elements(buf: &ChunkBuffer, doc: &mut LogDocument) -> Result<(), serde_json::Error> {
    doc.events.reserve(buf.ends.len());
    let text = std::str::from_utf8(&buf.bytes).ok();
    let mut start = 0;
    for &end in &buf.ends {
        let read = doc.events.len();
        match text.and_then(|t| t.get(start..end)) {
            Some(element) => read_event_text(element, &mut doc.events, &mut doc.malformed)?,
            None => read_event_bytes(&buf.bytes[start..end], &mut doc.events, &mut doc.malformed)?,
        }
        if let Some(e) = doc.events.get_mut(read) {
            e.cut_from = uncut(&mut e.message, MAX_EVENT_MESSAGE_BYTES);
            for (_, v) in &mut e.extracted_fields {
                uncut(v, MAX_EVENT_MESSAGE_BYTES);
            }
        }
        start = end;
    }
    Ok(())
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
    /// that is not an error here. [`CloudWatchStream::run_raw`] with each
    /// chunk read at once, on this thread, and one buffer reused throughout.
    pub fn run(
        &self,
        limits: ChunkLimits,
        emit: &mut dyn FnMut(DocChunk) -> bool,
    ) -> Result<(), InputError> {
        let spare = Cell::new(None);
        let mut failed = None;
        let result = self.run_raw(limits, &mut || spare.take(), &mut |raw| {
            let (chunk, buffer) = raw.parse();
            spare.set(Some(buffer));
            match chunk {
                Ok(chunk) => emit(chunk),
                Err(e) => {
                    failed = Some(e);
                    false
                }
            }
        });
        match failed {
            Some(e) => Err(e),
            None => result,
        }
    }

    /// [`CloudWatchStream::run`] with the events of each chunk left as JSON
    /// for the consumer to read ([`RawChunk::parse`]). Each chunk is filled
    /// in a buffer from `spare` (a new one when it gives none), called once
    /// at the start and after each chunk `emit` took: a consumer handing
    /// the emptied buffers back bounds what the reader holds to one chunk
    /// and lets it wait for the consumer there.
    pub fn run_raw(
        &self,
        limits: ChunkLimits,
        spare: &mut dyn FnMut() -> Option<ChunkBuffer>,
        emit: &mut dyn FnMut(RawChunk) -> bool,
    ) -> Result<(), InputError> {
        let bounded = gzip::BoundedRead::new(MultiGzDecoder::new(&self.gz[..]), self.limit);
        let mut json = BoundedJson::new(bounded, MAX_EVENT_MESSAGE_BYTES, MAX_EVENT_JSON_BYTES);
        let mut out = Out {
            what: &self.what,
            limits,
            buffer: spare().unwrap_or_else(|| ChunkBuffer::for_chunks(limits)),
            spare,
            emit,
        };
        let result = read_documents(&mut json, &mut out);
        if result.is_err() && !out.buffer.ends.is_empty() {
            // An element before the error that is not JSON came first: it
            // is the error the events read as they come would give.
            if let Err(e) = read_elements(&out.buffer, &mut empty_document()) {
                return Err(InputError::CloudWatchDocument {
                    what: self.what.clone(),
                    detail: e.to_string(),
                });
            }
        }
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
fn read_documents(reader: &mut dyn ElementEnds, out: &mut Out<'_>) -> Result<(), ReadError> {
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
        if read_document(&mut w, out)? == Flow::Stop {
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

/// Where the reader puts what it reads: the chunk being filled, the
/// consumer, and where emptied buffers come from.
struct Out<'a> {
    what: &'a str,
    limits: ChunkLimits,
    buffer: ChunkBuffer,
    spare: &'a mut dyn FnMut() -> Option<ChunkBuffer>,
    emit: &'a mut dyn FnMut(RawChunk) -> bool,
}

impl Out<'_> {
    /// Hands on the events read so far with `header`; then takes a buffer
    /// for the next chunk (after `emit`, so a consumer handing buffers back
    /// has this one to hand back).
    fn emit(&mut self, header: LogDocument, first: bool, last: bool) -> Flow {
        let chunk = RawChunk {
            what: self.what.to_owned(),
            header,
            first,
            last,
            events: std::mem::take(&mut self.buffer),
        };
        if !(self.emit)(chunk) {
            return Flow::Stop;
        }
        self.buffer = (self.spare)().unwrap_or_else(|| ChunkBuffer::for_chunks(self.limits));
        Flow::Go
    }
}

fn empty_document() -> LogDocument {
    LogDocument {
        owner: String::new(),
        log_group: String::new(),
        log_stream: String::new(),
        subscription_filters: Vec::new(),
        message_type: String::new(),
        policy_level: None,
        events: Vec::new(),
        malformed: Vec::new(),
    }
}

/// One document: header fields as they come, `logEvents` element by
/// element ([`read_events`]), then the last chunk when the object closes.
fn read_document(
    w: &mut Window<&mut dyn ElementEnds>,
    out: &mut Out<'_>,
) -> Result<Flow, ReadError> {
    let mut doc = empty_document();
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
                    emitted: &mut emitted,
                };
                if read_events(w, &doc, events, out)? == Flow::Stop {
                    return Ok(Flow::Stop);
                }
            }
            Field::Other => w.skip_value()?,
        }
        more = w.another_before(b'}', "`,` or `}` in a document")?;
    }
    w.bump(); // `}`
    if !have_group {
        return Err(ReadError::Syntax("missing field `logGroup`".to_owned()));
    }
    Ok(out.emit(doc, !emitted, true))
}

/// A header field's value. Its first byte must be one of `starts` (else the
/// type is wrong: refused before it is held, whatever its size).
fn header_value<T: serde::de::DeserializeOwned>(
    w: &mut Window<&mut dyn ElementEnds>,
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
    emitted: &'a mut bool,
}

/// Reads `logEvents` into `out`'s buffer, handing on a chunk (with the
/// header of `doc`) whenever one is full. Each element is kept as its JSON
/// (read by [`RawChunk::parse`]).
fn read_events(
    w: &mut Window<&mut dyn ElementEnds>,
    doc: &LogDocument,
    how: Events<'_>,
    out: &mut Out<'_>,
) -> Result<Flow, ReadError> {
    w.expect(b'[', "an array of log events for `logEvents`")?;
    let mut more = w.peek()? != Some(b']');
    while more {
        out.buffer.push(w.element()?);
        let full = out.buffer.ends.len() >= out.limits.events
            || out.buffer.bytes.len() >= out.limits.bytes;
        if how.stream && full {
            if out.emit(header_of(doc), !*how.emitted, false) == Flow::Stop {
                return Ok(Flow::Stop);
            }
            *how.emitted = true;
        }
        more = w.another_before(b']', "`,` or `]` between log events")?;
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
    use std::io::{Read, Write};

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

    /// The bound behind the streamed path's peak memory (issue 17: 65 MB
    /// instead of 44 on 200 events of 256 KB when the reader thread made
    /// each event's strings): the reader hands on chunks of JSON, reads no
    /// event itself ([`RawChunk`] has none), and fills the buffer handed
    /// back to it, which stays a chunk and an event. 60 events of 100 KB in
    /// chunks of 400 KB: one buffer for all 6 MB.
    #[test]
    fn the_reader_fills_the_one_buffer_handed_back_to_it() {
        let message = "m".repeat(100_000);
        let events: Vec<String> = (0..60)
            .map(|i| format!(r#"{{"id":"{i}","timestamp":{i},"message":"{message}"}}"#))
            .collect();
        let json = format!(r#"{{{HEADER},"logEvents":[{}]}}"#, events.join(","));
        let stream = CloudWatchStream::new("t", gz(&json), 1 << 30);
        let limits = ChunkLimits {
            events: usize::MAX,
            bytes: 400_000,
        };
        let spare = Cell::new(None);
        let (mut fresh, mut chunks, mut read, mut most) = (0, 0, 0, 0);
        let mut take_spare = || {
            let buffer = spare.take();
            fresh += usize::from(buffer.is_none());
            buffer
        };
        stream
            .run_raw(limits, &mut take_spare, &mut |raw| {
                chunks += 1;
                let (chunk, buffer) = raw.parse();
                most = most.max(buffer.capacity());
                read += chunk.unwrap().doc.events.len();
                spare.set(Some(buffer));
                true
            })
            .unwrap();
        assert_eq!(read, 60);
        assert!(chunks >= 15, "{chunks} chunks");
        assert_eq!(fresh, 1, "buffers the reader made");
        // Its room: a chunk and one event, never grown.
        let room = 400_000 + MAX_EVENT_MESSAGE_BYTES + 4096 + 4096 * std::mem::size_of::<usize>();
        assert!(most <= room, "{most} bytes in one buffer");
    }

    /// One document of three plain events, ids 1 to 3.
    fn three_events() -> CloudWatchStream {
        let json = format!(
            r#"{{{HEADER},"logEvents":[{},{},{}]}}"#,
            event(1),
            event(2),
            event(3)
        );
        CloudWatchStream::new("t", gz(&json), 1 << 20)
    }

    /// Without a buffer handed back, each chunk gets a new one (the reader
    /// never waits for one that does not come).
    #[test]
    fn without_buffers_handed_back_the_reader_makes_its_own() {
        let stream = three_events();
        let limits = ChunkLimits {
            events: 1,
            bytes: usize::MAX,
        };
        let mut ids = Vec::new();
        stream
            .run_raw(limits, &mut || None, &mut |raw| {
                let doc = raw.parse().0.unwrap().doc;
                ids.extend(doc.events.into_iter().map(|e| e.id));
                true
            })
            .unwrap();
        assert_eq!(ids, ["1", "2", "3"]);
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
        let stream = three_events();
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

    /// A reader handing out `n` bytes at a time: read edges everywhere.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    /// Each chunk's elements, whether it starts and ends a document; how
    /// the reading ended.
    type ReadAll = (Vec<(Vec<Vec<u8>>, bool, bool)>, Result<(), String>);

    /// All [`read_documents`] hands on of `json` (each chunk's elements and
    /// whether it starts and ends a document) and how it ends, read in
    /// steps of `step` through a [`BoundedJson`] of `limits` noting element
    /// extents or not.
    fn read_all(
        json: &[u8],
        limits: (usize, usize),
        step: usize,
        events: usize,
        note: bool,
    ) -> ReadAll {
        let mut json = BoundedJson::new(Trickle(json, step), limits.0, limits.1);
        if !note {
            json = json.noting_nothing();
        }
        let mut chunks = Vec::new();
        let mut spare = || None;
        let mut emit = |raw: RawChunk| {
            let mut start = 0;
            let mut elements = Vec::new();
            for &end in &raw.events.ends {
                elements.push(raw.events.bytes[start..end].to_vec());
                start = end;
            }
            chunks.push((elements, raw.first, raw.last));
            true
        };
        let mut out = Out {
            what: "t",
            limits: ChunkLimits {
                events,
                bytes: usize::MAX,
            },
            buffer: ChunkBuffer::default(),
            spare: &mut spare,
            emit: &mut emit,
        };
        let result = read_documents(&mut json, &mut out).map_err(|e| match e {
            ReadError::Io(e) => format!("io: {e}"),
            ReadError::Json(e) => format!("json: {e}"),
            ReadError::Syntax(s) => format!("syntax: {s}"),
            ReadError::NoDocument => "no document".to_owned(),
        });
        let left: Vec<Vec<u8>> = {
            let mut start = 0;
            out.buffer
                .ends
                .iter()
                .map(|&end| {
                    let e = out.buffer.bytes[start..end].to_vec();
                    start = end;
                    e
                })
                .collect()
        };
        chunks.push((left, false, false));
        (chunks, result)
    }

    /// What a log event may hold, or be, in pieces: JSON, what is nearly
    /// JSON, and what is not (quotes, brackets and escapes of each kind
    /// where they break the structure, `\u` escapes cut short by a quote).
    fn piece() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let fixed: Vec<&'static str> = vec![
            r#"{"id":"1","timestamp":1,"message":"m"}"#,
            r#"{"message":"a [ { \" \\ } ]"}"#,
            r#""#,
            r#"{"#,
            r#"}"#,
            r#"["#,
            r#"]"#,
            r#"""#,
            r#"","#,
            r#","#,
            r#":"#,
            r#" "#,
            r#"\"#,
            r#"\""#,
            r#"\\"#,
            r#"\u"#,
            r#"\u1"#,
            r#"\u12""#,
            r#"\u123\"#,
            r#"\u00e9"#,
            r#"\ud83d\ude00"#,
            r#"{"a":"\u"}"#,
            r#"{"a":"\u1"},"#,
            "é😀",
            "1",
            "x",
            "null",
        ];
        prop_oneof![
            4 => proptest::sample::select(fixed).prop_map(str::to_owned),
            1 => (0usize..40).prop_map(|n| "a".repeat(n)),
            1 => "[\"\\\\{}\\[\\]é\u{1}a]{0,12}".prop_map(|m| {
                format!(r#"{{"id":"2","message":{}}}"#, serde_json::Value::from(m))
            }),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Issue 17: the window takes a log event where the reader noted
        /// its end instead of scanning it. Over any JSON-ish events, in
        /// and out of `logEvents`, with strings cut or not, events bounded
        /// or not, read in any steps, that hands on the same elements in
        /// the same chunks and ends with the same error as the scan alone.
        #[test]
        fn noted_element_ends_read_as_the_window_scan_does(
            before in proptest::collection::vec(piece(), 0..4),
            events in proptest::collection::vec(proptest::collection::vec(piece(), 0..5), 0..8),
            after in proptest::collection::vec(piece(), 0..3),
            max_string in 0usize..40,
            max_element in proptest::prop_oneof![1usize..200, proptest::strategy::Just(usize::MAX)],
            step in 1usize..50,
            chunk in 1usize..4,
        ) {
            let events: Vec<String> = events.into_iter().map(|e| e.concat()).collect();
            let json = format!(
                r#"{{"logGroup":"g","ignored":[{}],"logEvents":[{}],"after":[{}]}} {{"logGroup":"h","logEvents":[{}]}}"#,
                before.join(","),
                events.join(","),
                after.join(","),
                events.join(" , "),
            );
            let limits = (max_string, max_element);
            let noted = read_all(json.as_bytes(), limits, step, chunk, true);
            let scanned = read_all(json.as_bytes(), limits, step, chunk, false);
            proptest::prop_assert_eq!(noted, scanned);
        }
    }

    /// The same on plain events, and each of them is taken where the
    /// reader noted it (asked for, the reader holds no extent after it).
    #[test]
    fn every_plain_event_is_taken_where_it_was_noted() {
        let events: Vec<String> = (0..3000).map(event).collect();
        let json = format!(r#"{{"logGroup":"g","logEvents":[{}]}}"#, events.join(","));
        let read = |note| read_all(json.as_bytes(), (1 << 20, 1 << 20), 4096, 1000, note);
        let (chunks, result) = read(true);
        result.unwrap();
        assert_eq!((chunks, Ok(())), read(false));
        let mut reader = BoundedJson::new(json.as_bytes(), 1 << 20, 1 << 20);
        let mut w = Window::new(&mut reader);
        while w.peek().unwrap() != Some(b'[') {
            w.bump();
        }
        w.bump();
        for e in &events {
            let at = json.find(e.as_str()).unwrap() as u64;
            assert_eq!(w.element().unwrap(), e.as_bytes());
            // Its extent was asked for: those left start after it.
            let next = w.inner_mut().next_noted();
            assert!(next.is_none_or(|(s, _)| s > at), "{e}: {next:?}");
            w.another_before(b']', "").unwrap();
        }
    }

    /// The events of `buf` as they were read before the chunk was checked
    /// to be UTF-8 whole: each element from bytes.
    fn read_each_from_bytes(buf: &ChunkBuffer) -> (Result<(), String>, LogDocument) {
        let mut doc = empty_document();
        let mut start = 0;
        for &end in &buf.ends {
            let read = doc.events.len();
            let r = read_event_bytes(&buf.bytes[start..end], &mut doc.events, &mut doc.malformed);
            if let Err(e) = r {
                return (Err(e.to_string()), doc);
            }
            if let Some(e) = doc.events.get_mut(read) {
                e.cut_from = uncut(&mut e.message, MAX_EVENT_MESSAGE_BYTES);
                for (_, v) in &mut e.extracted_fields {
                    uncut(v, MAX_EVENT_MESSAGE_BYTES);
                }
            }
            start = end;
        }
        (Ok(()), doc)
    }

    proptest::proptest! {
        /// Issue 17: a chunk's elements read as text once it is checked to
        /// be UTF-8 whole give the events, malformed events and error each
        /// element read from bytes gave, bad UTF-8 anywhere or not.
        #[test]
        fn a_chunk_read_as_text_reads_as_each_element_from_bytes(
            elements in proptest::collection::vec(proptest::sample::select(vec![
                br#"{"id":"1","timestamp":1,"message":"caf\u00e9 \"x\" \\ \u{1}"}"#.to_vec(),
                "{\"id\":\"2\",\"timestamp\":2,\"message\":\"é😀\",\"extractedFields\":{\"k\":\"v\",\"n\":3}}".as_bytes().to_vec(),
                br#"{"id":"3","timestamp":"x","message":"m"}"#.to_vec(),
                br#"{"id":4}"#.to_vec(),
                br#"17"#.to_vec(),
                b"{\"id\":\"5\",\"timestamp\":5,\"message\":\"bad \xff utf-8\"}".to_vec(),
                b"{\"id\":\"6\",\"timestamp\":6,\"message\":\"cut \xc3\"}".to_vec(),
                br#"{"id":"7","timestamp":7,"message":"\ud800 lone"}"#.to_vec(),
                br#"{"id":"8","timestamp":8,"message":"no end"#.to_vec(),
            ]), 0..6),
        ) {
            let mut buf = ChunkBuffer::default();
            for e in &elements {
                buf.push(e);
            }
            let mut doc = empty_document();
            let got = read_elements(&buf, &mut doc).map_err(|e| e.to_string());
            let (want, want_doc) = read_each_from_bytes(&buf);
            proptest::prop_assert_eq!(&got, &want);
            if got.is_ok() {
                proptest::prop_assert_eq!(doc, want_doc);
            }
        }
    }
}
