//! Planted secrets never leave (issue 13, item 5): 45 realistic forms across
//! the engines (`tests/data/secrets/planted.jsonl`), plus a secret in an
//! account-level policy's `extractedFields`, in an RDS event's `Message`
//! (built-in and custom pattern) and in the raw body of a malformed event,
//! go through the real binary to every sink at once — stdout, OTLP to a
//! receiver on 127.0.0.1 (protobuf, uncompressed, so strings are bytes as
//! sent) and WhaTap to a collector on 127.0.0.1 — at every log level, and
//! the secret's text is looked for in all of it and in our own stderr.
//!
//! Every planted secret ends in `-SecNN`; masking removes the whole secret,
//! so any `-SecNN` in an output is a (whole or partial) leak.

use crate::common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::manifest_dir;
use regex::bytes::Regex;

const BIN: &str = env!("CARGO_BIN_EXE_rds-forwarder");
const LICENSE_78: &str = "x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth";

#[derive(serde::Deserialize)]
struct Planted {
    form: String,
    group: String,
    message: String,
    secret: String,
}

fn planted() -> Vec<Planted> {
    let text =
        std::fs::read_to_string(manifest_dir().join("tests/data/secrets/planted.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn awslogs(doc: serde_json::Value) -> Vec<u8> {
    common::awslogs_event(&doc)
}

/// One Lambda event per log group, plus the special carriers.
fn events() -> Vec<Vec<u8>> {
    let mut by_group: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for (i, p) in planted().iter().enumerate() {
        assert!(
            p.message.contains(&p.secret),
            "{}: secret not in message",
            p.form
        );
        let event = serde_json::json!({"id": format!("{:056}", i + 1),
            "timestamp": 1764057000000i64, "message": p.message});
        match by_group.iter_mut().find(|(g, _)| *g == p.group) {
            Some((_, list)) => list.push(event),
            None => by_group.push((p.group.clone(), vec![event])),
        }
    }
    let doc = |group: &str, events: serde_json::Value| {
        serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012",
            "logGroup": group, "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events})
    };
    let mut out: Vec<Vec<u8>> = by_group
        .into_iter()
        .map(|(g, list)| awslogs(doc(&g, serde_json::Value::Array(list))))
        .collect();
    // extractedFields of an account-level policy.
    let mut d = doc(
        "/aws/rds/instance/pg1/postgresql",
        serde_json::json!([{"id": format!("{:056}", 900), "timestamp": 1764057000000i64,
            "message": "2026-11-25 07:50:00 UTC::@:[1]:LOG:  checkpoint starting: time",
            "extractedFields": {"conn": "password=Extr-Sec48"}}]),
    );
    d["policyLevel"] = "ACCOUNT_LEVEL_POLICY".into();
    out.push(awslogs(d));
    // A malformed event (its timestamp is no number): forwarded raw.
    out.push(awslogs(doc(
        "/aws/rds/instance/my1/general",
        serde_json::json!([{"id": format!("{:056}", 901), "timestamp": "soon",
            "message": "CREATE USER 'x'@'%' IDENTIFIED BY 'Malf-Sec51'"}]),
    )));
    // RDS events: a built-in form and one only the custom pattern knows.
    let sample: serde_json::Value = serde_json::from_slice(
        &std::fs::read(manifest_dir().join("examples/eventbridge-rds-failover.json")).unwrap(),
    )
    .unwrap();
    for (n, message) in [
        (
            1,
            "Reset master password to 'x' with password=EvtMsg-Sec49 applied",
        ),
        (
            2,
            "Applied parameter change token=EvtTok-Sec50 to the group",
        ),
    ] {
        let mut e = sample.clone();
        e["id"] = format!("planted-event-{n}").into();
        e["detail"]["Message"] = message.into();
        out.push(e.to_string().into_bytes());
    }
    out
}

/// Bytes every connection to a local listener sent, with an answer for each
/// HTTP request when `http` (an empty OTLP success).
fn receiver(http: bool) -> (u16, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let sink = sink.clone();
            std::thread::spawn(move || {
                stream
                    .set_read_timeout(Some(Duration::from_secs(30)))
                    .unwrap();
                if http {
                    serve_http(stream, &sink);
                } else {
                    let mut buf = Vec::new();
                    let _ = (&stream).read_to_end(&mut buf);
                    sink.lock().unwrap().extend(buf);
                }
            });
        }
    });
    (port, got)
}

fn serve_http(stream: TcpStream, sink: &Mutex<Vec<u8>>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    loop {
        let mut length = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let lower = line.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                length = v.trim().parse().unwrap();
            }
            if line == "\r\n" {
                break;
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        sink.lock().unwrap().extend(body);
        let answer =
            "HTTP/1.1 200 OK\r\ncontent-type: application/x-protobuf\r\ncontent-length: 0\r\n\r\n";
        if writer.write_all(answer.as_bytes()).is_err() {
            return;
        }
    }
}

#[test]
fn planted_secrets_reach_no_sink_and_no_log_at_any_level() {
    let forms = planted();
    assert!(forms.len() >= 45, "{} forms", forms.len());
    let dir = std::env::temp_dir().join(format!("rdsf-planted-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let events = events();
    for (i, e) in events.iter().enumerate() {
        std::fs::write(dir.join(format!("{i:03}.json")), e).unwrap();
    }
    let leak = Regex::new(r"-Sec\d\d").unwrap();
    let mut report = Vec::new();
    for level in ["error", "warn", "info", "debug", "trace"] {
        let (otlp_port, otlp) = receiver(true);
        let (whatap_port, whatap) = receiver(false);
        let out = std::process::Command::new(BIN)
            .arg("replay")
            .arg(&dir)
            .env("RDSF_SINKS", "stdout,otlp,whatap")
            .env("RDSF_LOG_LEVEL", level)
            .env("RDSF_REDACT_PATTERNS", "token=(\\S+)")
            .env(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("http://127.0.0.1:{otlp_port}"),
            )
            .env("OTEL_EXPORTER_OTLP_COMPRESSION", "none")
            .env("WHATAP_HOST", format!("127.0.0.1:{whatap_port}"))
            .env("WHATAP_LICENSE", LICENSE_78)
            .env("AWS_REGION", "us-east-1")
            .env_remove("AWS_LAMBDA_RUNTIME_API")
            .output()
            .unwrap();
        // The malformed event is forwarded raw (a parse error, not a failure).
        assert!(
            out.status.success(),
            "{level}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // WhaTap's collector sees the end of the stream when the process exits.
        std::thread::sleep(Duration::from_millis(200));
        let outputs = [
            ("stdout", out.stdout.clone()),
            ("stderr", out.stderr.clone()),
            ("otlp", otlp.lock().unwrap().clone()),
            ("whatap", whatap.lock().unwrap().clone()),
        ];
        for (name, bytes) in &outputs {
            assert!(
                bytes.len() > 100 || *name == "stderr",
                "{level}/{name}: nothing arrived"
            );
            let mut found: Vec<String> = leak
                .find_iter(bytes)
                .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
                .collect();
            found.sort();
            found.dedup();
            println!(
                "{level:5} {name:6}: {} bytes, leaked {found:?}",
                bytes.len()
            );
            if !found.is_empty() {
                report.push(format!("{level}/{name}: {found:?}"));
            }
        }
        // The records really went through: every planted form's record is there.
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.lines().count() >= forms.len(),
            "{level}: records missing"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
    let by_form: Vec<String> = forms
        .iter()
        .filter(|p| {
            let tag = &p.secret[p.secret.len() - 6..];
            report.iter().any(|r| r.contains(tag))
        })
        .map(|p| format!("{} ({})", p.form, p.secret))
        .collect();
    assert!(
        report.is_empty(),
        "secrets leaked:\n{}\nforms: {by_form:#?}",
        report.join("\n")
    );
}
