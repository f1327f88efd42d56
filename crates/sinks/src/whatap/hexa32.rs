//! golib's `hexa32` number text (`util/hexa32`): 0–9 as digits, other
//! non-negative numbers as `x` + base 32, negatives as `z` + base 32 of the
//! absolute value. WhaTap licences are `-`-separated lists of these tokens.

const DIGITS: &[u8; 32] = b"0123456789abcdefghijklmnopqrstuv";

/// `ToString32`.
pub fn to_string32(n: i64) -> String {
    if (0..10).contains(&n) {
        return n.to_string();
    }
    let (prefix, mut v) = if n < 0 {
        ('z', n.unsigned_abs())
    } else {
        ('x', n as u64)
    };
    let mut digits = Vec::with_capacity(14);
    while v > 0 {
        digits.push(DIGITS[(v % 32) as usize]);
        v /= 32;
    }
    let mut s = String::with_capacity(digits.len() + 1);
    s.push(prefix);
    s.extend(digits.iter().rev().map(|&d| d as char));
    s
}

/// `ToLong32`: invalid text and overflow give 0, as in golib.
pub fn to_long32(s: &str) -> i64 {
    parse(s).unwrap_or(0)
}

fn parse(s: &str) -> Option<i64> {
    let (negative, digits) = match s.as_bytes().first()? {
        b'x' => (false, &s[1..]),
        b'z' => (true, &s[1..]),
        _ => return s.parse::<i64>().ok(),
    };
    if digits.is_empty() {
        return None;
    }
    let mut v: u64 = 0;
    for c in digits.chars() {
        let d = c.to_digit(32)? as u64;
        v = v.checked_mul(32)?.checked_add(d)?;
    }
    if negative {
        // The minimum i64 has no positive counterpart: allow exactly 2^63.
        if v == 1u64 << 63 {
            Some(i64::MIN)
        } else {
            i64::try_from(v).ok().map(|x| -x)
        }
    } else {
        i64::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for n in [0, 9, 10, 31, 32, -1, i64::MAX, i64::MIN, 123456789] {
            assert_eq!(to_long32(&to_string32(n)), n, "{n}");
        }
        assert_eq!(to_string32(10), "xa");
        assert_eq!(to_string32(i64::MIN), "z8000000000000");
        assert_eq!(to_long32("xABC"), 10604);
        assert_eq!(to_long32("hello"), 0);
        assert_eq!(to_long32("-7"), -7);
    }
}
