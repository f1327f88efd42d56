//! Checks shared by the PostgreSQL tests (shared corpus, in-repo subset,
//! pgBadger's RDS log, real server): records are looked at as the stdout
//! sink writes them (NDJSON objects), so in-process and binary runs are
//! judged the same way.

#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use serde_json::Value;

/// The five levels whose record counts must equal `grep` counts.
pub const LEVELS: [&str; 5] = ["LOG", "WARNING", "ERROR", "FATAL", "PANIC"];
/// Lines folded into the entry before them.
pub const COMPANIONS: [&str; 6] = [
    "DETAIL",
    "HINT",
    "CONTEXT",
    "STATEMENT",
    "QUERY",
    "LOCATION",
];

/// `RDSF_CORPUS_DIR`, default `<manifest>/../shared/corpus`, when it exists.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSF_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.is_dir().then_some(dir)
}

pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parse")
}

/// The `%t:%r:%u@%d:[%p]:LEVEL:  ` regex of the corpus's counts.md, with
/// any upper-case zone instead of `UTC`.
pub fn prefix_regex(level: &str) -> String {
    format!(
        "^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}} [0-9]{{2}}:[0-9]{{2}}:[0-9]{{2}} [A-Z]+:[^:]*:[^@:]*@[^:]*:\\[[0-9]+\\]:{level}:  "
    )
}

/// `grep -cE pattern` over `text`, run by the system's grep so the count is
/// independent of our own code.
pub fn grep_count(text: &[u8], pattern: &str) -> usize {
    let mut child = Command::new("grep")
        .args(["-cE", pattern])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("grep runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = text.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let mut out = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut out)
        .expect("grep output");
    let _ = child.wait();
    writer.join().expect("writer");
    out.trim()
        .parse()
        .unwrap_or_else(|_| panic!("grep -cE {pattern}: {out:?}"))
}

/// Event ids inside `{"awslogs":{"data":…}}` payloads (one per line or file).
pub fn payload_event_ids(payload: &str) -> Vec<String> {
    let mut ids = Vec::new();
    for doc in serde_json::Deserializer::from_str(payload).into_iter::<Value>() {
        let doc = doc.expect("payload JSON");
        let data = doc["awslogs"]["data"].as_str().expect("awslogs.data");
        let gz = base64::engine::general_purpose::STANDARD
            .decode(data)
            .expect("base64");
        let mut json = String::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_string(&mut json)
            .expect("gzip");
        let inner: Value = serde_json::from_str(&json).expect("inner JSON");
        for ev in inner["logEvents"].as_array().expect("logEvents") {
            ids.push(ev["id"].as_str().expect("id").to_owned());
        }
    }
    ids
}

/// Every id a record covers.
pub fn record_ids(r: &Value) -> Vec<String> {
    let a = &r["attributes"];
    match a["aws.cloudwatch.event_ids"].as_array() {
        Some(ids) => ids
            .iter()
            .map(|v| v.as_str().unwrap_or_default().to_owned())
            .collect(),
        None => vec![a["aws.cloudwatch.event_id"]
            .as_str()
            .unwrap_or_default()
            .to_owned()],
    }
}

/// What a set of checks saw, printed by the tests.
#[derive(Debug, Default)]
pub struct Summary {
    pub records: usize,
    pub events: usize,
    pub level_counts: Vec<(String, usize)>,
    pub companions_joined: usize,
    pub companions_alone: usize,
}

/// The assertions every PostgreSQL set shares: no parse error, each input
/// event id in exactly one record, LOG/WARNING/ERROR/FATAL/PANIC record
/// counts equal to grep counts of the raw log, and every companion line
/// either joined or forwarded alone.
pub fn check_records(
    label: &str,
    raw_log: &[u8],
    input_ids: &[String],
    records: &[Value],
) -> Summary {
    let errors: Vec<&Value> = records
        .iter()
        .filter(|r| r["attributes"].get("rds.parse.error").is_some())
        .collect();
    assert!(
        errors.is_empty(),
        "{label}: {} record(s) with rds.parse.error, first: {}",
        errors.len(),
        errors[0]
    );

    let mut seen: HashMap<String, usize> = HashMap::new();
    for r in records {
        for id in record_ids(r) {
            *seen.entry(id).or_default() += 1;
        }
    }
    for id in input_ids {
        assert_eq!(
            seen.remove(id),
            Some(1),
            "{label}: event id {id} not in exactly one record"
        );
    }
    assert!(
        seen.is_empty(),
        "{label}: records carry ids that were not sent: {:?}",
        seen.keys().take(3).collect::<Vec<_>>()
    );

    let mut summary = Summary {
        records: records.len(),
        events: input_ids.len(),
        ..Summary::default()
    };
    let sev = |r: &Value| r["severity_text"].as_str().unwrap_or_default().to_owned();
    for level in LEVELS {
        let expected = grep_count(raw_log, &prefix_regex(level));
        let got = records.iter().filter(|r| sev(r) == level).count();
        assert_eq!(
            got, expected,
            "{label}: {level} records vs grep -cE of the raw log"
        );
        summary.level_counts.push((level.to_owned(), got));
    }
    let companion_lines: usize = COMPANIONS
        .iter()
        .map(|c| grep_count(raw_log, &prefix_regex(c)))
        .sum();
    summary.companions_joined = records.iter().map(|r| record_ids(r).len() - 1).sum();
    summary.companions_alone = records
        .iter()
        .filter(|r| COMPANIONS.contains(&sev(r).as_str()))
        .count();
    assert_eq!(
        summary.companions_joined + summary.companions_alone,
        companion_lines,
        "{label}: DETAIL/HINT/CONTEXT/STATEMENT/QUERY/LOCATION lines joined + alone vs grep"
    );
    summary
}

/// Records whose `db.postgresql.event` is `connection_authorized` for
/// application `app`.
pub fn connections_of(records: &[Value], app: &str) -> usize {
    records
        .iter()
        .filter(|r| {
            let a = &r["attributes"];
            a["db.postgresql.event"] == "connection_authorized"
                && a["db.postgresql.application_name"] == app
        })
        .count()
}

/// `number of transactions actually processed: N/M` → N.
pub fn pgbench_transactions(report: &str) -> Option<usize> {
    let line = report
        .lines()
        .find(|l| l.starts_with("number of transactions actually processed: "))?;
    line.rsplit(": ")
        .next()?
        .split('/')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// `number of clients: N` → N.
pub fn pgbench_clients(report: &str) -> Option<usize> {
    let line = report
        .lines()
        .find(|l| l.starts_with("number of clients: "))?;
    line.rsplit(": ").next()?.trim().parse().ok()
}

/// The SQLSTATE `log_error_verbosity = verbose` puts before a message.
const SQLSTATE: &str = "([0-9A-Z]{5}: )?";

/// Records per `db.postgresql.event` must equal grep counts of the message
/// that event stands for (one record per entry; companions never carry one).
pub fn check_event_counts(
    label: &str,
    raw_log: &[u8],
    records: &[Value],
) -> Vec<(&'static str, usize)> {
    const EVENTS: [(&str, &str, &str); 9] = [
        ("connection_received", "LOG", "connection received: "),
        ("connection_authorized", "LOG", "connection authorized: "),
        ("disconnection", "LOG", "disconnection: session time: "),
        ("checkpoint_starting", "LOG", "checkpoint starting: "),
        ("checkpoint_complete", "LOG", "checkpoint complete: "),
        ("temp_file", "LOG", "temporary file: path "),
        ("autoanalyze", "LOG", "automatic analyze of table "),
        ("lock_waiting", "LOG", "process [0-9]+ still waiting for "),
        ("lock_acquired", "LOG", "process [0-9]+ acquired "),
    ];
    let mut out = Vec::new();
    for (event, level, text) in EVENTS {
        // `log_error_verbosity = verbose` writes the SQLSTATE first.
        let expected = grep_count(raw_log, &(prefix_regex(level) + SQLSTATE + text));
        let got = records
            .iter()
            .filter(|r| r["attributes"]["db.postgresql.event"] == event)
            .count();
        assert_eq!(got, expected, "{label}: {event} records vs grep");
        out.push((event, got));
    }
    let expected = grep_count(
        raw_log,
        &(prefix_regex("LOG") + SQLSTATE + "automatic (aggressive )?vacuum "),
    );
    let got = records
        .iter()
        .filter(|r| r["attributes"]["db.postgresql.event"] == "autovacuum")
        .count();
    assert_eq!(got, expected, "{label}: autovacuum records vs grep");
    out.push(("autovacuum", got));
    out
}
