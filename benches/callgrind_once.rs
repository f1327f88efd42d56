//! Processes one payload file once, for `valgrind --tool=callgrind`
//! (`benches/report.rs` runs it): `callgrind_once <payload.json> <mode>`,
//! mode `load` (start-up + reading the file only: the baseline subtracted),
//! `floor` (base64 + gunzip + borrowed JSON parse: what every forwarder pays),
//! `process`, `streamed` (`process` through the streamed path, as a payload
//! past the stream threshold takes it, records collected), `queries` (`process` with query metrics on: records and
//! points), `ndjson`, `whatap`, `otlp` or `otlp_gzip`; for an
//! `RDSOSMetrics` payload `os` (Enhanced Monitoring documents → points) or
//! `os_whatap` (+ the points' TagCountPack frames);
//! `callgrind_once --write-pg <file> <lines>` writes the synthetic
//! PostgreSQL payload of that many lines, `--write-os <file> <documents>` a
//! payload of that many real Enhanced Monitoring documents (the three
//! in-repo ones in turn, or only the one named after the count: `mysql`,
//! `aurora-postgresql`, `sqlserver`), `--write-hostile <dir>` the payloads
//! of the peak-RSS rows (`scripts/bench.sh`), for measuring them with
//! `/usr/bin/time -v rds-forwarder replay <file>`. Under `cargo test` (no arguments) it runs every
//! mode on a generated 100-line (30-document) payload.

mod support;

fn run(bytes: &[u8], mode: &str) -> usize {
    let p = support::pipeline();
    match mode {
        "load" => bytes.len(),
        "floor" => support::floor(bytes).events,
        "process" => support::process(&p, bytes).len(),
        "streamed" => support::process_streamed(&support::streaming_pipeline(), bytes).len(),
        "queries" => {
            let out = support::pipeline_with_queries().process(bytes, support::OBSERVED_NS);
            out.records.len() + out.metrics.len()
        }
        "ndjson" => support::encode_ndjson(&support::process(&p, bytes)).len(),
        "whatap" => {
            support::encode_whatap(&support::whatap_sink(6600), &support::process(&p, bytes))
        }
        "otlp" => support::encode_otlp(&support::process(&p, bytes)).unwrap_or(0),
        "otlp_gzip" => support::encode_otlp_gzip(&support::process(&p, bytes)).unwrap_or(0),
        "os" => p.process(bytes, support::OBSERVED_NS).metrics.len(),
        "os_whatap" => {
            let points = p.process(bytes, support::OBSERVED_NS).metrics;
            let mut frames = Vec::new();
            support::whatap_mapping().encode_metrics(&points, &mut frames);
            frames.len()
        }
        other => panic!("unknown mode {other}"),
    }
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    match args.as_slice() {
        [flag, file, lines] if flag == "--write-pg" => {
            let n = lines.parse().expect("a line count");
            std::fs::write(file, support::payload::pg_duration_payload(n)).expect("written");
        }
        [flag, file, docs, which @ ..] if flag == "--write-os" && which.len() <= 1 => {
            use support::payload::{os_payload_of, OS_DOCUMENTS};
            let n = docs.parse().expect("a document count");
            let docs: &[&str] = match which.first().map(String::as_str) {
                None => &OS_DOCUMENTS,
                Some("mysql") => &OS_DOCUMENTS[0..1],
                Some("aurora-postgresql") => &OS_DOCUMENTS[1..2],
                Some("sqlserver") => &OS_DOCUMENTS[2..3],
                Some(other) => {
                    panic!("unknown engine {other}: mysql, aurora-postgresql or sqlserver")
                }
            };
            std::fs::write(file, os_payload_of(docs, n)).expect("written");
        }
        [flag, dir] if flag == "--write-hostile" => {
            for (what, payload) in support::payload::hostile_memory_payloads() {
                let file =
                    std::path::Path::new(dir).join(format!("{}.json", what.replace(' ', "-")));
                std::fs::write(file, payload).expect("written");
            }
        }
        [file, mode] => {
            let bytes = std::fs::read(file).expect("payload file");
            std::hint::black_box(run(&bytes, mode));
        }
        _ => {
            let bytes = support::payload::pg_duration_payload(100);
            for mode in [
                "load",
                "floor",
                "process",
                "streamed",
                "queries",
                "ndjson",
                "whatap",
                "otlp",
                "otlp_gzip",
            ] {
                assert!(run(&bytes, mode) > 0, "{mode}");
            }
            let os = support::payload::os_metrics_payload(30);
            for mode in ["load", "os", "os_whatap"] {
                assert!(run(&os, mode) > 0, "{mode}");
            }
            println!("callgrind_once: smoke pass (every mode on a 100-line payload, the os modes on 30 documents)");
        }
    }
}
