//! Builds CloudWatch Logs subscription Lambda events
//! (`{"awslogs":{"data": base64(gzip(JSON))}}`) from messages, and the
//! synthetic PostgreSQL payload issue 7 benchmarks: N lines of
//! `2024-01-01 HH:MM:SS UTC:10.0.0.N(5432):app@db:[PID]:LOG:  duration: X ms  statement: SELECT * FROM t WHERE id = N`
//! in `/aws/rds/instance/mydb/postgresql` (10,000 lines ≈ 266 KB of base64).
//!
//! Written with base64 + flate2 + serde_json directly (not the crate's own
//! `wrap`), so the input does not depend on the code under test. Shared by
//! the benchmarks, the property tests and the fuzz seeds via `#[path]`.
#![allow(dead_code)]

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

/// The subscription document (already decompressed), as CloudWatch writes it.
pub fn document_json(owner: &str, group: &str, stream: &str, events: &[CwEvent]) -> String {
    let events: Vec<serde_json::Value> = events
        .iter()
        .map(|e| serde_json::json!({"id": e.id, "timestamp": e.timestamp_ms, "message": e.message}))
        .collect();
    serde_json::json!({
        "messageType": "DATA_MESSAGE",
        "owner": owner,
        "logGroup": group,
        "logStream": stream,
        "subscriptionFilters": ["rds-forwarder"],
        "logEvents": events,
    })
    .to_string()
}

/// Wraps decompressed document bytes as a Lambda event (gzip level 6, as
/// CloudWatch Logs compresses).
pub fn wrap_document(json: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
    gz.write_all(json).expect("gzip into a Vec");
    let gz = gz.finish().expect("gzip into a Vec");
    let data = base64::engine::general_purpose::STANDARD.encode(gz);
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

/// The `n` synthetic PostgreSQL events: deterministic (a fixed LCG), one
/// second apart, durations and ids varied so gzip sees realistic entropy.
pub fn pg_duration_events(n: usize) -> Vec<CwEvent> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        state >> 33
    };
    (0..n)
        .map(|i| {
            let secs = i as i64;
            let (h, m, s) = ((secs / 3600) % 24, (secs / 60) % 60, secs % 60);
            let host = 1 + next() % 254;
            let pid = 10_000 + next() % 50_000;
            let ms = next() % 2_000_000;
            let id = next() % 1_000_000;
            let message = format!(
                "2024-01-01 {h:02}:{m:02}:{s:02} UTC:10.0.0.{host}(5432):app@db:[{pid}]:LOG:  duration: {}.{:03} ms  statement: SELECT * FROM t WHERE id = {id}",
                ms / 1000,
                ms % 1000
            );
            let ts = PG_EPOCH_MS + secs * 1000;
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
