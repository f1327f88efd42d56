//! The Lambda handler called directly, as the aws-lambda-rust-runtime
//! examples test handlers: a sink that fails makes the invocation fail with
//! a retryable error; malformed input gives a permanent one.

use crate::common;

use std::sync::Mutex;
use std::time::Instant;

use common::*;
use rds_forwarder::lambda::Handler;
use rdsf_core::record::{self, ResourceRecords};
use rdsf_sinks::{BoxFuture, Sink, SinkError};

/// Keeps what it is sent, or refuses everything.
struct TestSink {
    refuse: bool,
    got: std::sync::Arc<Mutex<Vec<String>>>,
}

impl Sink for TestSink {
    fn name(&self) -> &'static str {
        "test"
    }
    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if self.refuse {
                return Err(SinkError::Unavailable {
                    sink: "test",
                    detail: "connection refused".into(),
                });
            }
            self.got
                .lock()
                .unwrap()
                .extend(record::flatten(batch).map(|r| r.id.clone()));
            Ok(())
        })
    }
}

fn handler(refuse: bool) -> Handler {
    Handler::new(
        pipeline(),
        vec![Box::new(TestSink {
            refuse,
            got: Default::default(),
        })],
    )
}

fn far_deadline_ms() -> u64 {
    (rdsf_core::time::now_ns() / 1_000_000) as u64 + 60_000
}

#[tokio::test]
async fn delivered_events_succeed_with_a_summary() {
    let h = handler(false);
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let stats = h.handle(&event, far_deadline_ms()).await.unwrap();
    assert_eq!(stats.log_events, 200);
    assert_eq!(stats.delivered, stats.records);
    assert!(stats.failures.is_empty());
}

#[tokio::test]
async fn a_failing_sink_fails_the_invocation_as_retryable() {
    let h = handler(true);
    let event =
        std::fs::read(manifest_dir().join("examples/eventbridge-rds-failover.json")).unwrap();
    let err = h.handle(&event, far_deadline_ms()).await.unwrap_err();
    assert_eq!(err.kind, "retryable");
    assert!(
        err.summary.contains("0 of 1 records delivered"),
        "{}",
        err.summary
    );
    assert!(
        err.summary.contains("connection refused"),
        "{}",
        err.summary
    );
}

#[tokio::test]
async fn malformed_input_fails_as_permanent() {
    let h = handler(false);
    let err = h
        .handle(b"{\"awslogs\":{}}", far_deadline_ms())
        .await
        .unwrap_err();
    assert_eq!(err.kind, "permanent");
    assert!(
        err.summary.contains("unknown_event_shape"),
        "{}",
        err.summary
    );
}

/// A deadline whose safety margin has already run out: processing must not
/// even start.
fn spent_deadline_ms() -> u64 {
    (rdsf_core::time::now_ns() / 1_000_000) as u64 + 100
}

/// Issue 13: processing never looked at the clock, so with a 20 s deadline
/// the reply came at 52 s and Lambda killed the invocation. Processing now
/// stops at the deadline and the invocation fails cleanly as retryable,
/// without sending partial records.
#[tokio::test]
async fn processing_past_the_deadline_fails_as_retryable_and_sends_nothing() {
    let got = std::sync::Arc::new(Mutex::new(Vec::new()));
    let h = Handler::new(
        pipeline(),
        vec![Box::new(TestSink {
            refuse: false,
            got: got.clone(),
        })],
    );
    let event = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let err = h.handle(&event, spent_deadline_ms()).await.unwrap_err();
    assert_eq!(err.kind, "retryable", "{}", err.summary);
    assert!(
        err.summary.contains("processing_deadline"),
        "{}",
        err.summary
    );
    assert!(got.lock().unwrap().is_empty(), "partial records sent");
}

/// Issue 14: the reply's error type came from the failure's reason text
/// (`sink_*` meant retryable), so a batch the backend refused for good
/// (`sink_rejected`, HTTP 400) was retried as if it could pass. The typed
/// failure decides now.
#[tokio::test]
async fn a_batch_the_backend_rejects_for_good_fails_as_permanent() {
    struct Rejecting;
    impl Sink for Rejecting {
        fn name(&self) -> &'static str {
            "rejecting"
        }
        fn send<'a>(
            &'a self,
            _batch: &'a [ResourceRecords<'a>],
            _deadline: Instant,
        ) -> BoxFuture<'a, Result<(), SinkError>> {
            Box::pin(async {
                Err(SinkError::Rejected {
                    sink: "rejecting",
                    detail: "HTTP 400: bad request".into(),
                })
            })
        }
    }
    let h = Handler::new(pipeline(), vec![Box::new(Rejecting)]);
    let event =
        std::fs::read(manifest_dir().join("examples/eventbridge-rds-failover.json")).unwrap();
    let err = h.handle(&event, far_deadline_ms()).await.unwrap_err();
    assert_eq!(err.kind, "permanent", "{}", err.summary);
    assert!(err.summary.contains("sink_rejected"), "{}", err.summary);
    // Beside a sink that may recover, the invocation is retried.
    let h = Handler::new(
        pipeline(),
        vec![
            Box::new(Rejecting),
            Box::new(TestSink {
                refuse: true,
                got: Default::default(),
            }),
        ],
    );
    let err = h.handle(&event, far_deadline_ms()).await.unwrap_err();
    assert_eq!(err.kind, "retryable", "{}", err.summary);
}
