//! What the benchmarks measure, shared by `benches/pipeline.rs` (divan, the
//! interactive view) and `benches/report.rs` (the one table
//! `scripts/bench.sh` prints): the payloads and the stages.
#![allow(dead_code)]

pub use rdsf_testkit::payload;

/// The allocator the binary ships with (`src/main.rs`), so the figures are
/// the shipped ones.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use serde::Deserialize;

use rds_forwarder::config::Config;
use rds_forwarder::pipeline::Pipeline;
use rdsf_core::record::RecordSet;
use rdsf_core::secret::Secret;
use rdsf_sinks::whatap::conn::Endpoints;
use rdsf_sinks::whatap::{WhatapConfig, WhatapSink};

/// A set of Lambda events benchmarked together (one iteration processes
/// every one of them, as that many warm invocations would).
pub struct Workload {
    pub name: String,
    pub payloads: Vec<Vec<u8>>,
    /// Log events in all payloads.
    pub events: usize,
    /// Bytes of log text (the messages, uncompressed): the MB/s basis.
    pub text_bytes: usize,
    /// Bytes of the Lambda events themselves.
    pub payload_bytes: usize,
}

impl Workload {
    pub fn new(name: impl Into<String>, payloads: Vec<Vec<u8>>) -> Workload {
        let mut events = 0;
        let mut text_bytes = 0;
        for p in &payloads {
            let doc = floor(p);
            events += doc.events;
            text_bytes += doc.text_bytes;
        }
        let payload_bytes = payloads.iter().map(Vec::len).sum();
        Workload {
            name: name.into(),
            payloads,
            events,
            text_bytes,
            payload_bytes,
        }
    }

    /// The synthetic PostgreSQL payload with `n` lines.
    pub fn pg_lines(n: usize) -> Workload {
        Workload::new(format!("pg-{n}"), vec![payload::pg_duration_payload(n)])
    }
}

/// Where the shared corpus is: `RDSF_CORPUS_DIR` (relative to the crate
/// root), default `../shared/corpus`; `None` when it is absent.
pub fn shared_corpus() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = std::env::var_os("RDSF_CORPUS_DIR")
        .map(|d| root.join(d))
        .unwrap_or_else(|| root.join("../shared/corpus"));
    dir.join("payloads").is_dir().then_some(dir)
}

/// The corpus to benchmark: the shared one when present, else the in-repo
/// subset; says which.
pub fn corpus_dir() -> (PathBuf, &'static str) {
    match shared_corpus() {
        Some(d) => (d, "shared corpus"),
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/corpus"),
            "in-repo corpus subset",
        ),
    }
}

/// One workload per corpus payload folder (pg, maria-slowquery, …), each
/// holding every payload of that folder (at most `max_payloads`).
pub fn corpus_workloads(max_payloads: usize) -> Vec<Workload> {
    let (dir, _) = corpus_dir();
    let payloads = dir.join("payloads");
    let mut kinds: Vec<PathBuf> = std::fs::read_dir(&payloads)
        .unwrap_or_else(|e| panic!("{}: {e}", payloads.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    kinds.sort();
    kinds
        .into_iter()
        .map(|kind| {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&kind)
                .unwrap()
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "json"))
                .collect();
            files.sort();
            files.truncate(max_payloads);
            let name = kind.file_name().unwrap().to_string_lossy().into_owned();
            let bytes = files.iter().map(|f| std::fs::read(f).unwrap()).collect();
            Workload::new(name, bytes)
        })
        .collect()
}

// ---- the floor: base64 + gunzip + JSON parse, nothing else ----

#[derive(Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    awslogs: AwsLogs<'a>,
}

#[derive(Deserialize)]
struct AwsLogs<'a> {
    data: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FloorDocument<'a> {
    #[serde(borrow)]
    log_group: Cow<'a, str>,
    #[serde(borrow, default)]
    log_stream: Cow<'a, str>,
    #[serde(borrow)]
    log_events: Vec<FloorEvent<'a>>,
}

#[derive(Deserialize)]
struct FloorEvent<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    timestamp: i64,
    #[serde(borrow)]
    message: Cow<'a, str>,
}

/// What the floor read (so it cannot be optimised away).
#[derive(Debug, Clone, Copy, Default)]
pub struct FloorOut {
    pub events: usize,
    pub text_bytes: usize,
}

/// The unavoidable work of any forwarder for one CloudWatch payload:
/// base64-decode, gunzip, parse the JSON (strings borrowed where JSON
/// escapes allow). Written directly on base64 + flate2 + serde_json, not
/// on the crate's input stage, so optimising the crate cannot move it.
pub fn floor(event: &[u8]) -> FloorOut {
    let env: Envelope = serde_json::from_slice(event).expect("an awslogs event");
    let gz = base64::engine::general_purpose::STANDARD
        .decode(env.awslogs.data)
        .expect("base64");
    let json = gunzip(&gz);
    let mut out = FloorOut::default();
    let mut docs = serde_json::Deserializer::from_slice(&json).into_iter::<FloorDocument>();
    for doc in docs.by_ref() {
        let doc = doc.expect("a subscription document");
        std::hint::black_box((&doc.log_group, &doc.log_stream));
        out.events += doc.log_events.len();
        for e in &doc.log_events {
            std::hint::black_box((&e.id, e.timestamp));
            out.text_bytes += e.message.len();
        }
    }
    out
}

/// Gzip members inflated straight into a buffer reserved from the
/// trailer's ISIZE, as any forwarder can: through `Read::read_to_end` each
/// byte was zeroed first (~2.9 M instructions of memset on a 10k-line
/// payload), which the crate's decoding no longer pays either.
fn gunzip(gz: &[u8]) -> Vec<u8> {
    use flate2::{Decompress, FlushDecompress, Status};
    let isize = u32::from_le_bytes(gz[gz.len() - 4..].try_into().expect("a trailer"));
    let mut out = Vec::with_capacity(isize as usize);
    let mut inflate = Decompress::new_gzip(15);
    let mut input = gz;
    loop {
        if out.len() == out.capacity() {
            out.reserve(32 * 1024);
        }
        let (read, wrote) = (inflate.total_in(), out.len());
        let status = inflate
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .expect("gzip");
        let used = (inflate.total_in() - read) as usize;
        input = &input[used..];
        match status {
            Status::StreamEnd if input.is_empty() => return out,
            Status::StreamEnd => inflate.reset(true),
            _ if used == 0 && out.len() == wrote && out.len() < out.capacity() => {
                panic!("a gzip stream cut short")
            }
            _ => {}
        }
    }
}

// ---- the stages ----

/// The pipeline as Lambda builds it (region set, so resources carry ARNs).
pub fn pipeline() -> Pipeline {
    Pipeline::new(Config {
        region: Some("us-east-1".to_owned()),
        ..Config::default()
    })
}

/// [`pipeline`] with query metrics from the logs on (`RDSF_METRICS=os,queries`,
/// the default top N): what they add is this minus [`pipeline`].
pub fn pipeline_with_queries() -> Pipeline {
    let mut config = Config {
        region: Some("us-east-1".to_owned()),
        ..Config::default()
    };
    config.enhanced_monitoring.queries = true;
    Pipeline::new(config)
}

/// [`pipeline`] streaming every CloudWatch payload (threshold 0, default
/// chunks): the path a payload past the stream threshold takes in
/// production, for comparing it with the whole path on the same payload.
pub fn streaming_pipeline() -> Pipeline {
    let options = rds_forwarder::pipeline::StreamOptions {
        threshold_bytes: 0,
        ..Default::default()
    };
    pipeline().with_stream_options(options)
}

/// Decode + parse + records through the streamed path, every chunk's
/// records collected ([`Pipeline::process_streamed`]).
pub fn process_streamed(p: &Pipeline, event: &[u8]) -> RecordSet {
    p.process_streamed(event, OBSERVED_NS)
        .expect("a CloudWatch Logs payload (the streamed path takes no other)")
        .records
}

/// What the Lambda does with a payload past the stream threshold, minus the
/// network: inflated and read chunk by chunk, each chunk's records encoded
/// as stdout NDJSON and dropped before the next (`pipeline/streamed.rs`).
/// Returns the NDJSON bytes; `None` for a payload the pipeline does not
/// stream (below its threshold, or not CloudWatch Logs).
/// Whether `p` streams `event` (a CloudWatch payload past its threshold).
pub fn streams(p: &Pipeline, event: &[u8]) -> bool {
    let processor = p.processor();
    rdsf_core::input::stream::open(
        event,
        processor.settings().max_decompressed_bytes,
        processor.stream_options().threshold_bytes,
    )
    .is_some()
}

pub fn streamed_ndjson(p: &Pipeline, event: &[u8]) -> Option<usize> {
    let processor = p.processor();
    let stream = rdsf_core::input::stream::open(
        event,
        processor.settings().max_decompressed_bytes,
        processor.stream_options().threshold_bytes,
    )?;
    let mut carry = None;
    let mut bytes = 0;
    stream
        .run(processor.stream_options().chunk, &mut |chunk| {
            let mut part = rdsf_core::process::Processed::default();
            processor.process_chunk(&mut carry, chunk, OBSERVED_NS, &mut part);
            bytes += encode_ndjson(&part.records).len();
            true
        })
        .expect("a readable payload");
    Some(bytes)
}

/// A fixed receive time: the benchmark must not pay for the clock.
pub const OBSERVED_NS: i64 = 1_800_000_000_000_000_000;

/// Decode + parse + records.
pub fn process(p: &Pipeline, event: &[u8]) -> RecordSet {
    p.process(event, OBSERVED_NS).records
}

/// Records → stdout NDJSON bytes, into a buffer sized the way
/// `StdoutSink::send` sizes its own (so the figure includes what the sink
/// pays for its buffer, not only the serialising).
pub fn encode_ndjson(records: &RecordSet) -> Vec<u8> {
    let mut buf = Vec::new();
    rdsf_sinks::stdout::encode_ndjson_batch(&records.all_groups(), &mut buf);
    buf
}

/// A WhaTap sink whose transport is never used by the offline stages; with
/// `port` it points at a loopback receiver for the end-to-end figure.
pub fn whatap_sink(port: u16) -> WhatapSink {
    WhatapSink::new(&WhatapConfig {
        endpoints: Endpoints {
            hosts: vec![("127.0.0.1".to_owned(), port)],
            connect_timeout: Duration::from_secs(2),
            write_timeout: Duration::from_secs(5),
        },
        license: Secret::new("bench-license"),
        pcode: 1,
        event_pack: true,
        log_category: None,
        event_category: None,
    })
}

/// The WhaTap sink's point → TagCountPack mapping, as [`whatap_sink`]
/// configures it.
pub fn whatap_mapping() -> rdsf_sinks::whatap::mapping::Mapping {
    use rdsf_sinks::whatap::{hash::hash64_str, mapping::Mapping};
    Mapping {
        pcode: 1,
        license_hash: hash64_str("bench-license"),
        log_category: None,
        event_category: None,
        event_pack: true,
    }
}

/// Records → WhaTap frames.
pub fn encode_whatap(sink: &WhatapSink, records: &RecordSet) -> usize {
    sink.encode(&records.all_groups()).len()
}

// ---- OTLP ----
//
// The sink's own encoder: records → ExportLogsServiceRequest protobuf, then
// gzip at the level the sink uses (`rdsf_sinks::otlp::encode::GZIP_LEVEL`).
pub const OTLP_AVAILABLE: bool = true;

/// Records → OTLP protobuf bytes.
pub fn encode_otlp(records: &RecordSet) -> Option<usize> {
    use rdsf_sinks::otlp::{encode, Compression, Protocol};
    Some(
        encode::encode(
            &records.all_groups(),
            &Default::default(),
            Protocol::Protobuf,
            Compression::None,
        )
        .len(),
    )
}

/// Records → the uncompressed OTLP protobuf body.
pub fn otlp_body(records: &RecordSet) -> Option<Vec<u8>> {
    use rdsf_sinks::otlp::{encode, Compression, Protocol};
    Some(encode::encode(
        &records.all_groups(),
        &Default::default(),
        Protocol::Protobuf,
        Compression::None,
    ))
}

/// `raw` gzip'd at `level` (0–9), as the OTLP sink's encoder does at
/// `GZIP_LEVEL`.
pub fn gzip_level(raw: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut gz = flate2::write::GzEncoder::new(
        Vec::with_capacity(raw.len() / 4),
        flate2::Compression::new(level),
    );
    gz.write_all(raw).expect("gzip into memory");
    gz.finish().expect("gzip into memory")
}

/// Records → gzip'd OTLP protobuf bytes.
pub fn encode_otlp_gzip(records: &RecordSet) -> Option<usize> {
    use rdsf_sinks::otlp::{encode, Compression, Protocol};
    Some(
        encode::encode(
            &records.all_groups(),
            &Default::default(),
            Protocol::Protobuf,
            Compression::Gzip,
        )
        .len(),
    )
}
