//! The sink stage: encoders plus transports that deliver records to a
//! backend, under one delivery engine ([`delivery`]: batches, retries,
//! the deadline). A new backend is one new folder here plus one line in
//! the `registry!` below.
//!
//! A sink either confirms that it delivered every record it was given or
//! returns an error; the pipeline turns any error into a failed invocation
//! so Lambda retries (at-least-once, never a silent drop).

#![forbid(unsafe_code)]

pub mod delivery;
pub mod http_post;
pub mod registry;

// Every sink: its folder, and this one line each.
registry::registry! {
    stdout => StdoutSettings,
    whatap => WhatapSettings,
    otlp => OtlpSettings,
    loki => LokiSettings,
}

use std::time::{Duration, Instant};

use thiserror::Error;

use rdsf_core::config_error::ConfigError;
use rdsf_core::metric::MetricPoint;
use rdsf_core::record::ResourceRecords;

/// A boxed future, so sinks stay object-safe without an extra crate.
pub use rdsf_core::boxed::BoxFuture;

#[derive(Debug, Error)]
pub enum SinkError {
    /// The backend could not be reached or did not confirm; retrying may help.
    #[error("{sink}: delivery failed: {detail}")]
    Unavailable { sink: &'static str, detail: String },
    /// The backend refused the data for good (e.g. HTTP 400).
    #[error("{sink}: records rejected: {detail}")]
    Rejected { sink: &'static str, detail: String },
    /// The invocation deadline came before delivery was confirmed.
    #[error("{sink}: deadline reached before delivery was confirmed")]
    Deadline { sink: &'static str },
    /// The backend asked us to come back later (HTTP 429/502/503/504 with
    /// `Retry-After`); the delivery engine waits at least that long.
    #[error("{sink}: throttled: {detail}")]
    Throttled {
        sink: &'static str,
        detail: String,
        retry_after: Option<Duration>,
    },
    /// Whoever read our output went away (stdout closed, e.g. `| head`):
    /// not a delivery problem to retry, the end of the run.
    #[error("{sink}: output closed by its reader")]
    OutputClosed { sink: &'static str },
}

impl SinkError {
    /// Whether a later attempt (a Lambda retry) can succeed.
    pub fn is_retryable(&self) -> bool {
        !matches!(
            self,
            SinkError::Rejected { .. } | SinkError::OutputClosed { .. }
        )
    }

    /// A short reason used to count failures by kind.
    pub fn reason(&self) -> &'static str {
        match self {
            SinkError::Unavailable { .. } => "sink_unavailable",
            SinkError::Rejected { .. } => "sink_rejected",
            SinkError::Deadline { .. } => "sink_deadline",
            SinkError::Throttled { .. } => "sink_throttled",
            SinkError::OutputClosed { .. } => OUTPUT_CLOSED,
        }
    }

    /// How long the backend asked us to wait before trying again.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SinkError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// The failure reason of [`SinkError::OutputClosed`]: the run ends quietly
/// (nothing logged; `replay` exits 141).
pub use rdsf_core::failure::OUTPUT_CLOSED;

/// A backend.
pub trait Sink: Send + Sync {
    fn name(&self) -> &'static str;

    /// Delivers every record of `batch` (records grouped by resource, in
    /// order) before `deadline`, or says why not.
    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>>;

    /// Whether it takes the metrics signal ([`Sink::send_metrics`]); the
    /// delivery engine sends metric points only to sinks that do.
    fn accepts_metrics(&self) -> bool {
        false
    }

    /// Delivers all metric `points` before `deadline`, or says why not.
    fn send_metrics<'a>(
        &'a self,
        _points: &'a [MetricPoint],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        let sink = self.name();
        Box::pin(async move {
            Err(SinkError::Rejected {
                sink,
                detail: "this sink takes no metrics".to_owned(),
            })
        })
    }
}

/// The selected sinks (`Config::sinks`), built, in order.
pub fn build(specs: &[registry::SinkSpec]) -> Result<Vec<Box<dyn Sink>>, ConfigError> {
    specs.iter().map(|spec| spec.build()).collect()
}

/// Says at start-up which selected sinks take no metric points (they get
/// the log records only), so a missing signal is never a surprise.
pub fn announce_signals(sinks: &[Box<dyn Sink>]) {
    for sink in sinks.iter().filter(|s| !s.accepts_metrics()) {
        tracing::info!(
            sink = sink.name(),
            "this sink takes log records only; metric points are not sent to it"
        );
    }
}
