//! A window over a stream of JSON bytes from which whole values are taken
//! as slices, so the streamed reader parses each log event once, from a
//! slice (serde_json's fast path), instead of capturing it through the
//! reader path and parsing it a second time.
//!
//! Only the extent of a value is found here (strings skipped with `memchr`,
//! brackets counted); whether it is valid JSON is left to serde_json, which
//! then reads the slice. The window holds the value being taken plus one
//! read (64 KiB): a value inside `logEvents` is bounded by [`BoundedJson`]
//! (4 MiB), strings by its cut; values the caller does not need are skipped
//! without being held.
//!
//! [`BoundedJson`]: super::bounded_json::BoundedJson

use std::io::{self, Read};

/// What a read takes from the stream at once.
const READ_BYTES: usize = 64 * 1024;

#[derive(Debug)]
pub(super) enum ScanError {
    Io(io::Error),
    /// Not JSON, or a document cut short; says what was expected and where.
    Syntax(String),
}

impl From<io::Error> for ScanError {
    fn from(e: io::Error) -> Self {
        ScanError::Io(e)
    }
}

/// What a reader knows of the container starting at byte `at` of what it
/// passed on, an element of a second-level container ([`ElementEnds`]).
#[derive(Debug, PartialEq, Eq)]
pub(super) enum ElementAt {
    /// It ends before byte `.0`.
    Ends(u64),
    /// It is still open: read on.
    Open,
    /// Not known: the window scans it itself.
    Unknown,
}

/// A reader that notes where elements of second-level containers (the log
/// events of `logEvents`) end as it passes them on
/// ([`BoundedJson`](super::bounded_json::BoundedJson), which walks every
/// byte anyway), so that [`Window::element`] takes one without scanning it
/// again (~850 instructions a log event). Where it is asked, it forgets
/// what came before.
pub(super) trait ElementEnds: Read {
    /// See [`ElementAt`]; `at` only grows from call to call.
    fn element_at(&mut self, _at: u64) -> ElementAt {
        ElementAt::Unknown
    }
}

impl<E: ElementEnds + ?Sized> ElementEnds for &mut E {
    fn element_at(&mut self, at: u64) -> ElementAt {
        (**self).element_at(at)
    }
}

pub(super) struct Window<R> {
    inner: R,
    /// `buf[..end]` is what was read; `buf[end..]` is room for the next
    /// read, already initialised (zeroed once when the window grew, or
    /// bytes already taken), so a read does not zero what it overwrites
    /// (64 KiB zeroed per read cost ~2.85 M instructions on 10k events).
    buf: Vec<u8>,
    end: usize,
    /// Start of what has not been taken yet.
    pos: usize,
    /// Bytes dropped from the front of `buf` so far (positions in errors).
    dropped: u64,
}

impl<R: Read> Window<R> {
    pub(super) fn new(inner: R) -> Self {
        Window {
            inner,
            // Room for a value's start left over and a read.
            buf: vec![0; 2 * READ_BYTES],
            end: 0,
            pos: 0,
            dropped: 0,
        }
    }

    /// The reader (tests).
    #[cfg(test)]
    pub(super) fn inner_mut(&mut self) -> &mut R {
        &mut self.inner
    }

    /// Reads more; `false` at the end of the stream. What was taken is
    /// dropped first, so the window never grows past one value and a read.
    fn fill(&mut self) -> io::Result<bool> {
        if self.pos > 0 {
            self.buf.copy_within(self.pos..self.end, 0);
            self.end -= self.pos;
            self.dropped += self.pos as u64;
            self.pos = 0;
        }
        if self.buf.len() - self.end < READ_BYTES {
            // Only the growth is zeroed, once; all that was allocated is
            // room, so growing again is rarer.
            self.buf.resize(self.end + READ_BYTES, 0);
            self.buf.resize(self.buf.capacity(), 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(n) => {
                    self.end += n;
                    return Ok(n > 0);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// What was read and not dropped.
    fn data(&self) -> &[u8] {
        &self.buf[..self.end]
    }

    /// The next byte that is not whitespace, left in place; `None` at the
    /// end of the stream.
    pub(super) fn peek(&mut self) -> Result<Option<u8>, ScanError> {
        loop {
            while let Some(&b) = self.data().get(self.pos) {
                if !matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
                    return Ok(Some(b));
                }
                self.pos += 1;
            }
            if !self.fill()? {
                return Ok(None);
            }
        }
    }

    /// Takes the byte [`Window::peek`] returned.
    pub(super) fn bump(&mut self) {
        self.pos += 1;
    }

    /// Takes `byte` (after whitespace), or says that `what` was expected.
    pub(super) fn expect(&mut self, byte: u8, what: &str) -> Result<(), ScanError> {
        match self.peek()? {
            Some(b) if b == byte => {
                self.bump();
                Ok(())
            }
            found => Err(self.unexpected(found, what)),
        }
    }

    /// A syntax error: `what` was expected where `found` is.
    /// After a member or an element: takes a `,` (true: another follows)
    /// or stops before `close` (false); anything else is a syntax error
    /// saying `what` was expected.
    pub(super) fn another_before(&mut self, close: u8, what: &str) -> Result<bool, ScanError> {
        match self.peek()? {
            Some(b',') => {
                self.bump();
                Ok(true)
            }
            Some(b) if b == close => Ok(false),
            found => Err(self.unexpected(found, what)),
        }
    }

    pub(super) fn unexpected(&self, found: Option<u8>, what: &str) -> ScanError {
        let found = match found {
            None => "the end of the data".to_owned(),
            Some(b) if b.is_ascii_graphic() => format!("`{}`", b as char),
            Some(b) => format!("byte 0x{b:02x}"),
        };
        ScanError::Syntax(format!(
            "expected {what} at byte {} of the decompressed data, found {found}",
            self.dropped + self.pos as u64
        ))
    }

    /// Takes the next value (after whitespace) and returns its bytes.
    pub(super) fn value(&mut self) -> Result<&[u8], ScanError> {
        let len = self.value_len(true)?;
        let start = self.pos;
        self.pos += len;
        Ok(&self.data()[start..start + len])
    }

    /// Takes the next value as [`Window::value`] does, where the reader
    /// knows where it ends without scanning it. The reader's extent is the
    /// scan's (both count brackets outside strings from the same byte,
    /// and the reader gives none for what they could disagree on): the
    /// bytes taken, and so every error after, are the same.
    pub(super) fn element(&mut self) -> Result<&[u8], ScanError>
    where
        R: ElementEnds,
    {
        if matches!(self.peek()?, Some(b'{' | b'[')) {
            let start = self.dropped + self.pos as u64;
            loop {
                match self.inner.element_at(start) {
                    ElementAt::Ends(end) => {
                        let len = usize::try_from(end - start).unwrap_or(usize::MAX);
                        if len > self.end - self.pos {
                            break; // never: the reader passed it on
                        }
                        let from = self.pos;
                        self.pos += len;
                        return Ok(&self.data()[from..from + len]);
                    }
                    // Read on, holding it, as the scan does (the reader
                    // bounds an element).
                    ElementAt::Open => {
                        if !self.fill()? {
                            break;
                        }
                    }
                    ElementAt::Unknown => break,
                }
            }
        }
        self.value()
    }

    /// Takes the next value without holding it.
    pub(super) fn skip_value(&mut self) -> Result<(), ScanError> {
        let len = self.value_len(false)?;
        self.pos += len;
        Ok(())
    }

    /// The length of the value at `pos` (after whitespace). With `keep`
    /// false, what is scanned may be dropped as it goes: the length is then
    /// counted from where `pos` ends up.
    fn value_len(&mut self, keep: bool) -> Result<usize, ScanError> {
        let mut len = 0;
        match self.peek()? {
            Some(b'"') => {
                len = 1;
                self.string_end(&mut len, keep)?;
            }
            Some(b'{' | b'[') => len = self.container_len(keep)?,
            found @ (None | Some(b',' | b':' | b']' | b'}')) => {
                return Err(self.unexpected(found, "a value"))
            }
            // A number or literal runs to the next delimiter; serde_json
            // says whether it is one.
            Some(_) => loop {
                match self.data().get(self.pos + len) {
                    None => {
                        if !keep {
                            self.pos += len;
                            len = 0;
                        }
                        if !self.fill()? {
                            break;
                        }
                    }
                    Some(b' ' | b'\n' | b'\r' | b'\t' | b',' | b']' | b'}') => break,
                    Some(_) => len += 1,
                }
            },
        }
        Ok(len)
    }

    /// The length of the object or array at `pos` (see
    /// [`Window::value_len`]). Each read is scanned in one local loop: the
    /// structure byte by byte, a string's body with one `memchr2`. (Through
    /// [`Window::string_end`] and a bounds-checked look-up per byte it cost
    /// ~1,000 instructions a log event, here ~800, most of them the
    /// `memchr2` call of each of its five strings.)
    fn container_len(&mut self, keep: bool) -> Result<usize, ScanError> {
        let mut depth = 0usize;
        let mut in_string = false;
        // Scanned so far, from `pos`.
        let mut len = 0;
        loop {
            let data = &self.buf[..self.end];
            let mut i = self.pos + len;
            while i < data.len() {
                if in_string {
                    match memchr::memchr2(b'"', b'\\', &data[i..]) {
                        Some(k) if data[i + k] == b'"' => {
                            i += k + 1;
                            in_string = false;
                        }
                        // The escaped byte never ends the string (`\u` is
                        // followed by hex digits only); it may not be read
                        // yet, so `i` may pass the end by one.
                        Some(k) => i += k + 2,
                        None => i = data.len(),
                    }
                    continue;
                }
                let b = data[i];
                i += 1;
                match b {
                    b'"' => in_string = true,
                    b'{' | b'[' => depth += 1,
                    b'}' | b']' => {
                        depth -= 1;
                        if depth == 0 {
                            return Ok(i - self.pos);
                        }
                    }
                    _ => {}
                }
            }
            len = i - self.pos;
            let what = if in_string {
                "the end of a string"
            } else {
                "the end of an object or array"
            };
            self.more(&mut len, keep, what)?;
        }
    }

    /// Moves `len` past the end of a string whose opening quote it is
    /// already past.
    fn string_end(&mut self, len: &mut usize, keep: bool) -> Result<(), ScanError> {
        loop {
            let at = self.pos + *len;
            let Some(rest) = self.data().get(at..).filter(|r| !r.is_empty()) else {
                self.more(len, keep, "the end of a string")?;
                continue;
            };
            match memchr::memchr2(b'"', b'\\', rest) {
                Some(i) if rest[i] == b'"' => {
                    *len += i + 1;
                    return Ok(());
                }
                // The escaped byte never ends the string (`\u` is followed
                // by hex digits only).
                Some(i) => *len += i + 2,
                None => *len += rest.len(),
            }
        }
    }

    /// Reads more for a value being scanned (`len` bytes of it so far);
    /// the end of the stream here is a document cut short.
    fn more(&mut self, len: &mut usize, keep: bool, what: &str) -> Result<(), ScanError> {
        if !keep {
            let scanned = (*len).min(self.end - self.pos);
            self.pos += scanned;
            *len -= scanned;
        }
        if self.fill()? {
            Ok(())
        } else {
            let at = self.dropped + self.end as u64;
            Err(ScanError::Syntax(format!(
                "the decompressed data ends (byte {at}) before {what}"
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader handing out `n` bytes at a time: every state must survive
    /// a read edge.
    struct Trickle<'a>(&'a [u8], usize);

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(self.1).min(out.len());
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn values(json: &str, step: usize) -> Result<Vec<String>, ScanError> {
        let mut w = Window::new(Trickle(json.as_bytes(), step));
        let mut out = Vec::new();
        while w.peek()?.is_some() {
            out.push(String::from_utf8(w.value()?.to_vec()).unwrap());
        }
        Ok(out)
    }

    #[test]
    fn values_are_taken_whole_across_read_edges() {
        let json = r#" {"a":"x\"}y\\","b":[1,{"c":"]"}]} "s\\\"" 12.5e3
            [] true {"esc":"\u0022{"}"#;
        let want = [
            r#"{"a":"x\"}y\\","b":[1,{"c":"]"}]}"#,
            r#""s\\\"""#,
            "12.5e3",
            "[]",
            "true",
            r#"{"esc":"\u0022{"}"#,
        ];
        for step in [1, 2, 3, 7, 1000] {
            assert_eq!(values(json, step).unwrap(), want, "reads of {step}");
        }
    }

    #[test]
    fn skipped_values_are_not_held_and_what_follows_is_read() {
        let big = format!(r#"[{}"x"]"#, r#""abcdefgh","#.repeat(100_000));
        let json = format!("{big} \"after\"");
        let mut w = Window::new(json.as_bytes());
        w.skip_value().unwrap();
        assert!(w.buf.capacity() < 4 * READ_BYTES, "{}", w.buf.capacity());
        assert_eq!(w.value().unwrap(), br#""after""#);
        assert_eq!(w.peek().unwrap(), None);
    }

    /// The bound the streamed reader's memory rests on: taking value after
    /// value, the window holds one value and a read, never what came
    /// before (here 300 values of 100 KB: 30 MB through a window under
    /// 512 KiB).
    #[test]
    fn the_window_holds_one_value_and_a_read_however_many_pass() {
        let value = format!(r#"{{"message":"{}"}}"#, "m".repeat(100_000));
        let json = vec![value.as_str(); 300].join(",\n");
        let mut w = Window::new(json.as_bytes());
        let mut taken = 0;
        loop {
            assert_eq!(w.value().unwrap(), value.as_bytes());
            taken += 1;
            assert!(
                w.buf.capacity() <= 2 * (value.len() + READ_BYTES),
                "{} bytes held after {taken} values",
                w.buf.capacity()
            );
            match w.peek().unwrap() {
                Some(b',') => w.bump(),
                None => break,
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(taken, 300);
    }

    /// Reads go into room initialised once: taking small value after
    /// value (800 KB through the window), its initialised length never
    /// changes (zeroing 64 KiB a read cost ~2.85 M instructions on the 10k
    /// streamed run).
    #[test]
    fn reads_reuse_the_room_initialised_once() {
        let json = vec![r#"{"a":"bcdefgh"}"#; 50_000].join(",");
        let mut w = Window::new(json.as_bytes());
        w.value().unwrap();
        let room = w.buf.len();
        let mut taken = 1;
        while let Some(b',') = w.peek().unwrap() {
            w.bump();
            assert_eq!(w.value().unwrap(), br#"{"a":"bcdefgh"}"#);
            assert_eq!(w.buf.len(), room, "after {taken} values");
            taken += 1;
        }
        assert_eq!(taken, 50_000);
        assert_eq!(w.peek().unwrap(), None);
    }

    /// JSON values of every kind, nested, with strings full of what ends
    /// or escapes a string or a container.
    fn json_value() -> impl proptest::strategy::Strategy<Value = serde_json::Value> {
        use proptest::prelude::*;
        use serde_json::Value;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            "[\"\\\\\\[\\]{}:, a-zé😀\u{1}\n]{0,12}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                proptest::collection::btree_map("[a-z\"\\\\{\\]]{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Any values back to back, read in any steps, some skipped: each
        /// one taken is exactly its JSON, and what follows a skipped one
        /// is read.
        #[test]
        fn any_values_are_taken_or_skipped_whole(
            values in proptest::collection::vec((json_value(), proptest::prelude::any::<bool>()), 1..6),
            step in 1usize..40,
        ) {
            let texts: Vec<String> = values.iter().map(|(v, _)| v.to_string()).collect();
            let json = texts.join(" \n");
            let mut w = Window::new(Trickle(json.as_bytes(), step));
            for (text, (_, skip)) in texts.iter().zip(&values) {
                if *skip {
                    w.skip_value().unwrap();
                } else {
                    proptest::prop_assert_eq!(w.value().unwrap(), text.as_bytes());
                }
            }
            proptest::prop_assert_eq!(w.peek().unwrap(), None);
        }
    }

    #[test]
    fn cut_documents_and_misplaced_delimiters_are_syntax_errors() {
        for (json, says) in [
            (
                r#"{"a":[1,2"#,
                "ends (byte 9) before the end of an object or array",
            ),
            (r#""abc"#, "ends (byte 4) before the end of a string"),
            (r#""ab\"#, "before the end of a string"),
            (
                "]",
                "expected a value at byte 0 of the decompressed data, found `]`",
            ),
        ] {
            match values(json, 2) {
                Err(ScanError::Syntax(s)) => assert!(s.contains(says), "{json}: {s}"),
                other => panic!("{json}: {other:?}"),
            }
        }
        let mut w = Window::new(&b"  x"[..]);
        match w.expect(b'{', "a document") {
            Err(ScanError::Syntax(s)) => assert_eq!(
                s,
                "expected a document at byte 2 of the decompressed data, found `x`"
            ),
            other => panic!("{other:?}"),
        }
    }
}
