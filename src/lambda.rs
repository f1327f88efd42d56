//! The Lambda handler: a plain async function over the raw event, so tests
//! call it directly and the runtime loop in `main` only wires it up.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::Serialize;
use serde_json::value::RawValue;
use thiserror::Error;

use crate::pipeline::{Failure, Outcome, Pipeline, Stats};
use rdsf_aws::subscribe::AutoSubscribe;
use rdsf_aws::SUBSCRIPTION_FILTER_NAME;
use rdsf_core::input::{EventKind, LogGroupCreated};
use rdsf_sinks::Sink;

/// Time kept back from the Lambda deadline so a failing delivery still ends
/// with a clean error reply instead of a timeout.
pub const DEADLINE_SAFETY_MARGIN: Duration = Duration::from_millis(500);

/// Shared across invocations of one execution environment (sinks keep their
/// connections between invocations).
pub struct Handler {
    pub pipeline: Pipeline,
    pub sinks: Vec<Box<dyn Sink>>,
    /// Subscribes log groups announced by CloudTrail `CreateLogGroup`
    /// events; `None` where no AWS access is wanted (tests, replay).
    pub auto_subscribe: Option<AutoSubscribe>,
    /// Firehose request ids delivered lately (replays are answered 200
    /// without sending again).
    pub firehose_delivered: std::sync::Mutex<crate::firehose::Recent>,
}

/// Why an invocation failed. Lambda retries it (asynchronous invocations,
/// then the on-failure destination keeps the event).
#[derive(Debug, Error)]
#[error("{summary}")]
pub struct InvocationError {
    /// Decided by [`Failure::retryable`] alone.
    pub kind: ErrorKind,
    pub summary: String,
}

/// The error type Lambda records (`RdsForwarder.retryable` / `.permanent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// A later attempt may pass: a sink did not confirm, time ran out, AWS
    /// throttled.
    Retryable,
    /// The same event fails the same way: malformed input, refused data,
    /// missing configuration.
    Permanent,
}

impl ErrorKind {
    pub fn of(failures: &[Failure]) -> ErrorKind {
        if failures.iter().any(Failure::retryable) {
            ErrorKind::Retryable
        } else {
            ErrorKind::Permanent
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Retryable => "retryable",
            ErrorKind::Permanent => "permanent",
        }
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<Failure> for InvocationError {
    fn from(f: Failure) -> Self {
        InvocationError {
            kind: ErrorKind::of(std::slice::from_ref(&f)),
            summary: f.message,
        }
    }
}

impl From<InvocationError> for Diagnostic {
    fn from(e: InvocationError) -> Diagnostic {
        Diagnostic {
            error_type: format!("RdsForwarder.{}", e.kind),
            error_message: e.summary,
        }
    }
}

/// What Lambda gets back from a successful invocation.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Reply {
    /// The invocation's counts.
    Stats(Stats),
    /// For a Kinesis event source mapping with `ReportBatchItemFailures`.
    Kinesis(StreamsEventResponse),
    /// For a function URL request (a Firehose HTTP endpoint delivery).
    Http(crate::firehose::HttpResponse),
}

/// Lambda's `StreamsEventResponse`: the records to retry (Lambda retries
/// from the lowest sequence number). Two fields, written here rather than
/// pulling in `aws_lambda_events` and its dependency tree for them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamsEventResponse {
    pub batch_item_failures: Vec<BatchItemFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchItemFailure {
    pub item_identifier: String,
}

impl Handler {
    pub fn new(pipeline: Pipeline, sinks: Vec<Box<dyn Sink>>) -> Self {
        Handler {
            pipeline,
            sinks,
            auto_subscribe: None,
            firehose_delivered: Default::default(),
        }
    }

    /// Runs one invocation. `deadline_ms` is Lambda's (Unix ms).
    pub async fn handle(&self, event: &[u8], deadline_ms: u64) -> Result<Stats, InvocationError> {
        self.handle_invocation(event, deadline_ms, None).await
    }

    /// Runs one invocation; `invoked_function_arn` (from the Lambda
    /// context) is where new log groups' filters point unless configured.
    pub async fn handle_invocation(
        &self,
        event: &[u8],
        deadline_ms: u64,
        invoked_function_arn: Option<&str>,
    ) -> Result<Stats, InvocationError> {
        let outcome = self.run(event, deadline_ms, invoked_function_arn).await?;
        into_result(outcome)
    }

    /// The pipeline, then the subscriptions a CloudTrail `CreateLogGroup`
    /// event asks for (such events carry no records).
    async fn run(
        &self,
        event: &[u8],
        deadline_ms: u64,
        invoked_function_arn: Option<&str>,
    ) -> Result<Outcome, InvocationError> {
        let deadline = instant_for(deadline_ms);
        let mut outcome = self.pipeline.run(event, &self.sinks, deadline).await;
        for group in std::mem::take(&mut outcome.log_groups_created) {
            // Logged here, once: the runtime's own log of a handler error
            // (a Debug dump) is filtered out, and the pipeline logs its own.
            self.subscribe(&group, invoked_function_arn)
                .await
                .map_err(InvocationError::from)
                .inspect_err(|e| tracing::error!(kind = e.kind.as_str(), "{}", e.summary))?;
        }
        Ok(outcome)
    }

    /// Puts the forwarder's subscription filter on a new log group.
    async fn subscribe(
        &self,
        group: &LogGroupCreated,
        invoked_function_arn: Option<&str>,
    ) -> Result<(), Failure> {
        let name = group.log_group_name.as_str();
        if let Some(code) = &group.error_code {
            tracing::info!(log_group = name, error_code = %code, event_id = %group.event_id, "CreateLogGroup failed; nothing to subscribe");
            return Ok(());
        }
        let Some(auto) = &self.auto_subscribe else {
            // Permanent: after the retries the event lands in the failure
            // destination, so `rds-forwarder subscribe` can catch up later.
            return Err(Failure::subscribe(
                "subscribe_not_configured",
                format!(
                    "CloudTrail event {}: log group {name} created but auto-subscription is not configured",
                    group.event_id
                ),
                false,
                None,
            ));
        };
        if !auto.wants(name) {
            tracing::info!(log_group = name, prefix = %auto.prefix, "new log group outside the prefix (and not RDSOSMetrics); not subscribed");
            return Ok(());
        }
        let destination = auto
            .destination_arn
            .as_deref()
            .or(invoked_function_arn)
            .ok_or_else(|| {
                Failure::subscribe(
                    "subscribe_no_destination",
                    format!("log group {name}: no subscription destination (set RDSF_SUBSCRIPTION_DESTINATION_ARN)"),
                    false,
                    None,
                )
            })?;
        auto.subscriber
            .put_subscription_filter(name, SUBSCRIPTION_FILTER_NAME, destination)
            .await
            .map_err(|e| {
                Failure::subscribe(
                    "subscribe_failed",
                    format!("CloudTrail event {}: {e}", group.event_id),
                    e.is_retryable(),
                    Some(Arc::new(e)),
                )
            })?;
        tracing::info!(log_group = name, destination, "log group subscribed");
        Ok(())
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
        invoked_function_arn: Option<&str>,
    ) -> Result<Reply, InvocationError> {
        if let Some(request) = rdsf_core::input::function_url::request(event) {
            return Ok(Reply::Http(self.http(request, deadline_ms).await));
        }
        let outcome = self.run(event, deadline_ms, invoked_function_arn).await?;
        let item_failures = self.pipeline.config().kinesis_batch_item_failures
            && outcome.kind == Some(EventKind::Kinesis);
        if !item_failures {
            let stats = into_result(outcome)?;
            log_done(&stats);
            return Ok(Reply::Stats(stats));
        }
        if !outcome.failed_kinesis_records.is_empty() {
            tracing::error!(
                failed_records = outcome.failed_kinesis_records.len(),
                "reporting Kinesis batchItemFailures"
            );
        }
        log_done(&outcome.stats);
        Ok(Reply::Kinesis(batch_item_failures(
            &outcome.failed_kinesis_records,
        )))
    }

    /// A function URL request: a Firehose delivery, answered as its contract
    /// says (the invocation itself succeeds; Firehose retries on a non-200).
    async fn http(
        &self,
        request: Result<rdsf_core::input::firehose::HttpRequest, rdsf_core::input::InputError>,
        deadline_ms: u64,
    ) -> crate::firehose::HttpResponse {
        let request = match request {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!("function URL event not read: {e}");
                return crate::firehose::bad_event(&e);
            }
        };
        crate::firehose::answer(
            &self.pipeline,
            &self.sinks,
            &self.firehose_delivered,
            request,
            instant_for(deadline_ms),
        )
        .await
    }

    /// Adapter for `lambda_runtime::service_fn`.
    pub async fn handle_lambda(
        self: Arc<Self>,
        event: LambdaEvent<Box<RawValue>>,
    ) -> Result<Reply, InvocationError> {
        let context = &event.context;
        let invoked = Some(context.invoked_function_arn.as_str()).filter(|a| !a.is_empty());
        self.respond(event.payload.get().as_bytes(), context.deadline, invoked)
            .await
    }
}

/// The `StreamsEventResponse` Lambda reads for ReportBatchItemFailures.
pub fn batch_item_failures(sequence_numbers: &[String]) -> StreamsEventResponse {
    StreamsEventResponse {
        batch_item_failures: sequence_numbers
            .iter()
            .map(|s| BatchItemFailure {
                item_identifier: s.clone(),
            })
            .collect(),
    }
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
        kind: ErrorKind::of(&outcome.failures),
        summary,
    })
}

/// The variables the Lambda service sets for a custom runtime and
/// `lambda_runtime` reads (it panics when one is missing).
pub const LAMBDA_VARIABLES: [&str; 4] = [
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
];

/// Why `rds-forwarder lambda` cannot serve invocations here.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum LambdaEnvError {
    #[error("not running under AWS Lambda: {} not set (the Lambda service sets them; to try events locally use `rds-forwarder replay`)", .0.join(", "))]
    Missing(Vec<&'static str>),
    #[error("AWS_LAMBDA_FUNCTION_MEMORY_SIZE is `{0}`, not a whole number of MB")]
    BadMemorySize(String),
}

/// Checks up front what `lambda_runtime` needs, so a missing variable is a
/// clear message instead of a panic inside the runtime.
pub fn check_lambda_environment(
    get: impl Fn(&str) -> Option<String>,
) -> Result<(), LambdaEnvError> {
    let missing: Vec<&'static str> = LAMBDA_VARIABLES
        .into_iter()
        .filter(|v| get(v).is_none_or(|x| x.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(LambdaEnvError::Missing(missing));
    }
    let memory = get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE").unwrap_or_default();
    if memory.parse::<i32>().is_err() {
        return Err(LambdaEnvError::BadMemorySize(memory));
    }
    Ok(())
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
/// [`MAX_LAMBDA_TIMEOUT`] rather than failing every invocation, and none is
/// further than that.
pub fn instant_for(deadline_ms: u64) -> Instant {
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0);
    let left = if deadline_ms < PLAUSIBLE_EPOCH_MS {
        MAX_LAMBDA_TIMEOUT
    } else {
        // No Lambda function runs longer than MAX_LAMBDA_TIMEOUT: a deadline
        // further out (u64::MAX from a broken emulator) is bounded by it.
        Duration::from_millis(deadline_ms.saturating_sub(now_ms)).min(MAX_LAMBDA_TIMEOUT)
    };
    rdsf_core::time::instant_after(left.saturating_sub(DEADLINE_SAFETY_MARGIN))
}

#[cfg(test)]
mod auto_subscribe_tests {
    use super::*;
    use crate::config::Config;
    use rdsf_aws::subscribe::fake::FakeLogs;

    const EVENT: &[u8] = include_bytes!("../tests/data/deploy/cloudtrail-create-log-group.json");

    type Puts = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String)>>>;

    fn handler(destination: Option<&str>) -> (Handler, Puts) {
        let fake = FakeLogs::default();
        let puts = fake.puts.clone();
        let mut h = Handler::new(Pipeline::new(Config::default()), Vec::new());
        h.auto_subscribe = Some(AutoSubscribe {
            subscriber: Box::new(fake),
            prefix: "/aws/rds/".into(),
            destination_arn: destination.map(str::to_owned),
        });
        (h, puts)
    }

    fn run(h: &Handler, event: &[u8], arn: Option<&str>) -> Result<Stats, InvocationError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(h.handle_invocation(event, u64::MAX, arn))
    }

    #[test]
    fn subscribes_the_new_group_to_the_invoked_function() {
        let (h, puts) = handler(None);
        let stats = run(
            &h,
            EVENT,
            Some("arn:aws:lambda:us-east-1:123456789012:function:rdsf"),
        )
        .unwrap();
        assert_eq!(stats.records, 0);
        assert_eq!(
            *puts.lock().unwrap(),
            vec![(
                "/aws/rds/instance/orders-db/postgresql".to_owned(),
                "rds-forwarder".to_owned(),
                "arn:aws:lambda:us-east-1:123456789012:function:rdsf".to_owned()
            )]
        );
    }

    #[test]
    fn configured_destination_wins_and_other_prefixes_are_left_alone() {
        let (h, puts) = handler(Some("arn:configured"));
        run(&h, EVENT, Some("arn:invoked")).unwrap();
        assert_eq!(puts.lock().unwrap()[0].2, "arn:configured");

        let (h, puts) = handler(Some("arn:configured"));
        let other = String::from_utf8_lossy(EVENT).replace("/aws/rds/instance", "/aws/lambda");
        run(&h, other.as_bytes(), None).unwrap();
        assert!(puts.lock().unwrap().is_empty());
    }

    /// Enhanced Monitoring's group lies outside `/aws/rds/` and is subscribed
    /// all the same (setup.yaml's `SubscribeEnhancedMonitoring` sends it here).
    #[test]
    fn the_enhanced_monitoring_group_is_subscribed_too() {
        let (h, puts) = handler(None);
        let em = String::from_utf8_lossy(EVENT)
            .replace("/aws/rds/instance/orders-db/postgresql", "RDSOSMetrics");
        assert!(em.contains("\"RDSOSMetrics\""));
        run(&h, em.as_bytes(), Some("arn:invoked")).unwrap();
        assert_eq!(
            *puts.lock().unwrap(),
            vec![(
                "RDSOSMetrics".to_owned(),
                "rds-forwarder".to_owned(),
                "arn:invoked".to_owned()
            )]
        );
    }

    #[test]
    fn without_auto_subscription_the_event_fails_permanently() {
        let h = Handler::new(Pipeline::new(Config::default()), Vec::new());
        let err = run(&h, EVENT, Some("arn:invoked")).unwrap_err();
        assert_eq!(err.kind, "permanent");
        assert!(err.summary.contains("not configured"), "{}", err.summary);
    }
}

#[cfg(test)]
mod environment_tests {
    use super::*;

    #[test]
    fn a_memory_size_lambda_runtime_cannot_parse_is_named_not_panicked_on() {
        let env = |k: &str| {
            Some(match k {
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE" => "lots".to_owned(),
                _ => "x".to_owned(),
            })
        };
        assert_eq!(
            check_lambda_environment(env),
            Err(LambdaEnvError::BadMemorySize("lots".to_owned()))
        );
        assert_eq!(
            check_lambda_environment(
                |k: &str| (k != "AWS_LAMBDA_FUNCTION_VERSION").then(|| "128".to_owned())
            ),
            Err(LambdaEnvError::Missing(vec!["AWS_LAMBDA_FUNCTION_VERSION"]))
        );
        assert_eq!(
            check_lambda_environment(|_: &str| Some("128".to_owned())),
            Ok(())
        );
    }
}
