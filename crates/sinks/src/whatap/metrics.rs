//! Metric points → TagCountPacks: what WhaTap sees of the metrics signal.
//! Pure: no I/O.
//!
//! - **Category**: one per metric family ([`category_of`]): `rds_os`
//!   (Enhanced Monitoring), `rds_query` (query metrics from the logs),
//!   `rds_error`, `rds_connection`, `rds_maintenance`; [`METRIC_CATEGORY`]
//!   (`rds_metrics`) for any other name. WhaTap's integrations name
//!   categories in snake case after their source: its Prometheus
//!   remote-write bridge sends every sample in one category `prometheus`
//!   (tag `oname` first, then the labels; the metric name is the field), its
//!   Telegraf output `telegraf_<measurement>`, its Go agent `go_runtime`.
//!   Our points carry their full OTel name, which becomes the field key as
//!   in the Prometheus bridge; one category per family keeps a family's
//!   metrics of an instance in one table (one row per tag set and time)
//!   whose tags are the family's own (a query table is keyed by
//!   fingerprint, an OS table by device or process), as Telegraf's
//!   `telegraf_cpu` / `telegraf_mem` are.
//! - **Tags** (all text, as golib's `PutTag` makes them): `oname` first, the
//!   same object name the LogSinkPacks use (the RDS source identifier
//!   `aws.rds.source_identifier`, else the log group, else
//!   `rds-forwarder`), then every resource attribute, then every point
//!   attribute, under their own keys; arrays are joined with `,`. A point
//!   attribute replaces a resource attribute of the same key (it keeps the
//!   resource's position); no attribute can replace `oname`.
//! - **Fields**: metric name → value. A gauge or a sum keeps its number type
//!   (an integer as a decimal, so counters above 2^53 stay exact; a double
//!   as a double). A histogram gives `<name>.count` (decimal), `<name>.sum`,
//!   `<name>.min` and `<name>.max` (doubles; min/max only when known); its
//!   buckets are not sent (the pack has no list value to carry them).
//! - **Grouping**: points of one category whose tag map encodes to the
//!   same bytes and whose time falls in the same millisecond (the wire's
//!   resolution) share one pack, in the order each group first appears; within a pack a repeated
//!   field key keeps its first position and takes the last value.
//! - **NaN and ±Inf** are skipped, field by field: WhaTap's charts and
//!   aggregates have no use for them and one would poison a sum or an
//!   average. A pack left with no fields is not sent.
//! - **Header**: pcode from the [`Mapping`], oid = `HashStr(oname)`, okind
//!   and onode 0, time = the point's time in ms.

use std::collections::HashMap;
use std::sync::Arc;

use super::frame::write_frame;
use super::hash;
use super::mapping::{oname_of, text_of, Mapping, TAG_ONAME};
use super::pack::Header;
use super::tagcount::TagCountPack;
use super::value::{write_decimal, write_text, Value, ValueMap, TYPE_MAP};
use rdsf_core::metric::{Kind, MetricPoint, Number};
use rdsf_core::record::Attributes;

/// The category of a metric no family below claims.
pub const METRIC_CATEGORY: &str = "rds_metrics";

/// Metric name prefix → WhaTap category (the first that matches).
pub const FAMILY_CATEGORIES: [(&str, &str); 7] = [
    ("aws.rds.os.", "rds_os"),
    ("system.", "rds_os"),
    ("process.", "rds_os"),
    ("aws.rds.query.", "rds_query"),
    ("aws.rds.log.errors", "rds_error"),
    ("aws.rds.connection.", "rds_connection"),
    ("aws.rds.postgresql.", "rds_maintenance"),
];

/// The category of a point named `name` (see the module doc).
pub fn category_of(name: &str) -> &'static str {
    FAMILY_CATEGORIES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or(METRIC_CATEGORY, |(_, category)| category)
}
/// Field key suffixes of a histogram.
pub const SUFFIX_COUNT: &str = ".count";
pub const SUFFIX_SUM: &str = ".sum";
pub const SUFFIX_MIN: &str = ".min";
pub const SUFFIX_MAX: &str = ".max";

impl Mapping {
    /// The TagCountPacks of a batch of points, grouped as the module doc
    /// says; packs without fields are left out.
    pub fn metric_packs(&self, points: &[MetricPoint]) -> Vec<TagCountPack> {
        let mut packs: Vec<TagCountPack> = Vec::new();
        let mut index: HashMap<(&'static str, Vec<u8>, i64), usize> = HashMap::new();
        // The resource's part of the tags, made once per resource: the
        // points of one document share theirs, and rebuilding a dozen tags
        // for every point was most of the cost of encoding them.
        let mut bases: HashMap<*const Attributes, ResourceTags> = HashMap::new();
        for p in points {
            let base = bases
                .entry(Arc::as_ptr(&p.resource))
                .or_insert_with(|| ResourceTags::of(&p.resource));
            let mut key = Vec::with_capacity(base.entries.len() + 64);
            base.write_tags(&p.attributes, &mut key);
            let time = p.time_ns.div_euclid(1_000_000);
            let category = category_of(&p.name);
            let at = *index.entry((category, key, time)).or_insert_with(|| {
                let header = Header {
                    pcode: self.pcode,
                    oid: base.oid,
                    okind: 0,
                    onode: 0,
                    time,
                };
                let mut pack = TagCountPack::new(header, category);
                pack.tags = base.tags_with(&p.attributes);
                packs.push(pack);
                packs.len() - 1
            });
            put_fields(&mut packs[at].fields, p);
        }
        packs.retain(|p| !p.fields.is_empty());
        packs
    }

    /// Appends one frame per pack; returns how many it wrote.
    pub fn encode_metrics(&self, points: &[MetricPoint], out: &mut Vec<u8>) -> usize {
        let packs = self.metric_packs(points);
        let n = packs.len();
        for mut pack in packs {
            write_frame(out, self.pcode, self.license_hash, |b| pack.write_body(b));
        }
        n
    }
}

/// A resource's tags (`oname` first, then every resource attribute), with
/// their encoding, for the points that share the resource.
struct ResourceTags {
    oid: i32,
    tags: ValueMap,
    /// `tags`' entries as [`ValueMap::write`] writes them, after the count.
    entries: Vec<u8>,
}

impl ResourceTags {
    fn of(resource: &Attributes) -> ResourceTags {
        let oname = oname_of(resource);
        let mut tags = ValueMap::with_capacity(1 + resource.len());
        tags.put(TAG_ONAME, Value::Text(oname.to_owned()));
        for (k, v) in resource.iter() {
            if k != TAG_ONAME {
                tags.put(k, Value::Text(text_of(v)));
            }
        }
        let mut entries = Vec::new();
        for (k, v) in tags.entries() {
            write_text(&mut entries, k);
            v.write(&mut entries);
        }
        ResourceTags {
            oid: hash::hash_str(oname),
            tags,
            entries,
        }
    }

    /// The point's whole tag map: these tags, then its attributes (one of
    /// the same key replaces the resource's value in its position; none
    /// replaces `oname`).
    fn tags_with(&self, attributes: &Attributes) -> ValueMap {
        let mut tags = self.tags.clone();
        for (k, v) in attributes.iter() {
            if k != TAG_ONAME {
                tags.put(k, Value::Text(text_of(v)));
            }
        }
        tags
    }

    /// Writes what `self.tags_with(attributes).write(out)` writes, without
    /// building the map when no attribute shares a key with the resource or
    /// another attribute (the usual case): then the map is this one's
    /// entries followed by the attributes', in order.
    fn write_tags(&self, attributes: &Attributes, out: &mut Vec<u8>) {
        let keys: Vec<&str> = attributes.iter().map(|(k, _)| k).collect();
        let plain = keys.iter().enumerate().all(|(i, k)| {
            *k != TAG_ONAME && !self.tags.contains_key(k) && !keys[..i].contains(k)
        });
        if !plain {
            self.tags_with(attributes).write(out);
            return;
        }
        out.push(TYPE_MAP);
        write_decimal(out, (self.tags.len() + keys.len()) as i64);
        out.extend_from_slice(&self.entries);
        for (k, v) in attributes.iter() {
            write_text(out, k);
            Value::Text(text_of(v)).write(out);
        }
    }
}

/// The point's fields; non-finite numbers are skipped.
fn put_fields(fields: &mut ValueMap, p: &MetricPoint) {
    match &p.kind {
        Kind::Gauge(n) | Kind::Sum { value: n, .. } => match *n {
            Number::Int(i) => fields.put(p.name.as_str(), Value::Decimal(i)),
            Number::Double(d) => put_finite(fields, p.name.clone(), d),
        },
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            ..
        } => {
            // A count beyond i64::MAX cannot happen; saturate, never wrap.
            let count = i64::try_from(*count).unwrap_or(i64::MAX);
            fields.put(format!("{}{SUFFIX_COUNT}", p.name), Value::Decimal(count));
            put_finite(fields, format!("{}{SUFFIX_SUM}", p.name), *sum);
            if let Some(v) = *min {
                put_finite(fields, format!("{}{SUFFIX_MIN}", p.name), v);
            }
            if let Some(v) = *max {
                put_finite(fields, format!("{}{SUFFIX_MAX}", p.name), v);
            }
        }
    }
}

fn put_finite(fields: &mut ValueMap, key: String, v: f64) {
    if v.is_finite() {
        fields.put(key, Value::Double(v));
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use rdsf_core::metric::Temporality;
    use rdsf_core::record::{keys, Attributes, Resource};
    use crate::whatap::decode::decode_frames;
    use crate::whatap::mapping::FALLBACK_ONAME;

    const T0: i64 = 1_718_000_000_123_456_789;

    fn mapping() -> Mapping {
        Mapping {
            pcode: 78,
            license_hash: 9,
            log_category: None,
            event_category: None,
            event_pack: false,
        }
    }

    fn resource(id: &str) -> Resource {
        let mut r = Attributes::new();
        r.insert(keys::RDS_SOURCE_IDENTIFIER, id);
        r.insert(keys::CLOUD_REGION, "us-east-1");
        Arc::new(r)
    }

    fn point(name: &str, kind: Kind, resource: &Resource, attrs: &[(&str, &str)]) -> MetricPoint {
        let mut attributes = Attributes::new();
        for (k, v) in attrs {
            attributes.insert(k.to_string(), *v);
        }
        MetricPoint {
            name: name.to_owned(),
            unit: "",
            description: "",
            kind,
            time_ns: T0,
            start_time_ns: None,
            attributes,
            resource: resource.clone(),
        }
    }

    fn gauge(v: f64) -> Kind {
        Kind::Gauge(Number::Double(v))
    }

    fn histogram(count: u64, sum: f64, min: Option<f64>, max: Option<f64>) -> Kind {
        Kind::Histogram {
            count,
            sum,
            min,
            max,
            bounds: vec![1.0],
            bucket_counts: vec![count, 0],
            temporality: Temporality::Delta,
        }
    }

    fn text(s: &str) -> Value {
        Value::Text(s.to_owned())
    }

    /// The resource's tags are written once per resource; what a point's
    /// tags encode to must equal the whole map built and written as
    /// before, whether an attribute is new, replaces a resource tag, is
    /// named `oname`, or repeats another attribute's key.
    #[test]
    fn cached_resource_tags_write_what_the_whole_map_writes() {
        let r = resource("db1");
        let base = ResourceTags::of(&r);
        let attribute_sets: [&[(&str, &str)]; 5] = [
            &[],
            &[("device", "rdsdev"), ("cpu.mode", "user")],
            &[(keys::CLOUD_REGION.as_str(), "eu-west-1"), ("device", "x")],
            &[(TAG_ONAME, "not-this"), ("device", "y")],
            &[("device", "a"), ("device", "b")],
        ];
        for attrs in attribute_sets {
            let mut attributes = Attributes::new();
            for (k, v) in attrs {
                attributes.0.push((k.to_string().into(), (*v).into()));
            }
            let mut fast = Vec::new();
            base.write_tags(&attributes, &mut fast);
            let mut whole = Vec::new();
            base.tags_with(&attributes).write(&mut whole);
            assert_eq!(fast, whole, "{attrs:?}");
        }
        // Two resources of equal content (two documents of one instance)
        // still share a pack.
        let (a, b) = (resource("db1"), resource("db1"));
        let points = [
            point("system.cpu.utilization", Kind::Gauge(Number::Double(0.5)), &a, &[]),
            point("system.memory.usage", Kind::Gauge(Number::Int(7)), &b, &[]),
        ];
        assert_eq!(mapping().metric_packs(&points).len(), 1);
    }

    #[test]
    fn points_sharing_tags_and_millisecond_share_a_pack() {
        let db1 = resource("db-1");
        // Same content in another Arc: grouped by what goes on the wire.
        let db1_again = resource("db-1");
        let db2 = resource("db-2");
        let mut late = point("c", gauge(3.0), &db1, &[]);
        late.time_ns = T0 + 1_000_000;
        let mut same_ms = point("d", gauge(4.0), &db1_again, &[]);
        same_ms.time_ns = T0 + 1;
        let points = [
            point("a", gauge(1.0), &db1, &[]),
            point("x", gauge(9.0), &db2, &[]),
            point("b", Kind::Gauge(Number::Int(2)), &db1_again, &[]),
            point("a", gauge(5.0), &db1, &[("op", "select")]),
            late,
            same_ms,
        ];
        let packs = mapping().metric_packs(&points);
        let summary: Vec<(String, i64, Vec<&str>)> = packs
            .iter()
            .map(|p| {
                let oname = match p.tags.get(TAG_ONAME) {
                    Some(Value::Text(s)) => s.clone(),
                    other => panic!("{other:?}"),
                };
                let keys = p.fields.entries().iter().map(|(k, _)| k.as_str()).collect();
                (oname, p.header.time - T0 / 1_000_000, keys)
            })
            .collect();
        assert_eq!(
            summary,
            [
                ("db-1".to_owned(), 0, vec!["a", "b", "d"]),
                ("db-2".to_owned(), 0, vec!["x"]),
                ("db-1".to_owned(), 0, vec!["a"]),
                ("db-1".to_owned(), 1, vec!["c"]),
            ]
        );
        let first = &packs[0];
        assert_eq!(first.category, METRIC_CATEGORY);
        assert_eq!(first.header.pcode, 78);
        assert_eq!(first.header.oid, hash::hash_str("db-1"));
        assert_eq!(first.header.time, T0.div_euclid(1_000_000));
        assert_eq!(first.fields.get("b"), Some(&Value::Decimal(2)));
        assert_eq!(first.fields.get("a"), Some(&Value::Double(1.0)));
        assert_eq!(
            packs[2].tags.entries(),
            [
                (TAG_ONAME.to_owned(), text("db-1")),
                (keys::RDS_SOURCE_IDENTIFIER.to_string(), text("db-1")),
                (keys::CLOUD_REGION.to_string(), text("us-east-1")),
                ("op".to_owned(), text("select")),
            ]
        );
    }

    #[test]
    fn each_family_has_its_category_and_packs_do_not_mix_them() {
        assert_eq!(category_of("system.cpu.utilization"), "rds_os");
        assert_eq!(category_of("process.memory.usage"), "rds_os");
        assert_eq!(category_of("aws.rds.os.disk.latency"), "rds_os");
        assert_eq!(category_of("aws.rds.query.count"), "rds_query");
        assert_eq!(category_of("aws.rds.query.duration"), "rds_query");
        assert_eq!(category_of("aws.rds.log.errors"), "rds_error");
        assert_eq!(category_of("aws.rds.connection.events"), "rds_connection");
        assert_eq!(
            category_of("aws.rds.postgresql.checkpoint.duration"),
            "rds_maintenance"
        );
        assert_eq!(category_of("db.client.operation.count"), METRIC_CATEGORY);
        assert_eq!(category_of("systemd"), METRIC_CATEGORY, "prefixes end in a dot");
        // Same tags, same time, two families: two packs.
        let db = resource("db-1");
        let packs = mapping().metric_packs(&[
            point("system.uptime", gauge(1.0), &db, &[]),
            point("aws.rds.query.count", gauge(2.0), &db, &[]),
            point("aws.rds.os.cpu.utilization", gauge(3.0), &db, &[]),
        ]);
        let got: Vec<(&str, usize)> = packs
            .iter()
            .map(|p| (p.category.as_str(), p.fields.entries().len()))
            .collect();
        assert_eq!(got, [("rds_os", 2), ("rds_query", 1)]);
    }

    #[test]
    fn tags_are_text_and_oname_cannot_be_replaced() {
        let mut res = Attributes::new();
        res.insert("port", 5432i64);
        res.insert(
            keys::AWS_LOG_GROUP_NAMES,
            rdsf_core::record::Value::Array(vec!["/aws/rds/instance/db-9/error".into(), "g2".into()]),
        );
        let res: Resource = Arc::new(res);
        let mut p = point("m", gauge(1.0), &res, &[("oname", "spoof")]);
        p.attributes.insert("ok", true);
        p.attributes.insert("port", 6432i64);
        let packs = mapping().metric_packs(&[p]);
        let tags = &packs[0].tags;
        assert_eq!(
            tags.get(TAG_ONAME),
            Some(&text("/aws/rds/instance/db-9/error"))
        );
        assert_eq!(
            packs[0].header.oid,
            hash::hash_str("/aws/rds/instance/db-9/error")
        );
        assert_eq!(
            tags.get("port"),
            Some(&text("6432")),
            "the point's value wins"
        );
        assert_eq!(tags.entries()[1].0, "port", "at the resource's position");
        assert_eq!(tags.get("ok"), Some(&text("true")));
        assert_eq!(
            tags.get(keys::AWS_LOG_GROUP_NAMES.as_str()),
            Some(&text("/aws/rds/instance/db-9/error,g2"))
        );
        let bare = point("m", gauge(1.0), &Arc::new(Attributes::new()), &[]);
        let packs = mapping().metric_packs(&[bare]);
        assert_eq!(
            packs[0].tags.entries(),
            [(TAG_ONAME.to_owned(), text(FALLBACK_ONAME))]
        );
    }

    #[test]
    fn a_histogram_gives_count_sum_min_max() {
        let db = resource("db-1");
        let name = "db.client.operation.duration";
        let packs = mapping().metric_packs(&[
            point(name, histogram(4, 10.0, Some(1.0), Some(4.0)), &db, &[]),
            point("q", histogram(0, 0.0, None, None), &db, &[("k", "v")]),
        ]);
        assert_eq!(
            packs[0].fields.entries(),
            [
                (format!("{name}.count"), Value::Decimal(4)),
                (format!("{name}.sum"), Value::Double(10.0)),
                (format!("{name}.min"), Value::Double(1.0)),
                (format!("{name}.max"), Value::Double(4.0)),
            ]
        );
        // An empty histogram still reports that it counted nothing.
        assert_eq!(
            packs[1].fields.entries(),
            [
                ("q.count".to_owned(), Value::Decimal(0)),
                ("q.sum".to_owned(), Value::Double(0.0)),
            ]
        );
        let huge = point("h", histogram(u64::MAX, 1.0, None, None), &db, &[]);
        let packs = mapping().metric_packs(&[huge]);
        assert_eq!(
            packs[0].fields.get("h.count"),
            Some(&Value::Decimal(i64::MAX))
        );
    }

    #[test]
    fn non_finite_values_are_skipped_and_empty_packs_not_sent() {
        let db = resource("db-1");
        let points = [
            point("nan", gauge(f64::NAN), &db, &[]),
            point("inf", gauge(f64::INFINITY), &db, &[]),
            point("ninf", gauge(f64::NEG_INFINITY), &db, &[]),
            point("ok", gauge(-0.0), &db, &[]),
            point(
                "h",
                histogram(2, f64::INFINITY, Some(f64::NAN), Some(3.0)),
                &db,
                &[],
            ),
            point("only_nan", gauge(f64::NAN), &db, &[("k", "v")]),
        ];
        let packs = mapping().metric_packs(&points);
        assert_eq!(packs.len(), 1, "the all-NaN pack is left out");
        assert_eq!(
            packs[0].fields.entries(),
            [
                ("ok".to_owned(), Value::Double(-0.0)),
                ("h.count".to_owned(), Value::Decimal(2)),
                ("h.max".to_owned(), Value::Double(3.0)),
            ]
        );
        let mut out = Vec::new();
        assert_eq!(mapping().encode_metrics(&points[5..], &mut out), 0);
        assert!(out.is_empty());
        assert_eq!(mapping().encode_metrics(&[], &mut out), 0);
        assert!(out.is_empty());
    }

    #[test]
    fn frames_are_deterministic_and_decode_back() {
        let db1 = resource("db-1");
        let db2 = resource("db-2");
        let long_name = format!("rds.{}", "n".repeat(300));
        let long_value = "v".repeat(70_000);
        let points = [
            point(&long_name, gauge(0.25), &db1, &[]),
            point(
                "rds.cpu",
                Kind::Gauge(Number::Int(-7)),
                &db2,
                &[("mode", &long_value)],
            ),
            point(
                "rds.ops",
                Kind::Sum {
                    value: Number::Int(1 << 40),
                    monotonic: true,
                    temporality: Temporality::Cumulative,
                },
                &db1,
                &[],
            ),
        ];
        let m = mapping();
        let mut first = Vec::new();
        assert_eq!(m.encode_metrics(&points, &mut first), 2);
        for _ in 0..3 {
            let mut again = Vec::new();
            m.encode_metrics(&points, &mut again);
            assert_eq!(again, first);
        }
        let frames = decode_frames(&first).unwrap();
        assert_eq!(frames.len(), 2);
        let get = |i: usize, k: &str| {
            frames[i]
                .fields
                .iter()
                .find(|(key, _)| key == k)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert!(frames
            .iter()
            .all(|f| f.pack == "TagCountPack" && f.pcode == 78));
        assert_eq!(get(0, "category"), METRIC_CATEGORY);
        assert_eq!(get(0, "oid"), hash::hash_str("db-1").to_string());
        assert_eq!(
            get(0, "fields"),
            format!("{{{long_name:?}: 0.25, \"rds.ops\": 1099511627776}}")
        );
        assert_eq!(get(1, "fields"), "{\"rds.cpu\": -7}");
        assert!(get(1, "tags").contains(&format!("\"mode\": {long_value:?}")));
        // The hash on the wire is Hash64 of the tag map golib would write.
        let packs = m.metric_packs(&points);
        let mut tag_bytes = Vec::new();
        packs[1].tags.write(&mut tag_bytes);
        assert_eq!(get(1, "tag_hash"), hash::hash64(&tag_bytes).to_string());
    }
}
