//! Many Firehose clients at once against the real `serve` binary on
//! 127.0.0.1, each behaving as Firehose does: a request id per request,
//! the same id again until a 200 comes back (with a pause), and sometimes
//! the same id again after its 200 (a 200 lost on the way back).
//!
//! Two bounded tests check delivery, counting each record's
//! `log.record.uid` (its CloudWatch event id, unique here) at an OTLP
//! receiver: exactly once when requests are replayed, at least once when
//! the receiver fails some requests. `load_figures` (ignored by default;
//! `bash scripts/load-test.sh` runs it against a release build) prints
//! records/s, records per CPU-second, latency percentiles and peak RSS.

use std::collections::BTreeMap;
use std::io::Write;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;

use crate::delivery_support::fault_server::{Act, FaultServer};
use crate::firehose::KEY;
use crate::serve::{exit_of, firehose_headers, http, sigterm, start_bin, BIN};

/// A PostgreSQL log line as RDS writes it, different for each event.
fn line(n: usize) -> String {
    format!(
        "2025-11-25 07:50:{:02} UTC:10.0.{}.{}(5432):app@orders:[{}]:LOG:  duration: {}.{:03} ms  statement: SELECT o.id, o.total FROM orders o WHERE o.customer_id = {} AND o.created_at > now() - interval '1 day'",
        n % 60,
        n % 200,
        n % 250,
        1000 + n % 9000,
        n % 90,
        n % 1000,
        n
    )
}

/// The event id of event `n` (CloudWatch's are 56 digits).
fn event_id(n: usize) -> String {
    format!("{n:056}")
}

/// A Firehose request body: `records` CloudWatch Logs documents (gzip, as a
/// subscription delivers them) of `events` log events each, event numbers
/// from `first`.
fn firehose_body(request_id: &str, records: usize, events: usize, first: usize) -> String {
    let b64 = base64::engine::general_purpose::STANDARD;
    let data: Vec<serde_json::Value> = (0..records)
        .map(|r| {
            let log_events: Vec<serde_json::Value> = (0..events)
                .map(|e| {
                    let n = first + r * events + e;
                    serde_json::json!({"id": event_id(n), "timestamp": 1_764_057_000_000i64 + n as i64, "message": line(n)})
                })
                .collect();
            let doc = serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
                "logGroup": "/aws/rds/instance/orders-1/postgresql", "logStream": "orders-1.0",
                "subscriptionFilters": ["rds-forwarder"], "logEvents": log_events});
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            gz.write_all(doc.to_string().as_bytes()).unwrap();
            serde_json::json!({"data": b64.encode(gz.finish().unwrap())})
        })
        .collect();
    serde_json::json!({"requestId": request_id, "timestamp": 1_764_057_000_000i64, "records": data})
        .to_string()
}

/// What one run of clients did.
#[derive(Default)]
struct Run {
    /// Seconds each attempt took, every attempt.
    latencies: Vec<f64>,
    /// Answers by status, every attempt.
    statuses: BTreeMap<u16, usize>,
    /// Requests that never got a 200 within their attempts.
    given_up: usize,
    /// Replays (same id after its 200) answered 200.
    replays_ok: usize,
}

/// How the clients behave.
struct Plan {
    clients: usize,
    requests: usize,
    records: usize,
    events: usize,
    /// Every `replay_every`-th request is sent again after its 200 (0: never).
    replay_every: usize,
    /// Attempts per request before giving up (Firehose retries for up to 2 h).
    attempts: usize,
    /// The same body for every request (the load test: building bodies is not what is measured).
    same_body: bool,
}

/// Runs `plan`'s clients against `addr` until every request is done.
fn drive(addr: &str, plan: &Plan) -> Run {
    let next = Arc::new(AtomicUsize::new(0));
    let run = Arc::new(Mutex::new(Run::default()));
    let shared_body = plan
        .same_body
        .then(|| Arc::new(firehose_body("REQUEST-ID", plan.records, plan.events, 0)));
    std::thread::scope(|scope| {
        for _ in 0..plan.clients {
            let (next, run, shared_body) = (next.clone(), run.clone(), shared_body.clone());
            scope.spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= plan.requests {
                    break;
                }
                let id = format!("load-{i:06}");
                let body = match &shared_body {
                    Some(b) => b.replacen("REQUEST-ID", &id, 1),
                    None => firehose_body(
                        &id,
                        plan.records,
                        plan.events,
                        i * plan.records * plan.events,
                    ),
                };
                let send = || {
                    let started = Instant::now();
                    let (status, _) = http(
                        addr,
                        "POST",
                        "/",
                        &firehose_headers(&id, KEY),
                        body.as_bytes(),
                    );
                    let mut r = run.lock().unwrap();
                    r.latencies.push(started.elapsed().as_secs_f64());
                    *r.statuses.entry(status).or_default() += 1;
                    status
                };
                let mut delivered = false;
                for attempt in 0..plan.attempts {
                    if send() == 200 {
                        delivered = true;
                        break;
                    }
                    std::thread::sleep(Duration::from_millis(20 * (attempt as u64 + 1).min(5)));
                }
                if !delivered {
                    run.lock().unwrap().given_up += 1;
                } else if plan.replay_every > 0 && i % plan.replay_every == 0 && send() == 200 {
                    run.lock().unwrap().replays_ok += 1;
                }
            });
        }
    });
    Arc::try_unwrap(run).ok().unwrap().into_inner().unwrap()
}

/// Every event id the plan sent.
fn sent_ids(plan: &Plan) -> Vec<String> {
    (0..plan.requests * plan.records * plan.events)
        .map(event_id)
        .collect()
}

fn stop(mut child: std::process::Child, log: std::thread::JoinHandle<String>) -> String {
    sigterm(&child);
    let exit = exit_of(&mut child);
    let log = log.join().unwrap();
    assert!(exit.success(), "exit {exit:?}");
    log
}

#[test]
fn replayed_requests_deliver_each_record_exactly_once() {
    let receiver = FaultServer::start(Vec::new(), Act::Accept);
    let endpoint = receiver.endpoint();
    let (child, addr, log) = start_bin(
        BIN,
        &[
            ("RDSF_SINKS", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ],
    );
    let plan = Plan {
        clients: 6,
        requests: 150,
        records: 10,
        events: 2,
        replay_every: 2,
        attempts: 5,
        same_body: false,
    };
    let run = drive(&addr, &plan);
    let (_, metrics) = http(&addr, "GET", "/metrics", &[], b"");
    stop(child, log);
    assert_eq!(run.given_up, 0, "{:?}", run.statuses);
    assert_eq!(run.replays_ok, 75, "every replay answered 200");
    let times = receiver.accepted_times();
    let sent = sent_ids(&plan);
    assert_eq!(times.len(), sent.len(), "every record arrived");
    for id in &sent {
        assert_eq!(times.get(id), Some(&1), "record {id}: not exactly once");
    }
    assert!(
        metrics.contains("rdsf_serve_delivered_request_ids 150\n"),
        "{metrics}"
    );
}

#[test]
fn requests_retried_after_sink_faults_deliver_each_record_at_least_once() {
    // Every third OTLP request refused or cut for the first 90; then all accepted.
    let script: Vec<Act> = (0..90)
        .map(|i| match i % 6 {
            0 => Act::Status(503, None),
            3 => Act::Reset,
            _ => Act::Accept,
        })
        .collect();
    let receiver = FaultServer::start(script, Act::Accept);
    let endpoint = receiver.endpoint();
    let (child, addr, log) = start_bin(
        BIN,
        &[
            ("RDSF_SINKS", "otlp"),
            ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
            // No retry inside: a sink fault becomes the non-200 Firehose retries.
            ("RDSF_RETRY_MAX_ATTEMPTS", "1"),
        ],
    );
    let plan = Plan {
        clients: 6,
        requests: 150,
        records: 10,
        events: 2,
        replay_every: 5,
        attempts: 20,
        same_body: false,
    };
    let run = drive(&addr, &plan);
    stop(child, log);
    assert_eq!(run.given_up, 0, "{:?}", run.statuses);
    let failed: usize = run
        .statuses
        .iter()
        .filter(|(s, _)| **s != 200)
        .map(|(_, n)| n)
        .sum();
    assert!(
        failed >= 10,
        "the faults reached the clients: {:?}",
        run.statuses
    );
    let times = receiver.accepted_times();
    for id in sent_ids(&plan) {
        assert!(times.get(&id).is_some_and(|n| *n >= 1), "record {id} lost");
    }
}

/// A field of /proc/<pid>/status, in kB.
fn status_kb(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// utime + stime of `pid`, in seconds (clock ticks of 1/100 s on Linux).
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    // Fields 14 and 15 of stat(5), counted from the state (field 3) here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The load test: figures printed, nothing timed asserted. Sink: stdout
/// into /dev/null, so what is measured is the server (HTTP, inflate,
/// parse, records, serialization), not a receiver sharing its cores.
#[test]
#[ignore = "prints load figures; run by scripts/load-test.sh (release build)"]
fn load_figures() {
    let bin = std::env::var("RDSF_LOAD_BIN").unwrap_or_else(|_| BIN.to_owned());
    let plan = Plan {
        clients: env_or("RDSF_LOAD_CLIENTS", 8),
        requests: env_or("RDSF_LOAD_REQUESTS", 300),
        records: env_or("RDSF_LOAD_RECORDS", 500),
        events: env_or("RDSF_LOAD_EVENTS", 4),
        replay_every: 0,
        attempts: 3,
        same_body: true,
    };
    let (mut child, addr, log) = start_bin(
        &bin,
        &[
            ("RDSF_SINKS", "stdout"),
            ("RDSF_SERVE_MAX_IN_FLIGHT", "8"),
            ("RDSF_LOG_LEVEL", "info"),
        ],
    );
    // stdout into a thread that only counts lines (/dev/null, plus a check).
    let out = child.stdout.take().unwrap();
    let lines = std::thread::spawn(move || {
        use std::io::Read;
        let (mut out, mut buf, mut lines) = (out, vec![0u8; 1 << 16], 0);
        loop {
            match out.read(&mut buf) {
                Ok(0) | Err(_) => return lines,
                Ok(n) => lines += memchr::memchr_iter(b'\n', &buf[..n]).count(),
            }
        }
    });
    let pid = child.id();
    let body_len = firehose_body("load-000000", plan.records, plan.events, 0).len();
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let run = drive(&addr, &plan);
    let wall = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu_before;
    let peak_rss_kb = status_kb(pid, "VmHWM:");
    stop(child, log);
    let written = lines.join().unwrap();
    let records = plan.requests * plan.records * plan.events;
    let mut sorted = run.latencies.clone();
    sorted.sort_by(f64::total_cmp);
    println!("serve load test: {bin}");
    println!(
        "  {} clients, {} requests of {} Firehose records x {} log events ({} KB body), sink stdout",
        plan.clients,
        plan.requests,
        plan.records,
        plan.events,
        body_len / 1024
    );
    println!("  answers: {:?}, given up: {}", run.statuses, run.given_up);
    println!("  log records: {records} sent, {written} lines written");
    println!(
        "  wall {wall:.2} s: {:.0} records/s, {:.1} requests/s",
        records as f64 / wall,
        plan.requests as f64 / wall
    );
    println!(
        "  server CPU {cpu:.2} s: {:.0} records per CPU-second (per core)",
        records as f64 / cpu
    );
    println!(
        "  latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&sorted, 0.50) * 1e3,
        percentile(&sorted, 0.99) * 1e3,
        sorted.last().unwrap() * 1e3
    );
    println!("  peak RSS (VmHWM) {:.1} MB", peak_rss_kb as f64 / 1024.0);
    assert_eq!(run.given_up, 0, "{:?}", run.statuses);
    assert!(
        written >= records,
        "every record written: {written} < {records}"
    );
}
