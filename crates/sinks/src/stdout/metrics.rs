//! Metric points as NDJSON, one object per point, beside the records on
//! stdout. The shape is documented in `docs/schema.md` ("Metrics"):
//! `"kind":"metric"` (log records have no `kind`), a `metric` object (name, unit, type and the value(s)), times in RFC 3339,
//! the point's attributes and its resource, keys as in the OTel model.
//! Written with serde_json: points are few next to records.

use serde_json::{json, Map, Value as Json};

use rdsf_core::metric::{Kind, MetricPoint, Number, Temporality};
use rdsf_core::record::{Attributes, Value};
use rdsf_core::time;

/// One NDJSON line per point, each ending in `\n`.
pub fn encode_batch(points: &[MetricPoint], buf: &mut Vec<u8>) {
    for p in points {
        // Serializing a Value into a Vec cannot fail.
        serde_json::to_writer(&mut *buf, &point(p)).expect("JSON into memory");
        buf.push(b'\n');
    }
}

fn point(p: &MetricPoint) -> Json {
    let mut metric = Map::new();
    metric.insert("name".into(), p.name.clone().into());
    metric.insert("unit".into(), p.unit.into());
    match &p.kind {
        Kind::Gauge(n) => {
            metric.insert("type".into(), "gauge".into());
            metric.insert("value".into(), number(*n));
        }
        Kind::Sum {
            value,
            monotonic,
            temporality: t,
        } => {
            metric.insert("type".into(), "sum".into());
            metric.insert("value".into(), number(*value));
            metric.insert("monotonic".into(), (*monotonic).into());
            metric.insert("temporality".into(), temporality(*t).into());
        }
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            bounds,
            bucket_counts,
            temporality: t,
        } => {
            metric.insert("type".into(), "histogram".into());
            metric.insert("count".into(), (*count).into());
            metric.insert("sum".into(), float(*sum));
            metric.insert("min".into(), min.map_or(Json::Null, float));
            metric.insert("max".into(), max.map_or(Json::Null, float));
            metric.insert(
                "bounds".into(),
                Json::Array(bounds.iter().copied().map(float).collect()),
            );
            metric.insert("bucket_counts".into(), json!(bucket_counts));
            metric.insert("temporality".into(), temporality(*t).into());
        }
    }
    let mut out = Map::new();
    // What tells a point's line from a record's (records carry no `kind`).
    out.insert("kind".into(), "metric".into());
    out.insert(
        "timestamp".into(),
        time::format_rfc3339_ms(p.time_ns).into(),
    );
    if let Some(start) = p.start_time_ns {
        out.insert(
            "start_timestamp".into(),
            time::format_rfc3339_ms(start).into(),
        );
    }
    out.insert("metric".into(), Json::Object(metric));
    out.insert("attributes".into(), attributes(&p.attributes));
    out.insert("resource".into(), attributes(&p.resource));
    Json::Object(out)
}

fn temporality(t: Temporality) -> &'static str {
    match t {
        Temporality::Delta => "delta",
        Temporality::Cumulative => "cumulative",
    }
}

fn number(n: Number) -> Json {
    match n {
        Number::Int(i) => i.into(),
        Number::Double(d) => float(d),
    }
}

/// JSON has no NaN or infinity: they are written as `null`.
fn float(d: f64) -> Json {
    serde_json::Number::from_f64(d).map_or(Json::Null, Json::Number)
}

fn attributes(a: &Attributes) -> Json {
    Json::Object(a.iter().map(|(k, v)| (k.to_owned(), value(v))).collect())
}

fn value(v: &Value) -> Json {
    match v {
        Value::Str(s) => s.as_str().into(),
        Value::Int(i) => (*i).into(),
        Value::Double(d) => float(*d),
        Value::Bool(b) => (*b).into(),
        Value::Array(items) => Json::Array(items.iter().map(value).collect()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn one_line_per_point_with_its_kind() {
        let mut resource = Attributes::new();
        resource.insert(rdsf_core::record::keys::RDS_SOURCE_IDENTIFIER, "db1");
        let resource = Arc::new(resource);
        let base = MetricPoint {
            name: "db.test".to_owned(),
            unit: "s",
            description: "",
            kind: Kind::Gauge(Number::Double(f64::NAN)),
            time_ns: 1_700_000_000_000_000_000,
            start_time_ns: None,
            attributes: Attributes::new(),
            resource,
        };
        let sum = MetricPoint {
            kind: Kind::Sum {
                value: Number::Int(3),
                monotonic: true,
                temporality: Temporality::Delta,
            },
            start_time_ns: Some(1_699_999_999_000_000_000),
            ..base.clone()
        };
        let mut buf = Vec::new();
        encode_batch(&[base, sum], &mut buf);
        let text = String::from_utf8(buf).unwrap();
        let lines: Vec<Json> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["metric"]["type"], "gauge");
        assert!(lines[0]["metric"]["value"].is_null(), "NaN is null");
        assert_eq!(lines[0]["timestamp"], "2023-11-14T22:13:20.000Z");
        assert_eq!(lines[0]["resource"]["aws.rds.source_identifier"], "db1");
        assert_eq!(lines[1]["metric"]["value"], 3);
        assert_eq!(lines[1]["metric"]["temporality"], "delta");
        assert_eq!(lines[1]["start_timestamp"], "2023-11-14T22:13:19.000Z");
    }
}
