//! Shared by the delivery tests (otlp_faults, otlp_decoder, kinesis_item_failures): configuration from flags, the corpus
//! payload (shared material in place when present, else the in-repo copy),
//! and a fault-injecting OTLP/HTTP server.

pub mod fault_server;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use clap::Parser;
use rds_forwarder::config::{Config, Settings};
use rds_forwarder::pipeline::Pipeline;
use rdsf_sinks::{self as sink, Sink};

#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    settings: Settings,
}

/// Settings from flags only (flags win over any environment variable).
pub fn settings(args: &[&str]) -> Settings {
    let argv = std::iter::once("rds-forwarder").chain(args.iter().copied());
    Flags::try_parse_from(argv)
        .expect("test flags parse")
        .settings
}

pub fn build(args: &[&str]) -> (Pipeline, Vec<Box<dyn Sink>>) {
    let config = Config::from_settings(&settings(args)).expect("test configuration is valid");
    let sinks = sink::build(&config.sinks).expect("sinks build");
    (Pipeline::new(config), sinks)
}

pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn corpus_dir() -> PathBuf {
    let dir = std::env::var("RDSF_CORPUS_DIR").unwrap_or_else(|_| "../shared/corpus".to_owned());
    manifest_dir().join(dir)
}

/// The MariaDB error-log payloads: `<corpus>/payloads/maria-error/*.json`
/// when the shared corpus is there, else the in-repo copy. Says which ran.
pub fn maria_error_payloads() -> Vec<(PathBuf, Vec<u8>)> {
    let shared = corpus_dir().join("payloads/maria-error");
    let (set, files) = match json_files(&shared) {
        Some(files) if !files.is_empty() => ("shared corpus", files),
        _ => (
            "in-repo fixture",
            vec![manifest_dir().join("tests/data/delivery/mariadb-error-0000.json")],
        ),
    };
    eprintln!(
        "delivery tests: maria-error payloads from the {set}: {} file(s)",
        files.len()
    );
    files
        .into_iter()
        .map(|p| {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            (p, bytes)
        })
        .collect()
}

/// Two EventBridge RDS events (categories array, tags): the shared samples
/// when present, else the in-repo copies.
pub fn rds_event_samples() -> Vec<Vec<u8>> {
    let names = [
        "04-db-instance-two-categories.json",
        "06-db-instance-backup-with-tags.json",
    ];
    let shared = manifest_dir().join("../shared/rds-events/samples");
    let dir = if shared.join(names[0]).exists() {
        eprintln!("delivery tests: RDS event samples from the shared material");
        shared
    } else {
        eprintln!("delivery tests: RDS event samples from the in-repo fixtures");
        manifest_dir().join("tests/data/delivery")
    };
    names
        .iter()
        .map(|n| std::fs::read(dir.join(n)).expect("sample readable"))
        .collect()
}

fn json_files(dir: &Path) -> Option<Vec<PathBuf>> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    Some(files)
}

/// The ids of the records a payload produces (what a backend must end up with).
pub fn expected_ids(pipeline: &Pipeline, payload: &[u8]) -> BTreeSet<String> {
    let processed = pipeline.process(payload, 0);
    assert!(
        processed.failures.is_empty(),
        "payload decodes: {:?}",
        processed.failures
    );
    let ids: BTreeSet<String> = processed.records.iter().map(|r| r.id.clone()).collect();
    assert_eq!(ids.len(), processed.records.len(), "record ids are unique");
    assert!(!ids.contains(""), "every record has an id");
    ids
}
