//! Self-monitoring: what each invocation did, as one set of counters
//! ([`Tally`]) shown three ways — CloudWatch embedded metric format lines on
//! stdout under Lambda ([`emf`]), metric points to the sinks that take
//! metrics ([`points`]), and Prometheus text on `serve`'s `/metrics`
//! ([`Tally::prometheus`]). Every metric is listed once, in [`DEFS`], and
//! documented in `docs/schema.md` ("Self-monitoring").
//!
//! Users of every log shipper lose logs without knowing; these counters say
//! what came in, what went out, and what did not, by reason.

use std::collections::BTreeMap;

use rdsf_core::failure::Failure;
use rdsf_core::process::{SinkStats, Stats};

pub mod defs;
pub mod emf;
mod monitor;
pub mod points;
pub mod settings;

use defs::*;
pub use defs::{Def, Split, DEFS};
pub use monitor::{Invocation, Monitor};
pub use settings::{Outputs, SelfMetricsConfig, SelfMetricsSettings};

/// One value of one metric, with the split value it is for.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub def: &'static Def,
    pub split: Option<String>,
    pub value: f64,
}

/// What one invocation did (or, added up, what every invocation since
/// start did: `serve`'s `/metrics`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tally {
    pub events_in: u64,
    pub bytes_in: u64,
    pub records_by_log_type: BTreeMap<String, u64>,
    pub records_undelivered: u64,
    pub points_out: u64,
    pub points_undelivered: u64,
    pub sinks: BTreeMap<String, SinkStats>,
    pub failed: BTreeMap<String, u64>,
    pub dropped: BTreeMap<String, u64>,
    pub parse_errors: u64,
    pub redactions: u64,
    /// `None` when the invocation produced no record.
    pub lag_ms: Option<i64>,
    /// `None` while no RDS metadata cache exists (nothing is made up).
    pub metadata_cache_hits: Option<u64>,
    /// `None` unless self-monitoring goes to the sinks.
    pub self_undelivered: Option<u64>,
}

impl Tally {
    /// The counters of one invocation: its stats, its failures (which
    /// decide failed vs dropped), the bytes it received and when it started.
    pub fn of(stats: &Stats, failures: &[Failure], bytes_in: usize, started_ns: i64) -> Tally {
        let mut failed = BTreeMap::new();
        let mut dropped = BTreeMap::new();
        for (reason, n) in &stats.failures {
            let retryable = failures
                .iter()
                .any(|f| f.reason == reason.as_str() && f.retryable());
            let into = if retryable { &mut failed } else { &mut dropped };
            into.insert(reason.clone(), *n as u64);
        }
        Tally {
            events_in: (stats.log_events + stats.rds_events) as u64,
            bytes_in: bytes_in as u64,
            records_by_log_type: stats
                .records_by_log_type
                .iter()
                .map(|(k, v)| (k.clone(), *v as u64))
                .collect(),
            records_undelivered: stats.records.saturating_sub(stats.delivered) as u64,
            points_out: stats.metric_points as u64,
            points_undelivered: stats
                .metric_points
                .saturating_sub(stats.metric_points_delivered)
                as u64,
            sinks: stats.sinks.clone(),
            failed,
            dropped,
            parse_errors: stats.parse_errors as u64,
            redactions: stats.redactions as u64,
            // A record stamped after the start (a clock ahead) is no lag.
            lag_ms: stats
                .newest_timestamp_ns
                .map(|newest| (started_ns.saturating_sub(newest) / 1_000_000).max(0)),
            metadata_cache_hits: None,
            self_undelivered: None,
        }
    }

    /// Adds `other` (a later invocation) to the running totals: counters
    /// add up, gauges (lag, sink latency) take the later value.
    pub fn add(&mut self, other: &Tally) {
        fn add_map(into: &mut BTreeMap<String, u64>, from: &BTreeMap<String, u64>) {
            for (k, v) in from {
                *into.entry(k.clone()).or_default() += v;
            }
        }
        self.events_in += other.events_in;
        self.bytes_in += other.bytes_in;
        add_map(&mut self.records_by_log_type, &other.records_by_log_type);
        self.records_undelivered += other.records_undelivered;
        self.points_out += other.points_out;
        self.points_undelivered += other.points_undelivered;
        for (k, v) in &other.sinks {
            let s = self.sinks.entry(k.clone()).or_default();
            s.records_delivered += v.records_delivered;
            s.points_delivered += v.points_delivered;
            s.retries += v.retries;
            s.duration_ms = v.duration_ms;
        }
        add_map(&mut self.failed, &other.failed);
        add_map(&mut self.dropped, &other.dropped);
        self.parse_errors += other.parse_errors;
        self.redactions += other.redactions;
        self.lag_ms = other.lag_ms.or(self.lag_ms);
        let sum = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (None, None) => None,
            (a, b) => Some(a.unwrap_or(0) + b.unwrap_or(0)),
        };
        self.metadata_cache_hits = sum(self.metadata_cache_hits, other.metadata_cache_hits);
        self.self_undelivered = sum(self.self_undelivered, other.self_undelivered);
    }

    /// Every value, in [`DEFS`] order; split metrics once per split value,
    /// optional ones only when they are known.
    pub fn values(&self) -> Vec<Value> {
        let mut out = Vec::new();
        let mut one = |def: &'static Def, split: Option<&str>, value: f64| {
            out.push(Value {
                def,
                split: split.map(str::to_owned),
                value,
            })
        };
        one(&EVENTS_IN, None, self.events_in as f64);
        one(&BYTES_IN, None, self.bytes_in as f64);
        for (t, n) in &self.records_by_log_type {
            one(&RECORDS_OUT, Some(t), *n as f64);
        }
        one(&RECORDS_UNDELIVERED, None, self.records_undelivered as f64);
        one(&POINTS_OUT, None, self.points_out as f64);
        one(&POINTS_UNDELIVERED, None, self.points_undelivered as f64);
        for (sink, s) in &self.sinks {
            one(&SINK_RECORDS, Some(sink), s.records_delivered as f64);
            one(&SINK_POINTS, Some(sink), s.points_delivered as f64);
            one(&SINK_RETRIES, Some(sink), s.retries as f64);
            one(&SINK_LATENCY, Some(sink), s.duration_ms as f64);
        }
        for (reason, n) in &self.failed {
            one(&FAILED, Some(reason), *n as f64);
        }
        for (reason, n) in &self.dropped {
            one(&DROPPED, Some(reason), *n as f64);
        }
        one(&PARSE_ERRORS, None, self.parse_errors as f64);
        one(&REDACTIONS, None, self.redactions as f64);
        if let Some(lag) = self.lag_ms {
            one(&LAG, None, lag as f64);
        }
        if let Some(hits) = self.metadata_cache_hits {
            one(&METADATA_CACHE_HITS, None, hits as f64);
        }
        if let Some(n) = self.self_undelivered {
            one(&SELF_UNDELIVERED, None, n as f64);
        }
        out
    }

    /// The values in Prometheus text format (running totals).
    pub fn prometheus(&self) -> String {
        let values = self.values();
        let mut out = String::new();
        for def in DEFS {
            let mine: Vec<&Value> = values.iter().filter(|v| std::ptr::eq(v.def, def)).collect();
            if mine.is_empty() {
                continue;
            }
            let kind = if def.counter { "counter" } else { "gauge" };
            out.push_str(&format!(
                "# HELP {} {}.\n# TYPE {} {kind}\n",
                def.prometheus, def.description, def.prometheus
            ));
            for v in mine {
                let labels = match (def.split, &v.split) {
                    (Some(s), Some(value)) => format!("{{{}=\"{}\"}}", s.label(), escape(value)),
                    _ => String::new(),
                };
                out.push_str(&format!("{}{labels} {}\n", def.prometheus, v.value));
            }
        }
        out
    }
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_is_documented_in_the_schema() {
        let schema = include_str!("../docs/schema.md");
        for def in DEFS {
            for name in [def.name, def.emf, def.prometheus] {
                assert!(
                    schema.contains(&format!("`{name}`")),
                    "docs/schema.md does not list {name}"
                );
            }
        }
        for split in [Split::Sink, Split::Reason, Split::LogType] {
            assert!(schema.contains(&format!("`{}`", split.attribute())));
        }
    }

    #[test]
    fn failures_are_failed_or_dropped_by_whether_a_retry_may_cure_them() {
        let mut stats = Stats::default();
        stats.failures.insert("sink_unavailable".into(), 3);
        stats.failures.insert("sink_rejected".into(), 2);
        let failures = vec![
            Failure::sink(
                "sink_unavailable",
                "down".into(),
                true,
                std::sync::Arc::new(std::io::Error::other("down")),
            ),
            Failure::sink(
                "sink_rejected",
                "400".into(),
                false,
                std::sync::Arc::new(std::io::Error::other("400")),
            ),
        ];
        let t = Tally::of(&stats, &failures, 10, 0);
        assert_eq!(t.failed, BTreeMap::from([("sink_unavailable".into(), 3)]));
        assert_eq!(t.dropped, BTreeMap::from([("sink_rejected".into(), 2)]));
    }

    #[test]
    fn totals_add_counters_and_keep_the_latest_gauges() {
        let mut stats = Stats {
            records: 4,
            delivered: 3,
            newest_timestamp_ns: Some(1_000_000_000),
            ..Stats::default()
        };
        stats.records_by_log_type.insert("error".into(), 4);
        let first = Tally::of(&stats, &[], 100, 3_000_000_000);
        assert_eq!(first.lag_ms, Some(2000));
        let mut total = first.clone();
        let second = Tally::of(&stats, &[], 50, 1_500_000_000);
        total.add(&second);
        assert_eq!(total.bytes_in, 150);
        assert_eq!(total.records_undelivered, 2);
        assert_eq!(total.lag_ms, Some(500));
        assert_eq!(total.metadata_cache_hits, None);
        let text = total.prometheus();
        assert!(
            text.contains("rdsf_records_out_total{log_type=\"error\"} 8\n"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE rdsf_lag_milliseconds gauge\nrdsf_lag_milliseconds 500\n"),
            "{text}"
        );
        assert!(!text.contains("metadata_cache"), "{text}");
    }
}
