//! The real binary as a Lambda `bootstrap`, driven through the Lambda
//! Runtime API of cargo-lambda's emulator (`cargo lambda watch
//! --only-lambda-apis`) on 127.0.0.1: events go in through the invoke API,
//! the function's replies and errors come back as Lambda would return them.

use crate::common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// cargo-lambda from PATH, `RDSF_CARGO_LAMBDA`, or the venv
/// `scripts/deps/lambda.sh` makes. Missing is a failure, not a skip.
fn cargo_lambda() -> PathBuf {
    if let Some(p) = std::env::var_os("RDSF_CARGO_LAMBDA") {
        return PathBuf::from(p);
    }
    let venv = manifest_dir().join("target/tools/lambda-venv/bin/cargo-lambda");
    if venv.exists() {
        return venv;
    }
    if let Ok(out) = Command::new("sh")
        .args(["-c", "command -v cargo-lambda"])
        .output()
    {
        let path = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        if out.status.success() && !path.is_empty() {
            return PathBuf::from(path);
        }
    }
    panic!("cargo-lambda not found: run `bash scripts/deps/lambda.sh` (or scripts/test.sh) first");
}

struct Killed(Child);
impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let start = Instant::now();
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "emulator did not start on {port}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// POSTs an event to the emulator's invoke API; returns (status, body).
fn invoke(port: u16, event: &[u8]) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
    write!(
        s,
        "POST /2015-03-31/functions/_/invocations HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        event.len()
    )
    .unwrap();
    s.write_all(event).unwrap();
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).unwrap();
    let text = String::from_utf8_lossy(&resp).into_owned();
    let status: u16 = text.split_whitespace().nth(1).unwrap().parse().unwrap();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (
        status,
        serde_json::from_str(body).unwrap_or(serde_json::Value::String(body.to_owned())),
    )
}

/// cargo-lambda's Runtime API emulator on `port`, stopped on drop.
fn emulator(port: u16) -> Killed {
    let child = Command::new(cargo_lambda())
        .args(["lambda", "watch", "--only-lambda-apis", "-A", "127.0.0.1"])
        .args(["-P", &port.to_string()])
        .current_dir(manifest_dir())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start cargo-lambda");
    wait_for_port(port);
    Killed(child)
}

/// The binary as a bootstrap against the emulator on `port`, stderr to `log`.
fn function(port: u16, stdout: Stdio, log: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    c.env(
        "AWS_LAMBDA_RUNTIME_API",
        format!("http://127.0.0.1:{port}/.rt"),
    )
    .env("AWS_LAMBDA_FUNCTION_NAME", "_")
    .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
    .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
    .env_remove("RDSF_SINKS")
    .env_remove("RDSF_LOG_LEVEL")
    .stdout(stdout)
    .stderr(std::fs::File::create(log).unwrap());
    c
}

#[test]
fn binary_serves_invocations_through_the_runtime_api() {
    let port = free_port();
    let _emulator = emulator(port);
    let records_file = std::env::temp_dir().join(format!("rdsf-lambda-{port}.ndjson"));
    let log_file = std::env::temp_dir().join(format!("rdsf-lambda-{port}.log"));
    let mut function = function(
        port,
        std::fs::File::create(&records_file).unwrap().into(),
        &log_file,
    );
    let _function = Killed(function.env("AWS_REGION", "eu-west-1").spawn().unwrap());

    let examples = manifest_dir().join("examples");
    let (status, reply) = invoke(
        port,
        &std::fs::read(examples.join("cloudwatch-postgresql.json")).unwrap(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["log_events"], 200);
    assert_eq!(reply["delivered"], reply["records"]);

    let (status, reply) = invoke(
        port,
        &std::fs::read(examples.join("eventbridge-rds-failover.json")).unwrap(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["rds_events"], 1);

    let (status, reply) = invoke(
        port,
        &std::fs::read(examples.join("kinesis-aurora-mysql-error.json")).unwrap(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["log_events"], 2);

    let (status, reply) = invoke(
        port,
        &std::fs::read(examples.join("cloudwatch-control-message.json")).unwrap(),
    );
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["control_messages_skipped"], 1);
    assert_eq!(reply["records"], 0);

    // Malformed input fails the invocation with a typed, readable error.
    let (status, reply) = invoke(port, br#"{"detail-type":"x","source":"aws.ec2"}"#);
    assert_ne!(status, 200);
    assert_eq!(reply["errorType"], "RdsForwarder.permanent", "{reply}");
    assert!(
        reply["errorMessage"].as_str().unwrap().contains("aws.ec2"),
        "{reply}"
    );
    // ... and logged once: not again by the runtime as a Rust Debug dump.
    let log = std::fs::read_to_string(&log_file).unwrap();
    let _ = std::fs::remove_file(&log_file);
    let mentions: Vec<&str> = log.lines().filter(|l| l.contains("aws.ec2")).collect();
    assert_eq!(mentions.len(), 1, "{log}");
    assert!(!log.contains("InvocationError {"), "{log}");

    // The function lives on after a failed invocation.
    let (status, _) = invoke(
        port,
        &std::fs::read(examples.join("eventbridge-rds-failover.json")).unwrap(),
    );
    assert_eq!(status, 200);

    let lines = std::fs::read_to_string(&records_file).unwrap();
    // Self-monitoring's EMF lines share stdout: told apart by `_aws`.
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|v| v.get("_aws").is_none())
        .collect();
    let _ = std::fs::remove_file(&records_file);
    let pg = records
        .iter()
        .filter(|r| r["resource"]["aws.rds.log_type"] == "postgresql")
        .count();
    let pg_events =
        raw_events(&std::fs::read(examples.join("cloudwatch-postgresql.json")).unwrap()).len();
    assert!(pg > 0 && pg <= pg_events);
    assert_eq!(
        records
            .iter()
            .filter(|r| r["attributes"]["rds.event.id"] == "RDS-EVENT-0049")
            .count(),
        2
    );
    assert!(records
        .iter()
        .all(|r| r["resource"]["cloud.region"].is_string()));
}

/// Issue 13: at `RDSF_LOG_LEVEL=trace` (a value the install template
/// allows) lambda_runtime logged every raw event, secrets included, into
/// the function's own log group. Libraries now log at most at info.
#[test]
fn trace_level_never_logs_a_raw_event() {
    let port = free_port();
    let _emulator = emulator(port);
    let log_file = std::env::temp_dir().join(format!("rdsf-lambda-trace-{port}.log"));
    let mut function = function(port, Stdio::null(), &log_file);
    let _function = Killed(function.env("RDSF_LOG_LEVEL", "trace").spawn().unwrap());
    let mut event: serde_json::Value = serde_json::from_slice(
        &std::fs::read(manifest_dir().join("examples/eventbridge-rds-failover.json")).unwrap(),
    )
    .unwrap();
    event["detail"]["Message"] = "master password=TraceLeak-Sec60 set".into();
    event["detail"]["Note"] = "an unread field TraceRaw-Sec61".into();
    let (status, reply) = invoke(port, event.to_string().as_bytes());
    assert_eq!(status, 200, "{reply}");
    let log = std::fs::read_to_string(&log_file).unwrap();
    let _ = std::fs::remove_file(&log_file);
    assert!(!log.is_empty(), "trace logs something");
    assert!(
        !log.contains("Sec60") && !log.contains("Sec61"),
        "raw event in the log:\n{log}"
    );
}

/// Issue 16: under Lambda, self-monitoring is on by default as EMF lines on
/// stdout, beside the stdout sink's records without corrupting them: every
/// line is one JSON object, either a record or an EMF document, whose
/// values are what the invocation did — here with a second sink down.
#[test]
fn emf_lines_under_lambda_count_what_the_invocation_did() {
    let port = free_port();
    let _emulator = emulator(port);
    let out_file = std::env::temp_dir().join(format!("rdsf-lambda-emf-{port}.ndjson"));
    let log_file = std::env::temp_dir().join(format!("rdsf-lambda-emf-{port}.log"));
    let down = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut function = function(
        port,
        std::fs::File::create(&out_file).unwrap().into(),
        &log_file,
    );
    let _function = Killed(
        function
            .env("RDSF_SINKS", "stdout,otlp")
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", format!("http://{down}"))
            .env("RDSF_RETRY_MAX_ATTEMPTS", "2")
            .env("RDSF_RETRY_INITIAL_BACKOFF_MS", "1")
            .env("RDSF_METRICS_NAMESPACE", "Test/Rdsf")
            .env_remove("RDSF_SELF_METRICS")
            .spawn()
            .unwrap(),
    );
    let event = awslogs_event(&subscription_doc(
        "/aws/rds/instance/db1/postgresql",
        &[
            "2025-11-25 07:50:00 UTC:10.0.0.1(5432):app@db:[123]:LOG:  statement: ALTER USER bob PASSWORD 'Hunter2-Sec78'",
            "2025-11-25 07:50:01 UTC:10.0.0.1(5432):app@db:[123]:LOG:  duration: 1.5 ms",
            "not a postgres line at all",
        ],
    ));
    let before_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    let (status, reply) = invoke(port, &event);
    assert_ne!(status, 200, "the otlp sink is down: {reply}");
    assert_eq!(reply["errorType"], "RdsForwarder.retryable", "{reply}");
    let text = std::fs::read_to_string(&out_file).unwrap();
    let _ = std::fs::remove_file(&out_file);
    let _ = std::fs::remove_file(&log_file);
    assert!(!text.contains("Sec78"), "{text}");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    let (emf, records): (Vec<_>, Vec<_>) = lines.iter().partition(|v| v.get("_aws").is_some());
    assert_eq!(records.len(), 3, "{text}");
    assert!(records.iter().all(|r| r["body"].is_string()));
    // Valid EMF: every directive's metrics and dimensions are on its line.
    for l in &emf {
        assert_eq!(l["Function"], "_");
        let ts = l["_aws"]["Timestamp"].as_i64().unwrap();
        assert!(ts >= before_ms && ts < before_ms + 120_000, "{l}");
        for d in l["_aws"]["CloudWatchMetrics"].as_array().unwrap() {
            assert_eq!(d["Namespace"], "Test/Rdsf");
            for m in d["Metrics"].as_array().unwrap() {
                let name = m["Name"].as_str().unwrap();
                assert!(l[name].is_number(), "{name} missing: {l}");
                assert!(m["Unit"].is_string());
            }
            for set in d["Dimensions"].as_array().unwrap() {
                for dim in set.as_array().unwrap() {
                    assert!(l[dim.as_str().unwrap()].is_string(), "{l}");
                }
            }
        }
    }
    let main = emf.iter().find(|l| l.get("EventsIn").is_some()).unwrap();
    assert_eq!(main["EventsIn"], 3);
    assert_eq!(main["BytesIn"], event.len());
    assert_eq!(main["ParseErrors"], 1);
    assert_eq!(main["Redactions"], 1);
    assert_eq!(main["RecordsUndelivered"], 3);
    assert!(main["Lag"].as_i64().unwrap() > 0);
    let by = |key: &str, value: &str| {
        *emf.iter()
            .find(|l| l[key] == value)
            .unwrap_or_else(|| panic!("no {key}={value} line in {text}"))
    };
    assert_eq!(by("LogType", "postgresql")["RecordsOut"], 3);
    assert_eq!(by("Sink", "stdout")["RecordsDelivered"], 3);
    assert_eq!(by("Sink", "otlp")["RecordsDelivered"], 0);
    assert_eq!(by("Sink", "otlp")["Retries"], 1);
    assert_eq!(by("Reason", "sink_unavailable")["Failed"], 3);
}
