//! The binary as a user runs it: replay, wrap, help and bad configuration.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::*;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    c.current_dir(manifest_dir());
    for var in [
        "RDSF_SINKS",
        "RDSF_MAX_DECOMPRESSED_BYTES",
        "AWS_LAMBDA_RUNTIME_API",
    ] {
        c.env_remove(var);
    }
    c
}

fn run_with_stdin(mut cmd: Command, stdin: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn replay_examples_writes_ndjson_and_a_summary() {
    let out = bin().args(["replay", "examples/"]).output().unwrap();
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    // 200 PostgreSQL events (companion lines joined into their entries),
    // 2 Kinesis-borne events, 1 RDS event.
    let ids: usize = lines
        .iter()
        .map(
            |r| match r["attributes"]["aws.cloudwatch.event_ids"].as_array() {
                Some(ids) => ids.len(),
                None => 1,
            },
        )
        .sum();
    assert_eq!(ids, 203, "every event in exactly one record");
    assert!(stderr.contains("control messages skipped: 1"), "{stderr}");
    assert!(stderr.contains("failures: none"), "{stderr}");
    let summary = stderr
        .lines()
        .find_map(|l| l.strip_prefix("summary: "))
        .unwrap();
    let summary: serde_json::Value = serde_json::from_str(summary).unwrap();
    assert_eq!(summary["stats"]["log_events"], 202);
    assert_eq!(summary["stats"]["records"], lines.len());
    assert_eq!(summary["stats"]["delivered"], lines.len());
}

#[test]
fn replay_of_malformed_input_exits_non_zero_and_says_why() {
    let out = run_with_stdin(
        {
            let mut c = bin();
            c.args(["replay", "-"]);
            c
        },
        b"{\"awslogs\":{\"data\":\"bm90IGd6aXA=\"}}\n{\"foo\":1}",
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("invalid_gzip=1"), "{stderr}");
    assert!(stderr.contains("unknown_event_shape=1"), "{stderr}");
    assert!(stderr.contains("2 invocation(s), 2 failed"), "{stderr}");
}

#[test]
fn missing_input_is_a_clear_error() {
    let out = bin()
        .args(["replay", "no/such/file.json"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no/such/file.json"));
}

/// `wrap` splits raw logs exactly as the corpus's own reference tool
/// (`mkpayload.py`) did for the payloads (in-repo subset and shared corpus).
#[test]
fn wrap_splits_like_rds() {
    for corpus in corpora() {
        wrap_matches_payloads(&corpus);
    }
}

fn wrap_matches_payloads(corpus: &std::path::Path) {
    for (folder, raw, group) in [
        (
            "pg",
            "postgresql.log",
            "/aws/rds/instance/shopdb-prod/postgresql",
        ),
        (
            "maria-slowquery",
            "mariadb-slow.log",
            "/aws/rds/instance/storefront-maria/slowquery",
        ),
        (
            "maria-general",
            "mariadb-general.log",
            "/aws/rds/instance/storefront-maria/general",
        ),
        (
            "maria-audit",
            "mariadb-audit.log",
            "/aws/rds/instance/storefront-maria/audit",
        ),
        (
            "maria-error",
            "mariadb-error.log",
            "/aws/rds/instance/storefront-maria/error",
        ),
    ] {
        let expected: Vec<RawEvent> = json_files(&corpus.join("payloads").join(folder))
            .iter()
            .flat_map(|f| raw_events(&std::fs::read(f).unwrap()))
            .collect();
        let out = bin()
            .args([
                "wrap",
                "--log-group",
                group,
                "--log-stream",
                "s",
                "--batch",
                "5000",
            ])
            .arg(corpus.join("raw").join(raw))
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
        let got: Vec<RawEvent> = text(&out.stdout)
            .lines()
            .flat_map(|l| raw_events(l.as_bytes()))
            .collect();
        assert_eq!(got.len(), expected.len(), "{folder}");
        for (g, e) in got.iter().zip(&expected) {
            assert_eq!(g.message, e.message, "{folder}");
            assert_eq!(g.id.len(), 56, "56-digit ids");
        }
        let mut ids: Vec<&str> = got.iter().map(|e| e.id.as_str()).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), got.len(), "{folder}: unique ids");

        // And the wrapped events replay into one record per event.
        let replay = run_with_stdin(
            {
                let mut c = bin();
                c.args(["replay", "-"]);
                c
            },
            &out.stdout,
        );
        assert!(replay.status.success(), "{}", text(&replay.stderr));
        assert!(text(&replay.stderr).contains(&format!("log events: {}", expected.len())));
    }
}

#[test]
fn help_names_every_subcommand_and_setting() {
    let out = bin().arg("--help").output().unwrap();
    let help = text(&out.stdout);
    for word in ["replay", "wrap", "lambda"] {
        assert!(help.contains(word), "{help}");
    }
    let out = bin().args(["replay", "--help"]).output().unwrap();
    let help = text(&out.stdout);
    for var in ["RDSF_SINKS", "RDSF_MAX_DECOMPRESSED_BYTES", "AWS_REGION"] {
        assert!(help.contains(var), "{help}");
    }
    // No subcommand outside Lambda: help, and a usage exit code.
    let out = bin().output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn bad_configuration_values_are_named() {
    let out = bin()
        .env("RDSF_SINKS", "bogus")
        .args(["replay", "examples/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown sink `bogus`"),
        "{}",
        text(&out.stderr)
    );

    let out = bin()
        .env("RDSF_MAX_DECOMPRESSED_BYTES", "lots")
        .args(["replay", "examples/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("max-decompressed-bytes"),
        "{}",
        text(&out.stderr)
    );

    let out = bin()
        .args(["replay", "--max-decompressed-bytes", "10", "examples/"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("RDSF_MAX_DECOMPRESSED_BYTES"),
        "{}",
        text(&out.stderr)
    );
}
