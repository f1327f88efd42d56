//! The record every stage produces and every sink consumes, shaped like the
//! OpenTelemetry log data model. Attribute keys live in [`keys`] so that no
//! parser or sink spells a key as a loose string literal.

use std::borrow::Cow;
use std::sync::Arc;

pub use compact_str::CompactString;

use crate::severity::Severity;

/// An attribute key that JSON writes as its bytes between quotes: printable
/// ASCII without `"` or `\`. Only [`keys`] builds them, in `const` items, so
/// a bad byte fails the build ([`PlainKey::new`] is private); sinks copy
/// them without the escape check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PlainKey(&'static str);

impl PlainKey {
    /// Panics on a byte JSON would escape (or any non-ASCII byte): in a
    /// `const` item that is a compile error.
    const fn new(key: &'static str) -> PlainKey {
        assert!(
            needs_no_json_escape(key),
            "an attribute key constant must be printable ASCII without \" or \\"
        );
        PlainKey(key)
    }

    pub const fn as_str(self) -> &'static str {
        self.0
    }
}

/// Whether `s` is printable ASCII without `"` or `\`: the strings JSON
/// writes unchanged between quotes.
pub const fn needs_no_json_escape(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c < 0x20 || c > 0x7e || c == b'"' || c == b'\\' {
            return false;
        }
        i += 1;
    }
    true
}

impl std::ops::Deref for PlainKey {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for PlainKey {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Display for PlainKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// Written as its text (tests build expected JSON from the constants).
impl serde::Serialize for PlainKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0)
    }
}

impl PartialEq<str> for PlainKey {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}
impl PartialEq<&str> for PlainKey {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}
impl PartialEq<PlainKey> for str {
    fn eq(&self, other: &PlainKey) -> bool {
        self == other.0
    }
}
impl PartialEq<PlainKey> for &str {
    fn eq(&self, other: &PlainKey) -> bool {
        *self == other.0
    }
}

/// An attribute key: almost always a [`PlainKey`] constant from [`keys`];
/// any other text (RDS tag names, `OTEL_RESOURCE_ATTRIBUTES`, names taken
/// from the input) is kept as [`Key::Text`], which a JSON writer must
/// escape. The type keeps the two apart: no text becomes a `Plain` key.
#[derive(Debug, Clone)]
pub enum Key {
    Plain(PlainKey),
    Text(Cow<'static, str>),
}

impl Key {
    pub fn as_str(&self) -> &str {
        match self {
            Key::Plain(k) => k.0,
            Key::Text(t) => t,
        }
    }
}

impl std::ops::Deref for Key {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Key {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::borrow::Borrow<str> for Key {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Keys are equal when their text is, however they were built.
impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_str() == other.as_str()
    }
}
impl Eq for Key {}
impl std::hash::Hash for Key {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}
impl PartialEq<str> for Key {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}
impl PartialEq<&str> for Key {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}
impl PartialEq<PlainKey> for Key {
    fn eq(&self, other: &PlainKey) -> bool {
        self.as_str() == other.0
    }
}

impl From<PlainKey> for Key {
    fn from(k: PlainKey) -> Key {
        Key::Plain(k)
    }
}
impl From<&'static str> for Key {
    fn from(k: &'static str) -> Key {
        Key::Text(Cow::Borrowed(k))
    }
}
impl From<String> for Key {
    fn from(k: String) -> Key {
        Key::Text(Cow::Owned(k))
    }
}
impl From<Cow<'static, str>> for Key {
    fn from(k: Cow<'static, str>) -> Key {
        Key::Text(k)
    }
}

/// A typed attribute value; mirrors OTLP's `AnyValue` subset we need.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// Text, kept inline up to 24 bytes: most attribute values (addresses,
    /// users, pids' peers, levels, fingerprint ids) are that short, and one
    /// heap string each was ~7 allocations a record (callgrind).
    Str(CompactString),
    Int(i64),
    Double(f64),
    Bool(bool),
    Array(Vec<Value>),
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Value::Str(CompactString::from(s))
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Value::Str(CompactString::from(s))
    }
}
impl From<CompactString> for Value {
    fn from(s: CompactString) -> Self {
        Value::Str(s)
    }
}
impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Double(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl Value {
    /// The text of a string value, `None` for other kinds.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// An ordered list of key/value pairs. A `Vec` rather than a map: records
/// carry few attributes, insertion order is meaningful in output, and a
/// linear scan beats hashing at these sizes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Attributes(pub Vec<(Key, Value)>);

impl Attributes {
    pub fn new() -> Self {
        Self(Vec::new())
    }
    pub fn with_capacity(n: usize) -> Self {
        Self(Vec::with_capacity(n))
    }
    /// Sets `key`, replacing an earlier value so each key appears once.
    pub fn insert(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        let key = key.into();
        let value = value.into();
        if let Some(slot) = self.0.iter_mut().find(|(k, _)| *k == key) {
            slot.1 = value;
        } else {
            self.0.push((key, value));
        }
    }
    pub fn get(&self, key: impl AsRef<str>) -> Option<&Value> {
        let key = key.as_ref();
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub fn get_str(&self, key: impl AsRef<str>) -> Option<&str> {
        self.get(key).and_then(Value::as_str)
    }
    pub fn remove(&mut self, key: impl AsRef<str>) -> Option<Value> {
        let key = key.as_ref();
        let i = self.0.iter().position(|(k, _)| k == key)?;
        Some(self.0.remove(i).1)
    }
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v))
    }
    /// Each key as built (a writer copies [`Key::Plain`] unescaped).
    pub fn entries(&self) -> impl Iterator<Item = (&Key, &Value)> {
        self.0.iter().map(|(k, v)| (k, v))
    }
    pub fn len(&self) -> usize {
        self.0.len()
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Moves all of `other` in behind our own pairs, none of whose keys we
    /// may hold: how the pipeline adds a parser's attributes after its own,
    /// whose keys ([`keys::owned_by_pipeline`]) no parser writes. One move
    /// instead of a key-by-key check, which cost ~900 instructions a record
    /// (callgrind); debug builds check the premise, as do the corpus test and
    /// the `parse_message` fuzz target. `other` is left empty with its
    /// capacity, for the next record.
    pub fn move_in_disjoint(&mut self, other: &mut Attributes) {
        debug_assert!(
            other.0.iter().all(|(k, _)| self.get(k).is_none()),
            "attribute key written twice"
        );
        self.0.append(&mut other.0);
    }

    /// Whether no key appears twice (by text). [`Attributes::insert`] keeps
    /// it so, but the list is public and [`Attributes::move_in_disjoint`]
    /// only checks in debug builds: a writer that relies on it asks here.
    /// Most keys are ruled out by a 64-bit filter of (length, last byte);
    /// only a key whose filter bit is already set is compared with the
    /// earlier ones — a record's ~14 keys cost ~14 steps and a few string
    /// compares, not ~90 (callgrind: the pairwise check was a quarter of the
    /// WhaTap encoder).
    pub fn has_distinct_keys(&self) -> bool {
        if self.0.len() > LONG_LIST {
            // Past the filter's 64 slots nearly every key shares one, and
            // the pairwise fallback would be quadratic in keys taken from
            // input (extracted fields, tags): a set is linear.
            let mut seen = std::collections::HashSet::with_capacity(self.0.len());
            return self.0.iter().all(|(k, _)| seen.insert(k.as_str()));
        }
        let mut seen = 0u64;
        for (i, (k, _)) in self.0.iter().enumerate() {
            let bit = 1u64 << key_filter_slot(k.as_str());
            if seen & bit != 0 && self.0[..i].iter().any(|(earlier, _)| earlier == k) {
                return false;
            }
            seen |= bit;
        }
        true
    }
}

/// A list longer than this is checked and merged through a hash set or map
/// rather than by scanning: the keys of ordinary records (~15) stay on the
/// scan, which is cheaper at that size.
const LONG_LIST: usize = 32;

// ---- many keys at once, linear (keys taken from input) ----
impl Attributes {
    /// Sets each pair in order as [`Attributes::insert`] would (a key seen
    /// before keeps its place and takes the later value), in time linear in
    /// the keys. `insert` scans the list per key, so n keys taken from input
    /// — a subscription's extracted fields, an RDS event's tags, a slow
    /// log's `#` words — cost n² compares: 80,000 extracted fields in one
    /// 250 KB payload took 12 s.
    pub fn insert_all<K: Into<Key>, V: Into<Value>>(
        &mut self,
        pairs: impl IntoIterator<Item = (K, V)>,
    ) {
        let pairs: Vec<(Key, Value)> = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        if self.0.len() + pairs.len() <= LONG_LIST {
            for (k, v) in pairs {
                self.insert(k, v);
            }
            return;
        }
        // Where each pair goes: the position of the first pair (held or
        // earlier in `pairs`) with its key, or the next free one.
        let targets: Vec<usize> = {
            let mut at: std::collections::HashMap<&str, usize> =
                std::collections::HashMap::with_capacity(self.0.len() + pairs.len());
            for (i, (k, _)) in self.0.iter().enumerate() {
                at.entry(k.as_str()).or_insert(i);
            }
            let mut next = self.0.len();
            pairs
                .iter()
                .map(|(k, _)| {
                    *at.entry(k.as_str()).or_insert_with(|| {
                        next += 1;
                        next - 1
                    })
                })
                .collect()
        };
        for ((k, v), to) in pairs.into_iter().zip(targets) {
            match self.0.get_mut(to) {
                Some(slot) => slot.1 = v,
                None => self.0.push((k, v)),
            }
        }
    }
}

#[cfg(test)]
mod insert_all_tests {
    use super::*;
    use proptest::prelude::*;

    fn one_by_one(mut a: Attributes, pairs: &[(String, i64)]) -> Attributes {
        for (k, v) in pairs {
            a.insert(k.clone(), *v);
        }
        a
    }

    proptest! {
        /// The same list as inserting one pair at a time, whether the
        /// lists are short (the scan) or long (the map), with keys repeated
        /// among the pairs and with keys already held.
        #[test]
        fn insert_all_is_insert_one_by_one(
            held in proptest::collection::vec(0u8..60, 0..40),
            pairs in proptest::collection::vec((0u8..60, any::<i64>()), 0..80),
        ) {
            let mut start = Attributes::new();
            for k in held {
                start.insert(format!("k{k}"), -1i64);
            }
            let pairs: Vec<(String, i64)> =
                pairs.into_iter().map(|(k, v)| (format!("k{k}"), v)).collect();
            let mut all = start.clone();
            all.insert_all(pairs.iter().cloned());
            prop_assert_eq!(&all, &one_by_one(start, &pairs));
            prop_assert!(all.has_distinct_keys());
        }
    }

    /// A long list with a key repeated is caught by the set check too.
    #[test]
    fn a_long_list_with_a_repeat_is_not_distinct() {
        let mut a = Attributes::new();
        a.insert_all((0..1000).map(|i| (format!("k{i}"), i as i64)));
        assert_eq!(a.len(), 1000);
        assert!(a.has_distinct_keys());
        a.0.push((Key::from("k999"), Value::Int(0)));
        assert!(!a.has_distinct_keys());
    }
}

// ---- insert without the key scan (issue 17, parsers' fresh records) ----
impl Attributes {
    /// Adds `key`, which this list must not hold yet, without looking for
    /// it: [`Attributes::insert`] compares the key with every one already
    /// present, ~60 instructions a key, a sixth of a PostgreSQL line's parse
    /// (callgrind: 3,318 → 2,739 a line). For keys a parser writes once into
    /// a record it just built, distinct by construction; debug builds (every
    /// test) check it, and the parsers' corpus test checks their outputs.
    pub fn push_new(&mut self, key: impl Into<Key>, value: impl Into<Value>) {
        let key = key.into();
        debug_assert!(
            self.get(&key).is_none(),
            "attribute key {key} written twice"
        );
        self.0.push((key, value.into()));
    }
}

#[cfg(test)]
mod push_new_tests {
    use super::*;

    /// Same list as `insert` builds for fresh keys, in the same order.
    #[test]
    fn push_new_is_insert_for_a_fresh_key() {
        let (mut pushed, mut inserted) = (Attributes::new(), Attributes::new());
        for (k, v) in [(keys::CLIENT_ADDRESS, "10.0.0.1"), (keys::USER_NAME, "app")] {
            pushed.push_new(k, v);
            inserted.insert(k, v);
        }
        assert_eq!(pushed, inserted);
        assert!(pushed.has_distinct_keys());
    }

    /// A key pushed twice is caught in debug builds (the tests' builds), by
    /// text however the key was built.
    #[cfg(debug_assertions)]
    #[test]
    #[should_panic(expected = "written twice")]
    fn push_new_of_a_present_key_panics_in_debug_builds() {
        let mut a = Attributes::new();
        a.push_new(keys::USER_NAME, "a");
        a.push_new(Key::from("user.name"), "b");
    }
}

/// A key's bit in [`Attributes::has_distinct_keys`]'s filter: equal texts
/// share a slot (so a clear bit proves the key new); different texts mostly
/// do not.
fn key_filter_slot(key: &str) -> u32 {
    let last = key.as_bytes().last().copied().unwrap_or(0);
    (key.len() as u32)
        .wrapping_mul(7)
        .wrapping_add(u32::from(last))
        % 64
}

/// The entity that produced the records (one database, one log group).
/// Shared through an `Arc` by the [`RecordSet`] runs and metric points that
/// name it, so it is built once per document, not per record.
pub type Resource = Arc<Attributes>;

/// Records of one resource, in order: the shape of an OTLP `ResourceLogs`,
/// and what a sink receives (a batch is a few of these).
#[derive(Debug, Clone, Copy)]
pub struct ResourceRecords<'a> {
    pub resource: &'a Resource,
    pub records: &'a [Record],
}

impl<'a> ResourceRecords<'a> {
    /// Each record with the group's resource.
    pub fn iter(&self) -> impl Iterator<Item = RecordRef<'a>> + 'a {
        let resource = self.resource;
        self.records
            .iter()
            .map(move |record| RecordRef { resource, record })
    }
}

/// Every record of `batch` with its resource, in order.
pub fn flatten<'a>(batch: &'a [ResourceRecords<'a>]) -> impl Iterator<Item = RecordRef<'a>> + 'a {
    batch.iter().flat_map(|g| g.iter())
}

/// A record with its resource, for code that reads both (a sink's mapping
/// of one record); reads as the record itself.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a> {
    pub resource: &'a Resource,
    pub record: &'a Record,
}

impl std::ops::Deref for RecordRef<'_> {
    type Target = Record;
    fn deref(&self) -> &Record {
        self.record
    }
}

/// Records in the order they were produced, with their resources as runs
/// (consecutive records of one resource share one run). Reads as a slice of
/// records; [`RecordSet::groups`] gives any range of it grouped by resource,
/// which is how delivery hands batches to sinks.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RecordSet {
    records: Vec<Record>,
    /// `(resource, end)`: records `previous end..end` belong to `resource`.
    runs: Vec<(Resource, usize)>,
}

impl RecordSet {
    pub fn new() -> Self {
        RecordSet::default()
    }

    /// Adds `record` of `resource` at the end (a new run unless the last
    /// run's resource is the same `Arc`).
    pub fn push(&mut self, resource: &Resource, record: Record) {
        self.records.push(record);
        let end = self.records.len();
        match self.runs.last_mut() {
            Some((last, last_end)) if Arc::ptr_eq(last, resource) => *last_end = end,
            _ => self.runs.push((resource.clone(), end)),
        }
    }

    /// `records`, all of `resource` (tests and tools build sets this way).
    pub fn of(resource: Resource, records: Vec<Record>) -> Self {
        let end = records.len();
        RecordSet {
            records,
            runs: if end == 0 {
                Vec::new()
            } else {
                vec![(resource, end)]
            },
        }
    }

    /// Moves every record of `other` to the end, with its resource.
    pub fn append(&mut self, other: RecordSet) {
        let base = self.records.len();
        self.records.extend(other.records);
        for (resource, end) in other.runs {
            match self.runs.last_mut() {
                Some((last, last_end)) if Arc::ptr_eq(last, &resource) => *last_end = base + end,
                _ => self.runs.push((resource, base + end)),
            }
        }
    }

    pub fn reserve(&mut self, additional: usize) {
        self.records.reserve(additional);
    }

    /// The records of `range`, grouped by resource in order.
    pub fn groups(&self, range: std::ops::Range<usize>) -> Vec<ResourceRecords<'_>> {
        let mut out = Vec::new();
        // The first run that ends after `range.start`.
        let first = self.runs.partition_point(|(_, end)| *end <= range.start);
        let mut start = range.start;
        for (resource, end) in &self.runs[first..] {
            if start >= range.end {
                break;
            }
            let stop = (*end).min(range.end);
            out.push(ResourceRecords {
                resource,
                records: &self.records[start..stop],
            });
            start = stop;
        }
        out
    }

    /// Every record grouped by resource.
    pub fn all_groups(&self) -> Vec<ResourceRecords<'_>> {
        self.groups(0..self.records.len())
    }

    /// The resource of record `i`.
    pub fn resource_of(&self, i: usize) -> &Resource {
        let run = self.runs.partition_point(|(_, end)| *end <= i);
        &self.runs[run].0
    }

    /// Record `i` with its resource.
    pub fn at(&self, i: usize) -> RecordRef<'_> {
        RecordRef {
            resource: self.resource_of(i),
            record: &self.records[i],
        }
    }

    /// Replaces the resource of every run for which `f` gives a new one
    /// (the metadata stage adds RDS metadata this way, once per run).
    pub fn map_resources(&mut self, mut f: impl FnMut(&Resource, usize) -> Option<Resource>) {
        let mut start = 0;
        for (resource, end) in &mut self.runs {
            if let Some(new) = f(resource, *end - start) {
                *resource = new;
            }
            start = *end;
        }
    }

    /// Each record with its resource, in order.
    pub fn with_resources(&self) -> impl Iterator<Item = RecordRef<'_>> {
        self.all_groups().into_iter().flat_map(|g| g.iter())
    }
}

impl std::ops::Deref for RecordSet {
    type Target = [Record];
    fn deref(&self) -> &[Record] {
        &self.records
    }
}

/// Records with their resources, in order (consecutive records of one
/// `Arc` share a run).
impl FromIterator<(Resource, Record)> for RecordSet {
    fn from_iter<I: IntoIterator<Item = (Resource, Record)>>(iter: I) -> Self {
        let mut set = RecordSet::new();
        for (resource, record) in iter {
            set.push(&resource, record);
        }
        set
    }
}

impl<'a> IntoIterator for &'a RecordSet {
    type Item = &'a Record;
    type IntoIter = std::slice::Iter<'a, Record>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.iter()
    }
}

/// The records alone, their resources dropped.
impl IntoIterator for RecordSet {
    type Item = Record;
    type IntoIter = std::vec::IntoIter<Record>;
    fn into_iter(self) -> Self::IntoIter {
        self.records.into_iter()
    }
}

impl std::ops::DerefMut for RecordSet {
    /// Records may be changed in place (not added or removed: the runs hold
    /// positions).
    fn deref_mut(&mut self) -> &mut [Record] {
        &mut self.records
    }
}

/// One log record in the OpenTelemetry log data model.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// When the database or RDS said it happened (Unix ns). Never replaced
    /// by the forwarding time.
    pub timestamp_ns: i64,
    /// When rds-forwarder received it (Unix ns).
    pub observed_timestamp_ns: i64,
    pub severity: Severity,
    /// The original message (after secret redaction).
    pub body: String,
    pub attributes: Attributes,
    /// A stable id (CloudWatch event id or EventBridge id) that lets a
    /// backend drop the duplicates an at-least-once retry may produce.
    pub id: String,
}

/// Every attribute key we emit. Documented one by one in `docs/schema.md`;
/// a test checks that each constant here appears there.
pub mod keys {
    use super::PlainKey;

    // ---- resource ----
    pub const CLOUD_PROVIDER: PlainKey = PlainKey::new("cloud.provider");
    pub const CLOUD_ACCOUNT_ID: PlainKey = PlainKey::new("cloud.account.id");
    pub const CLOUD_REGION: PlainKey = PlainKey::new("cloud.region");
    pub const CLOUD_RESOURCE_ID: PlainKey = PlainKey::new("cloud.resource_id");
    pub const AWS_LOG_GROUP_NAMES: PlainKey = PlainKey::new("aws.log.group.names");
    pub const AWS_LOG_STREAM_NAMES: PlainKey = PlainKey::new("aws.log.stream.names");
    pub const RDS_SOURCE_KIND: PlainKey = PlainKey::new("aws.rds.source_kind");
    pub const RDS_SOURCE_IDENTIFIER: PlainKey = PlainKey::new("aws.rds.source_identifier");
    pub const RDS_LOG_TYPE: PlainKey = PlainKey::new("aws.rds.log_type");
    pub const RDS_ENGINE_FAMILY: PlainKey = PlainKey::new("aws.rds.engine_family");
    pub const DB_SYSTEM_NAME: PlainKey = PlainKey::new("db.system.name");
    pub const SERVICE_NAME: PlainKey = PlainKey::new("service.name");

    // ---- attributes: CloudWatch log events ----
    pub const CW_EVENT_ID: PlainKey = PlainKey::new("aws.cloudwatch.event_id");
    pub const CW_EVENT_IDS: PlainKey = PlainKey::new("aws.cloudwatch.event_ids");
    pub const CW_EVENT_PART: PlainKey = PlainKey::new("aws.cloudwatch.event_part");
    pub const CW_TIMESTAMP: PlainKey = PlainKey::new("aws.cloudwatch.timestamp");
    pub const CW_POLICY_LEVEL: PlainKey = PlainKey::new("aws.cloudwatch.policy_level");
    pub const CW_SUBSCRIPTION_FILTERS: PlainKey =
        PlainKey::new("aws.cloudwatch.subscription_filters");
    pub const CW_EXTRACTED_FIELDS_PREFIX: &str = "aws.cloudwatch.extracted.";
    pub const KINESIS_SEQUENCE_NUMBER: PlainKey = PlainKey::new("aws.kinesis.sequence_number");
    pub const PARSER: PlainKey = PlainKey::new("rds.parser");
    pub const MESSAGE_TRUNCATED_FROM: PlainKey = PlainKey::new("rds.message.truncated_from");
    pub const PARSE_ERROR: PlainKey = PlainKey::new("rds.parse.error");

    // ---- attributes: RDS events (EventBridge) ----
    pub const EVENTBRIDGE_ID: PlainKey = PlainKey::new("aws.eventbridge.id");
    pub const RDS_EVENT_ID: PlainKey = PlainKey::new("rds.event.id");
    pub const RDS_EVENT_CATEGORIES: PlainKey = PlainKey::new("rds.event.categories");
    pub const RDS_EVENT_SOURCE_TYPE: PlainKey = PlainKey::new("rds.event.source_type");
    pub const RDS_EVENT_SOURCE_ARN: PlainKey = PlainKey::new("rds.event.source_arn");
    pub const RDS_EVENT_DETAIL_TYPE: PlainKey = PlainKey::new("rds.event.detail_type");
    pub const RDS_EVENT_CATALOG_CATEGORY: PlainKey = PlainKey::new("rds.event.catalog_category");
    pub const RDS_EVENT_DESCRIPTION: PlainKey = PlainKey::new("rds.event.description");
    pub const RDS_EVENT_NOTES: PlainKey = PlainKey::new("rds.event.notes");
    pub const RDS_EVENT_KNOWN: PlainKey = PlainKey::new("rds.event.known");
    pub const RDS_EVENT_TAG_PREFIX: &str = "rds.event.tags.";

    // ---- db (OTel semconv, shared by parsers) ----
    pub const DB_NAMESPACE: PlainKey = PlainKey::new("db.namespace");
    pub const DB_QUERY_TEXT: PlainKey = PlainKey::new("db.query.text");
    pub const DB_OPERATION_NAME: PlainKey = PlainKey::new("db.operation.name");
    pub const DB_RESPONSE_STATUS_CODE: PlainKey = PlainKey::new("db.response.status_code");
    pub const CLIENT_ADDRESS: PlainKey = PlainKey::new("client.address");
    pub const CLIENT_PORT: PlainKey = PlainKey::new("client.port");
    pub const PROCESS_PID: PlainKey = PlainKey::new("process.pid");
    pub const USER_NAME: PlainKey = PlainKey::new("user.name");
    pub const DB_QUERY_DURATION_MS: PlainKey = PlainKey::new("db.query.duration_ms");

    // ---- postgres / oracle / sqlserver / proxy / iam ----
    pub const NETWORK_TRANSPORT: PlainKey = PlainKey::new("network.transport");
    pub const SERVER_ADDRESS: PlainKey = PlainKey::new("server.address");
    pub const SERVER_PORT: PlainKey = PlainKey::new("server.port");
    pub const PG_EVENT: PlainKey = PlainKey::new("db.postgresql.event");
    pub const PG_LINE_NUMBER: PlainKey = PlainKey::new("db.postgresql.line_number");
    pub const PG_SESSION_START: PlainKey = PlainKey::new("db.postgresql.session_start");
    pub const PG_VIRTUAL_XID: PlainKey = PlainKey::new("db.postgresql.virtual_transaction_id");
    pub const PG_XID: PlainKey = PlainKey::new("db.postgresql.transaction_id");
    pub const PG_SESSION_ID: PlainKey = PlainKey::new("db.postgresql.session_id");
    pub const PG_APPLICATION_NAME: PlainKey = PlainKey::new("db.postgresql.application_name");
    pub const PG_STATEMENT_KIND: PlainKey = PlainKey::new("db.postgresql.statement_kind");
    pub const PG_PREPARED_NAME: PlainKey = PlainKey::new("db.postgresql.prepared_statement_name");
    pub const PG_PARAMETERS: PlainKey = PlainKey::new("db.postgresql.parameters");
    pub const PG_PLAN: PlainKey = PlainKey::new("db.postgresql.plan");
    pub const PG_PLAN_FORMAT: PlainKey = PlainKey::new("db.postgresql.plan_format");
    pub const PG_DETAIL: PlainKey = PlainKey::new("db.postgresql.detail");
    pub const PG_HINT: PlainKey = PlainKey::new("db.postgresql.hint");
    pub const PG_CONTEXT: PlainKey = PlainKey::new("db.postgresql.context");
    pub const PG_INTERNAL_QUERY: PlainKey = PlainKey::new("db.postgresql.internal_query");
    pub const PG_LOCATION: PlainKey = PlainKey::new("db.postgresql.location");
    pub const PG_AUTH_IDENTITY: PlainKey = PlainKey::new("db.postgresql.auth.identity");
    pub const PG_AUTH_METHOD: PlainKey = PlainKey::new("db.postgresql.auth.method");
    pub const PG_SESSION_TIME_MS: PlainKey = PlainKey::new("db.postgresql.session_time_ms");
    pub const PG_CHECKPOINT_REASON: PlainKey = PlainKey::new("db.postgresql.checkpoint.reason");
    pub const PG_CHECKPOINT_BUFFERS: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.buffers_written");
    pub const PG_CHECKPOINT_BUFFERS_PCT: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.buffers_written_pct");
    pub const PG_CHECKPOINT_WAL_ADDED: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.wal_files_added");
    pub const PG_CHECKPOINT_WAL_REMOVED: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.wal_files_removed");
    pub const PG_CHECKPOINT_WAL_RECYCLED: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.wal_files_recycled");
    pub const PG_CHECKPOINT_WRITE_S: PlainKey = PlainKey::new("db.postgresql.checkpoint.write_s");
    pub const PG_CHECKPOINT_SYNC_S: PlainKey = PlainKey::new("db.postgresql.checkpoint.sync_s");
    pub const PG_CHECKPOINT_TOTAL_S: PlainKey = PlainKey::new("db.postgresql.checkpoint.total_s");
    pub const PG_CHECKPOINT_SYNC_FILES: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.sync_files");
    pub const PG_CHECKPOINT_DISTANCE_KB: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.distance_kb");
    pub const PG_CHECKPOINT_ESTIMATE_KB: PlainKey =
        PlainKey::new("db.postgresql.checkpoint.estimate_kb");
    pub const PG_TEMP_FILE_PATH: PlainKey = PlainKey::new("db.postgresql.temp_file.path");
    pub const PG_TEMP_FILE_SIZE: PlainKey = PlainKey::new("db.postgresql.temp_file.size_bytes");
    pub const PG_TABLE: PlainKey = PlainKey::new("db.postgresql.table");
    pub const PG_ELAPSED_S: PlainKey = PlainKey::new("db.postgresql.maintenance.elapsed_s");
    pub const PG_LOCK_MODE: PlainKey = PlainKey::new("db.postgresql.lock.mode");
    pub const PG_LOCK_OBJECT: PlainKey = PlainKey::new("db.postgresql.lock.object");
    pub const PG_LOCK_WAIT_MS: PlainKey = PlainKey::new("db.postgresql.lock.wait_ms");
    pub const ORA_ERROR_CODES: PlainKey = PlainKey::new("db.oracle.error_codes");
    pub const ORA_LISTENER_EVENT: PlainKey = PlainKey::new("db.oracle.listener.event");
    pub const ORA_LISTENER_SERVICE: PlainKey = PlainKey::new("db.oracle.listener.service");
    pub const ORA_LISTENER_RETURN_CODE: PlainKey = PlainKey::new("db.oracle.listener.return_code");
    pub const ORA_PROGRAM: PlainKey = PlainKey::new("db.oracle.program");
    pub const ORA_CLIENT_HOST: PlainKey = PlainKey::new("db.oracle.client_host");
    pub const ORA_AUDIT_ACTION: PlainKey = PlainKey::new("db.oracle.audit.action");
    pub const ORA_AUDIT_PRIVILEGE: PlainKey = PlainKey::new("db.oracle.audit.privilege");
    pub const ORA_AUDIT_CLIENT_USER: PlainKey = PlainKey::new("db.oracle.audit.client_user");
    pub const MSSQL_SOURCE: PlainKey = PlainKey::new("db.sqlserver.source");
    pub const MSSQL_SPID: PlainKey = PlainKey::new("db.sqlserver.spid");
    pub const MSSQL_ERROR_SEVERITY: PlainKey = PlainKey::new("db.sqlserver.error_severity");
    pub const MSSQL_ERROR_STATE: PlainKey = PlainKey::new("db.sqlserver.error_state");
    pub const MSSQL_AGENT_MESSAGE_ID: PlainKey = PlainKey::new("db.sqlserver.agent.message_id");
    pub const PROXY_TARGET: PlainKey = PlainKey::new("rds.proxy.target");
    // ---- attributes: delivery (OTLP sink) ----
    /// The record's stable id on the wire, so a backend can drop the
    /// duplicates an at-least-once retry produces (OTel semconv).
    pub const LOG_RECORD_UID: PlainKey = PlainKey::new("log.record.uid");
    // ---- MySQL / MariaDB / Aurora MySQL (parse-mysql) ----
    pub const DB_COLLECTION_NAME: PlainKey = PlainKey::new("db.collection.name");
    pub const MYSQL_THREAD_ID: PlainKey = PlainKey::new("mysql.thread_id");
    pub const MYSQL_SUBSYSTEM: PlainKey = PlainKey::new("mysql.subsystem");
    pub const MYSQL_SOURCE_LOCATION: PlainKey = PlainKey::new("mysql.source_location");
    pub const MYSQL_LOCK_TIME_MS: PlainKey = PlainKey::new("mysql.lock_time_ms");
    pub const MYSQL_ROWS_SENT: PlainKey = PlainKey::new("mysql.rows_sent");
    pub const MYSQL_ROWS_EXAMINED: PlainKey = PlainKey::new("mysql.rows_examined");
    pub const MYSQL_ROWS_AFFECTED: PlainKey = PlainKey::new("mysql.rows_affected");
    pub const MYSQL_BYTES_SENT: PlainKey = PlainKey::new("mysql.bytes_sent");
    pub const MYSQL_QC_HIT: PlainKey = PlainKey::new("mysql.qc_hit");
    pub const MYSQL_CLIENT_HOST: PlainKey = PlainKey::new("mysql.client.host");
    pub const MYSQL_SLOW_EXTRA_PREFIX: &str = "mysql.slow.";
    pub const MYSQL_EXPLAIN: PlainKey = PlainKey::new("mysql.explain");
    pub const MYSQL_COMMAND: PlainKey = PlainKey::new("mysql.command");
    pub const MYSQL_QUERY_ID: PlainKey = PlainKey::new("mysql.query_id");
    pub const MYSQL_AUDIT_SERVER_HOST: PlainKey = PlainKey::new("mysql.audit.server_host");
    pub const MYSQL_AUDIT_OPERATION: PlainKey = PlainKey::new("mysql.audit.operation");
    pub const MYSQL_AUDIT_OBJECT: PlainKey = PlainKey::new("mysql.audit.object");
    pub const MYSQL_AUDIT_RETCODE: PlainKey = PlainKey::new("mysql.audit.retcode");
    pub const MYSQL_AUDIT_CONNECTION_TYPE: PlainKey = PlainKey::new("mysql.audit.connection_type");

    // ---- metric points: RDS Enhanced Monitoring (resource and attributes) ----
    // Plain text (the first two aside, which records' resources carry too):
    // metric points only, which no writer copies unescaped.
    pub const RDS_RESOURCE_ID: PlainKey = PlainKey::new("aws.rds.resource_id");
    pub const RDS_ENGINE: PlainKey = PlainKey::new("aws.rds.engine");
    pub const CPU_MODE: &str = "cpu.mode";
    pub const SYSTEM_MEMORY_STATE: &str = "system.memory.state";
    pub const SYSTEM_PAGING_STATE: &str = "system.paging.state";
    pub const PROCESS_STATE: &str = "process.state";
    pub const NETWORK_IO_DIRECTION: &str = "network.io.direction";
    pub const NETWORK_INTERFACE_NAME: &str = "network.interface.name";
    pub const DISK_IO_DIRECTION: &str = "disk.io.direction";
    pub const SYSTEM_DEVICE: &str = "system.device";
    pub const FILESYSTEM_MOUNTPOINT: &str = "system.filesystem.mountpoint";
    pub const FILESYSTEM_STATE: &str = "system.filesystem.state";
    pub const PROCESS_EXECUTABLE_NAME: &str = "process.executable.name";
    pub const THREAD_ID: &str = "thread.id";
    pub const RDS_OS_DISK_GROUP: &str = "aws.rds.os.disk.group";

    // ---- resource: RDS metadata from the RDS API (enrich::metadata) ----
    pub const RDS_ENGINE_VERSION: PlainKey = PlainKey::new("aws.rds.engine_version");
    pub const RDS_INSTANCE_CLASS: PlainKey = PlainKey::new("aws.rds.instance_class");
    pub const CLOUD_AVAILABILITY_ZONE: PlainKey = PlainKey::new("cloud.availability_zone");
    pub const RDS_CLUSTER_IDENTIFIER: PlainKey = PlainKey::new("aws.rds.cluster_identifier");
    pub const RDS_INSTANCE_ROLE: PlainKey = PlainKey::new("aws.rds.instance_role");
    pub const RDS_TAG_PREFIX: &str = "aws.rds.tag.";

    // ---- query fingerprints (all engines) ----
    pub const DB_QUERY_FINGERPRINT: PlainKey = PlainKey::new("db.query.fingerprint");
    pub const DB_QUERY_FINGERPRINT_ID: PlainKey = PlainKey::new("db.query.fingerprint_id");

    // ---- query metrics from the logs (attributes of points only) ----
    pub const RDS_LOG_SEVERITY: PlainKey = PlainKey::new("aws.rds.log.severity");
    pub const RDS_CONNECTION_EVENT: PlainKey = PlainKey::new("aws.rds.connection.event");

    /// Keys only the pipeline writes (CloudWatch and Kinesis metadata, the
    /// parser's name, the parse-failure marker); a parser never does.
    pub fn owned_by_pipeline(key: &str) -> bool {
        key.starts_with("aws.cloudwatch.")
            || key.starts_with("aws.kinesis.")
            || key == PARSER
            || key == PARSE_ERROR
    }
}

#[cfg(test)]
mod key_tests {
    use super::*;

    /// What the check lets through, JSON writes unchanged: a sink may copy
    /// a `PlainKey` between quotes. Every other printable ASCII byte passes.
    #[test]
    fn plain_text_is_what_json_writes_unescaped() {
        let mut samples: Vec<String> = (0u8..0x80).map(|b| char::from(b).to_string()).collect();
        samples.extend(["é", "\u{2028}", "a.b_c-1", "x\"y", "x\\y", "tab\tkey"].map(String::from));
        for s in &samples {
            let json = serde_json::to_string(s).unwrap();
            if needs_no_json_escape(s) {
                assert_eq!(json, format!("\"{s}\""), "{s:?}");
                assert!(s.is_ascii(), "{s:?}");
            }
        }
        for b in 0x20u8..0x7f {
            let s = char::from(b).to_string();
            assert_eq!(needs_no_json_escape(&s), b != b'"' && b != b'\\', "{s:?}");
        }
    }

    /// Text never becomes a plain key: tag names and other dynamic keys stay
    /// on the escaped path whatever they contain.
    #[test]
    fn only_constants_make_plain_keys() {
        assert!(matches!(Key::from(keys::PG_EVENT), Key::Plain(_)));
        assert!(matches!(Key::from("db.postgresql.event"), Key::Text(_)));
        assert!(matches!(
            Key::from(format!("{}{}", keys::RDS_TAG_PREFIX, "a\"b")),
            Key::Text(_)
        ));
        // Equal by text, however built.
        assert_eq!(Key::from(keys::PG_EVENT), Key::from("db.postgresql.event"));
        let mut a = Attributes::new();
        a.insert("db.postgresql.event", 1i64);
        a.insert(keys::PG_EVENT, 2i64);
        assert_eq!(a.len(), 1);
        assert_eq!(a.get(keys::PG_EVENT), Some(&Value::Int(2)));
    }
}

#[cfg(test)]
mod attributes_tests {
    use super::*;

    /// The filtered check agrees with comparing every pair, on lists with
    /// and without a repeat, whether the repeat is the same constant, the
    /// same text built two ways, or a key whose slot another key shares.
    #[test]
    fn distinct_keys_agrees_with_the_pairwise_check() {
        let pairwise = |a: &Attributes| {
            a.0.iter()
                .enumerate()
                .all(|(i, (k, _))| a.0[..i].iter().all(|(e, _)| e != k))
        };
        let pool: Vec<Key> = vec![
            keys::CW_EVENT_ID.into(),
            keys::PARSER.into(),
            keys::CLIENT_ADDRESS.into(),
            keys::CLIENT_PORT.into(),
            keys::PROCESS_PID.into(), // same length and last byte as client.port
            keys::DB_QUERY_FINGERPRINT_ID.into(),
            Key::from("db.query.fingerprint_id".to_owned()),
            Key::from("a"),
            Key::from(""),
            Key::from("x\u{e9}".to_owned()),
        ];
        // Every list of up to 4 keys drawn from the pool, repeats allowed.
        let n = pool.len();
        let mut lists = 0;
        for len in 0..=4u32 {
            for code in 0..n.pow(len) {
                let mut a = Attributes::new();
                let mut c = code;
                for _ in 0..len {
                    a.0.push((pool[c % n].clone(), Value::Int(0)));
                    c /= n;
                }
                assert_eq!(a.has_distinct_keys(), pairwise(&a), "{:?}", a.0);
                lists += 1;
            }
        }
        assert!(lists > 10_000);
        // A long list of distinct keys (many share filter slots) passes.
        let mut long = Attributes::new();
        for i in 0..200 {
            long.insert(format!("k{i}"), i as i64);
        }
        assert!(long.has_distinct_keys());
        long.0.push((Key::from("k150"), Value::Int(0)));
        assert!(!long.has_distinct_keys());
    }

    /// The pipeline's keys go first, the parser's follow in their order,
    /// and the parser's list is left empty, its capacity kept, to be the
    /// next record's scratch.
    #[test]
    fn move_in_puts_the_parsers_keys_behind_and_empties_its_list() {
        let mut front = Attributes::new();
        front.insert(keys::CW_EVENT_ID, "e1");
        front.insert(keys::PARSER, "postgresql");
        let mut parsed = Attributes::with_capacity(4);
        parsed.insert(keys::CLIENT_ADDRESS, "10.0.0.1");
        parsed.insert(keys::PROCESS_PID, 7i64);
        let cap = parsed.0.capacity();
        front.move_in_disjoint(&mut parsed);
        let order: Vec<&str> = front.iter().map(|(k, _)| k).collect();
        assert_eq!(
            order,
            [
                keys::CW_EVENT_ID.as_str(),
                keys::PARSER.as_str(),
                keys::CLIENT_ADDRESS.as_str(),
                keys::PROCESS_PID.as_str()
            ]
        );
        assert!(parsed.is_empty());
        assert_eq!(parsed.0.capacity(), cap);
        assert!(front.has_distinct_keys());
    }

    /// `insert` keeps each key once, so every list it builds passes.
    #[test]
    fn insert_keeps_keys_distinct() {
        let mut a = Attributes::new();
        for (i, k) in ["a", "b", "a", "c", "b"].into_iter().enumerate() {
            a.insert(k, i as i64);
        }
        assert_eq!(a.len(), 3);
        assert!(a.has_distinct_keys());
        assert_eq!(a.get("a"), Some(&Value::Int(2)));
    }
}

#[cfg(test)]
mod record_set_tests {
    use super::*;

    fn record(id: &str) -> Record {
        Record {
            timestamp_ns: 0,
            observed_timestamp_ns: 0,
            severity: Severity::info(),
            body: String::new(),
            attributes: Attributes::new(),
            id: id.to_owned(),
        }
    }

    fn resource(name: &str) -> Resource {
        let mut a = Attributes::new();
        a.insert(keys::RDS_SOURCE_IDENTIFIER, name);
        Arc::new(a)
    }

    /// `(resource name, ids)` of each group.
    fn shape(groups: &[ResourceRecords<'_>]) -> Vec<(String, Vec<String>)> {
        groups
            .iter()
            .map(|g| {
                (
                    g.resource
                        .get_str(keys::RDS_SOURCE_IDENTIFIER)
                        .unwrap()
                        .to_owned(),
                    g.records.iter().map(|r| r.id.clone()).collect(),
                )
            })
            .collect()
    }

    fn sample() -> RecordSet {
        let (a, b) = (resource("a"), resource("b"));
        let mut set = RecordSet::new();
        for (res, id) in [(&a, "1"), (&a, "2"), (&b, "3"), (&a, "4"), (&a, "5")] {
            set.push(res, record(id));
        }
        set
    }

    /// Each run's resource is offered once, with its record count, and
    /// replaced where the closure says; records stay where they were.
    #[test]
    fn map_resources_replaces_runs() {
        let a: Resource = Arc::new(Attributes::new());
        let mut b_attrs = Attributes::new();
        b_attrs.insert("k", "b");
        let b: Resource = Arc::new(b_attrs);
        let mut set = RecordSet::new();
        set.push(&a, record("1"));
        set.push(&a, record("2"));
        set.push(&b, record("3"));
        let mut seen = Vec::new();
        let mut c_attrs = Attributes::new();
        c_attrs.insert("k", "c");
        let c: Resource = Arc::new(c_attrs);
        set.map_resources(|r, n| {
            seen.push((r.get_str("k").map(str::to_owned), n));
            Arc::ptr_eq(r, &b).then(|| c.clone())
        });
        assert_eq!(seen, vec![(None, 2), (Some("b".to_owned()), 1)]);
        assert!(Arc::ptr_eq(set.resource_of(0), &a));
        assert!(Arc::ptr_eq(set.resource_of(2), &c));
        assert_eq!(set[2].id, "3");
    }

    #[test]
    fn consecutive_records_of_one_resource_share_a_run() {
        let set = sample();
        assert_eq!(set.len(), 5);
        assert_eq!(set.runs.len(), 3, "a a | b | a a");
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shape(&set.all_groups()),
            [
                ("a".to_owned(), v(&["1", "2"])),
                ("b".to_owned(), v(&["3"])),
                ("a".to_owned(), v(&["4", "5"]))
            ]
        );
    }

    #[test]
    fn any_range_is_cut_inside_the_groups() {
        let set = sample();
        let v = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            shape(&set.groups(1..4)),
            [
                ("a".to_owned(), v(&["2"])),
                ("b".to_owned(), v(&["3"])),
                ("a".to_owned(), v(&["4"]))
            ]
        );
        assert_eq!(shape(&set.groups(2..3)), [("b".to_owned(), v(&["3"]))]);
        assert!(set.groups(3..3).is_empty());
        // Every range's groups hold exactly its records, in order.
        for start in 0..=5 {
            for end in start..=5 {
                let ids: Vec<String> = flatten(&set.groups(start..end))
                    .map(|r| r.id.clone())
                    .collect();
                let want: Vec<String> = set[start..end].iter().map(|r| r.id.clone()).collect();
                assert_eq!(ids, want, "{start}..{end}");
            }
        }
    }

    #[test]
    fn each_record_knows_its_resource() {
        let set = sample();
        let names: Vec<&str> = (0..5)
            .map(|i| {
                set.resource_of(i)
                    .get_str(keys::RDS_SOURCE_IDENTIFIER)
                    .unwrap()
            })
            .collect();
        assert_eq!(names, ["a", "a", "b", "a", "a"]);
        let via_iter: Vec<&str> = set
            .with_resources()
            .map(|r| r.resource.get_str(keys::RDS_SOURCE_IDENTIFIER).unwrap())
            .collect();
        assert_eq!(via_iter, names);
    }

    #[test]
    fn append_keeps_resources_and_joins_a_shared_run() {
        let a = resource("a");
        let mut first = RecordSet::of(a.clone(), vec![record("1")]);
        let second: RecordSet = [(a.clone(), record("2")), (resource("b"), record("3"))]
            .into_iter()
            .collect();
        first.append(second);
        assert_eq!(first.runs.len(), 2);
        assert_eq!(
            first.resource_of(2).get_str(keys::RDS_SOURCE_IDENTIFIER),
            Some("b")
        );
        assert!(RecordSet::of(a, Vec::new()).all_groups().is_empty());
    }
}
