//! `rds-forwarder serve` as a fleet runs it: the real binary on 127.0.0.1,
//! health and readiness, a Firehose delivery answered 200 after its records
//! are written (stdout sink), a wrong key, a body past the bound, the
//! counters, and a graceful stop on SIGTERM.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::firehose::{body, KEY};

pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");

/// One HTTP/1.1 exchange (`Connection: close`): status and body.
pub(crate) fn http(
    addr: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).unwrap();
    s.write_all(body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    status_and_body(&raw)
}

/// The status code and body of a raw HTTP/1 answer (0 when unreadable).
pub(crate) fn status_and_body(raw: &[u8]) -> (u16, String) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Starts the binary's `serve` on 127.0.0.1 with `env`; its address, and a
/// thread collecting the rest of its log.
pub(crate) fn start(
    env: &[(&str, &str)],
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    start_bin(BIN, env)
}

/// [`start`] with another build of the binary (the load test's release build).
pub(crate) fn start_bin(
    bin: &str,
    env: &[(&str, &str)],
) -> (std::process::Child, String, std::thread::JoinHandle<String>) {
    let mut cmd = Command::new(bin);
    cmd.args(["serve", "--listen", "127.0.0.1:0"])
        .env("RDSF_FIREHOSE_ACCESS_KEY", KEY)
        .env("RDSF_LOG_LEVEL", "info")
        .env_remove("AWS_LAMBDA_RUNTIME_API")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr = None;
    let mut line = String::new();
    let mut before = String::new();
    while addr.is_none() && stderr.read_line(&mut line).unwrap() > 0 {
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(&line) {
            addr = v["fields"]["address"].as_str().map(str::to_owned);
        }
        before.push_str(&line);
        line.clear();
    }
    let addr =
        addr.unwrap_or_else(|| panic!("no `listening` log line with the address:\n{before}"));
    let log = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    (child, addr, log)
}

pub(crate) fn sigterm(child: &std::process::Child) {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
}

/// Waits for the exit, at most 20 s.
pub(crate) fn exit_of(child: &mut std::process::Child) -> std::process::ExitStatus {
    let started = Instant::now();
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) fn firehose_headers<'a>(request_id: &'a str, key: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("content-type", "application/json"),
        ("x-amz-firehose-protocol-version", "1.0"),
        ("x-amz-firehose-request-id", request_id),
        ("x-amz-firehose-access-key", key),
    ]
}

#[test]
fn serve_answers_firehose_and_stops_gracefully_on_sigterm() {
    let (mut child, addr, log) = start(&[("RDSF_MAX_DECOMPRESSED_BYTES", "8192")]);

    assert_eq!(
        http(&addr, "GET", "/healthz", &[], b""),
        (200, "ok\n".to_owned())
    );
    assert_eq!(http(&addr, "GET", "/readyz", &[], b"").0, 200);

    let good = body("srv-1");
    assert!(good.len() < 8192, "the delivery fits the bound");
    let (status, answer) = http(
        &addr,
        "POST",
        "/",
        &firehose_headers("srv-1", KEY),
        good.as_bytes(),
    );
    assert_eq!(status, 200, "{answer}");
    let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(answer["requestId"], "srv-1");

    let (status, answer) = http(
        &addr,
        "POST",
        "/",
        &firehose_headers("srv-2", "wrong"),
        body("srv-2").as_bytes(),
    );
    assert_eq!(status, 401, "{answer}");
    assert!(!answer.contains(KEY));

    let (status, _) = http(
        &addr,
        "POST",
        "/",
        &firehose_headers("srv-3", KEY),
        &[b'x'; 9000],
    );
    assert_eq!(status, 413, "a body past RDSF_MAX_DECOMPRESSED_BYTES");

    let (status, metrics) = http(&addr, "GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    for want in [
        "rdsf_serve_requests_total{status=\"200\"}",
        "rdsf_serve_requests_total{status=\"401\"} 1",
        "rdsf_serve_requests_total{status=\"413\"} 1",
        "rdsf_serve_delivered_request_ids 1",
    ] {
        assert!(metrics.contains(want), "{want} in\n{metrics}");
    }
    // Self-monitoring's counters, the same set EMF and the sinks get: the
    // one delivery that ran (the refused ones never reached the pipeline).
    let bytes_in = format!("rdsf_bytes_in_total {}\n", good.len());
    assert!(metrics.contains(&bytes_in), "{bytes_in} in\n{metrics}");
    assert!(
        metrics.contains("# TYPE rdsf_records_out_total counter"),
        "{metrics}"
    );

    // SIGTERM: it stops accepting, finishes, exits 0.
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let started = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "still running 20 s after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut out = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .unwrap();
    let log = log.join().unwrap();
    assert!(status.success(), "exit {status:?}; log:\n{log}");
    assert!(log.contains("stopping"), "{log}");
    assert!(TcpStream::connect(&addr).is_err(), "no longer listening");
    // The one delivered request's records, once each: two log lines and the RDS event.
    assert_eq!(
        out.lines()
            .filter(|l| l.starts_with("{\"timestamp\""))
            .count(),
        3,
        "{out}"
    );
    assert!(!log.contains(KEY) && !out.contains(KEY));
}

/// An OTLP receiver that answers each of `requests` requests 200 only after
/// `delay` (one at a time, one connection each): deliveries that stay in
/// flight. Joins with the body bytes it received.
fn slow_otlp_receiver(
    delay: Duration,
    requests: usize,
) -> (String, std::thread::JoinHandle<usize>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let handle = std::thread::spawn(move || {
        let mut received = 0;
        for _ in 0..requests {
            let (mut s, _) = listener.accept().unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            // Read the request: headers, then content-length bytes.
            let mut raw = Vec::new();
            let mut buf = [0u8; 8192];
            received += loop {
                let n = s.read(&mut buf).unwrap();
                assert!(n > 0, "request cut short");
                raw.extend_from_slice(&buf[..n]);
                if let Some(end) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&raw[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .map_or(0, |v| v.trim().parse().unwrap());
                    while raw.len() < end + 4 + len {
                        let n = s.read(&mut buf).unwrap();
                        assert!(n > 0, "body cut short");
                        raw.extend_from_slice(&buf[..n]);
                    }
                    break len;
                }
            };
            std::thread::sleep(delay);
            s.write_all(
                b"HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
            )
            .unwrap();
        }
        received
    });
    (addr, handle)
}

/// With one turn, a second delivery waits (its body unread) while the first
/// is in flight: the bound the README gives for memory.
#[test]
fn requests_beyond_max_in_flight_wait_for_a_turn() {
    let (otlp, received) = slow_otlp_receiver(Duration::from_millis(1200), 2);
    let endpoint = format!("http://{otlp}");
    let (mut child, addr, log) = start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("RDSF_SINKS", "otlp"),
        ("RDSF_SERVE_MAX_IN_FLIGHT", "1"),
    ]);
    let send = |id: &'static str| {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let body = body(id);
            http(
                &addr,
                "POST",
                "/",
                &firehose_headers(id, KEY),
                body.as_bytes(),
            )
        })
    };
    let (first, second) = (send("srv-t1"), send("srv-t2"));
    std::thread::sleep(Duration::from_millis(600));
    let (_, metrics) = http(&addr, "GET", "/metrics", &[], b"");
    assert!(
        metrics.contains("rdsf_serve_in_flight 1\n"),
        "one in flight while both are sent:\n{metrics}"
    );
    assert_eq!(first.join().unwrap().0, 200);
    assert_eq!(
        second.join().unwrap().0,
        200,
        "the waiting one is served after"
    );
    assert!(received.join().unwrap() > 0);
    sigterm(&child);
    assert!(exit_of(&mut child).success(), "{}", log.join().unwrap());
}

#[test]
fn sigterm_mid_request_finishes_the_delivery_before_exiting() {
    let (otlp, received) = slow_otlp_receiver(Duration::from_millis(1500), 1);
    let endpoint = format!("http://{otlp}");
    let (mut child, addr, log) = start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("RDSF_SINKS", "otlp"),
    ]);
    let delivery = {
        let addr = addr.clone();
        std::thread::spawn(move || {
            let body = body("srv-mid");
            http(
                &addr,
                "POST",
                "/",
                &firehose_headers("srv-mid", KEY),
                body.as_bytes(),
            )
        })
    };
    // The request is in flight (the receiver holds its answer): stop now.
    std::thread::sleep(Duration::from_millis(500));
    sigterm(&child);
    let (status, answer) = delivery.join().unwrap();
    assert_eq!(
        status, 200,
        "the request in flight is finished, not cut: {answer}"
    );
    assert!(received.join().unwrap() > 0, "the sink got the records");
    let exit = exit_of(&mut child);
    let log = log.join().unwrap();
    assert!(exit.success(), "exit {exit:?}; log:\n{log}");
    assert!(log.contains("stopping"), "{log}");
}
