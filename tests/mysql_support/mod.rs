//! Helpers shared by the MySQL-family corpus and real-server tests.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rdsf_core::record::{keys, Record, RecordSet, Value};
use rdsf_sinks::stdout::encode_ndjson_batch;

/// The planted secrets of ../shared/corpus/raw/MANIFEST.md ("Planted secrets").
pub const PG_SECRETS: [&str; 6] = [
    "Sh0pOwner-pw-2024!",
    "rep0rt-Read-Only#77",
    "initial-0ps-pass",
    "R0tated-0ps-Secret-9",
    "etl-L0ader-Pa55",
    "etl-L0ader-Rotated",
];
pub const MARIA_SECRETS: [&str; 6] = [
    "W3bApp-Secret-2024!",
    "bi-Reader-pw-55",
    "slap-Runner-pw-9",
    "bi-Reader-ROTATED-56",
    "slap-Runner-pw-10",
    "OnCall-Temp-Pass-77",
];

/// The shared corpus (`RDSF_CORPUS_DIR`, default `../shared/corpus`) when present.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSF_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"));
    dir.join("raw/MANIFEST.md").is_file().then_some(dir)
}

pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/parse/mysql")
}

/// The log events inside one `{"awslogs":{"data":…}}` payload: (id, message).
pub fn payload_events(payload: &[u8]) -> Vec<(String, String)> {
    let v: serde_json::Value = serde_json::from_slice(payload).expect("payload is JSON");
    let data = v["awslogs"]["data"].as_str().expect("awslogs.data");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64");
    let mut json = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut json)
        .expect("gzip");
    let doc: serde_json::Value = serde_json::from_slice(&json).expect("document JSON");
    doc["logEvents"]
        .as_array()
        .expect("logEvents")
        .iter()
        .map(|e| {
            (
                e["id"].as_str().unwrap().to_owned(),
                e["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Every event id a record covers.
pub fn record_ids(r: &Record) -> Vec<String> {
    match r.attributes.get(keys::CW_EVENT_IDS) {
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => vec![r
            .attributes
            .get_str(keys::CW_EVENT_ID)
            .unwrap_or_default()
            .to_owned()],
    }
}

/// Asserts every input id appears in exactly one record and no record
/// invents one.
pub fn assert_ids_exactly_once(label: &str, input_ids: &[String], records: &[Record]) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for r in records {
        for id in record_ids(r) {
            *seen.entry(id).or_default() += 1;
        }
    }
    let input: BTreeSet<&String> = input_ids.iter().collect();
    assert_eq!(
        input.len(),
        input_ids.len(),
        "{label}: input ids are unique"
    );
    for id in input_ids {
        assert_eq!(
            seen.get(id),
            Some(&1),
            "{label}: event id {id} must be in exactly one record"
        );
    }
    assert_eq!(
        seen.len(),
        input_ids.len(),
        "{label}: records name ids that were not in the input"
    );
}

pub fn assert_no_parse_errors(label: &str, records: &[Record]) {
    let bad: Vec<_> = records
        .iter()
        .filter_map(|r| {
            r.attributes
                .get_str(keys::PARSE_ERROR)
                .map(|e| (e.to_owned(), r.body.clone()))
        })
        .take(5)
        .collect();
    assert!(
        bad.is_empty(),
        "{label}: records with rds.parse.error, e.g. {bad:#?}"
    );
}

/// Asserts no secret appears in any record's NDJSON.
pub fn assert_no_secrets(label: &str, records: &RecordSet, secrets: &[&str]) {
    let mut buf = Vec::new();
    encode_ndjson_batch(&records.all_groups(), &mut buf);
    let text = String::from_utf8(buf).expect("NDJSON is UTF-8");
    for s in secrets {
        assert!(
            !text.contains(s),
            "{label}: planted secret {s:?} leaked into the output"
        );
    }
}

/// `grep -c PATTERN` as a fixed-string line count.
pub fn grep_count(text: &str, needle: &str) -> usize {
    text.lines().filter(|l| l.contains(needle)).count()
}

/// Lines whose own level is `[word]`: the level token among a line's first
/// four (after its date, time and thread id). A message MariaDB glued onto
/// another line (the server_audit plugin writes one without its newline) is
/// part of that line, as RDS would publish it, so it is not counted twice.
pub fn grep_level_count(text: &str, word: &str) -> usize {
    let level = format!("[{word}]");
    text.lines()
        .filter(|l| {
            l.split_whitespace()
                .take(4)
                .find(|t| t.starts_with('['))
                .is_some_and(|t| t == level)
        })
        .count()
}

/// `grep -c '^PREFIX'`.
pub fn grep_prefix_count(text: &str, prefix: &str) -> usize {
    text.lines().filter(|l| l.starts_with(prefix)).count()
}

/// Per-severity_text record counts.
pub fn severity_counts(records: &[Record]) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in records {
        *m.entry(r.severity.text.to_string()).or_default() += 1;
    }
    m
}

/// pt-query-digest does not take MariaDB's first restart-header line
/// (`/usr/sbin/mariadbd, Version: … started with:`) for a header, so it reads
/// the entry before the header, the header and the entry after it as one
/// event, whose class contains `started with:`. We keep both entries. This
/// turns each such class back into its two halves (the statement before the
/// header; the statement after the last `set timestamp=?; `) and returns them.
pub fn split_restart_merges(classes: &mut BTreeMap<String, usize>) -> Vec<(String, String)> {
    let merged: Vec<String> = classes
        .keys()
        .filter(|f| f.contains("started with:"))
        .cloned()
        .collect();
    let mut halves = Vec::new();
    for m in merged {
        let n = classes.remove(&m).unwrap();
        let header = m.find(" started with:").unwrap();
        let before = m[..m[..header]
            .rfind("; ")
            .expect("statement before the header")]
            .to_owned();
        let marker = "set timestamp=?; ";
        let after =
            m[m.rfind(marker).expect("SET timestamp after the header") + marker.len()..].to_owned();
        *classes.entry(before.clone()).or_default() += n;
        *classes.entry(after.clone()).or_default() += n;
        halves.push((before, after));
    }
    halves
}

/// `pt-query-digest --output json` classes of a slow log: fingerprint → count.
pub fn run_pt_query_digest(slow_log: &Path) -> BTreeMap<String, usize> {
    let out = std::process::Command::new("pt-query-digest")
        .args(["--limit", "100%:100000", "--output", "json"])
        .arg(slow_log)
        .output()
        .expect("pt-query-digest runs (percona-toolkit; scripts/deps/parse-mysql.sh)");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("pt JSON");
    v["classes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["fingerprint"].as_str().unwrap().to_owned(),
                c["query_count"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}
