//! MySQL / MariaDB / Aurora MySQL slow query log (log type `slowquery`),
//! one entry per event:
//!
//! ```text
//! # Time: 261125  7:52:29                      (optional; MySQL 8: 2023-05-01T09:57:34.360484Z)
//! # User@Host: web_app[web_app] @  [127.0.0.1]  Id: 274
//! # Thread_id: 6  Schema: storefront  QC_hit: No          (MariaDB)
//! # Query_time: 0.000250  Lock_time: 0.000000  Rows_sent: 0  Rows_examined: 0
//! # Rows_affected: 1  Bytes_sent: 11
//! # Full_scan: Yes  Tmp_table: Yes …                      (log_slow_verbosity)
//! # explain: id select_type table …                       (log_slow_verbosity=explain)
//! use storefront;
//! SET timestamp=1795593149;
//! SELECT …;
//! ```
//! The statement starts at the first line that is neither a `#` line, nor
//! `use …`, nor `SET timestamp|insert_id|last_insert_id…` — the rule
//! pt-query-digest uses, so fingerprints group the same way.

use std::borrow::Cow;
use std::collections::HashMap;

use super::mysql_common::{
    is_server_header, leading_time, mentions_mariadb, operation_name, TimeStyle,
};
use super::scan::{ascii_words, finder, int_value, lines_inclusive, trim_start, POW10};
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes, Key, PlainKey, Value};

pub struct MySqlSlow;

impl LogParser for MySqlSlow {
    fn name(&self) -> &'static str {
        "mysql_slow"
    }

    /// An event with two or more entries (`# Time:` / `# User@Host:` starting
    /// a new block after a `# Query_time:` line) is cut before each new block.
    fn split<'m>(&self, message: &'m str) -> Option<Vec<&'m str>> {
        // An entry starts at a `Time:` or `User@Host:` line: with fewer than
        // two of these words in the whole message there is one entry, found
        // without reading line by line (~2,000 instructions an entry,
        // callgrind). Most entries hold one `User@Host:` and no `Time:`.
        // (Finding the `#` lines with `memchr` instead cost twice this: a
        // verbose entry has ~9, two searches each.)
        let b = message.as_bytes();
        let words = finder!(b"Time:").find_iter(b).take(2).count()
            + finder!(b"User@Host:").find_iter(b).take(2).count();
        if words < 2 {
            return None;
        }
        split_entries(message)
    }

    fn parse(&self, message: &str) -> Parsed {
        let mut p = Parsed::default();
        // Room for a MariaDB entry's usual attributes: no regrowth.
        let mut f = Fields::with_capacity(24);
        let mut time_ns = None;
        let mut set_timestamp = None;
        let mut saw_header = false;
        let mut mariadb = false;
        let mut mysql = false;
        // The `explain:` rows, joined at the end (one allocation, sized):
        // inline for the usual few.
        let mut explain: smallvec::SmallVec<[&str; 4]> = smallvec::SmallVec::new();
        let mut statement_start = None;
        let mut admin_command = None;
        let mut header_only = false;

        // A server header line holds `, Version: ` or starts with `T`
        // (`Tcp port:`, `Time`): one search of the whole message, then a
        // byte per line, instead of a header test per line (~140
        // instructions a line, callgrind).
        let version = holds_version(message);
        let mut offset = 0;
        for line in lines_inclusive(message) {
            let at = offset;
            offset += line.len();
            let line = trim_line_break(line);
            if (version || line.starts_with('T')) && is_server_header(line) {
                // A file header RDS published with (or as) this event; not part of the entry.
                header_only = true;
                mariadb |= mentions_mariadb(line);
                continue;
            }
            if let Some(meta) = line.strip_prefix('#') {
                let meta = trim_start(meta);
                if let Some(t) = meta.strip_prefix("Time:") {
                    if let Some((ns, _, style)) = leading_time(t.trim_start()) {
                        time_ns = Some(ns);
                        mysql |= style == TimeStyle::Iso;
                    }
                } else if let Some(uh) = meta.strip_prefix("User@Host:") {
                    saw_header = true;
                    user_host(uh, &mut f);
                } else if let Some(rows) = meta.strip_prefix("explain:") {
                    explain.push(rows.strip_prefix(' ').unwrap_or(rows));
                } else if let Some(cmd) = meta.strip_prefix("administrator command:") {
                    admin_command = Some(Cow::Owned(format!(
                        "administrator command:{}",
                        cmd.trim_end_matches(';')
                    )));
                } else {
                    saw_header |= meta.starts_with("Query_time:");
                    mariadb |= meta.starts_with("Thread_id:");
                    key_values(meta, &mut p, &mut f);
                }
                continue;
            }
            if let Some(db) = line.strip_prefix("use ") {
                let db = db.trim_end().trim_end_matches(';').trim_matches('`');
                if !f.has(Fixed::Namespace) && !db.is_empty() {
                    f.put(Fixed::Namespace, db);
                }
                continue;
            }
            if let Some(set) = line.strip_prefix("SET ") {
                if set.starts_with("timestamp")
                    || set.starts_with("insert_id")
                    || set.starts_with("last_insert_id")
                {
                    // Nearly always right at the start: no search.
                    let pos = if set.starts_with("timestamp=") {
                        Some(0)
                    } else {
                        finder!(b"timestamp=").find(set.as_bytes())
                    };
                    if let Some(pos) = pos {
                        let digits: &str = &set[pos + 10..];
                        let n = digits.bytes().take_while(u8::is_ascii_digit).count();
                        set_timestamp = digits[..n].parse::<i64>().ok();
                    }
                    continue;
                }
            }
            statement_start = Some(at);
            break;
        }

        if !saw_header && header_only && statement_start.is_none() {
            p.attributes = f.attrs;
            p.db_system = mariadb.then_some("mariadb");
            return p;
        }
        if !saw_header {
            return Parsed::unrecognised(
                "mysql slow query log: no `# User@Host:` or `# Query_time:` line",
            );
        }
        p.timestamp_ns =
            time_ns.or_else(|| set_timestamp.and_then(|s| s.checked_mul(1_000_000_000)));
        if !explain.is_empty() {
            f.put(Fixed::Explain, explain.join("\n"));
        }
        let statement = match statement_start {
            Some(at) => {
                // A restart header after the statement belongs to no statement.
                let text = &message[at..];
                let mut end = text.len();
                if version || a_later_line_starts_with_t_header_word(text) {
                    let mut offset = 0;
                    for line in lines_inclusive(text) {
                        if offset > 0 && is_server_header(line) {
                            end = offset;
                            break;
                        }
                        offset += line.len();
                    }
                }
                Some(Cow::Borrowed(strip_terminator(&text[..end])))
            }
            None => admin_command,
        };
        if let Some(stmt) = statement.filter(|s| !s.is_empty()) {
            if let Some(op) = operation_name(&stmt) {
                f.put(Fixed::Operation, op);
            }
            match stmt {
                Cow::Borrowed(text) => f.put(Fixed::QueryText, text),
                Cow::Owned(text) => f.put(Fixed::QueryText, text),
            }
        }
        p.attributes = f.attrs;
        p.db_system = if mariadb {
            Some("mariadb")
        } else if mysql {
            Some("mysql")
        } else {
            None
        };
        p
    }
}

/// Whether `text` holds `, Version: `, which a server header line that
/// does not start with `T` holds (see [`is_server_header`]).
fn holds_version(text: &str) -> bool {
    finder!(b", Version: ").find(text.as_bytes()).is_some()
}

/// Whether a line after the first of `text` starts with `Tcp port:` or
/// `Time`, as a server header without `, Version: ` does. The line breaks
/// are found with `memchr` (a statement has a few): one search for `\nT`
/// cost ~300 instructions an entry (callgrind).
fn a_later_line_starts_with_t_header_word(text: &str) -> bool {
    let b = text.as_bytes();
    memchr::memchr_iter(b'\n', b).any(|nl| {
        let line = &b[nl + 1..];
        line.starts_with(b"Tcp port:") || line.starts_with(b"Time")
    })
}

/// [`LogParser::split`] without the word count: the entries of `message`
/// when it holds two or more, by reading each line.
fn split_entries(message: &str) -> Option<Vec<&str>> {
    let starts = entry_starts(message);
    if starts.len() < 2 {
        return None;
    }
    let mut parts = Vec::with_capacity(starts.len());
    for (k, &at) in starts.iter().enumerate() {
        let end = starts.get(k + 1).copied().unwrap_or(message.len());
        let part = &message[at..end];
        parts.push(part.strip_suffix('\n').unwrap_or(part));
    }
    // Whatever came before the first block (a restart header) goes
    // with it, as it does when the event holds one entry.
    parts[0] = &message[..parts[0].len() + starts[0]];
    Some(parts)
}

/// Where each entry of `message` starts: a `# Time:` line, or a
/// `# User@Host:` line not right after one, once the entry before has had its
/// `# Query_time:` line. The first entry starts at 0 or its first header.
fn entry_starts(message: &str) -> Vec<usize> {
    let mut starts = Vec::new();
    let mut seen_query_time = false;
    let mut prev_was_time = false;
    let mut offset = 0;
    for line in lines_inclusive(message) {
        let at = offset;
        offset += line.len();
        let meta = line.strip_prefix('#').map(str::trim_start);
        let is_time = meta.is_some_and(|m| m.starts_with("Time:"));
        let is_user = meta.is_some_and(|m| m.starts_with("User@Host:"));
        if (is_time || (is_user && !prev_was_time)) && (starts.is_empty() || seen_query_time) {
            starts.push(at);
            seen_query_time = false;
        }
        seen_query_time |= meta.is_some_and(|m| m.starts_with("Query_time:"));
        prev_was_time = is_time;
    }
    if starts.is_empty() {
        starts.push(0);
    }
    starts
}

/// The statement without trailing space and its final `;` (pt does the same).
fn strip_terminator(s: &str) -> &str {
    let s = s.trim_end();
    s.strip_suffix(';').unwrap_or(s)
}

/// ` web_app[web_app] @  [127.0.0.1]  Id:   274` / ` root[root] @ localhost []`
fn user_host(s: &str, f: &mut Fields) {
    let (who, rest) = match spaced_at(s) {
        Some(at) => (&s[..at], &s[at + 3..]),
        None => (s, ""),
    };
    // Brackets found byte by byte (they are ASCII, and near): a char
    // searcher per `find`/`split` cost ~100 instructions each (callgrind).
    let who = who.trim();
    let user = who[..byte_at(who, b'[').unwrap_or(who.len())].trim();
    if !user.is_empty() {
        f.put(Fixed::User, user);
    }
    let rest = rest.trim_start();
    let (host, after_host) = match byte_at(rest, b'[') {
        Some(open) => (rest[..open].trim(), &rest[open..]),
        None => (rest.split_whitespace().next().unwrap_or(""), ""),
    };
    let ip = after_host
        .strip_prefix('[')
        .and_then(|r| Some(r[..byte_at(r, b']')?].trim()))
        .unwrap_or("");
    if !host.is_empty() {
        f.put(Fixed::ClientHost, host);
    }
    let address = if ip.is_empty() { host } else { ip };
    if !address.is_empty() {
        f.put(Fixed::Address, address);
    }
    if let Some(id) =
        find_in_short(after_host, b"Id:").and_then(|at| int_value(after_host[at + 3..].trim()))
    {
        f.put(Fixed::ThreadId, id);
    }
}

/// Where the first ` @ ` of `s` is, found from its `@`: a `memmem` search
/// (set up per call) cost ~150 instructions a `User@Host:` line (callgrind).
fn spaced_at(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    memchr::memchr_iter(b'@', b)
        .find(|&at| at > 0 && b[at - 1] == b' ' && b.get(at + 1) == Some(&b' '))
        .map(|at| at - 1)
}

/// `s.find(needle)` by a plain loop, for the few bytes after a
/// `User@Host:` line's address, where a search's set-up costs more.
fn find_in_short(s: &str, needle: &[u8]) -> Option<usize> {
    s.as_bytes().windows(needle.len()).position(|w| w == needle)
}

/// `line.trim_end_matches(['\n', '\r'])` by bytes: the char-array pattern
/// cost ~40 instructions a line (callgrind).
fn trim_line_break(line: &str) -> &str {
    let b = line.as_bytes();
    let kept = b.len()
        - b.iter()
            .rev()
            .take_while(|c| matches!(c, b'\n' | b'\r'))
            .count();
    &line[..kept]
}

/// Where `byte` (ASCII) first is in `s`: a plain loop, for the short texts
/// of a header line, where `memchr`'s set-up costs more than the scan.
fn byte_at(s: &str, byte: u8) -> Option<usize> {
    s.bytes().position(|c| c == byte)
}

/// `Key: value  Key: value` pairs of a `#` line; a key may have no value
/// (`Schema:   QC_hit: No`).
fn key_values(s: &str, p: &mut Parsed, f: &mut Fields) {
    match ascii_words(s) {
        Some(words) => pairs(words, p, f),
        None => pairs(s.split_whitespace(), p, f),
    }
}

/// The `Key: value` pairs among `tokens` (see [`key_values`]).
fn pairs<'a>(mut tokens: impl Iterator<Item = &'a str>, p: &mut Parsed, f: &mut Fields) {
    // One token of look-ahead, by hand: `Peekable` cost ~240 instructions
    // an entry more (callgrind).
    let mut next = tokens.next();
    while let Some(token) = next {
        next = tokens.next();
        let Some(key) = token.strip_suffix(':') else {
            continue;
        };
        // A token ending in `:` is the next key, not this one's value.
        let value = match next {
            Some(v) if !v.ends_with(':') => {
                next = tokens.next();
                v
            }
            _ => continue,
        };
        let seconds_ms = || seconds_to_ms(value);
        let int = || int_value(value);
        let known = known_key(key);
        match known {
            KnownKey::QueryTime | KnownKey::LockTime if overflowed(value) => {
                // A negative time MySQL wrote as an unsigned µs count
                // (2^64 µs ≈ 18446744073709 s): not a duration.
                let reason = format!(
                    "mysql slow query log: {key} {value} s is an overflowed (negative) time, \
                     a known MySQL bug; left out"
                );
                // Once per key: a line repeating the pair would otherwise
                // copy the growing error once per repeat (quadratic).
                let said = format!("log: {key} ");
                p.error = Some(match p.error.take() {
                    Some(before) if before.contains(&said) => before,
                    Some(before) => format!("{before}; {reason}"),
                    None => reason,
                });
            }
            KnownKey::QueryTime => {
                if let Some(ms) = seconds_ms() {
                    f.put(Fixed::Duration, ms);
                }
            }
            KnownKey::LockTime => {
                if let Some(ms) = seconds_ms() {
                    f.put(Fixed::LockTime, ms);
                }
            }
            KnownKey::Int(field) => f.put_int(field, int()),
            KnownKey::Schema => f.put(Fixed::Namespace, value),
            KnownKey::QcHit => f.put(Fixed::QcHit, value.eq_ignore_ascii_case("yes")),
            KnownKey::Other => {
                let other = key;
                // Yes/No before the number parse (the match's order), which
                // it would only fail.
                let v: Value = match value {
                    "Yes" => true.into(),
                    "No" => false.into(),
                    _ => match int() {
                        Some(n) => n.into(),
                        None => match value.parse::<f64>() {
                            Ok(f) if f.is_finite() => f.into(),
                            _ => value.into(),
                        },
                    },
                };
                // The first byte before the text: many words share a length.
                let named = |word: &str| {
                    word.len() == other.len()
                        && word.as_bytes().first() == other.as_bytes().first()
                        && word == other
                };
                match EXTRA_KEYS.iter().position(|(word, _)| named(word)) {
                    Some(i) => f.put_extra(i, v),
                    None => f.put_text(extra_key(other), v),
                }
            }
        }
    }
}

/// What a `#` line key names (see [`known_key`]).
#[derive(Debug, Clone, Copy, PartialEq)]
enum KnownKey {
    QueryTime,
    LockTime,
    /// A count: `Rows_sent`, `Rows_examined`, `Rows_affected`,
    /// `Bytes_sent`, `Thread_id` or `Id`.
    Int(Fixed),
    Schema,
    QcHit,
    /// Any other word (an [`EXTRA_KEYS`] one or not).
    Other,
}

/// The key a `#` line word names, by its length, then one compare of a
/// fixed-size array (inlined loads): a `match` on the text compared the
/// words in turn through `memcmp` calls (~200 instructions an entry more,
/// callgrind).
fn known_key(key: &str) -> KnownKey {
    let k = key.as_bytes();
    match k.len() {
        2 if is(k, b"Id") => KnownKey::Int(Fixed::ThreadId),
        6 if is(k, b"Schema") => KnownKey::Schema,
        6 if is(k, b"QC_hit") => KnownKey::QcHit,
        9 if is(k, b"Lock_time") => KnownKey::LockTime,
        9 if is(k, b"Rows_sent") => KnownKey::Int(Fixed::RowsSent),
        9 if is(k, b"Thread_id") => KnownKey::Int(Fixed::ThreadId),
        10 if is(k, b"Query_time") => KnownKey::QueryTime,
        10 if is(k, b"Bytes_sent") => KnownKey::Int(Fixed::BytesSent),
        13 if is(k, b"Rows_examined") => KnownKey::Int(Fixed::RowsExamined),
        13 if is(k, b"Rows_affected") => KnownKey::Int(Fixed::RowsAffected),
        _ => KnownKey::Other,
    }
}

/// Whether `k` is `word`, compared as arrays of its known size.
fn is<const N: usize>(k: &[u8], word: &[u8; N]) -> bool {
    <&[u8; N]>::try_from(k).is_ok_and(|k| k == word)
}

/// `mysql.slow.<word in lower case>`: the key of a `#` line word with no
/// key of its own.
fn extra_key(word: &str) -> String {
    let prefix = keys::MYSQL_SLOW_EXTRA_PREFIX;
    let mut name = String::with_capacity(prefix.len() + word.len());
    name.push_str(prefix);
    name.push_str(word);
    name[prefix.len()..].make_ascii_lowercase();
    name
}

/// [`extra_key`] of the words MariaDB's `log_slow_verbosity` and MySQL's
/// `log_slow_extra` write, spelt out: a heap string per word was ~4 of a
/// verbose entry's allocations (callgrind). MariaDB's first, most used
/// first. A test checks each against `extra_key`.
const EXTRA_KEYS: [(&str, &str); 33] = [
    ("Full_scan", "mysql.slow.full_scan"),
    ("Full_join", "mysql.slow.full_join"),
    ("Tmp_table", "mysql.slow.tmp_table"),
    ("Tmp_table_on_disk", "mysql.slow.tmp_table_on_disk"),
    ("Filesort", "mysql.slow.filesort"),
    ("Filesort_on_disk", "mysql.slow.filesort_on_disk"),
    ("Merge_passes", "mysql.slow.merge_passes"),
    ("Priority_queue", "mysql.slow.priority_queue"),
    ("Tmp_tables", "mysql.slow.tmp_tables"),
    ("Tmp_disk_tables", "mysql.slow.tmp_disk_tables"),
    ("Tmp_table_sizes", "mysql.slow.tmp_table_sizes"),
    ("Pages_accessed", "mysql.slow.pages_accessed"),
    ("Pages_read", "mysql.slow.pages_read"),
    ("Pages_prefetched", "mysql.slow.pages_prefetched"),
    ("Pages_updated", "mysql.slow.pages_updated"),
    ("Old_rows_read", "mysql.slow.old_rows_read"),
    ("Pages_read_time", "mysql.slow.pages_read_time"),
    ("Engine_time", "mysql.slow.engine_time"),
    ("Errno", "mysql.slow.errno"),
    ("Killed", "mysql.slow.killed"),
    ("Bytes_received", "mysql.slow.bytes_received"),
    ("Read_first", "mysql.slow.read_first"),
    ("Read_last", "mysql.slow.read_last"),
    ("Read_key", "mysql.slow.read_key"),
    ("Read_next", "mysql.slow.read_next"),
    ("Read_prev", "mysql.slow.read_prev"),
    ("Read_rnd", "mysql.slow.read_rnd"),
    ("Read_rnd_next", "mysql.slow.read_rnd_next"),
    ("Sort_merge_passes", "mysql.slow.sort_merge_passes"),
    ("Sort_rows", "mysql.slow.sort_rows"),
    (
        "Created_tmp_disk_tables",
        "mysql.slow.created_tmp_disk_tables",
    ),
    ("Created_tmp_tables", "mysql.slow.created_tmp_tables"),
    ("Start", "mysql.slow.start"),
];

/// A slow-log time of 2^63 µs (≈ 9223372036854 s, 292,000 years) or more:
/// a negative difference of two clock readings printed as unsigned.
fn overflowed(seconds: &str) -> bool {
    // Thirteen integer digits at least: a usual `0.000250` is ruled out by
    // its length alone (the rest cost ~100 instructions a value, callgrind).
    if seconds.len() < 13 {
        return false;
    }
    let int = &seconds[..memchr::memchr(b'.', seconds.as_bytes()).unwrap_or(seconds.len())];
    if int.is_empty() || !int.bytes().all(|c| c.is_ascii_digit()) {
        return false;
    }
    let int = int.trim_start_matches('0');
    int.len() > 13 || (int.len() == 13 && int >= "9223372036854")
}

/// `0.024640` (seconds) → 24.64 (ms), shifting the decimal point in the
/// text so the result has no binary rounding noise (24.639999…).
fn seconds_to_ms(value: &str) -> Option<f64> {
    // One pass: the digits before and after the point as one integer, and
    // how many there are of each (a second point or any other byte: none).
    let b = value.as_bytes();
    let (mut digits, mut int_len, mut frac_len, mut point) = (0u64, 0usize, 0usize, false);
    for &c in b {
        match c {
            b'0'..=b'9' => {
                // Wraps only past 19 digits, where the fast path below is
                // not taken.
                digits = digits.wrapping_mul(10).wrapping_add(u64::from(c - b'0'));
                if point {
                    frac_len += 1;
                } else {
                    int_len += 1;
                }
            }
            b'.' if !point => point = true,
            _ => return None,
        }
    }
    if int_len == 0 {
        return None;
    }
    // The value of the text `int`, three digits of `frac` (zero-padded), `.`,
    // `tail` (the rest of `frac`, or `0`). Up to 15 digits it is computed
    // here as `leading_f64` reads that text (one exact integer over an exact
    // power of ten, which is what `parse` gives: its proptest), without
    // building the text: that was most of this function's ~600
    // instructions a value (callgrind); one loop instead of three over
    // split text saved ~120 more.
    let tail_len = frac_len.saturating_sub(3).max(1);
    if int_len + 3 + tail_len <= 15 {
        // With four or more `frac` digits the digits read are the shifted
        // text's; with fewer, the padding zeros and the `0` tail follow.
        let mantissa = if frac_len >= 4 {
            digits
        } else {
            digits * 10u64.pow(4 - frac_len as u32)
        };
        return Some(mantissa as f64 / POW10[tail_len]);
    }
    let int = &value[..int_len];
    let frac = value.get(int_len + 1..).unwrap_or("");
    let tail = frac.get(3..).filter(|t| !t.is_empty()).unwrap_or("0");
    let mut text = String::with_capacity(int.len() + 4 + tail.len());
    text.push_str(int);
    for k in 0..3 {
        text.push(char::from(frac.as_bytes().get(k).copied().unwrap_or(b'0')));
    }
    text.push('.');
    text.push_str(tail);
    text.parse().ok()
}

/// The keys of this parser with a fixed text, each with its bit in
/// [`Fields`] (the [`EXTRA_KEYS`] take the bits after these).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fixed {
    User,
    ClientHost,
    Address,
    ThreadId,
    Duration,
    LockTime,
    RowsSent,
    RowsExamined,
    RowsAffected,
    BytesSent,
    Namespace,
    QcHit,
    Explain,
    Operation,
    QueryText,
}

impl Fixed {
    fn key(self) -> PlainKey {
        match self {
            Fixed::User => keys::USER_NAME,
            Fixed::ClientHost => keys::MYSQL_CLIENT_HOST,
            Fixed::Address => keys::CLIENT_ADDRESS,
            Fixed::ThreadId => keys::MYSQL_THREAD_ID,
            Fixed::Duration => keys::DB_QUERY_DURATION_MS,
            Fixed::LockTime => keys::MYSQL_LOCK_TIME_MS,
            Fixed::RowsSent => keys::MYSQL_ROWS_SENT,
            Fixed::RowsExamined => keys::MYSQL_ROWS_EXAMINED,
            Fixed::RowsAffected => keys::MYSQL_ROWS_AFFECTED,
            Fixed::BytesSent => keys::MYSQL_BYTES_SENT,
            Fixed::Namespace => keys::DB_NAMESPACE,
            Fixed::QcHit => keys::MYSQL_QC_HIT,
            Fixed::Explain => keys::MYSQL_EXPLAIN,
            Fixed::Operation => keys::DB_OPERATION_NAME,
            Fixed::QueryText => keys::DB_QUERY_TEXT,
        }
    }
}

/// Bits for [`Fixed`], then one per [`EXTRA_KEYS`] entry.
const EXTRA_BIT: usize = Fixed::QueryText as usize + 1;
const _: () = assert!(EXTRA_BIT + EXTRA_KEYS.len() <= 64);

/// An entry's attributes being built, with a bit for each fixed key already
/// written: a key's first write is pushed without the scan of every key so
/// far that [`Attributes::insert`] makes (~120 instructions a key, ~14 keys
/// an entry: callgrind); a repeated one (a line given twice) still replaces
/// the value in place. Once a key built from the text is in (an unknown `#`
/// line word, which may spell a fixed key's text), every key is found
/// through an index of the keys by text: a scan per word made an entry of
/// n unknown words cost n² compares (16,000 words: 0.5 s; a 256 KB message
/// holds 36,000).
struct Fields {
    attrs: Attributes,
    written: u64,
    /// Each key's position, by its text: built when the first key from the
    /// text comes in.
    index: Option<HashMap<String, usize>>,
}

impl Fields {
    fn with_capacity(n: usize) -> Self {
        Fields {
            attrs: Attributes::with_capacity(n),
            written: 0,
            index: None,
        }
    }

    fn has(&self, f: Fixed) -> bool {
        match &self.index {
            Some(index) => index.contains_key(f.key().as_str()),
            None => self.written & (1 << f as usize) != 0,
        }
    }

    fn put(&mut self, f: Fixed, v: impl Into<Value>) {
        self.put_bit(f as usize, f.key(), v);
    }

    fn put_int(&mut self, f: Fixed, v: Option<i64>) {
        if let Some(v) = v {
            self.put(f, v);
        }
    }

    /// [`EXTRA_KEYS`]`[i]`'s key.
    fn put_extra(&mut self, i: usize, v: Value) {
        self.put_bit(EXTRA_BIT + i, EXTRA_KEYS[i].1, v);
    }

    fn put_bit(&mut self, bit: usize, key: impl Into<Key>, v: impl Into<Value>) {
        let bit = 1u64 << bit;
        if self.index.is_some() {
            self.put_indexed(key.into(), v.into());
        } else if self.written & bit != 0 {
            // Fixed keys only so far: a short scan.
            self.attrs.insert(key, v);
        } else {
            self.written |= bit;
            self.attrs.push_new(key, v);
        }
    }

    fn put_text(&mut self, key: String, v: Value) {
        self.put_indexed(key.into(), v);
    }

    /// Sets `key` as [`Attributes::insert`] would, found through the index.
    fn put_indexed(&mut self, key: Key, v: Value) {
        let Fields { attrs, index, .. } = self;
        let index = index.get_or_insert_with(|| {
            attrs
                .iter()
                .enumerate()
                .map(|(i, (k, _))| (k.to_owned(), i))
                .collect()
        });
        match index.get(key.as_str()) {
            Some(&i) => attrs.0[i].1 = v,
            None => {
                index.insert(key.as_str().to_owned(), attrs.len());
                attrs.0.push((key, v));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    /// `split` as it was: every line read for the entry starts (no word
    /// count first).
    fn split_by_every_line(message: &str) -> Option<Vec<&str>> {
        split_entries(message)
    }

    /// `user_host` as it was: `str` searches for ` @ ` and `Id:`, `parse`.
    fn user_host_by_str_searches(s: &str, f: &mut Fields) {
        let (who, rest) = s.split_once(" @ ").unwrap_or((s, ""));
        let who = who.trim();
        let user = who[..who.find('[').unwrap_or(who.len())].trim();
        if !user.is_empty() {
            f.put(Fixed::User, user);
        }
        let rest = rest.trim_start();
        let (host, after_host) = match rest.find('[') {
            Some(open) => (rest[..open].trim(), &rest[open..]),
            None => (rest.split_whitespace().next().unwrap_or(""), ""),
        };
        let ip = after_host
            .strip_prefix('[')
            .and_then(|r| Some(r[..r.find(']')?].trim()))
            .unwrap_or("");
        if !host.is_empty() {
            f.put(Fixed::ClientHost, host);
        }
        let address = if ip.is_empty() { host } else { ip };
        if !address.is_empty() {
            f.put(Fixed::Address, address);
        }
        if let Some(id) = after_host
            .split_once("Id:")
            .and_then(|(_, id)| id.trim().parse::<i64>().ok())
        {
            f.put(Fixed::ThreadId, id);
        }
    }

    proptest::proptest! {
        /// The `@`-led and short searches read a `User@Host:` line as the
        /// `str` searches did.
        #[test]
        fn user_host_equals_the_str_searches(
            s in "[a@ \\[\\]I:d0-9é]{0,24}|[a ]{0,3}(\\[a?\\])?[ ]{0,2}@?[ ]{0,2}[a.1]{0,3}[ ]{0,2}(\\[[1. ]{0,4}\\]?)?[ ]{0,2}(Id: ?[+0-9]{0,3})?é?"
        ) {
            let (mut new, mut old) = (Fields::with_capacity(4), Fields::with_capacity(4));
            user_host(&s, &mut new);
            user_host_by_str_searches(&s, &mut old);
            proptest::prop_assert_eq!(new.attrs, old.attrs);
        }
    }

    /// The `match` on the key's text that [`known_key`] replaced.
    fn known_key_by_match(key: &str) -> KnownKey {
        match key {
            "Query_time" => KnownKey::QueryTime,
            "Lock_time" => KnownKey::LockTime,
            "Rows_sent" => KnownKey::Int(Fixed::RowsSent),
            "Rows_examined" => KnownKey::Int(Fixed::RowsExamined),
            "Rows_affected" => KnownKey::Int(Fixed::RowsAffected),
            "Bytes_sent" => KnownKey::Int(Fixed::BytesSent),
            "Thread_id" | "Id" => KnownKey::Int(Fixed::ThreadId),
            "Schema" => KnownKey::Schema,
            "QC_hit" => KnownKey::QcHit,
            _ => KnownKey::Other,
        }
    }

    proptest::proptest! {
        /// Every key, and words one edit away from one, name what the text
        /// match named.
        #[test]
        fn known_key_equals_the_text_match(
            key in proptest::sample::select(vec![
                "Query_time", "Lock_time", "Rows_sent", "Rows_examined", "Rows_affected",
                "Bytes_sent", "Thread_id", "Id", "Schema", "QC_hit", "Full_scan", "",
            ]),
            edit in 0usize..4,
            at in 0usize..14,
            byte in proptest::sample::select(vec![b'a', b'_', b'Q', b'd', b'e']),
        ) {
            let mut k = key.as_bytes().to_vec();
            let at = at.min(k.len());
            match edit {
                0 => {}
                1 => k.insert(at, byte),
                2 if at < k.len() => { k.remove(at); }
                _ if at < k.len() => k[at] = byte,
                _ => {}
            }
            let k = String::from_utf8(k).expect("ASCII edits");
            proptest::prop_assert_eq!(known_key(&k), known_key_by_match(&k));
        }
    }

    /// `seconds_to_ms` as it was, building the shifted text in a `String`.
    fn seconds_to_ms_via_string(value: &str) -> Option<f64> {
        let (int, frac) = value.split_once('.').unwrap_or((value, ""));
        if int.is_empty()
            || !int.bytes().all(|c| c.is_ascii_digit())
            || !frac.bytes().all(|c| c.is_ascii_digit())
        {
            return None;
        }
        let tail = frac.get(3..).unwrap_or("");
        let mut text = String::from(int);
        for k in 0..3 {
            text.push(frac.as_bytes().get(k).map_or('0', |c| *c as char));
        }
        text.push('.');
        text.push_str(if tail.is_empty() { "0" } else { tail });
        text.parse().ok()
    }

    /// `Fields` pushes a key's first write unscanned: a key written again
    /// (a repeated line, `Id:` after `Thread_id:`, a word whose built key is
    /// a spelt-out one, either way round) must still appear once, where it
    /// was first written, with the last value — what `insert` gives.
    #[test]
    fn repeated_keys_are_replaced_in_place_not_pushed_twice() {
        let p = MySqlSlow.parse(
            "# User@Host: a[a] @ h [1.2.3.4]  Id: 7\n\
             # Thread_id: 8  Schema: s1  QC_hit: No\n\
             # Query_time: 1  Lock_time: 0  Full_scan: Yes  FULL_JOIN: No\n\
             # Query_time: 2  FULL_SCAN: No  Full_join: Yes  Schema: s2\n\
             use other;\nSELECT 1;",
        );
        assert!(p.attributes.has_distinct_keys(), "{:?}", p.attributes);
        let mut want = Attributes::new();
        for (k, v) in [
            (keys::USER_NAME.as_str(), Value::from("a")),
            (keys::MYSQL_CLIENT_HOST.as_str(), "h".into()),
            (keys::CLIENT_ADDRESS.as_str(), "1.2.3.4".into()),
            (keys::MYSQL_THREAD_ID.as_str(), 8i64.into()),
            (keys::DB_NAMESPACE.as_str(), "s2".into()),
            (keys::MYSQL_QC_HIT.as_str(), false.into()),
            (keys::DB_QUERY_DURATION_MS.as_str(), 2000.0.into()),
            (keys::MYSQL_LOCK_TIME_MS.as_str(), 0.0.into()),
            ("mysql.slow.full_scan", false.into()),
            ("mysql.slow.full_join", true.into()),
            (keys::DB_OPERATION_NAME.as_str(), "SELECT".into()),
            (keys::DB_QUERY_TEXT.as_str(), "SELECT 1".into()),
        ] {
            want.insert(k, v);
        }
        let got: Vec<(&str, &Value)> = p.attributes.iter().collect();
        let want: Vec<(&str, &Value)> = want.iter().collect();
        assert_eq!(got, want);
    }

    proptest::proptest! {
        #[test]
        fn trim_line_break_equals_trim_end_matches(line in "[a\r\n é]{0,12}") {
            proptest::prop_assert_eq!(trim_line_break(&line), line.trim_end_matches(['\n', '\r']));
        }

    }

    /// The spelt-out keys are what `extra_key` builds, and name distinct words.
    #[test]
    fn spelt_out_extra_keys_are_the_built_ones() {
        for (i, (word, key)) in EXTRA_KEYS.iter().enumerate() {
            assert_eq!(*key, extra_key(word), "{word}");
            assert!(!EXTRA_KEYS[..i].iter().any(|(w, _)| w == word), "{word}");
        }
        // A word not in the table still gets its key.
        let p = MySqlSlow.parse(
            "# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0  Some_New_Word: x\nSELECT 1;",
        );
        assert_eq!(p.attributes.get_str("mysql.slow.some_new_word"), Some("x"));
        assert_eq!(p.attributes.get("mysql.slow.full_scan"), None);
    }

    proptest::proptest! {
        /// The premises of skipping the per-line header test: a server
        /// header line starts with `T` or the message holds `, Version: `;
        /// and a server header line after the first one of a text is seen by
        /// the text's test. Messages are made of header-like and other lines.
        #[test]
        fn a_server_header_line_is_never_missed_by_the_message_search(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (Source distribution). started with:",
                "x, Version: 1 embedded library",
                "x, Version: 1",
                "Tcp port: 3306  Unix socket: /tmp/mysql.sock",
                "Tcp port:",
                "Time                 Id Command    Argument",
                "Time Id Command Argument\r",
                "Time",
                "# Time: 261125  7:52:29",
                "# Query_time: 1  Lock_time: 0",
                "SELECT 1;",
                "",
                " Time Id Command Argument",
            ]), 0..6)
        ) {
            let message = lines.join("\n");
            for (k, line) in lines_inclusive(&message).enumerate() {
                let line = line.trim_end_matches(['\n', '\r']);
                if is_server_header(line) {
                    proptest::prop_assert!(holds_version(&message) || line.starts_with('T'));
                    if k > 0 {
                        proptest::prop_assert!(
                            holds_version(&message)
                                || a_later_line_starts_with_t_header_word(&message)
                        );
                    }
                }
            }
        }


        /// The word count only skips messages the line reading would not
        /// cut: `split` gives what reading every line gives.
        #[test]
        fn split_by_word_count_equals_reading_every_line(
            lines in proptest::collection::vec(proptest::sample::select(vec![
                "# Time: 261125  7:52:29",
                "# User@Host: a[a] @  [1.2.3.4]",
                "#User@Host: b[b] @ h []",
                "#\u{a0}User@Host: b[b] @ h []",
                "#\tTime: 1",
                "# Query_time: 1.0  Lock_time: 0",
                "#  Query_time: 2",
                "#Query_time:3\r",
                "#",
                "#\r",
                " # Time: 2",
                "SELECT 'Time: User@Host:' # User@Host: x",
                "SELECT '#' # Time: 1",
                "/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (Source distribution). started with:",
                "SELECT 1;",
                "",
            ]), 0..8)
        ) {
            let message = lines.join("\n");
            proptest::prop_assert_eq!(MySqlSlow.split(&message), split_by_every_line(&message));
        }

        /// The value computed from the digits is the one the shifted text
        /// reads as, bit for bit, short values and long ones (`parse`) alike.
        #[test]
        fn seconds_to_ms_equals_the_string_version(
            value in "[0-9]{0,30}(\\.[0-9]{0,40})?|[0-9]{0,12}\\.?\\.?[0-9]{0,6}|[0-9.a ]{0,6}"
        ) {
            proptest::prop_assert_eq!(
                seconds_to_ms(&value).map(f64::to_bits),
                seconds_to_ms_via_string(&value).map(f64::to_bits)
            );
        }
    }

    #[test]
    fn mariadb_entry_with_explain() {
        let e = "# Time: 261125  7:52:49\n# User@Host: web_app[web_app] @  [127.0.0.1]\n# Thread_id: 4  Schema: storefront  QC_hit: No\n# Query_time: 0.024640  Lock_time: 0.000031  Rows_sent: 8  Rows_examined: 20016\n# Rows_affected: 0  Bytes_sent: 362\n# Full_scan: Yes  Full_join: No  Tmp_table_sizes: 2097120\n#\n# explain: id\tselect_type\n# explain: 1\tSIMPLE\n#\nuse `storefront`;\nSET timestamp=1795593169;\nSELECT category\n  FROM catalog_items\n WHERE price BETWEEN 88 AND 111;";
        let p = MySqlSlow.parse(e);
        assert_eq!(p.error, None);
        let a = &p.attributes;
        assert_eq!(
            a.get(keys::DB_QUERY_DURATION_MS),
            Some(&Value::Double(24.64))
        );
        assert_eq!(a.get(keys::MYSQL_LOCK_TIME_MS), Some(&Value::Double(0.031)));
        assert_eq!(a.get(keys::MYSQL_ROWS_SENT), Some(&Value::Int(8)));
        assert_eq!(a.get(keys::MYSQL_ROWS_EXAMINED), Some(&Value::Int(20016)));
        assert_eq!(a.get(keys::MYSQL_THREAD_ID), Some(&Value::Int(4)));
        assert_eq!(a.get_str(keys::DB_NAMESPACE), Some("storefront"));
        assert_eq!(a.get(keys::MYSQL_QC_HIT), Some(&Value::Bool(false)));
        assert_eq!(a.get_str(keys::CLIENT_ADDRESS), Some("127.0.0.1"));
        assert_eq!(a.get_str(keys::USER_NAME), Some("web_app"));
        assert_eq!(a.get("mysql.slow.full_scan"), Some(&Value::Bool(true)));
        assert_eq!(
            a.get_str(keys::MYSQL_EXPLAIN),
            Some("id\tselect_type\n1\tSIMPLE")
        );
        assert_eq!(
            a.get_str(keys::DB_QUERY_TEXT),
            Some("SELECT category\n  FROM catalog_items\n WHERE price BETWEEN 88 AND 111")
        );
        assert_eq!(a.get_str(keys::DB_OPERATION_NAME), Some("SELECT"));
        assert_eq!(p.timestamp_ns, time::utc_ns(2026, 11, 25, 7, 52, 49, 0));
        assert_eq!(p.db_system, Some("mariadb"));
    }

    #[test]
    fn an_event_with_several_entries_is_split_before_each() {
        let one = "# Time: 261125  7:52:29\n# User@Host: a[a] @  [1.2.3.4]\n# Query_time: 1.0  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\nSELECT 1;";
        assert_eq!(MySqlSlow.split(one), None);
        // `# Time:` then `# User@Host:` is one entry; a statement holding
        // `#` lines stays whole.
        assert_eq!(MySqlSlow.split("# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0\nSELECT 1\n# not a header\n;"), None);
        let hdr =
            "/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (Source distribution). started with:\n";
        let second = "# User@Host: b[b] @  [1.2.3.5]\n# Query_time: 2.0  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\nSELECT 2;";
        let third = "# Time: 261125  7:52:31\n# User@Host: c[c] @  [1.2.3.6]\n# Query_time: 3.0  Lock_time: 0\nSELECT 3;\n";
        let event = format!("{hdr}{one}\n{second}\n{third}");
        let parts = MySqlSlow.split(&event).unwrap();
        assert_eq!(
            parts,
            [format!("{hdr}{one}").as_str(), second, third.trim_end()]
        );
        let ms: Vec<_> = parts
            .iter()
            .map(|p| {
                MySqlSlow
                    .parse(p)
                    .attributes
                    .get(keys::DB_QUERY_DURATION_MS)
                    .cloned()
            })
            .collect();
        assert_eq!(ms, [1000.0, 2000.0, 3000.0].map(|v| Some(Value::Double(v))));
        // Linear and panic-free on odd input.
        for odd in [
            "",
            "#",
            "# Time:",
            "# Query_time:\n# Time:\n",
            "é\n# User@Host:",
        ] {
            let _ = MySqlSlow.split(odd);
        }
    }

    #[test]
    fn overflowed_times_are_marked_not_durations() {
        let p = MySqlSlow.parse("# User@Host: a[a] @ h []\n# Query_time: 18446744073708.796870  Lock_time: 18446744073709.551615 Rows_sent: 0  Rows_examined: 0\nSELECT 1;");
        assert_eq!(p.attributes.get(keys::DB_QUERY_DURATION_MS), None);
        assert_eq!(p.attributes.get(keys::MYSQL_LOCK_TIME_MS), None);
        let err = p.error.unwrap();
        assert!(
            err.contains("Query_time 18446744073708.796870") && err.contains("Lock_time"),
            "{err}"
        );
        assert_eq!(p.attributes.get_str(keys::DB_QUERY_TEXT), Some("SELECT 1"));
        assert!(overflowed("9223372036854.775808"));
        assert!(!overflowed("9223372036853.0"));
        assert!(!overflowed("00000000000001.5"));
        assert!(!overflowed("86400.000000"));
    }

    #[test]
    fn documented_entries() {
        let e = "# User@Host: admin[admin] @  [172.31.74.90]  Id:   274\n# Query_time: 0.000193  Lock_time: 0.000093 Rows_sent: 1  Rows_examined: 1\nuse db;\nSET timestamp=1611338681;\nselect * from colors where id = 1;";
        let p = MySqlSlow.parse(e);
        assert_eq!(p.timestamp_ns, Some(1_611_338_681_000_000_000));
        assert_eq!(
            p.attributes.get(keys::MYSQL_THREAD_ID),
            Some(&Value::Int(274))
        );
        assert_eq!(p.attributes.get_str(keys::DB_NAMESPACE), Some("db"));
        let e = "# Time: 2023-05-01T09:57:34.360484Z\n# User@Host: root[root] @ localhost []  Id:     8\n# Query_time: 2.000307  Lock_time: 0.000000 Rows_sent: 1  Rows_examined: 0\nSET timestamp=1682935052;\nselect sleep(2);";
        let p = MySqlSlow.parse(e);
        assert_eq!(
            p.timestamp_ns,
            time::utc_ns(2023, 5, 1, 9, 57, 34, 360_484_000)
        );
        assert_eq!(
            p.attributes.get_str(keys::CLIENT_ADDRESS),
            Some("localhost")
        );
        assert_eq!(p.db_system, Some("mysql"));
        let p = MySqlSlow.parse("# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\n# administrator command: Quit;");
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("administrator command: Quit")
        );
        assert!(MySqlSlow.parse("select 1;").error.is_some());
        let p = MySqlSlow.parse("/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\nTcp port: 53306  Unix socket: /x.sock\nTime\t\t    Id Command\tArgument");
        assert_eq!(p.error, None);
        assert_eq!(p.db_system, Some("mariadb"));
        let p = MySqlSlow.parse("# User@Host: a[a] @ h []\n# Query_time: 1  Lock_time: 0 Rows_sent: 0  Rows_examined: 0\nSET timestamp=1;\nSELECT SLEEP(20);\n/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (Source distribution). started with:\nTcp port: 3306  Unix socket: /tmp/mysql.sock\nTime                 Id Command    Argument");
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("SELECT SLEEP(20)")
        );
        assert!(MySqlSlow.parse("").error.is_some());
    }
}
