//! What crosses a chunk boundary when a big CloudWatch document is
//! processed in parts ([`super::Processor::process_chunk`]).
//!
//! A [`DocCarry`] keeps the parser picked for the document, its
//! `db.system.name`, the last joined entries (a parser's `join` may still
//! merge a companion line of the next chunk into them: PostgreSQL's
//! STATEMENT/DETAIL lines follow their message closely) and the malformed
//! events, which the whole-document path puts after every record. So the
//! records, their order and the counts are the whole-document path's; tests
//! compare the two on the corpus with chunks of three events.

use crate::input::stream::ChunkLimits;
use crate::input::MalformedEvent;
use crate::parse::{Entry, LogParser};

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
/// Opaque outside this crate: the pipeline holds one per streamed document
/// and hands it back with each chunk.
pub struct DocCarry {
    /// This part ends its document: nothing is held back.
    pub(crate) last: bool,
    join_lookback: usize,
    resource_lookahead: usize,
    hold_bytes: usize,
    /// Chosen on the document's first part (by its first message).
    pub(crate) parser: Option<&'static dyn LogParser>,
    /// The first `db.system.name` a parsed entry of the document named.
    pub(crate) db_system: Option<&'static str>,
    db_system_decided: bool,
    pending: Vec<Entry>,
    pending_extracted: Vec<(String, Vec<(String, String)>)>,
    malformed: Vec<MalformedEvent>,
    /// The document's query metrics so far: its points go out with its
    /// last part, so a minute split across parts is one point.
    pub(crate) queries: Option<Box<crate::query_metrics::Aggregator>>,
}

impl DocCarry {
    /// A whole document: one part, nothing held back.
    pub(crate) fn whole() -> Self {
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
            queries: None,
        }
    }

    pub(crate) fn streaming(options: &StreamOptions) -> Self {
        DocCarry {
            join_lookback: options.join_lookback,
            resource_lookahead: options.resource_lookahead,
            hold_bytes: options.hold_bytes,
            ..DocCarry::whole()
        }
    }

    /// How many entries [`Self::resume`] will hand back.
    pub(crate) fn held(&self) -> usize {
        self.pending.len()
    }

    /// Puts the entries held back from the previous part before this part's.
    pub(crate) fn resume(
        &mut self,
        entries: &mut Vec<Entry>,
        extracted: &mut Vec<(String, Vec<(String, String)>)>,
    ) {
        entries.append(&mut self.pending);
        extracted.append(&mut self.pending_extracted);
    }

    /// After the join: settles `db_system` when it can, and keeps the tail
    /// of `entries` (with its extracted fields) for the next part.
    pub(crate) fn hold_back(
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
    pub(crate) fn malformed_go_last(&mut self, malformed: &mut Vec<MalformedEvent>) {
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
