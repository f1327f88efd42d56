//! The PostgreSQL parser over real server output:
//! - the shared corpus (`RDSF_CORPUS_DIR`, default `../shared/corpus`): its
//!   CloudWatch payloads `payloads/pg/*.json`, checked against grep counts of
//!   `raw/postgresql.log` and pgbench's reports in `raw/tool-output/`;
//! - pgBadger's RDS log `public/pgbadger-rds/rds.log.bz2` (114,604 entries,
//!   CET), wrapped in-process.
//!
//! Without the shared corpus the same assertions run over the in-repo
//! excerpts in `tests/data/parse/` (see the READMEs there). Each test prints
//! which set it ran.

use crate::common::pg_checks;

use std::path::Path;
use std::process::Command;

use pg_checks::*;
use rds_forwarder::cli::wrap::{split_entries, wrap, SplitKind, WrapOptions};
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_sinks::stdout::encode_ndjson;
use serde_json::Value;

/// Runs payloads through `Pipeline::process` and returns the records as the
/// stdout sink writes them.
fn process(payloads: &[String]) -> Vec<Value> {
    let pipeline = Pipeline::new(Config::default());
    let mut out = Vec::new();
    for p in payloads {
        let processed = pipeline.process(p.as_bytes(), 0);
        assert!(processed.failures.is_empty(), "{:?}", processed.failures);
        for r in processed.records.with_resources() {
            let mut buf = Vec::new();
            encode_ndjson(r.resource, &r, &mut buf);
            out.push(serde_json::from_slice(&buf).expect("record JSON"));
        }
    }
    out
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn shared_corpus_postgresql_log() {
    let (label, raw, payloads, pgbench_reports) = match corpus_dir() {
        Some(dir) => {
            let mut files: Vec<_> = std::fs::read_dir(dir.join("payloads/pg"))
                .expect("payloads/pg")
                .map(|e| e.expect("dir entry").path())
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            let reports = [
                "pg-pgbench-init.txt",
                "pg-pgbench-run1.txt",
                "pg-pgbench-run2.txt",
            ]
            .map(|f| read(&dir.join("raw/tool-output").join(f)));
            (
                format!("shared corpus at {}", dir.display()),
                read(&dir.join("raw/postgresql.log")),
                files.iter().map(|f| read(f)).collect::<Vec<_>>(),
                Some(reports),
            )
        }
        None => {
            let d = fixtures().join("pg");
            (
                "in-repo subset tests/data/parse/pg (no shared corpus)".to_owned(),
                read(&d.join("postgresql-subset.log")),
                vec![read(&d.join("postgresql-subset.json"))],
                None,
            )
        }
    };
    println!("PostgreSQL set: {label}");
    let ids: Vec<String> = payloads.iter().flat_map(|p| payload_event_ids(p)).collect();
    let records = process(&payloads);
    let summary = check_records(&label, raw.as_bytes(), &ids, &records);
    println!("{summary:?}");
    println!("{:?}", check_event_counts(&label, raw.as_bytes(), &records));
    let deadlocks = records
        .iter()
        .filter(|r| {
            r["attributes"]["db.postgresql.event"] == "deadlock" && r["severity_text"] == "ERROR"
        })
        .count();
    assert_eq!(
        deadlocks,
        grep_count(
            raw.as_bytes(),
            &(prefix_regex("ERROR") + "deadlock detected")
        )
    );

    // Statements logged by log_min_duration_statement carry their duration.
    let with_duration = records
        .iter()
        .filter(|r| r["attributes"]["db.query.duration_ms"].is_f64())
        .count();
    assert_eq!(
        with_duration,
        grep_count(raw.as_bytes(), &(prefix_regex("LOG") + "duration: "))
    );

    // pgbench: run 1 used -C (one connection per transaction), run 2 one
    // connection per client; each run opens one more first (scale check and
    // vacuum), and `pgbench -i` one, as MANIFEST.md's workload describes.
    let pgbench = connections_of(&records, "pgbench");
    match pgbench_reports {
        Some([init, run1, run2]) => {
            let tx1 = pgbench_transactions(&run1).expect("run 1 transactions");
            let clients2 = pgbench_clients(&run2).expect("run 2 clients");
            let setups = [&run1, &run2]
                .iter()
                .filter(|r| r.contains("transaction type:"))
                .count();
            let inits = usize::from(init.contains("done in"));
            println!("pgbench: {tx1} transactions (-C) + {clients2} clients + {setups} setup + {inits} init = {pgbench} connections");
            assert_eq!(pgbench, tx1 + clients2 + setups + inits);
        }
        None => {
            let expected = grep_count(
                raw.as_bytes(),
                "connection authorized: .*application_name=pgbench",
            );
            println!("pgbench connections in the subset: {pgbench}");
            assert_eq!(pgbench, expected);
        }
    }
}

#[test]
fn pgbadger_rds_log_with_cet_zone() {
    let (label, text, expected_entries) = match corpus_dir() {
        Some(dir) => {
            let path = dir.join("public/pgbadger-rds/rds.log.bz2");
            let out = Command::new("bzcat")
                .arg(&path)
                .output()
                .expect("bzcat runs (Debian package bzip2, see scripts/deps/parse-pg.sh)");
            assert!(out.status.success(), "bzcat {}", path.display());
            (
                format!("{}", path.display()),
                String::from_utf8_lossy(&out.stdout).into_owned(),
                Some(114_604),
            )
        }
        None => (
            "in-repo excerpt tests/data/parse/pgbadger-rds/rds-head.log (no shared corpus)"
                .to_owned(),
            read(&fixtures().join("pgbadger-rds/rds-head.log")),
            None,
        ),
    };
    println!("pgBadger set: {label}");
    let entries = split_entries(SplitKind::Postgresql, &text);
    let lines = text.lines().count();
    assert_eq!(entries.len(), expected_entries.unwrap_or(lines));
    let opts = WrapOptions {
        log_group: "/aws/rds/instance/pgbadger/postgresql".into(),
        log_stream: "pgbadger.0".into(),
        owner: "123456789012".into(),
        kind: SplitKind::Postgresql,
        batch: 10_000,
    };
    let payloads = wrap(&text, &opts);
    let ids: Vec<String> = payloads.iter().flat_map(|p| payload_event_ids(p)).collect();
    assert_eq!(ids.len(), entries.len());
    let records = process(&payloads);
    let summary = check_records(&label, text.as_bytes(), &ids, &records);
    println!("{summary:?}");

    // CET is UTC+1: the first entry, 20:40:43 CET, is 19:40:43 UTC.
    assert_eq!(records[0]["timestamp"], "2020-03-11T19:40:43.000Z");
    let statements = records
        .iter()
        .filter(|r| r["attributes"]["db.postgresql.statement_kind"] == "statement")
        .count();
    assert_eq!(
        statements,
        grep_count(
            text.as_bytes(),
            "\\]:LOG:  duration: [0-9.]+ ms  statement: "
        )
    );
}
