//! Base64 + gzip decoding with a hard bound on the decompressed size, so a
//! gzip bomb costs at most `limit` bytes of memory and fails cleanly.

use std::io::Read;

use base64::Engine as _;
use flate2::read::MultiGzDecoder;

use super::InputError;

/// A record's base64 `data` as text: gunzipped within `limit` when it is
/// gzip (as CloudWatch Logs writes it), else taken as it is (a stream that
/// decompresses, or a plain event), bounded the same way.
pub fn record_text(what: &str, data: &str, limit: usize) -> Result<String, InputError> {
    let bytes = base64_decode(what, data)?;
    let raw = if is_gzip(&bytes) {
        gunzip_bounded(what, &bytes, limit)?
    } else if bytes.len() > limit {
        return Err(InputError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    } else {
        bytes
    };
    String::from_utf8(raw).map_err(|e| InputError::NotUtf8 {
        what: what.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// Decodes standard base64 (as AWS sends it).
pub fn base64_decode(what: &str, text: &str) -> Result<Vec<u8>, InputError> {
    base64::engine::general_purpose::STANDARD
        .decode(text.trim())
        .map_err(|e| InputError::Base64 {
            what: what.to_owned(),
            detail: e.to_string(),
        })
}

/// True when `bytes` start with the gzip magic number.
pub fn is_gzip(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// Inflates `bytes`, failing once more than `limit` bytes come out.
pub fn gunzip_bounded(what: &str, bytes: &[u8], limit: usize) -> Result<Vec<u8>, InputError> {
    if !is_gzip(bytes) {
        return Err(InputError::Gzip {
            what: what.to_owned(),
            detail: format!(
                "missing gzip magic number (first bytes {:02x?})",
                &bytes[..bytes.len().min(4)]
            ),
        });
    }
    // Compressed CloudWatch JSON inflates ~10-20x; pre-size for that, capped.
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(12).min(limit));
    let mut reader = MultiGzDecoder::new(bytes).take(limit as u64 + 1);
    reader.read_to_end(&mut out).map_err(|e| InputError::Gzip {
        what: what.to_owned(),
        detail: e.to_string(),
    })?;
    if out.len() > limit {
        return Err(InputError::TooLarge {
            what: what.to_owned(),
            limit,
        });
    }
    Ok(out)
}

/// Base64 then bounded gunzip, then a UTF-8 check.
pub fn decode_b64_gzip_json(what: &str, text: &str, limit: usize) -> Result<String, InputError> {
    let compressed = base64_decode(what, text)?;
    let raw = gunzip_bounded(what, &compressed, limit)?;
    String::from_utf8(raw).map_err(|e| InputError::NotUtf8 {
        what: what.to_owned(),
        offset: e.utf8_error().valid_up_to(),
    })
}

/// The gzip trailer's ISIZE: the last member's uncompressed size mod 2^32.
/// Only a hint for choosing the decoding path (a sender can write anything
/// there, and a multi-member stream states only its last member), never a
/// bound: [`BoundedRead`] enforces the limit whatever ISIZE claims.
pub fn isize_hint(gz: &[u8]) -> Option<u32> {
    let tail: [u8; 4] = gz.get(gz.len().checked_sub(4)?..)?.try_into().ok()?;
    Some(u32::from_le_bytes(tail))
}

/// The ISIZE hint read from the end of base64 text without decoding the
/// rest: the last 12 characters (three whole base64 quanta) hold the last
/// 7–9 bytes, enough for the 4-byte trailer.
pub fn isize_hint_b64(text: &str) -> Option<u32> {
    let text = text.trim_end();
    let tail = text.get(text.len().checked_sub(12)?..)?;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(tail)
        .ok()?;
    isize_hint(&bytes)
}

/// A reader that fails once more than `limit` bytes have come out of
/// `inner`: the streaming counterpart of [`gunzip_bounded`]'s check, so a
/// gzip bomb stops at the limit however it is read.
pub struct BoundedRead<R> {
    inner: R,
    limit: usize,
    read: usize,
}

impl<R> BoundedRead<R> {
    pub fn new(inner: R, limit: usize) -> Self {
        BoundedRead {
            inner,
            limit,
            read: 0,
        }
    }

    /// True once the output went past the limit (the read that crossed it
    /// failed).
    pub fn exceeded(&self) -> bool {
        self.read > self.limit
    }
}

impl<R: Read> Read for BoundedRead<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.exceeded() {
            return Err(std::io::Error::other("decompressed size limit exceeded"));
        }
        // Ask for at most one byte past the limit: enough to tell.
        let room = (self.limit - self.read).saturating_add(1).min(buf.len());
        let n = self.inner.read(&mut buf[..room])?;
        self.read += n;
        if self.exceeded() {
            return Err(std::io::Error::other("decompressed size limit exceeded"));
        }
        Ok(n)
    }
}
