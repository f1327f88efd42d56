//! What a WhaTap licence (project access key) says about its project: its
//! hexa32 tokens, written as 8-byte big-endian integers one after another,
//! read back as a decimal (the pcode) and a 16-byte blob (a security key the
//! one-way protocol does not use). This is how WhaTap's agents derive the
//! project code (whatap/openagent `lang/license/License.go`, `Parse`).

use super::hexa32;

/// The pcode a licence carries, or `None` when it carries none (decoded
/// pcode 0, or no 16-byte key after it — e.g. an arbitrary test string).
pub fn pcode_of(license: &str) -> Option<i64> {
    let mut bytes = Vec::with_capacity(32);
    for token in license.split('-') {
        bytes.extend_from_slice(&hexa32::to_long32(token).to_be_bytes());
    }
    let (pcode, rest) = read_decimal(&bytes)?;
    let key_len = read_blob_len(rest)?;
    (pcode != 0 && key_len == 16).then_some(pcode)
}

fn read_decimal(bytes: &[u8]) -> Option<(i64, &[u8])> {
    let (&len, rest) = bytes.split_first()?;
    let len = len as usize;
    if !matches!(len, 0..=5 | 8) || rest.len() < len {
        return None;
    }
    let (digits, rest) = rest.split_at(len);
    // Sign-extend from the first byte.
    let init: i64 = if digits.first().is_some_and(|b| b & 0x80 != 0) {
        -1
    } else {
        0
    };
    let v = digits.iter().fold(init, |acc, &b| (acc << 8) | b as i64);
    Some((v, rest))
}

/// The length of the blob at the start of `bytes`, when all of it is there.
fn read_blob_len(bytes: &[u8]) -> Option<usize> {
    let (&first, rest) = bytes.split_first()?;
    let (len, rest) = match first {
        0xff => (
            u16::from_be_bytes(rest.get(..2)?.try_into().ok()?) as usize,
            &rest[2..],
        ),
        0xfe => (
            usize::try_from(i32::from_be_bytes(rest.get(..4)?.try_into().ok()?)).ok()?,
            &rest[4..],
        ),
        n => (n as usize, rest),
    };
    (rest.len() >= len).then_some(len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golib_test_licences() {
        // The public pairs in golib's net/oneway/OneWayTcpClient_test.go.
        assert_eq!(
            pcode_of("x2jgg66m4jlck-z6l4o2nb3cckq0-x5jfk4ktaqmfth"),
            Some(78)
        );
        assert_eq!(
            pcode_of("x2jogsfu22s10-x52c23sgmuab82-z38tcf60s1i202"),
            Some(79)
        );
    }

    #[test]
    fn strings_without_a_pcode() {
        for s in ["", "abcdefg", "test-license-key", "0", "x1"] {
            assert_eq!(pcode_of(s), None, "{s}");
        }
    }
}
