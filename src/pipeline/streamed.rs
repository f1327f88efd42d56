//! Big CloudWatch payloads, processed and delivered chunk by chunk so that
//! peak memory stays bounded whatever the payload inflates to.
//!
//! A thread of its own inflates and reads the document
//! ([`input::stream`]) and hands chunks of events through a bounded channel
//! (capacity 1) to the invocation's task, which parses, joins, enriches,
//! builds records and delivers each chunk before taking the next. A thread
//! rather than a task because serde's visitor pushes events (it cannot
//! pause for an `.await`), and the sinks' connections belong to the
//! invocation's runtime, which must stay free to drive them. At most three
//! chunks live at once: one being read, one waiting in the channel, one
//! being delivered.
//!
//! What crosses a chunk boundary is kept in a [`DocCarry`]: the parser
//! picked for the document, its `db.system.name`, the last joined entries
//! (a parser's `join` may still merge a companion line of the next chunk
//! into them: PostgreSQL's STATEMENT/DETAIL lines follow their message
//! closely) and the malformed events, which the whole-document path puts
//! after every record. So the records, their order and the counts are the
//! whole-document path's; tests compare the two on the corpus with chunks
//! of three events.
//!
//! Delivery stays at-least-once: if a chunk cannot be delivered the
//! invocation fails at once (chunks already delivered are sent again on
//! Lambda's retry, which at-least-once allows).

use std::time::Instant;

use crate::input::stream::{ChunkLimits, CloudWatchStream, DocChunk};
use crate::input::{Decoded, EventKind, InputError, MalformedEvent, Origin};
use crate::parse::{Entry, LogParser};
use crate::sink::Sink;
use crate::time;

use super::{count_records, Failure, Outcome, Pipeline, Processed, Stats};

/// When and how CloudWatch payloads are streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Stream payloads whose gzip trailer says they inflate to more than
    /// this; smaller ones take the faster whole-document path (serde_json
    /// reads a slice faster than a reader).
    pub threshold_bytes: usize,
    /// Chunk size (events, bytes).
    pub chunk: ChunkLimits,
    /// Joined entries held back at the end of a chunk for the next chunk's
    /// join. A companion line further than this from its entry stays a
    /// record of its own (the whole-document path would merge it).
    pub join_lookback: usize,
    /// Entries held back while no parsed entry has named the engine
    /// (`db.system.name`, e.g. MariaDB vs MySQL), so the resource is the
    /// one the whole document would get; past this many the log type's
    /// default is used.
    pub resource_lookahead: usize,
    /// Bytes of entry bodies held back by either of the two above: counts
    /// alone would let 256 entries of 256 KiB (64 MiB, plus their parsed
    /// copies) wait for the next chunk. The last entry is always kept.
    pub hold_bytes: usize,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            // The whole path holds ~9 MB of events and records per MiB of JSON
            // (peak RSS 41 MB at 3.9 MiB, 59 MB at 6.4 MiB): below 4 MiB it stays
            // well under the 64 MB target; above it, streaming keeps to ~44 MB.
            threshold_bytes: 4 * 1024 * 1024,
            chunk: ChunkLimits::default(),
            join_lookback: 256,
            resource_lookahead: 4096,
            hold_bytes: 1024 * 1024,
        }
    }
}

/// What one document's processing carries from one chunk to the next.
pub(super) struct DocCarry {
    /// This part ends its document: nothing is held back.
    last: bool,
    join_lookback: usize,
    resource_lookahead: usize,
    hold_bytes: usize,
    /// Chosen on the document's first part (by its first message).
    pub(super) parser: Option<&'static dyn LogParser>,
    /// The first `db.system.name` a parsed entry of the document named.
    pub(super) db_system: Option<&'static str>,
    db_system_decided: bool,
    pending: Vec<Entry>,
    pending_extracted: Vec<(String, Vec<(String, String)>)>,
    malformed: Vec<MalformedEvent>,
}

impl DocCarry {
    /// A whole document: one part, nothing held back.
    pub(super) fn whole() -> Self {
        DocCarry {
            last: true,
            join_lookback: 0,
            resource_lookahead: 0,
            hold_bytes: 0,
            parser: None,
            db_system: None,
            db_system_decided: false,
            pending: Vec::new(),
            pending_extracted: Vec::new(),
            malformed: Vec::new(),
        }
    }

    fn streaming(options: &StreamOptions) -> Self {
        DocCarry {
            join_lookback: options.join_lookback,
            resource_lookahead: options.resource_lookahead,
            hold_bytes: options.hold_bytes,
            ..DocCarry::whole()
        }
    }

    /// Puts the entries held back from the previous part before this part's.
    pub(super) fn resume(
        &mut self,
        entries: &mut Vec<Entry>,
        extracted: &mut Vec<(String, Vec<(String, String)>)>,
    ) {
        entries.append(&mut self.pending);
        extracted.append(&mut self.pending_extracted);
    }

    /// After the join: settles `db_system` when it can, and keeps the tail
    /// of `entries` (with its extracted fields) for the next part.
    pub(super) fn hold_back(
        &mut self,
        entries: &mut Vec<Entry>,
        extracted: &mut Vec<(String, Vec<(String, String)>)>,
    ) {
        if !self.db_system_decided {
            self.db_system = entries.iter().find_map(|e| e.parsed.db_system);
            self.db_system_decided = self.db_system.is_some()
                || self.last
                || entries.len() > self.resource_lookahead
                || tail_within(entries, entries.len(), self.hold_bytes) < entries.len();
        }
        if self.last {
            return;
        }
        let keep = if self.db_system_decided {
            tail_within(entries, self.join_lookback, self.hold_bytes)
        } else {
            entries.len()
        };
        self.pending = entries.split_off(entries.len() - keep);
        if !extracted.is_empty() {
            let pending = &self.pending;
            let (held, emitted) = std::mem::take(extracted)
                .into_iter()
                .partition(|(id, _)| pending.iter().any(|e| e.event_ids.contains(id)));
            self.pending_extracted = held;
            *extracted = emitted;
        }
    }

    /// Malformed events become records after all others of the document,
    /// as in the whole-document path: held until its last part.
    pub(super) fn malformed_go_last(&mut self, malformed: &mut Vec<MalformedEvent>) {
        self.malformed.append(malformed);
        if self.last {
            std::mem::swap(&mut self.malformed, malformed);
        }
    }
}

/// How many of the last `most` entries fit in `bytes` of bodies (at least
/// one, when there is one: the entry a companion line may join).
fn tail_within(entries: &[Entry], most: usize, bytes: usize) -> usize {
    let mut total = 0usize;
    let mut kept = 0;
    for e in entries.iter().rev().take(most) {
        total = total.saturating_add(e.body.len());
        if kept > 0 && total > bytes {
            break;
        }
        kept += 1;
    }
    kept
}

impl Pipeline {
    /// Processes one chunk; `carry` follows the document across chunks.
    fn process_chunk(
        &self,
        carry: &mut Option<DocCarry>,
        chunk: DocChunk,
        observed_ns: i64,
        out: &mut Processed,
    ) {
        if chunk.first || carry.is_none() {
            *carry = Some(DocCarry::streaming(&self.stream));
        }
        if let Some(c) = carry.as_mut() {
            c.last = chunk.last;
            self.process_part(chunk.doc, c, observed_ns, out);
        }
        if chunk.last {
            *carry = None;
        }
    }

    /// The streamed path without delivery, all records collected: what
    /// [`Pipeline::process`] gives, for the payloads this pipeline's
    /// [`StreamOptions`] stream (`None` for any other event). For tests and
    /// comparisons: it keeps every record, so it is not bounded.
    pub fn process_streamed(&self, event: &[u8], observed_ns: i64) -> Option<Processed> {
        let limit = self.config.max_decompressed_bytes;
        let stream = crate::input::stream::open(event, limit, self.stream.threshold_bytes)?;
        let mut out = Processed {
            kind: Some(EventKind::CloudWatchLogs),
            ..Processed::default()
        };
        let mut carry = None;
        let result = stream.run(self.stream.chunk, &mut |chunk| {
            self.process_chunk(&mut carry, chunk, observed_ns, &mut out);
            true
        });
        if let Err(e) = result {
            record_input_failure(&mut out.stats, &mut out.failures, e);
        }
        out.units.push((Origin::Whole, 0..out.records.len()));
        count_records(&mut out);
        Some(out)
    }

    /// [`Pipeline::run`] for a streamed payload.
    /// `whole` decodes the same payload at once, for when no thread can be
    /// started.
    pub(super) async fn run_streamed(
        &self,
        stream: CloudWatchStream,
        whole: impl FnOnce() -> Result<Decoded, InputError>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let observed_ns = time::now_ns();
        let limits = self.stream.chunk;
        let (tx, mut rx) = tokio::sync::mpsc::channel::<DocChunk>(1);
        let spawned = std::thread::Builder::new()
            .name("rdsf-inflate".to_owned())
            .spawn(move || stream.run(limits, &mut |chunk| tx.blocking_send(chunk).is_ok()));
        let producer = match spawned {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "no thread for streaming; processing the payload whole");
                return self.run_whole(whole(), sinks, deadline).await;
            }
        };

        let mut outcome = Outcome {
            kind: Some(EventKind::CloudWatchLogs),
            ..Outcome::default()
        };
        let mut carry = None;
        while let Some(chunk) = rx.recv().await {
            let mut part = Processed::until(deadline);
            self.process_chunk(&mut carry, chunk, observed_ns, &mut part);
            if part.out_of_time {
                part.fail_out_of_time("the payload");
                outcome.stats.add(&part.stats);
                outcome.failures.append(&mut part.failures);
                break;
            }
            count_records(&mut part);
            let failures_before = part.failures.len();
            self.deliver(&mut part, sinks, deadline).await;
            let delivery_failed = part.failures.len() > failures_before;
            outcome.stats.add(&part.stats);
            outcome.failures.append(&mut part.failures);
            if delivery_failed {
                // The invocation fails; reading on would only buffer.
                break;
            }
        }
        // A producer waiting to send sees the channel closed and stops.
        drop(rx);
        match producer.join() {
            Ok(Ok(())) => {}
            Ok(Err(e)) => record_input_failure(&mut outcome.stats, &mut outcome.failures, e),
            Err(_) => {
                let e = InputError::CloudWatchDocument {
                    what: "awslogs.data".to_owned(),
                    detail: "the decoding thread panicked".to_owned(),
                };
                record_input_failure(&mut outcome.stats, &mut outcome.failures, e);
            }
        }
        super::log_failures(&outcome.failures);
        outcome
    }
}

fn record_input_failure(stats: &mut Stats, failures: &mut Vec<Failure>, e: InputError) {
    stats.fail(e.reason());
    failures.push(Failure::input(e, None));
}
