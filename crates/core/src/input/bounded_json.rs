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
//!
//! As it walks the structure anyway, it also notes where each container
//! that is an element of a second-level one (a log event in `logEvents`)
//! starts and ends in its output ([`ElementEnds`]), so that the
//! [`Window`] taking the events need not scan each one a second time.
//!
//! [`Window`]: super::json_window::Window

use std::collections::VecDeque;
use std::io::{self, Read};

use super::json_window::{ElementAt, ElementEnds};

/// The most element extents held, not yet asked for: while a big field the
/// reader does not want is skipped nobody asks, and past this the
/// elements go unnoted (the [`Window`](super::json_window::Window) then
/// scans them itself). 4,096 extents are 64 KiB, about the events of one
/// read.
const MAX_NOTED: usize = 4096;

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
    /// Bytes passed on so far: where the next one is in the output.
    passed: u64,
    /// Start and end (exclusive) in the output of the third-level
    /// containers closed and not yet asked for ([`ElementEnds`]), oldest
    /// first.
    noted: VecDeque<(u64, u64)>,
    /// Whether extents are noted at all; off only in tests, which compare
    /// the window's own scan with what is noted.
    note: bool,
    /// Whether the fast paths ([`BoundedJson::walk`],
    /// [`BoundedJson::plain_run`], [`BoundedJson::drop_run`]) run; off only
    /// in tests, which compare them with the byte path alone.
    fast: bool,
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
    /// Where the third-level container now open starts in the output, if
    /// it is being noted: not when [`MAX_NOTED`] were waiting as it opened,
    /// nor once a `\u` escape was seen in it (a `\u` whose four bytes hold
    /// a quote or backslash is taken whole here and not by the window's
    /// scan, so in invalid JSON the two could end the element apart).
    open: Option<u64>,
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
            passed: 0,
            noted: VecDeque::new(),
            note: true,
            fast: true,
        }
    }

    /// The same reader taking every byte through the byte path: what the
    /// fast paths must match byte for byte (tests).
    #[cfg(test)]
    fn byte_path_only(mut self) -> Self {
        self.fast = false;
        self
    }

    /// The same reader noting no element extents: the window scans every
    /// element itself, as before they were noted (tests).
    #[cfg(test)]
    pub(super) fn noting_nothing(mut self) -> Self {
        self.note = false;
        self
    }

    /// The extents noted and not yet asked for, taken (tests).
    #[cfg(test)]
    pub(super) fn take_noted(&mut self) -> Vec<(u64, u64)> {
        self.noted.drain(..).collect()
    }

    /// The first extent noted and not yet asked for (tests).
    #[cfg(test)]
    pub(super) fn next_noted(&self) -> Option<(u64, u64)> {
        self.noted.front().copied()
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
            if self.fast && self.lex.escape_len == 0 && !self.lex.cutting && !self.lex.after_high {
                let at = self.passed + w as u64;
                w += self.walk(&mut out[w..], at);
                if self.pos == self.len || w == out.len() {
                    break;
                }
            }
            if self.fast && self.lex.in_string && self.lex.escape_len == 0 {
                if self.lex.cutting {
                    if self.drop_run() {
                        continue;
                    }
                } else {
                    let n = self.plain_run(&mut out[w..]);
                    if n > 0 {
                        w += n;
                        continue;
                    }
                }
            }
            let b = self.input[self.pos];
            self.pos += 1;
            let emit = if self.lex.in_string {
                self.string_byte(b)
            } else {
                let at = self.passed + w as u64;
                self.structural_byte(b, at);
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

    /// The byte path's work on what nothing is cut from, in one loop: the
    /// structure, strings' plain runs (one `memchr2` each), their closing
    /// quotes and two-byte escapes, each taken inline, and ONE copy of all
    /// that was walked at the end (it passes unchanged). Returns how many
    /// bytes were passed on; stops at the end of the input or of `out`, and
    /// before anything else (a `\u` escape, a run that could come near
    /// `max_string`), which the byte path then takes. Through the byte path
    /// a structural byte cost ~50 instructions (its dispatch, `Emit` and
    /// `count`), ~1,500 a log event.
    ///
    /// Must not be called while an escape is open, a string is being cut
    /// or a high surrogate's low half is due (the byte path decides those),
    /// nor with anything pending. `at` is where `out[0]` is in the output.
    fn walk(&mut self, out: &mut [u8], at: u64) -> usize {
        let start = self.pos;
        let end = self.len.min(start + out.len());
        let input = &self.input[..end];
        let max = self.max_string;
        let max_element = self.max_element;
        // The lexer's state in locals for the loop (registers, not stores
        // through `self` at each byte); written back at the end.
        let mut depth = self.lex.depth;
        let mut in_string = self.lex.in_string;
        let mut kept = self.lex.kept;
        let mut total = self.lex.total;
        let mut element = self.lex.element;
        let mut open = self.lex.open;
        // Where input byte `i` goes in the output (all walked passes on).
        let out_at = |i: usize| at + (i - start) as u64;
        let mut i = start;
        // The bytes of the current second-level element in `from..i` are
        // counted into `element` only at a reset (`,` or the element's end)
        // and when the walk stops, not byte by byte: it only grows between
        // resets, so the check there finds any crossing the byte path would.
        let mut from = start;
        let mut over = false;
        let mut settle = |element: &mut usize, counted: usize| {
            *element = element.saturating_add(counted);
            over |= *element > max_element;
        };
        while i < end {
            if in_string {
                let rest = &input[i..];
                let run = memchr::memchr2(b'"', b'\\', rest).unwrap_or(rest.len());
                // No character starting in the run can reach a cut (the
                // longest is 4 bytes), so the byte path would keep it all.
                if kept + run + 3 > max {
                    break;
                }
                kept += run;
                total = total.saturating_add(run);
                i += run;
                if i == end {
                    break;
                }
                if input[i] == b'"' {
                    in_string = false;
                    i += 1;
                    continue;
                }
                // A two-byte escape decodes to one byte, kept if it fits.
                match input.get(i + 1) {
                    Some(&e) if e != b'u' && kept < max => {
                        kept += 1;
                        total = total.saturating_add(1);
                        i += 2;
                    }
                    _ => break,
                }
                continue;
            }
            match input[i] {
                b'"' => {
                    in_string = true;
                    kept = 0;
                    total = 0;
                }
                b'{' | b'[' => {
                    depth = depth.saturating_add(1);
                    if depth == 2 {
                        element = 0;
                        from = i;
                    } else if depth == 3 {
                        open = self.room_to_note().then(|| out_at(i));
                    }
                }
                b'}' | b']' => {
                    if depth == 2 {
                        settle(&mut element, i - from);
                    } else if depth == 3 {
                        if let Some(s) = open.take() {
                            self.noted.push_back((s, out_at(i + 1)));
                        }
                    }
                    depth = depth.saturating_sub(1);
                }
                b',' if depth == 2 => {
                    settle(&mut element, i - from);
                    element = 0;
                    from = i;
                }
                _ => {}
            }
            i += 1;
        }
        if depth >= 2 {
            settle(&mut element, i - from);
        }
        self.lex.depth = depth;
        self.lex.in_string = in_string;
        self.lex.kept = kept;
        self.lex.total = total;
        self.lex.element = element;
        self.lex.open = open;
        self.oversized |= over;
        let n = i - start;
        out[..n].copy_from_slice(&input[start..i]);
        self.pos = i;
        n
    }

    /// Passes on at once the plain bytes (no quote, no backslash) that
    /// follow in the current string and are kept whole; returns how many
    /// (0: the byte path goes on). This is for a long string's run up to
    /// near its cut, which [`BoundedJson::walk`] leaves: byte by byte it
    /// cost ~50 instructions a byte, here a `memchr2` and a copy. It stops
    /// 3 bytes short of `max_string`, so that no character starting in the
    /// run can reach a cut (the longest is 4 bytes): where a cut falls, and
    /// what a lead byte of invalid UTF-8 near it does, the byte path
    /// decides. (Stopping on a character boundary within `max_string`
    /// instead, it took a character split by a read edge, or a lead byte
    /// with too few continuation bytes, that the byte path cuts before.)
    fn plain_run(&mut self, out: &mut [u8]) -> usize {
        let input = &self.input[self.pos..self.len];
        // A run starts on a character's first byte, which ends a high
        // surrogate's claim on what follows (`after_high`) as it does on
        // the byte path.
        if input[0] & 0xC0 == 0x80 {
            return 0;
        }
        let plain = memchr::memchr2(b'"', b'\\', input).unwrap_or(input.len());
        let room = self.max_string.saturating_sub(self.lex.kept);
        let n = plain.min(out.len()).min(room.saturating_sub(3));
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

    /// Drops at once the plain bytes that follow in a string being cut,
    /// counting them into its length; false when there are none (the byte
    /// path goes on). What is past a cut is most of a hostile payload (a
    /// 60 MB message keeps 256 KB): byte by byte it cost ~30 instructions
    /// a byte, here a `memchr2`.
    fn drop_run(&mut self) -> bool {
        let input = &self.input[self.pos..self.len];
        // As in `plain_run`: a run starts on a character's first byte.
        if input[0] & 0xC0 == 0x80 {
            return false;
        }
        let n = memchr::memchr2(b'"', b'\\', input).unwrap_or(input.len());
        if n == 0 {
            return false;
        }
        self.pos += n;
        self.lex.after_high = false;
        self.lex.total = self.lex.total.saturating_add(n);
        true
    }

    fn count(&mut self, n: usize) {
        if self.lex.depth >= 2 {
            self.lex.element = self.lex.element.saturating_add(n);
            if self.lex.element > self.max_element {
                self.oversized = true;
            }
        }
    }

    /// Whether an element opening now is noted.
    fn room_to_note(&self) -> bool {
        self.note && self.noted.len() < MAX_NOTED
    }

    /// The byte path's structure; `at` is where `b` goes in the output.
    fn structural_byte(&mut self, b: u8, at: u64) {
        let room = self.room_to_note();
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
                } else if lex.depth == 3 {
                    lex.open = room.then_some(at);
                }
            }
            b'}' | b']' => {
                if lex.depth == 3 {
                    if let Some(s) = lex.open.take() {
                        self.noted.push_back((s, at + 1));
                    }
                }
                lex.depth = lex.depth.saturating_sub(1);
            }
            b',' if lex.depth == 2 => lex.element = 0,
            _ => {}
        }
    }

    fn string_byte(&mut self, b: u8) -> Emit {
        let max = self.max_string;
        let lex = &mut self.lex;
        if lex.escape_len > 0 {
            if lex.escape_len == 1 && b == b'u' {
                // See `Lexer::open`.
                lex.open = None;
            }
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

impl<R: Read> ElementEnds for BoundedJson<R> {
    fn element_at(&mut self, at: u64) -> ElementAt {
        // Extents before `at` belong to values the window skipped.
        while let Some(&(start, end)) = self.noted.front() {
            if start > at {
                return ElementAt::Unknown;
            }
            self.noted.pop_front();
            if start == at {
                return ElementAt::Ends(end);
            }
        }
        if self.lex.open == Some(at) {
            ElementAt::Open
        } else {
            ElementAt::Unknown
        }
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
                self.passed += n as u64;
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
                self.passed += n as u64;
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

    /// A reader handing out its bytes in reads of the sizes given, in
    /// turn: every state must survive an input edge anywhere.
    struct Sizes<'a> {
        bytes: &'a [u8],
        sizes: &'a [usize],
        next: usize,
    }

    impl Read for Sizes<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let size = self.sizes[self.next % self.sizes.len()].max(1);
            self.next += 1;
            let n = self.bytes.len().min(size).min(out.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    /// What a caller can see of a reader: what each read returned, whether
    /// it ended oversized, the element extents it noted (taken after each
    /// read) and the one open at the end.
    type Seen = (
        Vec<Result<Vec<u8>, String>>,
        bool,
        Vec<(u64, u64)>,
        Option<u64>,
    );

    /// What each read of a reader over `bytes` returns, reads of `out`
    /// sizes in turn (until the end or an error), and all else a caller
    /// sees of it ([`Seen`]).
    fn reads(
        bytes: &[u8],
        limits: (usize, usize),
        inner: &[usize],
        out: &[usize],
        fast: bool,
    ) -> Seen {
        let sizes = Sizes {
            bytes,
            sizes: inner,
            next: 0,
        };
        let mut r = BoundedJson::new(sizes, limits.0, limits.1);
        if !fast {
            r = r.byte_path_only();
        }
        let mut seen = Vec::new();
        let mut noted = Vec::new();
        let mut buf = vec![0u8; out.iter().max().copied().unwrap_or(1).max(1)];
        for i in 0.. {
            let size = out[i % out.len()].max(1);
            match r.read(&mut buf[..size]) {
                Ok(0) => break,
                Ok(n) => seen.push(Ok(buf[..n].to_vec())),
                Err(e) => {
                    seen.push(Err(e.to_string()));
                    break;
                }
            }
            noted.extend(r.take_noted());
        }
        (seen, r.oversized(), noted, r.lex.open)
    }

    /// Everything a reader passes on of `json` (reads of 3 bytes), and the
    /// extents it noted, as the text between them.
    fn noted_elements(json: &str, max_string: usize) -> (String, Vec<String>) {
        let mut r = BoundedJson::new(json.as_bytes(), max_string, 1 << 20);
        let mut out = Vec::new();
        let mut buf = [0u8; 3];
        loop {
            let n = r.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&buf[..n]);
        }
        let noted = r.take_noted();
        let out = String::from_utf8(out).unwrap();
        let texts = noted
            .iter()
            .map(|&(s, e)| out[s as usize..e as usize].to_owned())
            .collect();
        (out, texts)
    }

    /// Issue 17: each container one level inside a second-level one (a
    /// log event, or an element of an unknown field's array) is noted
    /// where it starts and ends in what is passed on, strings cut or not,
    /// so the window takes it without scanning it again; one holding a
    /// `\u` escape is not (there the window's scan decides).
    #[test]
    fn each_element_is_noted_where_it_is_passed_on() {
        let events = [
            r#"{"id":"1","m":"a{[\"}\\","x":{"y":[]}}"#,
            r#"[1,{"x":[]},"]"]"#,
            r#"{"m":"long long long"}"#,
            r#"{"m":"\u00e9 is not noted"}"#,
            r#"{}"#,
        ];
        let json = format!(
            r#"{{"h":[{{"not":"an event"}}, "s"], "logEvents": [ {} ], "t":{{"a":{{}}}}}}"#,
            events.join(" ,\n")
        );
        let (out, noted) = noted_elements(&json, 10);
        assert_eq!(
            noted,
            [
                r#"{"not":"an event"}"#,
                events[0],
                events[1],
                r#"{"m":"long long #014"}"#,
                events[4],
                r#"{}"#
            ],
            "{out}"
        );
    }

    /// While nobody asks (a big unknown field being skipped), at most
    /// [`MAX_NOTED`] extents wait, the elements past them unnoted; asking
    /// forgets those before, and the elements after are noted again.
    #[test]
    fn what_is_noted_and_not_asked_for_stays_bounded() {
        let many = vec!["{}"; 3 * MAX_NOTED].join(",");
        let first = format!(r#"{{"ignored":[{many}],"logEvents":[{{"id":"1"}}]}}"#);
        let json = format!(
            r#"{first}{}{{"logEvents":[{{"id":"2"}}]}}"#,
            " ".repeat(9000)
        );
        let mut r = BoundedJson::new(json.as_bytes(), 100, 1 << 20);
        let mut buf = [0u8; 4096];
        let (mut passed, mut most) = (0, 0);
        while passed < first.len() {
            passed += r.read(&mut buf).unwrap();
            most = most.max(r.noted.len());
        }
        assert_eq!(most, MAX_NOTED);
        let id1 = (first.len() - 12) as u64;
        assert_eq!(&first[id1 as usize..][..8], r#"{"id":"1"#);
        assert_eq!(r.element_at(id1), ElementAt::Unknown, "not noted: no room");
        assert!(r.noted.is_empty(), "those before were forgotten");
        while r.read(&mut buf).unwrap() > 0 {}
        let id2 = (json.len() - 12) as u64;
        assert_eq!(r.element_at(id2), ElementAt::Ends(id2 + 10));
    }

    /// What the window is told of an element: where it ends once closed,
    /// open while it is, nothing for a position no element starts at.
    #[test]
    fn the_window_is_told_where_an_element_ends_once_it_has() {
        let json = br#"{"logEvents":[{"a":1},{"b":[2]}]}"#;
        let mut r = BoundedJson::new(&json[..], 100, 1 << 20);
        let mut buf = [0u8; 20];
        assert_eq!(r.read(&mut buf).unwrap(), 20);
        // `{"a":1}` is at 14..21, `{"b":` starts at 22 and is still open.
        assert_eq!(r.element_at(10), ElementAt::Unknown);
        assert_eq!(r.element_at(14), ElementAt::Open);
        assert_eq!(r.read(&mut buf).unwrap(), json.len() - 20);
        assert_eq!(r.element_at(14), ElementAt::Ends(21));
        assert_eq!(r.element_at(15), ElementAt::Unknown);
        assert_eq!(r.element_at(22), ElementAt::Ends(31));
    }

    /// Log events as CloudWatch writes them, with escapes, multibyte
    /// characters and a long message: each limit near an element's size
    /// or a string's, each read size, gives what the byte path gives. Each
    /// event comes last once (the last element ends at `]`, the others at
    /// `,`).
    #[test]
    fn the_fast_paths_read_a_document_as_the_byte_path_does() {
        let mut events = [
            r#"{"id":"1","timestamp":17,"message":"plain text, with: [brackets] {braces}"}"#,
            r#"{"id":"2","timestamp":18,"message":"tab\there \"quoted\" \\ é😀 \u00e9\ud83d\ude00"}"#,
            r#"{"id":"3","timestamp":19,"message":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}"#,
            r#"{"id":"4","timestamp":20,"message":"","extractedFields":{"a":"b","c":"d"}}"#,
        ];
        // An element counts from the `[` or `,` before it.
        let longest = events.iter().map(|e| e.len() + 1).max().unwrap();
        let check = |doc: &str, limits: (usize, usize), out: usize| {
            let fast = reads(doc.as_bytes(), limits, &[5, 64 * 1024], &[out], true);
            let bytes = reads(doc.as_bytes(), limits, &[5, 64 * 1024], &[out], false);
            assert_eq!(fast, bytes, "limits {limits:?}, reads of {out}");
            fast.1
        };
        for _ in 0..events.len() {
            events.rotate_left(1);
            let doc = format!(
                r#"{{"messageType":"DATA_MESSAGE","logGroup":"g","logEvents":[{}]}}"#,
                events.join(",")
            );
            let mut oversized = 0;
            for element in (0..=longest + 1).chain([usize::MAX]) {
                for max_string in [5, 1000] {
                    for out in [1, 7, 4096] {
                        oversized += usize::from(check(&doc, (max_string, element), out));
                    }
                }
            }
            assert!(oversized > 0, "some bounds are passed");
            for max_string in (0..70).chain([1000]) {
                for out in [1, 3, 4096] {
                    check(&doc, (max_string, usize::MAX), out);
                }
            }
        }
    }

    /// A character split between two reads of the input, near the limit:
    /// cut before as when it comes in one read. (The plain-run fast path
    /// once took its first bytes whole up to the end of the read, then the
    /// rest: a string past `max_string` that did not read back as cut.)
    #[test]
    fn a_character_split_by_a_read_edge_is_cut_as_when_whole() {
        let json = "[\"ab😀cd\",\"é\"]";
        let whole = through(json, 4, 1000).unwrap();
        assert_eq!(whole, "[\"ab#008\",\"é\"]");
        for edge in 1..json.len() {
            let got = reads(json.as_bytes(), (4, 1000), &[edge, 1000], &[4096], true);
            let got: Vec<u8> = got.0.into_iter().flat_map(Result::unwrap).collect();
            assert_eq!(String::from_utf8_lossy(&got), whole, "read edge at {edge}");
        }
    }

    /// Pieces of JSON and of what is not: structure, escapes of each kind
    /// (whole, cut short, invalid), characters of 1 to 4 bytes, stray
    /// continuation and invalid bytes, runs of plain bytes up to past the
    /// string limits tried.
    fn piece() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let fixed: Vec<&'static [u8]> = vec![
            b"\"",
            b"\"",
            b"\"",
            b"{",
            b"[",
            b"}",
            b"]",
            b",",
            b",",
            b":",
            b"{{{{",
            b"]]]",
            b"\\",
            b"\\n",
            b"\\\"",
            b"\\\\",
            b"\\/",
            b"\\u",
            b"\\u00e9",
            b"\\u0041",
            b"\\u20ac",
            b"\\ud83d",
            b"\\ude00",
            b"\\ud83d\\ude00",
            b"\\uZZZZ",
            b"\\u12",
            "é".as_bytes(),
            "€".as_bytes(),
            "😀".as_bytes(),
            b"\x80",
            b"\xC3",
            b"\xF0\x9F",
            b"\xFF",
            b"12",
            b" ",
        ];
        prop_oneof![
            4 => proptest::sample::select(fixed).prop_map(|b| b.to_vec()),
            2 => (0usize..70).prop_map(|n| vec![b'a'; n]),
            1 => any::<u8>().prop_map(|b| vec![b]),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]

        /// The fast paths are only a faster byte path: over any JSON-ish
        /// bytes, any limits, any input and output read sizes, every read
        /// returns the same bytes (or the same error) and the reader ends
        /// oversized or not alike.
        #[test]
        fn the_fast_paths_match_the_byte_path(
            pieces in proptest::collection::vec(piece(), 0..120),
            max_string in 0usize..48,
            max_element in proptest::prop_oneof![0usize..48, 0usize..320],
            inner in proptest::collection::vec(1usize..80, 1..6),
            out in proptest::collection::vec(1usize..80, 1..6),
        ) {
            let bytes = pieces.concat();
            let limits = (max_string, max_element);
            let fast = reads(&bytes, limits, &inner, &out, true);
            let slow = reads(&bytes, limits, &inner, &out, false);
            proptest::prop_assert_eq!(fast, slow);
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(100))]

        /// The same over short bytes for every element bound from 0 past
        /// their length, so that each element's size is hit exactly (at
        /// the `,` after it and at the `]` or `}` that ends the last).
        #[test]
        fn the_fast_paths_pass_each_element_bound_as_the_byte_path_does(
            pieces in proptest::collection::vec(piece(), 0..30),
            max_string in 0usize..48,
            inner in proptest::collection::vec(1usize..40, 1..4),
            out in proptest::collection::vec(1usize..40, 1..4),
        ) {
            let bytes = pieces.concat();
            for max_element in 0..=bytes.len() + 1 {
                let limits = (max_string, max_element);
                let fast = reads(&bytes, limits, &inner, &out, true);
                let slow = reads(&bytes, limits, &inner, &out, false);
                proptest::prop_assert_eq!(fast, slow, "max_element {}", max_element);
            }
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
