//! Base64 + gzip decoding with a hard bound on the decompressed size, so a
//! gzip bomb costs at most `limit` bytes of memory and fails cleanly.

use std::io::Read;

use base64::Engine as _;
use flate2::read::MultiGzDecoder;

use super::InputError;

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
            detail: format!("missing gzip magic number (first bytes {:02x?})", &bytes[..bytes.len().min(4)]),
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
