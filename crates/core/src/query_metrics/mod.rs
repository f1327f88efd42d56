//! Query metrics from the logs (`RDSF_METRICS=queries`): the parsed records
//! of a batch summed per resource, per minute of the database's own time
//! and per query fingerprint, plus errors, connections and PostgreSQL
//! checkpoint / autovacuum durations, as delta metric points.
//!
//! One pass, linear in the records: [`Aggregator::observe`] reads each
//! record's attributes once into sorted maps (deterministic output); the
//! state is one entry per distinct minute and fingerprint, at most
//! [`MAX_TRACKED`] of them (a streamed document of 64 MiB of distinct
//! statements must not grow it without end): past that, a new fingerprint
//! goes straight to the `other` series. [`Aggregator::points`] keeps
//! the `top` fingerprints of each resource by count over the whole batch
//! and sums every other one into one `other` series per minute, so a batch
//! of N distinct statements cannot send N series; error codes are bounded
//! the same way. Every name and attribute is in `docs/schema.md`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use crate::metric::{Kind, MetricPoint, Number, Temporality};
use crate::record::{keys, Attributes, CompactString, Record, Resource, Value};
use crate::severity::{self, Severity};

mod classify;
#[cfg(test)]
mod tests;

use classify::{classify, Observed};

/// Upper bounds (seconds, inclusive) of the duration histograms' buckets:
/// OTel's advice for `db.client.operation.duration` (1 ms … 10 s) widened
/// to 5 minutes, because slow logs and maintenance are where long ones are.
pub const DURATION_BOUNDS_S: [f64; 12] = [
    0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0,
];

/// The fingerprint id of the series that sums what the top N left out.
pub const OTHER: &str = "other";

/// Distinct (resource, minute, fingerprint) entries tracked per batch; the
/// ranking is exact below it (~5 MB of state at most).
pub const MAX_TRACKED: usize = 10_000;

/// How long a fingerprint's text may be on a point (bytes, cut at a
/// character boundary): the id names the series, the text only shows it,
/// and every point of the series carries it.
pub const MAX_FINGERPRINT_TEXT: usize = 256;

/// Metric names (documented in `docs/schema.md`).
pub mod names {
    pub const QUERY_COUNT: &str = "aws.rds.query.count";
    pub const QUERY_DURATION: &str = "aws.rds.query.duration";
    pub const QUERY_ROWS_SENT: &str = "aws.rds.query.rows_sent";
    pub const QUERY_ROWS_EXAMINED: &str = "aws.rds.query.rows_examined";
    pub const QUERY_LOCK_TIME: &str = "aws.rds.query.lock_time";
    pub const LOG_ERRORS: &str = "aws.rds.log.errors";
    pub const CONNECTION_EVENTS: &str = "aws.rds.connection.events";
    pub const CHECKPOINT_DURATION: &str = "aws.rds.postgresql.checkpoint.duration";
    pub const AUTOVACUUM_DURATION: &str = "aws.rds.postgresql.autovacuum.duration";
}

const NS_PER_MINUTE: i64 = 60_000_000_000;

/// A distribution over [`DURATION_BOUNDS_S`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    buckets: [u64; DURATION_BOUNDS_S.len() + 1],
}

impl Histogram {
    /// Adds one value (seconds); a negative or non-finite one is no
    /// duration and is left out (`false`).
    pub fn observe(&mut self, seconds: f64) -> bool {
        if !seconds.is_finite() || seconds < 0.0 {
            return false;
        }
        if self.count == 0 {
            self.min = seconds;
            self.max = seconds;
        } else {
            self.min = self.min.min(seconds);
            self.max = self.max.max(seconds);
        }
        self.count += 1;
        self.sum += seconds;
        // OTel buckets include their upper bound: the first bound ≥ v.
        self.buckets[DURATION_BOUNDS_S.partition_point(|b| *b < seconds)] += 1;
        true
    }

    fn merge(&mut self, other: &Histogram) {
        if other.count == 0 {
            return;
        }
        if self.count == 0 {
            self.min = other.min;
            self.max = other.max;
        } else {
            self.min = self.min.min(other.min);
            self.max = self.max.max(other.max);
        }
        self.count += other.count;
        self.sum += other.sum;
        for (a, b) in self.buckets.iter_mut().zip(other.buckets) {
            *a += b;
        }
    }

    fn kind(&self) -> Kind {
        Kind::Histogram {
            count: self.count,
            sum: self.sum,
            min: (self.count > 0).then_some(self.min),
            max: (self.count > 0).then_some(self.max),
            bounds: DURATION_BOUNDS_S.to_vec(),
            bucket_counts: self.buckets.to_vec(),
            temporality: Temporality::Delta,
        }
    }
}

/// One fingerprint's sums for one minute.
#[derive(Debug, Clone, Default, PartialEq)]
struct QueryStats {
    count: u64,
    /// The fingerprint's text, cut to [`MAX_FINGERPRINT_TEXT`].
    text: Option<CompactString>,
    duration: Histogram,
    rows_sent: Option<i64>,
    rows_examined: Option<i64>,
    lock_time_s: Option<f64>,
}

impl QueryStats {
    fn merge(&mut self, other: &QueryStats) {
        self.count += other.count;
        self.duration.merge(&other.duration);
        add_opt(&mut self.rows_sent, other.rows_sent);
        add_opt(&mut self.rows_examined, other.rows_examined);
        if let Some(v) = other.lock_time_s {
            *self.lock_time_s.get_or_insert(0.0) += v;
        }
    }
}

fn add_opt(slot: &mut Option<i64>, v: Option<i64>) {
    if let Some(v) = v {
        let s = slot.get_or_insert(0);
        *s = s.saturating_add(v);
    }
}

/// What a connection-related record reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConnectionEvent {
    Connect,
    AuthFailure,
    Disconnect,
}

impl ConnectionEvent {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionEvent::Connect => "connect",
            ConnectionEvent::AuthFailure => "auth_failure",
            ConnectionEvent::Disconnect => "disconnect",
        }
    }
}

/// A query series: one fingerprint, or what the top N left out.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Series {
    Fingerprint(CompactString),
    Other,
}

/// Index into [`Aggregator::resources`], then the minute (Unix minutes).
type At = (usize, i64);

/// The batch's sums, as records are observed.
#[derive(Debug, Default)]
pub struct Aggregator {
    /// Distinct resources (by content: two documents of one log group in a
    /// Kinesis batch are two `Arc`s of equal attributes).
    resources: Vec<Resource>,
    /// [`Aggregator::resources`]' index by `Arc` address (the `Arc` kept,
    /// so its address cannot be reused by another resource), then by
    /// content (its `Debug` text): a batch of many log groups stays linear.
    by_address: HashMap<usize, (Resource, usize)>,
    by_content: HashMap<String, usize>,
    queries: BTreeMap<(At, CompactString), QueryStats>,
    /// Queries of fingerprints first seen after [`MAX_TRACKED`]: `other`.
    overflow: BTreeMap<At, QueryStats>,
    /// (status code, severity band) → count.
    errors: BTreeMap<(At, Option<CompactString>, &'static str), u64>,
    connections: BTreeMap<(At, ConnectionEvent), u64>,
    /// (metric name, `db.postgresql.event`) → durations.
    maintenance: BTreeMap<(At, &'static str, &'static str), Histogram>,
    /// Records whose duration was present but no duration (negative, not a
    /// number): counted as queries, left out of the histogram.
    pub bad_durations: u64,
}

impl Aggregator {
    pub fn new() -> Self {
        Aggregator::default()
    }

    /// Adds `records`, all of `resource`.
    pub fn observe_all(&mut self, resource: &Resource, records: &[Record]) {
        if records.is_empty() {
            return;
        }
        let r = self.resource_index(resource);
        for record in records {
            self.observe_at(r, record);
        }
    }

    /// Adds one record of `resource`.
    pub fn observe(&mut self, resource: &Resource, record: &Record) {
        let r = self.resource_index(resource);
        self.observe_at(r, record);
    }

    fn resource_index(&mut self, resource: &Resource) -> usize {
        let address = Arc::as_ptr(resource) as usize;
        if let Some((_, i)) = self.by_address.get(&address) {
            return *i;
        }
        let next = self.resources.len();
        let i = *self
            .by_content
            .entry(format!("{:?}", **resource))
            .or_insert(next);
        if i == next {
            self.resources.push(resource.clone());
        }
        self.by_address.insert(address, (resource.clone(), i));
        i
    }

    fn observe_at(&mut self, r: usize, record: &Record) {
        let seen = classify(record);
        let at = (r, record.timestamp_ns.div_euclid(NS_PER_MINUTE));
        if let Some(id) = seen.fingerprint_id {
            self.observe_query(at, id, &seen);
        }
        if let Some(band) = seen.error_band {
            let code = seen.status_code.map(CompactString::from);
            *self.errors.entry((at, code, band)).or_default() += 1;
        }
        if let Some(event) = seen.connection {
            *self.connections.entry((at, event)).or_default() += 1;
        }
        if let Some((metric, event, seconds)) = seen.maintenance {
            self.maintenance
                .entry((at, metric, event))
                .or_default()
                .observe(seconds);
        }
    }

    fn observe_query(&mut self, at: At, id: &str, seen: &Observed<'_>) {
        let key = (at, CompactString::from(id));
        let tracked = self.queries.len() < MAX_TRACKED || self.queries.contains_key(&key);
        let stats = match self.queries.get_mut(&key) {
            Some(s) => s,
            None if !tracked => self.overflow.entry(at).or_default(),
            None => self
                .queries
                .entry((at, CompactString::from(id)))
                .or_insert_with(|| QueryStats {
                    text: seen.fingerprint.map(cut_text),
                    ..QueryStats::default()
                }),
        };
        stats.count += 1;
        if let Some(v) = seen.duration_ms {
            if !stats.duration.observe(v / 1000.0) {
                self.bad_durations += 1;
            }
        }
        add_opt(&mut stats.rows_sent, seen.rows_sent);
        add_opt(&mut stats.rows_examined, seen.rows_examined);
        if let Some(ms) = seen.lock_time_ms.filter(|v| v.is_finite() && *v >= 0.0) {
            *stats.lock_time_s.get_or_insert(0.0) += ms / 1000.0;
        }
    }

    /// Whether nothing was observed that makes a point.
    pub fn is_empty(&self) -> bool {
        self.queries.is_empty()
            && self.overflow.is_empty()
            && self.errors.is_empty()
            && self.connections.is_empty()
            && self.maintenance.is_empty()
    }

    /// The points of the batch, `top` fingerprints (and `top` error codes)
    /// per resource, the rest in `other` series; in a stable order
    /// (resource, minute, metric, series).
    pub fn points(self, top: usize) -> Vec<MetricPoint> {
        let mut out = Vec::new();
        let Aggregator {
            resources,
            queries,
            overflow,
            errors,
            connections,
            maintenance,
            ..
        } = self;
        let point = |at: At, name: &'static str, kind: Kind, attributes: Attributes| {
            let start = at.1.saturating_mul(NS_PER_MINUTE);
            MetricPoint {
                name: name.to_owned(),
                unit: unit_of(name),
                description: description_of(name),
                kind,
                time_ns: start.saturating_add(NS_PER_MINUTE),
                start_time_ns: Some(start),
                attributes,
                resource: resources[at.0].clone(),
            }
        };

        // Queries: the top N ids of each resource by count over the batch
        // (then total duration, then id, so the choice is stable).
        let mut totals: BTreeMap<(usize, &CompactString), (u64, f64)> = BTreeMap::new();
        for ((at, id), s) in &queries {
            let t = totals.entry((at.0, id)).or_default();
            t.0 += s.count;
            t.1 += s.duration.sum;
        }
        let kept = top_keys(totals, top);
        let mut series: BTreeMap<(At, Series), QueryStats> = BTreeMap::new();
        for ((at, id), s) in &queries {
            if kept.contains(&(at.0, id)) {
                series.insert((*at, Series::Fingerprint(id.clone())), s.clone());
            } else {
                series.entry((*at, Series::Other)).or_default().merge(s);
            }
        }
        for (at, s) in &overflow {
            series.entry((*at, Series::Other)).or_default().merge(s);
        }
        for ((at, s), stats) in series {
            let mut attrs = Attributes::with_capacity(2);
            match s {
                Series::Fingerprint(id) => {
                    attrs.insert(keys::DB_QUERY_FINGERPRINT_ID, id);
                    if let Some(text) = &stats.text {
                        attrs.insert(keys::DB_QUERY_FINGERPRINT, text.clone());
                    }
                }
                Series::Other => attrs.insert(keys::DB_QUERY_FINGERPRINT_ID, OTHER),
            }
            out.push(point(
                at,
                names::QUERY_COUNT,
                sum_int(stats.count),
                attrs.clone(),
            ));
            if stats.duration.count > 0 {
                out.push(point(
                    at,
                    names::QUERY_DURATION,
                    stats.duration.kind(),
                    attrs.clone(),
                ));
            }
            if let Some(v) = stats.rows_sent {
                out.push(point(at, names::QUERY_ROWS_SENT, sum_int(v), attrs.clone()));
            }
            if let Some(v) = stats.rows_examined {
                out.push(point(
                    at,
                    names::QUERY_ROWS_EXAMINED,
                    sum_int(v),
                    attrs.clone(),
                ));
            }
            if let Some(v) = stats.lock_time_s {
                out.push(point(at, names::QUERY_LOCK_TIME, sum_double(v), attrs));
            }
        }

        // Errors: the top N status codes of each resource, the rest `other`.
        let mut totals: BTreeMap<(usize, &CompactString), (u64, f64)> = BTreeMap::new();
        for ((at, code, _), n) in &errors {
            if let Some(code) = code {
                totals.entry((at.0, code)).or_default().0 += n;
            }
        }
        let kept = top_keys(totals, top);
        let mut bounded: BTreeMap<(At, Option<CompactString>, &'static str), u64> = BTreeMap::new();
        for ((at, code, band), n) in &errors {
            let code = match code {
                Some(c) if !kept.contains(&(at.0, c)) => Some(CompactString::from(OTHER)),
                other => other.clone(),
            };
            *bounded.entry((*at, code, band)).or_default() += n;
        }
        for ((at, code, band), n) in bounded {
            let mut attrs = Attributes::with_capacity(2);
            if let Some(code) = code {
                attrs.insert(keys::DB_RESPONSE_STATUS_CODE, code);
            }
            attrs.insert(keys::RDS_LOG_SEVERITY, band);
            out.push(point(at, names::LOG_ERRORS, sum_int(n), attrs));
        }

        for ((at, event), n) in connections {
            let mut attrs = Attributes::with_capacity(1);
            attrs.insert(keys::RDS_CONNECTION_EVENT, event.as_str());
            out.push(point(at, names::CONNECTION_EVENTS, sum_int(n), attrs));
        }
        for ((at, metric, event), h) in maintenance {
            if h.count == 0 {
                continue;
            }
            let mut attrs = Attributes::with_capacity(1);
            attrs.insert(keys::PG_EVENT, event);
            out.push(point(at, metric, h.kind(), attrs));
        }
        let rank: HashMap<usize, usize> = resources
            .iter()
            .enumerate()
            .map(|(i, r)| (Arc::as_ptr(r) as usize, i))
            .collect();
        out.sort_by_cached_key(|p| {
            let resource = rank.get(&(Arc::as_ptr(&p.resource) as usize));
            (p.start_time_ns, resource.copied().unwrap_or(usize::MAX))
        });
        out
    }
}

/// The `top` keys of each resource by (count, total) descending, then key.
fn top_keys(
    totals: BTreeMap<(usize, &CompactString), (u64, f64)>,
    top: usize,
) -> std::collections::BTreeSet<(usize, &CompactString)> {
    let mut ranked: Vec<_> = totals.into_iter().collect();
    ranked.sort_by(|((ra, ka), (ca, da)), ((rb, kb), (cb, db))| {
        ra.cmp(rb)
            .then(cb.cmp(ca))
            .then(db.total_cmp(da))
            .then(ka.cmp(kb))
    });
    let mut kept = std::collections::BTreeSet::new();
    let mut run = (usize::MAX, 0usize);
    for ((r, k), _) in ranked {
        if run.0 != r {
            run = (r, 0);
        }
        if run.1 < top {
            kept.insert((r, k));
            run.1 += 1;
        }
    }
    kept
}

fn sum_int(v: impl TryInto<i64>) -> Kind {
    Kind::Sum {
        value: Number::Int(v.try_into().unwrap_or(i64::MAX)),
        monotonic: true,
        temporality: Temporality::Delta,
    }
}

fn sum_double(v: f64) -> Kind {
    Kind::Sum {
        value: Number::Double(v),
        monotonic: true,
        temporality: Temporality::Delta,
    }
}

fn cut_text(text: &str) -> CompactString {
    let mut end = text.len().min(MAX_FINGERPRINT_TEXT);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    CompactString::from(&text[..end])
}

/// The OTel band name of a severity number, for the errors' attribute.
pub(crate) fn band(severity: &Severity) -> &'static str {
    Severity::band(severity.number)
}

/// Whether a severity counts as an error (ERROR band and above).
pub(crate) fn is_error(severity: &Severity) -> bool {
    severity.number >= severity::ERROR
}

fn unit_of(name: &str) -> &'static str {
    match name {
        names::QUERY_COUNT => "{query}",
        names::QUERY_ROWS_SENT | names::QUERY_ROWS_EXAMINED => "{row}",
        names::LOG_ERRORS => "{error}",
        names::CONNECTION_EVENTS => "{event}",
        _ => "s",
    }
}

fn description_of(name: &str) -> &'static str {
    match name {
        names::QUERY_COUNT => "Statements logged, per fingerprint and minute",
        names::QUERY_DURATION => "Logged statement durations, per fingerprint and minute",
        names::QUERY_ROWS_SENT => "Rows sent by the logged statements (slow log)",
        names::QUERY_ROWS_EXAMINED => "Rows examined by the logged statements (slow log)",
        names::QUERY_LOCK_TIME => "Lock time of the logged statements (slow log)",
        names::LOG_ERRORS => "Log entries of ERROR severity or above, or failed audit operations",
        names::CONNECTION_EVENTS => "Connections, authentication failures and disconnections",
        names::CHECKPOINT_DURATION => "PostgreSQL checkpoint and restartpoint durations",
        _ => "PostgreSQL automatic vacuum and analyze durations",
    }
}

/// A number attribute as a double (ints widen), for durations.
fn as_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Double(d) => Some(*d),
        Value::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}
