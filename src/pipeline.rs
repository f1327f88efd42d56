//! input → process → deliver, for one Lambda event: the core's
//! [`Processor`] builds the records, the sinks' delivery engine delivers
//! them.
//!
//! The Lambda handler and `rds-forwarder replay` both call [`Pipeline::run`],
//! so what a user replays is exactly what Lambda would do.

use std::time::Instant;

use crate::config::Config;
use crate::selfmon::{Invocation, Monitor, Tally};
use rdsf_core::input::{self, EventKind, LogGroupCreated, Origin};
use rdsf_core::process::{ProcessSettings, Processor};
use rdsf_core::time;
use rdsf_sinks::delivery::{self, DeliveryReport};
use rdsf_sinks::Sink;

mod kinesis;
pub mod metadata;
mod streamed;

// What the pipeline's callers see of the core's processing.
pub use rdsf_core::failure::{Failure, Origin as FailureOrigin, PROCESSING_DEADLINE};
pub use rdsf_core::process::{Processed, Stats, StreamOptions, MAX_EVENT_MESSAGE_BYTES};

/// Logs each failure once, as one error line (the callers add no second
/// line of their own). A closed output is not logged: the run just ends.
fn log_failures(failures: &[Failure]) {
    for f in failures.iter().filter(|f| !f.is_output_closed()) {
        tracing::error!(reason = f.reason, "{}", f.message);
    }
}

/// What one invocation did.
#[derive(Debug, Default)]
pub struct Outcome {
    pub kind: Option<EventKind>,
    pub stats: Stats,
    pub failures: Vec<Failure>,
    /// Kinesis sequence numbers of the records that were not decoded or not
    /// delivered everywhere (the `batchItemFailures` of a Kinesis reply).
    pub failed_kinesis_records: Vec<String>,
    /// New log groups announced by CloudTrail; the Lambda handler subscribes them.
    pub log_groups_created: Vec<LogGroupCreated>,
}

/// The stateless parts of the data path, built once per process.
pub struct Pipeline {
    config: Config,
    processor: Processor,
    /// RDS metadata for the resources (none: resources go as built).
    metadata: Option<metadata::MetadataStage>,
    monitor: Monitor,
}

impl Pipeline {
    pub fn new(config: Config) -> Self {
        let processor = Processor::new(ProcessSettings {
            max_decompressed_bytes: config.max_decompressed_bytes,
            region: config.region.clone(),
            redactor: config.redactor.clone(),
            enhanced_monitoring: config.enhanced_monitoring,
        });
        let monitor = Monitor::new(&config.self_metrics, config.region.as_deref());
        Pipeline {
            config,
            processor,
            metadata: None,
            monitor,
        }
    }

    /// Adds RDS metadata from `source` to every resource before delivery,
    /// waiting at most `budget` an invocation.
    pub fn with_metadata(
        mut self,
        source: std::sync::Arc<dyn rdsf_core::enrich::metadata::MetadataSource>,
        budget: std::time::Duration,
    ) -> Self {
        self.metadata = Some(metadata::MetadataStage { source, budget });
        self
    }

    /// The metadata stage's counters (hits, misses, failures, resources
    /// and records sent without metadata), when the stage is on.
    pub fn metadata_counters(&self) -> Option<&rdsf_core::enrich::metadata::MetadataCounters> {
        self.metadata.as_ref().map(|m| m.source.counters())
    }

    /// Self-monitoring as under Lambda: `function` names the metrics, EMF
    /// is on unless `RDSF_SELF_METRICS` chose otherwise.
    pub fn under_lambda(mut self, function: &str) -> Self {
        let region = self.config.region.clone();
        self.monitor
            .under_lambda(&self.config.self_metrics, function, region.as_deref());
        self
    }

    /// What self-monitoring counted since start (`serve`'s `/metrics`).
    pub fn self_totals(&self) -> Tally {
        self.monitor.totals()
    }

    /// Replaces when and how big CloudWatch payloads are streamed (tests
    /// force tiny chunks with it).
    pub fn with_stream_options(mut self, stream: StreamOptions) -> Self {
        self.processor = self.processor.with_stream_options(stream);
        self
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn processor(&self) -> &Processor {
        &self.processor
    }

    /// [`Processor::process`]: decodes and parses one Lambda event into
    /// records, without delivery.
    pub fn process(&self, event: &[u8], observed_ns: i64) -> Processed {
        self.processor.process(event, observed_ns)
    }

    /// [`Processor::process_streamed`]: the streamed path without delivery.
    pub fn process_streamed(&self, event: &[u8], observed_ns: i64) -> Option<Processed> {
        self.processor.process_streamed(event, observed_ns)
    }

    /// Processes one event and delivers its records to every sink through
    /// the delivery engine (batches, retries, `deadline`).
    ///
    /// A CloudWatch payload that inflates past the stream threshold is
    /// processed and delivered chunk by chunk in bounded memory (see
    /// `pipeline/streamed.rs`), a Kinesis batch a few records at a time
    /// (`pipeline/kinesis.rs`); everything else as a whole.
    pub async fn run(&self, event: &[u8], sinks: &[Box<dyn Sink>], deadline: Instant) -> Outcome {
        let started_ns = time::now_ns();
        let outcome = self.run_event(event, sinks, deadline).await;
        self.self_monitor(&outcome, event.len(), started_ns, sinks, deadline)
            .await;
        outcome
    }

    async fn run_event(&self, event: &[u8], sinks: &[Box<dyn Sink>], deadline: Instant) -> Outcome {
        let limits = input::Limits {
            max_decompressed: self.config.max_decompressed_bytes,
            stream_threshold: self.processor.stream_options().threshold_bytes,
        };
        match input::open(event, limits) {
            input::Opened::Whole(decoded) => self.run_whole(decoded, sinks, deadline).await,
            input::Opened::Streamed(s) => {
                let (stream, whole) = s.into_parts();
                self.run_streamed(stream, whole, sinks, deadline).await
            }
            input::Opened::Kinesis(records) => self.run_kinesis(records, sinks, deadline).await,
        }
    }

    /// [`Pipeline::run`] for an event the caller decoded (a Firehose
    /// delivery read from its HTTP request); `bytes_in` is the request's
    /// body size.
    pub async fn run_decoded(
        &self,
        decoded: Result<input::Decoded, input::InputError>,
        bytes_in: usize,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let started_ns = time::now_ns();
        let outcome = self.run_whole(decoded, sinks, deadline).await;
        self.self_monitor(&outcome, bytes_in, started_ns, sinks, deadline)
            .await;
        outcome
    }

    /// Self-monitoring of one invocation (`selfmon::Monitor::observe`).
    async fn self_monitor(
        &self,
        outcome: &Outcome,
        bytes_in: usize,
        started_ns: i64,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) {
        let done = Invocation {
            stats: &outcome.stats,
            failures: &outcome.failures,
            bytes_in,
            started_ns,
            metadata_cache_hits_total: self.metadata_counters().map(|c| c.snapshot().hits),
        };
        self.monitor
            .observe(done, sinks, &self.config.delivery, deadline)
            .await;
    }

    async fn run_whole(
        &self,
        decoded: Result<input::Decoded, input::InputError>,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Outcome {
        let mut processed = self.processor.process_decoded_into(
            decoded,
            time::now_ns(),
            Processed::until(deadline),
        );
        let undelivered = if processed.out_of_time() {
            // Incomplete records are not worth sending: the whole event is retried.
            processed.fail_out_of_time("the event");
            vec![true; processed.records.len()]
        } else {
            self.deliver(&mut processed, sinks, deadline).await
        };
        // Points are not mapped to their unit: when some were not delivered,
        // every unit is retried (also one that produced points only, such as
        // a record of Enhanced Monitoring documents, whose range is empty).
        let metrics_failed =
            processed.stats.metric_points_delivered < processed.stats.metric_points;
        let mut failed_kinesis_records = Vec::new();
        for (origin, range) in &processed.units {
            if let Origin::KinesisRecord { sequence_number } = origin {
                let decode_failed = processed.failures.iter().any(|f| {
                    f.kinesis_sequence_number.as_deref() == Some(sequence_number.as_str())
                });
                if processed.out_of_time()
                    || decode_failed
                    || metrics_failed
                    || undelivered[range.clone()].iter().any(|u| *u)
                {
                    failed_kinesis_records.push(sequence_number.clone());
                }
            }
        }
        log_failures(&processed.failures);
        Outcome {
            kind: processed.kind,
            stats: processed.stats,
            failures: processed.failures,
            failed_kinesis_records,
            log_groups_created: processed.log_groups_created,
        }
    }

    /// Delivers `processed.records` to every sink and accounts for it in
    /// `processed` (failures, `delivered`); which records were not delivered.
    async fn deliver(
        &self,
        processed: &mut Processed,
        sinks: &[Box<dyn Sink>],
        deadline: Instant,
    ) -> Vec<bool> {
        for (id, reason) in &processed.malformed {
            tracing::warn!(event_id = id.as_deref().unwrap_or("<none>"), %reason, "malformed log event forwarded raw");
        }
        if let Some(stage) = &self.metadata {
            stage
                .apply(&mut processed.records, &mut processed.metrics, deadline)
                .await;
        }
        let report = if processed.records.is_empty() {
            DeliveryReport::default()
        } else {
            delivery::deliver(sinks, &processed.records, deadline, &self.config.delivery).await
        };
        let undelivered = report.undelivered(processed.records.len());
        tally_sinks(&mut processed.stats, &report, false);
        account(processed, report);
        processed.stats.delivered = undelivered.iter().filter(|u| !**u).count();
        if processed.metrics.is_empty() {
            return undelivered;
        }
        // Metric points go to the sinks that take them; a point may sum
        // several records, so one that is not delivered fails them all.
        let points = &processed.metrics;
        let report = delivery::deliver(sinks, &points[..], deadline, &self.config.delivery).await;
        let missed = report.undelivered(points.len());
        processed.stats.metric_points = points.len();
        processed.stats.metric_points_delivered = missed.iter().filter(|u| !**u).count();
        let metrics_failed = !report.is_complete();
        tally_sinks(&mut processed.stats, &report, true);
        account(processed, report);
        if metrics_failed {
            return vec![true; processed.records.len()];
        }
        undelivered
    }
}

/// Adds what each sink did to the invocation's per-sink counts
/// (self-monitoring); `points` when the report is of metric points.
fn tally_sinks(stats: &mut Stats, report: &DeliveryReport, points: bool) {
    for (sink, t) in &report.sinks {
        let s = stats.sinks.entry((*sink).to_owned()).or_default();
        if points {
            s.points_delivered += t.delivered;
        } else {
            s.records_delivered += t.delivered;
        }
        s.retries += t.retries as usize;
        s.duration_ms += t.duration.as_millis() as u64;
    }
}

/// Counts and lists what a delivery report says was not delivered.
fn account(processed: &mut Processed, report: DeliveryReport) {
    for f in report.failures {
        *processed
            .stats
            .failures
            .entry(f.reason().to_owned())
            .or_default() += f.records.len();
        processed.failures.push(f.into_failure());
    }
}

#[cfg(test)]
mod metric_delivery_tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;
    use rdsf_core::metric::{Kind, MetricPoint, Number};
    use rdsf_core::record::{Attributes, ResourceRecords};
    use rdsf_sinks::{BoxFuture, SinkError};

    /// Takes records, refuses metric points for good.
    struct RefusesMetrics;

    impl Sink for RefusesMetrics {
        fn name(&self) -> &'static str {
            "refuses-metrics"
        }
        fn send<'a>(
            &'a self,
            _batch: &'a [ResourceRecords<'a>],
            _deadline: Instant,
        ) -> BoxFuture<'a, Result<(), SinkError>> {
            Box::pin(async { Ok(()) })
        }
        fn accepts_metrics(&self) -> bool {
            true
        }
        fn send_metrics<'a>(
            &'a self,
            _points: &'a [MetricPoint],
            _deadline: Instant,
        ) -> BoxFuture<'a, Result<(), SinkError>> {
            Box::pin(async {
                Err(SinkError::Rejected {
                    sink: "refuses-metrics",
                    detail: "HTTP 400".into(),
                })
            })
        }
    }

    fn point() -> MetricPoint {
        MetricPoint {
            name: "m".into(),
            unit: "",
            description: "",
            kind: Kind::Gauge(Number::Int(1)),
            time_ns: 0,
            start_time_ns: None,
            attributes: Attributes::new(),
            resource: Arc::new(Attributes::new()),
        }
    }

    /// Metric points share the records' fate: a point not delivered is a
    /// failure of the invocation (every record reported, for Kinesis), and
    /// counted.
    #[tokio::test]
    async fn undelivered_metric_points_fail_the_invocation() {
        let p = Pipeline::new(Config::default());
        let sample = include_str!("../examples/cloudwatch-postgresql.json");
        let mut processed = p.process(sample.as_bytes(), time::now_ns());
        assert!(!processed.records.is_empty());
        processed.metrics = vec![point(), point()];
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(RefusesMetrics)];
        let undelivered = p
            .deliver(
                &mut processed,
                &sinks,
                Instant::now() + Duration::from_secs(5),
            )
            .await;
        assert!(undelivered.iter().all(|u| *u));
        assert_eq!(processed.stats.metric_points, 2);
        assert_eq!(processed.stats.metric_points_delivered, 0);
        assert_eq!(processed.stats.failures.get("sink_rejected"), Some(&2));
        let f = processed.failures.last().unwrap();
        assert!(!f.retryable());
        assert!(f.message.contains("2 metric point(s)"), "{}", f.message);
    }
}
