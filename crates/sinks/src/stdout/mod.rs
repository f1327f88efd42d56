//! NDJSON on stdout: one JSON object per record, keys fixed by the schema
//! (`docs/schema.md`). The default sink, and the one Lambda's own log
//! capture and shell pipelines understand.
//!
//! The encoder is hand-written rather than going through serde_json's
//! `Serializer`: the output shape is fixed and flat, and profiling showed
//! the serializer's per-fragment `io::Write` calls, its byte-at-a-time
//! string escaper and one `String` per timestamp dominating this sink
//! (issue 7). The bytes are identical to what serde_json writes (tested in
//! `tests/ndjson_writer.rs`): the same escapes, `itoa` for integers and
//! `zmij` (serde_json's own float formatter) for doubles.

mod component;
pub mod metrics;

pub use component::{StdoutSettings, NAME};

use std::io::Write;
use std::time::Instant;

use super::{BoxFuture, Sink, SinkError};
use rdsf_core::record::{Attributes, Key, Record, ResourceRecords, Value};

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

    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            // Sized by `encode_ndjson_batch` from its first line.
            let mut buf = Vec::new();
            encode_ndjson_batch(batch, &mut buf);
            write_stdout(&buf)
        })
    }

    fn accepts_metrics(&self) -> bool {
        true
    }

    fn send_metrics<'a>(
        &'a self,
        points: &'a [rdsf_core::metric::MetricPoint],
        _deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(async move {
            let mut buf = Vec::with_capacity(points.len() * 256);
            metrics::encode_batch(points, &mut buf);
            write_stdout(&buf)
        })
    }
}

/// Writes a whole batch; a closed pipe ends the run quietly.
fn write_stdout(buf: &[u8]) -> Result<(), SinkError> {
    let mut out = std::io::stdout().lock();
    out.write_all(buf).and_then(|()| out.flush()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            SinkError::OutputClosed { sink: "stdout" }
        } else {
            SinkError::Unavailable {
                sink: "stdout",
                detail: e.to_string(),
            }
        }
    })
}

/// Appends one record of `resource` as a JSON line to `buf`.
pub fn encode_ndjson(resource: &Attributes, record: &Record, buf: &mut Vec<u8>) {
    let mut json = Vec::with_capacity(256);
    write_attributes(&mut json, resource);
    NdjsonEncoder::new().encode(record, &json, buf);
}

/// Appends every record of `batch` as a JSON line to `buf`, sharing the
/// timestamp caches across the batch (records of one payload share their
/// seconds). `buf` is grown once, by the first line's length times the
/// records left: a fixed guess per record was half the PostgreSQL lines'
/// size, and each doubling copied the whole buffer (callgrind).
pub fn encode_ndjson_batch(batch: &[ResourceRecords<'_>], buf: &mut Vec<u8>) {
    let records: usize = batch.iter().map(|g| g.records.len()).sum();
    let mut enc = NdjsonEncoder::new();
    let mut size = Some((buf.len(), records));
    for group in batch {
        enc.encode_group_sized(group, buf, &mut size);
    }
}

/// Record → JSON line, with the text of the last millisecond seen (and
/// the `YYYY-MM-DDTHH:MM:SS.` prefix of its second) cached for each of the
/// two timestamps.
#[derive(Default)]
pub struct NdjsonEncoder {
    timestamp: SecondCache,
    observed: SecondCache,
    /// The resource JSON of the group being written: encoded once per
    /// group, not once per record (it was a third of each line).
    resource_json: Vec<u8>,
}

impl NdjsonEncoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends each record of `group` as one JSON line.
    pub fn encode_group(&mut self, group: &ResourceRecords<'_>, buf: &mut Vec<u8>) {
        self.encode_group_sized(group, buf, &mut None);
    }

    /// [`NdjsonEncoder::encode_group`]; with `size` = (where the batch
    /// began in `buf`, its record count), room for the rest of the batch is
    /// reserved after the first line, and `size` cleared.
    fn encode_group_sized(
        &mut self,
        group: &ResourceRecords<'_>,
        buf: &mut Vec<u8>,
        size: &mut Option<(usize, usize)>,
    ) {
        let mut json = std::mem::take(&mut self.resource_json);
        json.clear();
        write_attributes(&mut json, group.resource);
        for r in group.records {
            self.encode(r, &json, buf);
            if let Some((start, records)) = size.take() {
                // An eighth more: later lines run a little longer (ids,
                // numbers), and outgrowing the guess copies everything.
                let line = buf.len() - start;
                buf.reserve((line + line / 8) * (records - 1));
            }
        }
        self.resource_json = json;
    }

    /// Appends `record` as one JSON object and a newline; `resource_json`
    /// is its resource's attributes as a JSON object.
    pub fn encode(&mut self, r: &Record, resource_json: &[u8], buf: &mut Vec<u8>) {
        // Rough size up front so the common record needs one reservation.
        buf.reserve(256 + r.body.len());
        buf.extend_from_slice(b"{\"timestamp\":\"");
        self.timestamp.write(r.timestamp_ns, buf);
        buf.extend_from_slice(b"\",\"observed_timestamp\":\"");
        self.observed.write(r.observed_timestamp_ns, buf);
        buf.extend_from_slice(b"\",\"severity_text\":");
        write_json_str(buf, &r.severity.text);
        buf.extend_from_slice(b",\"severity_number\":");
        buf.extend_from_slice(itoa::Buffer::new().format(r.severity.number).as_bytes());
        buf.extend_from_slice(b",\"body\":");
        write_json_str(buf, &r.body);
        buf.extend_from_slice(b",\"attributes\":");
        write_attributes(buf, &r.attributes);
        buf.extend_from_slice(b",\"resource\":");
        buf.extend_from_slice(resource_json);
        buf.extend_from_slice(b"}\n");
    }
}

/// Writes `attrs` as a JSON object. Each member is written as its key's
/// opening quote (with the comma before it), its text, and then the closing
/// quote, colon and value together (`":"` and a clean string's opening
/// quote as one 3-byte store): fewer capacity-checked pieces than quote,
/// key, `":` and value apart, and the common values inline here rather
/// than one call each (arrays, rare, go out of line).
fn write_attributes(buf: &mut Vec<u8>, attrs: &Attributes) {
    buf.push(b'{');
    let mut entries = attrs.entries();
    if let Some((k, v)) = entries.next() {
        buf.push(b'"');
        write_key_text(buf, k);
        write_colon_value(buf, v);
        for (k, v) in entries {
            buf.extend_from_slice(b",\"");
            write_key_text(buf, k);
            write_colon_value(buf, v);
        }
    }
    buf.push(b'}');
}

/// A key after its opening quote, without its closing one. A
/// [`Key::Plain`] needs no escaping by construction (its type is only built
/// from checked constants): copied as is. Any other key is escaped like
/// every string (its own quotes dropped: the caller wrote the opening one,
/// [`write_colon_value`] writes the closing one).
#[inline(always)]
fn write_key_text(buf: &mut Vec<u8>, key: &Key) {
    match key {
        Key::Plain(k) => buf.extend_from_slice(k.as_str().as_bytes()),
        Key::Text(t) => write_text_key(buf, t),
    }
}

#[inline(never)]
fn write_text_key(buf: &mut Vec<u8>, t: &str) {
    // The opening quote is already out: write the literal, drop both its quotes.
    let start = buf.len();
    write_json_str(buf, t);
    buf.remove(start);
    buf.pop();
}

/// The closing quote of a key, the colon and `v`, as [`write_value`] writes it.
#[inline(always)]
fn write_colon_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) if is_clean(s.as_bytes()) => {
            buf.extend_from_slice(b"\":\"");
            buf.extend_from_slice(s.as_bytes());
            buf.push(b'"');
        }
        Value::Int(n) => {
            buf.extend_from_slice(b"\":");
            buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes());
        }
        other => {
            buf.extend_from_slice(b"\":");
            write_value(buf, other);
        }
    }
}

/// A value (an array item, or what [`write_colon_value`] leaves out of line).
#[inline(never)]
fn write_value(buf: &mut Vec<u8>, v: &Value) {
    match v {
        Value::Str(s) => write_json_str(buf, s),
        Value::Int(n) => buf.extend_from_slice(itoa::Buffer::new().format(*n).as_bytes()),
        // JSON has no NaN/inf; write them as null rather than fail.
        Value::Double(d) if !d.is_finite() => buf.extend_from_slice(b"null"),
        Value::Double(d) => buf.extend_from_slice(zmij::Buffer::new().format_finite(*d).as_bytes()),
        Value::Bool(true) => buf.extend_from_slice(b"true"),
        Value::Bool(false) => buf.extend_from_slice(b"false"),
        Value::Array(items) => {
            buf.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    buf.push(b',');
                }
                write_value(buf, item);
            }
            buf.push(b']');
        }
    }
}

/// How each byte is escaped: 0 = copied as is, `u` = `\u00XX`, else the
/// letter after the backslash. The same table as serde_json's.
static ESCAPE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = b'u';
        i += 1;
    }
    t[0x08] = b'b';
    t[0x09] = b't';
    t[0x0A] = b'n';
    t[0x0C] = b'f';
    t[0x0D] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `w` is a control byte, `"` or `\`
/// (SWAR: the classic "has a byte less than n / equal to zero" bit tricks;
/// they may flag a clean word, never miss a dirty one).
#[inline]
fn word_needs_escape(w: u64) -> bool {
    let below_space = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * b'\\' as u64);
    let backslash = s.wrapping_sub(ONES) & !s;
    (below_space | quote | backslash) & HIGHS != 0
}

/// Whether any of 16 bytes needs an escape. A fixed-size loop with no early
/// exit, so the compiler turns it into a few vector compares (SSE2 / NEON:
/// ~10 instructions per 16 bytes against ~34 for two SWAR words).
#[inline]
fn chunk_needs_escape(c: &[u8; 16]) -> bool {
    c.iter()
        .fold(0u8, |any, &x| {
            any | u8::from((x < 0x20) | (x == b'"') | (x == b'\\'))
        })
        != 0
}

fn word(w: &[u8]) -> u64 {
    u64::from_le_bytes(w.try_into().expect("8 bytes"))
}

fn chunk(c: &[u8]) -> &[u8; 16] {
    c.try_into().expect("16 bytes")
}

/// Appends `s` as a JSON string literal, escaped exactly like serde_json.
/// Most strings need no escape: they are checked whole with a few word or
/// chunk tests (no byte loop, even for short ones), then copied with one
/// reservation and one copy; inlined, as ~14 strings a line made the call
/// and the byte-by-byte check of short values most of this writer's cost.
#[inline(always)]
pub fn write_json_str(buf: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    if is_clean(b) {
        buf.reserve(b.len() + 2);
        buf.push(b'"');
        buf.extend_from_slice(b);
        buf.push(b'"');
    } else {
        write_escaped(buf, b);
    }
}

/// Spaces (clean) in the upper half of a word built from 4 bytes.
const SPACES_HIGH: u64 = 0x2020_2020_0000_0000;

/// Whether no byte of `b` needs an escape (false may be a false alarm of
/// the word test). Short strings are tested as one word made of
/// overlapping pieces that together cover every byte: `[0, n/2, n-1]` for
/// 1 to 3 bytes, the first and last 4 for 4 to 7.
#[inline]
fn is_clean(b: &[u8]) -> bool {
    let n = b.len();
    let u32_at = |i: usize| u64::from(u32::from_le_bytes(b[i..i + 4].try_into().expect("4 bytes")));
    match n {
        0 => true,
        1..=3 => {
            let w = u32::from_le_bytes([b[0], b[n / 2], b[n - 1], b' ']);
            !word_needs_escape(SPACES_HIGH | u64::from(w))
        }
        4..=7 => !word_needs_escape(u32_at(0) | u32_at(n - 4) << 32),
        8..=15 => !word_needs_escape(word(&b[..8])) && !word_needs_escape(word(&b[n - 8..])),
        _ => long_is_clean(b),
    }
}

/// [`is_clean`] of 16 bytes or more: out of line, so the short cases
/// inline into every caller without the chunk loop.
#[inline(never)]
fn long_is_clean(b: &[u8]) -> bool {
    let mut chunks = b.chunks_exact(16);
    chunks.all(|c| !chunk_needs_escape(chunk(c)))
        && (chunks.remainder().is_empty() || !chunk_needs_escape(chunk(&b[b.len() - 16..])))
}

/// [`write_json_str`] of a string that may need escapes. Each 16-byte
/// chunk yields a mask of the bytes to escape (a few vector compares), and
/// only its set bits are visited: a slow-log entry has ~32 tabs and line
/// ends in ~600 bytes, and restarting a search after each one cost ~250
/// instructions an escape (callgrind, issue 17). A tail is read as the
/// last 16 bytes with the lanes already written masked off; a string
/// shorter than 16 bytes goes byte by byte.
#[inline(never)]
fn write_escaped(buf: &mut Vec<u8>, b: &[u8]) {
    buf.reserve(b.len() + 2);
    buf.push(b'"');
    let mut run_start = 0;
    let mut escape_at = |buf: &mut Vec<u8>, i: usize| {
        buf.extend_from_slice(&b[run_start..i]);
        write_escape(buf, b[i], ESCAPE[b[i] as usize]);
        run_start = i + 1;
    };
    if b.len() < 16 {
        for i in 0..b.len() {
            if ESCAPE[b[i] as usize] != 0 {
                escape_at(buf, i);
            }
        }
    } else {
        let mut at = 0;
        while at < b.len() {
            // The last chunk overlaps the one before; its lanes below `at`
            // were seen there.
            let start = at.min(b.len() - 16);
            let mut mask = escape_mask(chunk(&b[start..start + 16])) >> (at - start) << (at - start);
            while mask != 0 {
                escape_at(buf, start + mask.trailing_zeros() as usize);
                mask &= mask - 1;
            }
            at = start + 16;
        }
    }
    buf.extend_from_slice(&b[run_start..]);
    buf.push(b'"');
}

/// Bit `i` set when byte `i` of the chunk needs an escape: a control byte
/// (`x & 0xE0 == 0`), `"` or `\`.
#[inline(always)]
fn escape_mask(c: &[u8; 16]) -> u32 {
    use wide::u8x16;
    let v = u8x16::new(*c);
    let hit = (v & u8x16::splat(0xE0)).cmp_eq(u8x16::splat(0))
        | v.cmp_eq(u8x16::splat(b'"'))
        | v.cmp_eq(u8x16::splat(b'\\'));
    hit.move_mask() as u32
}

fn write_escape(buf: &mut Vec<u8>, c: u8, esc: u8) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    if esc == b'u' {
        buf.extend_from_slice(&[
            b'\\',
            b'u',
            b'0',
            b'0',
            HEX[(c >> 4) as usize],
            HEX[(c & 0xF) as usize],
        ]);
    } else {
        buf.extend_from_slice(&[b'\\', esc]);
    }
}

/// The RFC 3339 text of one millisecond, reused whole while records stay
/// in it; its second's part reused while they stay in that second; its
/// date part is reused while they stay in one day (records a second or
/// more apart paid the calendar arithmetic, ~150 instructions, each), and
/// a record in the next second only moves the last digit when it can.
struct SecondCache {
    second: i64,
    day: i64,
    /// The millisecond `text` is of: a record observed (or stamped) in the
    /// same millisecond as the last copies it whole — every record of an
    /// invocation shares its observed time.
    millisecond: i64,
    /// `YYYY-MM-DDTHH:MM:SS.mmmZ`; its first 20 bytes are `second`'s.
    text: [u8; 24],
}

impl Default for SecondCache {
    fn default() -> Self {
        // i64::MIN is not a millisecond, second (nor a day) any ns
        // timestamp maps to (ns / 1e6, ns / 1e9, and that / 86,400).
        SecondCache {
            second: i64::MIN,
            day: i64::MIN,
            millisecond: i64::MIN,
            text: [0; 24],
        }
    }
}

impl SecondCache {
    /// Appends `ns` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, UTC, milliseconds
    /// truncated: the same text as `time::format_rfc3339_ms`.
    fn write(&mut self, ns: i64, buf: &mut Vec<u8>) {
        let millisecond = ns.div_euclid(1_000_000);
        if millisecond != self.millisecond {
            self.millisecond = millisecond;
            self.update(ns);
        }
        buf.extend_from_slice(&self.text);
    }

    /// Makes `text` that of `ns`.
    fn update(&mut self, ns: i64) {
        let second = ns.div_euclid(1_000_000_000);
        let ms = (ns.rem_euclid(1_000_000_000) / 1_000_000) as u32;
        if second == self.second.wrapping_add(1) && self.text[18] < b'9' {
            // The next second, and its last digit not 9: only that digit
            // moves (no minute, hour or day turns over). Records a second
            // apart paid the time-of-day divisions (~65 instructions) each.
            self.second = second;
            self.text[18] += 1;
        } else if second != self.second {
            self.second = second;
            let day = second.div_euclid(86_400);
            if day != self.day {
                self.day = day;
                self.text[..11].copy_from_slice(&date_prefix(day));
            }
            self.text[11..20].copy_from_slice(&time_prefix(second.rem_euclid(86_400) as u32));
        }
        self.text[20..].copy_from_slice(&[
            b'0' + (ms / 100) as u8,
            b'0' + (ms / 10 % 10) as u8,
            b'0' + (ms % 10) as u8,
            b'Z',
        ]);
    }
}

fn two_digits(v: u32) -> [u8; 2] {
    [b'0' + (v / 10) as u8, b'0' + (v % 10) as u8]
}

/// `YYYY-MM-DDT` of a day since 1970-01-01. Any i64 ns lies in 1677–2262,
/// so the year always has four digits.
fn date_prefix(days: i64) -> [u8; 11] {
    let (y, m, d) = civil_from_days(days);
    let y = y as u32;
    let [y0, y1] = two_digits(y / 100);
    let [y2, y3] = two_digits(y % 100);
    let [m0, m1] = two_digits(m);
    let [d0, d1] = two_digits(d);
    [y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T']
}

/// `HH:MM:SS.` of a second of the day.
fn time_prefix(sod: u32) -> [u8; 9] {
    let [h0, h1] = two_digits(sod / 3600);
    let [i0, i1] = two_digits(sod / 60 % 60);
    let [s0, s1] = two_digits(sod % 60);
    [h0, h1, b':', i0, i1, b':', s0, s1, b'.']
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian
/// calendar (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rdsf_core::time::format_rfc3339_ms;

    /// Plain keys are copied, text keys escaped: the object is what
    /// serde_json writes for the same pairs in the same order.
    #[test]
    fn plain_keys_copied_text_keys_escaped() {
        use rdsf_core::record::keys;
        let mut attrs = Attributes::new();
        attrs.insert(keys::PG_EVENT, "statement");
        attrs.insert(format!("{}a\"b\n\u{1}\\", keys::RDS_TAG_PREFIX), "t");
        attrs.insert(keys::PROCESS_PID, 7i64);
        attrs.insert("db.sqlserver.x\ty", true);
        let mut buf = Vec::new();
        write_attributes(&mut buf, &attrs);
        let mut want = String::from("{");
        for (i, (k, v)) in attrs.iter().enumerate() {
            if i > 0 {
                want.push(',');
            }
            want.push_str(&serde_json::to_string(k).unwrap());
            want.push(':');
            let v = match v {
                Value::Str(s) => serde_json::json!(s.as_str()),
                Value::Int(n) => serde_json::json!(n),
                Value::Bool(b) => serde_json::json!(b),
                other => panic!("{other:?}"),
            };
            want.push_str(&v.to_string());
        }
        want.push('}');
        assert_eq!(String::from_utf8(buf).unwrap(), want);
        assert!(matches!(attrs.entries().next(), Some((Key::Plain(_), _))));
    }

    /// Every kind of key and value, first in the object and after another
    /// (the first member has no comma, the others carry theirs with the
    /// opening quote), and the empty object: what serde_json writes.
    #[test]
    fn every_key_and_value_kind_first_and_later_as_serde_json_writes_them() {
        use rdsf_core::record::keys;
        let keys: [Key; 2] = [keys::PG_EVENT.into(), "x\"\u{1}k".to_owned().into()];
        let values = [
            Value::from("clean"),
            Value::from("needs \"escaping\"\n"),
            Value::from(""),
            Value::Int(-42),
            Value::Double(1.5),
            Value::Double(f64::NAN),
            Value::Bool(true),
            Value::Bool(false),
            Value::Array(vec!["a\\".into(), Value::Int(1), Value::Array(vec![])]),
        ];
        let json_of = |v: &Value| -> serde_json::Value {
            match v {
                Value::Str(s) => serde_json::json!(s.as_str()),
                Value::Int(n) => serde_json::json!(n),
                Value::Double(d) => serde_json::json!(d),
                Value::Bool(b) => serde_json::json!(b),
                Value::Array(_) => unreachable!("arrays are spelt out below"),
            }
        };
        let mut buf = Vec::new();
        write_attributes(&mut buf, &Attributes::new());
        assert_eq!(buf, b"{}");
        for first_key in &keys {
            for first in &values {
                let mut attrs = Attributes::new();
                attrs.insert(first_key.clone(), first.clone());
                attrs.insert("later", first.clone());
                attrs.insert(keys::PROCESS_PID, 7i64);
                let mut buf = Vec::new();
                write_attributes(&mut buf, &attrs);
                let members: Vec<String> = attrs
                    .iter()
                    .map(|(k, v)| {
                        let v = match v {
                            // serde_json's own writing of the items.
                            Value::Array(_) => r#"["a\\",1,[]]"#.to_owned(),
                            v => json_of(v).to_string(),
                        };
                        format!("{}:{v}", serde_json::to_string(k).unwrap())
                    })
                    .collect();
                let want = format!("{{{}}}", members.join(","));
                assert_eq!(String::from_utf8(buf).unwrap(), want, "{first_key:?} = {first:?}");
            }
        }
    }

    proptest::proptest! {
        /// Strings dense in escapes (runs of tabs and line ends, quotes,
        /// backslashes, other control bytes beside multi-byte characters),
        /// of every length across the 16-byte chunks and the overlapping
        /// tail: written exactly as serde_json writes them.
        #[test]
        fn dense_escapes_are_written_like_serde_json(
            s in "[\t\n\r\\\\\"\\x00-\\x1fa-z é\u{2028}🦀]{0,80}"
        ) {
            let mut buf = Vec::new();
            write_json_str(&mut buf, &s);
            proptest::prop_assert_eq!(buf, serde_json::to_vec(&s).unwrap());
        }
    }

    /// The chunked scanner finds every escape wherever it falls: in each
    /// lane of a 16-byte chunk, of the overlapping last chunk, of the two
    /// overlapping words of an 8-to-15-byte string, of a short string, and
    /// a second escape after the first (the scan restarts mid-chunk).
    #[test]
    fn escapes_found_in_every_lane_of_chunks_words_and_tails() {
        let mut checked = 0;
        for len in 1..=48 {
            for c in [0u8, 0x1f, b'"', b'\\', b'\n', 0x20, 0x7f] {
                for at in 0..len {
                    for second in [None, Some(len - 1), Some((at + 9) % len)] {
                        let mut s = vec![b'a'; len];
                        s[at] = c;
                        if let Some(j) = second {
                            s[j] = b'"';
                        }
                        let s = String::from_utf8(s).unwrap();
                        let mut buf = Vec::new();
                        write_json_str(&mut buf, &s);
                        assert_eq!(
                            String::from_utf8(buf).unwrap(),
                            serde_json::to_string(&s).unwrap(),
                            "{s:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        // Non-ASCII bytes (>= 0x80) beside the escape, in every word shape.
        for len in 1..=24 {
            for at in 0..=len {
                let mut s: String = "é".repeat(len);
                s.insert(2 * at, '\u{1}');
                for t in [s.clone(), s.replace('\u{1}', "")] {
                    let mut buf = Vec::new();
                    write_json_str(&mut buf, &t);
                    assert_eq!(buf, serde_json::to_vec(&t).unwrap(), "{t:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 20_000);
    }

    #[test]
    fn timestamps_match_chrono_formatter() {
        let mut cache = SecondCache::default();
        let samples = [
            0,
            -1,
            -999_999_999,
            -1_000_000_000,
            1_000_000_005,
            951_782_400_000_000_000, // 2000-02-29
            1_704_067_205_123_456_789,
            4_102_444_799_999_999_999, // 2099-12-31T23:59:59.999
            i64::MIN,
            i64::MAX,
        ];
        let mut ns: i64 = -5_000_000_000_000_000_000;
        let mut all = samples.to_vec();
        // Runs of seconds through midnight (the date part reused within a
        // day, replaced across it), also before 1970 and over 2000-02-29;
        // and records one second apart through midnight and a 19:59:59
        // (every last digit moved alone, each 9 turning over the tens, a
        // minute, an hour, a day).
        for midnight in [0i64, -86_400, 951_868_800, 1_704_067_200] {
            let mut t = (midnight - 3) * 1_000_000_000;
            while t < (midnight + 3) * 1_000_000_000 {
                all.push(t);
                t += 700_000_001;
            }
            for start in [midnight - 75, midnight + 71_925] {
                all.extend((0..150).map(|s| (start + s) * 1_000_000_000 + 123_456_789));
            }
        }
        while ns < 5_000_000_000_000_000_000 {
            all.push(ns);
            ns += 86_399_999_937_777; // ~1 day, odd remainder
        }
        // Each time also again, and one nanosecond later or earlier (the
        // same millisecond, or across its edge): the whole text reused.
        let all = all
            .into_iter()
            .flat_map(|ns| [ns, ns, ns.saturating_add(1), ns, ns.saturating_sub(1)]);
        for ns in all {
            let mut buf = Vec::new();
            cache.write(ns, &mut buf);
            assert_eq!(
                String::from_utf8(buf).unwrap(),
                format_rfc3339_ms(ns),
                "{ns}"
            );
        }
    }
}
