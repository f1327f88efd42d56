//! Self-monitoring as metric points for the sinks that take metrics (OTLP
//! `/v1/metrics`, WhaTap `TagCountPack`, stdout): counters as delta sums
//! over the invocation, lag and sink latency as gauges.

use std::sync::Arc;

use rdsf_core::metric::{Kind, MetricPoint, Number, Temporality};
use rdsf_core::record::{Attributes, Resource};

use super::Tally;

/// The resource of every self-monitoring point: the forwarder itself.
pub fn resource(function: &str, region: Option<&str>) -> Resource {
    let mut r = Attributes::with_capacity(4);
    r.insert("service.name", "rds-forwarder");
    r.insert("faas.name", function);
    r.insert("cloud.provider", "aws");
    if let Some(region) = region {
        r.insert("cloud.region", region);
    }
    Arc::new(r)
}

/// The points of one invocation that started at `start_ns` and ended at
/// `now_ns`.
pub fn of(tally: &Tally, resource: &Resource, start_ns: i64, now_ns: i64) -> Vec<MetricPoint> {
    tally
        .values()
        .into_iter()
        .map(|v| {
            let mut attributes = Attributes::new();
            if let (Some(split), Some(value)) = (v.def.split, &v.split) {
                attributes.insert(split.attribute(), value.as_str());
            }
            let number = Number::Int(v.value as i64);
            MetricPoint {
                name: v.def.name.to_owned(),
                unit: v.def.unit,
                description: v.def.description,
                kind: if v.def.counter {
                    Kind::Sum {
                        value: number,
                        monotonic: true,
                        temporality: Temporality::Delta,
                    }
                } else {
                    Kind::Gauge(number)
                },
                time_ns: now_ns,
                start_time_ns: v.def.counter.then_some(start_ns),
                attributes,
                resource: resource.clone(),
            }
        })
        .collect()
}
