//! The Lambda handler: a plain async function over the raw event, so tests
//! call it directly and the runtime loop in `main` only wires it up.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde_json::value::RawValue;
use thiserror::Error;

use crate::input::EventKind;
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

    /// Runs one invocation and builds Lambda's reply. For a Kinesis event with
    /// `RDSF_KINESIS_BATCH_ITEM_FAILURES=true`, the records that were not decoded
    /// or not delivered are listed in `batchItemFailures` (Lambda retries from
    /// the lowest one) instead of failing the whole batch; otherwise any
    /// failure fails the invocation.
    pub async fn respond(
        &self,
        event: &[u8],
        deadline_ms: u64,
    ) -> Result<serde_json::Value, InvocationError> {
        let deadline = instant_for(deadline_ms);
        let outcome = self.pipeline.run(event, &self.sinks, deadline).await;
        let item_failures = self.pipeline.config().kinesis_batch_item_failures
            && outcome.kind == Some(EventKind::Kinesis);
        if !item_failures {
            let stats = into_result(outcome)?;
            log_done(&stats);
            return Ok(serde_json::to_value(&stats).unwrap_or_default());
        }
        if !outcome.failed_kinesis_records.is_empty() {
            tracing::error!(
                failed_records = outcome.failed_kinesis_records.len(),
                "reporting Kinesis batchItemFailures"
            );
        }
        log_done(&outcome.stats);
        Ok(batch_item_failures(&outcome.failed_kinesis_records))
    }

    /// Adapter for `lambda_runtime::service_fn`.
    pub async fn handle_lambda(
        self: Arc<Self>,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<serde_json::Value, InvocationError> {
        self.respond(event.payload.get().as_bytes(), event.context.deadline)
            .await
    }
}

/// The `StreamsEventResponse` Lambda reads for ReportBatchItemFailures.
pub fn batch_item_failures(sequence_numbers: &[String]) -> serde_json::Value {
    serde_json::json!({
        "batchItemFailures": sequence_numbers
            .iter()
            .map(|s| serde_json::json!({ "itemIdentifier": s }))
            .collect::<Vec<_>>()
    })
}

fn log_done(stats: &Stats) {
    tracing::info!(
        records = stats.records,
        delivered = stats.delivered,
        log_events = stats.log_events,
        rds_events = stats.rds_events,
        control_messages_skipped = stats.control_messages_skipped,
        "invocation done"
    );
}

fn into_result(outcome: Outcome) -> Result<Stats, InvocationError> {
    if !outcome.stats.failed() {
        return Ok(outcome.stats);
    }
    let sink_failed = outcome
        .failures
        .iter()
        .any(|f| f.reason.starts_with("sink_"));
    let first: Vec<&str> = outcome
        .failures
        .iter()
        .take(3)
        .map(|f| f.message.as_str())
        .collect();
    let summary = format!(
        "{} of {} records delivered; failures by reason {}: {}",
        outcome.stats.delivered,
        outcome.stats.records,
        serde_json::to_string(&outcome.stats.failures).unwrap_or_default(),
        first.join("; ")
    );
    Err(InvocationError {
        kind: if sink_failed {
            "retryable"
        } else {
            "permanent"
        },
        summary,
    })
}

/// Lambda's longest function timeout: the bound used when the runtime API
/// gives no usable deadline.
pub const MAX_LAMBDA_TIMEOUT: Duration = Duration::from_secs(900);

/// Deadlines before 2000-01-01 are not Unix-epoch times: a missing header
/// (0) or an emulator that sends a duration (cargo-lambda sends `600000`).
const PLAUSIBLE_EPOCH_MS: u64 = 946_684_800_000;

/// Converts Lambda's wall-clock deadline to a monotonic instant, minus the
/// safety margin. A past deadline yields "now" (the delivery engine then
/// fails at once, cleanly); one that is no epoch time at all falls back to
/// [`MAX_LAMBDA_TIMEOUT`] rather than failing every invocation.
pub fn instant_for(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = if deadline_ms < PLAUSIBLE_EPOCH_MS {
        MAX_LAMBDA_TIMEOUT
    } else {
        Duration::from_millis(deadline_ms.saturating_sub(now_ms))
    };
    Instant::now() + left.saturating_sub(DEADLINE_SAFETY_MARGIN)
}
