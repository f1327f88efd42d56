//! Pieces the MySQL-family parsers share: the time stamp styles MySQL,
//! MariaDB and Aurora write, and the statement's operation word.
//! Hand-scanned (no regex) because they run once per log line.

use super::scan::finder;
use crate::record::CompactString;
use crate::time;

/// Which writer a time stamp's style points to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeStyle {
    /// `2020-08-06T14:25:02.936146Z`: MySQL 5.7 / 8.0, Aurora MySQL.
    Iso,
    /// `2023-04-27 14:36:09`, `2026-11-25  7:59:31`: MariaDB.
    Spaced,
    /// `210122 18:04:41`, `261125  7:52:29`: MariaDB's and old MySQL's short form.
    Short,
}

/// A time stamp at the start of `s`: (Unix ns, bytes consumed, style).
/// Times without a zone are taken as UTC, which RDS uses.
pub fn leading_time(s: &str) -> Option<(i64, usize, TimeStyle)> {
    let b = s.as_bytes();
    if b.len() >= 10
        && digits(&b[0..4])
        && b[4] == b'-'
        && digits(&b[5..7])
        && b[7] == b'-'
        && digits(&b[8..10])
    {
        let (y, mo, d) = (num(&b[0..4]) as i32, num(&b[5..7]), num(&b[8..10]));
        let sep = *b.get(10)?;
        if sep == b'T' {
            let (h, mi, sec, mut i) = hms(b, 11)?;
            let (nanos, used) = fraction(&b[i..]);
            i += used;
            let mut ns = time::utc_ns(y, mo, d, h, mi, sec, nanos)?;
            match b.get(i) {
                Some(b'Z') => i += 1,
                Some(sign @ (b'+' | b'-'))
                    if b.len() >= i + 6
                        && b[i + 3] == b':'
                        && digits(&b[i + 1..i + 3])
                        && digits(&b[i + 4..i + 6]) =>
                {
                    let off = (num(&b[i + 1..i + 3]) as i64 * 60 + num(&b[i + 4..i + 6]) as i64)
                        * 60_000_000_000;
                    ns = if *sign == b'+' { ns - off } else { ns + off };
                    i += 6;
                }
                _ => {}
            }
            return Some((ns, i, TimeStyle::Iso));
        }
        if sep != b' ' {
            return None;
        }
        let mut i = 11;
        if b.get(i) == Some(&b' ') {
            i += 1; // MariaDB pads a one-digit hour with a space
        }
        let (h, mi, sec, mut i) = hms(b, i)?;
        let (nanos, used) = fraction(&b[i..]);
        i += used;
        return Some((
            time::utc_ns(y, mo, d, h, mi, sec, nanos)?,
            i,
            TimeStyle::Spaced,
        ));
    }
    if b.len() >= 7 && digits(&b[0..6]) && b[6] == b' ' {
        let mut i = 7;
        if b.get(i) == Some(&b' ') {
            i += 1;
        }
        let (h, mi, sec, i) = hms(b, i)?;
        let ns = time::utc_ns(
            2000 + num(&b[0..2]) as i32,
            num(&b[2..4]),
            num(&b[4..6]),
            h,
            mi,
            sec,
            0,
        )?;
        return Some((ns, i, TimeStyle::Short));
    }
    None
}

/// `H:MM:SS` or `HH:MM:SS` at `i`: (h, m, s, end).
fn hms(b: &[u8], i: usize) -> Option<(u32, u32, u32, usize)> {
    let h_len = b
        .get(i..)?
        .iter()
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&h_len) {
        return None;
    }
    let j = i + h_len;
    let rest = b.get(j..j + 6)?;
    if rest[0] != b':' || !digits(&rest[1..3]) || rest[3] != b':' || !digits(&rest[4..6]) {
        return None;
    }
    Some((num(&b[i..j]), num(&rest[1..3]), num(&rest[4..6]), j + 6))
}

/// `.ffffff` → (nanoseconds, bytes used).
fn fraction(b: &[u8]) -> (u32, usize) {
    if b.first() != Some(&b'.') {
        return (0, 0);
    }
    let n = b[1..].iter().take_while(|c| c.is_ascii_digit()).count();
    let mut nanos = 0u32;
    for k in 0..9 {
        nanos = nanos * 10
            + b.get(1 + k)
                .filter(|_| k < n)
                .map_or(0, |c| (c - b'0') as u32);
    }
    (nanos, 1 + n)
}

fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

fn num(s: &[u8]) -> u32 {
    s.iter().fold(0u32, |a, c| {
        a.wrapping_mul(10).wrapping_add((c - b'0') as u32)
    })
}

/// The statement's first keyword, upper-cased (`SELECT`, `INSERT`, …),
/// skipping leading space, parentheses and comments. A `CompactString`:
/// a keyword fits inline, where a `String` cost two heap allocations (the
/// word, then its upper-case copy) a statement.
pub fn operation_name(statement: &str) -> Option<CompactString> {
    // Most statements start with their keyword: nothing to skip (the
    // loop's char tests and prefix checks cost ~60 instructions, callgrind).
    if statement
        .as_bytes()
        .first()
        .is_some_and(u8::is_ascii_alphabetic)
    {
        return common_keyword(statement).or_else(|| super::scan::leading_keyword(statement));
    }
    let mut s = statement;
    loop {
        s = s.trim_start_matches(|c: char| c.is_whitespace() || c == '(');
        if let Some(rest) = s.strip_prefix("/*") {
            s = rest.find("*/").map_or("", |e| &rest[e + 2..]);
        } else if s.starts_with("--") || s.starts_with('#') {
            s = s.find('\n').map_or("", |e| &s[e + 1..]);
        } else {
            break;
        }
    }
    super::scan::leading_keyword(s)
}

/// The statement's first word when it is one of the keywords nearly every
/// statement starts with, already upper case: a prebuilt constant copied
/// (~60 instructions a statement) where `leading_keyword` builds the
/// string from the word (~180, callgrind). `None` for any other word
/// (lower case included), which `leading_keyword` then reads.
fn common_keyword(statement: &str) -> Option<CompactString> {
    const fn k(word: &'static str) -> CompactString {
        CompactString::const_new(word)
    }
    const SELECT: CompactString = k("SELECT");
    const INSERT: CompactString = k("INSERT");
    const UPDATE: CompactString = k("UPDATE");
    const DELETE: CompactString = k("DELETE");
    const SET: CompactString = k("SET");
    const START: CompactString = k("START");
    const COMMIT: CompactString = k("COMMIT");
    const ROLLBACK: CompactString = k("ROLLBACK");
    const BEGIN: CompactString = k("BEGIN");
    const SHOW: CompactString = k("SHOW");
    const REPLACE: CompactString = k("REPLACE");
    const CALL: CompactString = k("CALL");
    const WITH: CompactString = k("WITH");
    let b = statement.as_bytes();
    // The word ends where `leading_keyword`'s does.
    let n = b
        .iter()
        .position(|c| !(c.is_ascii_alphabetic() || *c == b'_'))
        .unwrap_or(b.len());
    Some(match &b[..n] {
        b"SELECT" => SELECT,
        b"INSERT" => INSERT,
        b"UPDATE" => UPDATE,
        b"DELETE" => DELETE,
        b"SET" => SET,
        b"START" => START,
        b"COMMIT" => COMMIT,
        b"ROLLBACK" => ROLLBACK,
        b"BEGIN" => BEGIN,
        b"SHOW" => SHOW,
        b"REPLACE" => REPLACE,
        b"CALL" => CALL,
        b"WITH" => WITH,
        _ => return None,
    })
}

/// Whether text names MariaDB (`mariadbd`, `10.11.19-MariaDB`).
pub fn mentions_mariadb(text: &str) -> bool {
    super::scan::finder!(b"MariaDB")
        .find(text.as_bytes())
        .is_some()
        || super::scan::finder!(b"mariadbd")
            .find(text.as_bytes())
            .is_some()
}

/// A line of the header a server writes at the top of a new slow or general
/// log file (and again after each restart):
/// `/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (…). started with:`,
/// `Tcp port: 3306  Unix socket: /tmp/mysql.sock`, `Time  Id Command  Argument`.
pub fn is_server_header(line: &str) -> bool {
    // Every shape holds a `:` (`, Version: `, `Tcp port:`) or starts with
    // `T` (`Time`): a line doing neither (most log lines) is refused by one
    // `memchr` (~30 instructions) before the `memmem` search (~170 on a
    // general log line, callgrind).
    if !line.starts_with('T') && memchr::memchr(b':', line.as_bytes()).is_none() {
        return false;
    }
    is_server_header_by_searches(line)
}

/// [`is_server_header`] without its one-byte pre-check (the tests' reference).
fn is_server_header_by_searches(line: &str) -> bool {
    let line = line.trim_end();
    // Prebuilt searchers: `str::contains` builds one per call (~290
    // instructions, callgrind), and this runs on every line of a slow
    // query statement.
    let contains = |f: &memchr::memmem::Finder<'_>| f.find(line.as_bytes()).is_some();
    (contains(finder!(b", Version: "))
        && (line.ends_with("started with:") || contains(finder!(b"embedded library"))))
        || line.starts_with("Tcp port:")
        || (line.starts_with("Time")
            && line
                .split_whitespace()
                .eq(["Time", "Id", "Command", "Argument"]))
}

/// Reads `'user'@'host'` right after `marker` (e.g. `Access denied for user `),
/// a prebuilt [`finder!`]: `str::find` set up a searcher per call, ~600
/// instructions an error log entry (callgrind).
pub fn quoted_user_host<'a>(
    text: &'a str,
    marker: &memchr::memmem::Finder<'_>,
) -> Option<(&'a str, &'a str)> {
    let at = marker.find(text.as_bytes())? + marker.needle().len();
    let rest = text[at..].strip_prefix('\'')?;
    let user_end = rest.find('\'')?;
    let user = &rest[..user_end];
    let rest = rest[user_end + 1..].strip_prefix("@'")?;
    let host_end = rest.find('\'')?;
    Some((user, &rest[..host_end]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_styles() {
        let (ns, used, style) = leading_time("2020-08-06T14:25:02.936146Z 0 [Warning]").unwrap();
        assert_eq!((used, style), (27, TimeStyle::Iso));
        assert_eq!(
            ns,
            time::utc_ns(2020, 8, 6, 14, 25, 2, 936_146_000).unwrap()
        );
        let (_, used, style) = leading_time("2026-11-25  7:59:31 0 [Note]").unwrap();
        assert_eq!((used, style), (19, TimeStyle::Spaced));
        let (ns, used, style) = leading_time("261125  7:52:29 server_audit").unwrap();
        assert_eq!((used, style), (15, TimeStyle::Short));
        assert_eq!(ns, time::utc_ns(2026, 11, 25, 7, 52, 29, 0).unwrap());
        assert!(leading_time("2023-02-30 10:00:00 x").is_none());
        assert!(leading_time("InnoDB: x").is_none());
        assert!(leading_time("2023-").is_none());
        let (ns, _, _) = leading_time("2023-01-01T10:00:00+02:00").unwrap();
        assert_eq!(ns, time::utc_ns(2023, 1, 1, 8, 0, 0, 0).unwrap());
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        /// The `:`-or-`T` test refuses only lines the searches refuse:
        /// header pieces and near misses (`, Version` without its colon,
        /// `Tcp port` without one, `Time` after a space) in any order.
        #[test]
        fn is_server_header_equals_the_searches_alone(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                ", Version: ", ", Version", ",Version: ", ":", " ", "\t", "\n", "T",
                "started with:", "started with", "embedded library", "Tcp port:", "Tcp port",
                "Time", "Id", "Command", "Argument", "/usr/sbin/mariadbd", "10.11.19-MariaDB",
                "SELECT 1", "é", "x",
            ]), 0..10),
        ) {
            let line = parts.concat();
            proptest::prop_assert_eq!(is_server_header(&line), is_server_header_by_searches(&line));
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(10_000))]
        /// The keyword constants give what `leading_keyword` gives: the
        /// keywords in any case, longer words starting with them, and what
        /// may follow (`_`, digits, `(`, space, non-ASCII).
        #[test]
        fn common_keywords_equal_leading_keyword(
            word in "(?i)(select|insert|update|delete|set|start|commit|rollback|begin|show|replace|call|with|sel|x)",
            glued in "[A-Za-z_]{0,2}",
            after in "[ (0-9é;\n]?[a-z ]{0,3}",
        ) {
            let statement = format!("{word}{glued}{after}");
            proptest::prop_assert_eq!(
                operation_name(&statement),
                super::super::scan::leading_keyword(&statement)
            );
        }
    }

    /// Each header shape a server writes is recognised, `Time` column line
    /// included (it has no `:`: the pre-check must let it through), and
    /// lines that only look alike are not.
    #[test]
    fn every_server_header_shape_is_recognised() {
        for line in [
            "/rdsdbbin/mysql/bin/mysqld, Version: 8.0.32 (Source distribution). started with:",
            "/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-log (MariaDB Server). embedded library",
            "Tcp port: 3306  Unix socket: /tmp/mysql.sock",
            "Time                 Id Command    Argument",
            "Time\tId\tCommand\tArgument\n",
        ] {
            assert!(is_server_header(line), "{line:?}");
        }
        for line in [
            "Time: 241125  7:52:29",
            "# Time: 2026-11-25T07:52:29.123456Z",
            "Tcp port 3306",
            "mysqld, Version 8.0.32 started with:",
            "SELECT 1",
            "",
        ] {
            assert!(!is_server_header(line), "{line:?}");
        }
    }

    #[test]
    fn operations() {
        assert_eq!(
            operation_name("  /* x */ select 1").as_deref(),
            Some("SELECT")
        );
        assert_eq!(
            operation_name("(SELECT 1) UNION (SELECT 2)").as_deref(),
            Some("SELECT")
        );
        assert_eq!(
            operation_name("-- c\nINSERT INTO t").as_deref(),
            Some("INSERT")
        );
        assert_eq!(operation_name("   ").as_deref(), None);
        assert!(is_server_header("/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:"));
        assert!(is_server_header(
            "Tcp port: 3306  Unix socket: /tmp/mysql.sock"
        ));
        assert!(is_server_header("Time\t\t    Id Command\tArgument"));
        assert!(!is_server_header("SELECT 1"));
        assert_eq!(
            quoted_user_host(
                "Access denied for user 'dev'@'1.2.3.4' (using password: YES)",
                finder!(b"for user ")
            ),
            Some(("dev", "1.2.3.4"))
        );
    }
}
