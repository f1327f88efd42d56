//! Malformed inputs each give a clear, typed failure and never a panic; a
//! bad event inside a good batch does not stop the others.

use crate::common;
use rdsf_testkit::payload::{base64 as b64, gzip};

use common::*;
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::{Pipeline, Processed};

fn awslogs(data: &str) -> Vec<u8> {
    serde_json::json!({ "awslogs": { "data": data } })
        .to_string()
        .into_bytes()
}

/// Asserts one failure with `reason` whose message contains `says`.
fn fails(out: &Processed, reason: &str, says: &str) {
    assert!(out.records.is_empty(), "no records from a failed input");
    assert_eq!(out.failures.len(), 1, "{:?}", out.failures);
    assert_eq!(out.failures[0].reason, reason, "{:?}", out.failures[0]);
    assert!(
        out.failures[0].message.contains(says),
        "{:?}",
        out.failures[0].message
    );
    assert_eq!(out.stats.failures.get(reason), Some(&1));
}

#[test]
fn truncated_base64() {
    let good = std::fs::read(manifest_dir().join("examples/cloudwatch-postgresql.json")).unwrap();
    let v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let data = v["awslogs"]["data"].as_str().unwrap();
    // Cut mid-quantum: invalid base64 length.
    fails(
        &process(&awslogs(&data[..data.len() / 2 + 1])),
        "invalid_base64",
        "awslogs.data",
    );
    // Cut on a quantum boundary: valid base64, truncated gzip stream.
    let cut = (data.len() / 2) / 4 * 4;
    fails(
        &process(&awslogs(&data[..cut])),
        "invalid_gzip",
        "awslogs.data",
    );
}

#[test]
fn not_gzip() {
    fails(
        &process(&awslogs(&b64(b"{\"hello\":1}"))),
        "invalid_gzip",
        "gzip magic",
    );
}

#[test]
fn gzip_bomb_of_one_gib_fails_within_the_bound() {
    // 1 GiB of zeros as 1,024 gzip members of 1 MiB each (~1 MB compressed).
    let member = gzip(&vec![0u8; 1 << 20]);
    let bomb: Vec<u8> = member
        .iter()
        .copied()
        .cycle()
        .take(member.len() * 1024)
        .collect();
    let event = awslogs(&b64(&bomb));
    fails(&process(&event), "decompressed_too_large", "67108864");

    // A smaller configured bound applies too.
    let small = Pipeline::new(Config {
        max_decompressed_bytes: 1 << 20,
        ..Config::default()
    });
    let out = small.process(&event, OBSERVED_NS);
    fails(&out, "decompressed_too_large", "1048576");
}

#[test]
fn invalid_json() {
    fails(
        &process(b"{\"awslogs\": {\"data\": "),
        "invalid_json",
        "EOF",
    );
    fails(
        &process(&awslogs(&b64(&gzip(b"{\"logGroup\": [")))),
        "invalid_cloudwatch_document",
        "awslogs.data",
    );
}

#[test]
fn wrong_types() {
    fails(
        &process(br#"{"awslogs":{"data":5}}"#),
        "unknown_event_shape",
        "awslogs without a string `data`",
    );
    let doc = br#"{"owner":"1","logGroup":"/aws/rds/instance/a/error","logStream":"a","messageType":"DATA_MESSAGE","logEvents":"nope"}"#;
    fails(
        &process(&awslogs(&b64(&gzip(doc)))),
        "invalid_cloudwatch_document",
        "logEvents",
    );
    fails(
        &process(br#"{"source":"aws.rds","detail-type":"RDS DB Instance Event","id":"e-1","detail":{"EventCategories":"backup"}}"#),
        "invalid_eventbridge_event",
        "e-1: detail.EventCategories",
    );
    fails(
        &process(br#"{"Records":{"kinesis":1}}"#),
        "unknown_event_shape",
        "not an array",
    );
}

#[test]
fn one_bad_event_does_not_stop_the_batch() {
    let doc = br#"{"owner":"1","logGroup":"/aws/rds/instance/a/error","logStream":"a","messageType":"DATA_MESSAGE","logEvents":[
        {"id":"1","timestamp":1700000000000,"message":"first"},
        {"id":"2","timestamp":"yesterday","message":"bad"},
        {"id":"3","timestamp":1700000000001,"message":"third"}]}"#;
    let out = process(&awslogs(&b64(&gzip(doc))));
    assert!(out.failures.is_empty());
    assert_eq!(
        out.records.len(),
        3,
        "the bad event is forwarded raw, not dropped"
    );
    assert_eq!(out.stats.malformed_events, 1);
    assert_eq!(
        out.malformed[0].0.as_deref(),
        Some("2"),
        "reported with its event id"
    );
    let bad = as_json(out.records.at(2));
    assert_eq!(bad["attributes"]["aws.cloudwatch.event_id"], "2");
    assert!(bad["attributes"]["rds.parse.error"]
        .as_str()
        .unwrap()
        .contains("malformed"));
    assert!(
        bad["body"].as_str().unwrap().contains("yesterday"),
        "raw body kept"
    );
}

#[test]
fn non_utf8_bytes() {
    fails(&process(b"\xff\xfe{\"a\":1}"), "invalid_json", "");
    let inner = gzip(
        b"{\"logGroup\":\"g\",\"logEvents\":[{\"id\":\"1\",\"timestamp\":1,\"message\":\"\xff\"}]}",
    );
    fails(&process(&awslogs(&b64(&inner))), "not_utf8", "byte");
}

#[test]
fn empty_body() {
    fails(&process(b""), "empty_body", "empty");
    fails(&process(b"  \n"), "empty_body", "empty");
}

#[test]
fn unknown_event_shapes_name_what_arrived() {
    fails(&process(b"{\"foo\":1}"), "unknown_event_shape", "[foo]");
    fails(&process(b"[1,2]"), "unknown_event_shape", "an array");
    fails(
        &process(br#"{"Records":[{"eventSource":"aws:sqs","body":"x"}]}"#),
        "unknown_event_shape",
        "aws:sqs",
    );
    fails(
        &process(br#"{"source":"aws.ec2","detail-type":"EC2 Instance State-change Notification","detail":{}}"#),
        "unknown_event_shape",
        "aws.ec2",
    );
}

#[test]
fn control_messages_are_counted_not_forwarded() {
    let bytes =
        std::fs::read(manifest_dir().join("examples/cloudwatch-control-message.json")).unwrap();
    let out = process(&bytes);
    assert!(out.failures.is_empty());
    assert!(out.records.is_empty());
    assert_eq!(out.stats.control_messages_skipped, 1);
}

#[test]
fn kinesis_records_fail_one_by_one() {
    let good =
        std::fs::read(manifest_dir().join("examples/kinesis-aurora-mysql-error.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let mut bad = v["Records"][0].clone();
    bad["kinesis"]["data"] = serde_json::Value::String(b64(b"not gzip, not json"));
    bad["kinesis"]["sequenceNumber"] = "42".into();
    v["Records"].as_array_mut().unwrap().push(bad);
    let out = process(v.to_string().as_bytes());
    assert_eq!(
        out.records.len(),
        2,
        "the good record's events still come out"
    );
    assert_eq!(out.failures.len(), 1);
    assert_eq!(
        out.failures[0].kinesis_sequence_number.as_deref(),
        Some("42")
    );
    assert!(out.failures[0].message.contains("Kinesis record 42"));
}

/// Issue 13: a record whose envelope is malformed (`data` not a string, no
/// `kinesis` object) failed the whole batch; it now fails alone, named by
/// what it has, without echoing its values.
#[test]
fn a_kinesis_record_with_a_malformed_envelope_fails_alone() {
    let good =
        std::fs::read(manifest_dir().join("examples/kinesis-aurora-mysql-error.json")).unwrap();
    let mut v: serde_json::Value = serde_json::from_slice(&good).unwrap();
    let template = v["Records"][0].clone();
    let mut data_not_string = template.clone();
    data_not_string["kinesis"]["data"] = serde_json::json!({"secret": "hunter2-in-data"});
    data_not_string["kinesis"]["sequenceNumber"] = "43".into();
    let mut no_kinesis = template.clone();
    no_kinesis.as_object_mut().unwrap().remove("kinesis");
    no_kinesis["eventID"] = "shardId-000:44".into();
    let records = v["Records"].as_array_mut().unwrap();
    records.push(data_not_string);
    records.push(no_kinesis);
    let out = process(v.to_string().as_bytes());
    assert_eq!(
        out.records.len(),
        2,
        "the good record's events still come out"
    );
    let failed: Vec<_> = out
        .failures
        .iter()
        .map(|f| (f.reason, f.kinesis_sequence_number.as_deref()))
        .collect();
    assert_eq!(
        failed,
        [
            ("invalid_kinesis_record", Some("43")),
            ("invalid_kinesis_record", Some("shardId-000:44"))
        ]
    );
    assert!(out.failures[0]
        .message
        .contains("`kinesis.data` is not a string"));
    assert!(out.failures[1].message.contains("no `kinesis` object"));
    assert!(out.failures.iter().all(|f| !f.message.contains("hunter2")));
}

/// Issue 13: a repeated `awslogs` key kept only the last payload, silently.
#[test]
fn a_repeated_key_refuses_the_event_instead_of_dropping_a_payload() {
    let good = std::fs::read_to_string(manifest_dir().join("examples/cloudwatch-postgresql.json"))
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&good).unwrap();
    let data = v["awslogs"]["data"].as_str().unwrap();
    let twice = format!(r#"{{"awslogs":{{"data":"{data}"}},"awslogs":{{"data":"{data}"}}}}"#);
    fails(
        &process(twice.as_bytes()),
        "unknown_event_shape",
        "`awslogs` appears twice",
    );
    let inner = format!(r#"{{"awslogs":{{"data":"{data}","data":"{data}"}}}}"#);
    fails(
        &process(inner.as_bytes()),
        "unknown_event_shape",
        "`data` appears twice",
    );
}

/// Issue 13: a message longer than CloudWatch allows for one event was held
/// whole and copied by every stage (one 50 MB message peaked at 391 MB).
/// It is cut at the event limit, on a character boundary, and marked.
#[test]
fn a_message_past_the_cloudwatch_event_limit_is_cut_and_marked() {
    use rds_forwarder::pipeline::MAX_EVENT_MESSAGE_BYTES;
    let long = format!(
        "2026-11-25 07:50:00 UTC:10.0.0.5(1):u@d:[7]:LOG:  statement: SELECT '{}'",
        "é".repeat(200_000)
    );
    let doc = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1",
        "logGroup": "/aws/rds/instance/db/postgresql", "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": "1", "timestamp": 1, "message": long},
                      {"id": "2", "timestamp": 2, "message": "2026-11-25 07:50:00 UTC::@:[1]:LOG:  short"}]});
    let out = process(&awslogs(&b64(&gzip(doc.to_string().as_bytes()))));
    assert!(out.failures.is_empty(), "{:?}", out.failures);
    assert_eq!(out.records.len(), 2);
    let cut = out.records.at(0);
    assert!(
        cut.body.len() <= MAX_EVENT_MESSAGE_BYTES && cut.body.len() > MAX_EVENT_MESSAGE_BYTES - 4
    );
    assert!(long.starts_with(&cut.body));
    let j = as_json(cut);
    assert_eq!(j["attributes"]["rds.message.truncated_from"], long.len());
    assert!(j["attributes"]["db.query.text"].as_str().unwrap().len() < MAX_EVENT_MESSAGE_BYTES);
    assert!(as_json(out.records.at(1))["attributes"]["rds.message.truncated_from"].is_null());

    // A malformed event (no readable timestamp) goes out raw: bounded the same way.
    let doc = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "1",
        "logGroup": "/aws/rds/instance/db/postgresql", "logStream": "s",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": "3", "timestamp": "soon", "message": long}]});
    let out = process(&awslogs(&b64(&gzip(doc.to_string().as_bytes()))));
    assert_eq!(out.stats.malformed_events, 1);
    let raw = out.records.at(0);
    assert!(raw.body.len() <= MAX_EVENT_MESSAGE_BYTES);
    assert!(
        as_json(raw)["attributes"]["rds.message.truncated_from"]
            .as_u64()
            .unwrap()
            > long.len() as u64
    );
}
