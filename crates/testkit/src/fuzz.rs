//! The code each fuzz target runs, shared by `fuzz/fuzz_targets/*.rs` and
//! `tests/fuzz_regressions.rs` (so a committed crashing input is replayed
//! through exactly what found it, on stable, in the normal test suite).
//!
//! They run the core's [`Processor`] (what the Lambda pipeline runs before
//! delivery) and the WhaTap encoder, never the network.

use std::borrow::Cow;
use std::sync::{Arc, OnceLock};

use rdsf_core::input;
use rdsf_core::input::stream::ChunkLimits;
use rdsf_core::parse::{Entry, Registry};
use rdsf_core::process::{ProcessSettings, Processor, StreamOptions};
use rdsf_core::record::{keys, Attributes, Record, RecordRef, Resource, Value};
use rdsf_core::severity::Severity;
use rdsf_core::source::SourceInfo;
use rdsf_core::sql::Redactor;
use rdsf_sinks::whatap::hash;
use rdsf_sinks::whatap::mapping::{self, Mapping};

use crate::payload;
use crate::whatap::{decode_pack, Pack, Val};

/// The fuzz target names, as folders under `fuzz/corpus/` and
/// `tests/data/fuzz-regressions/`.
pub const TARGETS: [&str; 4] = [
    "decode_event",
    "parse_message",
    "rds_event",
    "whatap_roundtrip",
];

/// Runs `target` on `data`; panics on a finding.
pub fn run(target: &str, data: &[u8]) {
    match target {
        "decode_event" => decode_event(data),
        "parse_message" => parse_message(data),
        "rds_event" => rds_event(data),
        "whatap_roundtrip" => whatap_roundtrip(data),
        other => panic!("unknown fuzz target {other}"),
    }
}

/// Every RDS log type the parsers are registered for (or will be): each is
/// fed the same message, so a parser that lands later is fuzzed too.
pub const LOG_TYPES: [&str; 14] = rdsf_core::source::RDS_LOG_TYPES;

/// A small bound so a gzip bomb costs little per execution.
const FUZZ_LIMIT: usize = 1 << 20;

fn settings() -> ProcessSettings {
    ProcessSettings {
        region: Some("us-east-1".to_owned()),
        max_decompressed_bytes: FUZZ_LIMIT,
        ..ProcessSettings::default()
    }
}

fn processor() -> &'static Processor {
    static P: OnceLock<Processor> = OnceLock::new();
    P.get_or_init(|| Processor::new(settings()))
}

fn registry() -> &'static Registry {
    static R: OnceLock<Registry> = OnceLock::new();
    R.get_or_init(Registry::builtin)
}

/// The Lambda event decoder and the whole of `Processor::process`. The
/// first byte picks how the rest is used: odd → as the decompressed
/// CloudWatch document (we gzip + base64 it into `awslogs.data`, so the
/// fuzzer reaches the document and event parsing), even → as the raw
/// Lambda event bytes.
pub fn decode_event(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        check_processed(data);
        return;
    };
    if mode & 1 == 1 {
        check_processed(&payload::wrap_document(rest));
    } else {
        check_processed(rest);
    }
}

/// The same pipeline streaming every CloudWatch payload in chunks of three
/// events (the path big payloads take), with a short join look-back.
fn streaming_processor() -> &'static Processor {
    static P: OnceLock<Processor> = OnceLock::new();
    P.get_or_init(|| {
        Processor::new(settings()).with_stream_options(StreamOptions {
            threshold_bytes: 0,
            chunk: ChunkLimits {
                events: 3,
                bytes: 512,
            },
            join_lookback: 2,
            resource_lookahead: 2,
            hold_bytes: StreamOptions::default().hold_bytes,
        })
    })
}

fn check_processed(event: &[u8]) {
    let out = processor().process(event, 7);
    assert_eq!(out.stats.records, out.records.len());
    // Decoding on its own agrees with the pipeline about the envelope.
    assert_eq!(
        input::decode(event, FUZZ_LIMIT).is_ok(),
        out.kind.is_some(),
        "decode and process disagree"
    );
    // The streamed path reads the same events when both read the payload.
    if let Some(streamed) = streaming_processor().process_streamed(event, 7) {
        assert_eq!(streamed.stats.records, streamed.records.len());
        if out.failures.is_empty() && streamed.failures.is_empty() {
            assert_eq!(
                streamed.stats.log_events, out.stats.log_events,
                "log events"
            );
            assert_eq!(
                streamed.stats.control_messages_skipped, out.stats.control_messages_skipped,
                "control messages"
            );
        }
    }
}

/// Every parser on one message (lossy UTF-8, as RDS text arrives), and
/// its `join` on the message split at U+001E into several events: every
/// event id must come out exactly once.
pub fn parse_message(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for log_type in LOG_TYPES {
        let group = if log_type == "proxy" {
            "/aws/rds/proxy/p1".to_owned()
        } else {
            format!("/aws/rds/instance/db1/{log_type}")
        };
        let parser = registry().for_source(&SourceInfo::from_log_group(&group));
        let _ = parser.parse(&text);
        let _ = parser.split(&text);
        let entries: Vec<Entry> = text
            .split('\u{1e}')
            .enumerate()
            .map(|(i, part)| Entry {
                event_ids: vec![i.to_string()].into(),
                cloudwatch_timestamp_ms: i as i64,
                body: part.to_owned(),
                parsed: parser.parse(part),
                part: None,
            })
            .collect();
        let n = entries.len();
        let mut joined = parser.join(entries);
        // Statement enrichment (redaction, fingerprint, id) runs on every entry.
        for entry in &mut joined {
            rdsf_core::sql::enrich_entry(entry, &Redactor::builtin());
            // The pipeline appends these without checking for its own keys.
            let attrs = &entry.parsed.attributes;
            for (i, (k, _)) in attrs.0.iter().enumerate() {
                assert!(!keys::owned_by_pipeline(k), "{log_type}: parser wrote {k}");
                assert!(
                    attrs.0[..i].iter().all(|(seen, _)| seen != k),
                    "{log_type}: {k} twice"
                );
            }
            if let Some(id) = entry
                .parsed
                .attributes
                .get_str(keys::DB_QUERY_FINGERPRINT_ID)
            {
                assert!(
                    id.len() == 16 && id.bytes().all(|c| c.is_ascii_hexdigit()),
                    "{id}"
                );
            }
        }
        let mut ids: Vec<usize> = joined
            .iter()
            .flat_map(|e| e.event_ids.iter().map(|id| id.parse::<usize>().unwrap()))
            .collect();
        ids.sort_unstable();
        assert_eq!(
            ids,
            (0..n).collect::<Vec<_>>(),
            "{log_type}: join lost or repeated an event id"
        );
    }
}

/// The EventBridge RDS event decoder and enrichment: the input as a whole
/// event, and as the `detail` of an otherwise valid `aws.rds` event.
pub fn rds_event(data: &[u8]) {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else {
        let _ = input::decode(data, FUZZ_LIMIT);
        return;
    };
    let _ = input::eventbridge::decode(v.clone());
    check_processed(data);
    let wrapped = serde_json::json!({
        "version": "0",
        "id": "fuzz-event",
        "detail-type": "RDS DB Instance Event",
        "source": "aws.rds",
        "account": "123456789012",
        "time": "2024-01-01T00:00:00Z",
        "region": "us-east-1",
        "resources": ["arn:aws:rds:us-east-1:123456789012:db:db1"],
        "detail": v,
    });
    let bytes = serde_json::to_vec(&wrapped).unwrap();
    check_processed(&bytes);
}

/// Reads a record out of fuzz bytes: 8 bytes of timestamp, 1 of severity,
/// then 0xFF-separated chunks: body, id, source identifier, log type, then
/// (key, value) pairs whose value's first byte picks its type. Keys get a
/// `fuzz.` prefix, as every real attribute key is namespaced. Returns the
/// record's resource beside it.
pub fn record_from_bytes(data: &[u8]) -> (Resource, Record) {
    let mut ts = [0u8; 8];
    let n = data.len().min(8);
    ts[..n].copy_from_slice(&data[..n]);
    let timestamp_ns = i64::from_le_bytes(ts);
    let sev = data.get(8).copied().unwrap_or(9) % 25;
    let rest = data.get(9..).unwrap_or(&[]);
    let mut chunks = rest.split(|&b| b == 0xff).map(String::from_utf8_lossy);
    let mut next = || chunks.next().map(Cow::into_owned).unwrap_or_default();
    let body = next();
    let id = next();
    let source_id = next();
    let log_type = next();
    let mut resource = Attributes::new();
    if !source_id.is_empty() {
        resource.insert(keys::RDS_SOURCE_IDENTIFIER, source_id);
    }
    if !log_type.is_empty() {
        resource.insert(keys::RDS_LOG_TYPE, log_type);
    }
    let mut attributes = Attributes::new();
    loop {
        let (k, v) = (next(), next());
        if k.is_empty() && v.is_empty() {
            break;
        }
        let value = match v.bytes().next().unwrap_or(0) % 6 {
            0 => Value::from(v),
            1 => Value::Int(v.len() as i64 * if v.len() % 2 == 0 { 1 } else { -7919 }),
            2 => Value::Double(f64::from_bits(
                v.bytes().fold(0u64, |a, b| a.rotate_left(8) ^ u64::from(b)),
            )),
            3 => Value::Bool(v.len() % 2 == 0),
            4 => Value::Array(v.split(',').map(Value::from).collect()),
            _ => {
                // An RDS event record (also gets an EventPack).
                attributes.insert(keys::RDS_EVENT_ID, v);
                continue;
            }
        };
        attributes.insert(format!("fuzz.{k}"), value);
    }
    let record = Record {
        timestamp_ns,
        observed_timestamp_ns: 0,
        severity: Severity {
            text: Cow::Owned(Severity::band(sev).to_owned()),
            number: sev,
        },
        body,
        attributes,
        id,
    };
    (Arc::new(resource), record)
}

/// Record → WhaTap frames → the independent test decoder
/// (`rdsf_testkit::whatap`): every field must come back.
pub fn whatap_roundtrip(data: &[u8]) {
    let (resource, record) = record_from_bytes(data);
    let r = RecordRef {
        resource: &resource,
        record: &record,
    };
    let m = Mapping {
        pcode: 42,
        license_hash: hash::hash64_str("fuzz-licence"),
        log_category: None,
        event_category: None,
        event_pack: true,
    };
    let mut out = Vec::new();
    let frames = m.encode(&r, &mut out);
    let mut at = 0;
    let mut packs = Vec::new();
    while at < out.len() {
        assert!(out.len() - at >= 22, "truncated frame header");
        let h = &out[at..at + 22];
        assert_eq!((h[0], h[1]), (10, 0), "net source / version");
        assert_eq!(i64::from_be_bytes(h[2..10].try_into().unwrap()), 42);
        assert_eq!(
            i64::from_be_bytes(h[10..18].try_into().unwrap()),
            m.license_hash
        );
        let len = i32::from_be_bytes(h[18..22].try_into().unwrap()) as usize;
        at += 22;
        assert!(at + len <= out.len(), "frame length past the end");
        packs.push(decode_pack(&out[at..at + len]));
        at += len;
    }
    assert_eq!(packs.len(), frames);
    let oname = mapping::oname(&r);
    let Pack::Log(log) = &packs[0] else {
        panic!("first frame is not a LogSinkPack");
    };
    assert_eq!(log.content, r.body);
    assert_eq!(log.head.pcode, 42);
    assert_eq!(log.head.oid, hash::hash_str(oname));
    assert_eq!(log.head.time, r.timestamp_ns.div_euclid(1_000_000));
    assert_eq!(
        log.tag(mapping::TAG_ONAME),
        Some(&Val::Text(oname.to_owned()))
    );
    let event_id = r.attributes.get_str(keys::RDS_EVENT_ID);
    let category = match (event_id, r.resource.get_str(keys::RDS_LOG_TYPE)) {
        (Some(_), _) => mapping::EVENT_CATEGORY.to_owned(),
        (None, Some(t)) => format!("rds-{t}"),
        (None, None) => mapping::GENERIC_LOG_CATEGORY.to_owned(),
    };
    assert_eq!(log.category, category);
    assert_eq!(
        log.field(mapping::FIELD_SEVERITY_TEXT),
        Some(&Val::Text(r.severity.text.to_string()))
    );
    assert_eq!(
        log.field(mapping::FIELD_SEVERITY_NUMBER),
        Some(&Val::Dec(i64::from(r.severity.number)))
    );
    for (k, v) in r.attributes.iter() {
        let got = log.field(k).unwrap_or_else(|| panic!("field {k} missing"));
        let ok = match (v, got) {
            (Value::Str(a), Val::Text(b)) => a == b,
            (Value::Int(a), Val::Dec(b)) => a == b,
            (Value::Double(a), Val::Double(b)) => {
                a.to_bits() == b.to_bits() || (a.is_nan() && b.is_nan())
            }
            (Value::Bool(a), Val::Bool(b)) => a == b,
            (Value::Array(items), Val::Text(b)) => {
                let joined: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
                joined.join(mapping::ARRAY_SEPARATOR) == *b
            }
            _ => false,
        };
        assert!(ok, "field {k}: {v:?} came back as {got:?}");
    }
    assert_eq!(
        log.fields.len(),
        r.attributes.len() + 2,
        "unexpected extra fields"
    );
    match event_id {
        Some(id) => {
            assert_eq!(frames, 2, "an RDS event record also gets an EventPack");
            let Pack::Event(ev) = &packs[1] else {
                panic!("second frame is not an EventPack");
            };
            assert_eq!(ev.message, r.body);
            assert_eq!(ev.title, format!("{id} on {oname}"));
            assert_eq!(ev.level, mapping::level_for(r.severity.number));
            assert_eq!(ev.attr(mapping::ATTR_EVENT_ID), Some(id));
        }
        None => assert_eq!(frames, 1),
    }
}
