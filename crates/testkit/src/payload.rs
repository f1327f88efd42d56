//! Builds CloudWatch Logs subscription Lambda events
//! (`{"awslogs":{"data": base64(gzip(JSON))}}`) from messages, and the
//! synthetic PostgreSQL payload issue 7 benchmarks: N lines of
//! `2024-01-01 00:00:SS UTC:10.0.0.N(5432):app@db:[PID]:LOG:  duration: X ms  statement: SELECT * FROM t WHERE id = N`
//! in `/aws/rds/instance/mydb/postgresql` (10,000 lines: 2.29 MB of JSON).
//!
//! Written with base64 + flate2 + serde_json directly (not the crate's own
//! `wrap`), so the input does not depend on the code under test. Shared by
//! the benchmarks, the property tests and the fuzz seeds via `#[path]`.

use std::io::Write;

use base64::Engine as _;

/// The log group of the synthetic payload.
pub const PG_GROUP: &str = "/aws/rds/instance/mydb/postgresql";
pub const PG_STREAM: &str = "mydb.0";
/// 2024-01-01T00:00:00Z in Unix ms.
pub const PG_EPOCH_MS: i64 = 1_704_067_200_000;

/// One CloudWatch log event as the subscription document carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct CwEvent {
    pub id: String,
    pub timestamp_ms: i64,
    pub message: String,
}

/// The subscription document (already decompressed), as CloudWatch writes
/// it: compact, keys in CloudWatch's order (which gzip notices: an event's
/// timestamp digits recur in the next event's id).
pub fn document_json(owner: &str, group: &str, stream: &str, events: &[CwEvent]) -> String {
    let s = |v: &str| serde_json::Value::from(v).to_string();
    let mut out = format!(
        "{{\"messageType\":\"DATA_MESSAGE\",\"owner\":{},\"logGroup\":{},\"logStream\":{},\"subscriptionFilters\":[\"rds-forwarder\"],\"logEvents\":[",
        s(owner),
        s(group),
        s(stream)
    );
    for (i, e) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&format!(
            "{{\"id\":{},\"timestamp\":{},\"message\":{}}}",
            s(&e.id),
            e.timestamp_ms,
            s(&e.message)
        ));
    }
    out.push_str("]}");
    out
}

/// `bytes` gzip'd at level 6, as CloudWatch Logs compresses.
pub fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(bytes).expect("gzip into a Vec");
    gz.finish().expect("gzip into a Vec")
}

/// Standard base64, as AWS sends data.
pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Wraps decompressed document bytes as a Lambda event (gzip level 6, as
/// CloudWatch Logs compresses).
pub fn wrap_document(json: &[u8]) -> Vec<u8> {
    let data = base64(&gzip(json));
    format!("{{\"awslogs\":{{\"data\":\"{data}\"}}}}").into_bytes()
}

/// A Lambda event holding one document with `events`.
pub fn lambda_event(owner: &str, group: &str, stream: &str, events: &[CwEvent]) -> Vec<u8> {
    wrap_document(document_json(owner, group, stream, events).as_bytes())
}

/// A 56-digit CloudWatch-style event id (CloudWatch ids are decimal text).
pub fn event_id(timestamp_ms: i64, seq: u64) -> String {
    format!("37{:0>22}{:0>32}", timestamp_ms, seq)
}

/// The `n` synthetic PostgreSQL events, deterministic: line `i` is at
/// second `i % 60` from client `10.0.0.{i % 254 + 1}`, backend PID
/// `10000 + i % 64`, a duration drawn from a fixed LCG (0–99.999 ms) and
/// `id = i`. 10,000 lines make 2.29 MB of document JSON, which zlib at
/// level 6 (CloudWatch's gzip) packs into 272 KB of base64 — the ~266 KB
/// issue 7 quotes for the payload other forwarders were measured on.
/// (flate2, used here on its zlib-rs backend, packs the same JSON tighter,
/// into ~223 KB; miniz_oxide, its backend before issue 17, into ~218 KB; the
/// work after inflating is the same.)
pub fn pg_duration_events(n: usize) -> Vec<CwEvent> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    (0..n)
        .map(|i| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let micros = (state >> 33) % 100_000;
            let s = (i % 60) as i64;
            let message = format!(
                "2024-01-01 00:00:{s:02} UTC:10.0.0.{}(5432):app@db:[{}]:LOG:  duration: {}.{:03} ms  statement: SELECT * FROM t WHERE id = {i}",
                i % 254 + 1,
                10_000 + i % 64,
                micros / 1000,
                micros % 1000
            );
            let ts = PG_EPOCH_MS + s * 1000;
            CwEvent {
                id: event_id(ts, i as u64),
                timestamp_ms: ts,
                message,
            }
        })
        .collect()
}

/// The synthetic payload with `n` lines.
pub fn pg_duration_payload(n: usize) -> Vec<u8> {
    lambda_event("123456789012", PG_GROUP, PG_STREAM, &pg_duration_events(n))
}

/// Events for a payload of about `target_bytes` of Lambda event (the
/// synchronous invocation limit is 6 MB): found by scaling from a sample.
pub fn pg_events_for_payload_bytes(target_bytes: usize) -> usize {
    let sample = 10_000;
    let per_event = pg_duration_payload(sample).len() as f64 / sample as f64;
    (target_bytes as f64 / per_event) as usize
}

/// The shapes issue 13 found memory unbounded on, as Lambda events, each
/// with what it is: many 1 MB events, 200 events just under CloudWatch's
/// event limit, one message as long as the default 64 MiB decompression
/// bound allows, and the biggest event the streamed reader accepts (many
/// long fields). PostgreSQL statements, so every stage (parse, fingerprint,
/// redaction, NDJSON) copies them.
pub fn hostile_memory_payloads() -> Vec<(&'static str, Vec<u8>)> {
    let statement = |i: usize, len: usize| {
        let head = format!(
            "2026-11-25 07:50:00 UTC:10.0.0.5(41000):app@shop:[{}]:LOG:  statement: SELECT ",
            4000 + i
        );
        let mut m = head.clone();
        while m.len() < len {
            m.push_str("col,");
        }
        m.truncate(len.max(head.len()));
        m
    };
    let events = |n: usize, len: usize| -> Vec<CwEvent> {
        (0..n)
            .map(|i| CwEvent {
                id: event_id(PG_EPOCH_MS, i as u64),
                timestamp_ms: PG_EPOCH_MS,
                message: statement(i, len),
            })
            .collect()
    };
    let event = |e: &[CwEvent]| lambda_event("123456789012", PG_GROUP, PG_STREAM, e);
    let mut wide = document_json("123456789012", PG_GROUP, PG_STREAM, &events(1, 100));
    let fields: Vec<String> = (0..15)
        .map(|i| format!("\"f{i}\":\"{}\"", "x".repeat(262_000)))
        .collect();
    // Into the one event's object, before its closing brace.
    let at = wide.len() - 3;
    wide.insert_str(at, &format!(",{}", fields.join(",")));
    vec![
        ("60 events of 1 MB", event(&events(60, 1 << 20))),
        ("200 events of 256 KB", event(&events(200, 262_000))),
        ("one 60 MB message", event(&events(1, 60 << 20))),
        (
            "one event of 15 fields of 256 KB",
            wrap_document(wide.as_bytes()),
        ),
    ]
}

/// The log group RDS writes Enhanced Monitoring documents to.
pub const OS_GROUP: &str = "RDSOSMetrics";

/// The three real Enhanced Monitoring documents of
/// `tests/data/enhanced-monitoring/` (MySQL 5.7, Aurora PostgreSQL 11,
/// SQL Server), as published.
pub const OS_DOCUMENTS: [&str; 3] = [
    include_str!("../../../tests/data/enhanced-monitoring/mysql-57-percona.json"),
    include_str!("../../../tests/data/enhanced-monitoring/aurora-postgresql-11-percona.json"),
    include_str!("../../../tests/data/enhanced-monitoring/sqlserver-signalfx.json"),
];

/// `json` without the whitespace between its tokens, keys in their order:
/// one line, as RDS writes a document into its log event.
pub fn compact_json(json: &str) -> String {
    let (mut out, mut in_string, mut escaped) = (String::with_capacity(json.len()), false, false);
    for c in json.chars() {
        if in_string {
            out.push(c);
            let closes = c == '"' && !escaped;
            escaped = !escaped && c == '\\';
            in_string = !closes;
        } else if !c.is_ascii_whitespace() {
            in_string = c == '"';
            out.push(c);
        }
    }
    out
}

/// A Lambda event of `n` Enhanced Monitoring documents (the three of
/// [`OS_DOCUMENTS`] in turn, compacted), one log event each, in the
/// `RDSOSMetrics` group: what the cost of a document is measured on.
pub fn os_metrics_payload(n: usize) -> Vec<u8> {
    os_payload_of(&OS_DOCUMENTS, n)
}

/// A Lambda event of `n` Enhanced Monitoring documents: `docs` in turn,
/// compacted, one log event each, in the `RDSOSMetrics` group.
pub fn os_payload_of(docs: &[&str], n: usize) -> Vec<u8> {
    let docs: Vec<String> = docs.iter().map(|d| compact_json(d)).collect();
    let events: Vec<CwEvent> = (0..n)
        .map(|i| CwEvent {
            id: event_id(PG_EPOCH_MS, i as u64),
            timestamp_ms: PG_EPOCH_MS,
            message: docs[i % docs.len()].clone(),
        })
        .collect();
    lambda_event(
        "123456789012",
        OS_GROUP,
        "db-QXZYJIL5GR3CBQ4XNCYU2AI5PE",
        &events,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compacting_keeps_every_value_and_the_key_order() {
        for doc in OS_DOCUMENTS {
            let compact = compact_json(doc);
            assert!(!compact.contains('\n'));
            let (a, b): (serde_json::Value, serde_json::Value) = (
                serde_json::from_str(doc).unwrap(),
                serde_json::from_str(&compact).unwrap(),
            );
            assert_eq!(a, b);
            let first_keys = |s: &str| {
                s.match_indices("\":")
                    .map(|(i, _)| s[..i].rsplit('"').next().unwrap().to_owned())
                    .collect::<Vec<_>>()
            };
            assert_eq!(first_keys(doc), first_keys(&compact), "key order kept");
        }
        assert_eq!(
            compact_json("{ \"a b\" : \"x \\\" y\\\\\" , \"c\":[1, 2] }"),
            "{\"a b\":\"x \\\" y\\\\\",\"c\":[1,2]}"
        );
    }
}
