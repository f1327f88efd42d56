//! Where a log entry starts in a raw RDS log file, per engine format: the
//! rules `wrap` cuts files by (continuation lines stay with their entry, as
//! RDS publishes them) and the format descriptors name (`format.rs`).
//! Shared helpers read dates and times without allocating.

/// The banner a MySQL-family server writes at the top of a slow or general
/// log (and after each restart): the parsers' own test, so `wrap` skips
/// exactly what they would.
pub(crate) use super::mysql_common::is_server_header;

pub fn digits(s: &[u8]) -> bool {
    !s.is_empty() && s.iter().all(u8::is_ascii_digit)
}

/// `YYYY-MM-DD HH:MM:SS[.fff] TZ:`
pub fn is_pg_start(line: &str) -> bool {
    let b = line.as_bytes();
    if b.len() < 21 || !is_iso_date(b) || b[10] != b' ' || !is_hms(&b[11..19]) {
        return false;
    }
    let mut i = 19;
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
    }
    if b.get(i) != Some(&b' ') {
        return false;
    }
    let tz_start = i + 1;
    let mut j = tz_start;
    while b.get(j).is_some_and(|c| c.is_ascii_alphabetic()) {
        j += 1;
    }
    (2..=5).contains(&(j - tz_start)) && b.get(j) == Some(&b':')
}

pub fn is_iso_date(b: &[u8]) -> bool {
    b.len() >= 10
        && digits(&b[0..4])
        && b[4] == b'-'
        && digits(&b[5..7])
        && b[7] == b'-'
        && digits(&b[8..10])
}

pub fn is_hms(b: &[u8]) -> bool {
    b.len() == 8
        && digits(&b[0..2])
        && b[2] == b':'
        && digits(&b[3..5])
        && b[5] == b':'
        && digits(&b[6..8])
}

/// `H:MM:SS` or `HH:MM:SS` at the start of `s`.
pub fn starts_with_loose_hms(s: &str) -> bool {
    let b = s.as_bytes();
    let h = b.iter().take_while(|c| c.is_ascii_digit()).count();
    (1..=2).contains(&h)
        && b.len() >= h + 6
        && b[h] == b':'
        && digits(&b[h + 1..h + 3])
        && b[h + 3] == b':'
        && digits(&b[h + 4..h + 6])
}

/// `YYYY-MM-DD[ T] H:MM:SS` (MariaDB pads the hour with a space) or `YYMMDD  H:MM:SS`.
pub fn is_error_start(line: &str) -> bool {
    let b = line.as_bytes();
    if b.len() >= 11 && is_iso_date(b) && (b[10] == b' ' || b[10] == b'T') {
        return starts_with_loose_hms(line[11..].trim_start_matches(' '));
    }
    if b.len() >= 7 && digits(&b[0..6]) && b[6] == b' ' {
        return starts_with_loose_hms(line[7..].trim_start_matches(' '));
    }
    false
}

const GENERAL_COMMANDS: [&str; 16] = [
    "Query",
    "Connect",
    "Quit",
    "Init DB",
    "Prepare",
    "Execute",
    "Close stmt",
    "Field List",
    "Statistics",
    "Shutdown",
    "Killed",
    "Reset stmt",
    "Long Data",
    "Change user",
    "Binlog Dump",
    "Refresh",
];

/// `[time] <spaces> <thread id> <command>`.
pub fn is_general_start(line: &str) -> bool {
    let mut rest = line;
    let b = line.as_bytes();
    if b.len() >= 6 && digits(&b[0..6]) && b.get(6).is_some_and(|c| c.is_ascii_whitespace()) {
        let after = line[6..].trim_start();
        if !starts_with_loose_hms(after) {
            return false;
        }
        rest = &after[after
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(after.len())..];
    } else if is_iso_date(b) && b.get(10) == Some(&b'T') {
        rest = &line[line
            .find(|c: char| c.is_ascii_whitespace())
            .unwrap_or(line.len())..];
    }
    if !rest.starts_with(|c: char| c.is_ascii_whitespace()) {
        return false;
    }
    let rest = rest.trim_start();
    let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
    if id_len == 0 || !rest[id_len..].starts_with(|c: char| c.is_ascii_whitespace()) {
        return false;
    }
    let cmd = rest[id_len..].trim_start();
    GENERAL_COMMANDS.iter().any(|c| {
        cmd.starts_with(c)
            && cmd[c.len()..]
                .chars()
                .next()
                .is_none_or(|n| !n.is_ascii_alphanumeric())
    })
}

/// `YYYYMMDD HH:MM:SS,` (MariaDB audit plugin) or Aurora MySQL advanced
/// auditing's `<µs since the epoch>,host,user,client,connid,queryid,OPERATION,`.
pub fn is_audit_start(line: &str) -> bool {
    let b = line.as_bytes();
    (b.len() >= 18 && digits(&b[0..8]) && b[8] == b' ' && is_hms(&b[9..17]) && b[17] == b',')
        || is_aurora_audit_start(line)
}

/// Aurora's record start: a 13–17 digit epoch-µs stamp, then the server
/// host, user and client, numeric connection and query ids and an upper-case
/// operation (the fields before the quoted object, which never hold commas).
pub fn is_aurora_audit_start(line: &str) -> bool {
    let mut fields = line.splitn(8, ',');
    let mut next = || fields.next();
    let (Some(stamp), Some(_host), Some(_user), Some(_client), Some(conn), Some(query), Some(op)) =
        (next(), next(), next(), next(), next(), next(), next())
    else {
        return false;
    };
    (13..=17).contains(&stamp.len())
        && digits(stamp.as_bytes())
        && digits(conn.as_bytes())
        && digits(query.as_bytes())
        && !op.is_empty()
        && op.bytes().all(|c| c.is_ascii_uppercase() || c == b'_')
        && fields.next().is_some()
}

/// MySQL/MariaDB slow query log: one entry per `# Time:` / `# User@Host:`
/// block (a `# User@Host:` right after `# Time:` belongs to it).
pub fn is_slowquery_start(line: &str, previous: &str) -> bool {
    line.starts_with("# Time:")
        || (line.starts_with("# User@Host:") && !previous.starts_with("# Time:"))
}
