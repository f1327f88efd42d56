//! Record → packs: what WhaTap sees of each record (documented in
//! `docs/schema.md`, "WhaTap mapping"). Pure: no I/O.

use super::frame::write_frame;
use super::hash;
use super::pack::{EventPack, Header, LogSinkPack, LEVEL_FATAL, LEVEL_INFO, LEVEL_WARNING};
use super::value::{Value, ValueMap};
use crate::record::{self, keys, Record};
use crate::severity;

/// Tag keys (text values) of every LogSinkPack, also the EventPack's
/// attribute keys. WhaTap wire names, not record attributes.
pub const TAG_ONAME: &str = "oname";
pub const TAG_ENGINE: &str = "engine";
pub const TAG_LOG_TYPE: &str = "log_type";
pub const TAG_LOG_GROUP: &str = "log_group";
pub const TAG_LOG_STREAM: &str = "log_stream";
pub const TAG_REGION: &str = "region";
pub const TAG_ACCOUNT: &str = "account";
/// Field keys added beside the record's attributes.
pub const FIELD_SEVERITY_TEXT: &str = "severity_text";
pub const FIELD_SEVERITY_NUMBER: &str = "severity_number";
/// EventPack-only attribute keys.
pub const ATTR_EVENT_ID: &str = "event_id";
pub const ATTR_SOURCE_TYPE: &str = "source_type";
pub const ATTR_SOURCE_ARN: &str = "source_arn";
pub const ATTR_CATEGORIES: &str = "categories";

/// Category of RDS event records unless overridden.
pub const EVENT_CATEGORY: &str = "rds-event";
/// Category of logs from a group that names no RDS log type.
pub const GENERIC_LOG_CATEGORY: &str = "rds-log";
/// The object name when a record names no source at all.
pub const FALLBACK_ONAME: &str = "rds-forwarder";
/// Arrays travel as text (the value types the vectors document have no
/// list), their elements joined with this.
pub const ARRAY_SEPARATOR: &str = ",";

/// Everything the mapping needs besides the record.
#[derive(Debug, Clone)]
pub struct Mapping {
    pub pcode: i64,
    /// Hash64 of the licence: the only form of it that goes on the wire.
    pub license_hash: i64,
    /// Replaces `rds-<log type>` for every log record.
    pub log_category: Option<String>,
    /// Replaces `rds-event`.
    pub event_category: Option<String>,
    /// Also send RDS events as EventPacks.
    pub event_pack: bool,
}

impl Mapping {
    /// Appends the frame(s) of one record: a LogSinkPack, then an EventPack
    /// for an RDS event when enabled. Returns how many frames it wrote.
    pub fn encode(&self, r: &Record, out: &mut Vec<u8>) -> usize {
        let log = self.log_pack(r);
        write_frame(out, self.pcode, self.license_hash, |b| log.write_body(b));
        match self.event_pack.then(|| self.event_pack(r)).flatten() {
            Some(ev) => {
                write_frame(out, self.pcode, self.license_hash, |b| ev.write_body(b));
                2
            }
            None => 1,
        }
    }

    pub fn log_pack(&self, r: &Record) -> LogSinkPack {
        let oname = oname(r);
        let category = match (is_rds_event(r), &self.log_category, &self.event_category) {
            (true, _, Some(c)) => c.clone(),
            (true, _, None) => EVENT_CATEGORY.to_owned(),
            (false, Some(c), _) => c.clone(),
            (false, None, _) => match r.resource.get_str(keys::RDS_LOG_TYPE) {
                Some(t) => format!("rds-{t}"),
                None => GENERIC_LOG_CATEGORY.to_owned(),
            },
        };
        let mut tags = ValueMap::with_capacity(7);
        tags.put(TAG_ONAME, Value::Text(oname.to_owned()));
        for (tag, key) in [
            (TAG_ENGINE, keys::DB_SYSTEM_NAME),
            (TAG_LOG_TYPE, keys::RDS_LOG_TYPE),
            (TAG_LOG_GROUP, keys::AWS_LOG_GROUP_NAMES),
            (TAG_LOG_STREAM, keys::AWS_LOG_STREAM_NAMES),
            (TAG_REGION, keys::CLOUD_REGION),
            (TAG_ACCOUNT, keys::CLOUD_ACCOUNT_ID),
        ] {
            if let Some(v) = r.resource.get(key) {
                tags.put(tag, Value::Text(text_of(v)));
            }
        }
        let mut fields = ValueMap::with_capacity(r.attributes.len() + 2);
        fields.put(
            FIELD_SEVERITY_TEXT,
            Value::Text(r.severity.text.to_string()),
        );
        fields.put(
            FIELD_SEVERITY_NUMBER,
            Value::Decimal(r.severity.number as i64),
        );
        for (k, v) in r.attributes.iter() {
            fields.put(k, typed(v));
        }
        LogSinkPack {
            header: self.header(r, oname),
            category,
            tag_hash: 0,
            tags,
            line: 0,
            content: r.body.clone(),
            fields: Some(fields),
        }
    }

    /// The EventPack of an RDS event record; `None` for log records.
    pub fn event_pack(&self, r: &Record) -> Option<EventPack> {
        let event_id = r.attributes.get_str(keys::RDS_EVENT_ID)?;
        let oname = oname(r);
        let mut ev = EventPack {
            header: self.header(r, oname),
            level: level_for(r.severity.number),
            title: format!("{event_id} on {oname}"),
            message: r.body.clone(),
            uuid: r.id.clone(),
            ..EventPack::default()
        };
        ev.put_attr(TAG_ONAME, oname);
        ev.put_attr(ATTR_EVENT_ID, event_id);
        let attr_keys = [
            (ATTR_SOURCE_TYPE, &r.attributes, keys::RDS_EVENT_SOURCE_TYPE),
            (ATTR_CATEGORIES, &r.attributes, keys::RDS_EVENT_CATEGORIES),
            (ATTR_SOURCE_ARN, &r.attributes, keys::RDS_EVENT_SOURCE_ARN),
            (TAG_REGION, &*r.resource, keys::CLOUD_REGION),
            (TAG_ACCOUNT, &*r.resource, keys::CLOUD_ACCOUNT_ID),
        ];
        for (attr, from, key) in attr_keys {
            if let Some(v) = from.get(key) {
                ev.put_attr(attr, text_of(v));
            }
        }
        Some(ev)
    }

    fn header(&self, r: &Record, oname: &str) -> Header {
        Header {
            pcode: self.pcode,
            oid: hash::hash_str(oname),
            okind: 0,
            onode: 0,
            time: r.timestamp_ns.div_euclid(1_000_000),
        }
    }
}

/// The WhaTap object name: the RDS source identifier, else the log group.
pub fn oname(r: &Record) -> &str {
    if let Some(id) = r.resource.get_str(keys::RDS_SOURCE_IDENTIFIER) {
        return id;
    }
    match r.resource.get(keys::AWS_LOG_GROUP_NAMES) {
        Some(record::Value::Array(groups)) => groups.first().and_then(record::Value::as_str),
        Some(v) => v.as_str(),
        None => None,
    }
    .filter(|s| !s.is_empty())
    .unwrap_or(FALLBACK_ONAME)
}

fn is_rds_event(r: &Record) -> bool {
    r.attributes.get(keys::RDS_EVENT_ID).is_some()
}

/// 30 / 20 / 10 for error-or-worse / warning / anything else.
pub fn level_for(severity_number: u8) -> u8 {
    match severity_number {
        n if n >= severity::ERROR => LEVEL_FATAL,
        n if n >= severity::WARN => LEVEL_WARNING,
        _ => LEVEL_INFO,
    }
}

/// Numbers stay numbers; arrays become joined text.
fn typed(v: &record::Value) -> Value {
    match v {
        record::Value::Str(s) => Value::Text(s.clone()),
        record::Value::Int(i) => Value::Decimal(*i),
        record::Value::Double(d) => Value::Double(*d),
        record::Value::Bool(b) => Value::Boolean(*b),
        record::Value::Array(_) => Value::Text(text_of(v)),
    }
}

fn text_of(v: &record::Value) -> String {
    match v {
        record::Value::Str(s) => s.clone(),
        record::Value::Int(i) => i.to_string(),
        record::Value::Double(d) => d.to_string(),
        record::Value::Bool(b) => b.to_string(),
        record::Value::Array(items) => items
            .iter()
            .map(text_of)
            .collect::<Vec<_>>()
            .join(ARRAY_SEPARATOR),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::record::Attributes;
    use crate::severity::Severity;

    fn mapping() -> Mapping {
        Mapping {
            pcode: 5,
            license_hash: 9,
            log_category: None,
            event_category: None,
            event_pack: true,
        }
    }

    fn record(resource: Attributes, attributes: Attributes, severity: Severity) -> Record {
        Record {
            timestamp_ns: 1_718_000_000_123_456_789,
            observed_timestamp_ns: 0,
            severity,
            body: "msg".to_owned(),
            attributes,
            resource: Arc::new(resource),
            id: "id-1".to_owned(),
        }
    }

    #[test]
    fn log_record_category_tags_and_typed_fields() {
        let mut res = Attributes::new();
        res.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        res.insert(keys::RDS_LOG_TYPE, "slowquery");
        res.insert(
            keys::AWS_LOG_GROUP_NAMES,
            record::Value::Array(vec!["/aws/rds/instance/db-1/slowquery".into()]),
        );
        let mut attrs = Attributes::new();
        attrs.insert("n", 42i64);
        attrs.insert("d", 1.5f64);
        attrs.insert("b", true);
        attrs.insert("a", record::Value::Array(vec!["x".into(), 2i64.into()]));
        let r = record(res, attrs, Severity::info());
        let p = mapping().log_pack(&r);
        assert_eq!(p.category, "rds-slowquery");
        assert_eq!(p.header.oid, hash::hash_str("db-1"));
        assert_eq!(p.header.time, 1_718_000_000_123);
        assert_eq!(
            p.tags.get(TAG_LOG_GROUP),
            Some(&Value::Text("/aws/rds/instance/db-1/slowquery".into()))
        );
        assert_eq!(p.tags.get(TAG_REGION), None);
        let f = p.fields.unwrap();
        assert_eq!(f.get("n"), Some(&Value::Decimal(42)));
        assert_eq!(f.get("d"), Some(&Value::Double(1.5)));
        assert_eq!(f.get("b"), Some(&Value::Boolean(true)));
        assert_eq!(f.get("a"), Some(&Value::Text("x,2".into())));
        assert_eq!(
            mapping().event_pack(&r),
            None,
            "log records have no EventPack"
        );
        let mut out = Vec::new();
        assert_eq!(mapping().encode(&r, &mut out), 1);

        let over = Mapping {
            log_category: Some("mine".into()),
            ..mapping()
        };
        assert_eq!(over.log_pack(&r).category, "mine");
    }

    #[test]
    fn oname_falls_back_to_the_log_group_then_a_constant() {
        let mut res = Attributes::new();
        res.insert(
            keys::AWS_LOG_GROUP_NAMES,
            record::Value::Array(vec!["/custom/group".into()]),
        );
        let r = record(res, Attributes::new(), Severity::info());
        assert_eq!(oname(&r), "/custom/group");
        assert_eq!(mapping().log_pack(&r).category, GENERIC_LOG_CATEGORY);
        let r = record(Attributes::new(), Attributes::new(), Severity::info());
        assert_eq!(oname(&r), FALLBACK_ONAME);
    }

    #[test]
    fn rds_event_levels_and_categories() {
        let mut res = Attributes::new();
        res.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        let mut attrs = Attributes::new();
        attrs.insert(keys::RDS_EVENT_ID, "RDS-EVENT-0004");
        let r = record(res, attrs, Severity::new_static("ERROR", severity::ERROR));
        let ev = mapping().event_pack(&r).unwrap();
        assert_eq!(
            (ev.level, ev.title.as_str(), ev.uuid.as_str()),
            (LEVEL_FATAL, "RDS-EVENT-0004 on db-1", "id-1")
        );
        assert_eq!(mapping().log_pack(&r).category, EVENT_CATEGORY);
        let over = Mapping {
            log_category: Some("logs".into()),
            event_category: Some("events".into()),
            ..mapping()
        };
        assert_eq!(over.log_pack(&r).category, "events");
        let mut out = Vec::new();
        assert_eq!(mapping().encode(&r, &mut out), 2);
        assert_eq!(
            Mapping {
                event_pack: false,
                ..mapping()
            }
            .encode(&r, &mut out),
            1
        );
        assert_eq!(level_for(severity::FATAL), LEVEL_FATAL);
        assert_eq!(level_for(severity::WARN), LEVEL_WARNING);
        assert_eq!(level_for(severity::INFO), LEVEL_INFO);
        assert_eq!(level_for(severity::DEBUG), LEVEL_INFO);
    }
}
