//! Query fingerprints the way `pt-query-digest` (Percona Toolkit 3.2.1,
//! `QueryRewriter::fingerprint`) computes them, so our classes line up with
//! the reports users already know: literals → `?`, `IN (…)` / `VALUES` lists
//! collapsed, whitespace and case folded, comments dropped, `use db` → `use ?`.
//!
//! Hand-written rather than ported to the `regex` crate because pt's Perl
//! expressions rely on look-ahead, back-references (`UNION` collapsing) and
//! `\G` anchoring, which `regex` does not offer; each step below names the Perl
//! line it reproduces. Matching is byte-wise with Perl's default (non-Unicode)
//! semantics: `\s`, `\b`, `lc` only know ASCII, like pt reading a log as bytes.
//!
//! Statements without quotes or comments — most of a log — take the middle
//! steps in one pass over the bytes (`one_pass.rs`, issue 17) instead of one
//! copy per step; [`fingerprint_multi_step`] keeps the steps one after
//! another, for the rest and as the reference the pass is tested against.
//!
//! The id is the first 16 hex digits of pt's checksum (upper-case MD5 of the
//! fingerprint): a stable 64-bit value that equals pt's classic `Query ID`
//! (`0x…`), so a record can be matched to a pt-query-digest report by eye.

use compact_str::CompactString;
use md5::{Digest, Md5};

use crate::parse::scan::finder;

mod one_pass;

/// The fingerprint of one statement.
pub fn fingerprint(query: &str) -> String {
    fingerprint_with(query, true).into_string()
}

/// [`fingerprint`] as the attribute value it becomes: a short fingerprint
/// stays inline, with no `String` allocated and freed on the way (issue 17).
pub(crate) fn fingerprint_compact(query: &str) -> CompactString {
    fingerprint_with(query, true)
}

/// The fingerprint by pt's steps one after another, never the one-pass
/// rewrite: the reference `tests/fingerprint_one_pass.rs` compares
/// [`fingerprint`] with, statement by statement.
#[doc(hidden)]
pub fn fingerprint_multi_step(query: &str) -> String {
    fingerprint_with(query, false).into_string()
}

/// Whether [`fingerprint`] takes the one-pass rewrite for this statement
/// (no quotes, no comments): lets the differential tests show they
/// exercised it.
#[doc(hidden)]
pub fn takes_one_pass(query: &str) -> bool {
    one_pass::applies(Gates::of(query.as_bytes()), query.as_bytes())
}

/// Whether [`fingerprint`] rewrites this statement's quoted strings and
/// then takes the one pass (quotes, but no comments, `#` or backslash).
#[doc(hidden)]
pub fn takes_one_pass_after_quotes(query: &str) -> bool {
    one_pass::applies_after_quotes(Gates::of(query.as_bytes()), query.as_bytes())
}

fn fingerprint_with(query: &str, one_pass_allowed: bool) -> CompactString {
    let q = query.as_bytes();
    // Rewrites only remove bytes, lower-case them or write `?` and spaces, so
    // a step whose trigger bytes are absent from the statement cannot match.
    let gates = Gates::of(q);

    // m#\ASELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `# → 'mysqldump'
    if q.starts_with(b"SELECT /*!40001 SQL_NO_CACHE */ * FROM `") {
        return "mysqldump".into();
    }
    // m#/\*\w+\.\w+:[0-9]/[0-9]\*/# → 'percona-toolkit'
    if gates.has(Gates::SLASH) && has_pt_tool_comment(q) {
        return "percona-toolkit".into();
    }
    // m/\Aadministrator command: / → unchanged
    if q.starts_with(b"administrator command: ") {
        return query.into();
    }
    // m/\A\s*(call\s+\S+)\(/i → lc($1)
    if let Some(call) = call_prefix(q) {
        return lossy(&call.to_ascii_lowercase());
    }
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { cur, spare } = &mut *scratch;
        // (Cleared where it is filled from the statement: the one pass
        // writes over what the last statement left, see `one_pass::rewrite`.)
        // Multi-value INSERT/REPLACE: keep the statement up to its first tuple.
        let q = &q[..multi_insert_first_tuple_end(q).unwrap_or(q.len())];
        let middle = if one_pass_allowed && one_pass::applies(gates, q) {
            // s/\Ause \S+\Z/use ?/i && return (no comments to strip first)
            if let Some(rest) = use_db(q) {
                return lossy(&rest);
            }
            // Straight from the statement: no copy for the steps to start from.
            one_pass::rewrite(q, cur)
        } else if one_pass_allowed && one_pass::applies_after_quotes(gates, q) {
            if let Some(rest) = use_db(q) {
                return lossy(&rest);
            }
            // The steps' two quote rewrites, then the pass over what they
            // left, which may only hold an unpaired quote (a byte the pass
            // copies like any punctuation, as the steps do).
            cur.clear();
            if !replace_quoted(q, b'"', cur) {
                cur.extend_from_slice(q);
            }
            step(cur, spare, |t, out| replace_quoted(t, b'\'', out));
            let middle = one_pass::rewrite(cur, spare);
            std::mem::swap(cur, spare);
            middle
        } else {
            cur.clear();
            cur.extend_from_slice(q);
            // Every byte of the statement, for the steps' own gates.
            let seen = ByteSet::of(query.as_bytes());
            match multi_step_middle(&seen, cur, spare) {
                Ok(found) => found,
                Err(used) => return lossy(&used),
            }
        };
        if middle.list_opening {
            step(cur, spare, collapse_lists);
        }
        if gates.has(Gates::U) && gates.has(Gates::N) {
            step(cur, spare, collapse_unions);
        }
        if middle.limit && middle.question {
            step(cur, spare, collapse_limit);
        }
        if gates.has(Gates::Y) && gates.has(Gates::O) {
            step(cur, spare, drop_order_by_asc);
        }
        lossy(cur)
    })
}

/// What the middle steps (comments to `null`) leave for the last ones.
struct Middle {
    /// A `?` may be in the text (gates `collapse_limit`).
    question: bool,
    /// A `(` may open an `IN` / `VALUES` list (gates `collapse_lists`).
    list_opening: bool,
    /// `limit ` may be in the text (gates `collapse_limit`, whose search
    /// cost more than the rest of a short statement's last steps).
    limit: bool,
}

/// pt's steps from comment stripping to `null`, one rewrite each; `Err`
/// with the whole fingerprint for `use db`.
fn multi_step_middle(
    seen: &ByteSet,
    cur: &mut Vec<u8>,
    spare: &mut Vec<u8>,
) -> Result<Middle, Vec<u8>> {
    if seen.has(b'/') {
        step(cur, spare, strip_block_comments);
    }
    if seen.any(b"#-") {
        step(cur, spare, strip_line_comments);
    }
    // s/\Ause \S+\Z/use ?/i && return
    if let Some(rest) = use_db(cur) {
        return Err(rest);
    }
    if seen.has(b'\\') {
        step(cur, spare, remove_escaped_quotes);
    }
    // `?` may be written from here on.
    let mut question = seen.has(b'?');
    if seen.has(b'"') {
        question |= step(cur, spare, |q, out| replace_quoted(q, b'"', out));
    }
    if seen.has(b'\'') {
        question |= step(cur, spare, |q, out| replace_quoted(q, b'\'', out));
    }
    if seen.any(b"eE") {
        question |= step(cur, spare, replace_booleans);
    }
    if seen.any(b"0123456789+-") {
        question |= step(cur, spare, replace_numbers);
    }
    if question {
        step(cur, spare, fold_number_prefixes);
    }
    // s/\A\s+//; chomp; tr[ \n\t\r\f][ ]s; lc
    let start = cur.iter().position(|c| !is_space(*c)).unwrap_or(cur.len());
    cur.drain(..start);
    if cur.last() == Some(&b'\n') {
        cur.pop();
    }
    step(cur, spare, squeeze_whitespace);
    cur.make_ascii_lowercase();
    if seen.any(b"nN") && seen.any(b"lL") {
        step(cur, spare, |q, out| {
            replace_word(q, b"null", finder!(b"null"), out)
        });
    }
    Ok(Middle {
        question,
        list_opening: seen.has(b'('),
        limit: seen.any(b"mM") && seen.any(b"tT"),
    })
}

/// Which of the bytes the one-pass path's gates ask about a statement holds
/// (the multi-step path asks a [`ByteSet`] about any byte): `'`, `"` or
/// `#`; `/`; `-`; and `u`, `n`, `y`, `o` in either case. Found 16 bytes a
/// step by vector compares, OR-ed into one vector each and reduced once,
/// ~1 instruction a byte where the set's bits took ~5 (callgrind, issue
/// 17). `gates_say_what_a_byte_set_says` checks it against the set.
#[derive(Clone, Copy)]
pub(super) struct Gates(u8);

impl Gates {
    pub(super) const QUOTE_OR_HASH: u8 = 1;
    pub(super) const SLASH: u8 = 2;
    pub(super) const DASH: u8 = 4;
    const U: u8 = 8;
    const N: u8 = 16;
    const Y: u8 = 32;
    const O: u8 = 64;

    fn of(text: &[u8]) -> Gates {
        use wide::u8x16;
        let eq = |v: u8x16, c: u8| v.cmp_eq(u8x16::splat(c));
        let zero = u8x16::splat(0);
        let mut acc = [zero; 7];
        let mut look = |bytes: [u8; 16]| {
            let v = u8x16::new(bytes);
            // `| 0x20` makes `U` `u` and so on; only letters fold onto the
            // four letters asked about (zero padding folds to a space).
            let folded = v | u8x16::splat(0x20);
            acc[0] |= eq(v, b'\'') | eq(v, b'"') | eq(v, b'#');
            acc[1] |= eq(v, b'/');
            acc[2] |= eq(v, b'-');
            acc[3] |= eq(folded, b'u');
            acc[4] |= eq(folded, b'n');
            acc[5] |= eq(folded, b'y');
            acc[6] |= eq(folded, b'o');
        };
        // Steps of 16 bytes, the last one overlapping the one before
        // (a byte seen twice is there once); shorter texts padded with
        // zero, which is none of the bytes asked about.
        if text.len() >= 16 {
            let chunk = |from: usize| -> [u8; 16] { text[from..from + 16].try_into().expect("16") };
            let mut at = 0;
            while at + 16 <= text.len() {
                look(chunk(at));
                at += 16;
            }
            if at < text.len() {
                look(chunk(text.len() - 16));
            }
        } else {
            let mut bytes = [0u8; 16];
            bytes[..text.len()].copy_from_slice(text);
            look(bytes);
        }
        let mut bits = 0;
        for (i, v) in acc.iter().enumerate() {
            if v.move_mask() != 0 {
                bits |= 1 << i;
            }
        }
        Gates(bits)
    }

    pub(super) fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// The byte values present in a text, as a 256-bit set: one pass over the
/// statement replaces a dozen `memchr`/`memmem` scans (whose set-up cost
/// more than the search on statements this short).
struct ByteSet([u64; 4]);

impl ByteSet {
    fn of(text: &[u8]) -> ByteSet {
        let mut bits = [0u64; 4];
        for &c in text {
            bits[usize::from(c >> 6)] |= 1 << (c & 63);
        }
        ByteSet(bits)
    }

    fn has(&self, c: u8) -> bool {
        self.0[usize::from(c >> 6)] >> (c & 63) & 1 == 1
    }

    fn any(&self, bytes: &[u8]) -> bool {
        bytes.iter().any(|c| self.has(*c))
    }
}

/// Two buffers every rewrite step reads from and writes to in turn, kept
/// per thread: a fingerprint runs ~15 steps per statement, and allocating a
/// fresh `Vec` for each was the largest cost of the pipeline (callgrind).
struct Scratch {
    cur: Vec<u8>,
    spare: Vec<u8>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = const {
        std::cell::RefCell::new(Scratch { cur: Vec::new(), spare: Vec::new() })
    };
}

/// Runs one rewrite: `rewrite` reads `cur`, writes the result to `spare`
/// and returns true, or returns false when nothing in `cur` can match (each
/// step checks that first, cheaply, so most steps copy nothing).
fn step(
    cur: &mut Vec<u8>,
    spare: &mut Vec<u8>,
    rewrite: impl FnOnce(&[u8], &mut Vec<u8>) -> bool,
) -> bool {
    spare.clear();
    let wrote = rewrite(cur, spare);
    if wrote {
        std::mem::swap(cur, spare);
    }
    wrote
}

/// The fingerprint's 64-bit id: the first 16 hex digits of pt's checksum.
pub fn fingerprint_id(fingerprint: &str) -> String {
    fingerprint_id_compact(fingerprint).into_string()
}

/// [`fingerprint_id`] as the attribute value it becomes: 16 bytes, inline,
/// so a remembered id is copied without an allocation (issue 17).
pub(crate) fn fingerprint_id_compact(fingerprint: &str) -> CompactString {
    // A workload has few statement classes, so recent ids are remembered per
    // thread: an FNV hash and a compare cost far less than the MD5 (~650
    // instructions a statement, the largest part of enrichment after the
    // fingerprint itself). Direct-mapped: a collision just recomputes.
    const SLOTS: usize = 256;
    thread_local! {
        static IDS: std::cell::RefCell<Vec<(String, CompactString)>> =
            std::cell::RefCell::new(vec![(String::new(), CompactString::default()); SLOTS]);
    }
    let slot = fnv1a(fingerprint.as_bytes()) as usize % SLOTS;
    IDS.with(|ids| {
        let mut ids = ids.borrow_mut();
        let (fp, id) = &mut ids[slot];
        if id.is_empty() || fp != fingerprint {
            *id = upper_hex(&Md5::digest(fingerprint.as_bytes())[..8]).into();
            fp.clear();
            fp.push_str(fingerprint);
        }
        id.clone()
    })
}

/// FNV-1a (64-bit): a few instructions a byte, enough to spread fingerprints.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Upper-case hex; by hand because `format!` per byte cost more than the MD5.
fn upper_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

/// pt's full checksum (`uc md5_hex`), for comparing with its reports.
pub fn pt_checksum(fingerprint: &str) -> String {
    upper_hex(&Md5::digest(fingerprint.as_bytes()))
}

fn lossy(v: &[u8]) -> CompactString {
    // Every step cuts at ASCII bytes, so UTF-8 stays valid; lossy is a guard.
    CompactString::from_utf8(v).unwrap_or_else(|_| String::from_utf8_lossy(v).into())
}

/// Perl `\s` on bytes (5.18+: includes vertical tab).
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c)
}

/// Perl `\w` on bytes.
fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// `\b` before a word character at `i`.
fn word_start(q: &[u8], i: usize) -> bool {
    i == 0 || !is_word(q[i - 1])
}

fn starts_with_ci(q: &[u8], i: usize, word: &[u8]) -> bool {
    q.len() >= i + word.len() && q[i..i + word.len()].eq_ignore_ascii_case(word)
}

/// `/\*\w+\.\w+:[0-9]/[0-9]\*/`
fn has_pt_tool_comment(q: &[u8]) -> bool {
    let mut from = 0;
    while let Some(off) = finder!(b"/*").find(&q[from..]) {
        let mut i = from + off + 2;
        let w1 = q[i..].iter().take_while(|c| is_word(**c)).count();
        // \w+ is greedy but must leave the `.`: a word run never holds one.
        if w1 > 0 && q.get(i + w1) == Some(&b'.') {
            i += w1 + 1;
            let w2 = q[i..].iter().take_while(|c| is_word(**c)).count();
            i += w2;
            let tail = &q[i.min(q.len())..];
            if w2 > 0
                && tail.len() >= 6
                && tail[0] == b':'
                && tail[1].is_ascii_digit()
                && tail[2] == b'/'
                && tail[3].is_ascii_digit()
                && tail[4] == b'*'
                && tail[5] == b'/'
            {
                return true;
            }
        }
        from += off + 1;
    }
    false
}

/// `\A\s*(call\s+\S+)\(` (case-insensitive): `call` and the name up to the
/// last `(` of the name's non-space run (Perl's greedy `\S+` backing off).
fn call_prefix(q: &[u8]) -> Option<Vec<u8>> {
    let lead = q.iter().take_while(|c| is_space(**c)).count();
    if !starts_with_ci(q, lead, b"call") {
        return None;
    }
    let after_kw = lead + 4;
    let ws = q[after_kw..].iter().take_while(|c| is_space(**c)).count();
    if ws == 0 {
        return None;
    }
    let name_start = after_kw + ws;
    let run = q[name_start..]
        .iter()
        .take_while(|c| !is_space(**c))
        .count();
    let run_bytes = &q[name_start..name_start + run];
    // \S+ needs one char, then `(`; the `(` may also be the first char after the run? No:
    // a space ends the run, so the `(` must lie inside it, at index ≥ 1.
    let paren = run_bytes
        .iter()
        .rposition(|c| *c == b'(')
        .filter(|p| *p >= 1)?;
    Some(q[lead..name_start + paren].to_vec())
}

/// `\A((?:INSERT|REPLACE)(?: IGNORE)?\s+INTO.+?VALUES\s*\(.*?\))\s*,\s*\(`
/// (case-insensitive, `.` matching newlines): the end of the first tuple.
fn multi_insert_first_tuple_end(q: &[u8]) -> Option<usize> {
    let mut i = if starts_with_ci(q, 0, b"INSERT") {
        6
    } else if starts_with_ci(q, 0, b"REPLACE") {
        7
    } else {
        return None;
    };
    // (?: IGNORE)? is greedy but may back off; both branches then need \s+INTO.
    let candidates: Vec<usize> = if starts_with_ci(q, i, b" IGNORE") {
        vec![i + 7, i]
    } else {
        vec![i]
    };
    for start in candidates {
        i = start;
        let ws = q[i..].iter().take_while(|c| is_space(**c)).count();
        if ws == 0 {
            continue;
        }
        // \s+ may back off too, but INTO must follow the whole run or a suffix of it;
        // a suffix of spaces never starts with `I`, so only the full run works.
        i += ws;
        if !starts_with_ci(q, i, b"INTO") {
            continue;
        }
        i += 4;
        // .+? then VALUES: every VALUES at least one byte after INTO, in order.
        // A search for `), (` that fails from k fails from any later start
        // too (it looks at a suffix of what was searched): without this,
        // `VALUES(1) VALUES(1) …` searched to the end once per VALUES.
        let mut no_tuple_from = usize::MAX;
        let mut from = i + 1;
        while let Some(v) = next_values(q, from) {
            let mut j = v + 6;
            j += q[j..].iter().take_while(|c| is_space(**c)).count();
            if q.get(j) == Some(&b'(') && j + 1 < no_tuple_from {
                // .*?\) then \s*,\s*\(: the first `)` that is followed by `, (`.
                no_tuple_from = j + 1;
                let mut k = j + 1;
                while let Some(off) = memchr::memchr(b')', &q[k..]) {
                    let close = k + off;
                    let mut m = close + 1;
                    m += q[m..].iter().take_while(|c| is_space(**c)).count();
                    if q.get(m) == Some(&b',') {
                        m += 1;
                        m += q[m..].iter().take_while(|c| is_space(**c)).count();
                        if q.get(m) == Some(&b'(') {
                            return Some(close + 1);
                        }
                    }
                    k = close + 1;
                }
            }
            from = v + 1;
        }
    }
    None
}

/// Where the first `VALUES` (any case) at or after `from` starts. Only a
/// `v` can start one: the search jumps from `v` to `v` (a compare at every
/// byte was ~6 instructions a byte of every INSERT, callgrind).
fn next_values(q: &[u8], from: usize) -> Option<usize> {
    let mut v = from;
    while v + 6 <= q.len() {
        v += memchr::memchr2(b'v', b'V', &q[v..q.len() - 5])?;
        if q[v..v + 6].eq_ignore_ascii_case(b"VALUES") {
            return Some(v);
        }
        v += 1;
    }
    None
}

/// `s#/\*[^!].*?\*/##smg`
fn strip_block_comments(q: &[u8], out: &mut Vec<u8>) -> bool {
    if finder!(b"/*").find(q).is_none() {
        return false;
    }
    let mut i = 0;
    // No `*/` from here on: found by a failed search, which need not be
    // repeated for every later `/*` (`/*a /*a /*a …` was quadratic).
    let mut unclosed = false;
    while i < q.len() {
        if !unclosed
            && q[i] == b'/'
            && q.get(i + 1) == Some(&b'*')
            && q.get(i + 2).is_some_and(|c| *c != b'!')
        {
            if let Some(off) = finder!(b"*/").find(&q[i + 3..]) {
                i = i + 3 + off + 2;
                continue;
            }
            unclosed = true;
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// `s/(?:--|#)[^'"\r\n]*(?=[\r\n]|\Z)//g`
fn strip_line_comments(q: &[u8], out: &mut Vec<u8>) -> bool {
    if memchr::memchr(b'#', q).is_none() && finder!(b"--").find(q).is_none() {
        return false;
    }
    let mut i = 0;
    // Starts before this index are known to run into a quote (see below).
    let mut dead_until = 0;
    while i < q.len() {
        let opener = if q[i] == b'#' {
            1
        } else if q[i] == b'-' && q.get(i + 1) == Some(&b'-') {
            2
        } else {
            0
        };
        if opener > 0 && i >= dead_until {
            let body = i + opener;
            let run = q[body..]
                .iter()
                .take_while(|c| !matches!(c, b'\'' | b'"' | b'\r' | b'\n'))
                .count();
            let end = body + run;
            if end == q.len() || matches!(q[end], b'\r' | b'\n') {
                i = end;
                continue;
            }
            // A quote stops this comment; every start before it stops there too.
            dead_until = end;
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// `\Ause \S+\Z` (case-insensitive) → `use ?` (a final newline stays, as `\Z` leaves it).
fn use_db(q: &[u8]) -> Option<Vec<u8>> {
    if !starts_with_ci(q, 0, b"use ") {
        return None;
    }
    let (body, nl) = match q.strip_suffix(b"\n") {
        Some(b) => (b, true),
        None => (q, false),
    };
    let name = &body[4..];
    if name.is_empty() || name.iter().any(|c| is_space(*c)) {
        return None;
    }
    let mut out = b"use ?".to_vec();
    if nl {
        out.push(b'\n');
    }
    Some(out)
}

/// `s/\\["']//g`
fn remove_escaped_quotes(q: &[u8], out: &mut Vec<u8>) -> bool {
    if memchr::memchr(b'\\', q).is_none() {
        return false;
    }
    let mut i = 0;
    while i < q.len() {
        if q[i] == b'\\' && matches!(q.get(i + 1), Some(b'"' | b'\'')) {
            i += 2;
            continue;
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// `s/".*?"/?/sg` (or with `'`).
fn replace_quoted(q: &[u8], quote: u8, out: &mut Vec<u8>) -> bool {
    if memchr::memchr(quote, q).is_none() {
        return false;
    }
    let mut i = 0;
    while i < q.len() {
        if q[i] == quote {
            if let Some(off) = memchr::memchr(quote, &q[i + 1..]) {
                out.push(b'?');
                i = i + 1 + off + 1;
                continue;
            }
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// `s/\bfalse\b|\btrue\b/?/isg`
fn replace_booleans(q: &[u8], out: &mut Vec<u8>) -> bool {
    // Both words end in `e`: without one there is nothing to replace.
    if memchr::memchr2(b'e', b'E', q).is_none() {
        return false;
    }
    // Copies the runs between matches in one go (here and in the steps
    // below): pushing byte by byte was most of a fingerprint's cost.
    let (mut i, mut copied) = (0, 0);
    while let Some(off) = q[i..]
        .iter()
        .position(|c| matches!(c, b't' | b'T' | b'f' | b'F'))
    {
        let at = i + off;
        let hit = [&b"false"[..], b"true"].into_iter().find_map(|w| {
            let end = at + w.len();
            (word_start(q, at) && starts_with_ci(q, at, w) && (end == q.len() || !is_word(q[end])))
                .then_some(end)
        });
        match hit {
            Some(end) => {
                out.extend_from_slice(&q[copied..at]);
                out.push(b'?');
                (i, copied) = (end, end);
            }
            None => i = at + 1,
        }
    }
    out.extend_from_slice(&q[copied..]);
    true
}

/// `s/[0-9+-][0-9a-f.xb+-]*/?/g` (case-sensitive: the query is not lower-cased yet).
fn replace_numbers(q: &[u8], out: &mut Vec<u8>) -> bool {
    let mut copied = 0;
    while let Some(off) = q[copied..]
        .iter()
        .position(|c| c.is_ascii_digit() || *c == b'+' || *c == b'-')
    {
        let at = copied + off;
        let len = q[at + 1..]
            .iter()
            .take_while(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f' | b'.' | b'x' | b'+' | b'-'))
            .count();
        out.extend_from_slice(&q[copied..at]);
        out.push(b'?');
        copied = at + 1 + len;
    }
    out.extend_from_slice(&q[copied..]);
    true
}

/// `s/[xb.+-]\?/?/g`
fn fold_number_prefixes(q: &[u8], out: &mut Vec<u8>) -> bool {
    let mut copied = 0;
    let mut changed = false;
    for at in memchr::memchr_iter(b'?', q) {
        // The byte before a `?` was never consumed by the previous match: a
        // match ends at its `?`, and `?` is not a prefix byte.
        if at >= 1 && matches!(q[at - 1], b'x' | b'b' | b'.' | b'+' | b'-') {
            out.extend_from_slice(&q[copied..at - 1]);
            out.push(b'?');
            copied = at + 1;
            changed = true;
        }
    }
    if changed {
        out.extend_from_slice(&q[copied..]);
    }
    changed
}

/// `tr[ \n\t\r\f][ ]s`
fn squeeze_whitespace(q: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while i < q.len() {
        let run = q[i..]
            .iter()
            .position(|c| matches!(c, b' ' | b'\n' | b'\t' | b'\r' | 0x0c))
            .unwrap_or(q.len() - i);
        out.extend_from_slice(&q[i..i + run]);
        i += run;
        if i < q.len() {
            // Every space in `out` came from this translation, so a run squeezes to one.
            if out.last() != Some(&b' ') {
                out.push(b' ');
            }
            i += 1;
        }
    }
    true
}

/// `s/\bWORD\b/?/g` for a lower-case word.
fn replace_word(q: &[u8], word: &[u8], finder: &memchr::memmem::Finder, out: &mut Vec<u8>) -> bool {
    if finder.find(q).is_none() {
        return false;
    }
    let mut i = 0;
    while i < q.len() {
        let end = i + word.len();
        if word_start(q, i) && q[i..].starts_with(word) && (end == q.len() || !is_word(q[end])) {
            out.push(b'?');
            i = end;
            continue;
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// One `[\s,]*\([\s?,]*\)` at `i`; its end.
fn list_group(q: &[u8], mut i: usize) -> Option<usize> {
    i += q[i..]
        .iter()
        .take_while(|c| is_space(**c) || **c == b',')
        .count();
    if q.get(i) != Some(&b'(') {
        return None;
    }
    i += 1;
    i += q[i..]
        .iter()
        .take_while(|c| is_space(**c) || **c == b'?' || **c == b',')
        .count();
    (q.get(i) == Some(&b')')).then_some(i + 1)
}

/// `s/\b(in|values?)(?:[\s,]*\([\s?,]*\))+/$1(?+)/gx`
fn collapse_lists(q: &[u8], out: &mut Vec<u8>) -> bool {
    // Every list group needs a `(`.
    if memchr::memchr(b'(', q).is_none() {
        return false;
    }
    // Only an `i` or `v` can start a group: the runs between them are
    // copied whole (a push per byte was ~10 instructions a byte).
    let (mut i, mut copied) = (0, 0);
    while let Some(off) = memchr::memchr2(b'i', b'v', &q[i..]) {
        i += off;
        if word_start(q, i) {
            if let Some((kw, end)) = list_group_at(q, i) {
                out.extend_from_slice(&q[copied..i]);
                out.extend_from_slice(kw);
                out.extend_from_slice(b"(?+)");
                (i, copied) = (end, end);
                continue;
            }
        }
        i += 1;
    }
    out.extend_from_slice(&q[copied..]);
    true
}

/// `(in|values|value)` then one or more list groups at `i`, in Perl's
/// order of alternatives (`values` before `value`): the keyword and where
/// the last group ends.
fn list_group_at(q: &[u8], i: usize) -> Option<(&'static [u8], usize)> {
    [&b"in"[..], b"values", b"value"]
        .into_iter()
        .find_map(|kw| {
            if !q[i..].starts_with(kw) {
                return None;
            }
            let mut end = list_group(q, i + kw.len())?;
            while let Some(e) = list_group(q, end) {
                end = e;
            }
            Some((kw, end))
        })
}

/// `s/\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+/$1 \/*repeat$2*\//xg`
///
/// Perl tries, for each `select` (at `i`), every later `\sunion` (at `j`) as
/// the end of `$1` = `q[i..j]` until `$1` is repeated after the separator:
/// quadratic when nothing repeats (`select a union select b union …`). The
/// same first match is found here from an index of the `union`s: `j` is
/// tried directly when it is the first `union` after the `select`; a later
/// `j` can only match when the text after its separator begins with the
/// `select`'s own first segment (up to its first `union`) and has its next
/// `union` right after it, so only those `j` are tried, and each try is an
/// O(1) hash comparison before the byte comparison that confirms it.
///
/// Statements built to defeat that filter (many alike first segments whose
/// continuations all differ) could still cost (#unions)²; past
/// [`UNION_WORK_PER_BYTE`] tries per byte the rest of the statement is left
/// uncollapsed (documented in docs/schema.md).
fn collapse_unions(q: &[u8], out: &mut Vec<u8>) -> bool {
    if finder!(b"union").find(q).is_none() {
        return false;
    }
    let ix = UnionIndex::new(q);
    let mut budget = UNION_WORK_PER_BYTE
        .saturating_mul(q.len())
        .saturating_add(4096);
    // First entry of ix.at not before i + 7 (i only grows).
    let mut next = 0;
    let mut i = 0;
    while i < q.len() {
        if word_start(q, i)
            && q[i..].starts_with(b"select")
            && q.get(i + 6).is_some_and(|c| is_space(*c))
        {
            while next < ix.at.len() && ix.at[next] < i + 7 {
                next += 1;
            }
            // .*? lazily: the ends j to try, in order (see above).
            let first = ix.at.get(next).copied().filter(|j| q.len() - j >= 7);
            let mut found = None;
            if let Some(u1) = first {
                // The index of segments is only built once a first try fails.
                let later =
                    std::iter::once(()).flat_map(|()| ix.later_matching(q, i, u1).iter().copied());
                for j in std::iter::once(u1).chain(later) {
                    if budget == 0 {
                        // Give up collapsing: the rest is copied as it is.
                        out.extend_from_slice(&q[i..]);
                        return true;
                    }
                    budget -= 1;
                    if !ix.may_repeat(q, i, j) {
                        continue;
                    }
                    let x = &q[i..j];
                    budget = budget.saturating_sub(x.len());
                    let mut end = j;
                    let mut last_sep: Option<(usize, usize)> = None;
                    while let Some((sep_end, after)) = union_rep(q, end, x) {
                        last_sep = Some((end, sep_end));
                        end = after;
                    }
                    if let Some((s, e)) = last_sep {
                        found = Some((j, s, e, end));
                        break;
                    }
                }
            }
            if let Some((j, s, e, end)) = found {
                out.extend_from_slice(&q[i..j]);
                out.extend_from_slice(b" /*repeat");
                out.extend_from_slice(&q[s..e]);
                out.extend_from_slice(b"*/");
                i = end;
                continue;
            }
        }
        out.push(q[i]);
        i += 1;
    }
    true
}

/// Candidate tries (plus bytes compared) allowed per statement byte in
/// [`collapse_unions`] before it stops collapsing.
const UNION_WORK_PER_BYTE: usize = 4;

/// The `\sunion`s of a statement, hashed for [`collapse_unions`].
struct UnionIndex {
    /// Every `\sunion` (the position of its `\s`), in order; they never overlap.
    at: Vec<usize>,
    /// Polynomial prefix hashes (mod 2⁶¹−1) and powers of the base.
    prefix: Vec<u64>,
    pow: Vec<u64>,
    /// (hash, length) of the segment after each union's separator → the
    /// unions, in order (see [`UnionIndex::segment_end`]); built when first
    /// needed (most `union`s collapse, or not, at their first try).
    by_segment: std::cell::OnceCell<std::collections::HashMap<(u64, usize), Vec<usize>>>,
}

const MERSENNE_61: u64 = (1 << 61) - 1;

fn mul_mod(a: u64, b: u64) -> u64 {
    let p = u128::from(a) * u128::from(b);
    let r = (p & u128::from(MERSENNE_61)) as u64 + (p >> 61) as u64;
    if r >= MERSENNE_61 {
        r - MERSENNE_61
    } else {
        r
    }
}

impl UnionIndex {
    fn new(q: &[u8]) -> UnionIndex {
        let at: Vec<usize> = finder!(b"union")
            .find_iter(q)
            .filter(|p| *p >= 1 && is_space(q[p - 1]))
            .map(|p| p - 1)
            .collect();
        const BASE: u64 = 0x1f3d_5b79_a4c2_e681 % MERSENNE_61;
        let mut prefix = Vec::with_capacity(q.len() + 1);
        let mut pow = Vec::with_capacity(q.len() + 1);
        let (mut h, mut p) = (0u64, 1u64);
        prefix.push(h);
        pow.push(p);
        for c in q {
            h = mul_mod(h, BASE) + u64::from(*c) + 1;
            if h >= MERSENNE_61 {
                h -= MERSENNE_61;
            }
            p = mul_mod(p, BASE);
            prefix.push(h);
            pow.push(p);
        }
        UnionIndex {
            at,
            prefix,
            pow,
            by_segment: std::cell::OnceCell::new(),
        }
    }

    fn segments(&self, q: &[u8]) -> &std::collections::HashMap<(u64, usize), Vec<usize>> {
        self.by_segment.get_or_init(|| {
            let mut by_segment = std::collections::HashMap::<_, Vec<usize>>::new();
            for &j in &self.at {
                let t = Self::repeat_start(q, j);
                if let Some(end) = self.segment_end(q, t) {
                    by_segment
                        .entry((self.hash(t, end), end - t))
                        .or_default()
                        .push(j);
                }
            }
            by_segment
        })
    }

    /// Where the repeat after the union at `j` must start: after
    /// `\sunion\sall\s` when that follows (the `select` of a repeat cannot
    /// start with `all`), else after `\sunion\s`.
    fn repeat_start(q: &[u8], j: usize) -> usize {
        let base = j + 6;
        if q.get(base).is_some_and(|c| is_space(*c)) && q[base + 1..].starts_with(b"all") {
            base + 5
        } else {
            base + 1
        }
    }

    /// The end of the segment starting at `t`: the first union at or after
    /// `t + 7` (`select\s` comes first), as for a `select` at `t`.
    fn segment_end(&self, q: &[u8], t: usize) -> Option<usize> {
        if t > q.len() {
            return None;
        }
        let k = self.at.partition_point(|j| *j < t + 7);
        self.at.get(k).copied()
    }

    fn hash(&self, a: usize, b: usize) -> u64 {
        let h = self.prefix[b] + MERSENNE_61 - mul_mod(self.prefix[a], self.pow[b - a]);
        if h >= MERSENNE_61 {
            h - MERSENNE_61
        } else {
            h
        }
    }

    /// The unions after `u1` whose repeat could hold `q[i..j]`: its first
    /// segment `q[i..u1]` must be the segment after their separator.
    fn later_matching(&self, q: &[u8], i: usize, u1: usize) -> &[usize] {
        match self.segments(q).get(&(self.hash(i, u1), u1 - i)) {
            Some(js) => &js[js.partition_point(|j| *j <= u1)..],
            None => &[],
        }
    }

    /// Whether `q[i..j]` may follow the union at `j` (hashes equal).
    fn may_repeat(&self, q: &[u8], i: usize, j: usize) -> bool {
        let t = Self::repeat_start(q, j);
        let end = t + (j - i);
        end <= q.len() && self.hash(i, j) == self.hash(t, end)
    }
}

/// One `(\sunion(?:\sall)?)\s\1` at `at`: (end of the separator, end of the repeat).
fn union_rep(q: &[u8], at: usize, x: &[u8]) -> Option<(usize, usize)> {
    if !(q.get(at).is_some_and(|c| is_space(*c)) && q[at + 1..].starts_with(b"union")) {
        return None;
    }
    let base = at + 6;
    let mut seps = Vec::with_capacity(2);
    if q.get(base).is_some_and(|c| is_space(*c)) && q[base + 1..].starts_with(b"all") {
        seps.push(base + 4);
    }
    seps.push(base);
    for sep_end in seps {
        if q.get(sep_end).is_some_and(|c| is_space(*c)) && q[sep_end + 1..].starts_with(x) {
            return Some((sep_end, sep_end + 1 + x.len()));
        }
    }
    None
}

/// `s/\blimit \?(?:, ?\?| offset \?)?/limit ?/` (first match only).
fn collapse_limit(q: &[u8], out: &mut Vec<u8>) -> bool {
    let mut i = 0;
    while let Some(off) = finder!(b"limit ?").find(&q[i..]) {
        let at = i + off;
        if word_start(q, at) {
            let mut end = at + 7;
            if q[end..].starts_with(b", ?") {
                end += 3;
            } else if q[end..].starts_with(b",?") {
                end += 2;
            } else if q[end..].starts_with(b" offset ?") {
                end += 9;
            }
            out.extend_from_slice(&q[..at]);
            out.extend_from_slice(b"limit ?");
            out.extend_from_slice(&q[end..]);
            return true;
        }
        i = at + 1;
    }
    false
}

/// `if (m/\bORDER BY /gi) { 1 while s/\G(.+?)\s+ASC/$1/gi && pos }`: from
/// after the first `order by `, drop each `\s+asc` reached by a chain of
/// adjacent matches (`s///` resets `pos`, so the loop body runs once).
fn drop_order_by_asc(q: &[u8], out: &mut Vec<u8>) -> bool {
    let mut from = 0;
    let start = loop {
        let Some(off) = finder!(b"order by ").find(&q[from..]) else {
            return false;
        };
        let at = from + off;
        if word_start(q, at) {
            break at + 9;
        }
        from = at + 1;
    };
    out.extend_from_slice(&q[..start]);
    let mut p = start;
    'chain: loop {
        // (.+?) needs one byte; then \s+ASC.
        let mut k = p + 1;
        while k < q.len() {
            if is_space(q[k]) {
                let ws = q[k..].iter().take_while(|c| is_space(**c)).count();
                if starts_with_ci(q, k + ws, b"asc") {
                    out.extend_from_slice(&q[p..k]);
                    p = k + ws + 3;
                    continue 'chain;
                }
                // Any later start in this run ends at the same place and
                // fails the same way (a long run was counted once per byte).
                k += ws;
                continue;
            }
            k += 1;
        }
        break;
    }
    out.extend_from_slice(&q[p..]);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// Each gate says what the byte set says of the same text: at every
        /// length (padded below 16 bytes, overlapping last step above) and
        /// with the case-fold strays of each letter (`U`, `5`, `u` | 0x20…).
        #[test]
        fn gates_say_what_a_byte_set_says(
            text in "[\\x00-\\x7f'\"#/\\-uUnNyYoOeE5.NNé]{0,70}"
        ) {
            let b = text.as_bytes();
            let (gates, set) = (Gates::of(b), ByteSet::of(b));
            for (bit, bytes) in [
                (Gates::QUOTE_OR_HASH, &b"'\"#"[..]),
                (Gates::SLASH, b"/"),
                (Gates::DASH, b"-"),
                (Gates::U, b"uU"),
                (Gates::N, b"nN"),
                (Gates::Y, b"yY"),
                (Gates::O, b"oO"),
            ] {
                proptest::prop_assert_eq!(gates.has(bit), set.any(bytes), "{:?} in {:?}", bytes, text);
            }
        }
    }

    /// [`collapse_lists`] as it was: a byte pushed at a time, every
    /// position tried.
    fn collapse_lists_byte_by_byte(q: &[u8], out: &mut Vec<u8>) -> bool {
        if memchr::memchr(b'(', q).is_none() {
            return false;
        }
        let mut i = 0;
        while i < q.len() {
            if word_start(q, i) && matches!(q[i], b'i' | b'v') {
                if let Some((kw, end)) = list_group_at(q, i) {
                    out.extend_from_slice(kw);
                    out.extend_from_slice(b"(?+)");
                    i = end;
                    continue;
                }
            }
            out.push(q[i]);
            i += 1;
        }
        true
    }

    /// Lists, near-lists and their keywords glued to words, spaced, cut.
    const LIST_SOUP: &str =
        "(in|values|value|vin|xin|VALUES|Values|v|i|\\(|\\)|\\?|,| |\t|a|1|_|é){0,40}";

    proptest::proptest! {
        /// Jumping from `i`/`v` to the next and copying the runs between
        /// gives what trying every byte gave.
        #[test]
        fn collapse_lists_equals_the_byte_by_byte_scan(q in LIST_SOUP) {
            let (mut fast, mut slow) = (Vec::new(), Vec::new());
            let wrote = collapse_lists(q.as_bytes(), &mut fast);
            proptest::prop_assert_eq!(wrote, collapse_lists_byte_by_byte(q.as_bytes(), &mut slow));
            proptest::prop_assert_eq!(fast, slow);
        }

        /// The `v`-to-`v` search finds the `VALUES` a compare at every
        /// position finds, from any start.
        #[test]
        fn next_values_equals_a_compare_at_every_position(q in LIST_SOUP, from in 0usize..50) {
            let q = q.as_bytes();
            let naive = (from..q.len().saturating_sub(5))
                .find(|&v| q[v..v + 6].eq_ignore_ascii_case(b"VALUES"));
            proptest::prop_assert_eq!(next_values(q, from), naive);
        }
    }

    #[test]
    fn literals_lists_and_case() {
        assert_eq!(
            fingerprint(
                "SELECT * FROM t WHERE id IN (1, 2, 3) AND name = 'bob' AND x=\"y\" LIMIT 10, 20"
            ),
            "select * from t where id in(?+) and name = ? and x=? limit ?"
        );
        assert_eq!(
            fingerprint("INSERT INTO t (a,b) VALUES (1,'x'), (2,'y')"),
            "insert into t (a,b) values(?+)"
        );
        assert_eq!(
            fingerprint("CREATE DATABASE s CHARACTER SET utf8mb4"),
            "create database s character set utf?m?"
        );
        assert_eq!(fingerprint("use `storefront`"), "use ?");
        assert_eq!(fingerprint("CALL refresh(1, 2)"), "call refresh");
        assert_eq!(
            fingerprint("select 1 -- note\n/* c */ from dual # x"),
            "select ? from dual "
        );
        assert_eq!(
            fingerprint("SELECT a FROM t WHERE b IS NULL ORDER BY a ASC, b ASC"),
            "select a from t where b is ? order by a, b"
        );
        assert_eq!(
            fingerprint("SELECT a FROM t UNION ALL SELECT a FROM t"),
            "select a from t /*repeat union all*/"
        );
        assert_eq!(
            fingerprint("UPDATE t SET flag = TRUE"),
            "update t set flag = ?"
        );
        assert_eq!(
            fingerprint("administrator command: Quit"),
            "administrator command: Quit"
        );
    }

    /// The one pass's shortcuts (a boolean told by its second byte, `null`
    /// looked for only after a run ending in `l` or a fold) give what the
    /// steps give, on the tokens where they could go wrong.
    #[test]
    fn one_pass_shortcuts_match_the_steps() {
        let tokens = [
            "true", "TRUE", "tRuE", "false", "FaLsE", "t", "f", "tr", "fa", "tru", "fals", "truex",
            "true1", "t1", "f1", "from", "to", "1.false", "-false", "0xfalse", "1false", "null",
            "NULL", "nullx1", "NULLb2", "null.5", "xnull", "nul", "nulll", "null_", "null1",
            "lnull", "x1", "b1", ".1", "limit", "LIMIT", "(", ",", " ", "\n", "=", "?", "in",
            "IN (1)",
        ];
        let mut statements = Vec::new();
        for a in tokens {
            for b in tokens {
                statements.push(format!("SELECT {a} {b}"));
                statements.push(format!("{a}{b}"));
                statements.push(format!("x={a},{b} "));
            }
        }
        for q in statements {
            assert!(takes_one_pass(&q), "{q:?}");
            assert_eq!(fingerprint(&q), fingerprint_multi_step(&q), "{q:?}");
        }
    }

    #[test]
    fn ids_match_pt_checksums() {
        // From pt-query-digest 3.2.1 on the shared MariaDB slow log.
        assert_eq!(
            pt_checksum("select sleep(?)"),
            "59A74D08D407B5EDF9A57DD5A41825CA"
        );
        assert_eq!(fingerprint_id("select sleep(?)"), "59A74D08D407B5ED");
        // Served from the per-thread cache the second time, unchanged; a
        // different fingerprint in any slot still gets its own id.
        assert_eq!(fingerprint_id("select sleep(?)"), "59A74D08D407B5ED");
        for i in 0..2_000 {
            let fp = format!("select {i}");
            let want = &pt_checksum(&fp)[..16];
            assert_eq!(fingerprint_id(&fp), want);
            assert_eq!(fingerprint_id(&fp), want);
        }
        assert_eq!(fingerprint_id(""), &pt_checksum("")[..16]);
    }

    #[test]
    fn union_collapsing_gives_up_past_its_budget() {
        // Alike branches (`select a`) whose continuations all differ: each is
        // a candidate end for every earlier one, (#unions)² tries in all.
        let mut q = String::new();
        for i in 0..3_000u32 {
            let w: String = i
                .to_string()
                .bytes()
                .map(|d| char::from(b'a' + d - b'0'))
                .collect();
            q.push_str(&format!("select a union select q{w} union "));
        }
        // Short, the same tail collapses; after the flood, it is left as is.
        let tail = "select b union select b";
        assert_eq!(
            fingerprint(&format!("select a union select qx union {tail}")),
            "select a union select qx union select b /*repeat union*/"
        );
        let fp = fingerprint(&format!("{q}{tail}"));
        assert!(
            fp.ends_with(" union select b union select b"),
            "{}",
            &fp[fp.len() - 60..]
        );
        assert!(fp.starts_with("select a union select qa union select a union"));
    }

    #[test]
    fn odd_inputs_do_not_panic() {
        for q in [
            "",
            "'",
            "\"",
            "/*",
            "--",
            "#",
            "call",
            "call (",
            "insert into",
            "INSERT INTO x VALUES",
            "in (",
            "select union",
            "order by ",
            "limit ?",
            "é'ü'",
            "\u{0}",
        ] {
            let _ = fingerprint(q);
        }
    }
}
