//! NDJSON on stdout: one JSON object per record, keys fixed by the schema
//! (`docs/schema.md`). The default sink, and the one Lambda's own log
//! capture and shell pipelines understand.

use std::io::Write;
use std::time::Instant;

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};

use super::{BoxFuture, Sink, SinkError};
use crate::record::{Attributes, Record, Value};
use crate::time::format_rfc3339_ms;

pub struct StdoutSink;

impl StdoutSink {
    pub fn new() -> Self {
        StdoutSink
    }
}

impl Default for StdoutSink {
    fn default() -> Self {
        Self::new()
    }
}

impl Sink for StdoutSink {
    fn name(&self) -> &'static str {
        "stdout"
    }

    fn send<'a>(&'a self, records: &'a [Record], _deadline: Instant) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let mut buf = Vec::with_capacity(records.len() * 512);
            for r in records {
                encode_ndjson(r, &mut buf);
            }
            let mut out = std::io::stdout().lock();
            out.write_all(&buf)
                .and_then(|()| out.flush())
                .map_err(|e| SinkError::Unavailable {
                    sink: "stdout",
                    detail: e.to_string(),
                })
        })
    }
}

/// Appends one record as a JSON line to `buf`.
pub fn encode_ndjson(record: &Record, buf: &mut Vec<u8>) {
    // Serializing our own types into a Vec cannot fail.
    serde_json::to_writer(&mut *buf, &JsonRecord(record)).expect("record serializes");
    buf.push(b'\n');
}

struct JsonRecord<'a>(&'a Record);
struct JsonAttributes<'a>(&'a Attributes);
struct JsonValue<'a>(&'a Value);

impl Serialize for JsonRecord<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(7))?;
        m.serialize_entry("timestamp", &format_rfc3339_ms(r.timestamp_ns))?;
        m.serialize_entry("observed_timestamp", &format_rfc3339_ms(r.observed_timestamp_ns))?;
        m.serialize_entry("severity_text", &r.severity.text)?;
        m.serialize_entry("severity_number", &r.severity.number)?;
        m.serialize_entry("body", &r.body)?;
        m.serialize_entry("attributes", &JsonAttributes(&r.attributes))?;
        m.serialize_entry("resource", &JsonAttributes(&r.resource))?;
        m.end()
    }
}

impl Serialize for JsonAttributes<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in self.0.iter() {
            m.serialize_entry(k, &JsonValue(v))?;
        }
        m.end()
    }
}

impl Serialize for JsonValue<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Str(v) => s.serialize_str(v),
            Value::Int(v) => s.serialize_i64(*v),
            // JSON has no NaN/inf; write them as null rather than fail.
            Value::Double(v) if !v.is_finite() => s.serialize_none(),
            Value::Double(v) => s.serialize_f64(*v),
            Value::Bool(v) => s.serialize_bool(*v),
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&JsonValue(item))?;
                }
                seq.end()
            }
        }
    }
}
