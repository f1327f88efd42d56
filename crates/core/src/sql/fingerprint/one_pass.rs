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

use super::{finder, is_space, is_word, starts_with_ci, word_start, ByteSet, Middle};

/// Whether the statement has nothing the pass leaves to the multi-step
/// code: quotes (and so escaped quotes), block comments, line comments.
pub(super) fn applies(seen: &ByteSet, q: &[u8]) -> bool {
    let quote_or_hash = seen.any(b"'\"#");
    let block_comment = seen.has(b'/') && finder!(b"/*").find(q).is_some();
    let line_comment = seen.has(b'-') && finder!(b"--").find(q).is_some();
    !(quote_or_hash || block_comment || line_comment)
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
    // The output is never longer than the statement: no push reallocates.
    out.reserve(s.len());
    let mut w = Writer {
        out,
        last_raw: 0,
        question: false,
        list_opening: false,
        limit: false,
    };
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        match CLASS[usize::from(c)] {
            BOOL_START if boolean_at(s, i).is_some() => {
                // s/\bfalse\b|\btrue\b/?/isg — before numbers: `-false` is `-?`.
                w.question();
                i += if matches!(c, b't' | b'T') { 4 } else { 5 };
            }
            LETTER | BOOL_START => {
                // A run of letters, copied lower-cased. No boolean starts
                // inside it (a letter before is no word boundary); a digit
                // ends it, as it starts a number. Byte by byte: runs are
                // short, and a copy then a lower-casing pass cost more.
                let mut end = i;
                while let Some(&b) = s.get(end) {
                    if !matches!(CLASS[usize::from(b)], LETTER | BOOL_START) {
                        break;
                    }
                    w.out.push(b.to_ascii_lowercase());
                    end += 1;
                }
                w.last_raw = s[end - 1];
                // `collapse_limit` needs `limit ` in the text: its `limit`
                // ends a run (a space follows). A superset: the later steps
                // write no `limit`, and `collapse_unions` may only put a `/`
                // before one (a word boundary), so none is required here.
                w.limit |= w.last_raw | 0x20 == b't' && w.out.ends_with(b"limit");
                i = end;
            }
            NUMBER => {
                // s/[0-9+-][0-9a-f.xb+-]*/?/g on the text booleans left: a run
                // ends where one starts (`1.false` is `1.?`; only `f` of the
                // run's bytes can start one).
                let mut j = i + 1;
                while j < s.len()
                    && NUMBER_TAIL[usize::from(s[j])]
                    && (s[j] != b'f' || boolean_at(s, j).is_none())
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
                let run = s[i..]
                    .iter()
                    .take_while(|c| CLASS[usize::from(**c)] == SPACE)
                    .count();
                w.other(b' ');
                i += run;
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
    Middle {
        question: w.question,
        list_opening: w.list_opening,
        limit: w.limit,
    }
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
    out: &'a mut Vec<u8>,
    /// The last byte written, as the number step left it (before the fold
    /// and lower-casing): the fold is case-sensitive (`X?` stays).
    last_raw: u8,
    question: bool,
    list_opening: bool,
    /// A run of letters ended in `limit` (see where it is set).
    limit: bool,
}

impl Writer<'_> {
    /// A `?` (literal or one pt wrote): s/[xb.+-]\?/?/g folds the byte
    /// before it. `+` and `-` always start a number, so only `x`, `b` and
    /// `.` are ever still there; the byte folded was written last and is
    /// never a `?`, so folds do not chain (`xx?` is `x?`).
    fn question(&mut self) {
        if matches!(self.last_raw, b'x' | b'b' | b'.') {
            self.out.pop();
        }
        self.other(b'?');
        self.question = true;
    }

    /// A byte that is not a word character: it ends the word before it.
    fn other(&mut self, c: u8) {
        self.end_word();
        self.out.push(c);
        self.last_raw = c;
    }

    /// s/\bnull\b/?/g on the folded, lower-cased text: the word just ended
    /// is `null` (`nullx1` is `null?` after the fold, so `??`).
    #[inline]
    fn end_word(&mut self) {
        let n = self.out.len();
        if self.out.ends_with(b"null") && (n == 4 || !is_word(self.out[n - 5])) {
            self.out.truncate(n - 4);
            self.out.push(b'?');
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
        let before = &self.out[..self.out.len() - 1];
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
