//! The WhaTap sink against a receiver on 127.0.0.1: what arrives for a
//! replayed corpus payload and an RDS event, failover, reconnection after
//! the collector drops the connection, and failures reported as errors.

use rdsf_testkit::whatap as whatap_support;

use std::time::{Duration, Instant};

use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_core::record::{keys, RecordRef, RecordSet, Value};
use rdsf_core::secret::Secret;
use rdsf_core::severity::Severity;
use rdsf_sinks::whatap::conn::Endpoints;
use rdsf_sinks::whatap::hash::{hash64_str, hash_str};
use rdsf_sinks::whatap::{WhatapConfig, WhatapSink};
use rdsf_sinks::{Sink, SinkError};
use whatap_support::{
    corpus_payloads, decode_pack, fixture, refused_port, stalled_listener, Behaviour, Pack,
    Receiver, Val,
};

const LICENSE: &str = "test-license-key";
const PCODE: i64 = 777;

fn sink_config(hosts: &[u16]) -> WhatapConfig {
    WhatapConfig {
        endpoints: Endpoints {
            hosts: hosts.iter().map(|p| ("127.0.0.1".to_owned(), *p)).collect(),
            connect_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(30),
        },
        license: Secret::new(LICENSE),
        pcode: PCODE,
        event_pack: true,
        log_category: None,
        event_category: None,
    }
}

fn records_of(path: &std::path::Path) -> RecordSet {
    let config = Config {
        region: Some("us-east-1".to_owned()),
        ..Config::default()
    };
    let bytes = std::fs::read(path).unwrap();
    let processed = Pipeline::new(config).process(&bytes, 1_700_000_000_000_000_000);
    assert!(
        processed.failures.is_empty(),
        "{}: {:?}",
        path.display(),
        processed.failures
    );
    processed.records
}

fn deadline() -> Instant {
    Instant::now() + Duration::from_secs(120)
}

fn text(v: &Value) -> String {
    match v {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
    }
}

fn expected_val(v: &Value) -> Val {
    match v {
        Value::Str(s) => Val::Text(s.to_string()),
        Value::Int(i) => Val::Dec(*i),
        Value::Double(d) => Val::Double(*d),
        Value::Bool(b) => Val::Bool(*b),
        Value::Array(_) => Val::Text(text(v)),
    }
}

/// Checks one LogSinkPack against the record it came from.
fn check_log(pack: &Pack, r: &RecordRef<'_>, category: &str) {
    let Pack::Log(p) = pack else {
        panic!("expected a LogSinkPack, got {pack:?}")
    };
    let oname = r.resource.get_str(keys::RDS_SOURCE_IDENTIFIER).unwrap();
    assert_eq!(p.head.pcode, PCODE);
    assert_eq!(p.head.oid, hash_str(oname));
    assert_eq!(p.head.time, r.timestamp_ns / 1_000_000);
    assert_eq!(p.category, category);
    assert_eq!(p.content, r.body);
    assert_eq!(p.tag("oname"), Some(&Val::Text(oname.to_owned())));
    for (tag, key) in [
        ("engine", keys::DB_SYSTEM_NAME),
        ("log_type", keys::RDS_LOG_TYPE),
        ("log_group", keys::AWS_LOG_GROUP_NAMES),
        ("log_stream", keys::AWS_LOG_STREAM_NAMES),
        ("region", keys::CLOUD_REGION),
        ("account", keys::CLOUD_ACCOUNT_ID),
    ] {
        assert_eq!(
            p.tag(tag),
            r.resource.get(key).map(|v| Val::Text(text(v))).as_ref(),
            "tag {tag}"
        );
    }
    assert_ne!(p.tag_hash, 0, "tag hash computed");
    assert_eq!(
        p.field("severity_text"),
        Some(&Val::Text(r.severity.text.to_string()))
    );
    assert_eq!(
        p.field("severity_number"),
        Some(&Val::Dec(r.severity.number as i64))
    );
    for (k, v) in r.attributes.iter() {
        assert_eq!(p.field(k), Some(&expected_val(v)), "field {k}");
    }
    assert_eq!(p.fields.len(), r.attributes.len() + 2);
}

#[tokio::test]
async fn replayed_corpus_payload_arrives_whole_and_right() {
    let rx = Receiver::start(Behaviour::default()).await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let mut all = RecordSet::new();
    for path in corpus_payloads() {
        let records = records_of(&path);
        sink.send(&records.all_groups(), deadline()).await.unwrap();
        all.append(records);
    }
    assert!(!all.is_empty());
    let frames = rx.wait_for(all.len()).await;
    assert_eq!(frames.len(), all.len(), "one LogSinkPack per log record");
    for (frame, r) in frames.iter().zip(all.with_resources()) {
        assert_eq!(frame.pcode, PCODE);
        assert_eq!(frame.license_hash, hash64_str(LICENSE));
        check_log(&decode_pack(&frame.body), &r, "rds-error");
    }
    // Typed fields: the parsers' numbers and the CloudWatch id are there.
    assert!(frames.iter().all(
        |f| matches!(&decode_pack(&f.body), Pack::Log(p) if p.field(&keys::CW_EVENT_ID).is_some())
    ));
    assert_eq!(rx.connections(), 1, "one connection kept for every send");
    eprintln!(
        "whatap delivery: {} records arrived over one connection",
        all.len()
    );
}

#[tokio::test]
async fn rds_event_goes_as_logsink_and_eventpack() {
    let rx = Receiver::start(Behaviour::default()).await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let records = records_of(&fixture("rds-event-failover.json"));
    assert_eq!(records.len(), 1);
    let r = &records.at(0);
    sink.send(&records.all_groups(), deadline()).await.unwrap();
    let frames = rx.wait_for(2).await;
    let log = decode_pack(&frames[0].body);
    check_log(&log, r, "rds-event");
    let Pack::Event(ev) = decode_pack(&frames[1].body) else {
        panic!("second frame is not an EventPack")
    };
    assert_eq!(ev.head.oid, hash_str("orders-prod-1"));
    assert_eq!(ev.head.time, r.timestamp_ns / 1_000_000);
    // Failover is a warning in the catalogue's severity rules.
    assert_eq!(Severity::band(r.severity.number), "WARN");
    assert_eq!(ev.level, 20);
    assert_eq!(ev.title, "RDS-EVENT-0049 on orders-prod-1");
    assert_eq!(ev.message, "Multi-AZ instance failover completed.");
    assert_eq!(ev.attr("event_id"), Some("RDS-EVENT-0049"));
    assert_eq!(
        ev.attr("_uuid_"),
        Some("819653f0-d739-46ef-bda2-a133e25dfc0a")
    );
    assert_eq!(ev.attr("_esca_"), Some("false"));
}

#[tokio::test]
async fn first_host_refuses_second_receives_everything() {
    let rx = Receiver::start(Behaviour::default()).await;
    let sink = WhatapSink::new(&sink_config(&[refused_port(), rx.port]));
    let records = records_of(&corpus_payloads()[0]);
    sink.send(&records.all_groups(), deadline()).await.unwrap();
    // The second send stays on the host that worked.
    sink.send(&records.all_groups(), deadline()).await.unwrap();
    let frames = rx.wait_for(2 * records.len()).await;
    assert_eq!(frames.len(), 2 * records.len());
    for (frame, r) in frames
        .iter()
        .zip(records.with_resources().chain(records.with_resources()))
    {
        check_log(&decode_pack(&frame.body), &r, "rds-error");
    }
    assert_eq!(rx.connections(), 1);
}

/// Numbered records with 2 KiB bodies: enough bytes (8 MiB) that the batch
/// cannot sit in kernel buffers when the receiver hangs up.
fn numbered_records(n: usize) -> RecordSet {
    let corpus = records_of(&corpus_payloads()[0]);
    let template = corpus[0].clone();
    let records = (0..n)
        .map(|i| {
            let mut r = template.clone();
            r.body = format!("record {i:06} {}", "x".repeat(2048));
            r
        })
        .collect();
    RecordSet::of(corpus.resource_of(0).clone(), records)
}

fn numbers_seen(frames: &[whatap_support::Frame]) -> std::collections::BTreeSet<usize> {
    frames
        .iter()
        .map(|f| match decode_pack(&f.body) {
            Pack::Log(p) => p.content[7..13].parse::<usize>().unwrap(),
            other => panic!("unexpected {other:?}"),
        })
        .collect()
}

#[tokio::test]
async fn receiver_closing_mid_stream_gets_everything_after_reconnect() {
    let rx = Receiver::start(Behaviour {
        close_first_after: Some(5),
        small_rcvbuf: true,
        ..Behaviour::default()
    })
    .await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let records = numbered_records(4000);
    sink.send(&records.all_groups(), deadline()).await.unwrap();
    rx.wait_closed().await;
    // 5 frames on the dropped connection, then the whole batch again.
    let frames = rx.wait_for(5 + records.len()).await;
    let seen = numbers_seen(&frames);
    assert_eq!(
        seen.len(),
        records.len(),
        "every record arrived (duplicates allowed)"
    );
    assert!(rx.connections() >= 2, "the sender reconnected");
    eprintln!(
        "whatap delivery: {} frames for {} records over {} connections",
        frames.len(),
        records.len(),
        rx.connections()
    );
}

#[tokio::test]
async fn peer_closed_while_idle_is_noticed_before_the_next_batch_even_after_stray_bytes() {
    let rx = Receiver::start(Behaviour {
        close_first_after: Some(3),
        stray_byte_before_close: true,
        ..Behaviour::default()
    })
    .await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let records = numbered_records(6);
    sink.send(&records.groups(0..3), deadline()).await.unwrap();
    rx.wait_closed().await;
    sink.send(&records.groups(3..records.len()), deadline())
        .await
        .unwrap();
    let frames = rx.wait_for(6).await;
    assert_eq!(numbers_seen(&frames).len(), 6);
    assert_eq!(rx.connections(), 2);
}

#[tokio::test]
async fn no_reachable_host_is_a_retryable_error_naming_the_hosts() {
    let (a, b) = (refused_port(), refused_port());
    let sink = WhatapSink::new(&sink_config(&[a, b]));
    let records = numbered_records(2);
    let err = sink
        .send(&records.all_groups(), deadline())
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Unavailable { .. }), "{err}");
    assert!(err.is_retryable());
    let msg = err.to_string();
    assert!(
        msg.contains(&format!("127.0.0.1:{a}")) && msg.contains(&format!("127.0.0.1:{b}")),
        "{msg}"
    );
    assert!(!msg.contains(LICENSE));
}

#[tokio::test]
async fn a_passed_deadline_fails_without_sending() {
    let rx = Receiver::start(Behaviour::default()).await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let err = sink
        .send(&numbered_records(2).all_groups(), Instant::now())
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Deadline { .. }), "{err}");
}

#[tokio::test]
async fn a_stalled_host_trips_the_write_timeout_and_the_next_host_gets_the_batch() {
    let (_stalled, stalled_port) = stalled_listener();
    let rx = Receiver::start(Behaviour::default()).await;
    let mut config = sink_config(&[stalled_port, rx.port]);
    config.endpoints.write_timeout = Duration::from_secs(1);
    let sink = WhatapSink::new(&config);
    let records = numbered_records(4000);
    sink.send(&records.all_groups(), deadline()).await.unwrap();
    let frames = rx.wait_for(records.len()).await;
    assert_eq!(numbers_seen(&frames).len(), records.len());
    // The batch after stays on the host that worked.
    sink.send(&records.groups(0..1), deadline()).await.unwrap();
    rx.wait_for(records.len() + 1).await;
    assert_eq!(rx.connections(), 1);
}

#[tokio::test]
async fn a_stalled_host_cannot_hold_the_send_past_its_deadline() {
    let (_stalled, port) = stalled_listener();
    let sink = WhatapSink::new(&sink_config(&[port]));
    let deadline = Instant::now() + Duration::from_millis(500);
    let err = sink
        .send(&numbered_records(4000).all_groups(), deadline)
        .await
        .unwrap_err();
    assert!(matches!(err, SinkError::Deadline { .. }), "{err}");
    assert!(err.is_retryable());
}

#[tokio::test]
async fn a_send_cancelled_mid_write_never_leaves_half_a_frame_on_the_kept_connection() {
    let rx = Receiver::start(Behaviour {
        small_rcvbuf: true,
        ..Behaviour::default()
    })
    .await;
    let sink = WhatapSink::new(&sink_config(&[rx.port]));
    let big = numbered_records(4000);
    let big = big.all_groups();
    {
        let send = sink.send(&big, deadline());
        tokio::pin!(send);
        tokio::select! {
            biased;
            _ = rx.wait_for(10) => {}
            r = &mut send => panic!("an 8 MiB batch finished before the receiver read 10 frames: {r:?}"),
        }
        // Dropping `send` here cancels it in the middle of the batch.
    }
    let small = numbered_records(3);
    sink.send(&small.all_groups(), deadline()).await.unwrap();
    // The receiver decodes every frame strictly (a half frame followed by
    // a new one would fail to parse): the small batch arrives intact on a
    // new connection.
    let mut count = 0;
    while count < 3 {
        let frames = rx.frames();
        count = frames.iter().filter(|f| f.conn == 1).count();
        if count < 3 {
            rx.wait_for(frames.len() + 1).await;
        }
    }
    let on_second: Vec<_> = rx.frames().into_iter().filter(|f| f.conn == 1).collect();
    assert_eq!(numbers_seen(&on_second).len(), 3);
    assert_eq!(rx.connections(), 2);
}

/// How a faulty collector (issue 13, item 1) treats every connection.
#[derive(Clone, Copy, Debug)]
enum Fault {
    NeverReads,
    ClosesAfter64k,
    ResetsAfter64k,
    StallsMidFrame,
}

/// A faulty collector on 127.0.0.1 with a 4 KiB receive buffer, served by
/// a plain thread (independent of the sender's runtime). Its accepted
/// sockets are kept (never read further) until the listener is dropped.
fn faulty_collector(fault: Fault) -> u16 {
    use socket2::{Domain, Socket, Type};
    use std::io::Read;
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    socket
        .bind(
            &"127.0.0.1:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
    socket.listen(16).unwrap();
    let listener: std::net::TcpListener = socket.into();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut buf = vec![0u8; 64 * 1024];
            match fault {
                Fault::NeverReads => {}
                Fault::ClosesAfter64k | Fault::ResetsAfter64k | Fault::StallsMidFrame => {
                    let _ = stream.read_exact(&mut buf[..64 * 1024 - 7]);
                }
            }
            match fault {
                Fault::ClosesAfter64k => drop(stream),
                Fault::ResetsAfter64k => {
                    let s = socket2::Socket::from(stream);
                    let _ = s.set_linger(Some(Duration::ZERO));
                    drop(s);
                }
                _ => kept.push(stream),
            }
            if kept.len() > 64 {
                return;
            }
        }
    });
    port
}

/// Sends 2,000 numbered records in batches of `batch` (20 = 40 KiB, less
/// than the kernel buffers; 200 = 400 KiB, more than the 64 KiB a faulty
/// collector reads) to `hosts`, the faulty first. Each run must end either
/// with a failed send (the invocation fails, the batch is retried) or with
/// every record id at the healthy receiver.
async fn fault_scenario(fault: Fault, with_healthy: bool, batch: usize) {
    for iteration in 0..3 {
        let rx = Receiver::start(Behaviour::default()).await;
        let bad = faulty_collector(fault);
        let hosts: Vec<u16> = if with_healthy {
            vec![bad, rx.port]
        } else {
            vec![bad]
        };
        let mut config = sink_config(&hosts);
        config.endpoints.write_timeout = Duration::from_millis(500);
        let sink = WhatapSink::new(&config);
        let records = numbered_records(2000);
        let limit = Instant::now() + Duration::from_secs(20);
        let mut failed = None;
        for start in (0..records.len()).step_by(batch) {
            let part = records.groups(start..(start + batch).min(records.len()));
            if let Err(e) = sink.send(&part, limit).await {
                failed = Some(e);
                break;
            }
        }
        match failed {
            Some(e) => {
                assert!(e.is_retryable(), "{fault:?}: {e}");
                eprintln!("{fault:?} #{iteration}: send failed: {e}");
            }
            None => {
                let seen = numbers_seen(&rx.wait_for_or_settle(records.len()).await);
                let lost = records.len() - seen.len();
                assert_eq!(
                    lost, 0,
                    "{fault:?} #{iteration}: every send succeeded but {lost} of {} records never reached a healthy collector",
                    records.len()
                );
            }
        }
    }
}

#[tokio::test]
async fn fault_collector_never_reads() {
    fault_scenario(Fault::NeverReads, false, 20).await;
}

#[tokio::test]
async fn fault_collector_closes_after_64k() {
    fault_scenario(Fault::ClosesAfter64k, true, 200).await;
}

#[tokio::test]
async fn fault_collector_resets_after_64k() {
    fault_scenario(Fault::ResetsAfter64k, true, 200).await;
}

#[tokio::test]
async fn fault_collector_stalls_mid_frame() {
    fault_scenario(Fault::StallsMidFrame, false, 200).await;
}

#[tokio::test]
async fn fault_first_host_never_reads_healthy_second_gets_everything() {
    fault_scenario(Fault::NeverReads, true, 20).await;
}
