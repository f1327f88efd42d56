//! The OTLP sink's output, decoded by an independent decoder: the official
//! `opentelemetry-proto` Python package (tests/otlp/receiver.py, installed
//! by scripts/deps/otlp.sh into target/otlp-venv). Counts, resources,
//! scope, times, severities, bodies and typed attribute values must match
//! the records the pipeline produced, for protobuf+gzip and http/json.

use crate::delivery_support;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdsf_core::record::{keys, Attributes, RecordSet, Value};
use serde_json::{json, Value as Json};

pub(crate) struct Receiver {
    child: Child,
    pub(crate) port: u16,
}

impl Receiver {
    pub(crate) fn start() -> Receiver {
        let python = delivery_support::manifest_dir().join("target/otlp-venv/bin/python");
        assert!(
            python.exists(),
            "{} is missing: run `source scripts/deps/otlp.sh` (scripts/test.sh does) to install opentelemetry-proto",
            python.display()
        );
        let mut child = Command::new(&python)
            .arg(delivery_support::manifest_dir().join("tests/otlp/receiver.py"))
            .stdout(Stdio::piped())
            .spawn()
            .expect("receiver starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .expect("receiver prints its port");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("receiver said {line:?}"));
        Receiver { child, port }
    }

    /// GET /requests, by hand: a one-off HTTP/1.1 exchange needs no client library.
    pub(crate) fn requests(&self) -> Vec<Json> {
        use std::io::{Read, Write};
        let mut conn =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("receiver reachable");
        conn.write_all(b"GET /requests HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut answer = Vec::new();
        conn.read_to_end(&mut answer).unwrap();
        let text = String::from_utf8(answer).expect("UTF-8 answer");
        let (head, body) = text.split_once("\r\n\r\n").expect("an HTTP answer");
        assert!(
            head.starts_with("HTTP/1.1 200") || head.starts_with("HTTP/1.0 200"),
            "{head}"
        );
        serde_json::from_str(body).expect("JSON list of requests")
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Our value in the receiver's typed notation.
fn typed(v: &Value) -> Json {
    match v {
        Value::Str(s) => json!({ "s": s.as_str() }),
        Value::Int(i) => json!({ "i": i }),
        Value::Double(d) => json!({ "d": d }),
        Value::Bool(b) => json!({ "b": b }),
        Value::Array(items) => json!({ "a": items.iter().map(typed).collect::<Vec<_>>() }),
    }
}

pub(crate) fn typed_attributes(a: &Attributes) -> Vec<Json> {
    a.iter().map(|(k, v)| json!([k, typed(v)])).collect()
}

async fn check(protocol: &str, compression: &str) {
    let receiver = Receiver::start();
    let endpoint = format!("http://127.0.0.1:{}", receiver.port);
    let (pipeline, sinks) = delivery_support::build(&[
        "--otlp-endpoint",
        &endpoint,
        "--otlp-protocol",
        protocol,
        "--otlp-compression",
        compression,
        "--resource-attributes",
        "deployment.environment=ci%20run,cloud.provider=not-aws",
        "--batch-max-records",
        "25",
    ]);
    let mut payloads: Vec<Vec<u8>> = delivery_support::maria_error_payloads()
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    payloads.extend(delivery_support::rds_event_samples());

    let mut expected = RecordSet::new();
    for payload in &payloads {
        let processed = pipeline.process(payload, 0);
        assert!(processed.failures.is_empty(), "{:?}", processed.failures);
        let outcome = pipeline
            .run(payload, &sinks, Instant::now() + Duration::from_secs(30))
            .await;
        assert!(!outcome.stats.failed(), "{:?}", outcome.failures);
        expected.append(processed.records);
    }
    assert!(expected.len() > 25, "several batches are exercised");
    // Native types the corpus may not carry: ints (beyond 2^53), doubles,
    // nested arrays, sent straight through the sink.
    let synthetic_resource = expected.resource_of(0).clone();
    let mut synthetic = expected[0].clone();
    synthetic.id = "synthetic-typed-values".to_owned();
    synthetic.observed_timestamp_ns = rdsf_core::time::now_ns();
    synthetic.attributes.insert("test.int", i64::MAX);
    synthetic.attributes.insert("test.negative", -7i64);
    synthetic.attributes.insert("test.double", 0.25f64);
    synthetic.attributes.insert("test.bool", false);
    synthetic.attributes.insert(
        "test.array",
        Value::Array(vec![
            Value::Int(1),
            Value::Str("two".into()),
            Value::Array(vec![]),
        ]),
    );
    let one = RecordSet::of(synthetic_resource.clone(), vec![synthetic.clone()]);
    sinks[0]
        .send(&one.all_groups(), Instant::now() + Duration::from_secs(30))
        .await
        .expect("synthetic record delivered");
    expected.push(&synthetic_resource, synthetic);

    let requests = receiver.requests();
    let content_type = if protocol == "http/json" {
        "application/json"
    } else {
        "application/x-protobuf"
    };
    let encoding = if compression == "gzip" { "gzip" } else { "" };
    let mut seen = 0;
    for req in &requests {
        assert!(
            req.get("error").is_none(),
            "the official decoder refused a request: {req}"
        );
        assert_eq!(req["content_type"], content_type);
        assert_eq!(req["content_encoding"], encoding);
        for rl in req["resource_logs"].as_array().unwrap() {
            assert_eq!(
                rl["scope"],
                json!({ "name": "rds-forwarder", "version": env!("CARGO_PKG_VERSION") })
            );
            for rec in rl["records"].as_array().unwrap() {
                seen += 1;
                let attrs = rec["attributes"].as_array().unwrap();
                let uid = attrs
                    .iter()
                    .find(|kv| kv[0] == keys::LOG_RECORD_UID.as_str())
                    .map(|kv| kv[1]["s"].as_str().unwrap().to_owned())
                    .expect("every record carries log.record.uid");
                let want = expected
                    .with_resources()
                    .find(|r| r.id == uid)
                    .expect("a record we sent");
                // Observed time is stamped at run(), so only its presence is checked.
                assert_ne!(rec["observed_time_unix_nano"], "0");
                assert_eq!(rec["time_unix_nano"], want.timestamp_ns.to_string());
                assert_eq!(rec["severity_number"], want.severity.number);
                assert_eq!(rec["severity_text"], want.severity.text.as_ref());
                assert_eq!(rec["body"], json!({ "s": want.body }));
                let mut want_attrs = typed_attributes(&want.attributes);
                want_attrs.push(json!([keys::LOG_RECORD_UID, { "s": want.id }]));
                assert_eq!(attrs, &want_attrs, "attributes of {uid}");
                let mut want_resource = typed_attributes(want.resource);
                want_resource.push(json!(["deployment.environment", { "s": "ci run" }]));
                want_resource.push(json!([keys::SERVICE_NAME, { "s": "rds-forwarder" }]));
                assert_eq!(rl["resource"], json!(want_resource), "resource of {uid}");
            }
        }
    }
    assert_eq!(seen, expected.len(), "every record arrived once");
    // Typed values made it through: an array of categories from the RDS event.
    let categories = expected
        .iter()
        .find_map(|r| r.attributes.get(keys::RDS_EVENT_CATEGORIES))
        .expect("an RDS event record");
    assert!(matches!(categories, Value::Array(items) if items.len() == 2));
    eprintln!(
        "{protocol}/{compression}: {seen} records in {} requests decoded by opentelemetry-proto",
        requests.len()
    );
}

#[tokio::test]
async fn protobuf_gzip_is_decoded_by_the_official_package() {
    check("http/protobuf", "gzip").await;
}

#[tokio::test]
async fn json_is_decoded_by_the_official_package() {
    check("http/json", "none").await;
}

#[tokio::test]
async fn json_gzip_is_decoded_by_the_official_package() {
    check("http/json", "gzip").await;
}
