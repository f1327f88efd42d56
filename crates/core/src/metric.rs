//! The metrics signal, beside log records: typed points in the shape of the
//! OpenTelemetry metrics data model (a gauge, a sum or a histogram data
//! point, with its metric's name, unit and description, its attributes and
//! its resource). They flow through the same delivery engine as records, to
//! the sinks that accept them (OTLP `/v1/metrics`, WhaTap `TagCountPack`,
//! stdout); a sink that does not says so at start-up.
//!
//! Producers (RDS Enhanced Monitoring, query metrics from logs,
//! self-monitoring) build points; nothing here knows where they came from.
//! Every metric name is documented in `docs/schema.md`.

use crate::record::{Attributes, Resource};

/// A number as OTLP carries it: an integer or a double.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Int(i64),
    Double(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            Number::Int(i) => i as f64,
            Number::Double(d) => d,
        }
    }
}

impl From<i64> for Number {
    fn from(v: i64) -> Self {
        Number::Int(v)
    }
}

impl From<f64> for Number {
    fn from(v: f64) -> Self {
        Number::Double(v)
    }
}

/// How a sum's points relate over time (OTel `AggregationTemporality`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Temporality {
    /// Each point covers `start..time` since the previous report.
    Delta,
    /// Each point covers everything since `start` (a counter's total).
    Cumulative,
}

/// What a point measures, and its value(s).
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A value sampled at a time (CPU %, free memory).
    Gauge(Number),
    /// A total or a change of a count or amount.
    Sum {
        value: Number,
        monotonic: bool,
        temporality: Temporality,
    },
    /// A distribution (query durations): explicit bucket bounds, one count
    /// per bucket (`bounds.len() + 1`), with count, sum, min and max.
    Histogram {
        count: u64,
        sum: f64,
        min: Option<f64>,
        max: Option<f64>,
        bounds: Vec<f64>,
        bucket_counts: Vec<u64>,
        temporality: Temporality,
    },
}

impl Kind {
    /// The number a sink without distributions shows: a gauge's or a sum's
    /// value, a histogram's mean (`None` when it counted nothing).
    pub fn scalar(&self) -> Option<f64> {
        match self {
            Kind::Gauge(n) | Kind::Sum { value: n, .. } => Some(n.as_f64()),
            Kind::Histogram { count, sum, .. } => (*count > 0).then(|| sum / *count as f64),
        }
    }
}

/// One data point of one metric.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricPoint {
    /// OTel-style dotted name, e.g. `db.client.operation.duration`.
    pub name: String,
    /// UCUM unit (`s`, `By`, `%`, `{operation}`), empty when dimensionless.
    pub unit: &'static str,
    pub description: &'static str,
    pub kind: Kind,
    /// When it was measured (Unix ns): the source's own time when it has one.
    pub time_ns: i64,
    /// Start of the interval a sum or histogram covers (Unix ns).
    pub start_time_ns: Option<i64>,
    pub attributes: Attributes,
    pub resource: Resource,
}

impl MetricPoint {
    /// A cheap estimate of the encoded size, for batching like records.
    pub fn estimated_size(&self) -> usize {
        let values = match &self.kind {
            Kind::Histogram { bounds, .. } => 40 + bounds.len() * 17,
            _ => 9,
        };
        64 + self.name.len()
            + self.unit.len()
            + values
            + self
                .attributes
                .iter()
                .map(|(k, _)| 8 + k.len() + 16)
                .sum::<usize>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_histogram_shows_its_mean_where_distributions_are_not_taken() {
        let h = Kind::Histogram {
            count: 4,
            sum: 10.0,
            min: Some(1.0),
            max: Some(4.0),
            bounds: vec![2.0],
            bucket_counts: vec![1, 3],
            temporality: Temporality::Delta,
        };
        assert_eq!(h.scalar(), Some(2.5));
        let empty = Kind::Histogram {
            count: 0,
            sum: 0.0,
            min: None,
            max: None,
            bounds: vec![],
            bucket_counts: vec![0],
            temporality: Temporality::Delta,
        };
        assert_eq!(empty.scalar(), None);
        assert_eq!(Kind::Gauge(Number::Int(3)).scalar(), Some(3.0));
    }
}
