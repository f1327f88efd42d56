//! Records → Loki push bodies. Pure: no I/O, so it is tested offline.
//!
//! Each record becomes one entry: its own (the database's) timestamp in ns,
//! the message as the line, and every attribute not promoted to a label as
//! structured metadata. Records are grouped into streams by their label
//! set: `service_name` (the resource's `service.name`, else
//! `rds-forwarder`) plus the configured keys the record has. Loki names
//! must match `[a-zA-Z_][a-zA-Z0-9_]*`, so every other character becomes
//! `_` (`aws.rds.log_type` → `aws_rds_log_type`), as Loki's own OTLP
//! ingestion does.

use std::collections::BTreeMap;
use std::io::Write;

use flate2::write::GzEncoder;
use prost::Message;

use super::Encoding;
use rdsf_core::record::{self, keys, ResourceRecords, Value};
use rdsf_core::severity::Severity;

/// The `service_name` label of records whose resource has no `service.name`
/// (Loki would otherwise file them under `unknown_service`).
pub const DEFAULT_SERVICE_NAME: &str = "rds-forwarder";

/// Loki's `logproto` push messages (grafana/loki `pkg/push/push.proto`),
/// declared by hand: the only ones we need, with the field numbers of the
/// `.proto` file. Public so tests decode what we send with them.
pub mod proto {
    /// `logproto.PushRequest`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct PushRequest {
        #[prost(message, repeated, tag = "1")]
        pub streams: Vec<StreamAdapter>,
    }

    /// `logproto.StreamAdapter`: labels in Prometheus text form
    /// (`{a="b", c="d"}`) and the stream's entries. `hash` (3) is Loki-internal.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct StreamAdapter {
        #[prost(string, tag = "1")]
        pub labels: String,
        #[prost(message, repeated, tag = "2")]
        pub entries: Vec<EntryAdapter>,
    }

    /// `logproto.EntryAdapter`. `parsed` (4) is filled by Loki, not by clients.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct EntryAdapter {
        #[prost(message, optional, tag = "1")]
        pub timestamp: Option<Timestamp>,
        #[prost(string, tag = "2")]
        pub line: String,
        #[prost(message, repeated, tag = "3")]
        pub structured_metadata: Vec<LabelPairAdapter>,
    }

    /// `logproto.LabelPairAdapter`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct LabelPairAdapter {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub value: String,
    }

    /// `google.protobuf.Timestamp`.
    #[derive(Clone, Copy, PartialEq, prost::Message)]
    pub struct Timestamp {
        #[prost(int64, tag = "1")]
        pub seconds: i64,
        #[prost(int32, tag = "2")]
        pub nanos: i32,
    }
}

/// One entry before serialization.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub timestamp_ns: i64,
    pub line: String,
    /// Sanitized names, in record order (resource, attributes, then ours).
    pub metadata: Vec<(String, String)>,
}

/// A stream: its label pairs (sanitized, sorted by name) and entries.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    pub labels: Vec<(String, String)>,
    pub entries: Vec<Entry>,
}

/// `name` as a valid Loki label name: every character outside
/// `[a-zA-Z0-9_]` becomes `_`, and a leading digit gets a `_` in front.
pub fn label_name(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 1);
    if name.is_empty() || name.starts_with(|c: char| c.is_ascii_digit()) {
        out.push('_');
    }
    out.extend(name.chars().map(|c| {
        if c.is_ascii_alphanumeric() || c == '_' {
            c
        } else {
            '_'
        }
    }));
    out
}

/// A value as Loki text: scalars as written, arrays comma-joined (the
/// one-element `aws.log.group.names` reads as the group's name).
fn text(value: &Value) -> String {
    match value {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Double(d) => d.to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>().join(","),
    }
}

/// The `level` Loki reads into `detected_level`: OpenTelemetry's band in
/// lower case (`info`, `warn`, …), so every engine's words filter alike.
fn level(severity: &Severity) -> Option<&'static str> {
    Some(match Severity::band(severity.number) {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "INFO" => "info",
        "WARN" => "warn",
        "ERROR" => "error",
        "FATAL" => "fatal",
        _ => return None,
    })
}

/// Groups the records of `batch` into streams by label set (`label_keys` are record
/// keys, looked up in the resource, then the attributes). Streams come
/// sorted by their labels and entries in record order, so the same records
/// always give the same body.
pub fn streams(batch: &[ResourceRecords<'_>], label_keys: &[String]) -> Vec<Stream> {
    let mut by_labels: BTreeMap<Vec<(String, String)>, Vec<Entry>> = BTreeMap::new();
    for r in record::flatten(batch) {
        let mut labels: Vec<(String, String)> = Vec::with_capacity(label_keys.len() + 1);
        let mut add_label = |name: String, value: String| {
            // An empty value is no label at all in Loki; the first of two
            // keys that sanitize to one name wins.
            if !value.is_empty() && !labels.iter().any(|(n, _)| *n == name) {
                labels.push((name, value));
            }
        };
        let service = r
            .resource
            .get(keys::SERVICE_NAME)
            .map(text)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| DEFAULT_SERVICE_NAME.to_owned());
        add_label("service_name".to_owned(), service);
        for key in label_keys {
            if let Some(v) = r.resource.get(key).or_else(|| r.attributes.get(key)) {
                add_label(label_name(key), text(v));
            }
        }
        labels.sort();

        let promoted = |k: &str| k == keys::SERVICE_NAME || label_keys.iter().any(|l| l == k);
        let mut metadata: Vec<(String, String)> = Vec::new();
        let mut add_meta = |name: String, value: String| {
            if !value.is_empty()
                && !metadata.iter().any(|(n, _)| *n == name)
                && !labels.iter().any(|(n, _)| *n == name)
            {
                metadata.push((name, value));
            }
        };
        for (k, v) in r.resource.iter().chain(r.attributes.iter()) {
            if !promoted(k) {
                add_meta(label_name(k), text(v));
            }
        }
        if let Some(level) = level(&r.severity) {
            add_meta("level".to_owned(), level.to_owned());
        }
        add_meta("severity_text".to_owned(), r.severity.text.to_string());
        add_meta(label_name(keys::LOG_RECORD_UID.as_str()), r.id.clone());
        add_meta(
            "observed_timestamp".to_owned(),
            r.observed_timestamp_ns.max(0).to_string(),
        );
        by_labels.entry(labels).or_default().push(Entry {
            timestamp_ns: r.timestamp_ns.max(0),
            line: r.body.clone(),
            metadata,
        });
    }
    by_labels
        .into_iter()
        .map(|(labels, entries)| Stream { labels, entries })
        .collect()
}

/// Labels in the Prometheus text form `logproto` carries:
/// `{a="b", c="d"}`, values escaped as Go's `strconv.Quote` reads them.
pub fn prometheus_labels(labels: &[(String, String)]) -> String {
    let mut out = String::from("{");
    for (i, (name, value)) in labels.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        out.push_str(name);
        out.push_str("=\"");
        for c in value.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '"' => out.push_str("\\\""),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
                c => out.push(c),
            }
        }
        out.push('"');
    }
    out.push('}');
    out
}

/// The protobuf `PushRequest` for `streams`.
pub fn push_request(streams: &[Stream]) -> proto::PushRequest {
    proto::PushRequest {
        streams: streams
            .iter()
            .map(|s| proto::StreamAdapter {
                labels: prometheus_labels(&s.labels),
                entries: s
                    .entries
                    .iter()
                    .map(|e| proto::EntryAdapter {
                        timestamp: Some(proto::Timestamp {
                            seconds: e.timestamp_ns.div_euclid(1_000_000_000),
                            nanos: e.timestamp_ns.rem_euclid(1_000_000_000) as i32,
                        }),
                        line: e.line.clone(),
                        structured_metadata: e
                            .metadata
                            .iter()
                            .map(|(name, value)| proto::LabelPairAdapter {
                                name: name.clone(),
                                value: value.clone(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// The push API's JSON form (uncompressed):
/// `{"streams":[{"stream":{…},"values":[["<ns>","<line>",{…}]]}]}`.
pub fn json_body(streams: &[Stream]) -> Vec<u8> {
    use serde_json::{Map, Value as J};
    let object = |pairs: &[(String, String)]| {
        J::Object(
            pairs
                .iter()
                .map(|(k, v)| (k.clone(), J::String(v.clone())))
                .collect::<Map<_, _>>(),
        )
    };
    let streams: Vec<J> = streams
        .iter()
        .map(|s| {
            let values: Vec<J> = s
                .entries
                .iter()
                .map(|e| {
                    let mut v = vec![
                        J::String(e.timestamp_ns.to_string()),
                        J::String(e.line.clone()),
                    ];
                    if !e.metadata.is_empty() {
                        v.push(object(&e.metadata));
                    }
                    J::Array(v)
                })
                .collect();
            serde_json::json!({ "stream": object(&s.labels), "values": values })
        })
        .collect();
    // Serializing a Value into a Vec cannot fail.
    serde_json::to_vec(&serde_json::json!({ "streams": streams })).expect("JSON into memory")
}

/// Records → the HTTP body for `encoding`: snappy (block format) protobuf,
/// or gzip JSON.
pub fn encode(batch: &[ResourceRecords<'_>], label_keys: &[String], encoding: Encoding) -> Vec<u8> {
    let streams = streams(batch, label_keys);
    match encoding {
        Encoding::Protobuf => {
            let raw = push_request(&streams).encode_to_vec();
            // Compressing into memory cannot fail (the input is far below
            // snappy's 4 GiB block limit: batches are bounded in bytes).
            snap::raw::Encoder::new()
                .compress_vec(&raw)
                .expect("snappy into memory")
        }
        Encoding::Json => {
            let raw = json_body(&streams);
            let mut gz = GzEncoder::new(
                Vec::with_capacity(raw.len() / 4 + 64),
                flate2::Compression::fast(),
            );
            gz.write_all(&raw).expect("gzip into memory");
            gz.finish().expect("gzip into memory")
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use rdsf_core::record::{Attributes, Record, RecordSet};

    fn record(
        resource: &Arc<Attributes>,
        ts: i64,
        body: &str,
        sev: Severity,
    ) -> (Arc<Attributes>, Record) {
        let mut attributes = Attributes::new();
        attributes.insert(keys::PROCESS_PID, 42i64);
        attributes.insert(keys::DB_QUERY_TEXT, "SELECT 1");
        let record = Record {
            timestamp_ns: ts,
            observed_timestamp_ns: ts + 5,
            severity: sev,
            body: body.to_owned(),
            attributes,
            id: format!("id-{ts}"),
        };
        (resource.clone(), record)
    }

    fn resource(id: &str, log_type: &str) -> Arc<Attributes> {
        let mut r = Attributes::new();
        r.insert(keys::CLOUD_ACCOUNT_ID, "123456789012");
        r.insert(keys::CLOUD_REGION, "eu-west-1");
        r.insert(
            keys::AWS_LOG_GROUP_NAMES,
            Value::Array(vec![Value::from(
                format!("/aws/rds/instance/{id}/{log_type}").as_str(),
            )]),
        );
        r.insert(keys::RDS_SOURCE_IDENTIFIER, id);
        r.insert(keys::RDS_LOG_TYPE, log_type);
        r.insert(keys::DB_SYSTEM_NAME, "postgresql");
        Arc::new(r)
    }

    fn default_keys() -> Vec<String> {
        super::super::DEFAULT_LABELS
            .split(',')
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn label_names_are_sanitized() {
        assert_eq!(label_name("aws.rds.log_type"), "aws_rds_log_type");
        assert_eq!(label_name("k8s-pod/name"), "k8s_pod_name");
        assert_eq!(label_name("1st"), "_1st");
        assert_eq!(label_name("é"), "_");
        assert_eq!(label_name(""), "_");
        assert_eq!(label_name("Already_ok9"), "Already_ok9");
    }

    #[test]
    fn records_group_into_streams_by_label_set() {
        let a = resource("db-a", "postgresql");
        let b = resource("db-b", "postgresql");
        let records: RecordSet = vec![
            record(&b, 3, "b1", Severity::info()),
            record(&a, 1, "a1", Severity::new_static("ERROR", 17)),
            record(&b, 2, "b2", Severity::info()),
            // Same contents, another Arc: the same stream.
            record(&resource("db-a", "postgresql"), 4, "a2", Severity::info()),
        ]
        .into_iter()
        .collect();
        let s = streams(&records.all_groups(), &default_keys());
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[0].labels,
            [
                ("aws_rds_log_type", "postgresql"),
                ("aws_rds_source_identifier", "db-a"),
                ("cloud_region", "eu-west-1"),
                ("db_system_name", "postgresql"),
                ("service_name", "rds-forwarder"),
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let lines: Vec<Vec<&str>> = s
            .iter()
            .map(|s| s.entries.iter().map(|e| e.line.as_str()).collect())
            .collect();
        assert_eq!(lines, [vec!["a1", "a2"], vec!["b1", "b2"]]);
        let e = &s[0].entries[0];
        assert_eq!(e.timestamp_ns, 1);
        let meta: Vec<(&str, &str)> = e
            .metadata
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            meta,
            [
                ("cloud_account_id", "123456789012"),
                ("aws_log_group_names", "/aws/rds/instance/db-a/postgresql"),
                ("process_pid", "42"),
                ("db_query_text", "SELECT 1"),
                ("level", "error"),
                ("severity_text", "ERROR"),
                ("log_record_uid", "id-1"),
                ("observed_timestamp", "6"),
            ]
        );
    }

    #[test]
    fn service_name_attributes_and_empty_values() {
        let mut res = (*resource("db-a", "error")).clone();
        res.insert(keys::SERVICE_NAME, "orders-db");
        res.insert(keys::CLOUD_REGION, "");
        let res = Arc::new(res);
        let (res, mut r) = record(&res, 1, "x", Severity::info());
        r.attributes.insert("db.postgresql.event", "checkpoint");
        let keys = vec!["cloud.region".to_owned(), "db.postgresql.event".to_owned()];
        let s = streams(&RecordSet::of(res, vec![r]).all_groups(), &keys);
        assert_eq!(
            s[0].labels,
            [
                ("db_postgresql_event", "checkpoint"),
                ("service_name", "orders-db")
            ]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
        );
        let names: Vec<&str> = s[0].entries[0]
            .metadata
            .iter()
            .map(|(k, _)| k.as_str())
            .collect();
        // Promoted keys are not repeated as metadata; the empty region is dropped.
        assert!(!names.contains(&"db_postgresql_event") && !names.contains(&"service_name"));
        assert!(!names.contains(&"cloud_region"));
        assert!(names.contains(&"aws_rds_source_identifier"));
    }

    #[test]
    fn prometheus_label_text_is_escaped() {
        let labels = [
            ("a".to_owned(), "x\"y\\z\nw".to_owned()),
            ("b".to_owned(), "plain".to_owned()),
        ];
        assert_eq!(prometheus_labels(&labels), r#"{a="x\"y\\z\nw", b="plain"}"#);
    }

    #[test]
    fn bodies_are_deterministic_and_decode() {
        let a = resource("db-a", "postgresql");
        let ts = 1_764_547_200_123_456_789;
        let records: RecordSet = vec![
            record(&a, ts, "line one", Severity::info()),
            record(&a, ts + 1, "line two", Severity::info()),
        ]
        .into_iter()
        .collect();
        let keys = default_keys();
        let one = encode(&records.all_groups(), &keys, Encoding::Protobuf);
        assert_eq!(one, encode(&records.all_groups(), &keys, Encoding::Protobuf));
        let raw = snap::raw::Decoder::new().decompress_vec(&one).unwrap();
        let req = proto::PushRequest::decode(&raw[..]).unwrap();
        assert_eq!(req.streams.len(), 1);
        let e = &req.streams[0].entries[0];
        assert_eq!(
            e.timestamp,
            Some(proto::Timestamp {
                seconds: 1_764_547_200,
                nanos: 123_456_789
            })
        );
        assert_eq!(e.line, "line one");
        assert!(req.streams[0]
            .labels
            .contains(r#"aws_rds_source_identifier="db-a""#));

        let json = json_body(&streams(&records.all_groups(), &keys));
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        let values = &v["streams"][0]["values"];
        assert_eq!(values[0][0], "1764547200123456789");
        assert_eq!(values[1][1], "line two");
        assert_eq!(values[0][2]["level"], "info");
        assert_eq!(v["streams"][0]["stream"]["service_name"], "rds-forwarder");
    }
}
