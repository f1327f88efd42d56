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
    let records: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
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
