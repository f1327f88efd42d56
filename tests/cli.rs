//! The binary as a user runs it: replay, wrap, help and bad configuration.

use crate::common;

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
    let (points, lines): (Vec<serde_json::Value>, Vec<serde_json::Value>) = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .partition(|l| l.get("metric").is_some());
    // 200 PostgreSQL events (companion lines joined into their entries),
    // 2 Kinesis-borne events, 1 RDS event; the Enhanced Monitoring document
    // (one event) is metric points, not a record.
    assert_eq!(
        points.len(),
        66,
        "the Enhanced Monitoring document's points"
    );
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
    assert_eq!(summary["stats"]["log_events"], 203);
    assert_eq!(summary["stats"]["records"], lines.len());
    assert_eq!(summary["stats"]["delivered"], lines.len());
    assert_eq!(summary["stats"]["metric_points"], points.len());
    assert_eq!(summary["stats"]["metric_points_delivered"], points.len());
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

/// Runs `wrap` on `raw` (written to a temporary file) with `args`; returns
/// the output.
fn wrap_raw(name: &str, raw: &[u8], args: &[&str]) -> Output {
    let file = std::env::temp_dir().join(format!("rdsf-{name}-{}.log", std::process::id()));
    std::fs::write(&file, raw).unwrap();
    let out = bin().arg("wrap").args(args).arg(&file).output().unwrap();
    let _ = std::fs::remove_file(&file);
    out
}

/// `replay -` over wrapped payloads: the records written to stdout.
fn replay_stdin(payloads: &[u8]) -> Vec<serde_json::Value> {
    let replay = run_with_stdin(
        {
            let mut c = bin();
            c.args(["replay", "-"]);
            c
        },
        payloads,
    );
    assert!(replay.status.success(), "{}", text(&replay.stderr));
    text(&replay.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Aurora MySQL advanced auditing (`<epoch µs>,host,user,…`) is cut one
/// event per record, a quoted query's own newlines staying with it.
#[test]
fn wrap_splits_aurora_mysql_advanced_audit_one_event_per_record() {
    let raw = "1603442208508100,database-1-instance-1,admin,1.34.6.81,50,0,CONNECT,,,0\n\
               1603442208508200,database-1-instance-1,admin,1.34.6.81,50,1234,QUERY,mydb,'select 1',0\n\
               1603442208508300,database-1-instance-1,admin,1.34.6.81,50,1235,QUERY,mydb,'select a,\n\
               1603442208,b\nfrom t',0\n\
               1603442208508400,database-1-instance-1,admin,1.34.6.81,50,0,DISCONNECT,,,0\n";
    for (group, kind) in [
        ("/aws/rds/cluster/aurora-1/audit", None),
        ("/aws/rds/cluster/aurora-1/audit", Some("audit")),
    ] {
        let mut args = vec!["--log-group", group, "--log-stream", "s"];
        if let Some(k) = kind {
            args.extend(["--kind", k]);
        }
        let out = wrap_raw("aurora-audit", raw.as_bytes(), &args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let events: Vec<RawEvent> = text(&out.stdout)
            .lines()
            .flat_map(|l| raw_events(l.as_bytes()))
            .collect();
        assert_eq!(
            events.len(),
            4,
            "{group}: {:?}",
            events.iter().map(|e| &e.message).collect::<Vec<_>>()
        );
        assert_eq!(events[2].message, "1603442208508300,database-1-instance-1,admin,1.34.6.81,50,1235,QUERY,mydb,'select a,\n1603442208,b\nfrom t',0");
        assert_eq!(events[0].timestamp, 1603442208508);

        let recs = replay_stdin(&out.stdout);
        assert_eq!(recs.len(), 4, "{group}");
        for r in &recs {
            let a = &r["attributes"];
            assert!(a["rds.parse.error"].is_null(), "{r}");
            assert!(a["mysql.audit.connection_type"].is_null(), "{r}");
        }
        assert_eq!(recs[0]["attributes"]["mysql.audit.operation"], "CONNECT");
        assert_eq!(recs[1]["attributes"]["db.query.text"], "select 1");
        assert_eq!(
            recs[2]["attributes"]["db.query.text"],
            "select a,\n1603442208,b\nfrom t"
        );
        assert_eq!(recs[3]["attributes"]["mysql.audit.operation"], "DISCONNECT");
    }
}

/// A log group `wrap` cannot read a log type from, with no `--kind`, is cut
/// one event per line: `wrap` says so on stderr and names `--kind`.
#[test]
fn wrap_warns_when_the_log_group_names_no_log_type() {
    let raw =
        b"2024-01-01 00:00:00 UTC:10.0.0.1(5432):app@db:[42]:LOG:  statement: SELECT 1\n\tFROM t\n";
    let out = wrap_raw(
        "nokind",
        raw,
        &["--log-group", "my-postgres-logs", "--log-stream", "s"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(err.contains("warning") && err.contains("--kind"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    let events: Vec<RawEvent> = text(&out.stdout)
        .lines()
        .flat_map(|l| raw_events(l.as_bytes()))
        .collect();
    assert_eq!(events.len(), 2, "still one event per line");

    // Told how to split, or a group that says it: no warning.
    for args in [
        &[
            "--log-group",
            "my-postgres-logs",
            "--log-stream",
            "s",
            "--kind",
            "postgresql",
        ][..],
        &[
            "--log-group",
            "/aws/rds/instance/db/postgresql",
            "--log-stream",
            "s",
        ][..],
    ] {
        let out = wrap_raw("nokind", raw, args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        assert!(out.stderr.is_empty(), "{args:?}: {}", text(&out.stderr));
    }
}

/// Message bytes plus CloudWatch's 26-byte overhead per event.
fn batch_bytes(events: &[RawEvent]) -> usize {
    events.iter().map(|e| e.message.len() + 26).sum()
}

/// `--kind postgresql` on a 3 MB MariaDB slow log finds one entry: it is cut
/// at CloudWatch's event limit (262,144 − 26 bytes, on UTF-8 boundaries) with
/// one warning, and no payload exceeds a PutLogEvents batch (1,048,576 bytes).
#[test]
fn wrap_cuts_oversized_entries_and_keeps_payloads_within_cloudwatch_limits() {
    let block = "# Time: 261125  7:52:29\n# User@Host: web_app[web_app] @  [127.0.0.1]\n# Query_time: 0.000250  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0\nSET timestamp=1795593149;\nSELECT 'é€😀';\n";
    let raw = block.repeat(3_000_000 / block.len() + 1);
    let out = wrap_raw(
        "oversized",
        raw.as_bytes(),
        &[
            "--log-group",
            "/aws/rds/instance/maria/slowquery",
            "--log-stream",
            "s",
            "--kind",
            "postgresql",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    let pieces = raw.len().div_ceil(262_118);
    assert_eq!(err.lines().count(), 1, "one warning: {err}");
    assert!(
        err.contains("1 entry") && err.contains(&format!("{pieces} events")),
        "{err}"
    );
    let payloads: Vec<Vec<RawEvent>> = text(&out.stdout)
        .lines()
        .map(|l| raw_events(l.as_bytes()))
        .collect();
    let all: Vec<&RawEvent> = payloads.iter().flatten().collect();
    assert_eq!(all.len(), pieces);
    for p in &payloads {
        assert!(batch_bytes(p) <= 1_048_576, "{}", batch_bytes(p));
        for e in p {
            assert!(e.message.len() + 26 <= 262_144, "{}", e.message.len());
        }
    }
    let joined: String = all.iter().map(|e| e.message.as_str()).collect();
    assert_eq!(
        joined,
        raw.strip_suffix('\n').unwrap(),
        "nothing lost or reordered"
    );

    // Entries that each fit still fill payloads only up to the batch limit.
    let line = format!("{}\n", "x".repeat(200_000));
    let out = wrap_raw(
        "bigbatch",
        line.repeat(12).as_bytes(),
        &[
            "--log-group",
            "/aws/rds/instance/db/audit",
            "--log-stream",
            "s",
            "--kind",
            "line",
        ],
    );
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
    let payloads: Vec<Vec<RawEvent>> = text(&out.stdout)
        .lines()
        .map(|l| raw_events(l.as_bytes()))
        .collect();
    assert_eq!(payloads.iter().map(Vec::len).collect::<Vec<_>>(), [5, 5, 2]);

    // And at most 10,000 events, whatever --batch asks for; --batch below
    // that still bounds a payload.
    let lines = "x\n".repeat(10_001);
    for (batch, sizes) in [("20000", vec![10_000, 1]), ("4000", vec![4000, 4000, 2001])] {
        let out = wrap_raw(
            "manyevents",
            lines.as_bytes(),
            &[
                "--log-group",
                "/aws/rds/instance/db/audit",
                "--log-stream",
                "s",
                "--kind",
                "line",
                "--batch",
                batch,
            ],
        );
        let got: Vec<usize> = text(&out.stdout)
            .lines()
            .map(|l| raw_events(l.as_bytes()).len())
            .collect();
        assert_eq!(got, sizes, "--batch {batch}");
    }
}

/// `--help` needs no secret: a broken secret reference used to stop even
/// `replay --help` (references were read before the command line), and
/// `wrap`, which takes no settings, must not read them at all.
#[test]
fn help_and_commands_without_settings_read_no_secret() {
    let broken = "arn:aws:secretsmanager:us-east-1:123456789012:secret:nope";
    for args in [
        &["replay", "--help"][..],
        &["check", "--help"],
        &["--version"],
    ] {
        let out = bin()
            .args(args)
            .env("WHATAP_LICENSE_SECRET_ARN", broken)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", text(&out.stderr));
        assert!(!text(&out.stdout).is_empty(), "{args:?}");
    }
    let log = std::env::temp_dir().join(format!("rdsf-help-{}.log", std::process::id()));
    std::fs::write(&log, "2024-01-01 00:00:00 UTC::@:[1]:LOG:  x\n").unwrap();
    let out = bin()
        .args(["wrap", "--log-group", "/aws/rds/instance/db/postgresql"])
        .args(["--log-stream", "db.0"])
        .arg(&log)
        .env("WHATAP_LICENSE_SECRET_ARN", broken)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&log);
    assert!(out.status.success(), "{}", text(&out.stderr));
    // A command that takes settings still stops on the broken reference.
    let out = bin()
        .args(["replay", "-"])
        .env("WHATAP_LICENSE_SECRET_ARN", broken)
        .env("AWS_ACCESS_KEY_ID", "x")
        .env("AWS_SECRET_ACCESS_KEY", "x")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("cannot read secrets"),
        "{}",
        text(&out.stderr)
    );
}
