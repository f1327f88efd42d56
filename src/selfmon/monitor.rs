//! The one self-monitor of a process: where its counters go, and their
//! running totals.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use rdsf_core::failure::Failure;
use rdsf_core::process::Stats;
use rdsf_core::record::Resource;
use rdsf_core::time;
use rdsf_sinks::delivery::{self, DeliveryConfig};
use rdsf_sinks::Sink;

use super::{emf, points, Outputs, SelfMetricsConfig, Tally};

/// What one invocation did, as the pipeline saw it.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
    pub stats: &'a Stats,
    pub failures: &'a [Failure],
    /// The event's size as received.
    pub bytes_in: usize,
    /// When it started (Unix ns): the lag is measured from here.
    pub started_ns: i64,
    /// The RDS metadata cache's hit count since start (its counter), when
    /// the metadata stage is on; the tally reports what it grew by since
    /// the previous report.
    pub metadata_cache_hits_total: Option<u64>,
}

/// Where self-monitoring goes and what it has counted since start; one per
/// process, owned by the pipeline.
#[derive(Debug)]
pub struct Monitor {
    pub outputs: Outputs,
    pub namespace: String,
    /// The `Function` dimension and `faas.name`: the Lambda function's name,
    /// `rds-forwarder` elsewhere.
    pub function: String,
    pub resource: Resource,
    totals: Mutex<Tally>,
    /// The metadata cache's hit count at the last report: the next report
    /// counts what it grew by. `fetch_max`, so reports that overlap (serve)
    /// count each hit once.
    metadata_hits_reported: AtomicU64,
}

impl Monitor {
    pub fn new(config: &SelfMetricsConfig, region: Option<&str>) -> Monitor {
        Monitor {
            outputs: config.outputs.unwrap_or(Outputs::OFF),
            namespace: config.namespace.clone(),
            function: "rds-forwarder".to_owned(),
            resource: points::resource("rds-forwarder", region),
            totals: Default::default(),
            metadata_hits_reported: AtomicU64::new(0),
        }
    }

    /// Under Lambda: the function's name, and EMF unless the setting chose.
    pub fn under_lambda(
        &mut self,
        config: &SelfMetricsConfig,
        function: &str,
        region: Option<&str>,
    ) {
        self.outputs = config.outputs.unwrap_or(Outputs::EMF);
        self.function = function.to_owned();
        self.resource = points::resource(function, region);
    }

    /// Adds one invocation to the totals.
    pub fn add(&self, tally: &Tally) {
        self.totals.lock().expect("not poisoned").add(tally);
    }

    /// Everything counted since start.
    pub fn totals(&self) -> Tally {
        self.totals.lock().expect("not poisoned").clone()
    }
    /// Counts what one invocation did, adds it to the totals, and shows it
    /// where `RDSF_SELF_METRICS` says. Best effort, after the records: the
    /// points go to the sinks once (no retry), and what they do not confirm
    /// is only counted (`rdsf.self_metrics.undelivered`), never turned into
    /// more points nor into a failure of the invocation.
    pub async fn observe(
        &self,
        done: Invocation<'_>,
        sinks: &[Box<dyn Sink>],
        delivery_config: &DeliveryConfig,
        deadline: Instant,
    ) {
        let Invocation {
            stats,
            failures,
            bytes_in,
            started_ns,
            metadata_cache_hits_total,
        } = done;
        let mut tally = Tally::of(stats, failures, bytes_in, started_ns);
        tally.metadata_cache_hits = metadata_cache_hits_total.map(|now| {
            let before = self
                .metadata_hits_reported
                .fetch_max(now, Ordering::Relaxed);
            now.saturating_sub(before)
        });
        if self.outputs.sinks && sinks.iter().any(|s| s.accepts_metrics()) {
            let points = points::of(&tally, &self.resource, started_ns, time::now_ns());
            let once = DeliveryConfig {
                max_attempts: 1,
                ..delivery_config.clone()
            };
            let report = delivery::deliver(sinks, &points[..], deadline, &once).await;
            let missed = report
                .undelivered(points.len())
                .iter()
                .filter(|u| **u)
                .count();
            if let Some(f) = report.failures.first() {
                tracing::warn!("self-monitoring: {}", f.message());
            }
            tally.self_undelivered = Some(missed as u64);
        }
        let closed = failures.iter().any(Failure::is_output_closed);
        if self.outputs.emf && !closed {
            let lines = emf::lines(
                &tally,
                &self.namespace,
                &self.function,
                time::now_ns() / 1_000_000,
            );
            if let Err(e) = emf::write_stdout(&lines) {
                tracing::warn!("self-monitoring: EMF lines not written to stdout: {e}");
            }
        }
        self.add(&tally);
    }
}
