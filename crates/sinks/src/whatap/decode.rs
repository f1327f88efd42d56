//! Frames back into readable fields, for `rds-forwarder check --show-wire`:
//! what the encoder wrote, shown without sending it. The layout is the one
//! `frame`, `pack`, `tagcount` and `value` write (golib's `TcpSend` frame,
//! `LogSinkPack` 0x170a, `EventPack` 0x1400 and `TagCountPack` 0x1601). The licence hash in each frame header is
//! never shown: with the one-way protocol it is what authenticates a sender.
//!
//! The test suite keeps its own decoder (`tests/whatap_support`), written
//! from the vectors' description, so the encoder is not checked against
//! itself.

use std::fmt::Write as _;

/// One frame: its header's project code and its pack, as text lines.
#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFrame {
    pub pcode: i64,
    pub pack: String,
    /// `key: value` lines, in wire order.
    pub fields: Vec<(String, String)>,
}

/// Decodes concatenated frames; an error says where the bytes stop making sense.
pub fn decode_frames(mut bytes: &[u8]) -> Result<Vec<DecodedFrame>, String> {
    let mut frames = Vec::new();
    while !bytes.is_empty() {
        let mut r = Rd { b: bytes, at: 0 };
        let (source, version) = (r.u8()?, r.u8()?);
        if (source, version) != (10, 0) {
            return Err(format!(
                "frame {}: bad header {source}/{version}",
                frames.len()
            ));
        }
        let pcode = r.i64()?;
        let _license_hash = r.i64()?;
        let len = usize::try_from(r.i32()?).map_err(|_| "negative body length".to_owned())?;
        let body = r.take(len)?;
        frames.push(decode_pack(pcode, body)?);
        bytes = &bytes[r.at..];
    }
    Ok(frames)
}

fn decode_pack(pcode: i64, body: &[u8]) -> Result<DecodedFrame, String> {
    let mut r = Rd { b: body, at: 0 };
    let mut fields = Vec::new();
    let mut put = |k: &str, v: String| fields.push((k.to_owned(), v));
    let pack = match r.i16()? {
        0x170a => {
            r.head(&mut put)?;
            r.u8()?;
            put("category", r.text()?);
            put("tag_hash", r.decimal()?.to_string());
            put("tags", r.map()?);
            put("line", r.decimal()?.to_string());
            put("content", r.text()?);
            if r.u8()? == 1 {
                put("fields", r.map()?);
            }
            "LogSinkPack"
        }
        0x1400 => {
            r.head(&mut put)?;
            put("level", r.u8()?.to_string());
            put("title", r.text()?);
            put("message", r.text()?);
            let n = r.u8()?;
            let mut attrs = String::from("{");
            for i in 0..n {
                let (k, v) = (r.text()?, r.text()?);
                let _ = write!(attrs, "{}{k:?}: {v:?}", if i == 0 { "" } else { ", " });
            }
            attrs.push('}');
            put("attributes", attrs);
            "EventPack"
        }
        0x1601 => {
            r.head(&mut put)?;
            let version = r.u8()?;
            if version != 0 {
                return Err(format!("TagCountPack version {version}, expected 0"));
            }
            put("category", r.text()?);
            put("tag_hash", r.decimal()?.to_string());
            put("tags", r.map()?);
            put("fields", r.map()?);
            "TagCountPack"
        }
        t => return Err(format!("unknown pack type {t:#x}")),
    };
    if r.at != body.len() {
        return Err(format!("{} bytes after the {pack}", body.len() - r.at));
    }
    Ok(DecodedFrame {
        pcode,
        pack: pack.to_owned(),
        fields,
    })
}

struct Rd<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Rd<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
        let s = self
            .b
            .get(self.at..self.at.saturating_add(n))
            .ok_or_else(|| format!("truncated at byte {} (+{n})", self.at))?;
        self.at += n;
        Ok(s)
    }
    fn u8(&mut self) -> Result<u8, String> {
        Ok(self.take(1)?[0])
    }
    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(self.take(2)?.try_into().unwrap()))
    }
    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(self.take(4)?.try_into().unwrap()))
    }
    fn i64(&mut self) -> Result<i64, String> {
        Ok(i64::from_be_bytes(self.take(8)?.try_into().unwrap()))
    }
    fn decimal_of_len(&mut self, len: u8) -> Result<i64, String> {
        if !matches!(len, 0..=5 | 8) {
            return Err(format!("bad decimal length {len}"));
        }
        let bytes = self.take(len as usize)?;
        let init: i64 = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            -1
        } else {
            0
        };
        Ok(bytes.iter().fold(init, |acc, &b| (acc << 8) | b as i64))
    }
    fn decimal(&mut self) -> Result<i64, String> {
        let len = self.u8()?;
        self.decimal_of_len(len)
    }
    fn text(&mut self) -> Result<String, String> {
        let len = match self.u8()? {
            0xff => u16::from_be_bytes(self.take(2)?.try_into().unwrap()) as usize,
            0xfe => usize::try_from(self.i32()?).map_err(|_| "negative text length")?,
            n => n as usize,
        };
        Ok(String::from_utf8_lossy(self.take(len)?).into_owned())
    }
    fn value(&mut self) -> Result<String, String> {
        Ok(match self.u8()? {
            0 => "null".to_owned(),
            10 => (self.u8()? != 0).to_string(),
            20 => self.decimal()?.to_string(),
            21 => format!("{}i32", self.i32()?),
            22 => format!("{}i64", self.i64()?),
            30 => format!("{:?}f32", f32::from_bits(self.i32()? as u32)),
            40 => f64::from_bits(self.i64()? as u64).to_string(),
            50 => format!("{:?}", self.text()?),
            t => return Err(format!("unexpected value type {t}")),
        })
    }
    fn map(&mut self) -> Result<String, String> {
        if self.u8()? != 0x50 {
            return Err("expected a map".into());
        }
        let n = self.decimal()?;
        let mut out = String::from("{");
        for i in 0..n {
            let k = self.text()?;
            let v = self.value()?;
            let _ = write!(out, "{}{k:?}: {v}", if i == 0 { "" } else { ", " });
        }
        out.push('}');
        Ok(out)
    }
    fn head(&mut self, put: &mut impl FnMut(&str, String)) -> Result<(), String> {
        let first = self.u8()?;
        let pcode = if first == 9 {
            self.decimal()?
        } else {
            self.decimal_of_len(first)?
        };
        put("pcode", pcode.to_string());
        put("oid", self.i32()?.to_string());
        if first == 9 {
            put("okind", self.i32()?.to_string());
            put("onode", self.i32()?.to_string());
        }
        put("time", self.i64()?.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::whatap::frame::write_frame;
    use crate::whatap::pack::Header;
    use crate::whatap::tagcount::TagCountPack;
    use crate::whatap::value::Value;

    fn tagcount_frame(okind: i32) -> Vec<u8> {
        let header = Header {
            pcode: 1 << 40,
            oid: -5,
            okind,
            onode: 0,
            time: 1_718_000_000_123,
        };
        let mut p = TagCountPack::new(header, "카테고리");
        p.put_tag("oname", "db-1");
        p.tags.put("n", Value::Null);
        p.put("b", Value::Boolean(false));
        p.put("d", Value::Decimal(-300));
        p.put("i", Value::Int(i32::MIN));
        p.put("l", Value::Long(i64::MAX));
        p.put("f", Value::Float(0.1));
        p.put("g", Value::Double(f64::NEG_INFINITY));
        p.put("t", Value::Text("x".repeat(300)));
        let mut out = Vec::new();
        write_frame(&mut out, 1 << 40, 77, |b| p.write_body(b));
        out
    }

    #[test]
    fn tagcount_round_trip_with_every_value_type() {
        let mut bytes = tagcount_frame(0);
        bytes.extend(tagcount_frame(3));
        let frames = decode_frames(&bytes).unwrap();
        assert_eq!(frames.len(), 2);
        let keys: Vec<&str> = frames[0].fields.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            keys,
            ["pcode", "oid", "time", "category", "tag_hash", "tags", "fields"]
        );
        let f = &frames[1].fields;
        assert_eq!(frames[1].pack, "TagCountPack");
        assert_eq!(frames[1].pcode, 1 << 40);
        assert_eq!(f[0], ("pcode".into(), (1i64 << 40).to_string()));
        assert_eq!(f[2], ("okind".into(), "3".into()));
        assert_eq!(f[5].1, "카테고리");
        assert_eq!(f[7].1, "{\"oname\": \"db-1\", \"n\": null}");
        assert_eq!(
            f[8].1,
            format!(
                "{{\"b\": false, \"d\": -300, \"i\": -2147483648i32, \"l\": 9223372036854775807i64, \
                 \"f\": 0.1f32, \"g\": -inf, \"t\": {:?}}}",
                "x".repeat(300)
            )
        );
        // The tag hash shown is the one the pack computed and kept.
        let mut tags = crate::whatap::value::ValueMap::new();
        tags.put("oname", Value::Text("db-1".into()));
        tags.put("n", Value::Null);
        let mut tag_bytes = Vec::new();
        tags.write(&mut tag_bytes);
        assert_eq!(
            f[6].1,
            crate::whatap::hash::hash64(&tag_bytes).to_string()
        );
    }

    #[test]
    fn broken_tagcount_frames_are_errors() {
        let good = tagcount_frame(0);
        // Every cut of the last frame is an error, never a panic.
        for cut in 1..good.len() {
            assert!(decode_frames(&good[..cut]).is_err(), "cut at {cut}");
        }
        // The version byte after the short header (pcode 2^40 is an 8-byte
        // decimal: 1 + 8, oid 4, time 8).
        let mut bad = good.clone();
        let version_at = super::super::frame::HEADER_LEN + 2 + 9 + 4 + 8;
        assert_eq!(bad[version_at], 0);
        bad[version_at] = 1;
        assert!(decode_frames(&bad).unwrap_err().contains("version 1"));
        // An unknown value type inside the fields map.
        let mut bad = good.clone();
        let at = bad.len() - 300 - 3 - 1; // the text value's type byte
        assert_eq!(bad[at], 50);
        bad[at] = 99;
        assert!(decode_frames(&bad).unwrap_err().contains("value type 99"));
    }
}
