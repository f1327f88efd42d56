//! Keeps what serde_json holds while it reads a streamed payload bounded,
//! whatever the payload says.
//!
//! serde_json gathers a string whole before its visitor sees it, and the
//! streamed reader captures each log event raw ([`serde_json::value::RawValue`])
//! before reading it. A 50 MB message therefore cost ~120 MB, and an event
//! made of many long fields as much as the decompression bound allows. This
//! reader sits between the inflater and serde_json and, in one pass over the
//! bytes:
//!
//! - cuts every string longer than `max_string` bytes (decoded) as it streams
//!   past: the first bytes are kept, on a character and escape boundary,
//!   followed by `#` and the string's original length (at least three
//!   digits). A cut string is thus always longer than `max_string`, and every
//!   other string is at most that long, so [`uncut`] can tell them apart:
//!   input cannot forge a cut.
//! - fails once one element of a second-level container (a log event in
//!   `logEvents`) passes `max_element` bytes after those cuts: no CloudWatch
//!   event comes near it (the message is capped, the other fields are short).
//!
//! The output is valid JSON whenever the input is; invalid input stays
//! invalid, so serde_json reports it as before, unless what was wrong lay
//! in the part of a string that was cut (a lone surrogate escape).

use std::io::{self, Read};

/// See the module documentation.
pub(super) struct BoundedJson<R> {
    inner: R,
    max_string: usize,
    max_element: usize,
    input: Box<[u8]>,
    pos: usize,
    len: usize,
    /// Bytes to hand out before reading on: the tail of a cut string.
    pending: Vec<u8>,
    pending_pos: usize,
    lex: Lexer,
    oversized: bool,
}

#[derive(Default)]
struct Lexer {
    /// Containers open (`{`, `[`) outside strings.
    depth: u32,
    in_string: bool,
    /// An escape sequence being read (`\` and up to 5 more bytes).
    escape: [u8; 6],
    escape_len: usize,
    /// Decoded bytes of the current string passed on / seen in all.
    kept: usize,
    total: usize,
    /// The current string is being cut: its bytes are dropped.
    cutting: bool,
    /// The last unit was a high surrogate escape: its low half must go with it.
    after_high: bool,
    /// Bytes passed on of the current second-level element.
    element: usize,
}

impl<R: Read> BoundedJson<R> {
    pub(super) fn new(inner: R, max_string: usize, max_element: usize) -> Self {
        BoundedJson {
            inner,
            max_string,
            max_element,
            input: vec![0; 64 * 1024].into_boxed_slice(),
            pos: 0,
            len: 0,
            pending: Vec::new(),
            pending_pos: 0,
            lex: Lexer::default(),
            oversized: false,
        }
    }

    pub(super) fn inner(&self) -> &R {
        &self.inner
    }

    /// True once an element passed `max_element` (the read that crossed it
    /// failed).
    pub(super) fn oversized(&self) -> bool {
        self.oversized
    }

    /// Passes on bytes of `self.input[pos..len]` into `out`; returns how
    /// many were written. Stops early when a cut string ends (its tail goes
    /// to `pending`) or `out` is full.
    fn filter(&mut self, out: &mut [u8]) -> usize {
        let mut w = 0;
        while self.pos < self.len && w < out.len() {
            if self.lex.in_string && self.lex.escape_len == 0 && !self.lex.cutting {
                let n = self.plain_run(&mut out[w..]);
                if n > 0 {
                    w += n;
                    continue;
                }
            }
            let b = self.input[self.pos];
            self.pos += 1;
            let emit = if self.lex.in_string {
                self.string_byte(b)
            } else {
                self.structural_byte(b);
                Emit::Byte
            };
            match emit {
                Emit::Nothing => {}
                Emit::Byte => {
                    out[w] = b;
                    w += 1;
                    self.count(1);
                }
                Emit::Pending => {
                    // A finished escape sequence or the tail of a cut string.
                    let n = (self.pending.len() - self.pending_pos).min(out.len() - w);
                    out[w..w + n]
                        .copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
                    self.pending_pos += n;
                    w += n;
                    self.count(n);
                    if self.pending_pos < self.pending.len() {
                        break;
                    }
                }
            }
        }
        w
    }

    /// Passes on at once the plain bytes (no quote, no backslash) that
    /// follow in the current string and are kept whole, ending on a
    /// character boundary; returns how many (0: the byte path goes on).
    /// Strings are most of a log payload: byte by byte they cost ~50
    /// instructions a byte, a `memchr2` and a copy a few. The bytes near a
    /// cut, escapes and a string's end stay with the byte path, which
    /// decides where a cut falls.
    fn plain_run(&mut self, out: &mut [u8]) -> usize {
        let input = &self.input[self.pos..self.len];
        // A run starts on a character's first byte: what the byte path
        // would do on its other bytes depends on decisions taken at it.
        if input[0] & 0xC0 == 0x80 {
            return 0;
        }
        let plain = memchr::memchr2(b'"', b'\\', input).unwrap_or(input.len());
        let room = self.max_string.saturating_sub(self.lex.kept);
        let mut n = plain.min(out.len()).min(room);
        // Never end inside a character: the byte path takes it whole or cuts
        // before it.
        while n > 0 && n < plain && input[n] & 0xC0 == 0x80 {
            n -= 1;
        }
        if n == 0 {
            return 0;
        }
        out[..n].copy_from_slice(&input[..n]);
        self.pos += n;
        self.lex.after_high = false;
        self.lex.kept += n;
        self.lex.total = self.lex.total.saturating_add(n);
        self.count(n);
        n
    }

    fn count(&mut self, n: usize) {
        if self.lex.depth >= 2 {
            self.lex.element = self.lex.element.saturating_add(n);
            if self.lex.element > self.max_element {
                self.oversized = true;
            }
        }
    }

    fn structural_byte(&mut self, b: u8) {
        let lex = &mut self.lex;
        match b {
            b'"' => {
                lex.in_string = true;
                lex.kept = 0;
                lex.total = 0;
                lex.cutting = false;
                lex.after_high = false;
                lex.escape_len = 0;
            }
            b'{' | b'[' => {
                lex.depth = lex.depth.saturating_add(1);
                if lex.depth == 2 {
                    lex.element = 0;
                }
            }
            b'}' | b']' => lex.depth = lex.depth.saturating_sub(1),
            b',' if lex.depth == 2 => lex.element = 0,
            _ => {}
        }
    }

    fn string_byte(&mut self, b: u8) -> Emit {
        let max = self.max_string;
        let lex = &mut self.lex;
        if lex.escape_len > 0 {
            lex.escape[lex.escape_len] = b;
            lex.escape_len += 1;
            let done = match lex.escape[1] {
                b'u' => lex.escape_len == 6,
                _ => true,
            };
            if !done {
                return Emit::Nothing;
            }
            let (size, high) = escape_size(&lex.escape[..lex.escape_len]);
            let n = lex.escape_len;
            lex.escape_len = 0;
            let take = !lex.cutting && (lex.after_high || lex.kept + size <= max);
            lex.after_high = high;
            lex.total = lex.total.saturating_add(size);
            if !take {
                lex.cutting = true;
                return Emit::Nothing;
            }
            lex.kept += size;
            self.pending.clear();
            self.pending.extend_from_slice(&self.lex.escape[..n]);
            self.pending_pos = 0;
            return Emit::Pending;
        }
        match b {
            b'\\' => {
                lex.escape[0] = b;
                lex.escape_len = 1;
                Emit::Nothing
            }
            b'"' => {
                lex.in_string = false;
                if !lex.cutting {
                    return Emit::Byte;
                }
                self.pending.clear();
                self.pending
                    .extend_from_slice(format!("#{:03}\"", lex.total).as_bytes());
                self.pending_pos = 0;
                Emit::Pending
            }
            _ => {
                lex.total = lex.total.saturating_add(1);
                if b & 0xC0 != 0x80 {
                    // A character starts: it goes whole or not at all.
                    lex.after_high = false;
                    if !lex.cutting && lex.kept + utf8_len(b) > max {
                        lex.cutting = true;
                    }
                }
                if lex.cutting {
                    Emit::Nothing
                } else {
                    lex.kept += 1;
                    Emit::Byte
                }
            }
        }
    }
}

enum Emit {
    Nothing,
    Byte,
    Pending,
}

/// Bytes a character takes in UTF-8, from its first byte.
fn utf8_len(first: u8) -> usize {
    match first {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// Decoded bytes of an escape sequence (a surrogate pair's 4 counted on its
/// high half), and whether it is a high surrogate.
fn escape_size(seq: &[u8]) -> (usize, bool) {
    if seq.get(1) != Some(&b'u') {
        return (1, false);
    }
    let hex = std::str::from_utf8(&seq[2..]).ok();
    let Some(cp) = hex.and_then(|h| u32::from_str_radix(h, 16).ok()) else {
        return (1, false); // invalid: serde_json will say so
    };
    match cp {
        0..=0x7F => (1, false),
        0x80..=0x7FF => (2, false),
        0xD800..=0xDBFF => (4, true),
        0xDC00..=0xDFFF => (0, false),
        _ => (3, false),
    }
}

impl<R: Read> Read for BoundedJson<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if out.is_empty() {
            return Ok(0);
        }
        loop {
            if self.oversized {
                return Err(io::Error::other(format!(
                    "a log event over {} bytes of JSON",
                    self.max_element
                )));
            }
            if self.pending_pos < self.pending.len() {
                let n = (self.pending.len() - self.pending_pos).min(out.len());
                out[..n].copy_from_slice(&self.pending[self.pending_pos..self.pending_pos + n]);
                self.pending_pos += n;
                self.count(n);
                return Ok(n);
            }
            if self.pos == self.len {
                self.len = self.inner.read(&mut self.input)?;
                self.pos = 0;
                if self.len == 0 {
                    return Ok(0);
                }
            }
            let n = self.filter(out);
            if n > 0 {
                return Ok(n);
            }
        }
    }
}

/// Reads back a string [`BoundedJson`] cut: restores its kept prefix and
/// returns its original length (decoded bytes). `None` for a string it
/// passed whole (at most `max_string` bytes).
pub(super) fn uncut(s: &mut String, max_string: usize) -> Option<usize> {
    if s.len() <= max_string {
        return None;
    }
    let original = s.len();
    let Some(hash) = s.rfind('#') else {
        return Some(original);
    };
    let from = s[hash + 1..].parse().unwrap_or(original);
    s.truncate(hash);
    s.shrink_to_fit();
    Some(from)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn through(json: &str, max_string: usize, max_element: usize) -> io::Result<String> {
        let mut r = BoundedJson::new(json.as_bytes(), max_string, max_element);
        let mut out = Vec::new();
        // Small reads: every state must survive a buffer edge.
        let mut buf = [0u8; 3];
        loop {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        Ok(String::from_utf8(out).unwrap())
    }

    fn strings(json: &str) -> Vec<String> {
        let v: serde_json::Value = serde_json::from_str(json).unwrap();
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn short_strings_and_structure_pass_unchanged() {
        let json = r#"{"a":[1,{"b":"x\"y\\z\u00e9\ud83d\ude00"}],"c":"ok"}"#;
        assert_eq!(through(json, 100, 1000).unwrap(), json);
        // Exactly at the limit: whole.
        let json = r#"["abcdé\n"]"#;
        assert_eq!(through(json, 8, 1000).unwrap(), json);
    }

    #[test]
    fn a_long_string_is_cut_on_a_boundary_with_its_length_and_reads_back() {
        for (input, max) in [
            ("abcdefghijklmnop", 5),
            ("ééééééééé", 5),   // two-byte characters
            ("a😀😀😀😀😀", 6), // four-byte characters
            ("ab\\n\\t\\u00e9\\u00e9\\u00e9cd", 6),
            ("a\\ud83d\\ude00\\ud83d\\ude00xyz", 6), // surrogate pairs stay whole
            ("a\\ud83d\\ude00\\ud83d\\ude00xyz", 1),
        ] {
            let json = format!(r#"["{input}","s"]"#);
            let whole = strings(&json)[0].clone();
            let cut = through(&json, max, 1 << 20).unwrap();
            let got = strings(&cut);
            assert_eq!(got[1], "s");
            let mut s = got[0].clone();
            assert!(
                s.len() > max,
                "{input}: a cut string is longer than the limit"
            );
            assert_eq!(uncut(&mut s, max), Some(whole.len()), "{input}");
            assert!(s.len() <= max && s.len() + 4 > max, "{input}: {s:?}");
            assert!(whole.starts_with(&s), "{input}: {s:?} is a prefix");
        }
    }

    #[test]
    fn a_string_that_was_not_cut_reads_back_as_itself() {
        let mut s = "ab#12".to_owned();
        assert_eq!(uncut(&mut s, 5), None);
        assert_eq!(s, "ab#12");
    }

    #[test]
    fn an_oversized_event_fails_and_a_long_one_of_short_fields_does_not() {
        let field = "x".repeat(50);
        let event = |n: usize| {
            let fields: Vec<String> = (0..n).map(|i| format!(r#""f{i}":"{field}""#)).collect();
            format!("{{{}}}", fields.join(","))
        };
        let doc = |events: &[String]| format!(r#"{{"logEvents":[{}]}}"#, events.join(","));
        // Many events, each under the bound: fine, however many.
        let ok = doc(&vec![event(3); 100]);
        assert_eq!(through(&ok, 1000, 200).unwrap(), ok);
        // One event past it: an error, not a longer read.
        let bad = doc(&[event(2), event(10)]);
        let err = through(&bad, 1000, 200).unwrap_err();
        assert!(err.to_string().contains("over 200 bytes"), "{err}");
        // Long strings count once cut.
        let long = doc(&[format!(r#"{{"m":"{}"}}"#, "y".repeat(10_000))]);
        assert!(through(&long, 100, 200).is_ok());
    }

    #[test]
    fn invalid_json_stays_invalid() {
        for bad in [r#"["abc"#, r#"["a\"#, r#"["\uZZZZ"]"#, r#"["\ud83d"]"#] {
            let out = through(bad, 100, 1000).unwrap();
            assert!(
                serde_json::from_str::<serde_json::Value>(&out).is_err(),
                "{bad} → {out}"
            );
        }
    }

    proptest::proptest! {
        /// Any bytes at all: no panic, and never more out than in plus one
        /// length marker per cut string.
        #[test]
        fn any_bytes_pass_without_panic(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            max in 0usize..20,
            element in 0usize..64,
        ) {
            let mut r = BoundedJson::new(&bytes[..], max, element);
            let mut out = Vec::new();
            let mut buf = [0u8; 5];
            while let Ok(n) = r.read(&mut buf) {
                if n == 0 {
                    break;
                }
                out.extend_from_slice(&buf[..n]);
            }
            let quotes = bytes.iter().filter(|b| **b == b'"').count();
            proptest::prop_assert!(out.len() <= bytes.len() + quotes * 24);
        }

        /// Any strings, any limit, any read size: each string comes back
        /// whole when it fits, else as its longest prefix that fits on a
        /// character boundary, with its length.
        #[test]
        fn every_string_is_whole_or_a_marked_prefix(
            texts in proptest::collection::vec("\\PC{0,40}|[\"\\\\\n\t\u{1}é😀]{0,20}", 1..6),
            max in 1usize..30,
        ) {
            let json = serde_json::to_string(&texts).unwrap();
            let out = through(&json, max, usize::MAX).unwrap();
            let got: Vec<String> = serde_json::from_str(&out).unwrap();
            proptest::prop_assert_eq!(got.len(), texts.len());
            for (mut g, t) in got.into_iter().zip(&texts) {
                let from = uncut(&mut g, max);
                if t.len() <= max {
                    proptest::prop_assert_eq!(from, None);
                    proptest::prop_assert_eq!(&g, t);
                } else {
                    proptest::prop_assert_eq!(from, Some(t.len()));
                    proptest::prop_assert!(t.starts_with(&g));
                    proptest::prop_assert!(g.len() <= max && g.len() + 4 > max);
                }
            }
        }
    }
}
