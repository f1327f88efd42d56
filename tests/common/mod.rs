//! Helpers shared by the integration tests: where the corpora are, and an
//! independent decoder for CloudWatch payloads (so tests do not trust the
//! code under test to tell them what the input held).

pub mod pg_checks;
use std::io::Read;
use std::path::{Path, PathBuf};

use base64::Engine as _;
use rds_forwarder::config::Config;
use rds_forwarder::pipeline::{Pipeline, Processed};

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared corpus (`RDSF_CORPUS_DIR`, default `../shared/corpus`) when present.
pub fn shared_corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("RDSF_CORPUS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| manifest_dir().join("../shared/corpus"));
    dir.join("payloads").is_dir().then_some(dir)
}

/// The in-repo corpus subset (always present).
pub fn repo_corpus() -> PathBuf {
    manifest_dir().join("tests/data/corpus")
}

/// Every corpus to run: the in-repo subset, plus the shared one when present.
/// Prints which ran, so a run without `../shared` is visible in the log.
pub fn corpora() -> Vec<PathBuf> {
    let mut v = vec![repo_corpus()];
    match shared_corpus() {
        Some(s) => {
            eprintln!("corpus: in-repo subset + shared corpus at {}", s.display());
            v.push(s);
        }
        None => eprintln!("corpus: in-repo subset only (no shared corpus found)"),
    }
    v
}

/// JSON files of a folder, sorted.
pub fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

/// The `events` column of a corpus README table: folder → event count.
pub fn readme_counts(corpus: &Path) -> Vec<(String, usize)> {
    let text = std::fs::read_to_string(corpus.join("README.md")).expect("corpus README.md");
    text.lines()
        .filter(|l| l.starts_with("| `"))
        .filter_map(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            let folder = cells.get(1)?.trim_matches('`').to_owned();
            let count = cells.get(4)?.replace(',', "").parse().ok()?;
            Some((folder, count))
        })
        .collect()
}

/// A CloudWatch event as the payload holds it, decoded independently.
#[derive(Debug, Clone)]
pub struct RawEvent {
    pub id: String,
    pub timestamp: i64,
    pub message: String,
}

/// A CloudWatch Logs Lambda event, `{"awslogs":{"data": base64(gzip(doc))}}`.
pub fn awslogs_event(doc: &serde_json::Value) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(doc.to_string().as_bytes()).unwrap();
    let data = base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap());
    serde_json::json!({"awslogs": {"data": data}})
        .to_string()
        .into_bytes()
}

/// A subscription document of `messages` (ids 1, 2, … as 56 digits) in `group`.
pub fn subscription_doc(group: &str, messages: &[&str]) -> serde_json::Value {
    let events: Vec<serde_json::Value> = messages
        .iter()
        .enumerate()
        .map(|(i, m)| serde_json::json!({"id": format!("{:056}", i + 1), "timestamp": 1764057000000i64, "message": m}))
        .collect();
    serde_json::json!({"messageType": "DATA_MESSAGE", "owner": "123456789012", "logGroup": group,
        "logStream": "s", "subscriptionFilters": ["f"], "logEvents": events})
}

/// Decodes `{"awslogs":{"data":…}}` with base64 + flate2 + serde_json directly.
pub fn raw_events(payload: &[u8]) -> Vec<RawEvent> {
    let v: serde_json::Value = serde_json::from_slice(payload).unwrap();
    let data = v["awslogs"]["data"].as_str().unwrap();
    let gz = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut json)
        .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&json).unwrap();
    doc["logEvents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| RawEvent {
            id: e["id"].as_str().unwrap().to_owned(),
            timestamp: e["timestamp"].as_i64().unwrap(),
            message: e["message"].as_str().unwrap().to_owned(),
        })
        .collect()
}

/// A receive time far from any corpus time, so a test can tell them apart.
pub const OBSERVED_NS: i64 = 2_000_000_000_000_000_000;

pub fn pipeline() -> Pipeline {
    Pipeline::new(Config {
        region: Some("us-east-1".to_owned()),
        ..Config::default()
    })
}

pub fn process(bytes: &[u8]) -> Processed {
    pipeline().process(bytes, OBSERVED_NS)
}

/// The record as the stdout sink writes it, parsed back.
pub fn as_json(record: rdsf_core::record::RecordRef<'_>) -> serde_json::Value {
    let mut buf = Vec::new();
    rdsf_sinks::stdout::encode_ndjson(record.resource, &record, &mut buf);
    serde_json::from_slice(&buf).unwrap()
}

/// Best of three: the thread's own CPU time to run `f` (not wall time, so
/// other processes on a loaded machine do not stretch one measurement).
pub fn cpu_cost(f: &dyn Fn()) -> f64 {
    (0..3)
        .map(|_| {
            let t = cpu_time::ThreadTime::now();
            f();
            t.elapsed().as_secs_f64()
        })
        .fold(f64::INFINITY, f64::min)
}

/// How many times `large` (8× the input of `small`) costs `small`, asserted
/// at most 32×: a linear stage meets it (~8×), a quadratic one (64×)
/// cannot. Not a timed assertion on a figure; measured twice before a
/// failure counts (a noisy neighbour).
pub fn assert_linear(what: &str, small: &dyn Fn(), large: &dyn Fn()) {
    let ratio = || cpu_cost(large) / cpu_cost(small);
    let first = ratio();
    let r = if first > 32.0 {
        first.min(ratio())
    } else {
        first
    };
    assert!(
        r <= 32.0,
        "{what}: 8x the input cost {r:.1}x the time: not linear"
    );
}
