//! The hand-written stdout NDJSON encoder writes exactly the bytes
//! serde_json would for the same record (issue 7: the speed-up must not
//! change the output). Runs on built-in awkward strings, no shared material.

use std::sync::Arc;

use rdsf_core::record::{Attributes, Record, RecordRef, RecordSet, Value};
use rdsf_core::severity::Severity;
use rdsf_core::time::format_rfc3339_ms;
use rdsf_sinks::stdout::{encode_ndjson, encode_ndjson_batch, write_json_str};

/// Strings every JSON writer gets wrong somewhere.
fn awkward() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "plain ascii",
        "\"",
        "\\",
        "lone \\ backslash",
        "ends with \\",
        "\"quoted\" and \\escaped\\",
        "tab\there, newline\nthere, cr\r, ff\x0c, bs\x08",
        "nul\0byte",
        "\x1f\x01\x7f del is not escaped",
        "line sep \u{2028} para sep \u{2029}",
        "non-ASCII: héllo wörld, 日本語, emoji 🦀",
        "exactly8",
        "1234567\"",
        "\"1234567",
        "12345678\n",
        "</script> & <!-- -->",
        "\u{feff}BOM",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // Every byte value below 0x80 at every offset of strings of 1 to 17
    // bytes, so the escape lands in each lane of the 8-byte word scanner, of
    // the overlapping last word that checks a tail, and of a short string.
    for len in 1..=17 {
        for c in 0u8..0x80 {
            for at in 0..len {
                let mut s = vec![b'a'; len];
                s[at] = c;
                v.push(String::from_utf8(s).unwrap());
            }
        }
    }
    // Multi-byte characters straddling word boundaries.
    for pad in 0..9 {
        v.push(format!("{}é\u{2028}\u{10ffff}\"", "x".repeat(pad)));
    }
    v
}

fn serde_str(s: &str) -> Vec<u8> {
    serde_json::to_vec(s).unwrap()
}

#[test]
fn strings_escape_exactly_like_serde_json() {
    let strings = awkward();
    for s in &strings {
        let mut buf = Vec::new();
        write_json_str(&mut buf, s);
        assert_eq!(
            String::from_utf8(buf).unwrap(),
            String::from_utf8(serde_str(s)).unwrap(),
            "{s:?}"
        );
    }
    println!(
        "ndjson_writer: {} awkward strings match serde_json",
        strings.len()
    );
}

/// What the encoder wrote before issue 7's hand-written writer: the record
/// through serde_json, field by field.
fn reference_line(r: &RecordRef<'_>) -> Vec<u8> {
    fn value(v: &Value) -> serde_json::Value {
        match v {
            Value::Str(s) => s.as_str().into(),
            Value::Int(n) => (*n).into(),
            Value::Double(d) if !d.is_finite() => serde_json::Value::Null,
            Value::Double(d) => (*d).into(),
            Value::Bool(b) => (*b).into(),
            Value::Array(items) => items.iter().map(value).collect(),
        }
    }
    fn attrs(a: &Attributes) -> Vec<u8> {
        let mut out = b"{".to_vec();
        for (i, (k, v)) in a.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.extend(serde_json::to_vec(k).unwrap());
            out.push(b':');
            out.extend(serde_json::to_vec(&value(v)).unwrap());
        }
        out.push(b'}');
        out
    }
    let mut out = Vec::new();
    out.extend(b"{\"timestamp\":");
    out.extend(serde_str(&format_rfc3339_ms(r.timestamp_ns)));
    out.extend(b",\"observed_timestamp\":");
    out.extend(serde_str(&format_rfc3339_ms(r.observed_timestamp_ns)));
    out.extend(b",\"severity_text\":");
    out.extend(serde_str(&r.severity.text));
    out.extend(b",\"severity_number\":");
    out.extend(serde_json::to_vec(&r.severity.number).unwrap());
    out.extend(b",\"body\":");
    out.extend(serde_str(&r.body));
    out.extend(b",\"attributes\":");
    out.extend(attrs(&r.attributes));
    out.extend(b",\"resource\":");
    out.extend(attrs(r.resource));
    out.extend(b"}\n");
    out
}

fn records() -> RecordSet {
    let strings = awkward();
    let mut resource = Attributes::new();
    resource.insert("cloud.region", "eu-west-1");
    resource.insert(
        "aws.log.group.names",
        Value::Array(vec!["/aws/rds/instance/db/postgresql".into()]),
    );
    resource.insert("weird \"key\"\n\u{2028}", "v");
    let resource = Arc::new(resource);
    // A second resource, interleaved: the encoder caches the last one's JSON.
    let mut other = Attributes::new();
    other.insert("cloud.region", "ap-northeast-2");
    let other = Arc::new(other);
    let doubles = [
        0.0,
        -0.0,
        1.5,
        0.1,
        1e21,
        1e-7,
        123456789.125,
        f64::MAX,
        f64::MIN_POSITIVE,
        5e-324,
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
    ];
    let times = [
        0,
        -1,
        1_704_067_205_123_456_789,
        1_704_067_205_999_999_999,
        1_704_067_206_000_000_000,
        951_782_400_000_000_000,
        i64::MIN,
        i64::MAX,
    ];
    strings
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut attributes = Attributes::new();
            attributes.insert("str", s.as_str());
            attributes.insert(s.clone(), i as i64);
            attributes.insert("neg", -(i as i64) * 1_000_000_007);
            attributes.insert("int.max", i64::MAX);
            attributes.insert("int.min", i64::MIN);
            attributes.insert("double", doubles[i % doubles.len()]);
            attributes.insert("bool", i % 2 == 0);
            attributes.insert(
                "array",
                Value::Array(vec![
                    s.as_str().into(),
                    Value::Int(1),
                    Value::Double(doubles[(i + 3) % doubles.len()]),
                    Value::Array(vec![Value::Bool(false)]),
                ]),
            );
            let of = if i % 3 == 1 {
                other.clone()
            } else {
                resource.clone()
            };
            let record = Record {
                timestamp_ns: times[i % times.len()].saturating_add((i as i64 % 7) * 1_000_003),
                observed_timestamp_ns: times[(i + 1) % times.len()],
                severity: Severity {
                    text: s.clone().into(),
                    number: (i % 25) as u8,
                },
                body: s.repeat(1 + i % 3),
                attributes,
                id: format!("id-{i}"),
            };
            (of, record)
        })
        .collect()
}

#[test]
fn records_encode_exactly_like_serde_json() {
    let records = records();
    let mut batch = Vec::new();
    encode_ndjson_batch(&records.all_groups(), &mut batch);
    let mut expected = Vec::new();
    for r in records.with_resources() {
        let want = reference_line(&r);
        let mut one = Vec::new();
        encode_ndjson(r.resource, &r, &mut one);
        assert_eq!(
            String::from_utf8_lossy(&one),
            String::from_utf8_lossy(&want),
            "record {}",
            r.id
        );
        expected.extend(want);
    }
    assert_eq!(batch, expected, "the batch encoder (cached seconds) agrees");
    // And it is valid JSON that parses back to the same values.
    for line in batch.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).expect("valid JSON");
    }
    println!(
        "ndjson_writer: {} records match serde_json byte for byte",
        records.len()
    );
}
