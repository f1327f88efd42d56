//! Base64 + gzip decoding with a hard bound on the decompressed size, so a
//! gzip bomb costs at most `limit` bytes of memory and fails cleanly.

use std::io::Read;

use base64::Engine as _;
use flate2::{Decompress, FlushDecompress, Status};

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
///
/// zlib inflates straight into the output's spare capacity (flate2's
/// `decompress_vec`), reserved from the gzip trailer's ISIZE (capped by the
/// bound; only a first guess, grown as needed). Through `Read::read_to_end`
/// every byte of the output was zeroed before being inflated into (a
/// reader is never handed memory that is not initialised): ~2.9 M
/// instructions of memset on a 10k-line payload. zlib checks each member's
/// header, CRC-32 and length as flate2's `MultiGzDecoder` does, and members
/// follow one another the same way.
pub fn gunzip_bounded(what: &str, bytes: &[u8], limit: usize) -> Result<Vec<u8>, InputError> {
    let bad = |detail: String| InputError::Gzip {
        what: what.to_owned(),
        detail,
    };
    if !is_gzip(bytes) {
        return Err(bad(format!(
            "missing gzip magic number (first bytes {:02x?})",
            &bytes[..bytes.len().min(4)]
        )));
    }
    let too_large = || InputError::TooLarge {
        what: what.to_owned(),
        limit,
    };
    // One byte past the limit is enough to tell.
    let most = limit.saturating_add(1);
    let hint = isize_hint(bytes).map_or(0, |n| n as usize);
    let mut out = Vec::with_capacity(hint.min(most));
    let mut inflate = Decompress::new_gzip(15);
    let mut input = bytes;
    loop {
        if out.len() == out.capacity() {
            if out.len() >= most {
                return Err(too_large());
            }
            // Exactly: the room must not pass the bound.
            let more = out.len().max(32 * 1024).min(most - out.len());
            out.reserve_exact(more);
        }
        let (read, wrote) = (inflate.total_in(), out.len());
        let status = inflate
            .decompress_vec(input, &mut out, FlushDecompress::None)
            .map_err(|e| bad(e.to_string()))?;
        let used = (inflate.total_in() - read) as usize;
        input = &input[used..];
        match status {
            Status::StreamEnd if input.is_empty() => break,
            // Another member follows.
            Status::StreamEnd => inflate.reset(true),
            // With room to write, nothing more came of what is left: the
            // stream is cut short.
            Status::Ok | Status::BufError if used == 0 && out.len() == wrote => {
                if out.len() < out.capacity() {
                    return Err(bad(format!(
                        "the gzip stream ends early (after {} compressed bytes)",
                        bytes.len()
                    )));
                }
            }
            Status::Ok | Status::BufError => {}
        }
    }
    if out.len() > limit {
        return Err(too_large());
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

#[cfg(test)]
mod tests {
    use std::io::Write;

    use flate2::read::MultiGzDecoder;
    use flate2::write::GzEncoder;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// What flate2's reader makes of `bytes` within `limit`: the decoder
    /// [`gunzip_bounded`] replaced.
    fn through_reader(bytes: &[u8], limit: usize) -> Result<Vec<u8>, &'static str> {
        let mut out = Vec::new();
        let mut reader = MultiGzDecoder::new(bytes).take(limit as u64 + 1);
        match reader.read_to_end(&mut out) {
            Err(_) => Err("invalid_gzip"),
            Ok(_) if out.len() > limit => Err("decompressed_too_large"),
            Ok(_) => Ok(out),
        }
    }

    fn ours(bytes: &[u8], limit: usize) -> Result<Vec<u8>, &'static str> {
        gunzip_bounded("t", bytes, limit).map_err(|e| e.reason())
    }

    #[test]
    fn members_follow_one_another_and_the_bound_holds_at_the_byte() {
        let a: Vec<u8> = (0..100_000u32).flat_map(|i| i.to_le_bytes()).collect();
        let two = [gz(&a), gz(b"tail")].concat();
        let whole = [&a[..], b"tail"].concat();
        assert_eq!(ours(&two, whole.len()).unwrap(), whole);
        assert_eq!(ours(&two, whole.len() - 1), Err("decompressed_too_large"));
        assert_eq!(ours(&gz(b""), 0).unwrap(), b"");
        assert_eq!(ours(&gz(b"x"), 0), Err("decompressed_too_large"));
    }

    /// ISIZE only guides the first reservation: a trailer that lies
    /// (small, huge, or naming only the last member) gives the same bytes,
    /// and the room never passes the bound plus one byte.
    #[test]
    fn a_lying_trailer_changes_nothing_but_the_first_guess() {
        let data = vec![b'a'; 300_000];
        let good = gz(&data);
        for isize in [0u32, 1, 299_999, 300_001, u32::MAX] {
            let mut lying = good.clone();
            let n = lying.len();
            lying[n - 4..].copy_from_slice(&isize.to_le_bytes());
            // zlib checks the length, as flate2's reader does.
            assert_eq!(ours(&lying, 1 << 20), through_reader(&lying, 1 << 20));
        }
        let members = [gz(&data), gz(b"b")].concat();
        let out = gunzip_bounded("t", &members, 400_000).unwrap();
        assert_eq!(out.len(), 300_001);
        assert!(out.capacity() <= 400_001, "{}", out.capacity());
    }

    #[test]
    fn cut_corrupt_and_trailing_bytes_are_invalid_gzip_as_before() {
        let good = [gz(b"hello, "), gz(b"world")].concat();
        for bad in [
            good[..good.len() - 1].to_vec(),
            good[..good.len() / 2].to_vec(),
            good[..10].to_vec(),
            [&good[..], b"junk"].concat(),
            [&good[..], &[0x1f, 0x8b][..]].concat(),
            {
                let mut b = good.clone();
                b[15] ^= 0xff;
                b
            },
        ] {
            assert_eq!(ours(&bad, 1 << 20), Err("invalid_gzip"), "{bad:02x?}");
            assert_eq!(through_reader(&bad, 1 << 20), Err("invalid_gzip"));
        }
        let e = gunzip_bounded("awslogs.data", b"{}", 10).unwrap_err();
        assert!(e.to_string().contains("gzip magic"), "{e}");
    }

    /// `members` gzipped one after another, one byte then XORed with
    /// `flip`'s mask, then cut to `cut`'s length (at least its minimum).
    fn altered_members(
        members: &[Vec<u8>],
        flip: Option<(usize, u8)>,
        cut: Option<(usize, usize)>,
    ) -> Vec<u8> {
        let mut bytes: Vec<u8> = members.iter().flat_map(|m| gz(m)).collect();
        if let Some((at, x)) = flip {
            let at = at % bytes.len();
            bytes[at] ^= x;
        }
        if let Some((cut, min)) = cut {
            bytes.truncate(cut.max(min));
        }
        bytes
    }

    proptest::proptest! {
        /// Any members, cut or altered anywhere, any bound: the bytes, or
        /// the kind of failure, flate2's reader gives.
        #[test]
        fn any_gzip_inflates_as_flate2s_reader_inflates_it(
            members in proptest::collection::vec(proptest::collection::vec(0u8..4, 0..3000), 1..4),
            cut in proptest::option::of(0usize..4000),
            flip in proptest::option::of((0usize..4000, 1u8..=255)),
            limit in 0usize..10_000,
        ) {
            let bytes = altered_members(&members, flip, cut.map(|c| (c, 2)));
            proptest::prop_assume!(is_gzip(&bytes));
            proptest::prop_assert_eq!(ours(&bytes, limit), through_reader(&bytes, limit));
        }
    }
}
