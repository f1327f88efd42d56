//! Small hand-written scanners the engine parsers share: fixed-width dates,
//! numbers and named time zones. Hand-written rather than regex or chrono's
//! `strftime` parsing because they run on every line of the hot path and
//! must never panic on odd input (every index is checked).

use crate::record::CompactString;
use crate::time;

/// A `memmem::Finder` built once for a constant needle. `memmem::find`
/// builds its searcher on every call (~200 instructions, callgrind), more
/// than the search itself costs on a log line.
macro_rules! finder {
    ($needle:expr) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*FINDER
    }};
}
pub(crate) use finder;

/// The value of an ASCII digit run, `None` when `b` is empty or not all digits.
pub fn num(b: &[u8]) -> Option<u32> {
    if b.is_empty() || b.len() > 9 {
        return None;
    }
    let mut v = 0u32;
    for c in b {
        if !c.is_ascii_digit() {
            return None;
        }
        v = v * 10 + (c - b'0') as u32;
    }
    Some(v)
}

/// A civil date-time read from text, before any zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    pub year: i32,
    pub month: u32,
    pub day: u32,
    pub hour: u32,
    pub min: u32,
    pub sec: u32,
    pub nanos: u32,
}

impl Civil {
    /// Unix ns, taking the civil time at `offset_secs` east of UTC.
    pub fn to_ns(self, offset_secs: i32) -> Option<i64> {
        let ns = time::utc_ns(
            self.year, self.month, self.day, self.hour, self.min, self.sec, self.nanos,
        )?;
        ns.checked_sub(offset_secs as i64 * 1_000_000_000)
    }
}

/// `YYYY-MM-DD<sep>HH:MM:SS[<frac_sep>f…]` at the start of `b`, where `sep`
/// is one of `seps` and the fraction separator one of `frac_seps`. Returns
/// the time and the bytes consumed.
pub fn date_time(b: &[u8], seps: &[u8], frac_seps: &[u8]) -> Option<(Civil, usize)> {
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || !seps.contains(&b[10])
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let mut c = Civil {
        year: num(&b[0..4])? as i32,
        month: num(&b[5..7])?,
        day: num(&b[8..10])?,
        hour: num(&b[11..13])?,
        min: num(&b[14..16])?,
        sec: num(&b[17..19])?,
        nanos: 0,
    };
    let mut i = 19;
    if b.get(i).is_some_and(|s| frac_seps.contains(s))
        && b.get(i + 1).is_some_and(u8::is_ascii_digit)
    {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        c.nanos = fraction_nanos(&b[start..i]);
    }
    Some((c, i))
}

/// Digits after a decimal point as nanoseconds (extra digits dropped).
pub fn fraction_nanos(digits: &[u8]) -> u32 {
    let mut v = 0u32;
    for k in 0..9 {
        let d = digits.get(k).map_or(0, |c| (c - b'0') as u32);
        v = v * 10 + d;
    }
    v
}

/// Seconds east of UTC for a time zone as PostgreSQL and others print it:
/// an abbreviation (`UTC`, `CET`, `EDT`, …) or a numeric `+03`, `-0330`,
/// `+05:30`. Abbreviations with two common meanings (`IST`, `CST` in Asia)
/// take the one PostgreSQL's default abbreviation set uses.
pub fn zone_offset(zone: &str) -> Option<i32> {
    let b = zone.as_bytes();
    if let Some(&sign @ (b'+' | b'-')) = b.first() {
        let digits: Vec<u8> = b[1..].iter().copied().filter(|c| *c != b':').collect();
        let (h, m) = match digits.len() {
            1 | 2 => (num(&digits)?, 0),
            4 => (num(&digits[0..2])?, num(&digits[2..4])?),
            _ => return None,
        };
        if h > 15 || m > 59 {
            return None;
        }
        let secs = (h * 3600 + m * 60) as i32;
        return Some(if sign == b'-' { -secs } else { secs });
    }
    const H: i32 = 3600;
    let off = match zone {
        "UTC" | "GMT" | "UT" | "Z" | "WET" | "Etc/UTC" => 0,
        "BST" | "WEST" | "CET" | "MET" => H,
        "CEST" | "MEST" | "EET" | "SAST" => 2 * H,
        "EEST" | "MSK" | "TRT" => 3 * H,
        "IST" => 5 * H + 30 * 60,
        "PKT" => 5 * H,
        "WIB" => 7 * H,
        "HKT" | "AWST" | "WITA" | "PHT" => 8 * H,
        "JST" | "KST" | "WIT" => 9 * H,
        "ACST" => 9 * H + 30 * 60,
        "AEST" | "ChST" => 10 * H,
        "ACDT" => 10 * H + 30 * 60,
        "AEDT" => 11 * H,
        "NZST" => 12 * H,
        "NZDT" => 13 * H,
        "NST" => -(3 * H + 30 * 60),
        "NDT" => -(2 * H + 30 * 60),
        "AST" => -4 * H,
        "ADT" => -3 * H,
        "EST" => -5 * H,
        "EDT" => -4 * H,
        "CST" => -6 * H,
        "CDT" => -5 * H,
        "MST" => -7 * H,
        "MDT" => -6 * H,
        "PST" => -8 * H,
        "PDT" => -7 * H,
        "AKST" => -9 * H,
        "AKDT" => -8 * H,
        "HST" => -10 * H,
        "SST" => -11 * H,
        _ => return None,
    };
    Some(off)
}

/// `s.trim_start()`: ASCII white space skipped byte by byte, the Unicode
/// test only when a non-ASCII character follows it. `trim_start` decodes
/// and tests each character, ~40 instructions for a `#` line's one space
/// (callgrind).
pub fn trim_start(s: &str) -> &str {
    let n = s.bytes().take_while(|c| ascii_space(*c)).count();
    let rest = &s[n..];
    if rest.as_bytes().first().is_some_and(|c| !c.is_ascii()) {
        rest.trim_start()
    } else {
        rest
    }
}

/// `s` without its leading spaces (`' '` only): `trim_start_matches(' ')`
/// sets up a char searcher, ~40 instructions a call (callgrind).
pub fn trim_spaces(s: &str) -> &str {
    let n = s.bytes().take_while(|c| *c == b' ').count();
    &s[n..]
}

/// A decimal number at the start of `s` (`12.5`, `3`), and the rest.
pub fn leading_f64(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let mut i = 0;
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'.') {
        i += 1;
    }
    if i == 0 {
        return None;
    }
    let value = match exact_decimal(&b[..i]) {
        Some(v) => v,
        None => s[..i].parse().ok()?,
    };
    Some((value, &s[i..]))
}

/// The powers of ten an `f64` holds exactly, for [`exact_decimal`]'s division.
pub(crate) const POW10: [f64; 16] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
];

/// `digits[.digits]` with at most 15 significant digits, as `f64`: the
/// integer and the power of ten are both exact, so one division rounds
/// correctly and gives what `str::parse` gives (Clinger's fast path), in a
/// tenth of its instructions (a duration is read from every statement line).
/// `None` for anything else, which `str::parse` then reads.
fn exact_decimal(b: &[u8]) -> Option<f64> {
    let (mut mantissa, mut digits, mut decimals) = (0u64, 0usize, None::<usize>);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                mantissa = mantissa * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(d) = decimals.as_mut() {
                    *d += 1;
                }
            }
            b'.' if decimals.is_none() => decimals = Some(0),
            _ => return None,
        }
        if digits > 15 {
            return None;
        }
    }
    if digits == 0 {
        return None;
    }
    Some(mantissa as f64 / POW10[decimals.unwrap_or(0)])
}

/// `value` as an `i64`, as `str::parse` reads it: plain digits (all but
/// always) by hand, anything else by `parse` (~60 instructions a value
/// more, callgrind).
pub fn int_value(value: &str) -> Option<i64> {
    let b = value.as_bytes();
    if (1..=18).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        return Some(b.iter().fold(0i64, |n, c| n * 10 + i64::from(c - b'0')));
    }
    value.parse().ok()
}

/// An unsigned integer at the start of `s`, and the rest.
pub fn leading_i64(s: &str) -> Option<(i64, &str)> {
    let i = s.bytes().take_while(u8::is_ascii_digit).count();
    if i == 0 || i > 18 {
        return None;
    }
    Some((s[..i].parse().ok()?, &s[i..]))
}

/// The lines of `s` with their line breaks, exactly as
/// `s.split_inclusive('\n')` yields them, found with one memchr iterator:
/// `split_inclusive`'s char searcher cost ~200 instructions a line
/// (callgrind), more than scanning a short log line.
pub fn lines_inclusive(s: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    let mut breaks = memchr::memchr_iter(b'\n', s.as_bytes());
    std::iter::from_fn(move || {
        let end = match breaks.next() {
            Some(nl) => nl + 1,
            None if start < s.len() => s.len(),
            None => return None,
        };
        let line = &s[start..end];
        start = end;
        Some(line)
    })
}

/// The words of `s`, exactly as `s.split_whitespace()` yields them, read
/// byte by byte; `None` when `s` is not ASCII (take `split_whitespace`
/// then). `split_whitespace` decodes and tests each character for Unicode
/// white space, ~5 M instructions a 1,000-entry slow query log (callgrind).
pub fn ascii_words(s: &str) -> Option<AsciiWords<'_>> {
    s.is_ascii().then_some(AsciiWords { s, at: 0 })
}

/// See [`ascii_words`]. A plain struct whose `next` is inlined into the
/// caller's loop: an enum of this and `SplitWhitespace`, called per word,
/// cost ~85 instructions a word (callgrind).
pub struct AsciiWords<'a> {
    s: &'a str,
    at: usize,
}

/// The ASCII characters `char::is_whitespace` accepts (with the vertical
/// tab, which `u8::is_ascii_whitespace` leaves out).
fn ascii_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | 0x0B | 0x0C | b'\r')
}

/// Where the word of ASCII `b` at `i` ends: its first white space byte
/// at or after `i`, or the end. Eight bytes at a time: a word is ~9 bytes,
/// and a test per byte was ~5 instructions a byte (callgrind).
#[inline(always)]
fn word_end(b: &[u8], mut i: usize) -> usize {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_ne_bytes([0x80; 8]);
    while let Some(chunk) = b.get(i..i + 8) {
        let x = u64::from_le_bytes(chunk.try_into().expect("eight bytes"));
        // The high bit of each byte below 0x21 (`' '` and the control
        // bytes): `x - 0x21…` borrows there, and ASCII bytes have the high
        // bit clear. A borrow also marks bytes after the first one below
        // 0x21, never before it, so the lowest mark is exact.
        let below_space = x.wrapping_sub(ONES * 0x21) & !x & HIGH;
        if below_space == 0 {
            i += 8;
            continue;
        }
        let j = i + (below_space.trailing_zeros() / 8) as usize;
        if ascii_space(b[j]) {
            return j;
        }
        // A control byte that is no white space is part of the word.
        i = j + 1;
    }
    while i < b.len() && (b[i] > b' ' || !ascii_space(b[i])) {
        i += 1;
    }
    i
}

impl<'a> Iterator for AsciiWords<'a> {
    type Item = &'a str;

    #[inline(always)]
    fn next(&mut self) -> Option<&'a str> {
        let b = self.s.as_bytes();
        // A byte above `' '` is never white space: one compare for most.
        let mut i = self.at;
        while i < b.len() && b[i] <= b' ' && ascii_space(b[i]) {
            i += 1;
        }
        let start = i;
        i = word_end(b, i);
        self.at = i;
        // ASCII text: every byte index is a character boundary.
        (i > start).then(|| &self.s[start..i])
    }
}

/// The text after `key` in `s` up to the next space (or the end).
pub fn word_after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let at = memchr::memmem::find(s.as_bytes(), key.as_bytes())? + key.len();
    let rest = &s[at..];
    Some(&rest[..rest.find([' ', '\n', '\t']).unwrap_or(rest.len())])
}

/// The first keyword of a SQL statement, upper case (`SELECT`, `WITH`, …),
/// skipping white space, comments and opening parentheses; `None` when the
/// text starts with no word.
pub fn first_sql_keyword(sql: &str) -> Option<CompactString> {
    // Most statements start with their keyword: nothing to skip, and the
    // loop's char tests cost ~40 instructions (callgrind).
    if sql.as_bytes().first().is_some_and(u8::is_ascii_alphabetic) {
        return leading_keyword(sql);
    }
    let mut s = sql;
    loop {
        let t = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(' || c == ';');
        if let Some(rest) = t.strip_prefix("--") {
            s = rest.find('\n').map_or("", |i| &rest[i..]);
        } else if let Some(rest) = t.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |i| &rest[i + 2..]);
        } else {
            s = t;
            break;
        }
    }
    leading_keyword(s)
}

/// The `[A-Za-z_]` word `s` starts with, upper case; `None` when it starts
/// with none. The tail of each dialect's first-keyword reader. Built inline
/// (a keyword fits in 24 bytes): no heap string a statement. ASCII letters
/// and `_` are one byte each, and no byte of a multi-byte character is one
/// of them: the byte count is the word's length.
pub fn leading_keyword(s: &str) -> Option<CompactString> {
    let n = s
        .bytes()
        .take_while(|c| c.is_ascii_alphabetic() || *c == b'_')
        .count();
    if n == 0 {
        return None;
    }
    let word = &s[..n];
    // Mostly written in upper case already: copied as it is. Upper-casing
    // the `CompactString` in place goes through its mutable view, ~150
    // instructions a statement (callgrind); a stack copy needs a UTF-8
    // check that costs more still.
    if !word.bytes().any(|c| c.is_ascii_lowercase()) {
        return Some(CompactString::from(word));
    }
    let mut word = CompactString::from(word);
    word.make_ascii_uppercase();
    Some(word)
}

/// Where the first `N` occurrences of `byte` in `b` are; `None` when there
/// are fewer. One pass, eight bytes a step (SWAR): the audit record's eight
/// short leading fields cost ~300 instructions found one `position` call
/// each, and `memchr`'s set-up per call costs more than a short field.
pub fn first_positions<const N: usize>(b: &[u8], byte: u8) -> Option<[usize; N]> {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let mut at = [0; N];
    let mut n = 0;
    if N == 0 {
        return Some(at);
    }
    let words = b.chunks_exact(8);
    let tail = words.remainder();
    let base = b.len() - tail.len();
    for (k, word) in words.enumerate() {
        // `chunks_exact(8)`: every word is 8 bytes (the MSRV, 1.85, has no
        // `as_chunks`), so the conversion never fails.
        let word: [u8; 8] = word.try_into().unwrap_or_default();
        // Bytes equal to `byte` become zero; the high bit of each zero
        // byte is then set, exactly (adding 0x7f to the low seven bits of
        // a byte never carries into the next byte).
        let x = u64::from_le_bytes(word) ^ u64::from_ne_bytes([byte; 8]);
        let mut hits = !(((x & LOW7) + LOW7) | x | LOW7);
        while hits != 0 {
            at[n] = k * 8 + (hits.trailing_zeros() / 8) as usize;
            n += 1;
            if n == N {
                return Some(at);
            }
            hits &= hits - 1;
        }
    }
    for (i, &c) in tail.iter().enumerate() {
        if c == byte {
            at[n] = base + i;
            n += 1;
            if n == N {
                return Some(at);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        // The fast path must give exactly what `str::parse` gives.
        #[test]
        fn leading_f64_equals_str_parse(text in "[0-9]{0,20}(\\.[0-9]{0,20})?") {
            let want = text.parse::<f64>().ok();
            prop_assert_eq!(leading_f64(&text).map(|(v, _)| v.to_bits()), want.map(f64::to_bits));
        }

        // Points anywhere, none or several: still what `str::parse` gives.
        #[test]
        fn leading_f64_with_stray_points_equals_str_parse(text in "[0-9.]{0,18}") {
            let want = text.parse::<f64>().ok();
            prop_assert_eq!(leading_f64(&text).map(|(v, _)| v.to_bits()), want.map(f64::to_bits));
        }
    }

    proptest! {
        /// The keyword is the word upper-cased, whatever its case and length
        /// (inline up to 24 bytes, on the heap past that) and whatever follows.
        #[test]
        fn leading_keyword_is_the_word_upper_cased(text in "[a-zA-Z_]{0,40}[ (;é0-9]?[a-z]{0,3}") {
            let n = text.bytes().take_while(|c| c.is_ascii_alphabetic() || *c == b'_').count();
            let want = (n > 0).then(|| text[..n].to_ascii_uppercase());
            prop_assert_eq!(leading_keyword(&text).map(|w| w.to_string()), want);
        }
    }

    proptest! {
        #[test]
        fn lines_inclusive_equals_split_inclusive(text in "[a\n\r é]{0,40}") {
            let want: Vec<&str> = text.split_inclusive('\n').collect();
            prop_assert_eq!(lines_inclusive(&text).collect::<Vec<_>>(), want);
        }

        /// The shortcut for a statement that starts with a letter gives what
        /// the skipping loop gives (a leading space sends it there).
        #[test]
        fn first_sql_keyword_shortcut_equals_the_loop(sql in "[a-zA-Z][a-zA-Z_ (;*/-]{0,10}") {
            prop_assert_eq!(first_sql_keyword(&sql), first_sql_keyword(&format!(" {sql}")));
            prop_assert_eq!(
                super::super::mysql_common::operation_name(&sql),
                super::super::mysql_common::operation_name(&format!(" {sql}"))
            );
        }

        #[test]
        fn trim_start_equals_str_trim_start(text in "[a: \t\n\r\x0b\x0c\x1f\u{a0}\u{3000}é]{0,12}") {
            prop_assert_eq!(trim_start(&text), text.trim_start());
        }

        /// The hand-read integer is `str::parse`'s, signs, overflow and
        /// stray bytes included.
        #[test]
        fn int_value_equals_str_parse(value in "[+-]?[0-9]{0,21}[a .]?") {
            prop_assert_eq!(int_value(&value), value.parse::<i64>().ok());
        }

        /// ASCII text (control bytes near `' '` included) is cut where
        /// `split_whitespace` cuts it.
        #[test]
        fn ascii_words_equal_split_whitespace(
            text in "[a: \t\n\r\x00\x0b\x0c\x1c-\x21\x7f]{0,40}|([a-z:\x01\x1f\x21\x7f]{0,20}[ \t\x0c]{0,2}){0,5}"
        ) {
            let want: Vec<&str> = text.split_whitespace().collect();
            let words = ascii_words(&text).expect("ASCII text");
            prop_assert_eq!(words.collect::<Vec<_>>(), want);
        }

        /// Other text is left to `split_whitespace`.
        #[test]
        fn ascii_words_refuse_other_text(text in "[a \u{a0}\u{3000}é]{0,12}") {
            prop_assert_eq!(ascii_words(&text).is_some(), text.is_ascii());
        }
    }

    #[test]
    fn dates_zones_and_keywords() {
        let (c, n) = date_time(b"2022-10-05 22:05:56.123 UTC", b" ", b".").unwrap();
        assert_eq!(n, 23);
        assert_eq!(c.nanos, 123_000_000);
        assert_eq!(
            c.to_ns(0),
            time::utc_ns(2022, 10, 5, 22, 5, 56, 123_000_000)
        );
        assert!(date_time(b"2022-1x-05 22:05:56", b" ", b".").is_none());
        assert!(date_time(b"2022-10-05", b" ", b".").is_none());
        assert!(date_time(b"2022-10-05 22:05:5x", b" ", b".").is_none());
        assert!(date_time(b"20x2-10-05 22:05:56", b" ", b".").is_none());
        assert_eq!(
            date_time(b"0999-01-02T03:04:05,5", b"T", b",").map(|(c, n)| (c.year, c.nanos, n)),
            Some((999, 500_000_000, 21))
        );
        assert_eq!(trim_spaces("  a b "), "a b ");
        assert_eq!(trim_spaces(" \tx"), "\tx");
        assert_eq!(zone_offset("CET"), Some(3600));
        assert_eq!(zone_offset("CEST"), Some(7200));
        assert_eq!(zone_offset("-0330"), Some(-(3 * 3600 + 1800)));
        assert_eq!(zone_offset("+03"), Some(3 * 3600));
        assert_eq!(zone_offset("+5:30"), None);
        assert_eq!(zone_offset("XYZ"), None);
        assert_eq!(
            first_sql_keyword("  /* x */ -- c\n (select 1)").as_deref(),
            Some("SELECT")
        );
        assert_eq!(
            first_sql_keyword("with m as (select 1) select *").as_deref(),
            Some("WITH")
        );
        assert_eq!(first_sql_keyword(""), None);
        assert_eq!(first_sql_keyword("/* unterminated"), None);
        assert_eq!(leading_f64("12.5 ms"), Some((12.5, " ms")));
        assert_eq!(leading_f64("0.1"), Some((0.1, "")));
        assert_eq!(leading_f64("7."), Some((7.0, "")));
        assert_eq!(leading_f64(".5x"), Some((0.5, "x")));
        assert_eq!(leading_f64("1.2.3"), None);
        assert_eq!(leading_f64("."), None);
        assert_eq!(
            word_after("a host=1.2.3.4 port=5", "host="),
            Some("1.2.3.4")
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// The SWAR scan finds what a byte-by-byte search finds, at every
        /// alignment and with high bytes (UTF-8, 0x80, 0xff) around it.
        #[test]
        fn first_positions_equal_a_byte_search(
            b in proptest::collection::vec(prop_oneof![
                Just(b','), Just(b'a'), Just(b'+'), Just(b'-'), Just(0u8), Just(0x80u8), Just(0xacu8), Just(0xffu8), any::<u8>()
            ], 0..80),
        ) {
            fn by_bytes<const N: usize>(b: &[u8]) -> Option<[usize; N]> {
                let all: Vec<usize> = b.iter().enumerate().filter(|(_, c)| **c == b',').map(|(i, _)| i).collect();
                all.get(..N).map(|s| s.try_into().expect("N positions"))
            }
            prop_assert_eq!(first_positions::<8>(&b, b','), by_bytes::<8>(&b));
            prop_assert_eq!(first_positions::<1>(&b, b','), by_bytes::<1>(&b));
            prop_assert_eq!(first_positions::<0>(&b, b','), Some([]));
        }
    }
}
