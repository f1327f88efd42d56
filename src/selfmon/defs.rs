//! Every self-monitoring metric, once: its names in each rendering, its
//! kind, and what it is split by. `docs/schema.md` documents each (a test
//! checks it).

/// What a metric is split by, as an EMF dimension and an attribute/label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Split {
    Sink,
    Reason,
    LogType,
}

impl Split {
    /// The EMF dimension name.
    pub fn dimension(self) -> &'static str {
        match self {
            Split::Sink => "Sink",
            Split::Reason => "Reason",
            Split::LogType => "LogType",
        }
    }

    /// The metric point attribute.
    pub fn attribute(self) -> &'static str {
        match self {
            Split::Sink => "rdsf.sink",
            Split::Reason => "rdsf.failure.reason",
            Split::LogType => "aws.rds.log_type",
        }
    }

    /// The Prometheus label.
    pub fn label(self) -> &'static str {
        match self {
            Split::Sink => "sink",
            Split::Reason => "reason",
            Split::LogType => "log_type",
        }
    }
}

/// One self-monitoring metric: its names in each rendering.
#[derive(Debug, PartialEq, Eq)]
pub struct Def {
    /// Metric point name (OTel style).
    pub name: &'static str,
    /// EMF metric name (CloudWatch style).
    pub emf: &'static str,
    /// EMF unit (CloudWatch's list).
    pub emf_unit: &'static str,
    /// UCUM unit of the metric point.
    pub unit: &'static str,
    /// Prometheus name (`serve`'s `/metrics`).
    pub prometheus: &'static str,
    /// A count of things (a delta sum per invocation, a running total on
    /// `/metrics`); otherwise a gauge (the latest value).
    pub counter: bool,
    pub split: Option<Split>,
    /// A split counter is also published under the function alone in EMF
    /// (so alarms can sum every sink or reason).
    pub rollup: bool,
    pub description: &'static str,
}

pub const EVENTS_IN: Def = Def {
    name: "rdsf.events.in",
    emf: "EventsIn",
    emf_unit: "Count",
    unit: "{event}",
    prometheus: "rdsf_events_in_total",
    counter: true,
    split: None,
    rollup: false,
    description: "CloudWatch log events and EventBridge RDS events read",
};

pub const BYTES_IN: Def = Def {
    name: "rdsf.bytes.in",
    emf: "BytesIn",
    emf_unit: "Bytes",
    unit: "By",
    prometheus: "rdsf_bytes_in_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Bytes of the events received, as received (compressed)",
};

pub const RECORDS_OUT: Def = Def {
    name: "rdsf.records.out",
    emf: "RecordsOut",
    emf_unit: "Count",
    unit: "{record}",
    prometheus: "rdsf_records_out_total",
    counter: true,
    split: Some(Split::LogType),
    rollup: true,
    description: "Log records produced, by log type",
};

pub const RECORDS_UNDELIVERED: Def = Def {
    name: "rdsf.records.undelivered",
    emf: "RecordsUndelivered",
    emf_unit: "Count",
    unit: "{record}",
    prometheus: "rdsf_records_undelivered_total",
    counter: true,
    split: None,
    rollup: false,
    description:
        "Records not confirmed by every sink (the invocation fails so the source sends them again)",
};

pub const POINTS_OUT: Def = Def {
    name: "rdsf.metric_points.out",
    emf: "MetricPointsOut",
    emf_unit: "Count",
    unit: "{point}",
    prometheus: "rdsf_metric_points_out_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Metric points produced (Enhanced Monitoring)",
};

pub const POINTS_UNDELIVERED: Def = Def {
    name: "rdsf.metric_points.undelivered",
    emf: "MetricPointsUndelivered",
    emf_unit: "Count",
    unit: "{point}",
    prometheus: "rdsf_metric_points_undelivered_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Metric points not confirmed by every sink that takes metrics",
};

pub const SINK_RECORDS: Def = Def {
    name: "rdsf.sink.records.delivered",
    emf: "RecordsDelivered",
    emf_unit: "Count",
    unit: "{record}",
    prometheus: "rdsf_sink_records_delivered_total",
    counter: true,
    split: Some(Split::Sink),
    rollup: false,
    description: "Records a sink confirmed",
};

pub const SINK_POINTS: Def = Def {
    name: "rdsf.sink.metric_points.delivered",
    emf: "MetricPointsDelivered",
    emf_unit: "Count",
    unit: "{point}",
    prometheus: "rdsf_sink_metric_points_delivered_total",
    counter: true,
    split: Some(Split::Sink),
    rollup: false,
    description: "Metric points a sink confirmed",
};

pub const SINK_RETRIES: Def = Def {
    name: "rdsf.sink.retries",
    emf: "Retries",
    emf_unit: "Count",
    unit: "{attempt}",
    prometheus: "rdsf_sink_retries_total",
    counter: true,
    split: Some(Split::Sink),
    rollup: true,
    description: "Attempts after the first, over a sink's batches",
};

pub const SINK_LATENCY: Def = Def {
    name: "rdsf.sink.duration",
    emf: "SinkLatency",
    emf_unit: "Milliseconds",
    unit: "ms",
    prometheus: "rdsf_sink_duration_milliseconds",
    counter: false,
    split: Some(Split::Sink),
    rollup: false,
    description: "Time from the start of delivery to a sink's last batch's end",
};

pub const FAILED: Def = Def {
    name: "rdsf.failed",
    emf: "Failed",
    emf_unit: "Count",
    unit: "{item}",
    prometheus: "rdsf_failed_total",
    counter: true,
    split: Some(Split::Reason),
    rollup: true,
    description: "Items (records, points, events) that failed in a way a retry may cure, by reason",
};

pub const DROPPED: Def = Def {
    name: "rdsf.dropped",
    emf: "Dropped",
    emf_unit: "Count",
    unit: "{item}",
    prometheus: "rdsf_dropped_total",
    counter: true,
    split: Some(Split::Reason),
    rollup: true,
    description: "Items that failed in a way a retry does not cure (refused data, unreadable input), by reason",
};

pub const PARSE_ERRORS: Def = Def {
    name: "rdsf.parse.errors",
    emf: "ParseErrors",
    emf_unit: "Count",
    unit: "{record}",
    prometheus: "rdsf_parse_errors_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Records forwarded with rds.parse.error",
};

pub const REDACTIONS: Def = Def {
    name: "rdsf.redactions",
    emf: "Redactions",
    emf_unit: "Count",
    unit: "{record}",
    prometheus: "rdsf_redactions_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Log entries in which a secret was masked",
};

pub const LAG: Def = Def {
    name: "rdsf.lag",
    emf: "Lag",
    emf_unit: "Milliseconds",
    unit: "ms",
    prometheus: "rdsf_lag_milliseconds",
    counter: false,
    split: None,
    rollup: false,
    description: "Invocation start minus the newest record timestamp",
};

pub const METADATA_CACHE_HITS: Def = Def {
    name: "rdsf.metadata_cache.hits",
    emf: "MetadataCacheHits",
    emf_unit: "Count",
    unit: "{lookup}",
    prometheus: "rdsf_metadata_cache_hits_total",
    counter: true,
    split: None,
    rollup: false,
    description: "RDS metadata lookups answered from the cache",
};

pub const SELF_UNDELIVERED: Def = Def {
    name: "rdsf.self_metrics.undelivered",
    emf: "SelfMetricsUndelivered",
    emf_unit: "Count",
    unit: "{point}",
    prometheus: "rdsf_self_metrics_undelivered_total",
    counter: true,
    split: None,
    rollup: false,
    description: "Self-monitoring points the sinks did not confirm (counted, never retried)",
};

/// Every self-monitoring metric, in the order they are shown.
pub const DEFS: [&Def; 17] = [
    &EVENTS_IN,
    &BYTES_IN,
    &RECORDS_OUT,
    &RECORDS_UNDELIVERED,
    &POINTS_OUT,
    &POINTS_UNDELIVERED,
    &SINK_RECORDS,
    &SINK_POINTS,
    &SINK_RETRIES,
    &SINK_LATENCY,
    &FAILED,
    &DROPPED,
    &PARSE_ERRORS,
    &REDACTIONS,
    &LAG,
    &METADATA_CACHE_HITS,
    &SELF_UNDELIVERED,
];
