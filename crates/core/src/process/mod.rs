//! One Lambda event, decoded, parsed, enriched and built into records:
//! the stages of this crate strung together, without delivery.
//!
//! The binary's pipeline calls [`Processor`] and hands the records to the
//! sinks; tests, benchmarks and fuzz targets call it directly. A payload too
//! big to hold whole is processed in parts ([`Processor::process_chunk`]),
//! with [`carry::DocCarry`] holding what crosses a part boundary.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::Instant;

use serde::Serialize;

use crate::enhanced_monitoring;
use crate::enrich::engine::EngineMemory;
use crate::enrich::rds_events::Catalog;
use crate::enrich::{rds_event, resource};
use crate::failure::{Failure, PROCESSING_DEADLINE};
use crate::input::stream::DocChunk;
use crate::input::{self, Content, EventKind, InputError, LogDocument, LogGroupCreated, Origin};
use crate::metric::MetricPoint;
use crate::parse::{Entry, Registry};
use crate::query_metrics;
use crate::record::{keys, Attributes, Record, RecordSet, Value};
use crate::severity::Severity;
use crate::source::SourceInfo;
use crate::sql::Redactor;
use crate::time;

pub mod carry;

pub use crate::input::cloudwatch::MAX_EVENT_MESSAGE_BYTES;
use carry::DocCarry;
pub use carry::StreamOptions;

/// What processing needs of the configuration.
#[derive(Debug, Clone)]
pub struct ProcessSettings {
    /// Upper bound on one payload's decompressed size.
    pub max_decompressed_bytes: usize,
    /// The function's region, for resources and RDS events that lack one.
    pub region: Option<String>,
    /// Built-in redaction rules plus the user's validated patterns.
    pub redactor: Redactor,
    /// RDS Enhanced Monitoring documents as metric points (`RDSF_METRICS`).
    pub enhanced_monitoring: enhanced_monitoring::Options,
}

impl Default for ProcessSettings {
    fn default() -> Self {
        ProcessSettings {
            max_decompressed_bytes: input::DEFAULT_MAX_DECOMPRESSED_BYTES,
            region: None,
            redactor: Redactor::builtin(),
            enhanced_monitoring: enhanced_monitoring::Options::default(),
        }
    }
}

/// Counts for one or more invocations; the handler's reply and `replay`'s
/// summary.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Stats {
    /// CloudWatch log events read (control messages excluded).
    pub log_events: usize,
    /// EventBridge RDS events read.
    pub rds_events: usize,
    /// Records produced.
    pub records: usize,
    /// Records delivered to every sink.
    pub delivered: usize,
    /// CloudWatch reachability checks, skipped on purpose.
    pub control_messages_skipped: usize,
    /// Log events whose JSON was unreadable, forwarded raw with a marker.
    pub malformed_events: usize,
    /// Records no parser rule matched, forwarded with `rds.parse.error`.
    pub parse_errors: usize,
    /// Metric points produced, and delivered to every sink that takes
    /// metrics (left out of the summary while none are).
    #[serde(skip_serializing_if = "is_zero")]
    pub metric_points: usize,
    #[serde(skip_serializing_if = "is_zero")]
    pub metric_points_delivered: usize,
    /// What could not be decoded or delivered, by reason.
    pub failures: BTreeMap<String, usize>,
    /// Self-monitoring only (not in Lambda's reply, which stays as it was):
    /// records in which a secret was masked.
    #[serde(skip)]
    pub redactions: usize,
    /// The newest record timestamp (Unix ns): the invocation's lag is
    /// measured against it.
    #[serde(skip)]
    pub newest_timestamp_ns: Option<i64>,
    /// Records produced, by `aws.rds.log_type` of their resource.
    #[serde(skip)]
    pub records_by_log_type: BTreeMap<String, usize>,
    /// What each sink took, by sink name.
    #[serde(skip)]
    pub sinks: BTreeMap<String, SinkStats>,
}

/// What one sink did with an invocation's items (self-monitoring).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SinkStats {
    pub records_delivered: usize,
    pub points_delivered: usize,
    /// Attempts after the first, over all batches.
    pub retries: usize,
    /// Wall time from the start of delivery to the sink's last batch's end
    /// (ms); summed when several deliveries add up (records, then points,
    /// one after the other).
    pub duration_ms: u64,
}

impl SinkStats {
    pub fn add(&mut self, other: &SinkStats) {
        self.records_delivered += other.records_delivered;
        self.points_delivered += other.points_delivered;
        self.retries += other.retries;
        self.duration_ms += other.duration_ms;
    }
}

impl Stats {
    pub fn failed(&self) -> bool {
        !self.failures.is_empty()
    }

    pub fn add(&mut self, other: &Stats) {
        self.log_events += other.log_events;
        self.rds_events += other.rds_events;
        self.records += other.records;
        self.delivered += other.delivered;
        self.control_messages_skipped += other.control_messages_skipped;
        self.malformed_events += other.malformed_events;
        self.parse_errors += other.parse_errors;
        self.metric_points += other.metric_points;
        self.metric_points_delivered += other.metric_points_delivered;
        for (k, v) in &other.failures {
            *self.failures.entry(k.clone()).or_default() += v;
        }
        self.redactions += other.redactions;
        self.newest_timestamp_ns = self.newest_timestamp_ns.max(other.newest_timestamp_ns);
        for (k, v) in &other.records_by_log_type {
            *self.records_by_log_type.entry(k.clone()).or_default() += v;
        }
        for (k, v) in &other.sinks {
            self.sinks.entry(k.clone()).or_default().add(v);
        }
    }

    /// Counts one failure of `reason`.
    pub fn fail(&mut self, reason: &str) {
        *self.failures.entry(reason.to_owned()).or_default() += 1;
    }
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

/// The result of decoding and parsing one event, before delivery.
#[derive(Debug, Default)]
pub struct Processed {
    pub kind: Option<EventKind>,
    /// The records, with their resources as runs.
    pub records: RecordSet,
    /// Metric points produced beside the records (the metrics signal).
    pub metrics: Vec<MetricPoint>,
    pub stats: Stats,
    pub failures: Vec<Failure>,
    /// Log events forwarded raw because their JSON was bad: (id, reason).
    pub malformed: Vec<(Option<String>, String)>,
    /// Which records each input unit produced (`records[range]`), so a
    /// delivery failure maps back to its Kinesis record.
    pub units: Vec<(Origin, Range<usize>)>,
    /// New log groups announced by CloudTrail; the Lambda handler subscribes them.
    pub log_groups_created: Vec<LogGroupCreated>,
    /// When processing must stop (the invocation's deadline); `None` for
    /// [`Processor::process`], which tests and tools call without one.
    deadline: Option<Instant>,
    /// Processing stopped at the deadline: the records are incomplete.
    out_of_time: bool,
    /// Query metrics being summed (`RDSF_METRICS=queries`); they become
    /// points in `metrics` when the event (or streamed document) is done.
    queries: Option<Box<query_metrics::Aggregator>>,
}

impl Processed {
    /// An empty result that stops processing at `deadline`.
    pub fn until(deadline: Instant) -> Processed {
        Processed {
            deadline: Some(deadline),
            ..Processed::default()
        }
    }

    /// Whether the deadline has passed (checked every few events: a clock
    /// read is cheap, but not free per event). Once true, stays true.
    pub fn time_is_up(&mut self) -> bool {
        if !self.out_of_time && self.deadline.is_some_and(|d| Instant::now() >= d) {
            self.out_of_time = true;
        }
        self.out_of_time
    }

    /// Whether processing stopped at the deadline (the records are incomplete).
    pub fn out_of_time(&self) -> bool {
        self.out_of_time
    }

    /// Records the stop as a retryable failure: Lambda retries the event
    /// instead of killing an invocation that answers after its timeout.
    pub fn fail_out_of_time(&mut self, what: &str) {
        self.stats.fail(PROCESSING_DEADLINE);
        self.failures.push(Failure::deadline(what));
    }
}

/// The stateless parts of processing, built once per process.
pub struct Processor {
    settings: ProcessSettings,
    parsers: Registry,
    stream: StreamOptions,
    /// The engine each log group's content named, for batches that cannot tell.
    engines: EngineMemory,
}

impl Processor {
    pub fn new(settings: ProcessSettings) -> Self {
        Processor {
            settings,
            parsers: Registry::builtin(),
            stream: StreamOptions::default(),
            engines: EngineMemory::default(),
        }
    }

    /// Replaces when and how big CloudWatch payloads are streamed (tests
    /// force tiny chunks with it).
    pub fn with_stream_options(mut self, stream: StreamOptions) -> Self {
        self.stream = stream;
        self
    }

    pub fn settings(&self) -> &ProcessSettings {
        &self.settings
    }

    pub fn stream_options(&self) -> &StreamOptions {
        &self.stream
    }

    /// How far the whole path inflates data whose gzip trailer promised to
    /// fit the stream threshold: only that far, so a trailer that lies cannot
    /// make it hold up to the configured limit (~9 bytes of memory per byte
    /// of JSON); data that goes further is streamed instead.
    pub fn whole_path_limit(&self) -> usize {
        self.settings
            .max_decompressed_bytes
            .min(self.stream.threshold_bytes)
    }

    /// Decodes and parses one Lambda event into records. Never fails as a
    /// whole: what cannot be read is counted and listed in `failures`.
    pub fn process(&self, event: &[u8], observed_ns: i64) -> Processed {
        let decoded = input::decode(event, self.settings.max_decompressed_bytes);
        self.process_decoded(decoded, observed_ns)
    }

    fn process_decoded(
        &self,
        decoded: Result<input::Decoded, input::InputError>,
        observed_ns: i64,
    ) -> Processed {
        self.process_decoded_into(decoded, observed_ns, Processed::default())
    }

    /// [`Processor::process`] for an event already decoded, into `out`
    /// (which may carry a deadline: [`Processed::until`]).
    pub fn process_decoded_into(
        &self,
        decoded: Result<input::Decoded, input::InputError>,
        observed_ns: i64,
        mut out: Processed,
    ) -> Processed {
        let decoded = match decoded {
            Ok(d) => d,
            Err(e) => {
                out.stats.fail(e.reason());
                out.failures.push(Failure::input(e, None));
                return out;
            }
        };
        out.kind = Some(decoded.kind);
        for unit in decoded.units {
            if out.time_is_up() {
                // Not processed: still listed, so a Kinesis reply names it.
                let at = out.records.len();
                out.units.push((unit.origin, at..at));
                continue;
            }
            let first_record = out.records.len();
            let seq = match &unit.origin {
                Origin::Whole => None,
                Origin::KinesisRecord { sequence_number } => Some(sequence_number.clone()),
            };
            match unit.content {
                Ok(Content::Logs(docs)) => {
                    for doc in docs {
                        self.process_document(doc, observed_ns, &mut out);
                    }
                }
                Ok(Content::RdsEvent(event)) => {
                    out.stats.rds_events += 1;
                    let (resource, record) = rds_event::record(
                        &event,
                        // Parsed on the first RDS event, not at start-up: a
                        // function that only forwards logs never pays its
                        // ~1.8 M instructions of CSV (cold start).
                        Catalog::builtin(),
                        self.settings.region.as_deref(),
                        &self.settings.redactor,
                        observed_ns,
                    );
                    out.records.push(&resource, record);
                }
                Ok(Content::LogGroupCreated(created)) => out.log_groups_created.push(created),
                Err(e) => {
                    out.stats.fail(e.reason());
                    out.failures.push(Failure::input(e, seq));
                }
            }
            out.units
                .push((unit.origin, first_record..out.records.len()));
        }
        self.finish_query_metrics(&mut out);
        count_records(&mut out);
        out
    }

    /// Turns the summed query metrics into points (top N per resource).
    fn finish_query_metrics(&self, out: &mut Processed) {
        if let Some(agg) = out.queries.take() {
            out.metrics
                .extend(agg.points(self.settings.enhanced_monitoring.query_top));
        }
    }

    /// Processes one chunk; `carry` follows the document across chunks.
    pub fn process_chunk(
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
            // The document's sums follow it across parts.
            out.queries = c.queries.take();
            self.process_part(chunk.doc, c, observed_ns, out);
            if chunk.last {
                self.finish_query_metrics(out);
            } else {
                c.queries = out.queries.take();
            }
        }
        if chunk.last {
            *carry = None;
        }
    }

    /// The streamed path without delivery, all records collected: what
    /// [`Processor::process`] gives, for the payloads this processor's
    /// [`StreamOptions`] stream (`None` for any other event). For tests and
    /// comparisons: it keeps every record, so it is not bounded.
    pub fn process_streamed(&self, event: &[u8], observed_ns: i64) -> Option<Processed> {
        let limit = self.settings.max_decompressed_bytes;
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

    fn process_document(&self, doc: LogDocument, observed_ns: i64, out: &mut Processed) {
        self.process_part(doc, &mut DocCarry::whole(), observed_ns, out);
    }

    /// One document, or one chunk of a streamed one: `carry` holds what
    /// crosses chunk boundaries (entries a later join may still extend, the
    /// parser and `db.system.name` chosen for the document, malformed events
    /// that go last); for a whole document it holds nothing back.
    fn process_part(
        &self,
        mut doc: LogDocument,
        carry: &mut DocCarry,
        observed_ns: i64,
        out: &mut Processed,
    ) {
        if doc.is_control_message() {
            out.stats.control_messages_skipped += 1;
            return;
        }
        out.stats.log_events += doc.events.len() + doc.malformed.len();
        let source = SourceInfo::from_log_group(&doc.log_group);
        if self.settings.enhanced_monitoring.os && enhanced_monitoring::is_log_group(&doc.log_group)
        {
            // Metric points, not records; what is not a document becomes a
            // record below with the malformed events, if any.
            if !self.process_os_metrics(&mut doc, &source, observed_ns, out)
                || doc.malformed.is_empty()
            {
                return;
            }
        }
        let parser = *carry.parser.get_or_insert_with(|| {
            self.parsers
                .for_batch(&source, doc.events.iter().map(|e| e.message.as_str()))
        });

        // Room for the entries held back from the last chunk too: without
        // it the list outgrew its room on a chunk's last events and was
        // copied whole (~770,000 instructions a 4,096-event chunk).
        let mut entries: Vec<Entry> = Vec::with_capacity(carry.held() + doc.events.len());
        // Extracted fields follow their event id through any joining.
        let mut extracted_by_id: Vec<(String, Vec<(String, String)>)> = Vec::new();
        carry.resume(&mut entries, &mut extracted_by_id);
        for (n, mut ev) in std::mem::take(&mut doc.events).into_iter().enumerate() {
            if n % 64 == 0 && out.time_is_up() {
                return;
            }
            let truncated_from = cap_message(&mut ev.message).or(ev.cut_from);
            if !ev.extracted_fields.is_empty() {
                extracted_by_id.push((ev.id.clone(), ev.extracted_fields));
            }
            if let Some(parts) = parser.split(&ev.message).filter(|p| p.len() > 1) {
                // Several entries in one event: one record each, all naming
                // the event; `part` keeps their record ids apart.
                for (k, part) in parts.iter().enumerate() {
                    entries.push(Entry {
                        event_ids: smallvec::smallvec![ev.id.clone()],
                        cloudwatch_timestamp_ms: ev.timestamp_ms,
                        body: (*part).to_owned(),
                        parsed: mark_truncated(parser.parse(part), truncated_from),
                        part: Some(u32::try_from(k + 1).unwrap_or(u32::MAX)),
                    });
                }
                continue;
            }
            let parsed = mark_truncated(parser.parse(&ev.message), truncated_from);
            entries.push(Entry {
                event_ids: smallvec::smallvec![ev.id],
                cloudwatch_timestamp_ms: ev.timestamp_ms,
                body: ev.message,
                parsed,
                part: None,
            });
        }
        let mut entries = parser.join(entries);
        carry.hold_back(&mut entries, &mut extracted_by_id);
        for (n, entry) in entries.iter_mut().enumerate() {
            if n % 64 == 0 && out.time_is_up() {
                return;
            }
            if crate::sql::enrich_entry(entry, &self.settings.redactor) {
                out.stats.redactions += 1;
            }
        }

        let db_system = self
            .engines
            .db_system(&doc.log_group, &source, carry.db_system);
        let resource = resource::for_log(&doc, &source, db_system, self.settings.region.as_deref());

        out.records.reserve(entries.len() + doc.malformed.len());
        let first_record = out.records.len();
        // The pipeline's keys of each record, built here and then moved in
        // ahead of the parser's (whose list becomes the record's).
        let mut attrs = Attributes::with_capacity(4);
        let mut extracted_index: std::collections::HashMap<&str, Vec<usize>> =
            std::collections::HashMap::with_capacity(extracted_by_id.len());
        for (i, (id, _)) in extracted_by_id.iter().enumerate() {
            extracted_index.entry(id.as_str()).or_default().push(i);
        }
        let mut extracted_at: Vec<usize> = Vec::new();
        for mut entry in entries {
            // The scratch list is empty here (moved out below) and each key
            // is written once: no key scan.
            attrs.push_new(keys::CW_EVENT_ID, entry.event_ids[0].clone());
            if entry.event_ids.len() > 1 {
                attrs.push_new(
                    keys::CW_EVENT_IDS,
                    Value::Array(
                        entry
                            .event_ids
                            .iter()
                            .map(|id| Value::from(id.as_str()))
                            .collect(),
                    ),
                );
            }
            if let Some(part) = entry.part {
                attrs.push_new(keys::CW_EVENT_PART, i64::from(part));
            }
            attrs.push_new(keys::PARSER, parser.name());
            if let Some(policy) = &doc.policy_level {
                attrs.push_new(keys::CW_POLICY_LEVEL, policy.as_str());
            }
            // The fields of this entry's events, in the order the events
            // came (the list's order), found through the index: a scan of
            // the whole list per entry was quadratic in the events.
            // Most documents carry none: then nothing is looked up or
            // inserted (an empty `insert_all` still cost ~50 a record).
            if !extracted_index.is_empty() {
                extracted_at.clear();
                for id in &entry.event_ids {
                    if let Some(at) = extracted_index.get(id.as_str()) {
                        extracted_at.extend_from_slice(at);
                    }
                }
                extracted_at.sort_unstable();
                extracted_at.dedup();
                // Linear in the fields however many one event has (one insert
                // per field scanned them all: quadratic).
                attrs.insert_all(extracted_at.iter().flat_map(|&i| {
                    extracted_by_id[i].1.iter().map(|(k, v)| {
                        (
                            format!("{}{k}", keys::CW_EXTRACTED_FIELDS_PREFIX),
                            Value::from(self.settings.redactor.redact(v).as_ref()),
                        )
                    })
                }));
            }
            // The pipeline's keys go first: the scratch list that holds them
            // becomes the record's, the parser's pairs are moved in behind
            // them, and the parser's emptied list (its capacity kept) is the
            // next record's scratch. Rotating our few pairs to the front of
            // the parser's list instead cost ~220 instructions a record
            // (callgrind: `rotate_right` of 56-byte pairs juggles them one
            // by one); the allocations are the same.
            let mut record_attrs = std::mem::replace(&mut attrs, entry.parsed.attributes);
            record_attrs.move_in_disjoint(&mut attrs);
            if let Some(reason) = entry.parsed.error {
                record_attrs.insert(keys::PARSE_ERROR, reason);
                out.stats.parse_errors += 1;
            }
            out.records.push(
                &resource,
                Record {
                    timestamp_ns: entry
                        .parsed
                        .timestamp_ns
                        .unwrap_or_else(|| time::ms_to_ns(entry.cloudwatch_timestamp_ms)),
                    observed_timestamp_ns: observed_ns,
                    severity: entry.parsed.severity.unwrap_or_default(),
                    body: entry.body,
                    attributes: record_attrs,
                    // The last use of the ids: moved, not copied. The parts of
                    // one event are told apart by `<event id>.<part>`.
                    id: match entry.part {
                        None => std::mem::take(&mut entry.event_ids[0]),
                        Some(part) => format!("{}.{part}", entry.event_ids[0]),
                    },
                },
            );
        }

        if self.settings.enhanced_monitoring.queries {
            out.queries
                .get_or_insert_with(Box::default)
                .observe_all(&resource, &out.records[first_record..]);
        }

        carry.malformed_go_last(&mut doc.malformed);
        for mut bad in std::mem::take(&mut doc.malformed) {
            out.stats.malformed_events += 1;
            let mut attrs = Attributes::with_capacity(4);
            if let Some(id) = &bad.id {
                attrs.insert(keys::CW_EVENT_ID, id.as_str());
            }
            // The raw event is bounded like a message (redacted after the cut).
            if let Some(n) = cap_message(&mut bad.raw) {
                attrs.insert(
                    keys::MESSAGE_TRUNCATED_FROM,
                    i64::try_from(n).unwrap_or(i64::MAX),
                );
            }
            attrs.insert(keys::PARSER, "none");
            // The decoder's words may quote the event's own text.
            let detail = self.settings.redactor.redact(&bad.detail).into_owned();
            attrs.insert(
                keys::PARSE_ERROR,
                format!("malformed CloudWatch log event: {detail}"),
            );
            out.stats.parse_errors += 1;
            out.malformed.push((bad.id.clone(), detail));
            out.records.push(
                &resource,
                Record {
                    // No database time is readable; the receive time is the best
                    // there is, and the parse-error marker says so.
                    timestamp_ns: observed_ns,
                    observed_timestamp_ns: observed_ns,
                    severity: Severity::info(),
                    body: self.settings.redactor.redact(&bad.raw).into_owned(),
                    attributes: attrs,
                    id: bad.id.unwrap_or_default(),
                },
            );
        }
    }
}

impl Processor {
    /// The events of an `RDSOSMetrics` document (RDS Enhanced Monitoring):
    /// each a JSON document whose numbers become metric points; an event
    /// that is not one becomes a record with the `rds.parse.error` marker.
    /// Takes the events out of `doc`; `false` when time ran out.
    fn process_os_metrics(
        &self,
        doc: &mut LogDocument,
        source: &SourceInfo,
        observed_ns: i64,
        out: &mut Processed,
    ) -> bool {
        let options = self.settings.enhanced_monitoring;
        let region = self.settings.region.as_deref();
        let mut record_resource = None;
        for (n, mut ev) in std::mem::take(&mut doc.events).into_iter().enumerate() {
            if n % 64 == 0 && out.time_is_up() {
                return false;
            }
            let truncated_from = cap_message(&mut ev.message).or(ev.cut_from);
            let reason = match enhanced_monitoring::parse(&ev.message) {
                Ok(em) if truncated_from.is_none() => {
                    let resource =
                        enhanced_monitoring::resource(&doc.owner, &doc.log_stream, &em, region);
                    out.metrics.extend(enhanced_monitoring::points(
                        &em,
                        &resource,
                        options.top_processes,
                    ));
                    continue;
                }
                Ok(_) => "the event was cut to the CloudWatch Logs limit".to_owned(),
                Err(reason) => reason,
            };
            let resource = record_resource
                .get_or_insert_with(|| resource::for_log(doc, source, None, region))
                .clone();
            let mut attrs = Attributes::with_capacity(4);
            attrs.insert(keys::CW_EVENT_ID, ev.id.as_str());
            if let Some(n) = truncated_from {
                attrs.insert(
                    keys::MESSAGE_TRUNCATED_FROM,
                    i64::try_from(n).unwrap_or(i64::MAX),
                );
            }
            attrs.insert(keys::PARSER, enhanced_monitoring::PARSER_NAME);
            let detail = self.settings.redactor.redact(&reason).into_owned();
            attrs.insert(
                keys::PARSE_ERROR,
                format!("not an Enhanced Monitoring document: {detail}"),
            );
            out.stats.parse_errors += 1;
            out.records.push(
                &resource,
                Record {
                    timestamp_ns: time::ms_to_ns(ev.timestamp_ms),
                    observed_timestamp_ns: observed_ns,
                    severity: Severity::info(),
                    body: self.settings.redactor.redact(&ev.message).into_owned(),
                    attributes: attrs,
                    id: ev.id,
                },
            );
        }
        true
    }
}

/// Cuts `message` to [`MAX_EVENT_MESSAGE_BYTES`] and frees the rest; the
/// original length when it was longer.
fn cap_message(message: &mut String) -> Option<usize> {
    if message.len() <= MAX_EVENT_MESSAGE_BYTES {
        return None;
    }
    let original = message.len();
    let mut end = MAX_EVENT_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    message.truncate(end);
    message.shrink_to_fit();
    Some(original)
}

/// Adds `rds.message.truncated_from` (the original length) to an entry cut by
/// [`cap_message`]; it travels with the entry through joins.
fn mark_truncated(mut parsed: crate::parse::Parsed, from: Option<usize>) -> crate::parse::Parsed {
    if let Some(n) = from {
        parsed.attributes.insert(
            keys::MESSAGE_TRUNCATED_FROM,
            i64::try_from(n).unwrap_or(i64::MAX),
        );
    }
    parsed
}

/// The record count [`Processor::process`] reports. Parse errors are
/// counted where the marker is written (`process_part`), not by scanning
/// every record's attributes again; debug builds (the tests) check that the
/// two agree.
pub fn count_records(out: &mut Processed) {
    out.stats.records = out.records.len();
    // A record stamped with its receive time (no database time was readable)
    // says nothing of the lag: left out.
    out.stats.newest_timestamp_ns = out
        .records
        .iter()
        .filter(|r| r.timestamp_ns != r.observed_timestamp_ns)
        .map(|r| r.timestamp_ns)
        .max();
    out.stats.records_by_log_type.clear();
    for group in out.records.all_groups() {
        let log_type = group
            .resource
            .get_str(keys::RDS_LOG_TYPE)
            .unwrap_or("none")
            .to_owned();
        *out.stats.records_by_log_type.entry(log_type).or_default() += group.records.len();
    }
    debug_assert_eq!(
        out.stats.parse_errors,
        out.records
            .iter()
            .filter(|r| r.attributes.get(keys::PARSE_ERROR).is_some())
            .count(),
        "parse errors counted where they are marked"
    );
}

fn record_input_failure(stats: &mut Stats, failures: &mut Vec<Failure>, e: InputError) {
    stats.fail(e.reason());
    failures.push(Failure::input(e, None));
}

#[cfg(test)]
mod self_monitoring_tests {
    use super::*;
    use std::sync::Arc;

    fn record(timestamp_ns: i64, observed_ns: i64) -> Record {
        Record {
            timestamp_ns,
            observed_timestamp_ns: observed_ns,
            severity: Severity::info(),
            body: String::new(),
            attributes: Attributes::new(),
            id: String::new(),
        }
    }

    /// Lag is measured from database time: a record that only has its
    /// receive time (a malformed event) does not hide a late batch.
    #[test]
    fn the_newest_timestamp_ignores_records_stamped_with_their_receive_time() {
        let mut resource = Attributes::new();
        resource.insert(keys::RDS_LOG_TYPE, "error");
        let resource = Arc::new(resource);
        let mut out = Processed::default();
        out.records.push(&resource, record(1_000, 9_000));
        out.records.push(&resource, record(9_000, 9_000));
        out.records.push(&resource, record(2_000, 9_000));
        count_records(&mut out);
        assert_eq!(out.stats.newest_timestamp_ns, Some(2_000));
        assert_eq!(
            out.stats.records_by_log_type,
            BTreeMap::from([("error".to_owned(), 3)])
        );
    }
}
