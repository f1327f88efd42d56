//! RDS Enhanced Monitoring end to end (issue 18, part 2): CloudWatch
//! subscription payloads of the `RDSOSMetrics` log group, through
//! `Pipeline::run`, arrive as metric points (OTLP `/v1/metrics`, stdout) and
//! not as log records; a bad document is a record with the parse-error
//! marker; `RDSF_METRICS=none` forwards the documents as log records; the
//! settings name themselves when wrong; a Kinesis record of documents whose
//! points were not delivered is reported for retry.

use crate::common;
use crate::delivery_support;

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use base64::Engine;
use delivery_support::fault_server::{Act, FaultServer};
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::metric;
use prost::Message;
use rds_forwarder::config::Config;
use rds_forwarder::lambda::Handler;
use serde_json::json;

/// The real documents of `tests/data/enhanced-monitoring/` (name, JSON on one
/// line, points per document at the default bound).
pub fn documents() -> Vec<(&'static str, String, usize)> {
    [
        ("mysql-57-percona.json", 168),
        ("aurora-postgresql-11-percona.json", 115),
        ("sqlserver-signalfx.json", 66),
    ]
    .into_iter()
    .map(|(file, points)| {
        let path = common::manifest_dir()
            .join("tests/data/enhanced-monitoring")
            .join(file);
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
        (file, v.to_string(), points)
    })
    .collect()
}

/// A subscription document of `RDSOSMetrics` events (ids 1, 2, …).
pub fn em_doc(messages: &[&str]) -> serde_json::Value {
    let events: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| json!({"id": format!("{:056}", i + 1), "timestamp": 1_751_461_155_000i64, "message": m}))
        .collect();
    json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": "RDSOSMetrics",
        "logStream": "db-QXZYJIL5GR3CBQ4XNCYU2AI5PE", "subscriptionFilters": ["rds-forwarder"],
        "logEvents": events})
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(30)
}

fn str_attr<'a>(
    attrs: &'a [opentelemetry_proto::tonic::common::v1::KeyValue],
    key: &str,
) -> Option<&'a str> {
    attrs.iter().find(|kv| kv.key == key).and_then(|kv| {
        match kv.value.as_ref()?.value.as_ref()? {
            any_value::Value::StringValue(s) => Some(s.as_str()),
            _ => None,
        }
    })
}

#[tokio::test]
async fn documents_arrive_as_points_on_the_otlp_metrics_endpoint_and_not_as_records() {
    let server = FaultServer::start(vec![], Act::Accept);
    let (pipeline, sinks) = delivery_support::build(&[
        "--sinks",
        "otlp",
        "--otlp-endpoint",
        &server.endpoint(),
        "--region",
        "eu-west-1",
    ]);
    let docs = documents();
    let mut messages: Vec<&str> = docs.iter().map(|(_, m, _)| m.as_str()).collect();
    messages.push("{\"engine\": \"MYSQL\", \"timestamp\": \"not a time\"}");
    let event = common::awslogs_event(&em_doc(&messages));
    let outcome = pipeline.run(&event, &sinks, deadline()).await;
    assert!(outcome.failures.is_empty(), "{:?}", outcome.failures);

    let expected: usize = docs.iter().map(|(_, _, n)| n).sum();
    println!(
        "points per document: {}",
        docs.iter()
            .map(|(f, _, n)| format!("{f}: {n}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert_eq!(outcome.stats.log_events, 4);
    assert_eq!(outcome.stats.metric_points, expected);
    assert_eq!(outcome.stats.metric_points_delivered, expected);
    assert_eq!(
        outcome.stats.records, 1,
        "only the bad document is a record"
    );
    assert_eq!(outcome.stats.parse_errors, 1);

    let requests = server.requests();
    let mut points = 0;
    let mut names: BTreeMap<String, usize> = BTreeMap::new();
    let mut instances = Vec::new();
    let mut log_records = Vec::new();
    for (path, body) in &requests {
        if path == "/v1/metrics" {
            let got = ExportMetricsServiceRequest::decode(&body[..]).unwrap();
            for rm in &got.resource_metrics {
                let attrs = &rm.resource.as_ref().unwrap().attributes;
                instances.push((
                    str_attr(attrs, "aws.rds.source_identifier")
                        .unwrap()
                        .to_owned(),
                    str_attr(attrs, "db.system.name").map(str::to_owned),
                    str_attr(attrs, "cloud.resource_id").map(str::to_owned),
                ));
                for sm in &rm.scope_metrics {
                    for m in &sm.metrics {
                        let n = match &m.data {
                            Some(metric::Data::Gauge(g)) => g.data_points.len(),
                            other => panic!("{}: not a gauge: {other:?}", m.name),
                        };
                        points += n;
                        *names.entry(m.name.clone()).or_default() += n;
                    }
                }
            }
        } else {
            assert_eq!(path, "/v1/logs");
            let got = ExportLogsServiceRequest::decode(&body[..]).unwrap();
            for rl in &got.resource_logs {
                for sl in &rl.scope_logs {
                    log_records.extend(sl.log_records.iter().cloned());
                }
            }
        }
    }
    assert_eq!(points, expected);
    instances.sort();
    instances.dedup();
    assert_eq!(
        instances,
        [
            (
                "autotest-aurora-psql-11".to_owned(),
                Some("postgresql".to_owned()),
                Some("arn:aws:rds:eu-west-1:123456789012:db:autotest-aurora-psql-11".to_owned())
            ),
            (
                "autotest-mysql-57".to_owned(),
                Some("mysql".to_owned()),
                Some("arn:aws:rds:eu-west-1:123456789012:db:autotest-mysql-57".to_owned())
            ),
            (
                "trevor".to_owned(),
                Some("microsoft.sql_server".to_owned()),
                Some("arn:aws:rds:eu-west-1:123456789012:db:trevor".to_owned())
            ),
        ]
    );
    // The bad document, and only it, went out as a log record, marked.
    assert_eq!(log_records.len(), 1);
    let marker = str_attr(&log_records[0].attributes, "rds.parse.error").unwrap();
    assert!(
        marker.starts_with("not an Enhanced Monitoring document"),
        "{marker}"
    );
    assert_eq!(
        str_attr(&log_records[0].attributes, "rds.parser"),
        Some("enhanced_monitoring")
    );

    // Every metric name sent is documented.
    let schema = std::fs::read_to_string(common::manifest_dir().join("docs/schema.md")).unwrap();
    for name in names.keys() {
        let short = name.rsplit_once('.').map(|(_, last)| last).unwrap_or(name);
        assert!(
            schema.contains(&format!("`{name}`")) || schema.contains(&format!(".{short}`")),
            "docs/schema.md does not list {name}"
        );
    }
    println!("metric names: {}", names.len());
}

#[tokio::test]
async fn the_stdout_sink_writes_one_line_per_point() {
    // The README's example, through the binary: one NDJSON line per point.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_rds-forwarder"))
        .args([
            "replay",
            "examples/cloudwatch-rdsosmetrics.json",
            "--sinks",
            "stdout",
        ])
        .current_dir(common::manifest_dir())
        .env_remove("RDSF_METRICS")
        .env_remove("RDSF_SINKS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 66, "the SQL Server document's points");
    assert!(
        lines
            .iter()
            .all(|l| l["metric"]["type"] == "gauge" && l["kind"] == "metric"),
        "points (kind metric), no records"
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(
        summary.contains("records: 0  delivered: 0  metric points: 66  delivered: 66"),
        "the human summary counts the points: {summary}"
    );
    assert!(lines
        .iter()
        .all(|l| l["timestamp"] == "2017-09-12T23:58:59.000Z"));
    let kernel = lines
        .iter()
        .find(|l| {
            l["metric"]["name"] == "system.cpu.utilization"
                && l["attributes"]["cpu.mode"] == "kernel"
        })
        .expect("kernel CPU");
    assert_eq!(kernel["metric"]["value"], 0.1185);
    assert_eq!(kernel["resource"]["aws.rds.source_identifier"], "trevor");
}

#[test]
fn with_os_metrics_off_the_documents_are_log_records() {
    let docs = documents();
    let messages: Vec<&str> = docs.iter().map(|(_, m, _)| m.as_str()).collect();
    let event = common::awslogs_event(&em_doc(&messages));
    let (on, _) = delivery_support::build(&[]);
    let processed = on.process(&event, common::OBSERVED_NS);
    assert_eq!(processed.records.len(), 0);
    assert_eq!(processed.metrics.len(), 168 + 115 + 66);

    let (off, _) = delivery_support::build(&["--metrics", "none"]);
    let processed = off.process(&event, common::OBSERVED_NS);
    assert!(processed.metrics.is_empty());
    assert_eq!(processed.records.len(), 3, "one plain record per document");
    for r in processed.records.iter() {
        assert!(r.attributes.get("rds.parse.error").is_none());
        assert!(r.body.contains("\"instanceResourceID\""));
    }

    // The bound is the setting's.
    let (one, _) = delivery_support::build(&["--os-top-processes", "1"]);
    let processed = one.process(&event, common::OBSERVED_NS);
    let processes = processed
        .metrics
        .iter()
        .filter(|p| p.name == "process.cpu.utilization")
        .count();
    assert!(
        (3..=6).contains(&processes),
        "{processes}: at most 2 a document"
    );
}

#[test]
fn wrong_metric_settings_name_their_variable() {
    for (args, setting) in [
        (&["--metrics", "os,cpu"][..], "RDSF_METRICS"),
        (&["--metrics", "os,query"][..], "RDSF_METRICS"),
        (&["--os-top-processes", "500"][..], "RDSF_OS_TOP_PROCESSES"),
        (
            &["--query-metrics-top", "1001"][..],
            "RDSF_QUERY_METRICS_TOP",
        ),
    ] {
        let e = Config::from_settings(&delivery_support::settings(args)).unwrap_err();
        assert!(e.to_string().starts_with(setting), "{args:?}: {e}");
    }
    assert!(Config::from_settings(&delivery_support::settings(&["--metrics", "os"])).is_ok());
    let both = Config::from_settings(&delivery_support::settings(&["--metrics", "os,queries"]));
    assert!(both.unwrap().enhanced_monitoring.queries);
}

fn kinesis_record(seq: &str, doc: &serde_json::Value) -> serde_json::Value {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(doc.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    json!({
        "kinesis": { "kinesisSchemaVersion": "1.0", "partitionKey": "p", "sequenceNumber": seq, "data": data, "approximateArrivalTimestamp": 1.7e9 },
        "eventSource": "aws:kinesis", "eventVersion": "1.0",
        "eventID": format!("shardId-000000000000:{seq}"), "eventName": "aws:kinesis:record", "awsRegion": "us-east-1",
    })
}

#[tokio::test]
async fn a_kinesis_record_of_documents_whose_points_failed_is_reported() {
    // The record produces points only (no records): when the receiver
    // refuses them, the record must still come back for a retry.
    let server = FaultServer::start(vec![Act::Status(400, None)], Act::Accept);
    let (pipeline, sinks) = delivery_support::build(&[
        "--otlp-endpoint",
        &server.endpoint(),
        "--kinesis-batch-item-failures",
        "true",
    ]);
    let docs = documents();
    let event = json!({ "Records": [kinesis_record("seq-em", &em_doc(&[docs[2].1.as_str()]))] });
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
        + 60_000;
    let reply = Handler::new(pipeline, sinks)
        .respond(event.to_string().as_bytes(), deadline_ms, None)
        .await
        .expect("a partial failure is a reply");
    assert_eq!(
        serde_json::to_value(reply).unwrap(),
        json!({ "batchItemFailures": [{ "itemIdentifier": "seq-em" }] })
    );
    let requests = server.requests();
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].0, "/v1/metrics");
}
