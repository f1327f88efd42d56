//! The two packs the forwarder sends (golib `lang/pack`): LogSinkPack for
//! every record, EventPack for RDS events WhaTap's alerting should see.
//! `write_body` gives the frame body: the i16 pack type, then the payload.

use super::hash;
use super::value::{write_decimal, write_text, Value, ValueMap};

pub const LOGSINK_PACK: i16 = 0x170a;
pub const EVENT_PACK: i16 = 0x1400;

/// Event levels (golib `EventLevel`).
pub const LEVEL_NONE: u8 = 0;
pub const LEVEL_INFO: u8 = 10;
pub const LEVEL_WARNING: u8 = 20;
pub const LEVEL_FATAL: u8 = 30;

/// golib's AbstractPack fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    pub pcode: i64,
    pub oid: i32,
    pub okind: i32,
    pub onode: i32,
    /// Epoch milliseconds.
    pub time: i64,
}

impl Header {
    /// The short form when okind and onode are both 0 (the decimal pcode's
    /// length byte doubles as the format marker); else marker `09` and the
    /// extended form.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        if self.okind == 0 && self.onode == 0 {
            write_decimal(out, self.pcode);
            out.extend_from_slice(&self.oid.to_be_bytes());
        } else {
            out.push(9);
            write_decimal(out, self.pcode);
            out.extend_from_slice(&self.oid.to_be_bytes());
            out.extend_from_slice(&self.okind.to_be_bytes());
            out.extend_from_slice(&self.onode.to_be_bytes());
        }
        out.extend_from_slice(&self.time.to_be_bytes());
    }
}

/// A log line with its category, tags and fields.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LogSinkPack {
    pub header: Header,
    pub category: String,
    /// Written as given when non-zero; 0 means "Hash64 of the encoded tags".
    pub tag_hash: i64,
    pub tags: ValueMap,
    pub line: i64,
    pub content: String,
    /// `None` and an empty map are both written as "no fields".
    pub fields: Option<ValueMap>,
}

impl LogSinkPack {
    /// golib `TransferOidToTag`: copies non-zero oid, okind and onode into
    /// the tags as decimals unless already present.
    pub fn transfer_oid_to_tag(&mut self) {
        let ids = [
            ("oid", self.header.oid),
            ("okind", self.header.okind),
            ("onode", self.header.onode),
        ];
        for (key, v) in ids {
            if v != 0 && !self.tags.contains_key(key) {
                self.tags.put(key, Value::Decimal(v as i64));
            }
        }
    }

    pub fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&LOGSINK_PACK.to_be_bytes());
        self.header.write(out);
        out.push(0);
        write_text(out, &self.category);
        // The tags are encoded once: for the hash and for the wire.
        let mut tag_bytes = Vec::with_capacity(16 + 32 * self.tags.len());
        self.tags.write(&mut tag_bytes);
        let tag_hash = match (self.tag_hash, self.tags.is_empty()) {
            (0, false) => hash::hash64(&tag_bytes),
            (preset, _) => preset,
        };
        write_decimal(out, tag_hash);
        out.extend_from_slice(&tag_bytes);
        write_decimal(out, self.line);
        write_text(out, &self.content);
        match &self.fields {
            Some(f) if !f.is_empty() => {
                out.push(1);
                f.write(out);
            }
            _ => out.push(0),
        }
    }
}

/// An alert-style event.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EventPack {
    pub header: Header,
    pub level: u8,
    pub title: String,
    pub message: String,
    /// String attributes in put order (a later put of a key keeps its first
    /// position); see [`EventPack::put_attr`].
    pub attrs: Vec<(String, String)>,
    pub uuid: String,
    pub escalation: bool,
    pub status: i32,
    pub otype: i32,
}

/// The wire carries the attribute count in one byte.
pub const MAX_EVENT_ATTRS: usize = 255;
const RESERVED_ATTRS: [&str; 4] = ["_uuid_", "_esca_", "_status_", "_otype_"];

impl EventPack {
    pub fn put_attr(&mut self, key: impl Into<String>, value: impl Into<String>) {
        put_str(&mut self.attrs, key.into(), value.into());
    }

    pub fn write_body(&self, out: &mut Vec<u8>) {
        out.extend_from_slice(&EVENT_PACK.to_be_bytes());
        self.header.write(out);
        out.push(self.level);
        write_text(out, &self.title);
        write_text(out, &self.message);
        // golib puts its reserved keys into the map as it writes.
        let mut attrs = self.attrs.clone();
        if !self.uuid.is_empty() {
            put_str(&mut attrs, "_uuid_".into(), self.uuid.clone());
        }
        put_str(&mut attrs, "_esca_".into(), self.escalation.to_string());
        put_str(&mut attrs, "_status_".into(), self.status.to_string());
        put_str(&mut attrs, "_otype_".into(), self.otype.to_string());
        // The count is one byte: past 255 entries drop user attributes from
        // the end (never the reserved ones) so count and entries agree.
        while attrs.len() > MAX_EVENT_ATTRS {
            match attrs
                .iter()
                .rposition(|(k, _)| !RESERVED_ATTRS.contains(&k.as_str()))
            {
                Some(i) => drop(attrs.remove(i)),
                None => break,
            }
        }
        out.push(attrs.len() as u8);
        for (k, v) in &attrs {
            write_text(out, k);
            write_text(out, v);
        }
    }
}

fn put_str(attrs: &mut Vec<(String, String)>, key: String, value: String) {
    match attrs.iter_mut().find(|(k, _)| *k == key) {
        Some(slot) => slot.1 = value,
        None => attrs.push((key, value)),
    }
}
