//! Metric points → TagCountPacks: what WhaTap sees of the metrics signal.
//! Pure: no I/O.
//!
//! - **Category**: [`METRIC_CATEGORY`] (`rds_metrics`) for every pack.
//!   WhaTap's own Telegraf output names a category `telegraf_<measurement>`:
//!   one category per integration and measurement, snake case. Our points
//!   already carry their full OTel name, which becomes the field key, so one
//!   category for the forwarder keeps every RDS metric of an instance in one
//!   table (one row per tag set and time) instead of splitting a pack per
//!   name prefix.
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
//! - **Grouping**: points whose tag map encodes to the same bytes and whose
//!   time falls in the same millisecond (the wire's resolution) share one
//!   pack, in the order each group first appears; within a pack a repeated
//!   field key keeps its first position and takes the last value.
//! - **NaN and ±Inf** are skipped, field by field: WhaTap's charts and
//!   aggregates have no use for them and one would poison a sum or an
//!   average. A pack left with no fields is not sent.
//! - **Header**: pcode from the [`Mapping`], oid = `HashStr(oname)`, okind
//!   and onode 0, time = the point's time in ms.

use std::collections::HashMap;

use super::frame::write_frame;
use super::hash;
use super::mapping::{oname_of, text_of, Mapping, TAG_ONAME};
use super::pack::Header;
use super::tagcount::TagCountPack;
use super::value::{Value, ValueMap};
use crate::metric::{Kind, MetricPoint, Number};

/// The category of every metrics pack (see the module doc for why).
pub const METRIC_CATEGORY: &str = "rds_metrics";
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
        let mut index: HashMap<(Vec<u8>, i64), usize> = HashMap::new();
        for p in points {
            let (oname, tags) = metric_tags(p);
            let mut key = Vec::with_capacity(16 + 32 * tags.len());
            tags.write(&mut key);
            let time = p.time_ns.div_euclid(1_000_000);
            let at = *index.entry((key, time)).or_insert_with(|| {
                let header = Header {
                    pcode: self.pcode,
                    oid: hash::hash_str(&oname),
                    okind: 0,
                    onode: 0,
                    time,
                };
                let mut pack = TagCountPack::new(header, METRIC_CATEGORY);
                pack.tags = tags;
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

/// The object name and the tag map of a point.
fn metric_tags(p: &MetricPoint) -> (String, ValueMap) {
    let oname = oname_of(&p.resource).to_owned();
    let mut tags = ValueMap::with_capacity(1 + p.resource.len() + p.attributes.len());
    tags.put(TAG_ONAME, Value::Text(oname.clone()));
    for (k, v) in p.resource.iter().chain(p.attributes.iter()) {
        if k != TAG_ONAME {
            tags.put(k, Value::Text(text_of(v)));
        }
    }
    (oname, tags)
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
