//! The one delivery engine every sink goes through: batching by count and
//! bytes, bounded concurrency, retries with exponential backoff and full
//! jitter, a per-attempt timeout and the invocation's overall deadline.
//!
//! Sinks stay simple (encode one batch, send it once, say whether it landed);
//! the policy of *when* to try again lives here, once. The engine never drops
//! a batch quietly: whatever was not confirmed comes back in the
//! [`DeliveryReport`], which the pipeline turns into a failed invocation (or
//! Kinesis `batchItemFailures`), so Lambda sends it again — at-least-once.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use futures_util::stream::{FuturesUnordered, StreamExt};

use crate::{BoxFuture, Sink, SinkError};
use rdsf_core::config_error::ConfigError;
use rdsf_core::failure::Failure;
use rdsf_core::metric::MetricPoint;
use rdsf_core::record::{Attributes, Record, RecordSet, Value};

/// Default maximum records per batch.
pub const DEFAULT_BATCH_MAX_RECORDS: usize = 1000;
/// Default maximum estimated (uncompressed) bytes per batch: 1 MiB, well under
/// the request limits of common OTLP receivers (4 MiB in the Collector's gRPC
/// default) and WhaTap.
pub const DEFAULT_BATCH_MAX_BYTES: usize = 1024 * 1024;
/// Default number of batches in flight at once (over all sinks).
pub const DEFAULT_CONCURRENCY: usize = 4;
/// Default attempts per batch (the first try included).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 5;
pub const DEFAULT_INITIAL_BACKOFF_MS: u64 = 200;
pub const DEFAULT_MAX_BACKOFF_MS: u64 = 5_000;
/// Default bound on one attempt (connect, send, answer).
pub const DEFAULT_ATTEMPT_TIMEOUT_MS: u64 = 10_000;

/// Delivery settings (environment variables, each mirrored by a flag).
#[derive(Debug, Clone, Args)]
pub struct DeliverySettings {
    /// Maximum records per batch a sink sends in one request.
    #[arg(help_heading = "Delivery", long, env = "RDSF_BATCH_MAX_RECORDS", default_value_t = DEFAULT_BATCH_MAX_RECORDS)]
    pub batch_max_records: usize,
    /// Maximum estimated uncompressed bytes per batch.
    #[arg(help_heading = "Delivery", long, env = "RDSF_BATCH_MAX_BYTES", default_value_t = DEFAULT_BATCH_MAX_BYTES)]
    pub batch_max_bytes: usize,
    /// Batches in flight at once, over all sinks (bounds memory: each holds one encoded request).
    #[arg(help_heading = "Delivery", long, env = "RDSF_DELIVERY_CONCURRENCY", default_value_t = DEFAULT_CONCURRENCY)]
    pub delivery_concurrency: usize,
    /// Attempts per batch, the first included; only retryable errors are tried again.
    #[arg(help_heading = "Delivery", long, env = "RDSF_RETRY_MAX_ATTEMPTS", default_value_t = DEFAULT_MAX_ATTEMPTS)]
    pub retry_max_attempts: u32,
    /// First backoff ceiling in ms; doubles per retry (full jitter: a random wait up to it).
    #[arg(help_heading = "Delivery", long, env = "RDSF_RETRY_INITIAL_BACKOFF_MS", default_value_t = DEFAULT_INITIAL_BACKOFF_MS)]
    pub retry_initial_backoff_ms: u64,
    /// Largest backoff ceiling in ms.
    #[arg(help_heading = "Delivery", long, env = "RDSF_RETRY_MAX_BACKOFF_MS", default_value_t = DEFAULT_MAX_BACKOFF_MS)]
    pub retry_max_backoff_ms: u64,
    /// Bound on one attempt in ms (sinks may use a shorter one of their own, e.g. OTEL_EXPORTER_OTLP_TIMEOUT).
    #[arg(help_heading = "Delivery", long, env = "RDSF_ATTEMPT_TIMEOUT_MS", default_value_t = DEFAULT_ATTEMPT_TIMEOUT_MS)]
    pub attempt_timeout_ms: u64,
}

/// Validated delivery policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeliveryConfig {
    pub batch_max_records: usize,
    pub batch_max_bytes: usize,
    pub concurrency: usize,
    pub max_attempts: u32,
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    pub attempt_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        DeliveryConfig {
            batch_max_records: DEFAULT_BATCH_MAX_RECORDS,
            batch_max_bytes: DEFAULT_BATCH_MAX_BYTES,
            concurrency: DEFAULT_CONCURRENCY,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            initial_backoff: Duration::from_millis(DEFAULT_INITIAL_BACKOFF_MS),
            max_backoff: Duration::from_millis(DEFAULT_MAX_BACKOFF_MS),
            attempt_timeout: Duration::from_millis(DEFAULT_ATTEMPT_TIMEOUT_MS),
        }
    }
}

impl DeliveryConfig {
    pub fn from_settings(s: &DeliverySettings) -> Result<DeliveryConfig, ConfigError> {
        let at_least_one = |setting: &'static str, v: u64| {
            if v == 0 {
                Err(ConfigError::Invalid {
                    setting,
                    detail: "must be at least 1".to_owned(),
                })
            } else {
                Ok(())
            }
        };
        at_least_one("RDSF_BATCH_MAX_RECORDS", s.batch_max_records as u64)?;
        at_least_one("RDSF_BATCH_MAX_BYTES", s.batch_max_bytes as u64)?;
        at_least_one("RDSF_DELIVERY_CONCURRENCY", s.delivery_concurrency as u64)?;
        at_least_one("RDSF_RETRY_MAX_ATTEMPTS", u64::from(s.retry_max_attempts))?;
        at_least_one("RDSF_ATTEMPT_TIMEOUT_MS", s.attempt_timeout_ms)?;
        Ok(DeliveryConfig {
            batch_max_records: s.batch_max_records,
            batch_max_bytes: s.batch_max_bytes,
            concurrency: s.delivery_concurrency,
            max_attempts: s.retry_max_attempts,
            initial_backoff: Duration::from_millis(s.retry_initial_backoff_ms),
            max_backoff: Duration::from_millis(
                s.retry_max_backoff_ms.max(s.retry_initial_backoff_ms),
            ),
            attempt_timeout: Duration::from_millis(s.attempt_timeout_ms),
        })
    }
}

/// One batch one sink could not deliver.
#[derive(Debug)]
pub struct BatchFailure {
    pub sink: &'static str,
    /// Indices into the items given to [`deliver`].
    pub records: Range<usize>,
    /// What the items are (`record(s)`, `metric point(s)`).
    pub noun: &'static str,
    pub attempts: u32,
    /// The last error seen.
    pub error: SinkError,
    /// Whether the deadline stopped further attempts.
    pub deadline_reached: bool,
}

impl BatchFailure {
    /// The reason counted in `Stats::failures`.
    pub fn reason(&self) -> &'static str {
        if self.deadline_reached {
            "sink_deadline"
        } else {
            self.error.reason()
        }
    }

    /// The invocation's failure for this batch: retryable when the deadline
    /// stopped the attempts (more time may do) or its error can pass on a
    /// retry.
    pub fn into_failure(self) -> Failure {
        Failure::sink(
            self.reason(),
            self.message(),
            self.deadline_reached || self.error.is_retryable(),
            Arc::new(self.error),
        )
    }

    /// One line saying what was not delivered, where and why.
    pub fn message(&self) -> String {
        format!(
            "{} {} [{}..{}) not delivered to {} after {} attempt(s){}: {}",
            self.records.len(),
            self.noun,
            self.records.start,
            self.records.end,
            self.sink,
            self.attempts,
            if self.deadline_reached {
                ", stopped by the invocation deadline"
            } else {
                ""
            },
            self.error
        )
    }
}

/// What [`deliver`] could not deliver; empty when every sink confirmed
/// every record.
#[derive(Debug, Default)]
pub struct DeliveryReport {
    pub failures: Vec<BatchFailure>,
    /// What each sink that took the items did with them (self-monitoring).
    pub sinks: BTreeMap<&'static str, SinkTally>,
}

/// One sink's part of a delivery.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SinkTally {
    /// Items the sink confirmed.
    pub delivered: usize,
    /// Attempts after the first, over all its batches.
    pub retries: u32,
    /// From the start of the delivery to the end of its last batch.
    pub duration: Duration,
}

impl DeliveryReport {
    pub fn is_complete(&self) -> bool {
        self.failures.is_empty()
    }

    /// Per record: `true` when some sink did not confirm it.
    pub fn undelivered(&self, total: usize) -> Vec<bool> {
        let mut out = vec![false; total];
        for f in &self.failures {
            for slot in &mut out[f.records.clone()] {
                *slot = true;
            }
        }
        out
    }
}

/// What the delivery engine carries: log records (grouped by resource) or
/// metric points. Each says how many items it has, how big each is (for
/// batching), which sinks take them and how to send a range of them, so
/// batching, concurrency, retries and the deadline are shared.
pub trait Items: Sync {
    /// Named in failure messages (`3 record(s) not delivered …`).
    const NOUN: &'static str;
    fn count(&self) -> usize;
    fn estimated_size(&self, i: usize) -> usize;
    fn taken_by(sink: &dyn Sink) -> bool;
    fn send<'a>(
        &'a self,
        sink: &'a dyn Sink,
        range: Range<usize>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>>;
}

impl Items for RecordSet {
    const NOUN: &'static str = "record(s)";
    fn count(&self) -> usize {
        self.len()
    }
    fn estimated_size(&self, i: usize) -> usize {
        estimated_size(&self[i])
    }
    fn taken_by(_sink: &dyn Sink) -> bool {
        true
    }
    /// The batch goes out grouped by resource (a batch that spans two
    /// documents holds two groups).
    fn send<'a>(
        &'a self,
        sink: &'a dyn Sink,
        range: Range<usize>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        let groups = self.groups(range);
        Box::pin(async move { sink.send(&groups, deadline).await })
    }
}

impl Items for [MetricPoint] {
    const NOUN: &'static str = "metric point(s)";
    fn count(&self) -> usize {
        self.len()
    }
    fn estimated_size(&self, i: usize) -> usize {
        self[i].estimated_size()
    }
    fn taken_by(sink: &dyn Sink) -> bool {
        sink.accepts_metrics()
    }
    fn send<'a>(
        &'a self,
        sink: &'a dyn Sink,
        range: Range<usize>,
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        sink.send_metrics(&self[range], deadline)
    }
}

/// Splits `items` into consecutive batches of at most `max_items` items
/// and about `max_bytes` estimated bytes (a single larger item is a batch
/// of its own).
pub fn batches<T: Items + ?Sized>(
    items: &T,
    max_items: usize,
    max_bytes: usize,
) -> Vec<Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut bytes = 0;
    for i in 0..items.count() {
        let size = items.estimated_size(i);
        let count = i - start;
        if count > 0 && (count >= max_items || bytes + size > max_bytes) {
            out.push(start..i);
            start = i;
            bytes = 0;
        }
        bytes += size;
    }
    if start < items.count() {
        out.push(start..items.count());
    }
    out
}

/// A cheap estimate of a record's encoded size; resources are shared and
/// counted by the sinks once per batch, so they are left out here.
pub fn estimated_size(r: &Record) -> usize {
    48 + r.body.len() + r.id.len() + r.severity.text.len() + attributes_size(&r.attributes)
}

fn attributes_size(a: &Attributes) -> usize {
    a.iter().map(|(k, v)| 8 + k.len() + value_size(v)).sum()
}

fn value_size(v: &Value) -> usize {
    match v {
        Value::Str(s) => s.len() + 2,
        Value::Int(_) | Value::Double(_) => 9,
        Value::Bool(_) => 2,
        Value::Array(items) => 4 + items.iter().map(value_size).sum::<usize>(),
    }
}

/// Delivers `items` (records or metric points) to every sink that takes
/// them, in batches, retrying what may succeed later, and gives up at
/// `deadline`. Returns what was not delivered.
pub async fn deliver<T: Items + ?Sized>(
    sinks: &[Box<dyn Sink>],
    items: &T,
    deadline: Instant,
    config: &DeliveryConfig,
) -> DeliveryReport {
    let ranges = batches(items, config.batch_max_records, config.batch_max_bytes);
    // A plain loop over a queue, no stream adapters: closures over
    // `&dyn Sink` kept in the future make it impossible for a caller that
    // spawns it (serve's connection tasks) to prove it `Send` for every
    // lifetime.
    let mut queue = Vec::new();
    for sink in sinks.iter().filter(|s| T::taken_by(s.as_ref())) {
        for range in &ranges {
            queue.push((sink.as_ref(), range.clone()));
        }
    }
    let mut queue = queue.into_iter();
    let mut running = FuturesUnordered::new();
    let mut failures: Vec<BatchFailure> = Vec::new();
    let mut sinks_tally: BTreeMap<&'static str, SinkTally> = BTreeMap::new();
    let started = Instant::now();
    loop {
        while running.len() < config.concurrency.max(1) {
            let Some((sink, range)) = queue.next() else {
                break;
            };
            running.push(send_with_retries(sink, items, range, deadline, config));
        }
        let Some((sink, count, result)) = running.next().await else {
            break;
        };
        let tally = sinks_tally.entry(sink).or_default();
        tally.duration = started.elapsed();
        match result {
            Ok(attempts) => {
                tally.delivered += count;
                tally.retries += attempts.saturating_sub(1);
            }
            Err(failure) => {
                tally.retries += failure.attempts.saturating_sub(1);
                failures.push(failure);
            }
        }
    }
    let mut report = DeliveryReport {
        failures,
        sinks: sinks_tally,
    };
    report.failures.sort_by_key(|f| (f.records.start, f.sink));
    report
}

/// One batch to one sink: (the sink's name, the batch's size, the attempts
/// it took or why it failed).
async fn send_with_retries<T: Items + ?Sized>(
    sink: &dyn Sink,
    items: &T,
    range: Range<usize>,
    deadline: Instant,
    config: &DeliveryConfig,
) -> (&'static str, usize, Result<u32, BatchFailure>) {
    let count = range.len();
    let result = attempt_batch(sink, items, range, deadline, config).await;
    (sink.name(), count, result)
}

async fn attempt_batch<T: Items + ?Sized>(
    sink: &dyn Sink,
    items: &T,
    range: Range<usize>,
    deadline: Instant,
    config: &DeliveryConfig,
) -> Result<u32, BatchFailure> {
    let fail = |attempts, error, deadline_reached| BatchFailure {
        sink: sink.name(),
        records: range.clone(),
        noun: T::NOUN,
        attempts,
        error,
        deadline_reached,
    };
    let mut attempts = 0;
    loop {
        let now = Instant::now();
        if now >= deadline {
            return Err(fail(
                attempts,
                SinkError::Deadline { sink: sink.name() },
                true,
            ));
        }
        attempts += 1;
        let attempt_deadline = deadline.min(now + config.attempt_timeout);
        // The sink should honour the deadline itself; the timeout is the
        // guarantee for one that does not (no attempt outlives its bound).
        let result = tokio::time::timeout_at(
            tokio::time::Instant::from_std(attempt_deadline),
            items.send(sink, range.clone(), attempt_deadline),
        )
        .await
        .unwrap_or_else(|_| {
            Err(SinkError::Unavailable {
                sink: sink.name(),
                detail: format!(
                    "no answer within {} ms",
                    (attempt_deadline - now).as_millis()
                ),
            })
        });
        let error = match result {
            Ok(()) => return Ok(attempts),
            Err(e) if !e.is_retryable() => return Err(fail(attempts, e, false)),
            Err(e) => e,
        };
        if attempts >= config.max_attempts {
            return Err(fail(attempts, error, false));
        }
        let wait = backoff(config, attempts, error.retry_after());
        if rdsf_core::time::instant_after(wait) >= deadline {
            // Waiting would end past the deadline: stop now, cleanly.
            return Err(fail(attempts, error, true));
        }
        tracing::warn!(
            sink = sink.name(),
            attempt = attempts,
            wait_ms = wait.as_millis() as u64,
            "{error}; retrying"
        );
        tokio::time::sleep(wait).await;
    }
}

/// Exponential backoff with full jitter (a uniformly random wait between 0
/// and the doubling ceiling), but never shorter than a server's `Retry-After`.
pub fn backoff(config: &DeliveryConfig, attempts: u32, retry_after: Option<Duration>) -> Duration {
    let ceiling = config
        .initial_backoff
        .saturating_mul(1u32 << (attempts.saturating_sub(1)).min(16))
        .min(config.max_backoff);
    let jittered = Duration::from_nanos(fastrand::u64(
        0..=ceiling.as_nanos().min(u64::MAX as u128) as u64,
    ));
    match retry_after {
        Some(ra) => jittered.max(ra),
        None => jittered,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Mutex;

    use super::*;
    use crate::BoxFuture;
    use rdsf_core::record::ResourceRecords;
    use rdsf_core::severity::Severity;

    fn record(id: usize, body_len: usize) -> Record {
        Record {
            timestamp_ns: 1,
            observed_timestamp_ns: 2,
            severity: Severity::info(),
            body: "x".repeat(body_len),
            attributes: Attributes::new(),
            id: id.to_string(),
        }
    }

    /// `records` of one resource.
    fn set(records: Vec<Record>) -> RecordSet {
        RecordSet::of(Arc::new(Attributes::new()), records)
    }

    /// Fails the first `failures` sends with `error`, then accepts.
    struct Flaky {
        failures: u32,
        error: fn() -> SinkError,
        calls: AtomicU32,
        accepted: Mutex<Vec<String>>,
        /// Groups per accepted batch.
        groups: Mutex<Vec<usize>>,
    }

    impl Flaky {
        fn new(failures: u32, error: fn() -> SinkError) -> Flaky {
            Flaky {
                failures,
                error,
                calls: AtomicU32::new(0),
                accepted: Mutex::new(Vec::new()),
                groups: Mutex::new(Vec::new()),
            }
        }
    }

    impl Sink for Arc<Flaky> {
        fn name(&self) -> &'static str {
            "flaky"
        }
        fn send<'a>(
            &'a self,
            batch: &'a [ResourceRecords<'a>],
            _deadline: Instant,
        ) -> BoxFuture<'a, Result<(), SinkError>> {
            Box::pin(async move {
                if self.calls.fetch_add(1, Ordering::SeqCst) < self.failures {
                    return Err((self.error)());
                }
                self.groups.lock().unwrap().push(batch.len());
                let mut accepted = self.accepted.lock().unwrap();
                for group in batch {
                    // Which resource each record came with, by its `id` key.
                    let of = group.resource.get_str("id").unwrap_or("-");
                    accepted.extend(group.records.iter().map(|r| format!("{of}:{}", r.id)));
                }
                Ok(())
            })
        }
    }

    fn unavailable() -> SinkError {
        SinkError::Unavailable {
            sink: "flaky",
            detail: "down".into(),
        }
    }
    fn rejected() -> SinkError {
        SinkError::Rejected {
            sink: "flaky",
            detail: "bad".into(),
        }
    }

    fn fast() -> DeliveryConfig {
        DeliveryConfig {
            initial_backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(2),
            ..DeliveryConfig::default()
        }
    }

    /// Batches are cut inside the resource grouping: a batch that spans two
    /// resources reaches the sink as two groups, in order, each with its
    /// own resource.
    #[tokio::test]
    async fn a_batch_reaches_the_sink_grouped_by_resource() {
        let flaky = Arc::new(Flaky::new(0, unavailable));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let resource = |id: &str| {
            let mut a = Attributes::new();
            a.insert("id", id);
            Arc::new(a)
        };
        let (a, b) = (resource("a"), resource("b"));
        let mut rs = RecordSet::new();
        for i in 0..5 {
            rs.push(if i < 2 { &a } else { &b }, record(i, 10));
        }
        let config = DeliveryConfig {
            batch_max_records: 3,
            concurrency: 1,
            ..fast()
        };
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(5),
            &config,
        )
        .await;
        assert!(report.is_complete());
        let mut accepted = flaky.accepted.lock().unwrap().clone();
        accepted.sort();
        assert_eq!(accepted, ["a:0", "a:1", "b:2", "b:3", "b:4"]);
        let mut groups = flaky.groups.lock().unwrap().clone();
        groups.sort();
        assert_eq!(groups, [1, 2], "0..3 spans a and b; 3..5 is b alone");
    }

    #[test]
    fn batches_by_count_and_bytes() {
        let rs = set((0..10).map(|i| record(i, 100)).collect());
        assert_eq!(batches(&rs, 4, usize::MAX), vec![0..4, 4..8, 8..10]);
        let size = estimated_size(&rs[0]);
        assert_eq!(batches(&rs, 100, size * 3), vec![0..3, 3..6, 6..9, 9..10]);
        // A record above the byte limit still goes, alone.
        assert_eq!(batches(&set(rs[..2].to_vec()), 100, 1), vec![0..1, 1..2]);
        assert!(batches(&RecordSet::new(), 1, 1).is_empty());
    }

    #[test]
    fn backoff_is_bounded_and_honours_retry_after() {
        let c = fast();
        for attempt in 1..40 {
            assert!(backoff(&c, attempt, None) <= c.max_backoff);
        }
        assert!(backoff(&c, 1, Some(Duration::from_secs(1))) >= Duration::from_secs(1));
    }

    #[tokio::test]
    async fn retries_retryable_errors_until_delivered() {
        let flaky = Arc::new(Flaky::new(2, unavailable));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let rs = set((0..5).map(|i| record(i, 10)).collect());
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(60),
            &fast(),
        )
        .await;
        assert!(report.is_complete(), "{report:?}");
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
        assert_eq!(flaky.accepted.lock().unwrap().len(), 5);
    }

    /// Issue 13: `Retry-After: 18446744073709551615` overflowed `Instant + Duration`
    /// (exit 101). A wait past the deadline now ends the delivery cleanly.
    #[tokio::test]
    async fn an_absurd_retry_after_ends_at_the_deadline_without_panicking() {
        fn throttled_forever() -> SinkError {
            SinkError::Throttled {
                sink: "flaky",
                detail: "429".into(),
                retry_after: crate::otlp::transport::parse_retry_after("18446744073709551615"),
            }
        }
        assert!(throttled_forever().retry_after().is_some());
        let flaky = Arc::new(Flaky::new(u32::MAX, throttled_forever));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let rs = set((0..2).map(|i| record(i, 10)).collect());
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(60),
            &fast(),
        )
        .await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 1, "no wait, no retry");
        assert_eq!(report.failures.len(), 1);
        assert_eq!(report.failures[0].reason(), "sink_deadline");
    }

    #[tokio::test]
    async fn permanent_errors_are_not_retried() {
        let flaky = Arc::new(Flaky::new(1, rejected));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let rs = set((0..3).map(|i| record(i, 10)).collect());
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(60),
            &fast(),
        )
        .await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 1);
        assert_eq!(report.failures.len(), 1);
        assert_eq!(report.failures[0].reason(), "sink_rejected");
        assert_eq!(report.undelivered(3), vec![true, true, true]);
    }

    #[tokio::test]
    async fn gives_up_after_max_attempts_and_reports_the_batch() {
        let flaky = Arc::new(Flaky::new(u32::MAX, unavailable));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let rs = set((0..3).map(|i| record(i, 10)).collect());
        let config = DeliveryConfig {
            batch_max_records: 2,
            max_attempts: 3,
            ..fast()
        };
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(60),
            &config,
        )
        .await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 6);
        assert_eq!(report.failures.len(), 2);
        assert_eq!(report.failures[0].records, 0..2);
        assert_eq!(report.failures[1].records, 2..3);
        assert!(report.failures[0].message().contains("after 3 attempt(s)"));
    }

    #[tokio::test]
    async fn a_past_deadline_fails_without_sending() {
        let flaky = Arc::new(Flaky::new(0, unavailable));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(flaky.clone())];
        let rs = set(vec![record(1, 1)]);
        let report = deliver(&sinks, &rs, Instant::now(), &fast()).await;
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 0);
        assert_eq!(report.failures[0].reason(), "sink_deadline");
    }

    #[tokio::test]
    async fn every_sink_must_accept_everything() {
        let good = Arc::new(Flaky::new(0, unavailable));
        let bad = Arc::new(Flaky::new(u32::MAX, rejected));
        let sinks: Vec<Box<dyn Sink>> = vec![Box::new(good.clone()), Box::new(bad)];
        let rs = set((0..4).map(|i| record(i, 10)).collect());
        let report = deliver(
            &sinks,
            &rs,
            Instant::now() + Duration::from_secs(60),
            &fast(),
        )
        .await;
        assert_eq!(good.accepted.lock().unwrap().len(), 4);
        assert!(!report.is_complete());
        assert_eq!(report.undelivered(4), vec![true; 4]);
    }

    // ---- a batch failure as the invocation sees it ----

    fn batch(error: SinkError, deadline_reached: bool) -> BatchFailure {
        BatchFailure {
            sink: "otlp",
            records: 0..3,
            noun: "record(s)",
            attempts: 2,
            error,
            deadline_reached,
        }
    }

    #[test]
    fn a_rejected_batch_is_permanent_and_an_unavailable_one_retryable() {
        let rejected = batch(
            SinkError::Rejected {
                sink: "otlp",
                detail: "HTTP 400".into(),
            },
            false,
        )
        .into_failure();
        assert_eq!(rejected.reason, "sink_rejected");
        assert!(!rejected.retryable());
        let down = batch(
            SinkError::Unavailable {
                sink: "otlp",
                detail: "refused".into(),
            },
            false,
        )
        .into_failure();
        assert!(down.retryable());
        // Whatever the last error, a deadline that stopped the attempts can
        // pass with more time.
        let late = batch(
            SinkError::Rejected {
                sink: "otlp",
                detail: "HTTP 400".into(),
            },
            true,
        )
        .into_failure();
        assert!(late.retryable());
        assert_eq!(late.reason, "sink_deadline");
    }
}
