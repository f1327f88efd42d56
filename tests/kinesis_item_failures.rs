//! Kinesis input with `RDSF_KINESIS_BATCH_ITEM_FAILURES=true`: the records
//! that were not delivered (or not decodable) come back as
//! `batchItemFailures`, the others are not re-sent; without the setting any
//! failure fails the whole invocation.

use crate::delivery_support;

use std::io::Write;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use delivery_support::fault_server::{Act, FaultServer};
use rds_forwarder::lambda::Handler;
use serde_json::json;

/// One Kinesis record holding a CloudWatch Logs document of three events.
fn kinesis_record(seq: &str) -> serde_json::Value {
    let events: Vec<_> = (1..=3)
        .map(|j| json!({ "id": format!("{seq}-e{j}"), "timestamp": 1_764_000_000_000i64 + j, "message": format!("event {j} of {seq}") }))
        .collect();
    let doc = json!({
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/rds/instance/kinesisdb/error",
        "logStream": "kinesisdb",
        "subscriptionFilters": ["to-kinesis"],
        "logEvents": events,
    });
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    kinesis_envelope(seq, &data)
}

fn kinesis_envelope(seq: &str, data: &str) -> serde_json::Value {
    json!({
        "kinesis": { "kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq, "data": data, "approximateArrivalTimestamp": 1.7e9 },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{seq}"),
        "eventName": "aws:kinesis:record",
        "awsRegion": "us-east-1",
    })
}

fn event() -> Vec<u8> {
    let records = vec![
        kinesis_record("seq-1"),
        kinesis_record("seq-2"),
        kinesis_record("seq-3"),
        kinesis_envelope("seq-bad", "not base64 !!!"),
    ];
    json!({ "Records": records }).to_string().into_bytes()
}

fn handler(endpoint: &str, item_failures: bool) -> Handler {
    let (pipeline, sinks) = delivery_support::build(&[
        "--otlp-endpoint",
        endpoint,
        "--batch-max-records",
        "3",
        "--delivery-concurrency",
        "1",
        "--kinesis-batch-item-failures",
        if item_failures { "true" } else { "false" },
    ]);
    Handler::new(pipeline, sinks)
}

fn deadline_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 60_000
}

fn ids(seq: &str) -> Vec<String> {
    (1..=3).map(|j| format!("{seq}-e{j}")).collect()
}

#[tokio::test]
async fn undelivered_and_undecodable_records_are_reported_per_item() {
    // Batches line up with Kinesis records (3 events each); the second is refused.
    let server = FaultServer::start(vec![Act::Accept, Act::Status(400, None)], Act::Accept);
    let reply = handler(&server.endpoint(), true)
        .respond(&event(), deadline_ms(), None)
        .await
        .expect("a partial failure is a reply, not an error");
    let reply = serde_json::to_value(reply).unwrap();
    assert_eq!(
        reply,
        json!({ "batchItemFailures": [{ "itemIdentifier": "seq-2" }, { "itemIdentifier": "seq-bad" }] })
    );
    let accepted: Vec<String> = server.accepted().into_iter().collect();
    assert_eq!(accepted, [ids("seq-1"), ids("seq-3")].concat());
}

#[tokio::test]
async fn everything_delivered_is_an_empty_failure_list() {
    let server = FaultServer::start(vec![], Act::Accept);
    let records = vec![kinesis_record("seq-1"), kinesis_record("seq-2")];
    let event = json!({ "Records": records }).to_string();
    let reply = handler(&server.endpoint(), true)
        .respond(event.as_bytes(), deadline_ms(), None)
        .await
        .unwrap();
    assert_eq!(
        serde_json::to_value(reply).unwrap(),
        json!({ "batchItemFailures": [] })
    );
    assert_eq!(server.accepted().len(), 6);
}

#[tokio::test]
async fn without_the_setting_any_failure_fails_the_whole_batch() {
    let server = FaultServer::start(vec![Act::Accept, Act::Status(400, None)], Act::Accept);
    let h = handler(&server.endpoint(), false);
    let err = h
        .respond(&event(), deadline_ms(), None)
        .await
        .expect_err("whole-batch failure");
    assert!(err.summary.contains("HTTP 400"), "{}", err.summary);
    assert!(h.handle(&event(), deadline_ms()).await.is_err());
}

/// Issue 13: when processing stops at the deadline, every record of the
/// batch is reported (a record left out would count as delivered).
#[tokio::test]
async fn a_batch_processed_past_the_deadline_reports_every_record() {
    let server = FaultServer::start(vec![], Act::Accept);
    let records = vec![kinesis_record("seq-1"), kinesis_record("seq-2")];
    let event = json!({ "Records": records }).to_string();
    let spent = deadline_ms() - 60_000 + 100; // inside the safety margin already
    let reply = handler(&server.endpoint(), true)
        .respond(event.as_bytes(), spent, None)
        .await
        .unwrap();
    let reply = serde_json::to_value(reply).unwrap();
    assert_eq!(
        reply,
        json!({ "batchItemFailures": [{ "itemIdentifier": "seq-1" }, { "itemIdentifier": "seq-2" }] })
    );
    assert!(server.accepted().is_empty());
}
