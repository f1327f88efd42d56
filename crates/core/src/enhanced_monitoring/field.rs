//! The machinery every section shares: a field table entry ([`Field`]: the
//! document key, the metric it feeds, its unit and scale), the conversion
//! of a JSON number to the point's value, and the [`Builder`] that turns a
//! section's fields into points.

use serde_json::{Map, Value as Json};

use crate::metric::{Kind, MetricPoint, Number};
use crate::record::{Attributes, Resource};

/// How a field's number becomes the point's value.
#[derive(Debug, Clone, Copy)]
pub(super) enum Scale {
    /// As given.
    One,
    /// Kilobytes (KiB) to bytes.
    Kib,
    /// Percent (0–100) to a ratio (0–1).
    Percent,
    /// Milliseconds to seconds.
    Ms,
}

/// One numeric field of a section and the metric it feeds.
pub(super) struct Field {
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    scale: Scale,
    description: &'static str,
    /// A fixed attribute telling this field's point from its siblings'.
    attr: Option<(&'static str, &'static str)>,
}

pub(super) const fn f(
    key: &'static str,
    name: &'static str,
    unit: &'static str,
    scale: Scale,
    description: &'static str,
    attr: Option<(&'static str, &'static str)>,
) -> Field {
    Field {
        key,
        name,
        unit,
        scale,
        description,
        attr,
    }
}

/// The number in `v`, scaled; `None` for anything but a JSON number.
pub(super) fn number(v: &Json, scale: Scale) -> Option<Number> {
    let n = v.as_number()?;
    Some(match (scale, n.as_i64()) {
        (Scale::One, Some(i)) => Number::Int(i),
        (Scale::Kib, Some(i)) => match i.checked_mul(1024) {
            Some(b) => Number::Int(b),
            None => Number::Double(i as f64 * 1024.0),
        },
        _ => {
            let x = n.as_f64()?;
            Number::Double(match scale {
                Scale::One => x,
                Scale::Kib => x * 1024.0,
                Scale::Percent => x / 100.0,
                Scale::Ms => x / 1000.0,
            })
        }
    })
}

/// Builds the points of one document.
pub(super) struct Builder<'a> {
    pub(super) time_ns: i64,
    pub(super) resource: &'a Resource,
    pub(super) out: Vec<MetricPoint>,
}

impl Builder<'_> {
    pub(super) fn point(
        &mut self,
        name: &'static str,
        unit: &'static str,
        description: &'static str,
        value: Number,
        attributes: Attributes,
    ) {
        self.out.push(MetricPoint {
            name: name.to_owned(),
            unit,
            description,
            kind: Kind::Gauge(value),
            time_ns: self.time_ns,
            start_time_ns: None,
            attributes,
            resource: self.resource.clone(),
        });
    }

    /// One point per field of `fields` present in `section`, each with the
    /// entry's attributes `base` plus the field's own.
    pub(super) fn section(
        &mut self,
        section: &Map<String, Json>,
        fields: &[Field],
        base: &Attributes,
    ) {
        for field in fields {
            let Some(value) = section.get(field.key).and_then(|v| number(v, field.scale)) else {
                continue;
            };
            let mut attributes = base.clone();
            if let Some((k, v)) = field.attr {
                attributes.insert(k, v);
            }
            self.point(field.name, field.unit, field.description, value, attributes);
        }
    }
}

/// Text of a string field, trimmed; `None` when absent or empty.
pub(super) fn text<'a>(entry: &'a Map<String, Json>, key: &str) -> Option<&'a str> {
    entry
        .get(key)
        .and_then(Json::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty())
}

pub(super) fn int(entry: &Map<String, Json>, key: &str) -> Option<i64> {
    entry.get(key).and_then(Json::as_i64)
}
