//! Record → packs: what WhaTap sees of each record (documented in
//! `docs/schema.md`, "WhaTap mapping"). Pure: no I/O.

use super::frame::write_frame;
use super::hash;
use super::pack::{
    EventPack, Header, LogSinkPack, LEVEL_FATAL, LEVEL_INFO, LEVEL_WARNING, LOGSINK_PACK,
};
use super::value::{
    write_decimal, write_text, Value, ValueMap, TYPE_DECIMAL, TYPE_DOUBLE, TYPE_MAP, TYPE_TEXT,
};
use rdsf_core::record::{self, keys, Attributes, Key, PlainKey, RecordRef, ResourceRecords};
use rdsf_core::severity;

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
    pub fn encode(&self, r: &RecordRef<'_>, out: &mut Vec<u8>) -> usize {
        self.encode_cached(r, &mut ResourceCache::default(), &mut KeyCache::default(), out)
    }

    /// Appends the frames of every record; returns how many it wrote.
    /// `out` is grown once, by the first record's frames times the records
    /// left, rather than doubled (and copied) as it fills.
    pub fn encode_batch(&self, batch: &[ResourceRecords<'_>], out: &mut Vec<u8>) -> usize {
        let records: usize = batch.iter().map(|g| g.records.len()).sum();
        let start = out.len();
        let mut cache = ResourceCache::default();
        let mut key_cache = KeyCache::default();
        let mut frames = 0;
        for (i, r) in record::flatten(batch).enumerate() {
            frames += self.encode_cached(&r, &mut cache, &mut key_cache, out);
            if i == 0 {
                // An eighth more: later records run a little longer (ids,
                // numbers), and outgrowing the guess copies everything.
                let first = out.len() - start;
                out.reserve((first + first / 8) * (records - 1));
            }
        }
        frames
    }

    fn encode_cached(
        &self,
        r: &RecordRef<'_>,
        cache: &mut ResourceCache,
        key_cache: &mut KeyCache,
        out: &mut Vec<u8>,
    ) -> usize {
        // Looked up once for both packs, and not again while the records
        // keep their keys.
        let KeyFacts {
            fields_distinct,
            rds_event,
        } = key_cache.facts(&r.attributes);
        match cache.get(self, r, fields_distinct) {
            Some(res) => write_frame(out, self.pcode, self.license_hash, |b| {
                self.write_log_body(r, res, rds_event, b)
            }),
            None => {
                let log = self.log_pack(r);
                write_frame(out, self.pcode, self.license_hash, |b| log.write_body(b));
            }
        }
        match (self.event_pack && rds_event)
            .then(|| self.event_pack(r))
            .flatten()
        {
            Some(ev) => {
                write_frame(out, self.pcode, self.license_hash, |b| ev.write_body(b));
                2
            }
            None => 1,
        }
    }

    /// The LogSinkPack of a record: the reference form of what
    /// [`Mapping::encode`] writes (its fast path must give the same bytes).
    pub fn log_pack(&self, r: &RecordRef<'_>) -> LogSinkPack {
        let oname = oname(r);
        let category = match (is_rds_event(r), &self.log_category, &self.event_category) {
            (true, _, Some(c)) => c.clone(),
            (true, _, None) => EVENT_CATEGORY.to_owned(),
            (false, Some(c), _) => c.clone(),
            (false, None, _) => resource_log_category(r),
        };
        LogSinkPack {
            header: self.header(r, oname),
            category,
            tag_hash: 0,
            tags: tags(r),
            line: 0,
            content: r.body.clone(),
            fields: Some(fields(r)),
        }
    }

    /// The LogSinkPack body of `r` written straight from the record, with
    /// the resource's part (the header but its time; category, tags and
    /// their hash) copied from `res`: no per-record copies of the body or
    /// attributes, no per-record CRC.
    /// Byte-for-byte what `log_pack(r).write_body` writes.
    /// `rds_event`: whether `r` is an RDS event ([`is_rds_event`]).
    fn write_log_body(
        &self,
        r: &RecordRef<'_>,
        res: &CachedResource,
        rds_event: bool,
        out: &mut Vec<u8>,
    ) {
        let after_time = if rds_event {
            &res.event_after_time
        } else {
            &res.log_after_time
        };
        out.reserve(64 + after_time.len() + r.body.len() + 32 * r.attributes.len());
        out.extend_from_slice(&res.before_time);
        out.extend_from_slice(&r.timestamp_ns.div_euclid(1_000_000).to_be_bytes());
        out.extend_from_slice(after_time);
        write_text(out, &r.body);
        // Fields: never empty (the severity pair is always there).
        out.push(1);
        out.push(TYPE_MAP);
        write_decimal(out, r.attributes.len() as i64 + 2);
        write_text(out, FIELD_SEVERITY_TEXT);
        out.push(TYPE_TEXT);
        write_text(out, &r.severity.text);
        write_text(out, FIELD_SEVERITY_NUMBER);
        out.push(TYPE_DECIMAL);
        write_decimal(out, r.severity.number as i64);
        // The common kinds written here as `typed(v).write` writes them,
        // without building the `Value` (and the call) per attribute.
        for (k, v) in r.attributes.iter() {
            write_text(out, k);
            match v {
                record::Value::Str(s) => {
                    out.push(TYPE_TEXT);
                    write_text(out, s);
                }
                record::Value::Int(i) => {
                    out.push(TYPE_DECIMAL);
                    write_decimal(out, *i);
                }
                record::Value::Double(d) => {
                    out.push(TYPE_DOUBLE);
                    out.extend_from_slice(&d.to_bits().to_be_bytes());
                }
                other => typed(other).write(out),
            }
        }
    }
}

/// The per-resource part of every LogSinkPack, computed once per batch
/// resource instead of once per record (records of a payload share one):
/// all the bytes before the content but the header's time, already encoded
/// (written piece by piece they were ~140 instructions a record).
struct CachedResource {
    /// Keeps the resource alive so its address cannot be reused while cached.
    resource: rdsf_core::record::Resource,
    /// The pack type and the header up to its time (pcode, oid).
    before_time: Vec<u8>,
    /// After the time, for a log record: the version byte, the category,
    /// the tags' Hash64, the tags, the line number.
    log_after_time: Vec<u8>,
    /// The same for an RDS event (its category differs).
    event_after_time: Vec<u8>,
}

/// The last resource seen; `None` from `get` sends a record down the
/// reference path (`log_pack`).
#[derive(Default)]
struct ResourceCache(Option<CachedResource>);

impl ResourceCache {
    /// `fields_distinct`: [`fields_are_distinct`] of the record (else it
    /// takes the reference path).
    fn get(
        &mut self,
        m: &Mapping,
        r: &RecordRef<'_>,
        fields_distinct: bool,
    ) -> Option<&CachedResource> {
        if !fields_distinct {
            return None;
        }
        let hit = matches!(&self.0, Some(c) if std::sync::Arc::ptr_eq(&c.resource, r.resource));
        if !hit {
            let tags = tags(r);
            let mut bytes = Vec::with_capacity(16 + 32 * tags.len());
            tags.write(&mut bytes);
            // Never empty (oname is always a tag), so the hash is computed.
            let tag_hash = hash::hash64(&bytes);
            let mut before_time = LOGSINK_PACK.to_be_bytes().to_vec();
            // The header as `Header::write` writes it, without the time
            // (its last 8 bytes).
            m.header(r, oname(r)).write(&mut before_time);
            before_time.truncate(before_time.len() - 8);
            let after_time = |category: &str| {
                let mut b = Vec::with_capacity(32 + category.len() + bytes.len());
                b.push(0);
                write_text(&mut b, category);
                write_decimal(&mut b, tag_hash);
                b.extend_from_slice(&bytes);
                write_decimal(&mut b, 0); // line
                b
            };
            let log_category = match &m.log_category {
                Some(c) => c.clone(),
                None => resource_log_category(r),
            };
            let event_category = m.event_category.as_deref().unwrap_or(EVENT_CATEGORY);
            self.0 = Some(CachedResource {
                resource: r.resource.clone(),
                before_time,
                log_after_time: after_time(&log_category),
                event_after_time: after_time(event_category),
            });
        }
        self.0.as_ref()
    }
}

/// Whether the fields map has exactly `2 + attributes` entries (no
/// attribute key repeats or collides with the severity pair), which the
/// direct writer assumes; `ValueMap::put` would merge them otherwise.
fn fields_are_distinct(attributes: &Attributes) -> bool {
    attributes
        .0
        .iter()
        .all(|(k, _)| k != FIELD_SEVERITY_TEXT && k != FIELD_SEVERITY_NUMBER)
        && attributes.has_distinct_keys()
}

/// What the writer needs to know of a record's keys.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct KeyFacts {
    /// [`fields_are_distinct`].
    fields_distinct: bool,
    /// An RDS event ([`is_rds_event`]).
    rds_event: bool,
}

/// The [`KeyFacts`] of the last record whose keys were all constants,
/// reused for the next record with the same keys in the same order: a
/// parser's records share one key list, and the three walks of the keys
/// (repeats, severity field names, the event id) were ~650 instructions a
/// PostgreSQL record, a quarter of this writer (callgrind), against ~5 a
/// key to see the keys are the same. The facts are a function of the keys'
/// texts alone, so equal keys give equal facts.
#[derive(Default)]
struct KeyCache {
    /// Empty with `facts` unset until a record of constant keys is seen.
    keys: Vec<PlainKey>,
    facts: Option<KeyFacts>,
}

impl KeyCache {
    fn facts(&mut self, attributes: &Attributes) -> KeyFacts {
        if let Some(facts) = self.facts.filter(|_| self.holds_keys_of(attributes)) {
            return facts;
        }
        let facts = KeyFacts {
            fields_distinct: fields_are_distinct(attributes),
            rds_event: attributes.get(keys::RDS_EVENT_ID).is_some(),
        };
        self.keys.clear();
        self.facts = Some(facts);
        for (k, _) in attributes.entries() {
            match k {
                Key::Plain(k) => self.keys.push(*k),
                // Text keys are not remembered: the next record scans.
                Key::Text(_) => self.facts = None,
            }
        }
        facts
    }

    /// Whether `attributes` has exactly the remembered keys, in order (the
    /// same constant is mostly the same address and length; else the texts
    /// are compared).
    fn holds_keys_of(&self, attributes: &Attributes) -> bool {
        attributes.len() == self.keys.len()
            && attributes.0.iter().zip(&self.keys).all(|((k, _), held)| {
                matches!(k, Key::Plain(k) if std::ptr::eq(k.as_str(), held.as_str()) || k == held)
            })
    }
}

/// The tag map of a record's LogSinkPack: its resource only.
fn tags(r: &RecordRef<'_>) -> ValueMap {
    let oname = oname(r);
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
        // An engine content never named still gets a tag that says so.
        let v = r.resource.get(key).or_else(|| {
            (tag == TAG_ENGINE)
                .then(|| r.resource.get(keys::RDS_ENGINE_FAMILY))
                .flatten()
        });
        if let Some(v) = v {
            tags.put(tag, Value::Text(text_of(v)));
        }
    }
    // RDS metadata, under its own keys; only present when the lookup
    // answered, so without it the tag map (and its hash) is unchanged.
    for (k, v) in r.resource.iter() {
        if RDS_METADATA_TAGS.contains(&k) || k.starts_with(keys::RDS_TAG_PREFIX) {
            tags.put(k, Value::Text(text_of(v)));
        }
    }
    tags
}

/// Resource keys of RDS metadata (`enrich::metadata`) that become
/// LogSinkPack tags (beside every `aws.rds.tag.<key>`).
const RDS_METADATA_TAGS: [&str; 7] = [
    keys::RDS_ENGINE.as_str(),
    keys::RDS_ENGINE_VERSION.as_str(),
    keys::RDS_INSTANCE_CLASS.as_str(),
    keys::CLOUD_AVAILABILITY_ZONE.as_str(),
    keys::RDS_CLUSTER_IDENTIFIER.as_str(),
    keys::RDS_INSTANCE_ROLE.as_str(),
    keys::RDS_RESOURCE_ID.as_str(),
];

/// The fields map: the severity pair, then the record's attributes, typed.
fn fields(r: &RecordRef<'_>) -> ValueMap {
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
    fields
}

/// `rds-<log type>` of the record's resource, else the generic category.
fn resource_log_category(r: &RecordRef<'_>) -> String {
    match r.resource.get_str(keys::RDS_LOG_TYPE) {
        Some(t) => format!("rds-{t}"),
        None => GENERIC_LOG_CATEGORY.to_owned(),
    }
}

impl Mapping {
    /// The EventPack of an RDS event record; `None` for log records.
    pub fn event_pack(&self, r: &RecordRef<'_>) -> Option<EventPack> {
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
            (TAG_REGION, &**r.resource, keys::CLOUD_REGION),
            (TAG_ACCOUNT, &**r.resource, keys::CLOUD_ACCOUNT_ID),
        ];
        for (attr, from, key) in attr_keys {
            if let Some(v) = from.get(key) {
                ev.put_attr(attr, text_of(v));
            }
        }
        Some(ev)
    }

    fn header(&self, r: &RecordRef<'_>, oname: &str) -> Header {
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
pub fn oname<'a>(r: &RecordRef<'a>) -> &'a str {
    oname_of(r.resource)
}

/// [`oname`] of a resource: metrics name the same object as the logs of
/// the same instance, so both land on one WhaTap object (same oid).
pub fn oname_of(resource: &record::Attributes) -> &str {
    if let Some(id) = resource.get_str(keys::RDS_SOURCE_IDENTIFIER) {
        return id;
    }
    match resource.get(keys::AWS_LOG_GROUP_NAMES) {
        Some(record::Value::Array(groups)) => groups.first().and_then(record::Value::as_str),
        Some(v) => v.as_str(),
        None => None,
    }
    .filter(|s| !s.is_empty())
    .unwrap_or(FALLBACK_ONAME)
}

fn is_rds_event(r: &RecordRef<'_>) -> bool {
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
        record::Value::Str(s) => Value::Text(s.to_string()),
        record::Value::Int(i) => Value::Decimal(*i),
        record::Value::Double(d) => Value::Double(*d),
        record::Value::Bool(b) => Value::Boolean(*b),
        record::Value::Array(_) => Value::Text(text_of(v)),
    }
}

/// Any attribute value as text (arrays joined with [`ARRAY_SEPARATOR`]).
pub(super) fn text_of(v: &record::Value) -> String {
    match v {
        record::Value::Str(s) => s.to_string(),
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
    use rdsf_core::record::{Attributes, Record, RecordSet};
    use rdsf_core::severity::Severity;

    fn mapping() -> Mapping {
        Mapping {
            pcode: 5,
            license_hash: 9,
            log_category: None,
            event_category: None,
            event_pack: true,
        }
    }

    /// A record and its resource, owned.
    struct Owned {
        resource: Arc<Attributes>,
        record: Record,
    }

    impl Owned {
        fn as_ref(&self) -> RecordRef<'_> {
            RecordRef {
                resource: &self.resource,
                record: &self.record,
            }
        }
    }

    fn record(resource: Attributes, attributes: Attributes, severity: Severity) -> Owned {
        Owned {
            resource: Arc::new(resource),
            record: Record {
                timestamp_ns: 1_718_000_000_123_456_789,
                observed_timestamp_ns: 0,
                severity,
                body: "msg".to_owned(),
                attributes,
                id: "id-1".to_owned(),
            },
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
        let p = mapping().log_pack(&r.as_ref());
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
            mapping().event_pack(&r.as_ref()),
            None,
            "log records have no EventPack"
        );
        let mut out = Vec::new();
        assert_eq!(mapping().encode(&r.as_ref(), &mut out), 1);

        let over = Mapping {
            log_category: Some("mine".into()),
            ..mapping()
        };
        assert_eq!(over.log_pack(&r.as_ref()).category, "mine");
    }

    /// RDS metadata on the resource becomes tags under its own keys (the
    /// exact engine in `engine`); without it the tag map is as before.
    #[test]
    fn rds_metadata_becomes_tags() {
        let mut res = Attributes::new();
        res.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        res.insert(keys::RDS_ENGINE_FAMILY, "mysql_or_mariadb");
        let plain = record(res.clone(), Attributes::new(), Severity::info());
        let before = mapping().log_pack(&plain.as_ref()).tags;
        assert_eq!(before.get(TAG_ENGINE), Some(&Value::Text("mysql_or_mariadb".into())));

        let md = rdsf_core::enrich::metadata::RdsMetadata {
            engine: Some("mariadb".into()),
            engine_version: Some("10.11.6".into()),
            instance_class: Some("db.t3.micro".into()),
            availability_zone: Some("us-east-1a".into()),
            cluster_identifier: Some("c1".into()),
            role: Some(rdsf_core::enrich::metadata::Role::Reader),
            resource_id: Some("db-ABC".into()),
            tags: vec![("team".into(), "payments".into())],
            ..Default::default()
        };
        let enriched = rdsf_core::enrich::metadata::apply(&res, &md);
        let r = record(enriched, Attributes::new(), Severity::info());
        let tags = mapping().log_pack(&r.as_ref()).tags;
        let text = |k: &str| tags.get(k).cloned();
        assert_eq!(text(TAG_ENGINE), Some(Value::Text("mariadb".into())));
        for (k, v) in [
            (keys::RDS_ENGINE.as_str(), "mariadb"),
            (keys::RDS_ENGINE_VERSION.as_str(), "10.11.6"),
            (keys::RDS_INSTANCE_CLASS.as_str(), "db.t3.micro"),
            (keys::CLOUD_AVAILABILITY_ZONE.as_str(), "us-east-1a"),
            (keys::RDS_CLUSTER_IDENTIFIER.as_str(), "c1"),
            (keys::RDS_INSTANCE_ROLE.as_str(), "reader"),
            (keys::RDS_RESOURCE_ID.as_str(), "db-ABC"),
            ("aws.rds.tag.team", "payments"),
        ] {
            assert_eq!(text(k), Some(Value::Text(v.into())), "{k}");
        }
        assert_eq!(tags.get(keys::RDS_ENGINE_FAMILY.as_str()), None);
    }

    #[test]
    fn oname_falls_back_to_the_log_group_then_a_constant() {
        let mut res = Attributes::new();
        res.insert(
            keys::AWS_LOG_GROUP_NAMES,
            record::Value::Array(vec!["/custom/group".into()]),
        );
        let r = record(res, Attributes::new(), Severity::info());
        assert_eq!(oname(&r.as_ref()), "/custom/group");
        assert_eq!(mapping().log_pack(&r.as_ref()).category, GENERIC_LOG_CATEGORY);
        let r = record(Attributes::new(), Attributes::new(), Severity::info());
        assert_eq!(oname(&r.as_ref()), FALLBACK_ONAME);
    }

    #[test]
    fn rds_event_levels_and_categories() {
        let mut res = Attributes::new();
        res.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        let mut attrs = Attributes::new();
        attrs.insert(keys::RDS_EVENT_ID, "RDS-EVENT-0004");
        let r = record(res, attrs, Severity::new_static("ERROR", severity::ERROR));
        let ev = mapping().event_pack(&r.as_ref()).unwrap();
        assert_eq!(
            (ev.level, ev.title.as_str(), ev.uuid.as_str()),
            (LEVEL_FATAL, "RDS-EVENT-0004 on db-1", "id-1")
        );
        assert_eq!(mapping().log_pack(&r.as_ref()).category, EVENT_CATEGORY);
        let over = Mapping {
            log_category: Some("logs".into()),
            event_category: Some("events".into()),
            ..mapping()
        };
        assert_eq!(over.log_pack(&r.as_ref()).category, "events");
        let mut out = Vec::new();
        assert_eq!(mapping().encode(&r.as_ref(), &mut out), 2);
        assert_eq!(
            Mapping {
                event_pack: false,
                ..mapping()
            }
            .encode(&r.as_ref(), &mut out),
            1
        );
        assert_eq!(level_for(severity::FATAL), LEVEL_FATAL);
        assert_eq!(level_for(severity::WARN), LEVEL_WARNING);
        assert_eq!(level_for(severity::INFO), LEVEL_INFO);
        assert_eq!(level_for(severity::DEBUG), LEVEL_INFO);
    }

    /// The reference encoding: every pack built as a struct, then written.
    /// Attribute lists of constant keys that share a key list, differ
    /// from it by one key, by order, by a repeat, by a text key (never
    /// remembered), an RDS event and the empty list.
    fn key_lists() -> Vec<Attributes> {
        let plain = |ks: &[PlainKey]| {
            let mut a = Attributes::new();
            for (i, k) in ks.iter().enumerate() {
                a.0.push(((*k).into(), record::Value::Int(i as i64)));
            }
            a
        };
        let base = [keys::CLIENT_ADDRESS, keys::USER_NAME, keys::PROCESS_PID];
        let mut repeated = plain(&base);
        repeated.0.push((keys::USER_NAME.into(), record::Value::Int(9)));
        let mut text = plain(&base);
        text.0[1].0 = Key::from(FIELD_SEVERITY_TEXT);
        let mut same_text = plain(&base);
        same_text.0[2].0 = Key::from(keys::PROCESS_PID.as_str().to_owned());
        vec![
            plain(&base),
            plain(&[keys::CLIENT_ADDRESS, keys::USER_NAME, keys::RDS_EVENT_ID]),
            plain(&[keys::USER_NAME, keys::CLIENT_ADDRESS, keys::PROCESS_PID]),
            repeated,
            text,
            same_text,
            plain(&[keys::RDS_EVENT_ID]),
            plain(&[keys::RDS_EVENT_ID, keys::USER_NAME, keys::USER_NAME]),
            Attributes::new(),
        ]
    }

    /// The remembered facts are always those of a fresh look at the keys,
    /// whatever list came before (every ordered pair of lists, and each
    /// list twice in a row).
    #[test]
    fn key_cache_gives_the_facts_of_a_fresh_scan() {
        let lists = key_lists();
        let fresh = |a: &Attributes| KeyFacts {
            fields_distinct: fields_are_distinct(a),
            rds_event: a.get(keys::RDS_EVENT_ID).is_some(),
        };
        let mut seen = std::collections::HashSet::new();
        for before in &lists {
            for now in &lists {
                let mut cache = KeyCache::default();
                for a in [before, before, now, now, before] {
                    assert_eq!(cache.facts(a), fresh(a), "{a:?} after {before:?}");
                    seen.insert((fresh(a).fields_distinct, fresh(a).rds_event));
                }
            }
        }
        // The lists reach every combination of the two facts.
        assert_eq!(seen.len(), 4);
    }

    /// A batch whose records change key lists mid-run writes the bytes of
    /// the reference path, one record at a time or all at once.
    #[test]
    fn records_changing_key_lists_write_the_reference_bytes() {
        let mut res = Attributes::new();
        res.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        let res = Arc::new(res);
        let lists = key_lists();
        let mut records = RecordSet::new();
        for i in 0..3 * lists.len() {
            // Runs of two records per list, then each list once more.
            let attrs = lists[if i < 2 * lists.len() { i / 2 } else { i % lists.len() }].clone();
            let r = record(
                Attributes::new(),
                attrs,
                Severity::new_static("ERROR", severity::ERROR),
            )
            .record;
            records.push(&res, r);
        }
        let m = mapping();
        let mut got = Vec::new();
        m.encode_batch(&records.all_groups(), &mut got);
        assert_eq!(got, reference_frames(&m, &records));
    }

    fn reference_frames(m: &Mapping, records: &RecordSet) -> Vec<u8> {
        let mut out = Vec::new();
        for r in records.with_resources() {
            let r = &r;
            let log = m.log_pack(r);
            write_frame(&mut out, m.pcode, m.license_hash, |b| log.write_body(b));
            if let Some(ev) = m.event_pack.then(|| m.event_pack(r)).flatten() {
                write_frame(&mut out, m.pcode, m.license_hash, |b| ev.write_body(b));
            }
        }
        out
    }

    #[test]
    fn cached_fast_path_writes_the_reference_bytes() {
        let mut res_a = Attributes::new();
        res_a.insert(keys::RDS_SOURCE_IDENTIFIER, "db-1");
        res_a.insert(keys::RDS_LOG_TYPE, "postgresql");
        res_a.insert(keys::DB_SYSTEM_NAME, "postgresql");
        res_a.insert(keys::CLOUD_REGION, "us-east-1");
        res_a.insert(keys::CLOUD_ACCOUNT_ID, "123456789012");
        res_a.insert(
            keys::AWS_LOG_GROUP_NAMES,
            record::Value::Array(vec!["/aws/rds/instance/db-1/postgresql".into()]),
        );
        res_a.insert(
            keys::AWS_LOG_STREAM_NAMES,
            record::Value::Array(vec!["db-1.0".into(), "db-1.1".into()]),
        );
        let res_a = Arc::new(res_a);
        let res_b = Arc::new(Attributes::new());
        let mut records = RecordSet::new();
        for i in 0..40i64 {
            let mut attrs = Attributes::new();
            attrs.insert("s", "x".repeat(i as usize * 20)); // crosses 253/65535 lengths
            attrs.insert("edge", "z".repeat(250 + i as usize % 8)); // 253 and 254 exactly
            attrs.insert("n", i * 1_000_003 - 7);
            attrs.insert("d", i as f64 / 3.0);
            attrs.insert("b", i % 2 == 0);
            attrs.insert("a", record::Value::Array(vec![i.into(), "y".into()]));
            if i % 5 == 0 {
                attrs.insert(keys::RDS_EVENT_ID, "RDS-EVENT-0004");
            }
            if i % 7 == 0 {
                // Collides with a field name: must take the reference path.
                attrs.insert(FIELD_SEVERITY_TEXT, "shadow");
            }
            if i % 13 == 0 {
                attrs.insert(FIELD_SEVERITY_NUMBER, i);
            }
            if i % 11 == 0 {
                // A repeated key (only possible through the pub field).
                attrs.0.push(("n".into(), record::Value::Int(1)));
            }
            let mut r = record(
                Attributes::new(),
                attrs,
                Severity::new_static("WARNING", severity::WARN),
            )
            .record;
            let resource = if i % 3 == 0 { &res_b } else { &res_a };
            r.timestamp_ns = 1_718_000_000_000_000_000 + i * 999_999_937 - 5_000_000_000;
            r.body = "é\"\n".repeat(i as usize * 9);
            records.push(resource, r);
        }
        let overrides = [
            mapping(),
            Mapping {
                log_category: Some("logs".into()),
                event_category: Some("events".into()),
                event_pack: false,
                ..mapping()
            },
        ];
        for m in overrides {
            let mut got = Vec::new();
            let frames = m.encode_batch(&records.all_groups(), &mut got);
            assert_eq!(got, reference_frames(&m, &records));
            let mut one_by_one = Vec::new();
            let n: usize = records
                .with_resources()
                .map(|r| m.encode(&r, &mut one_by_one))
                .sum();
            assert_eq!((one_by_one, n), (got, frames));
        }
    }
}
