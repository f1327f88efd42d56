//! Records → OTLP `ExportLogsServiceRequest`, 1:1 onto the OpenTelemetry log
//! data model, and then to bytes (protobuf or OTLP/JSON, gzip or not). Pure:
//! no I/O, so it is tested offline.

use std::io::Write;
use std::sync::Arc;

use flate2::write::GzEncoder;
use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{
    any_value, AnyValue, ArrayValue, InstrumentationScope, KeyValue,
};
use opentelemetry_proto::tonic::logs::v1::{LogRecord, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::resource::v1::Resource as OtlpResource;
use prost::Message;

use super::{Compression, Protocol};
use rdsf_core::record::{keys, Attributes, Record, ResourceRecords, Value};

/// The instrumentation scope every record is reported under.
pub const SCOPE_NAME: &str = "rds-forwarder";
pub const SCOPE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Builds the request: one `ResourceLogs` per distinct resource, in
/// first-seen order. The batch comes grouped by resource; groups whose
/// resources are equal (two documents of one log group in a Kinesis batch)
/// share one `ResourceLogs`. `extra_resource` (from
/// `OTEL_RESOURCE_ATTRIBUTES`) fills in keys the record's resource lacks.
pub fn export_request(
    batch: &[ResourceRecords<'_>],
    extra_resource: &Attributes,
) -> ExportLogsServiceRequest {
    let mut groups: Vec<(&Arc<Attributes>, Vec<LogRecord>)> = Vec::new();
    for group in batch {
        let i = match groups
            .iter()
            .position(|(res, _)| Arc::ptr_eq(res, group.resource) || ***res == **group.resource)
        {
            Some(i) => i,
            None => {
                groups.push((group.resource, Vec::with_capacity(group.records.len())));
                groups.len() - 1
            }
        };
        groups[i].1.extend(group.records.iter().map(log_record));
    }
    ExportLogsServiceRequest {
        resource_logs: groups
            .into_iter()
            .map(|(res, log_records)| ResourceLogs {
                resource: Some(resource(res, extra_resource)),
                scope_logs: vec![ScopeLogs {
                    scope: Some(InstrumentationScope {
                        name: SCOPE_NAME.to_owned(),
                        version: SCOPE_VERSION.to_owned(),
                        ..Default::default()
                    }),
                    log_records,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

/// Serializes and compresses a request: the HTTP body.
pub fn encode_body(
    request: &ExportLogsServiceRequest,
    protocol: Protocol,
    compression: Compression,
) -> Vec<u8> {
    let raw = match protocol {
        Protocol::Protobuf => request.encode_to_vec(),
        // Serializing generated message types into a Vec cannot fail.
        Protocol::Json => serde_json::to_vec(request).expect("OTLP request serializes"),
    };
    compress(raw, compression)
}

/// The deflate level of gzip bodies. 2 rather than 1: on the 10k-line
/// payload's 7.57 MB body it sends 18% fewer bytes (581,495 against
/// 710,777) for ~39 M more instructions (~3 ms), and a Lambda pays more for
/// 129 KB of transfer than for 3 ms of 512 MB (README, "OTLP gzip level").
pub const GZIP_LEVEL: u32 = 2;

pub(super) fn compress(raw: Vec<u8>, compression: Compression) -> Vec<u8> {
    match compression {
        Compression::None => raw,
        Compression::Gzip => {
            let mut gz = GzEncoder::new(
                Vec::with_capacity(raw.len() / 4 + 64),
                flate2::Compression::new(GZIP_LEVEL),
            );
            // Writing into a Vec cannot fail.
            gz.write_all(&raw).expect("gzip into memory");
            gz.finish().expect("gzip into memory")
        }
    }
}

/// Records → body in one call. Protobuf is written straight from the
/// records ([`super::wire`], the same bytes without the message tree);
/// OTLP/JSON goes through the generated types' serde mapping.
pub fn encode(
    batch: &[ResourceRecords<'_>],
    extra_resource: &Attributes,
    protocol: Protocol,
    compression: Compression,
) -> Vec<u8> {
    match protocol {
        Protocol::Json => encode_body(
            &export_request(batch, extra_resource),
            protocol,
            compression,
        ),
        Protocol::Protobuf => {
            // `encode_request` reserves each resource's exact size: a
            // guess made here would only be grown (and copied) past.
            let mut raw = Vec::new();
            super::wire::encode_request(batch, extra_resource, &mut raw);
            compress(raw, compression)
        }
    }
}

pub(super) fn resource(own: &Attributes, extra: &Attributes) -> OtlpResource {
    let mut attributes = key_values(own);
    for (k, v) in extra.iter() {
        if own.get(k).is_none() {
            attributes.push(key_value(k, v));
        }
    }
    // OTLP receivers expect a service name; ours when nobody set one.
    if !attributes.iter().any(|kv| kv.key == keys::SERVICE_NAME.as_str()) {
        attributes.push(key_value(keys::SERVICE_NAME.as_str(), &Value::from(SCOPE_NAME)));
    }
    OtlpResource {
        attributes,
        ..Default::default()
    }
}

fn log_record(r: &Record) -> LogRecord {
    let mut attributes = key_values(&r.attributes);
    if !r.id.is_empty() && r.attributes.get(keys::LOG_RECORD_UID).is_none() {
        attributes.push(key_value(keys::LOG_RECORD_UID.as_str(), &Value::from(r.id.as_str())));
    }
    LogRecord {
        time_unix_nano: r.timestamp_ns.max(0) as u64,
        observed_time_unix_nano: r.observed_timestamp_ns.max(0) as u64,
        severity_number: i32::from(r.severity.number),
        severity_text: r.severity.text.to_string(),
        body: Some(any(&Value::from(r.body.as_str()))),
        attributes,
        ..Default::default()
    }
}

pub(super) fn key_values(a: &Attributes) -> Vec<KeyValue> {
    a.iter().map(|(k, v)| key_value(k, v)).collect()
}

fn key_value(k: &str, v: &Value) -> KeyValue {
    KeyValue {
        key: k.to_owned(),
        value: Some(any(v)),
        ..Default::default()
    }
}

fn any(v: &Value) -> AnyValue {
    let value = match v {
        Value::Str(s) => any_value::Value::StringValue(s.to_string()),
        Value::Int(i) => any_value::Value::IntValue(*i),
        Value::Double(d) => any_value::Value::DoubleValue(*d),
        Value::Bool(b) => any_value::Value::BoolValue(*b),
        Value::Array(items) => any_value::Value::ArrayValue(ArrayValue {
            values: items.iter().map(any).collect(),
        }),
    };
    AnyValue { value: Some(value) }
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;
    use rdsf_core::record::RecordSet;
    use rdsf_core::severity::Severity;

    fn record(id: &str, resource: &Arc<Attributes>) -> (Arc<Attributes>, Record) {
        let mut attributes = Attributes::new();
        attributes.insert("n", 42i64);
        attributes.insert("d", 1.5f64);
        attributes.insert("b", true);
        attributes.insert("a", Value::Array(vec!["x".into(), "y".into()]));
        let record = Record {
            timestamp_ns: 1_700_000_000_123_000_000,
            observed_timestamp_ns: 1_700_000_001_000_000_000,
            severity: Severity::new_static("ERROR", 17),
            body: format!("body {id}"),
            attributes,
            id: id.to_owned(),
        };
        (resource.clone(), record)
    }

    fn res(name: &str) -> Arc<Attributes> {
        let mut a = Attributes::new();
        a.insert(keys::RDS_SOURCE_IDENTIFIER, name);
        Arc::new(a)
    }

    #[test]
    fn one_resource_logs_per_resource_and_native_types() {
        let (a, b) = (res("a"), res("b"));
        let equal_to_a = res("a");
        let records: RecordSet = vec![
            record("1", &a),
            record("2", &b),
            record("3", &a),
            record("4", &equal_to_a),
        ]
        .into_iter()
        .collect();
        let mut extra = Attributes::new();
        extra.insert("deployment.environment", "prod");
        extra.insert(
            keys::RDS_SOURCE_IDENTIFIER,
            "ignored: the record's resource wins",
        );
        let req = export_request(&records.all_groups(), &extra);
        assert_eq!(req.resource_logs.len(), 2);
        let first = &req.resource_logs[0];
        let res_keys: Vec<(&str, String)> = first
            .resource
            .as_ref()
            .unwrap()
            .attributes
            .iter()
            .map(|kv| {
                (
                    kv.key.as_str(),
                    format!("{:?}", kv.value.as_ref().unwrap().value),
                )
            })
            .collect();
        assert_eq!(res_keys.len(), 3, "{res_keys:?}");
        assert_eq!(
            res_keys[0],
            (
                keys::RDS_SOURCE_IDENTIFIER.as_str(),
                "Some(StringValue(\"a\"))".to_owned()
            )
        );
        assert_eq!(res_keys[1].0, "deployment.environment");
        assert_eq!(res_keys[2].0, keys::SERVICE_NAME);
        let scope = &first.scope_logs[0];
        assert_eq!(scope.scope.as_ref().unwrap().name, "rds-forwarder");
        let ids: Vec<&str> = scope
            .log_records
            .iter()
            .map(|l| l.body.as_ref().unwrap())
            .map(|b| match &b.value {
                Some(any_value::Value::StringValue(s)) => s.as_str(),
                _ => "",
            })
            .collect();
        assert_eq!(ids, ["body 1", "body 3", "body 4"]);
        let l = &scope.log_records[0];
        assert_eq!(l.time_unix_nano, 1_700_000_000_123_000_000);
        assert_eq!(l.observed_time_unix_nano, 1_700_000_001_000_000_000);
        assert_eq!((l.severity_number, l.severity_text.as_str()), (17, "ERROR"));
        let attr = |k: &str| {
            l.attributes
                .iter()
                .find(|kv| kv.key == k)
                .unwrap()
                .value
                .clone()
                .unwrap()
                .value
                .unwrap()
        };
        assert_eq!(attr("n"), any_value::Value::IntValue(42));
        assert_eq!(attr("d"), any_value::Value::DoubleValue(1.5));
        assert_eq!(attr("b"), any_value::Value::BoolValue(true));
        assert!(
            matches!(attr("a"), any_value::Value::ArrayValue(ArrayValue { values }) if values.len() == 2)
        );
        assert_eq!(
            attr(keys::LOG_RECORD_UID.as_str()),
            any_value::Value::StringValue("1".into())
        );
    }

    #[test]
    fn bodies_round_trip_through_protobuf_gzip_and_json() {
        let a = res("a");
        let records: RecordSet = vec![record("1", &a)].into_iter().collect();
        let req = export_request(&records.all_groups(), &Attributes::new());
        let gz = encode_body(&req, Protocol::Protobuf, Compression::Gzip);
        let mut raw = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut raw)
            .unwrap();
        assert_eq!(ExportLogsServiceRequest::decode(&raw[..]).unwrap(), req);
        let json = encode_body(&req, Protocol::Json, Compression::None);
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let log = &v["resourceLogs"][0]["scopeLogs"][0]["logRecords"][0];
        assert_eq!(log["severityNumber"], 17);
        assert_eq!(log["body"]["stringValue"], "body 1");
    }

    /// A body well past deflate's 32 KiB window and one block (the test
    /// above is one record): what the sink sends inflates to exactly the
    /// protobuf it compressed, and is compressed.
    #[test]
    fn gzip_body_of_many_records_inflates_to_the_protobuf_bytes() {
        let (raw, gz) = many_records_bodies();
        assert!(raw.len() > 300_000, "{} bytes", raw.len());
        assert!(gz.len() < raw.len() / 4, "{} of {} bytes", gz.len(), raw.len());
        let mut inflated = Vec::new();
        flate2::read::MultiGzDecoder::new(&gz[..])
            .read_to_end(&mut inflated)
            .unwrap();
        assert!(inflated == raw, "the gzip body inflates to other bytes");
    }

    /// The sink compresses at level 2 (README, "OTLP gzip level": the
    /// level is chosen for bytes over instructions), and on PostgreSQL-like
    /// records level 2 sends at least a tenth fewer bytes than level 1.
    #[test]
    fn gzip_bodies_are_level_2_and_smaller_than_level_1() {
        let (raw, gz) = many_records_bodies();
        let at = |level: u32| {
            let mut e = GzEncoder::new(Vec::new(), flate2::Compression::new(level));
            e.write_all(&raw).unwrap();
            e.finish().unwrap()
        };
        assert!(gz == at(2), "the body is not level 2's");
        let (one, two) = (at(1).len(), at(2).len());
        assert!(two * 10 <= one * 9, "level 2: {two} bytes, level 1: {one}");
    }

    /// 3,000 PostgreSQL-like records (a body well past deflate's 32 KiB
    /// window and one block) as protobuf: (raw, what the sink gzips).
    fn many_records_bodies() -> (Vec<u8>, Vec<u8>) {
        let a = res("a");
        let records: RecordSet = (0..3_000)
            .map(|i| {
                let (res, mut r) = record(&i.to_string(), &a);
                r.body = format!(
                    "2024-01-01 00:00:{:02} UTC:10.0.{}.{}(5432):app@db:[{}]:LOG:  duration: {}.{:03} ms  statement: SELECT * FROM t{} WHERE id = {}",
                    i % 60, i % 7, i % 251, 10_000 + i, i % 97, i * 37 % 1000, i % 13, i * 7919
                );
                (res, r)
            })
            .collect();
        let batch = records.all_groups();
        let extra = Attributes::new();
        let raw = encode(&batch, &extra, Protocol::Protobuf, Compression::None);
        let gz = encode(&batch, &extra, Protocol::Protobuf, Compression::Gzip);
        (raw, gz)
    }

    /// flate2's backend, as the workspace manifest selects it: zlib-rs
    /// with `runtime_detection` (without it zlib-rs runs its scalar code
    /// and is slower than miniz_oxide: issue 7 tried that and dropped it)
    /// and no default features (they would build miniz_oxide into the
    /// binary as well, unused). README, "OTLP gzip level".
    #[test]
    fn flate2_runs_on_zlib_rs_with_runtime_detection() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let manifest = std::fs::read_to_string(root.join("Cargo.toml")).unwrap();
        let line = manifest
            .lines()
            .find(|l| l.starts_with("flate2 = "))
            .expect("flate2 in [workspace.dependencies]");
        for wanted in [
            "default-features = false",
            "\"zlib-rs\"",
            "\"runtime_detection\"",
        ] {
            assert!(line.contains(wanted), "{line:?} lacks {wanted}");
        }
        let lock = std::fs::read_to_string(root.join("Cargo.lock")).unwrap();
        assert!(lock.contains("name = \"zlib-rs\""));
        assert!(!lock.contains("name = \"miniz_oxide\""), "miniz_oxide is built again");
    }
}
