//! pt's middle steps — `true`/`false`, numbers, number prefixes, leading
//! space, final newline, whitespace runs, case, `null` — in one pass over
//! the bytes, for statements with no quotes and no comments (most of a
//! log). The multi-step code copies the statement once per step that its
//! trigger bytes allow; here each byte is read once and written at most
//! once. The output is the text the multi-step code leaves for its last
//! steps (lists, unions, `limit`, `order by … asc`), which run unchanged.
//!
//! Each step's Perl expression is applied to the text the previous one
//! left, so the pass reproduces their interplay explicitly (each case is
//! named where it is handled): a number run stops where a boolean starts,
//! the prefix fold looks at the byte before each `?` as the number step
//! left it (case included), and `null` is matched on the folded,
//! lower-cased output.

use super::{finder, is_space, is_word, starts_with_ci, word_start, Gates, Middle};

/// Whether the statement has nothing the pass leaves to the multi-step
/// code: quotes (and so escaped quotes), block comments, line comments.
pub(super) fn applies(gates: Gates, q: &[u8]) -> bool {
    let quote_or_hash = gates.has(Gates::QUOTE_OR_HASH);
    let block_comment = gates.has(Gates::SLASH) && finder!(b"/*").find(q).is_some();
    let line_comment = gates.has(Gates::DASH) && finder!(b"--").find(q).is_some();
    !(quote_or_hash || block_comment || line_comment)
}

/// Whether the statement has quotes but nothing else the pass leaves to
/// the multi-step code once they are rewritten: no comments, no `#` (a
/// line comment), no backslash (pt removes escaped quotes before pairing
/// them). The steps rewrite `".*?"` then `'.*?'` to `?`; what is left is
/// a statement the pass takes, and the steps after the quotes' are the
/// pass's (slow and general logs quote most values: the steps copied the
/// statement ~10 times, callgrind, issue 17).
pub(super) fn applies_after_quotes(gates: Gates, q: &[u8]) -> bool {
    gates.has(Gates::QUOTE_OR_HASH)
        && memchr::memchr2(b'#', b'\\', q).is_none()
        && !(gates.has(Gates::SLASH) && finder!(b"/*").find(q).is_some())
        && !(gates.has(Gates::DASH) && finder!(b"--").find(q).is_some())
}

/// Writes to `out` what the multi-step code's middle steps make of `q`
/// (a statement [`applies`] accepts).
pub(super) fn rewrite(q: &[u8], out: &mut Vec<u8>) -> Middle {
    // s/\A\s+//; chomp — numbers and booleans never hold whitespace, so the
    // ends can be cut first; the bytes beside the cut are spaces, which are
    // word boundaries as the string's ends are.
    let start = q.iter().position(|c| !is_space(*c)).unwrap_or(q.len());
    let end = if q.len() > start && q[q.len() - 1] == b'\n' {
        q.len() - 1
    } else {
        q.len()
    };
    let s = &q[start..end];
    // The output is never longer than the statement (each byte read writes
    // at most one), so it is written by index into a buffer of that size
    // and cut to length at the end: `Vec::push` reloads and checks the
    // length and capacity on every byte (callgrind: ~40% of the pass).
    // What `out` holds from the last statement is written over, not
    // zeroed first (a `memset` of the statement's length each time): the
    // writer reads only bytes below `n`, which it wrote (`Writer::buf`).
    if out.len() < s.len() {
        out.resize(s.len(), 0);
    }
    let mut w = Writer {
        buf: &mut out[..s.len()],
        n: 0,
        last_raw: 0,
        may_end_null: false,
        question: false,
        list_opening: false,
        limit: false,
    };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match CLASS[usize::from(c)] {
            BOOL_START if may_be_boolean(s, i) && boolean_at(s, i).is_some() => {
                // s/\bfalse\b|\btrue\b/?/isg — before numbers: `-false` is `-?`.
                w.question();
                i += if matches!(c, b't' | b'T') { 4 } else { 5 };
            }
            LETTER | BOOL_START => {
                // A run of letters, copied lower-cased. No boolean starts
                // inside it (a letter before is no word boundary); a digit
                // ends it, as it starts a number. Byte by byte: runs are
                // short, and a copy then a lower-casing pass cost more.
                // Read and written side by side: one bound for both (the
                // output so far is never longer than the input read, so the
                // buffer's rest is at least as long as the statement's).
                let (from, to) = (&s[i..], &mut w.buf[w.n..]);
                debug_assert!(to.len() >= from.len());
                let mut len = 0;
                for (dst, &b) in to.iter_mut().zip(from) {
                    let lower = RUN_LOWER[usize::from(b)];
                    if lower == 0 {
                        break;
                    }
                    *dst = lower;
                    len += 1;
                }
                let end = i + len;
                w.n += len;
                let last = s[end - 1];
                w.last_raw = last;
                w.may_end_null = last | 0x20 == b'l';
                // `collapse_limit` needs `limit ` in the text: its `limit`
                // ends a run (a space follows). A superset: the later steps
                // write no `limit`, and `collapse_unions` may only put a `/`
                // before one (a word boundary), so none is required here.
                w.limit |= w.last_raw | 0x20 == b't' && w.written().ends_with(b"limit");
                i = end;
            }
            NUMBER => {
                // s/[0-9+-][0-9a-f.xb+-]*/?/g on the text booleans left: a run
                // ends where one starts (`1.false` is `1.?`; only `f` of the
                // run's bytes can start one).
                let mut j = i + 1;
                while j < s.len()
                    && NUMBER_TAIL[usize::from(s[j])]
                    && (s[j] != b'f' || !may_be_boolean(s, j) || boolean_at(s, j).is_none())
                {
                    j += 1;
                }
                w.question();
                i = j;
            }
            QUESTION => {
                w.question();
                i += 1;
            }
            SPACE => {
                // tr[ \n\t\r\f][ ]s: a run is one space (vertical tab is not in it).
                w.other(b' ');
                i += 1;
                while s.get(i).is_some_and(|c| CLASS[usize::from(*c)] == SPACE) {
                    i += 1;
                }
            }
            _ => {
                w.other(c);
                if c == b'(' {
                    w.note_list_opening();
                }
                i += 1;
            }
        }
    }
    w.end_word();
    let n = w.n;
    let middle = Middle {
        question: w.question,
        list_opening: w.list_opening,
        limit: w.limit,
    };
    out.truncate(n);
    middle
}

// Byte classes of the pass: one table lookup a byte instead of a chain of
// range tests (callgrind: the tests were most of the pass's cost).
/// Anything else: written as it is, ends a word.
const OTHER: u8 = 0;
/// `[A-Za-z_]` but `t`, `f`: a word byte, lower-cased.
const LETTER: u8 = 1;
/// `t`, `f` (any case): may start `true` / `false`.
const BOOL_START: u8 = 2;
/// `[0-9+-]`: starts a number.
const NUMBER: u8 = 3;
const QUESTION: u8 = 4;
/// What `tr[ \n\t\r\f][ ]s` squeezes (not vertical tab).
const SPACE: u8 = 5;

const CLASS: [u8; 256] = {
    let mut t = [OTHER; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b't' | b'T' | b'f' | b'F' => BOOL_START,
            b'A'..=b'Z' | b'a'..=b'z' | b'_' => LETTER,
            b'0'..=b'9' | b'+' | b'-' => NUMBER,
            b'?' => QUESTION,
            b' ' | b'\n' | b'\t' | b'\r' | 0x0c => SPACE,
            _ => OTHER,
        };
        c += 1;
    }
    t
};

/// `[0-9a-f.xb+-]`: continues a number.
const NUMBER_TAIL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = matches!(c as u8, b'0'..=b'9' | b'a'..=b'f' | b'.' | b'x' | b'+' | b'-');
        c += 1;
    }
    t
};

/// A byte of a run of letters (`LETTER` or `BOOL_START`) lower-cased, `0`
/// for any other byte: the run's test and its lower-casing in one lookup.
const RUN_LOWER: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        if matches!(CLASS[c], LETTER | BOOL_START) {
            t[c] = (c as u8).to_ascii_lowercase();
        }
        c += 1;
    }
    t
};

/// Whether a `true` / `false` may start at `i` (`s[i]` is `t` or `f`, any
/// case), by its second byte alone: most `t` / `f` start a name (`FROM`,
/// `t1`), and the full check cost ~60 instructions a call (callgrind).
#[inline]
fn may_be_boolean(s: &[u8], i: usize) -> bool {
    let second = s.get(i + 1).map_or(0, |b| b | 0x20);
    second == if s[i] | 0x20 == b't' { b'r' } else { b'a' }
}

/// `\bfalse\b|\btrue\b` (any case) at `i`: its length.
fn boolean_at(s: &[u8], i: usize) -> Option<usize> {
    let len = match s[i] {
        b't' | b'T' => 4,
        b'f' | b'F' => 5,
        _ => return None,
    };
    let word: &[u8] = if len == 4 { b"true" } else { b"false" };
    (word_start(s, i) && starts_with_ci(s, i, word) && s.get(i + len).is_none_or(|c| !is_word(*c)))
        .then_some(len)
}

/// The output and what the later steps need to know of it.
struct Writer<'a> {
    /// As long as the statement; `buf[..n]` is written.
    buf: &'a mut [u8],
    n: usize,
    /// The last byte written, as the number step left it (before the fold
    /// and lower-casing): the fold is case-sensitive (`X?` stays).
    last_raw: u8,
    /// The text written may end in `null` (the last run of letters ended
    /// in `l`, or a fold removed a byte after it): [`Writer::end_word`]
    /// looks only then, not at every byte that ends a word.
    may_end_null: bool,
    question: bool,
    list_opening: bool,
    /// A run of letters ended in `limit` (see where it is set).
    limit: bool,
}

impl Writer<'_> {
    #[inline(always)]
    fn put(&mut self, c: u8) {
        self.buf[self.n] = c;
        self.n += 1;
    }

    fn written(&self) -> &[u8] {
        &self.buf[..self.n]
    }

    /// A `?` (literal or one pt wrote): s/[xb.+-]\?/?/g folds the byte
    /// before it. `+` and `-` always start a number, so only `x`, `b` and
    /// `.` are ever still there; the byte folded was written last and is
    /// never a `?`, so folds do not chain (`xx?` is `x?`).
    fn question(&mut self) {
        if matches!(self.last_raw, b'x' | b'b' | b'.') {
            self.n -= 1;
            self.may_end_null = true;
        }
        self.other(b'?');
        self.question = true;
    }

    /// A byte that is not a word character: it ends the word before it.
    #[inline(always)]
    fn other(&mut self, c: u8) {
        self.end_word();
        self.put(c);
        self.last_raw = c;
    }

    /// s/\bnull\b/?/g on the folded, lower-cased text: the word just ended
    /// is `null` (`nullx1` is `null?` after the fold, so `??`).
    #[inline(always)]
    fn end_word(&mut self) {
        if !std::mem::take(&mut self.may_end_null) {
            return;
        }
        let n = self.n;
        if n >= 4 && self.buf[n - 4..n] == *b"null" && (n == 4 || !is_word(self.buf[n - 5])) {
            self.n -= 4;
            self.put(b'?');
            self.question = true;
        }
    }

    /// After a `(`: whether `in`, `value` or `values`, then `[\s,]*`, come
    /// before it — a superset of where `collapse_lists` can match, so the
    /// step is skipped only when it could not change anything. Each look
    /// back stops at the `(` before, so all of them read each byte once.
    fn note_list_opening(&mut self) {
        if self.list_opening {
            return;
        }
        let before = &self.buf[..self.n - 1];
        let gap = before
            .iter()
            .rev()
            .take_while(|c| is_space(**c) || **c == b',')
            .count();
        let word = &before[..before.len() - gap];
        self.list_opening =
            word.ends_with(b"in") || word.ends_with(b"value") || word.ends_with(b"values");
    }
}
