//! The metrics signal (issue 14): metric points go through the delivery
//! engine to the sinks that take them — OTLP `/v1/metrics` against a real
//! local HTTP receiver, with the same retry and failure rules as records —
//! and are skipped for a sink that takes none.

use crate::delivery_support;
use rdsf_testkit::whatap as whatap_support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use delivery_support::build;
use delivery_support::fault_server::{Act, FaultServer};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::metric;
use prost::Message;
use rdsf_core::metric::{Kind, MetricPoint, Number, Temporality};
use rdsf_core::record::Attributes;
use rdsf_sinks::delivery;

fn points(n: usize) -> Vec<MetricPoint> {
    let mut resource = Attributes::new();
    resource.insert(rdsf_core::record::keys::RDS_SOURCE_IDENTIFIER, "db1");
    let resource = Arc::new(resource);
    (0..n)
        .map(|i| {
            let mut attributes = Attributes::new();
            attributes.insert("db.namespace", format!("db{i}"));
            MetricPoint {
                name: "db.client.operation.count".to_owned(),
                unit: "{operation}",
                description: "operations seen in the logs",
                kind: Kind::Sum {
                    value: Number::Int(i as i64 + 1),
                    monotonic: true,
                    temporality: Temporality::Delta,
                },
                time_ns: 1_800_000_000_000_000_000,
                start_time_ns: Some(1_799_999_940_000_000_000),
                attributes,
                resource: resource.clone(),
            }
        })
        .collect()
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(20)
}

#[tokio::test]
async fn points_reach_the_otlp_metrics_endpoint_after_a_retry() {
    let server = FaultServer::start(vec![Act::Status(503, Some("0"))], Act::Accept);
    let (pipeline, sinks) = build(&[
        "--sinks",
        "otlp",
        "--otlp-endpoint",
        &server.endpoint(),
        "--otlp-compression",
        "gzip",
        "--retry-initial-backoff-ms",
        "1",
    ]);
    let sent = points(3);
    let report =
        delivery::deliver(&sinks, &sent[..], deadline(), &pipeline.config().delivery).await;
    assert!(report.is_complete(), "{:?}", report.failures);
    let requests = server.requests();
    assert_eq!(requests.len(), 2, "one refused (503), one accepted");
    for (path, _) in &requests {
        assert_eq!(path, "/v1/metrics");
    }
    let got = ExportMetricsServiceRequest::decode(&requests[1].1[..]).unwrap();
    let metrics = &got.resource_metrics[0].scope_metrics[0].metrics;
    assert_eq!(metrics.len(), 1, "one metric, three points");
    match &metrics[0].data {
        Some(metric::Data::Sum(s)) => {
            assert_eq!(s.data_points.len(), 3);
            assert!(s.is_monotonic);
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_receiver_that_rejects_points_fails_them_for_good() {
    let server = FaultServer::start(vec![], Act::Partial(2));
    let (pipeline, sinks) = build(&["--sinks", "otlp", "--otlp-endpoint", &server.endpoint()]);
    let report = delivery::deliver(
        &sinks,
        &points(2)[..],
        deadline(),
        &pipeline.config().delivery,
    )
    .await;
    assert_eq!(report.failures.len(), 1);
    let f = &report.failures[0];
    assert!(!f.error.is_retryable(), "{}", f.message());
    assert!(f.message().contains("2 metric point(s)"), "{}", f.message());
    assert!(
        f.message().contains("rejected 2 of 2 metric data points"),
        "{}",
        f.message()
    );
}

#[tokio::test]
async fn a_sink_with_only_a_logs_url_takes_no_metrics_and_is_skipped() {
    let server = FaultServer::start(vec![], Act::Accept);
    let logs_url = format!("{}/v1/logs", server.endpoint());
    let (pipeline, sinks) = build(&["--sinks", "otlp", "--otlp-logs-endpoint", &logs_url]);
    assert!(!sinks[0].accepts_metrics());
    let report = delivery::deliver(
        &sinks,
        &points(2)[..],
        deadline(),
        &pipeline.config().delivery,
    )
    .await;
    assert!(report.is_complete());
    assert!(server.requests().is_empty(), "nothing was sent");
    // A separate metrics URL makes it take them again.
    let metrics_url = format!("{}/custom/metrics", server.endpoint());
    let (_, sinks) = build(&[
        "--sinks",
        "otlp",
        "--otlp-logs-endpoint",
        &logs_url,
        "--otlp-metrics-endpoint",
        &metrics_url,
    ]);
    assert!(sinks[0].accepts_metrics());
    let report = delivery::deliver(
        &sinks,
        &points(1)[..],
        deadline(),
        &pipeline.config().delivery,
    )
    .await;
    assert!(report.is_complete(), "{:?}", report.failures);
    assert_eq!(server.requests()[0].0, "/custom/metrics");
}

/// A WhaTap collector on 127.0.0.1 gets the points as TagCountPacks over
/// the sink's kernel-confirmed connection.
#[tokio::test]
async fn points_reach_a_whatap_collector_as_tagcount_packs() {
    use whatap_support::{Behaviour, Receiver};
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
    ]);
    assert!(sinks[0].accepts_metrics());
    let sent = points(3);
    let report =
        delivery::deliver(&sinks, &sent[..], deadline(), &pipeline.config().delivery).await;
    assert!(report.is_complete(), "{:?}", report.failures);
    let frames = rx.wait_for(3).await;
    let mut packs = Vec::new();
    for f in &frames {
        let mut wire = vec![10u8, 0];
        wire.extend_from_slice(&f.pcode.to_be_bytes());
        wire.extend_from_slice(&f.license_hash.to_be_bytes());
        wire.extend_from_slice(&(f.body.len() as i32).to_be_bytes());
        wire.extend_from_slice(&f.body);
        packs.extend(rdsf_sinks::whatap::decode::decode_frames(&wire).unwrap());
    }
    // Three attribute sets (db0, db1, db2): three packs, one field each.
    assert_eq!(packs.len(), 3, "{packs:#?}");
    for (i, p) in packs.iter().enumerate() {
        assert_eq!(p.pcode, 78);
        let text = format!("{p:?}");
        assert!(text.contains("db.client.operation.count"), "{text}");
        assert!(text.contains(&format!("db{i}")), "{text}");
        assert!(text.contains("rds_metrics"), "{text}");
        // The instance's name, as its log records carry it.
        assert!(text.contains(r#"\"oname\": \"db1\""#), "{text}");
    }
}
