//! WhaTap's two hash functions (golib `util/hash`): `HashStr`, standard
//! CRC-32, gives object ids; `Hash64` gives the licence hash in every frame
//! header and the tag hash of a LogSinkPack. Hand-written because `Hash64`
//! is not a standard CRC that a crate offers: it runs CRC-32's table step on
//! a 64-bit register with sign-extended table entries.

/// The reflected CRC-32 table (polynomial 0xEDB88320), built at compile time.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        table[i] = c;
        i += 1;
    }
    table
}

/// golib `Hash` / `HashStr`: CRC-32 of the bytes, read as a signed i32.
pub fn hash32(bytes: &[u8]) -> i32 {
    let mut crc = u32::MAX;
    for &b in bytes {
        crc = (crc >> 8) ^ TABLE[((crc ^ b as u32) & 0xff) as usize];
    }
    (crc ^ u32::MAX) as i32
}

/// `HashStr(text)`: the object id of an object name.
pub fn hash_str(text: &str) -> i32 {
    hash32(text.as_bytes())
}

/// golib `Hash64`: the CRC-32 step on a 64-bit register whose table entries
/// are sign-extended from 32 bits. Empty input gives 0.
pub fn hash64(bytes: &[u8]) -> i64 {
    let mut crc = u64::MAX;
    for &b in bytes {
        let entry = TABLE[((crc ^ b as u64) & 0xff) as usize] as i32 as i64 as u64;
        crc = (crc >> 8) ^ entry;
    }
    (crc ^ u64::MAX) as i64
}

/// `Hash64Str(text)`: the licence hash.
pub fn hash64_str(text: &str) -> i64 {
    hash64(text.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_values() {
        // From the vectors' hashes.json (golib's own output).
        assert_eq!(hash_str(""), 0);
        assert_eq!(hash64_str(""), 0);
        assert_eq!(hash_str("a"), -390611389);
        assert_eq!(hash64_str("a"), -72057593640010173);
        assert_eq!(hash_str("abc"), 891568578);
        assert_eq!(hash64_str("abc"), 1098620059330);
        assert_eq!(hash_str("rds-forwarder"), -458094578);
    }
}
