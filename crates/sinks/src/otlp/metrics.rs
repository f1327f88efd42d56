//! Metric points → OTLP `ExportMetricsServiceRequest` (the metrics signal,
//! `POST /v1/metrics`), onto the OpenTelemetry metrics data model: one
//! `ResourceMetrics` per distinct resource, one scope, one `Metric` per
//! name (with its points). Pure: tested offline. Written through the
//! generated prost types; metrics are few next to log records, so the
//! hand-written fast path the logs take is not needed here.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::InstrumentationScope;
use opentelemetry_proto::tonic::metrics::v1::{
    metric, number_data_point, AggregationTemporality, Gauge, Histogram, HistogramDataPoint,
    Metric, NumberDataPoint, ResourceMetrics, ScopeMetrics, Sum,
};
use prost::Message;

use super::encode::{compress, key_values, resource, SCOPE_NAME, SCOPE_VERSION};
use super::{Compression, Protocol};
use rdsf_core::metric::{Kind, MetricPoint, Number, Temporality};
use rdsf_core::record::Attributes;

/// Builds the request; `extra_resource` (from `OTEL_RESOURCE_ATTRIBUTES`)
/// fills in keys a point's resource lacks, as for logs.
pub fn export_request(
    points: &[MetricPoint],
    extra_resource: &Attributes,
) -> ExportMetricsServiceRequest {
    let mut groups: Vec<(&Arc<Attributes>, Vec<Metric>)> = Vec::new();
    for p in points {
        let g = match groups
            .iter()
            .position(|(res, _)| Arc::ptr_eq(res, &p.resource) || ***res == *p.resource)
        {
            Some(g) => g,
            None => {
                groups.push((&p.resource, Vec::new()));
                groups.len() - 1
            }
        };
        add_point(&mut groups[g].1, p);
    }
    ExportMetricsServiceRequest {
        resource_metrics: groups
            .into_iter()
            .map(|(res, metrics)| ResourceMetrics {
                resource: Some(resource(res, extra_resource)),
                scope_metrics: vec![ScopeMetrics {
                    scope: Some(InstrumentationScope {
                        name: SCOPE_NAME.to_owned(),
                        version: SCOPE_VERSION.to_owned(),
                        ..Default::default()
                    }),
                    metrics,
                    schema_url: String::new(),
                }],
                schema_url: String::new(),
            })
            .collect(),
    }
}

/// Serializes and compresses: the HTTP body.
pub fn encode(
    points: &[MetricPoint],
    extra_resource: &Attributes,
    protocol: Protocol,
    compression: Compression,
) -> Vec<u8> {
    let request = export_request(points, extra_resource);
    let raw = match protocol {
        Protocol::Protobuf => request.encode_to_vec(),
        // Serializing generated message types into a Vec cannot fail.
        Protocol::Json => serde_json::to_vec(&request).expect("OTLP request serializes"),
    };
    compress(raw, compression)
}

/// Appends `p` to the metric of its name and shape, or starts one.
fn add_point(metrics: &mut Vec<Metric>, p: &MetricPoint) {
    let data = data_for(p);
    let same = metrics.iter_mut().find(|m| {
        m.name == p.name
            && m.unit == p.unit
            && std::mem::discriminant(m.data.as_ref().expect("set below"))
                == std::mem::discriminant(&data)
            && same_series_kind(m.data.as_ref(), &data)
    });
    match same {
        Some(m) => merge(m.data.as_mut().expect("set below"), data),
        None => metrics.push(Metric {
            name: p.name.clone(),
            description: p.description.to_owned(),
            unit: p.unit.to_owned(),
            data: Some(data),
            ..Default::default()
        }),
    }
}

/// Sums of different monotonicity or temporality (or histograms of
/// different temporality) are different metrics to OTLP.
fn same_series_kind(a: Option<&metric::Data>, b: &metric::Data) -> bool {
    match (a, b) {
        (Some(metric::Data::Sum(x)), metric::Data::Sum(y)) => {
            x.is_monotonic == y.is_monotonic
                && x.aggregation_temporality == y.aggregation_temporality
        }
        (Some(metric::Data::Histogram(x)), metric::Data::Histogram(y)) => {
            x.aggregation_temporality == y.aggregation_temporality
        }
        _ => true,
    }
}

fn merge(into: &mut metric::Data, from: metric::Data) {
    match (into, from) {
        (metric::Data::Gauge(a), metric::Data::Gauge(b)) => a.data_points.extend(b.data_points),
        (metric::Data::Sum(a), metric::Data::Sum(b)) => a.data_points.extend(b.data_points),
        (metric::Data::Histogram(a), metric::Data::Histogram(b)) => {
            a.data_points.extend(b.data_points)
        }
        _ => {}
    }
}

fn temporality(t: Temporality) -> i32 {
    match t {
        Temporality::Delta => AggregationTemporality::Delta as i32,
        Temporality::Cumulative => AggregationTemporality::Cumulative as i32,
    }
}

fn unix_ns(ns: i64) -> u64 {
    u64::try_from(ns).unwrap_or(0)
}

fn number_point(p: &MetricPoint, n: Number) -> NumberDataPoint {
    NumberDataPoint {
        attributes: key_values(&p.attributes),
        start_time_unix_nano: p.start_time_ns.map_or(0, unix_ns),
        time_unix_nano: unix_ns(p.time_ns),
        value: Some(match n {
            Number::Int(i) => number_data_point::Value::AsInt(i),
            Number::Double(d) => number_data_point::Value::AsDouble(d),
        }),
        ..Default::default()
    }
}

fn data_for(p: &MetricPoint) -> metric::Data {
    match &p.kind {
        Kind::Gauge(n) => metric::Data::Gauge(Gauge {
            data_points: vec![number_point(p, *n)],
        }),
        Kind::Sum {
            value,
            monotonic,
            temporality: t,
        } => metric::Data::Sum(Sum {
            data_points: vec![number_point(p, *value)],
            aggregation_temporality: temporality(*t),
            is_monotonic: *monotonic,
        }),
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            bounds,
            bucket_counts,
            temporality: t,
        } => metric::Data::Histogram(Histogram {
            data_points: vec![HistogramDataPoint {
                attributes: key_values(&p.attributes),
                start_time_unix_nano: p.start_time_ns.map_or(0, unix_ns),
                time_unix_nano: unix_ns(p.time_ns),
                count: *count,
                sum: Some(*sum),
                bucket_counts: bucket_counts.clone(),
                explicit_bounds: bounds.clone(),
                min: *min,
                max: *max,
                ..Default::default()
            }],
            aggregation_temporality: temporality(*t),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsf_core::record::Attributes;

    fn point(name: &str, kind: Kind, resource: &Arc<Attributes>, db: &str) -> MetricPoint {
        let mut attributes = Attributes::new();
        attributes.insert("db.namespace", db);
        MetricPoint {
            name: name.to_owned(),
            unit: "s",
            description: "test",
            kind,
            time_ns: 1_700_000_000_000_000_000,
            start_time_ns: Some(1_699_999_940_000_000_000),
            attributes,
            resource: resource.clone(),
        }
    }

    #[test]
    fn points_group_by_resource_then_by_metric_and_round_trip() {
        let mut a = Attributes::new();
        a.insert(rdsf_core::record::keys::RDS_SOURCE_IDENTIFIER, "db1");
        let a = Arc::new(a);
        let mut b = Attributes::new();
        b.insert(rdsf_core::record::keys::RDS_SOURCE_IDENTIFIER, "db2");
        let b = Arc::new(b);
        let hist = Kind::Histogram {
            count: 3,
            sum: 0.6,
            min: Some(0.1),
            max: Some(0.3),
            bounds: vec![0.25],
            bucket_counts: vec![2, 1],
            temporality: Temporality::Delta,
        };
        let points = [
            point("cpu", Kind::Gauge(Number::Double(12.5)), &a, "x"),
            point("cpu", Kind::Gauge(Number::Double(13.0)), &b, "x"),
            point("cpu", Kind::Gauge(Number::Int(14)), &a, "y"),
            point("dur", hist, &a, "x"),
            point(
                "calls",
                Kind::Sum {
                    value: Number::Int(7),
                    monotonic: true,
                    temporality: Temporality::Cumulative,
                },
                &a,
                "x",
            ),
        ];
        let body = encode(
            &points,
            &Attributes::new(),
            Protocol::Protobuf,
            Compression::None,
        );
        let got = ExportMetricsServiceRequest::decode(&body[..]).unwrap();
        assert_eq!(got, export_request(&points, &Attributes::new()));
        assert_eq!(got.resource_metrics.len(), 2);
        let first = &got.resource_metrics[0].scope_metrics[0].metrics;
        let names: Vec<&str> = first.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["cpu", "dur", "calls"]);
        match &first[0].data {
            Some(metric::Data::Gauge(g)) => assert_eq!(g.data_points.len(), 2),
            other => panic!("{other:?}"),
        }
        match &first[1].data {
            Some(metric::Data::Histogram(h)) => {
                let p = &h.data_points[0];
                assert_eq!((p.count, p.bucket_counts.clone()), (3, vec![2, 1]));
                assert_eq!(
                    h.aggregation_temporality,
                    AggregationTemporality::Delta as i32
                );
            }
            other => panic!("{other:?}"),
        }
        match &first[2].data {
            Some(metric::Data::Sum(s)) => assert!(s.is_monotonic),
            other => panic!("{other:?}"),
        }
        // OTLP/JSON carries the same.
        let json = encode(
            &points,
            &Attributes::new(),
            Protocol::Json,
            Compression::None,
        );
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            v["resourceMetrics"][0]["scopeMetrics"][0]["metrics"][0]["name"],
            "cpu"
        );
    }
}
