//! Golden bytes: what every sink's encoder makes of every bundled payload
//! (and of the shared corpus when present), pinned by digest, so that moving
//! code between modules and crates (issue 14) provably changes no output.
//!
//! The digests live in `tests/data/golden/*.txt`, one line per input file:
//! `path records ndjson-md5 otlp-md5 whatap-md5`. A change that is meant to
//! alter output regenerates them with `RDSF_BLESS=1 cargo test --test integration golden::`
//! and the diff shows which inputs it touched.

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use md5::{Digest, Md5};
use rdsf_core::secret::Secret;
use rdsf_sinks::otlp::{encode, Compression, Protocol};
use rdsf_sinks::whatap::conn::Endpoints;
use rdsf_sinks::whatap::{WhatapConfig, WhatapSink};

fn whatap() -> WhatapSink {
    WhatapSink::new(&WhatapConfig {
        endpoints: Endpoints {
            hosts: vec![("127.0.0.1".to_owned(), 9)],
            connect_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
        },
        license: Secret::new("golden-license"),
        pcode: 7,
        event_pack: true,
        log_category: None,
        event_category: None,
    })
}

fn hex(bytes: &[u8]) -> String {
    Md5::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One line of a golden file for the input at `file`, named `name`.
fn digest_line(name: &str, file: &Path, sink: &WhatapSink) -> String {
    let bytes = std::fs::read(file).unwrap();
    let records = process(&bytes).records;
    let batch = records.all_groups();
    let mut ndjson = Vec::new();
    rdsf_sinks::stdout::encode_ndjson_batch(&batch, &mut ndjson);
    let otlp = encode::encode(
        &batch,
        &Default::default(),
        Protocol::Protobuf,
        Compression::None,
    );
    let frames = sink.encode(&batch);
    format!(
        "{name} {} {} {} {}",
        records.len(),
        hex(&ndjson),
        hex(&otlp),
        hex(&frames)
    )
}

/// JSON files under `dir`, recursively, sorted.
fn all_json(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let p = entry.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Compares (or with `RDSF_BLESS=1` rewrites) the golden file `golden` with
/// the digests of every JSON input under `roots`, named relative to `base`.
fn check(golden: &str, base: &Path, roots: &[PathBuf]) {
    let sink = whatap();
    let mut lines = Vec::new();
    for root in roots {
        for file in all_json(root) {
            let name = file.strip_prefix(base).unwrap().display().to_string();
            lines.push(digest_line(&name, &file, &sink));
        }
    }
    assert!(lines.len() > 5, "{golden}: only {} inputs", lines.len());
    let got = lines.join("\n") + "\n";
    let path = manifest_dir().join("tests/data/golden").join(golden);
    if std::env::var_os("RDSF_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &got).unwrap();
        eprintln!("golden: wrote {} lines to {}", lines.len(), path.display());
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (create it with RDSF_BLESS=1 cargo test --test integration golden::)",
            path.display()
        )
    });
    let changed: Vec<String> = want
        .lines()
        .zip(got.lines())
        .filter(|(w, g)| w != g)
        .map(|(w, g)| format!("  was: {w}\n  now: {g}"))
        .collect();
    assert!(
        changed.is_empty() && want.lines().count() == got.lines().count(),
        "{golden}: output changed for {} input(s) ({} lines before, {} now):\n{}\n\
         If the change is intended: RDSF_BLESS=1 cargo test --test integration golden::",
        changed.len(),
        want.lines().count(),
        got.lines().count(),
        changed.join("\n")
    );
    eprintln!("golden: {} inputs unchanged ({golden})", lines.len());
}

#[test]
fn bundled_inputs_encode_to_the_same_bytes_in_every_sink() {
    let data = manifest_dir().join("tests/data");
    check(
        "bundled.txt",
        &data,
        &[
            data.join("corpus/payloads"),
            data.join("events"),
            data.join("delivery"),
            data.join("deploy"),
        ],
    );
}

#[test]
fn the_shared_corpus_encodes_to_the_same_bytes_in_every_sink() {
    let Some(corpus) = shared_corpus() else {
        eprintln!("golden: no shared corpus, its digests not checked");
        return;
    };
    let shared = corpus.parent().unwrap();
    let mut roots = vec![corpus.join("payloads")];
    let events = shared.join("rds-events");
    if events.is_dir() {
        roots.push(events);
    }
    check("shared.txt", shared, &roots);
}
