//! The Lambda handler: a plain async function over the raw event, so tests
//! call it directly and the runtime loop in `main` only wires it up.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::pipeline::{Outcome, Pipeline, Stats};
use crate::sink::Sink;

/// Time kept back from the Lambda deadline so a failing delivery still ends
/// with a clean error reply instead of a timeout.
pub const DEADLINE_SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// Shared across invocations of one execution environment (sinks keep their
/// connections between invocations).
pub struct Handler {
    pub pipeline: Pipeline,
    pub sinks: Vec<Box<dyn Sink>>,
}

/// Why an invocation failed. Lambda retries it (asynchronous invocations,
/// then the on-failure destination keeps the event).
#[derive(Debug, Error)]
#[error("{summary}")]
pub struct InvocationError {
    /// `retryable` when a sink failed or the deadline came; `permanent` when
    /// the input itself was malformed.
    pub kind: &'static str,
    pub summary: String,
}

impl From<InvocationError> for Diagnostic {
    fn from(e: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: format!("RdsForwarder.{}", e.kind),
            error_message: e.summary,
        }
    }
}

impl Handler {
    /// Runs one invocation. `deadline_ms` is Lambda's (Unix ms).
    pub async fn handle(&self, event: &[u8], deadline_ms: u64) -> Result<Stats, InvocationError> {
        let deadline = instant_for(deadline_ms);
        let outcome = self.pipeline.run(event, &self.sinks, deadline).await;
        into_result(outcome)
    }

    /// Adapter for `lambda_runtime::service_fn`.
    pub async fn handle_lambda(
        self: Arc<Self>,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<serde_json::Value, InvocationError> {
        let stats = self
            .handle(event.payload.get().as_bytes(), event.context.deadline)
            .await?;
        tracing::info!(
            records = stats.records,
            log_events = stats.log_events,
            rds_events = stats.rds_events,
            control_messages_skipped = stats.control_messages_skipped,
            "invocation done"
        );
        Ok(serde_json::to_value(&stats).unwrap_or_default())
    }
}

fn into_result(outcome: Outcome) -> Result<Stats, InvocationError> {
    if !outcome.stats.failed() {
        return Ok(outcome.stats);
    }
    let sink_failed = outcome.failures.iter().any(|f| f.reason.starts_with("sink_"));
    let first: Vec<&str> = outcome.failures.iter().take(3).map(|f| f.message.as_str()).collect();
    let summary = format!(
        "{} of {} records not delivered; failures {}: {}",
        outcome.stats.records - outcome.stats.delivered,
        outcome.stats.records,
        serde_json::to_string(&outcome.stats.failures).unwrap_or_default(),
        first.join("; ")
    );
    Err(InvocationError {
        kind: if sink_failed { "retryable" } else { "permanent" },
        summary,
    })
}

/// Converts Lambda's wall-clock deadline to a monotonic instant, minus the
/// safety margin. A zero or past deadline yields "now".
pub fn instant_for(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = Duration::from_millis(deadline_ms.saturating_sub(now_ms));
    Instant::now() + left.saturating_sub(DEADLINE_SAFETY_MARGIN)
}
