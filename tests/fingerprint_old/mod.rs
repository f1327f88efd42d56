//! A frozen copy of `src/sql/fingerprint.rs` (now `crates/core/src/sql/fingerprint.rs`) as it was before the
//! fingerprint was made linear (issue 13): the reference the differential
//! property test (`tests/properties.rs`) compares the current code with, and
//! the "before" of `tests/fingerprint_linear.rs`. Do not edit: its point is to
//! stay what the code was (commit 1071ada).

/// As `crate::parse::scan::finder`: a memmem finder built once.
macro_rules! finder {
    ($needle:expr) => {{
        static FINDER: std::sync::LazyLock<memchr::memmem::Finder<'static>> =
            std::sync::LazyLock::new(|| memchr::memmem::Finder::new($needle));
        &*FINDER
    }};
}

/// The fingerprint of one statement.
pub fn fingerprint(query: &str) -> String {
    let q = query.as_bytes();
    // Rewrites only remove bytes, lower-case them or write `?` and spaces, so
    // a step whose trigger bytes are absent from the statement cannot match.
    let seen = ByteSet::of(q);

    // m#\ASELECT /\*!40001 SQL_NO_CACHE \*/ \* FROM `# → 'mysqldump'
    if q.starts_with(b"SELECT /*!40001 SQL_NO_CACHE */ * FROM `") {
        return "mysqldump".to_owned();
    }
    // m#/\*\w+\.\w+:[0-9]/[0-9]\*/# → 'percona-toolkit'
    if seen.has(b'/') && has_pt_tool_comment(q) {
        return "percona-toolkit".to_owned();
    }
    // m/\Aadministrator command: / → unchanged
    if q.starts_with(b"administrator command: ") {
        return query.to_owned();
    }
    // m/\A\s*(call\s+\S+)\(/i → lc($1)
    if let Some(call) = call_prefix(q) {
        return lossy(call.to_ascii_lowercase());
    }
    SCRATCH.with(|scratch| {
        let mut scratch = scratch.borrow_mut();
        let Scratch { cur, spare } = &mut *scratch;
        cur.clear();
        cur.extend_from_slice(q);
        // Multi-value INSERT/REPLACE: keep the statement up to its first tuple.
        if let Some(end) = multi_insert_first_tuple_end(cur) {
            cur.truncate(end);
        }
        if seen.has(b'/') {
            step(cur, spare, strip_block_comments);
        }
        if seen.any(b"#-") {
            step(cur, spare, strip_line_comments);
        }
        // s/\Ause \S+\Z/use ?/i && return
        if let Some(rest) = use_db(cur) {
            return lossy(rest);
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
        if seen.has(b'(') {
            step(cur, spare, collapse_lists);
        }
        if seen.any(b"uU") && seen.any(b"nN") {
            step(cur, spare, collapse_unions);
        }
        if question && seen.any(b"mM") && seen.any(b"tT") {
            step(cur, spare, collapse_limit);
        }
        if seen.any(b"yY") && seen.any(b"oO") {
            step(cur, spare, drop_order_by_asc);
        }
        // Every step cuts at ASCII bytes, so UTF-8 stays valid; lossy is a guard.
        match std::str::from_utf8(cur) {
            Ok(text) => text.to_owned(),
            Err(_) => String::from_utf8_lossy(cur).into_owned(),
        }
    })
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

fn lossy(v: Vec<u8>) -> String {
    // Every step cuts at ASCII bytes, so UTF-8 stays valid; lossy is a guard.
    String::from_utf8(v).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
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
        let mut v = i + 1;
        while v + 6 <= q.len() {
            if q[v..v + 6].eq_ignore_ascii_case(b"VALUES") {
                let mut j = v + 6;
                j += q[j..].iter().take_while(|c| is_space(**c)).count();
                if q.get(j) == Some(&b'(') {
                    // .*?\) then \s*,\s*\(: the first `)` that is followed by `, (`.
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
            }
            v += 1;
        }
    }
    None
}

/// `s#/\*[^!].*?\*/##smg`
fn strip_block_comments(q: &[u8], out: &mut Vec<u8>) -> bool {
    if finder!(b"/*").find(q).is_none() {
        return false;
    }
    let mut i = 0;
    while i < q.len() {
        if q[i] == b'/' && q.get(i + 1) == Some(&b'*') && q.get(i + 2).is_some_and(|c| *c != b'!') {
            if let Some(off) = finder!(b"*/").find(&q[i + 3..]) {
                i = i + 3 + off + 2;
                continue;
            }
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
    let mut i = 0;
    while i < q.len() {
        if word_start(q, i) && matches!(q[i], b'i' | b'v') {
            // Alternatives in Perl's order: `in`, then `values` before `value`.
            let hit = [&b"in"[..], b"values", b"value"]
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
                });
            if let Some((kw, end)) = hit {
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

/// `s/\b(select\s.*?)(?:(\sunion(?:\sall)?)\s\1)+/$1 \/*repeat$2*\//xg`
fn collapse_unions(q: &[u8], out: &mut Vec<u8>) -> bool {
    if finder!(b"union").find(q).is_none() {
        return false;
    }
    let mut i = 0;
    'scan: while i < q.len() {
        if word_start(q, i)
            && q[i..].starts_with(b"select")
            && q.get(i + 6).is_some_and(|c| is_space(*c))
        {
            // .*? lazily: try each end j (no newlines remain, so `.` is any byte).
            let body_min = i + 7;
            for j in body_min..=q.len() {
                if q[j..].len() < 7 || !is_space(q[j]) || !q[j + 1..].starts_with(b"union") {
                    continue;
                }
                let x = &q[i..j];
                let mut end = j;
                let mut last_sep: Option<(usize, usize)> = None;
                while let Some((sep_end, after)) = union_rep(q, end, x) {
                    last_sep = Some((end, sep_end));
                    end = after;
                }
                if let Some((s, e)) = last_sep {
                    out.extend_from_slice(x);
                    out.extend_from_slice(b" /*repeat");
                    out.extend_from_slice(&q[s..e]);
                    out.extend_from_slice(b"*/");
                    i = end;
                    continue 'scan;
                }
            }
        }
        out.push(q[i]);
        i += 1;
    }
    true
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
            }
            k += 1;
        }
        break;
    }
    out.extend_from_slice(&q[p..]);
    true
}
