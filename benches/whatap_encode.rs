//! Encoder throughput (records → WhaTap frames), offline: no socket is
//! opened. `cargo bench --bench whatap_encode` measures; under
//! `cargo test --all-targets` it runs one quick pass as a smoke test.
//! Hand-rolled timing rather than criterion to keep the dependency tree lean.

/// The allocator the binary ships with (`src/main.rs`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::path::Path;
use std::time::{Duration, Instant};

use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_core::record::RecordSet;
use rdsf_core::secret::Secret;
use rdsf_sinks::whatap::conn::Endpoints;
use rdsf_sinks::whatap::{WhatapConfig, WhatapSink};

fn records() -> (String, RecordSet) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared/corpus/payloads/pg/postgresql-0000.json");
    let path = if shared.is_file() {
        shared
    } else {
        root.join("tests/data/whatap/mariadb-error-0000.json")
    };
    let bytes = std::fs::read(&path).expect("payload readable");
    let config = Config {
        region: Some("us-east-1".to_owned()),
        ..Config::default()
    };
    let records = Pipeline::new(config).process(&bytes, 0).records;
    (path.display().to_string(), records)
}

fn main() {
    let measure = std::env::args().any(|a| a == "--bench");
    let (source, records) = records();
    let sink = WhatapSink::new(&WhatapConfig {
        endpoints: Endpoints {
            hosts: vec![("127.0.0.1".to_owned(), 6600)],
            connect_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
        },
        license: Secret::new("bench-license"),
        pcode: 1,
        event_pack: true,
        log_category: None,
        event_category: None,
    });
    let rounds = if measure { 200 } else { 1 };
    let start = Instant::now();
    let mut bytes = 0usize;
    for _ in 0..rounds {
        bytes += std::hint::black_box(sink.encode(&records.all_groups())).len();
    }
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let n = records.len() * rounds;
    println!(
        "whatap_encode: {} records from {source}: {:.0} records/s, {:.1} MiB/s of frames",
        records.len(),
        n as f64 / secs,
        bytes as f64 / secs / (1024.0 * 1024.0)
    );
}
