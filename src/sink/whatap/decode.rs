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
