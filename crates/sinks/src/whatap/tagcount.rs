//! golib's `TagCountPack` (`lang/pack/TagCountPack.go`, pack type 0x1601):
//! WhaTap's metrics pack, a category, a tag map that names the series and a
//! field map of values. `write_body` gives the frame body: the i16 pack
//! type, then the payload.

use super::hash;
use super::pack::Header;
use super::value::{write_decimal, write_text, Value, ValueMap};

/// golib `PACK_TAG_COUNT`.
pub const TAG_COUNT_PACK: i16 = 0x1601;

/// One metrics pack. The tag hash is private state as in golib: computed at
/// the first write that has tags, then kept, so a pack written twice repeats
/// its first hash even if tags changed in between (that is what golib
/// sends, and the collector groups series by it).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagCountPack {
    pub header: Header,
    pub category: String,
    pub tags: ValueMap,
    /// golib's `Data`.
    pub fields: ValueMap,
    tag_hash: i64,
}

impl TagCountPack {
    pub fn new(header: Header, category: impl Into<String>) -> Self {
        TagCountPack {
            header,
            category: category.into(),
            ..Self::default()
        }
    }

    /// golib `PutTag`: tags set through the API are always text.
    pub fn put_tag(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.tags.put(key, Value::Text(value.into()));
    }

    /// A field (golib `Put` once the Go value is converted).
    pub fn put(&mut self, key: impl Into<String>, value: Value) {
        self.fields.put(key, value);
    }

    /// The hash the next write sends: the stored one, else (0) Hash64 of
    /// the encoded tags when there are any.
    pub fn tag_hash(&self) -> i64 {
        self.tag_hash
    }

    /// Header, version byte 0, category, tag hash (decimal), tags, fields.
    /// Both maps are always written; stores the tag hash it computed.
    pub fn write_body(&mut self, out: &mut Vec<u8>) {
        out.extend_from_slice(&TAG_COUNT_PACK.to_be_bytes());
        self.header.write(out);
        out.push(0);
        write_text(out, &self.category);
        // The tags are encoded once: for the hash and for the wire.
        let mut tag_bytes = Vec::with_capacity(16 + 32 * self.tags.len());
        self.tags.write(&mut tag_bytes);
        if self.tag_hash == 0 && !self.tags.is_empty() {
            self.tag_hash = hash::hash64(&tag_bytes);
        }
        write_decimal(out, self.tag_hash);
        out.extend_from_slice(&tag_bytes);
        self.fields.write(out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            pcode: 1,
            oid: 2,
            okind: 0,
            onode: 0,
            time: 3,
        }
    }

    #[test]
    fn empty_pack_ends_with_a_zero_hash_and_two_empty_maps() {
        let mut p = TagCountPack::new(header(), "");
        let mut out = Vec::new();
        p.write_body(&mut out);
        assert_eq!(&out[..2], [0x16, 0x01]);
        assert!(out.ends_with(&[0, 0, 0, 0x50, 0, 0x50, 0]), "{out:02x?}");
        assert_eq!(p.tag_hash(), 0);
    }

    #[test]
    fn the_first_hash_is_kept_across_writes() {
        let mut p = TagCountPack::new(header(), "c");
        p.put_tag("host", "a");
        let mut tag_bytes = Vec::new();
        p.tags.write(&mut tag_bytes);
        let first = hash::hash64(&tag_bytes);
        p.write_body(&mut Vec::new());
        assert_eq!(p.tag_hash(), first);
        p.put_tag("host", "b");
        let mut out = Vec::new();
        p.write_body(&mut out);
        assert_eq!(p.tag_hash(), first, "not recomputed for the new tags");
        let mut fresh = TagCountPack::new(header(), "c");
        fresh.put_tag("host", "b");
        let mut other = Vec::new();
        fresh.write_body(&mut other);
        assert_ne!(out, other);
        assert_ne!(fresh.tag_hash(), first);
    }
}
