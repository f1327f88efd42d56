//! Self-monitoring (issue 16): the forwarder's own counters reach the sinks
//! that take metrics (OTLP `/v1/metrics` on a real local HTTP receiver,
//! WhaTap TagCountPacks on a local collector) with the values of what the
//! invocation did; their own failure is counted, never retried, never a
//! failure of the invocation. The EMF side runs under a simulated Lambda in
//! `lambda_runtime.rs`.

use crate::common::{awslogs_event, subscription_doc};
use crate::delivery_support::build;
use crate::delivery_support::fault_server::{Act, FaultServer};

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::metrics::v1::{metric, number_data_point};
use prost::Message;

/// Three PostgreSQL lines: a password to mask, a plain one, one no rule reads.
fn event() -> Vec<u8> {
    awslogs_event(&subscription_doc(
        "/aws/rds/instance/db1/postgresql",
        &[
            "2025-11-25 07:50:00 UTC:10.0.0.1(5432):app@db:[123]:LOG:  statement: ALTER USER bob PASSWORD 'Hunter2-Sec77'",
            "2025-11-25 07:50:01 UTC:10.0.0.1(5432):app@db:[123]:LOG:  duration: 1.5 ms",
            "not a postgres line at all",
        ],
    ))
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

/// `name{attribute value}` → value, for every data point of a request.
fn values(body: &[u8]) -> BTreeMap<String, i64> {
    let req = ExportMetricsServiceRequest::decode(body).unwrap();
    let mut out = BTreeMap::new();
    for rm in &req.resource_metrics {
        let resource = format!("{:?}", rm.resource);
        assert!(resource.contains("rds-forwarder"), "{resource}");
        for sm in &rm.scope_metrics {
            for m in &sm.metrics {
                let points = match &m.data {
                    Some(metric::Data::Sum(s)) => {
                        assert!(s.is_monotonic, "{}", m.name);
                        &s.data_points
                    }
                    Some(metric::Data::Gauge(g)) => &g.data_points,
                    other => panic!("{}: {other:?}", m.name),
                };
                for p in points {
                    let split: Vec<String> = p
                        .attributes
                        .iter()
                        .filter_map(|kv| match kv.value.as_ref()?.value.as_ref()? {
                            any_value::Value::StringValue(s) => Some(s.clone()),
                            _ => None,
                        })
                        .collect();
                    let v = match p.value {
                        Some(number_data_point::Value::AsInt(i)) => i,
                        Some(number_data_point::Value::AsDouble(d)) => d as i64,
                        None => panic!("no value"),
                    };
                    out.insert(format!("{}{{{}}}", m.name, split.join(",")), v);
                }
            }
        }
    }
    out
}

#[tokio::test]
async fn self_metrics_reach_the_otlp_sink_with_what_the_invocation_did() {
    let server = FaultServer::start(vec![], Act::Accept);
    let (pipeline, sinks) = build(&[
        "--sinks",
        "otlp",
        "--otlp-endpoint",
        &server.endpoint(),
        "--self-metrics",
        "sinks",
    ]);
    let event = event();
    let outcome = pipeline.run(&event, &sinks, deadline()).await;
    assert!(!outcome.stats.failed(), "{:?}", outcome.failures);
    let requests = server.requests();
    let paths: Vec<&str> = requests.iter().map(|(p, _)| p.as_str()).collect();
    assert_eq!(
        paths,
        ["/v1/logs", "/v1/metrics"],
        "records, then the points"
    );
    let got = values(&requests[1].1);
    assert_eq!(got["rdsf.events.in{}"], 3);
    assert_eq!(got["rdsf.bytes.in{}"], event.len() as i64);
    assert_eq!(got["rdsf.records.out{postgresql}"], 3);
    assert_eq!(got["rdsf.sink.records.delivered{otlp}"], 3);
    assert_eq!(got["rdsf.records.undelivered{}"], 0);
    assert_eq!(got["rdsf.parse.errors{}"], 1);
    assert_eq!(got["rdsf.redactions{}"], 1);
    assert_eq!(got["rdsf.sink.retries{otlp}"], 0);
    assert!(got["rdsf.lag{}"] > 0, "{got:?}");
    assert!(
        !got.keys().any(|k| k.contains("metadata_cache")),
        "no cache, no value"
    );
    // The secret itself went nowhere.
    assert!(!String::from_utf8_lossy(&requests[0].1).contains("Sec77"));
}

/// The points' own delivery failing is counted once: no retry, no new
/// points about it, and the invocation (whose records landed) succeeds.
#[tokio::test]
async fn self_metrics_the_sink_refuses_are_counted_not_failing_the_invocation() {
    let refuse = Act::Status(503, None);
    let server = FaultServer::start(vec![Act::Accept, refuse, Act::Accept], refuse);
    let (pipeline, sinks) = build(&[
        "--sinks",
        "otlp",
        "--otlp-endpoint",
        &server.endpoint(),
        "--self-metrics",
        "sinks",
        "--retry-initial-backoff-ms",
        "1",
    ]);
    let outcome = pipeline.run(&event(), &sinks, deadline()).await;
    assert!(!outcome.stats.failed(), "{:?}", outcome.failures);
    assert_eq!(outcome.stats.delivered, 3);
    let requests = server.requests();
    assert_eq!(
        requests.len(),
        2,
        "one for the records, one try for the points"
    );
    let sent = values(&requests[1].1).len() as u64;
    let totals = pipeline.self_totals();
    assert_eq!(totals.self_undelivered, Some(sent));
    // A second invocation: its own points, refused once, counted once.
    let outcome = pipeline.run(&event(), &sinks, deadline()).await;
    assert!(!outcome.stats.failed());
    assert_eq!(server.requests().len(), 4, "still one try per invocation");
    assert_eq!(pipeline.self_totals().self_undelivered, Some(2 * sent));
}

/// With a sink down, the counters say what was lost and why.
#[tokio::test]
async fn an_unreachable_sink_is_counted_by_reason() {
    let refused = FaultServer::refused_addr();
    let (pipeline, sinks) = build(&[
        "--sinks",
        "otlp",
        "--otlp-endpoint",
        &format!("http://{refused}"),
        "--retry-max-attempts",
        "2",
        "--retry-initial-backoff-ms",
        "1",
    ]);
    let outcome = pipeline.run(&event(), &sinks, deadline()).await;
    assert!(outcome.stats.failed());
    let t = pipeline.self_totals();
    assert_eq!(t.records_undelivered, 3);
    assert_eq!(
        t.failed,
        BTreeMap::from([("sink_unavailable".to_owned(), 3)])
    );
    assert!(t.dropped.is_empty());
    assert_eq!(t.sinks["otlp"].records_delivered, 0);
    assert_eq!(t.sinks["otlp"].retries, 1);
    let prom = t.prometheus();
    assert!(
        prom.contains("rdsf_failed_total{reason=\"sink_unavailable\"} 3\n"),
        "{prom}"
    );
}

/// A WhaTap collector on 127.0.0.1 gets the counters as TagCountPacks.
#[tokio::test]
async fn self_metrics_reach_a_whatap_collector() {
    use rdsf_testkit::whatap::{Behaviour, Receiver};
    const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";
    let rx = Receiver::start(Behaviour::default()).await;
    let port = rx.port.to_string();
    let (pipeline, sinks) = build(&[
        "--sinks",
        "whatap",
        "--whatap-host",
        "127.0.0.1",
        "--whatap-port",
        &port,
        "--whatap-license",
        LICENSE_78,
        "--self-metrics",
        "sinks",
    ]);
    let outcome = pipeline.run(&event(), &sinks, deadline()).await;
    assert!(!outcome.stats.failed(), "{:?}", outcome.failures);
    assert_eq!(pipeline.self_totals().self_undelivered, Some(0));
    // Delivered means the kernel took the bytes; the collector reads them
    // a moment later (bounded wait).
    let started = Instant::now();
    let text = loop {
        let mut packs = Vec::new();
        for f in &rx.frames() {
            let mut wire = vec![10u8, 0];
            wire.extend_from_slice(&f.pcode.to_be_bytes());
            wire.extend_from_slice(&f.license_hash.to_be_bytes());
            wire.extend_from_slice(&(f.body.len() as i32).to_be_bytes());
            wire.extend_from_slice(&f.body);
            packs.extend(rdsf_sinks::whatap::decode::decode_frames(&wire).unwrap());
        }
        let text = format!("{packs:?}");
        if text.contains("rdsf.sink.records.delivered")
            || started.elapsed() > Duration::from_secs(10)
        {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    for name in [
        "rdsf.events.in",
        "rdsf.records.out",
        "rdsf.sink.records.delivered",
    ] {
        assert!(text.contains(name), "{name} not in {text}");
    }
    assert!(
        text.contains("postgresql") && text.contains("whatap"),
        "{text}"
    );
}

#[test]
fn bad_self_metrics_settings_name_the_setting() {
    use crate::delivery_support::settings;
    use rds_forwarder::config::Config;
    let err = Config::from_settings(&settings(&["--self-metrics", "cloudwatch"]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("RDSF_SELF_METRICS: "), "{err}");
    let err = Config::from_settings(&settings(&["--metrics-namespace", "AWS/Lambda"]))
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("RDSF_METRICS_NAMESPACE: "), "{err}");
}

/// `replay` keeps stdout for records unless asked: EMF is opt-in there.
#[test]
fn replay_writes_emf_only_when_asked() {
    let dir = std::env::temp_dir().join(format!("rdsf-selfmon-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("event.json");
    std::fs::write(&file, event()).unwrap();
    let run = |extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_rds-forwarder"))
            .arg("replay")
            .args(extra)
            .arg(&file)
            .env_remove("RDSF_SELF_METRICS")
            .env_remove("RDSF_SINKS")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let plain = run(&[]);
    assert_eq!(plain.lines().count(), 3);
    assert!(!plain.contains("_aws"), "{plain}");
    let with = run(&["--self-metrics", "emf"]);
    let emf: Vec<serde_json::Value> = with
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("_aws").is_some())
        .collect();
    assert!(!emf.is_empty(), "{with}");
    assert!(emf.iter().all(|l| l["Function"] == "rds-forwarder"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The install stack's alarms and dashboard read metrics the forwarder
/// writes: a renamed metric fails here, not silently in CloudWatch.
#[test]
fn the_install_stack_reads_only_metrics_the_forwarder_writes() {
    use rds_forwarder::selfmon::DEFS;
    let template =
        std::fs::read_to_string(crate::common::manifest_dir().join("deploy/install.yaml")).unwrap();
    let mut used = Vec::new();
    for line in template.lines() {
        let line = line.trim();
        if let Some(name) = line.strip_prefix("MetricName: ") {
            used.push(name.to_owned());
        }
        for pattern in ["MetricName=\\\"", "[\"${Ns}\", \"", "[\".\", \""] {
            for (i, _) in line.match_indices(pattern) {
                let rest = &line[i + pattern.len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric())
                    .collect();
                used.push(name);
            }
        }
    }
    // Lambda's own metric, not ours.
    used.retain(|n| n != "Errors");
    used.sort();
    used.dedup();
    assert!(
        used.len() >= 8,
        "metric names not found in the template: {used:?}"
    );
    for name in &used {
        assert!(
            DEFS.iter().any(|d| d.emf == name),
            "deploy/install.yaml reads {name}, which the forwarder does not write"
        );
    }
    for must in [
        "RecordsUndelivered",
        "Lag",
        "Failed",
        "Dropped",
        "RecordsDelivered",
    ] {
        assert!(
            used.iter().any(|n| n == must),
            "{must} not in the template: {used:?}"
        );
    }
}
