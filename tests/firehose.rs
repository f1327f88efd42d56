//! The Firehose HTTP endpoint contract through a Lambda function URL,
//! request by request: a good delivery, a gzip body, a wrong or missing key,
//! an oversized body, a replayed request id, a sink that is down, and a
//! request that is not Firehose's.

use rdsf_testkit::payload::{base64 as b64, gzip};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::common::*;
use rds_forwarder::config::Config;
use rds_forwarder::lambda::{Handler, Reply};
use rds_forwarder::pipeline::Pipeline;
use rdsf_core::record::{self, ResourceRecords};
use rdsf_core::secret::Secret;
use rdsf_sinks::{BoxFuture, Sink, SinkError};

pub const KEY: &str = "a-firehose-access-key-for-tests";

/// Keeps the ids of what it is sent; refuses while `down`; with a `gate`,
/// each send waits for a permit (counted in `waiting` meanwhile).
#[derive(Clone, Default)]
struct Recorder {
    down: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<String>>>,
    gate: Option<Arc<tokio::sync::Semaphore>>,
    waiting: Arc<AtomicUsize>,
}

impl Sink for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }
    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            if let Some(gate) = &self.gate {
                self.waiting.fetch_add(1, Ordering::SeqCst);
                drop(gate.acquire().await.expect("the gate stays open"));
            }
            if self.down.load(Ordering::SeqCst) {
                return Err(SinkError::Unavailable {
                    sink: "recorder",
                    detail: "connection refused".into(),
                });
            }
            let mut got = self.got.lock().unwrap();
            got.extend(record::flatten(batch).map(|r| r.id.clone()));
            Ok(())
        })
    }
}

fn handler(max_decompressed_bytes: usize) -> (Handler, Recorder) {
    handler_with(max_decompressed_bytes, Recorder::default())
}

fn handler_with(max_decompressed_bytes: usize, sink: Recorder) -> (Handler, Recorder) {
    let config = Config {
        firehose_access_key: Some(Secret::new(KEY)),
        max_decompressed_bytes,
        ..Config::default()
    };
    let mut pipeline_config = config;
    pipeline_config.delivery.max_attempts = 1;
    let handler = Handler::new(Pipeline::new(pipeline_config), vec![Box::new(sink.clone())]);
    (handler, sink)
}

/// Two records: a CloudWatch Logs document of two PostgreSQL lines (gzip, as
/// a subscription writes it to Firehose) and an EventBridge RDS event.
pub fn body(request_id: &str) -> String {
    let doc = subscription_doc(
        "/aws/rds/instance/db1/postgresql",
        &[
            "2025-11-25 07:50:00 UTC:10.0.0.1(5432):app@db:[42]:LOG:  checkpoint starting: time",
            "2025-11-25 07:50:01 UTC:10.0.0.1(5432):app@db:[42]:LOG:  checkpoint complete",
        ],
    );
    let event =
        std::fs::read(manifest_dir().join("tests/data/whatap/rds-event-failover.json")).unwrap();
    serde_json::json!({
        "requestId": request_id,
        "timestamp": 1_764_057_000_000i64,
        "records": [
            {"data": b64(&gzip(doc.to_string().as_bytes()))},
            {"data": b64(&event)},
        ],
    })
    .to_string()
}

/// A function URL event (payload 2.0) carrying a Firehose request.
pub(crate) fn function_url_event(
    request_id: &str,
    key: Option<&str>,
    body: &[u8],
    gzip_body: bool,
) -> Vec<u8> {
    let mut headers = serde_json::json!({
        "content-type": "application/json",
        "x-amz-firehose-protocol-version": "1.0",
        "x-amz-firehose-request-id": request_id,
        "x-amz-firehose-source-arn": "arn:aws:firehose:us-east-1:123456789012:deliverystream/rds",
    });
    if let Some(k) = key {
        headers["x-amz-firehose-access-key"] = k.into();
    }
    if gzip_body {
        headers["content-encoding"] = "gzip".into();
    }
    let (body, base64) = if gzip_body {
        (b64(&gzip(body)), true)
    } else {
        (String::from_utf8(body.to_vec()).unwrap(), false)
    };
    serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
        "headers": headers,
        "requestContext": {"http": {"method": "POST", "path": "/", "protocol": "HTTP/1.1", "sourceIp": "52.1.2.3"}},
        "body": body, "isBase64Encoded": base64,
    })
    .to_string()
    .into_bytes()
}

fn deadline_ms() -> u64 {
    (rdsf_core::time::now_ns() / 1_000_000) as u64 + 60_000
}

/// Status and the answer's JSON body.
async fn call(h: &Handler, event: &[u8]) -> (u16, serde_json::Value) {
    match h.respond(event, deadline_ms(), None).await.unwrap() {
        Reply::Http(r) => {
            assert_eq!(r.headers.get("content-type"), Some(&"application/json"));
            (r.status_code, r.response())
        }
        other => panic!("a function URL event answered with {other:?}"),
    }
}

#[tokio::test]
async fn a_good_delivery_is_answered_200_with_its_request_id_after_every_record_is_sent() {
    let (h, sink) = handler(1 << 20);
    let (status, answer) = call(
        &h,
        &function_url_event("req-1", Some(KEY), body("req-1").as_bytes(), false),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["requestId"], "req-1");
    assert!(answer["timestamp"].as_i64().unwrap() > 1_700_000_000_000);
    assert!(answer.get("errorMessage").is_none());
    let got = sink.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "two log lines and the RDS event: {got:?}");
}

#[tokio::test]
async fn a_gzip_body_is_read() {
    let (h, sink) = handler(1 << 20);
    let (status, _) = call(
        &h,
        &function_url_event("req-gz", Some(KEY), body("req-gz").as_bytes(), true),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(sink.got.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_wrong_or_missing_key_is_401_and_nothing_is_sent() {
    let (h, sink) = handler(1 << 20);
    for key in [Some("wrong-key"), None, Some("")] {
        let (status, answer) = call(
            &h,
            &function_url_event("req-k", key, body("req-k").as_bytes(), false),
        )
        .await;
        assert_eq!(status, 401, "{key:?}: {answer}");
        assert_eq!(answer["requestId"], "req-k");
        assert!(!answer.to_string().contains(KEY));
    }
    assert!(sink.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn an_oversized_body_is_413() {
    let (h, sink) = handler(1024);
    let big = body("req-big");
    assert!(big.len() > 1024);
    let (status, answer) = call(
        &h,
        &function_url_event("req-big", Some(KEY), big.as_bytes(), true),
    )
    .await;
    assert_eq!(status, 413, "{answer}");
    assert_eq!(answer["requestId"], "req-big");
    assert!(sink.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_replayed_request_id_is_answered_200_without_sending_again() {
    let (h, sink) = handler(1 << 20);
    let event = function_url_event("req-r", Some(KEY), body("req-r").as_bytes(), false);
    assert_eq!(call(&h, &event).await.0, 200);
    assert_eq!(
        call(&h, &event).await.0,
        200,
        "Firehose lost our first 200 and retried"
    );
    assert_eq!(sink.got.lock().unwrap().len(), 3, "delivered exactly once");
}

#[tokio::test]
async fn a_sink_down_is_503_and_the_retry_delivers() {
    let (h, sink) = handler(1 << 20);
    let event = function_url_event("req-d", Some(KEY), body("req-d").as_bytes(), false);
    sink.down.store(true, Ordering::SeqCst);
    let (status, answer) = call(&h, &event).await;
    assert_eq!(status, 503, "{answer}");
    assert_eq!(answer["requestId"], "req-d");
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("recorder"),
        "{answer}"
    );
    // Not remembered as delivered: Firehose's retry is delivered.
    sink.down.store(false, Ordering::SeqCst);
    assert_eq!(call(&h, &event).await.0, 200);
    assert_eq!(sink.got.lock().unwrap().len(), 3);
}

#[tokio::test]
async fn a_request_that_is_not_firehose_is_404() {
    let (h, sink) = handler(1 << 20);
    let event = serde_json::json!({
        "version": "2.0", "routeKey": "$default", "rawPath": "/healthz", "rawQueryString": "",
        "headers": {"user-agent": "curl"},
        "requestContext": {"http": {"method": "GET", "path": "/healthz"}},
        "isBase64Encoded": false,
    });
    let (status, answer) = call(&h, event.to_string().as_bytes()).await;
    assert_eq!(status, 404, "{answer}");
    assert!(sink.got.lock().unwrap().is_empty());
}

#[tokio::test]
async fn a_bad_record_fails_the_request_with_400_after_the_good_ones_went() {
    let (h, sink) = handler(1 << 20);
    let mut body: serde_json::Value = serde_json::from_str(&body("req-b")).unwrap();
    body["records"]
        .as_array_mut()
        .unwrap()
        .push(serde_json::json!({"data": "%%%"}));
    let (status, answer) = call(
        &h,
        &function_url_event("req-b", Some(KEY), body.to_string().as_bytes(), false),
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Firehose record 2"),
        "{answer}"
    );
    // At-least-once: the good records went; Firehose retries the request and,
    // at the end of its window, backs it up to S3 (the bad record with it).
    assert_eq!(sink.got.lock().unwrap().len(), 3);
}

/// A copy of a request that arrives while the first is still being
/// delivered is answered 503 (retry later), not delivered beside it; once
/// the first is done, the retry is answered 200 from the replay memory.
/// Records are sent once. Without the in-flight mark both copies deliver.
#[tokio::test]
async fn a_copy_arriving_while_its_request_is_in_flight_is_503_and_records_go_once() {
    let gate = Arc::new(tokio::sync::Semaphore::new(0));
    let (h, sink) = handler_with(
        1 << 20,
        Recorder {
            gate: Some(gate.clone()),
            ..Recorder::default()
        },
    );
    let event = function_url_event(
        "rid-in-flight",
        Some(KEY),
        body("rid-in-flight").as_bytes(),
        false,
    );
    let first = call(&h, &event);
    let copy = async {
        let started = Instant::now();
        while sink.waiting.load(Ordering::SeqCst) == 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "the first request never reached the sink"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        let answer = call(&h, &event).await;
        gate.add_permits(1_000);
        answer
    };
    let ((first_status, _), (copy_status, copy_answer)) = tokio::join!(first, copy);
    assert_eq!(first_status, 200);
    assert_eq!(copy_status, 503, "{copy_answer}");
    assert_eq!(copy_answer["requestId"], "rid-in-flight");
    assert!(
        copy_answer["errorMessage"]
            .as_str()
            .unwrap()
            .contains("in progress"),
        "{copy_answer}"
    );
    let (retry_status, _) = call(&h, &event).await;
    assert_eq!(retry_status, 200);
    assert_eq!(sink.got.lock().unwrap().len(), 3, "each record sent once");
}
