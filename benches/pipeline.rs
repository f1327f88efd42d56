//! The data path, stage by stage, per payload (divan). Workloads: every
//! corpus payload kind (shared corpus, else the in-repo subset) and the
//! synthetic PostgreSQL payload at 1k / 10k / 100k lines and ~6 MB.
//!
//!   cargo bench --bench pipeline                 # all
//!   cargo bench --bench pipeline -- pg-10000     # one workload (divan filter)
//!
//! Counters: events and bytes of uncompressed log text per iteration.
//! Under `cargo test` divan runs each bench once on the small workloads.
//! `scripts/bench.sh` prints the summary table from `benches/report.rs`,
//! which measures the same stages (`benches/support`).

mod support;

use std::sync::LazyLock;

use divan::counter::{BytesCount, ItemsCount};
use divan::{black_box, Bencher};
use support::Workload;

fn main() {
    divan::main();
}

fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

static WORKLOADS: LazyLock<Vec<Workload>> = LazyLock::new(|| {
    let (_, which) = support::corpus_dir();
    eprintln!("pipeline bench: corpus workloads from the {which}");
    // A smoke run under `cargo test` takes one payload per kind.
    let mut w = support::corpus_workloads(if full_run() { usize::MAX } else { 1 });
    let sizes: &[usize] = if full_run() {
        &[1_000, 10_000, 100_000]
    } else {
        &[1_000]
    };
    w.extend(sizes.iter().map(|&n| Workload::pg_lines(n)));
    if full_run() {
        let n = support::payload::pg_events_for_payload_bytes(6_000_000);
        let mut six = Workload::pg_lines(n);
        six.name = "pg-6MB".to_owned();
        w.push(six);
    }
    w
});

fn names() -> Vec<&'static str> {
    WORKLOADS.iter().map(|w| w.name.as_str()).collect()
}

fn workload(name: &str) -> &'static Workload {
    WORKLOADS.iter().find(|w| w.name == name).unwrap()
}

fn counted<'a, 'b>(b: Bencher<'a, 'b>, w: &Workload) -> Bencher<'a, 'b> {
    b.counter(ItemsCount::new(w.events))
        .counter(BytesCount::new(w.text_bytes))
}

/// base64 + gunzip + JSON parse alone: the work any forwarder pays.
#[divan::bench(args = names())]
fn floor(b: Bencher, name: &str) {
    let w = workload(name);
    counted(b, w).bench_local(|| {
        for p in &w.payloads {
            black_box(support::floor(black_box(p)));
        }
    });
}

/// `Pipeline::process`: decode + parse + records.
#[divan::bench(args = names())]
fn process(b: Bencher, name: &str) {
    let w = workload(name);
    let p = support::pipeline();
    counted(b, w).bench_local(|| {
        for e in &w.payloads {
            black_box(support::process(&p, black_box(e)));
        }
    });
}

/// process + stdout NDJSON encoding.
#[divan::bench(args = names())]
fn process_ndjson(b: Bencher, name: &str) {
    let w = workload(name);
    let p = support::pipeline();
    counted(b, w).bench_local(|| {
        for e in &w.payloads {
            let records = support::process(&p, black_box(e));
            black_box(support::encode_ndjson(&records));
        }
    });
}

/// process + WhaTap frame encoding.
#[divan::bench(args = names())]
fn process_whatap(b: Bencher, name: &str) {
    let w = workload(name);
    let p = support::pipeline();
    let sink = support::whatap_sink(6600);
    counted(b, w).bench_local(|| {
        for e in &w.payloads {
            let records = support::process(&p, black_box(e));
            black_box(support::encode_whatap(&sink, &records));
        }
    });
}

/// The workloads again once `support::OTLP_AVAILABLE`, else none.
fn otlp_names() -> Vec<&'static str> {
    if support::OTLP_AVAILABLE {
        names()
    } else {
        Vec::new()
    }
}

/// process + OTLP protobuf (+ gzip): measured once `support::encode_otlp*`
/// are filled in (see the OTLP slot in `benches/support/mod.rs`).
#[divan::bench(args = otlp_names())]
fn process_otlp_gzip(b: Bencher, name: &str) {
    let w = workload(name);
    let p = support::pipeline();
    counted(b, w).bench_local(|| {
        for e in &w.payloads {
            let records = support::process(&p, black_box(e));
            black_box(support::encode_otlp_gzip(&records));
        }
    });
}
