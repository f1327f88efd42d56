//! Records → OTLP protobuf bytes, written straight from the records.
//!
//! Produces exactly the bytes `prost` writes for the request
//! [`super::encode::export_request`] builds (tested byte for byte below and
//! decoded by the official Python package in `tests/otlp_decoder.rs`), but
//! without building that request first: the generated types own every key
//! and value, so the tree cost two allocations per attribute plus a second
//! walk to size it, and was most of the OTLP sink's time (issue 7). Varints
//! and field keys come from `prost::encoding`; only the message layout is
//! spelled out here, field by field in tag order as prost writes them, with
//! proto3's rule that zero scalars and empty strings are left out (but a set
//! `oneof` value or message is always written).

use std::sync::Arc;

use prost::encoding::{encode_varint, encoded_len_varint, key_len, WireType};

use super::encode::{SCOPE_NAME, SCOPE_VERSION};
use rdsf_core::record::{keys, Attributes, Record, ResourceRecords, Value};

/// Appends the `ExportLogsServiceRequest` for `batch` to `out`: one
/// `ResourceLogs` per distinct resource in first-seen order, as
/// `export_request` groups them.
pub fn encode_request(
    batch: &[ResourceRecords<'_>],
    extra_resource: &Attributes,
    out: &mut Vec<u8>,
) {
    let mut groups: Vec<(&Arc<Attributes>, Vec<&Record>)> = Vec::new();
    for group in batch {
        match groups
            .iter_mut()
            .find(|(res, _)| Arc::ptr_eq(res, group.resource) || ***res == **group.resource)
        {
            Some((_, members)) => members.extend(group.records),
            None => groups.push((group.resource, group.records.iter().collect())),
        }
    }
    // Each record's encoded length and its `log.record.uid` (looked up
    // once: the lookup scans the attributes).
    let mut record_lens: Vec<(usize, Option<&str>)> = Vec::new();
    for (resource, members) in groups {
        let resource_attrs = resource_attributes(resource, extra_resource);
        let resource_len: usize = resource_attrs
            .iter()
            .map(|(k, v)| field_len(1, kv_len(k, v)))
            .sum();
        record_lens.clear();
        record_lens.extend(members.iter().map(|r| {
            let uid = uid(r);
            (log_record_len(r, uid), uid)
        }));
        let scope_len = scope_len();
        let scope_logs_len =
            field_len(1, scope_len) + record_lens.iter().map(|(n, _)| field_len(2, *n)).sum::<usize>();
        let resource_logs_len = field_len(1, resource_len) + field_len(2, scope_logs_len);
        out.reserve(field_len(1, resource_logs_len));

        // ExportLogsServiceRequest.resource_logs = 1
        message_header(1, resource_logs_len, out);
        // ResourceLogs.resource = 1
        message_header(1, resource_len, out);
        for (k, v) in &resource_attrs {
            key_value(1, k, v, out);
        }
        // ResourceLogs.scope_logs = 2
        message_header(2, scope_logs_len, out);
        // ScopeLogs.scope = 1: InstrumentationScope { name = 1, version = 2 }
        message_header(1, scope_len, out);
        string_field(1, SCOPE_NAME, out);
        string_field(2, SCOPE_VERSION, out);
        // ScopeLogs.log_records = 2
        for (r, (len, uid)) in members.iter().zip(&record_lens) {
            message_header(2, *len, out);
            log_record(r, *uid, out);
        }
    }
}

/// The record's resource, then the `OTEL_RESOURCE_ATTRIBUTES` keys it
/// lacks, then `service.name` when neither set one.
fn resource_attributes<'a>(
    own: &'a Attributes,
    extra: &'a Attributes,
) -> Vec<(&'a str, &'a Value)> {
    static SERVICE: std::sync::OnceLock<Value> = std::sync::OnceLock::new();
    let mut attrs: Vec<(&str, &Value)> = own.iter().collect();
    attrs.extend(extra.iter().filter(|(k, _)| own.get(k).is_none()));
    if !attrs.iter().any(|(k, _)| *k == keys::SERVICE_NAME) {
        attrs.push((
            keys::SERVICE_NAME.as_str(),
            SERVICE.get_or_init(|| Value::from(SCOPE_NAME)),
        ));
    }
    attrs
}

fn scope_len() -> usize {
    string_field_len(1, SCOPE_NAME) + string_field_len(2, SCOPE_VERSION)
}

/// Whether the record gets a `log.record.uid` from its id.
fn uid(r: &Record) -> Option<&str> {
    (!r.id.is_empty() && r.attributes.get(keys::LOG_RECORD_UID).is_none()).then_some(r.id.as_str())
}

/// `uid`: [`uid`] of `r`.
fn log_record_len(r: &Record, uid: Option<&str>) -> usize {
    let mut n = 0;
    if time(r.timestamp_ns) != 0 {
        n += key_len(1) + 8;
    }
    if r.severity.number != 0 {
        n += key_len(2) + encoded_len_varint(u64::from(r.severity.number));
    }
    n += string_field_len(3, &r.severity.text);
    n += field_len(5, str_any_len(&r.body));
    n += r
        .attributes
        .iter()
        .map(|(k, v)| field_len(6, kv_len(k, v)))
        .sum::<usize>();
    if let Some(id) = uid {
        n += field_len(6, kv_str_len(keys::LOG_RECORD_UID.as_str(), id));
    }
    if time(r.observed_timestamp_ns) != 0 {
        n += key_len(11) + 8;
    }
    n
}

/// `uid`: [`uid`] of `r`.
fn log_record(r: &Record, uid: Option<&str>, out: &mut Vec<u8>) {
    let t = time(r.timestamp_ns);
    if t != 0 {
        key(1, WireType::SixtyFourBit, out);
        out.extend_from_slice(&t.to_le_bytes());
    }
    if r.severity.number != 0 {
        key(2, WireType::Varint, out);
        varint(u64::from(r.severity.number), out);
    }
    string_field(3, &r.severity.text, out);
    message_header(5, str_any_len(&r.body), out);
    string_field_always(1, &r.body, out);
    for (k, v) in r.attributes.iter() {
        key_value(6, k, v, out);
    }
    if let Some(id) = uid {
        message_header(6, kv_str_len(keys::LOG_RECORD_UID.as_str(), id), out);
        string_field(1, keys::LOG_RECORD_UID.as_str(), out);
        message_header(2, str_any_len(id), out);
        string_field_always(1, id, out);
    }
    let o = time(r.observed_timestamp_ns);
    if o != 0 {
        key(11, WireType::SixtyFourBit, out);
        out.extend_from_slice(&o.to_le_bytes());
    }
}

/// Times before 1970 are sent as 0 (unset), as `export_request` does.
fn time(ns: i64) -> u64 {
    ns.max(0) as u64
}

/// A `KeyValue` { key = 1, value = 2 } as field `tag` of its parent.
/// This and the writers below are inlined: ~25 of them a record, and the
/// calls' register saves were a third of the writer (callgrind); these two
/// `always`, as the compiler declined them under plain `#[inline]`.
/// A pair under 128 bytes (almost every one: its lengths are then all
/// one-byte varints) has its headers written as two 4-byte stores (pair
/// and key, value and string), not eight checked pushes.
#[inline(always)]
fn key_value(tag: u32, k: &str, v: &Value, out: &mut Vec<u8>) {
    // The value's length once, for both headers.
    let value_len = any_len(v);
    let len = string_field_len(1, k) + field_len(2, value_len);
    if len < 0x80 && tag < 16 && !k.is_empty() {
        let pair_key = (tag << 3 | WireType::LengthDelimited as u32) as u8;
        out.extend_from_slice(&[pair_key, len as u8, 0x0a, k.len() as u8]);
        out.extend_from_slice(k.as_bytes());
        match v {
            Value::Str(s) => {
                out.extend_from_slice(&[0x12, value_len as u8, 0x0a, s.len() as u8]);
                out.extend_from_slice(s.as_bytes());
            }
            other => {
                out.extend_from_slice(&[0x12, value_len as u8]);
                any_value(other, out);
            }
        }
        return;
    }
    message_header(tag, len, out);
    string_field(1, k, out);
    message_header(2, value_len, out);
    any_value(v, out);
}

fn kv_len(k: &str, v: &Value) -> usize {
    string_field_len(1, k) + field_len(2, any_len(v))
}

fn kv_str_len(k: &str, v: &str) -> usize {
    string_field_len(1, k) + field_len(2, str_any_len(v))
}

/// The body of an `AnyValue` (its `oneof value`). Arrays go out of line
/// ([`array_value`]), so this stays small and non-recursive enough to inline.
#[inline(always)]
fn any_value(v: &Value, out: &mut Vec<u8>) {
    match v {
        Value::Str(s) => string_field_always(1, s, out),
        Value::Bool(b) => {
            key(2, WireType::Varint, out);
            varint(u64::from(*b), out);
        }
        Value::Int(i) => {
            key(3, WireType::Varint, out);
            varint(*i as u64, out);
        }
        Value::Double(d) => {
            key(4, WireType::SixtyFourBit, out);
            out.extend_from_slice(&d.to_le_bytes());
        }
        Value::Array(items) => array_value(items, out),
    }
}

/// `ArrayValue { repeated AnyValue values = 1 }` as `AnyValue` field 5.
#[inline(never)]
fn array_value(items: &[Value], out: &mut Vec<u8>) {
    message_header(5, array_len(items), out);
    for item in items {
        message_header(1, any_len(item), out);
        any_value(item, out);
    }
}

#[inline]
fn any_len(v: &Value) -> usize {
    match v {
        Value::Str(s) => str_any_len(s),
        Value::Bool(_) => key_len(2) + 1,
        Value::Int(i) => key_len(3) + encoded_len_varint(*i as u64),
        Value::Double(_) => key_len(4) + 8,
        Value::Array(items) => field_len(5, array_len(items)),
    }
}

#[inline(never)]
fn array_len(items: &[Value]) -> usize {
    items.iter().map(|item| field_len(1, any_len(item))).sum()
}

/// An `AnyValue` holding a string: the `oneof` field is written even when empty.
fn str_any_len(s: &str) -> usize {
    field_len(1, s.len())
}

/// Key, length and `len` bytes of a length-delimited field.
fn field_len(tag: u32, len: usize) -> usize {
    key_len(tag) + encoded_len_varint(len as u64) + len
}

/// A varint, the one-byte case (every tag here, most lengths) inline:
/// prost's general loop cost ~12 instructions a call, ~160 calls a record.
#[inline]
fn varint(v: u64, out: &mut Vec<u8>) {
    if v < 0x80 {
        out.push(v as u8);
    } else {
        encode_varint(v, out);
    }
}

/// A field's key (tag and wire type), as prost's `encode_key` writes it.
#[inline]
fn key(tag: u32, wire_type: WireType, out: &mut Vec<u8>) {
    varint(u64::from(tag << 3 | wire_type as u32), out);
}

#[inline]
fn message_header(tag: u32, len: usize, out: &mut Vec<u8>) {
    key(tag, WireType::LengthDelimited, out);
    varint(len as u64, out);
}

/// A proto3 string field: left out when empty.
fn string_field_len(tag: u32, s: &str) -> usize {
    if s.is_empty() {
        0
    } else {
        field_len(tag, s.len())
    }
}

#[inline]
fn string_field(tag: u32, s: &str, out: &mut Vec<u8>) {
    if !s.is_empty() {
        string_field_always(tag, s, out);
    }
}

/// A string written even when empty (a `oneof` member).
#[inline]
fn string_field_always(tag: u32, s: &str, out: &mut Vec<u8>) {
    message_header(tag, s.len(), out);
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;
    use rdsf_core::record::RecordSet;
    use rdsf_core::severity::Severity;

    fn awkward_value(i: usize) -> Value {
        match i % 9 {
            0 => Value::Str("".into()),
            1 => Value::from("é\u{0}\"x\n".repeat(i % 4)),
            2 => Value::Int(-(i as i64) * 1_000_000_007),
            3 => Value::Int(i64::MIN),
            4 => Value::Double(if i % 2 == 0 { f64::NAN } else { -0.0 }),
            5 => Value::Bool(i % 2 == 0),
            6 => Value::Array(vec![]),
            7 => Value::Array(vec![
                Value::Int(0),
                Value::Array(vec![Value::Str("deep".into())]),
            ]),
            _ => Value::from("x".repeat(200 * i)),
        }
    }

    fn records() -> RecordSet {
        let mut res_a = Attributes::new();
        res_a.insert(keys::RDS_SOURCE_IDENTIFIER, "a");
        let res_a = Arc::new(res_a);
        let mut res_b = Attributes::new();
        res_b.insert(keys::SERVICE_NAME, "mine");
        res_b.insert("", Value::Int(1));
        let res_b = Arc::new(res_b);
        let equal_to_a = Arc::new((*res_a).clone());
        (0..60)
            .map(|i| {
                let mut attributes = Attributes::new();
                for j in 0..(i % 7) {
                    attributes.insert(format!("k{j}"), awkward_value(i + j));
                }
                if i % 11 == 0 {
                    attributes.insert(keys::LOG_RECORD_UID, "given");
                }
                // Pairs of 122 to 133 bytes: both sides of the one-byte
                // length that `key_value`'s short form needs.
                if i % 2 == 0 {
                    attributes.insert("edge", "y".repeat(112 + i % 24 / 2));
                }
                let resource = [&res_a, &res_b, &equal_to_a][i % 3].clone();
                let record = Record {
                    timestamp_ns: [0, -5, 1_700_000_000_123_000_000, i64::MAX][i % 4],
                    observed_timestamp_ns: [1, 0, i64::MIN][i % 3],
                    severity: match i % 3 {
                        0 => Severity::new_static("ERROR", 17),
                        1 => Severity::new_static("", 0),
                        _ => Severity::info(),
                    },
                    body: ["", "body", "ü\u{2028}"][i % 3].repeat(1 + i % 5),
                    attributes,
                    id: if i % 5 == 0 {
                        String::new()
                    } else {
                        format!("id-{i}")
                    },
                };
                (resource, record)
            })
            .collect()
    }

    #[test]
    fn bytes_equal_prost_encoding_of_the_request() {
        let records = records();
        let mut extra = Attributes::new();
        extra.insert("deployment.environment", "prod");
        extra.insert(
            keys::RDS_SOURCE_IDENTIFIER,
            "ignored when the record has one",
        );
        for extra in [Attributes::new(), extra] {
            for n in [0, 1, 2, 7, records.len()] {
                let batch = records.groups(0..n);
                let want = super::super::encode::export_request(&batch, &extra).encode_to_vec();
                let mut got = Vec::new();
                encode_request(&batch, &extra, &mut got);
                assert_eq!(got, want, "{n} records");
            }
        }
    }
}
