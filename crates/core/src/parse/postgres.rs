//! RDS / Aurora PostgreSQL logs (log types `postgresql` and `upgrade`).
//!
//! RDS allows two `log_line_prefix` values:
//! `%t:%r:%u@%d:[%p]:` (the default) and
//! `%m:%r:%u@%d:[%p]:%l:%e:%s:%v:%x:%c:%q%a` (ms time, line number, SQLSTATE,
//! session start, virtual xid, xid, session id, then the application name,
//! written straight before the level or after a colon). Both are read by hand
//! (no regex): the prefix is on every line of every log, so it is the hot path.
//!
//! A message is split into the prefix fields, the level word and the text;
//! the text is then matched against the messages PostgreSQL writes with RDS's
//! logging settings (durations, connections, checkpoints, temp files,
//! autovacuum, lock waits, deadlocks). [`LogParser::join`] folds the companion
//! lines (DETAIL, HINT, CONTEXT, STATEMENT, QUERY, LOCATION) into the entry
//! they belong to.

use std::collections::HashMap;

use super::scan::{self, first_sql_keyword, leading_f64, leading_i64, word_after};
use super::{Entry, LogParser, Parsed};
use crate::record::{keys, Attributes, CompactString, PlainKey, Value};
use crate::severity::{self, Severity};

/// The PostgreSQL parser. `upgrade` logs also hold pg_upgrade's own
/// unprefixed progress text, which is read as plain INFO lines there.
pub struct Postgres {
    name: &'static str,
    plain_text_ok: bool,
}

/// For log type `postgresql`.
pub static POSTGRESQL: Postgres = Postgres {
    name: "postgresql",
    plain_text_ok: false,
};

/// For log type `upgrade`.
pub static UPGRADE: Postgres = Postgres {
    name: "postgresql-upgrade",
    plain_text_ok: true,
};

/// Level words and their OTel numbers. DEBUG5 is PostgreSQL's most verbose
/// level, so it takes the lowest DEBUG number.
const LEVELS: [(&str, u8); 12] = [
    ("DEBUG5", severity::DEBUG),
    ("DEBUG4", severity::DEBUG),
    ("DEBUG3", severity::DEBUG + 1),
    ("DEBUG2", severity::DEBUG + 2),
    ("DEBUG1", severity::DEBUG + 3),
    ("LOG", severity::INFO),
    ("INFO", severity::INFO),
    ("NOTICE", severity::INFO2),
    ("WARNING", severity::WARN),
    ("ERROR", severity::ERROR),
    ("FATAL", severity::FATAL),
    ("PANIC", severity::FATAL + 3),
];

/// Values every line of a kind carries, built at compile time: a push of a
/// `&str` copies it into a new `CompactString` each line (~30 instructions,
/// callgrind, issue 17).
const TCP: Value = Value::Str(CompactString::const_new("tcp"));
const UNIX: Value = Value::Str(CompactString::const_new("unix"));
const STATEMENT: Value = Value::Str(CompactString::const_new("statement"));

/// Lines that belong to the entry before them from the same process.
const COMPANIONS: [&str; 6] = [
    "DETAIL",
    "HINT",
    "CONTEXT",
    "STATEMENT",
    "QUERY",
    "LOCATION",
];

fn level(word: &str) -> Option<Severity> {
    if let Some((w, n)) = LEVELS.iter().find(|(w, _)| *w == word) {
        return Some(Severity::new_static(w, *n));
    }
    // A companion alone (its parent was in another batch) is informational.
    COMPANIONS
        .iter()
        .find(|w| **w == word)
        .map(|w| Severity::new_static(w, severity::INFO))
}

fn is_companion(s: &Severity) -> bool {
    COMPANIONS.contains(&s.text.as_ref())
}

impl LogParser for Postgres {
    fn name(&self) -> &'static str {
        self.name
    }

    fn parse(&self, message: &str) -> Parsed {
        match parse_entry(message) {
            Ok(p) => p,
            Err(_) if self.plain_text_ok && !message.trim().is_empty() => Parsed::default(),
            Err(reason) => Parsed::unrecognised(reason),
        }
    }

    fn join(&self, entries: Vec<Entry>) -> Vec<Entry> {
        join_companions(entries)
    }
}

/// Reads one entry: prefix, level, then the message rules.
fn parse_entry(msg: &str) -> Result<Parsed, String> {
    let mut attrs = Attributes::with_capacity(16);
    let (timestamp_ns, sev, text) = parse_prefix(msg, &mut attrs)?;
    let text = if is_companion(&sev) {
        text
    } else {
        verbose_sqlstate(text, &mut attrs)
    };
    read_message(sev.text.as_ref(), text, &mut attrs);
    let (timestamp_ns, error) = match timestamp_ns {
        Some(Ok(ns)) => (Some(ns), None),
        Some(Err(why)) => (None, Some(why)),
        None => (None, None),
    };
    Ok(Parsed {
        timestamp_ns,
        severity: Some(sev),
        attributes: attrs,
        db_system: None,
        error,
    })
}

/// Parses the prefix into `attrs`; returns the time, the level and the text
/// after the level.
fn parse_prefix<'a>(
    msg: &'a str,
    attrs: &mut Attributes,
) -> Result<(PrefixTime, Severity, &'a str), String> {
    let b = msg.as_bytes();
    let (civil, mut i) = scan::date_time(b, b" ", b".")
        .ok_or("no PostgreSQL log_line_prefix: the message does not start with a time")?;
    if b.get(i) != Some(&b' ') {
        return Err("no time zone after the prefix time".into());
    }
    i += 1;
    let zone_len = b[i..]
        .iter()
        .take(12)
        .position(|c| *c == b':')
        .ok_or("no ':' after the prefix time zone")?;
    let zone = &msg[i..i + zone_len];
    // A zone we know and a date that cannot exist (2026-02-30): say so rather
    // than fall back to the CloudWatch time silently. An unknown zone name is
    // no error: fields are read, the CloudWatch time is used.
    let timestamp_ns = scan::zone_offset(zone).map(|off| {
        civil.to_ns(off).ok_or_else(|| {
            format!(
                "impossible date-time in the prefix: {:?}",
                truncate(&msg[..i.saturating_sub(1)], 32)
            )
        })
    });
    i += zone_len + 1;

    // %r: empty, [local], or host(port)
    let rest = &msg[i..];
    let ipv6 = || {
        remote(rest).filter(|(host, _, _)| {
            host.bytes()
                .all(|c| c.is_ascii_hexdigit() || c == b':' || c == b'.')
        })
    };
    if rest.starts_with(':') && ipv6().is_none() {
        i += 1;
    } else if rest.starts_with("[local]:") {
        attrs.push_new(keys::NETWORK_TRANSPORT, UNIX);
        i += "[local]:".len();
    } else {
        let (host, port, used) =
            remote(rest).ok_or("no %r (host(port), [local] or empty) in the prefix")?;
        attrs.push_new(keys::CLIENT_ADDRESS, host);
        attrs.push_new(keys::CLIENT_PORT, port);
        attrs.push_new(keys::NETWORK_TRANSPORT, TCP);
        i += used;
    }

    // %u@%d:[%p]:
    let rest = &msg[i..];
    let (at, pid, used) = pid_marker(rest).ok_or("no :[pid]: in the prefix")?;
    let user_db = &rest[..at];
    // memrchr: `rsplit_once(char)` sets up a reverse char searcher per call
    // (~70 instructions a line, callgrind).
    let at_sign =
        memchr::memrchr(b'@', user_db.as_bytes()).ok_or("no user@database in the prefix")?;
    let (user, db) = (&user_db[..at_sign], &user_db[at_sign + 1..]);
    if !user.is_empty() && user != "[unknown]" {
        attrs.push_new(keys::USER_NAME, user);
    }
    if !db.is_empty() && db != "[unknown]" {
        attrs.push_new(keys::DB_NAMESPACE, db);
    }
    attrs.push_new(keys::PROCESS_PID, pid);
    i += used;

    let rest = &msg[i..];
    let (sev, text) = if rest.starts_with(|c: char| c.is_ascii_digit()) {
        long_prefix_tail(rest, attrs)?
    } else {
        // memchr: `str::find(char)` sets up a char searcher per call (~150 Ir).
        let colon =
            memchr::memchr(b':', rest.as_bytes()).ok_or("no level word after the prefix")?;
        let word = &rest[..colon];
        let sev = level(word)
            .ok_or_else(|| format!("unknown PostgreSQL level {:?}", truncate(word, 20)))?;
        (sev, &rest[colon + 1..])
    };
    Ok((timestamp_ns, sev, scan::trim_spaces(text)))
}

/// The prefix time: a time, none (unknown zone), or why the date is impossible.
type PrefixTime = Option<Result<i64, String>>;

/// `host(port):` at the start of `s` (the host may be IPv6 and hold colons).
fn remote(s: &str) -> Option<(&str, i64, usize)> {
    let b = s.as_bytes();
    for open in memchr::memchr_iter(b'(', b) {
        let digits = b[open + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let close = open + 1 + digits;
        if digits > 0
            && digits <= 5
            && b.get(close) == Some(&b')')
            && b.get(close + 1) == Some(&b':')
        {
            let port = scan::num(&b[open + 1..close])? as i64;
            return Some((&s[..open], port, close + 2));
        }
    }
    None
}

/// `:[pid]:` in `s`: (where `:[` starts, the pid, bytes up to after `]:`).
fn pid_marker(s: &str) -> Option<(usize, i64, usize)> {
    let b = s.as_bytes();
    for at in scan::finder!(b":[").find_iter(b) {
        let digits = b[at + 2..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let close = at + 2 + digits;
        if digits > 0
            && digits <= 10
            && b.get(close) == Some(&b']')
            && b.get(close + 1) == Some(&b':')
        {
            let pid = scan::num(&b[at + 2..close]).map(i64::from)?;
            return Some((at, pid, close + 2));
        }
    }
    None
}

/// The part after `[%p]:` of the second RDS prefix:
/// `%l:%e:%s:%v:%x:%c:%q%a` then the level.
fn long_prefix_tail<'a>(s: &'a str, attrs: &mut Attributes) -> Result<(Severity, &'a str), String> {
    const BAD: &str = "incomplete %m:%r:%u@%d:[%p]:%l:%e:%s:%v:%x:%c:%q%a prefix";
    let (line_no, rest) = s.split_once(':').ok_or(BAD)?;
    if let Ok(n) = line_no.parse::<i64>() {
        attrs.push_new(keys::PG_LINE_NUMBER, n);
    }
    let (sqlstate, rest) = rest.split_once(':').ok_or(BAD)?;
    if !sqlstate.is_empty() && sqlstate != "00000" {
        attrs.push_new(keys::DB_RESPONSE_STATUS_CODE, sqlstate);
    }
    // %s holds colons itself: `YYYY-MM-DD HH:MM:SS TZ`.
    let rest = match scan::date_time(rest.as_bytes(), b" ", b".") {
        Some((_, n)) => {
            let zone_end = rest[n..].find(':').map(|k| n + k).ok_or(BAD)?;
            attrs.push_new(keys::PG_SESSION_START, &rest[..zone_end]);
            &rest[zone_end + 1..]
        }
        None => rest.strip_prefix(':').ok_or(BAD)?,
    };
    let (vxid, rest) = rest.split_once(':').ok_or(BAD)?;
    if !vxid.is_empty() {
        attrs.push_new(keys::PG_VIRTUAL_XID, vxid);
    }
    let (xid, rest) = rest.split_once(':').ok_or(BAD)?;
    if let Ok(x) = xid.parse::<i64>() {
        if x != 0 {
            attrs.push_new(keys::PG_XID, x);
        }
    }
    let (session, rest) = rest.split_once(':').ok_or(BAD)?;
    if !session.is_empty() {
        attrs.push_new(keys::PG_SESSION_ID, session);
    }
    // `[app][:]LEVEL:` — the first colon preceded by a level word.
    for colon in memchr::memchr_iter(b':', rest.as_bytes()) {
        let head = &rest[..colon];
        let after_ok = rest[colon + 1..].is_empty() || rest[colon + 1..].starts_with(' ');
        if !after_ok {
            continue;
        }
        let found = LEVELS
            .iter()
            .map(|(w, _)| *w)
            .chain(COMPANIONS)
            .filter(|w| head.ends_with(*w))
            .max_by_key(|w| w.len());
        if let Some(word) = found {
            let app = head[..head.len() - word.len()].trim_end_matches(':');
            if !app.is_empty() {
                attrs.push_new(keys::PG_APPLICATION_NAME, app);
            }
            let sev = level(word).ok_or(BAD)?;
            return Ok((sev, &rest[colon + 1..]));
        }
    }
    Err("no level word after the %m…%q%a prefix".into())
}

/// With `log_error_verbosity = verbose` the message starts with its
/// SQLSTATE: `ERROR:  42P01: relation "x" does not exist`,
/// `LOG:  00000: statement: SELECT 1`. Takes the code off the text (into
/// `db.response.status_code`, `00000` left out as for `%e`) and returns the
/// rest, which reads as the non-verbose message.
fn verbose_sqlstate<'a>(text: &'a str, attrs: &mut Attributes) -> &'a str {
    let b = text.as_bytes();
    let is_code = b.len() > 6
        && b[..5]
            .iter()
            .all(|c| c.is_ascii_digit() || c.is_ascii_uppercase())
        && b[5] == b':'
        && b[6] == b' ';
    if !is_code {
        return text;
    }
    let code = &text[..5];
    if code != "00000" {
        attrs.insert(keys::DB_RESPONSE_STATUS_CODE, code);
    }
    scan::trim_spaces(&text[7..])
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

fn set_query(attrs: &mut Attributes, sql: &str) {
    let sql = sql.trim_end();
    // (Its end is trimmed already: only its start is left to look at.)
    if scan::trim_start(sql).is_empty() {
        return;
    }
    if let Some(op) = common_keyword(sql) {
        attrs.push_new(keys::DB_OPERATION_NAME, op);
    } else if let Some(op) = first_sql_keyword(sql) {
        attrs.push_new(keys::DB_OPERATION_NAME, op);
    }
    attrs.push_new(keys::DB_QUERY_TEXT, sql);
}

/// [`leading_f64`] of a duration (`62.085`, then ` ms`): read in one loop
/// when it is `digits[.digits]` with at most 15 digits, with the same
/// exact division (the integer and the power of ten are both exact, so it
/// rounds as `str::parse`); anything else (more digits, a second `.`, no
/// digit) goes to `leading_f64`. Its general loops cost ~200 instructions
/// a line (callgrind, issue 17). `duration_is_read_as_leading_f64_reads_it`
/// compares the two.
fn duration_ms(s: &str) -> Option<(f64, &str)> {
    let b = s.as_bytes();
    let (mut mantissa, mut dot, mut i) = (0u64, None, 0);
    // 17 bytes at most: 15 digits and a dot, and one more to see the run
    // is longer (no overflow: 17 digits fit a u64).
    while i < b.len() && i < 17 {
        match b[i] {
            c @ b'0'..=b'9' => mantissa = mantissa * 10 + u64::from(c - b'0'),
            b'.' if dot.is_none() => dot = Some(i),
            _ => break,
        }
        i += 1;
    }
    let digits = i - usize::from(dot.is_some());
    let run_ends = b.get(i).is_none_or(|c| !c.is_ascii_digit() && *c != b'.');
    if !run_ends || digits == 0 || digits > 15 {
        return leading_f64(s);
    }
    let decimals = dot.map_or(0, |d| i - d - 1);
    Some((mantissa as f64 / scan::POW10[decimals], &s[i..]))
}

/// [`first_sql_keyword`] of a statement that starts with one of the four
/// commonest keywords, upper case, then a space: that keyword, built at
/// compile time. The general reader's word scan, case check and copy cost
/// ~150 instructions a statement (callgrind, issue 17). `None` for any
/// other statement, which the general reader then reads.
fn common_keyword(sql: &str) -> Option<Value> {
    const SELECT: Value = Value::Str(CompactString::const_new("SELECT"));
    const INSERT: Value = Value::Str(CompactString::const_new("INSERT"));
    const UPDATE: Value = Value::Str(CompactString::const_new("UPDATE"));
    const DELETE: Value = Value::Str(CompactString::const_new("DELETE"));
    match sql.as_bytes().get(..7)? {
        b"SELECT " => Some(SELECT),
        b"INSERT " => Some(INSERT),
        b"UPDATE " => Some(UPDATE),
        b"DELETE " => Some(DELETE),
        _ => None,
    }
}

/// The message rules. Unknown messages keep just the prefix fields: they
/// are valid PostgreSQL lines, only without fields of their own.
fn read_message(level: &str, text: &str, attrs: &mut Attributes) {
    match level {
        "STATEMENT" => return set_query(attrs, text),
        "QUERY" => {
            attrs.push_new(keys::PG_INTERNAL_QUERY, text.trim_end());
            return;
        }
        "DETAIL" => {
            if let Some(p) = text.strip_prefix("parameters: ") {
                attrs.push_new(keys::PG_PARAMETERS, p.trim_end());
            }
            attrs.push_new(keys::PG_DETAIL, text.trim_end());
            return;
        }
        "HINT" => {
            attrs.push_new(keys::PG_HINT, text.trim_end());
            return;
        }
        "CONTEXT" => {
            attrs.push_new(keys::PG_CONTEXT, text.trim_end());
            return;
        }
        "LOCATION" => {
            attrs.push_new(keys::PG_LOCATION, text.trim_end());
            return;
        }
        _ => {}
    }

    if let Some(rest) = text.strip_prefix("duration: ") {
        if let Some((ms, after)) = duration_ms(rest) {
            attrs.push_new(keys::DB_QUERY_DURATION_MS, ms);
            let after = scan::trim_spaces(after.strip_prefix(" ms").unwrap_or(after));
            if !after.is_empty() {
                statement_text(after, attrs);
            }
        }
        return;
    }
    if statement_text(text, attrs) {
        return;
    }
    if let Some(rest) = text.strip_prefix("connection received: ") {
        attrs.insert(keys::PG_EVENT, "connection_received");
        if let Some(h) = word_after(rest, "host=") {
            if h == "[local]" {
                attrs.insert(keys::NETWORK_TRANSPORT, "unix");
            } else {
                attrs.insert(keys::CLIENT_ADDRESS, h);
            }
        }
        if let Some(p) = word_after(rest, "port=").and_then(|p| p.parse::<i64>().ok()) {
            attrs.insert(keys::CLIENT_PORT, p);
        }
    } else if let Some(rest) = text.strip_prefix("connection authenticated: ") {
        attrs.insert(keys::PG_EVENT, "connection_authenticated");
        if let Some(id) = rest
            .strip_prefix("identity=\"")
            .and_then(|r| r.split_once("\" "))
        {
            attrs.insert(keys::PG_AUTH_IDENTITY, id.0);
        }
        if let Some(m) = word_after(rest, " method=") {
            attrs.insert(keys::PG_AUTH_METHOD, m);
        }
    } else if let Some(rest) = text
        .strip_prefix("connection authorized: ")
        .or_else(|| text.strip_prefix("replication connection authorized: "))
    {
        attrs.insert(keys::PG_EVENT, "connection_authorized");
        if let Some(u) = word_after(rest, "user=") {
            attrs.insert(keys::USER_NAME, u);
        }
        if let Some(d) = word_after(rest, " database=") {
            attrs.insert(keys::DB_NAMESPACE, d);
        }
        if let Some(a) = word_after(rest, " application_name=") {
            attrs.insert(keys::PG_APPLICATION_NAME, a);
        }
    } else if let Some(rest) = text.strip_prefix("disconnection: session time: ") {
        attrs.insert(keys::PG_EVENT, "disconnection");
        if let Some(ms) = session_time_ms(rest) {
            attrs.insert(keys::PG_SESSION_TIME_MS, ms);
        }
    } else if let Some(reason) = text
        .strip_prefix("checkpoint starting: ")
        .or_else(|| text.strip_prefix("restartpoint starting: "))
    {
        let ev = if text.starts_with('c') {
            "checkpoint_starting"
        } else {
            "restartpoint_starting"
        };
        attrs.insert(keys::PG_EVENT, ev);
        attrs.insert(keys::PG_CHECKPOINT_REASON, reason.trim_end());
    } else if let Some(rest) = text
        .strip_prefix("checkpoint complete: ")
        .or_else(|| text.strip_prefix("restartpoint complete: "))
    {
        let ev = if text.starts_with('c') {
            "checkpoint_complete"
        } else {
            "restartpoint_complete"
        };
        attrs.insert(keys::PG_EVENT, ev);
        checkpoint_numbers(rest, attrs);
    } else if let Some(rest) = text.strip_prefix("temporary file: path \"") {
        attrs.insert(keys::PG_EVENT, "temp_file");
        if let Some((path, after)) = rest.split_once('"') {
            attrs.insert(keys::PG_TEMP_FILE_PATH, path);
            if let Some(size) = after.strip_prefix(", size ").and_then(leading_i64) {
                attrs.insert(keys::PG_TEMP_FILE_SIZE, size.0);
            }
        }
    } else if text.starts_with("automatic ")
        && (text.contains("vacuum") || text.contains("analyze"))
    {
        let first_line = text.lines().next().unwrap_or("");
        let ev = if first_line.starts_with("automatic analyze") {
            "autoanalyze"
        } else {
            "autovacuum"
        };
        attrs.insert(keys::PG_EVENT, ev);
        if let Some(table) = first_line
            .split_once(" table \"")
            .and_then(|(_, r)| r.split_once('"'))
        {
            attrs.insert(keys::PG_TABLE, table.0);
        }
        if let Some(e) = word_after(text, "elapsed: ").and_then(|e| e.parse::<f64>().ok()) {
            attrs.insert(keys::PG_ELAPSED_S, e);
        }
    } else if let Some(rest) = text.strip_prefix("process ") {
        lock_message(rest, attrs);
    } else if text.starts_with("deadlock detected") {
        attrs.insert(keys::PG_EVENT, "deadlock");
    }
}

/// `statement: …`, `execute <name>: …`, `parse <name>: …`, `bind <name>: …`,
/// `plan:` and `fastpath function call: …`; true when one matched.
fn statement_text(text: &str, attrs: &mut Attributes) -> bool {
    if let Some(sql) = text.strip_prefix("statement:") {
        attrs.push_new(keys::PG_STATEMENT_KIND, STATEMENT);
        set_query(attrs, scan::trim_spaces(sql));
        return true;
    }
    if let Some(plan) = text.strip_prefix("plan:") {
        attrs.push_new(keys::PG_STATEMENT_KIND, "plan");
        read_plan(plan, attrs);
        return true;
    }
    if let Some(call) = text.strip_prefix("fastpath function call: ") {
        attrs.push_new(keys::PG_STATEMENT_KIND, "fastpath");
        attrs.push_new(keys::DB_QUERY_TEXT, call.trim_end());
        return true;
    }
    for kind in ["execute", "parse", "bind"] {
        let Some(rest) = text.strip_prefix(kind).and_then(|r| r.strip_prefix(' ')) else {
            continue;
        };
        let first_line = rest.lines().next().unwrap_or("");
        let Some(colon) = first_line
            .find(": ")
            .or_else(|| first_line.ends_with(':').then(|| first_line.len() - 1))
        else {
            continue;
        };
        attrs.push_new(keys::PG_STATEMENT_KIND, kind);
        attrs.push_new(keys::PG_PREPARED_NAME, &rest[..colon]);
        set_query(attrs, scan::trim_spaces(&rest[colon + 1..]));
        return true;
    }
    false
}

/// auto_explain output: JSON (`{"Query Text": …, "Plan": …}`) or text
/// (`Query Text: …` then the plan tree).
fn read_plan(plan: &str, attrs: &mut Attributes) {
    let body = plan.trim();
    if body.starts_with('{') || body.starts_with('[') {
        attrs.insert(keys::PG_PLAN_FORMAT, "json");
        if let Ok(v) = serde_json::from_str::<serde_json::Value>(body) {
            let obj = if v.is_array() { v.get(0) } else { Some(&v) };
            if let Some(q) = obj
                .and_then(|o| o.get("Query Text"))
                .and_then(|q| q.as_str())
            {
                set_query(attrs, q);
            }
        }
        attrs.insert(keys::PG_PLAN, body);
        return;
    }
    if body.starts_with('<') {
        attrs.insert(keys::PG_PLAN_FORMAT, "xml");
        attrs.insert(keys::PG_PLAN, body);
        return;
    }
    attrs.insert(keys::PG_PLAN_FORMAT, "text");
    let lines: Vec<&str> = plan
        .lines()
        .map(|l| l.strip_prefix('\t').unwrap_or(l))
        .collect();
    let Some(q_start) = lines.iter().position(|l| l.starts_with("Query Text:")) else {
        attrs.insert(keys::PG_PLAN, body);
        return;
    };
    let plan_start = lines[q_start + 1..]
        .iter()
        .position(|l| is_plan_line(l))
        .map_or(lines.len(), |k| q_start + 1 + k);
    let mut query = lines[q_start..plan_start].join("\n");
    query.replace_range(.."Query Text:".len(), "");
    set_query(attrs, query.trim_start());
    let tree = lines[plan_start..].join("\n");
    if !tree.trim().is_empty() {
        attrs.insert(keys::PG_PLAN, tree.trim_end());
    }
}

/// A line of an EXPLAIN text tree (or the parameters line before it).
fn is_plan_line(l: &str) -> bool {
    l.starts_with("Query Parameters:")
        || l.contains("  (cost=")
        || l.contains("(actual time=")
        || l.contains("(actual rows=")
        || l.trim_end().ends_with("(never executed)")
        || l.trim_start().starts_with("->  ")
}

/// `H:MM:SS.fff` at the start of `s`, in ms.
fn session_time_ms(s: &str) -> Option<f64> {
    let t = s.split(' ').next()?;
    let mut parts = t.splitn(3, ':');
    let h: f64 = parts.next()?.parse().ok()?;
    let m: f64 = parts.next()?.parse().ok()?;
    let sec: f64 = parts.next()?.parse().ok()?;
    Some(((h * 60.0 + m) * 60.0 + sec) * 1000.0)
}

/// `wrote 11897 buffers (72.6%); 0 WAL file(s) added, 0 removed, 25 recycled;
/// write=39.276 s, sync=1.336 s, total=40.908 s; sync files=373, longest=…;
/// distance=404713 kB, estimate=404713 kB`
fn checkpoint_numbers(s: &str, attrs: &mut Attributes) {
    if let Some((n, rest)) = s.strip_prefix("wrote ").and_then(leading_i64) {
        attrs.insert(keys::PG_CHECKPOINT_BUFFERS, n);
        if let Some((pct, _)) = rest.strip_prefix(" buffers (").and_then(leading_f64) {
            attrs.insert(keys::PG_CHECKPOINT_BUFFERS_PCT, pct);
        }
    }
    if let Some(at) = s.find(" WAL file(s) added") {
        let before = &s[..at];
        let start = before.rfind(' ').map_or(0, |k| k + 1);
        if let Ok(n) = before[start..].parse::<i64>() {
            attrs.insert(keys::PG_CHECKPOINT_WAL_ADDED, n);
        }
    }
    let int_before = |suffix: &str| -> Option<i64> {
        let at = s.find(suffix)?;
        let before = &s[..at];
        let start = before.rfind(' ').map_or(0, |k| k + 1);
        before[start..].parse().ok()
    };
    if let Some(n) = int_before(" removed") {
        attrs.insert(keys::PG_CHECKPOINT_WAL_REMOVED, n);
    }
    if let Some(n) = int_before(" recycled") {
        attrs.insert(keys::PG_CHECKPOINT_WAL_RECYCLED, n);
    }
    let float_after = |key: &str| {
        word_after(s, key).and_then(|w| w.trim_end_matches([',', ';']).parse::<f64>().ok())
    };
    for (key, attr) in [
        ("write=", keys::PG_CHECKPOINT_WRITE_S),
        ("sync=", keys::PG_CHECKPOINT_SYNC_S),
        ("total=", keys::PG_CHECKPOINT_TOTAL_S),
    ] {
        if let Some(v) = float_after(key) {
            attrs.insert(attr, v);
        }
    }
    for (key, attr) in [
        ("sync files=", keys::PG_CHECKPOINT_SYNC_FILES),
        ("distance=", keys::PG_CHECKPOINT_DISTANCE_KB),
        ("estimate=", keys::PG_CHECKPOINT_ESTIMATE_KB),
    ] {
        if let Some(v) =
            word_after(s, key).and_then(|w| w.trim_end_matches([',', ';']).parse::<i64>().ok())
        {
            attrs.insert(attr, v);
        }
    }
}

/// `N still waiting for MODE on OBJECT after X ms`, `N acquired …`,
/// `N avoided deadlock …`, `N detected deadlock while waiting for …`.
fn lock_message(rest: &str, attrs: &mut Attributes) {
    let Some((_, rest)) = leading_i64(rest) else {
        return;
    };
    let (event, tail) = if let Some(t) = rest.strip_prefix(" still waiting for ") {
        ("lock_waiting", t)
    } else if let Some(t) = rest.strip_prefix(" acquired ") {
        ("lock_acquired", t)
    } else if let Some(t) = rest.strip_prefix(" detected deadlock while waiting for ") {
        ("deadlock", t)
    } else if let Some(t) = rest.strip_prefix(" avoided deadlock for ") {
        ("deadlock_avoided", t)
    } else {
        return;
    };
    attrs.insert(keys::PG_EVENT, event);
    let first_line = tail.lines().next().unwrap_or("");
    if let Some((mode, after)) = first_line.split_once(" on ") {
        attrs.insert(keys::PG_LOCK_MODE, mode);
        let (object, wait) = after.rsplit_once(" after ").unwrap_or((after, ""));
        attrs.insert(keys::PG_LOCK_OBJECT, object);
        if let Some((ms, _)) = leading_f64(wait) {
            attrs.insert(keys::PG_LOCK_WAIT_MS, ms);
        }
    }
}

/// Folds each companion line into the latest entry of the same session
/// (within this batch); a companion whose parent is not here stays alone.
/// The session is the pid and every prefix field that names it (user,
/// database, client address and port, session id): a pid alone would let a
/// line forged by another session, once the pid is reused, attach itself
/// to a victim's entry.
fn join_companions(entries: Vec<Entry>) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::with_capacity(entries.len());
    let mut parents = Parents::default();
    for entry in entries {
        if is_companion_entry(&entry) {
            if let Some(parent) = parents.find(&entry, &out) {
                absorb(&mut out[parent], entry);
                continue;
            }
        }
        out.push(entry);
    }
    out
}

fn is_companion_entry(entry: &Entry) -> bool {
    entry.parsed.severity.as_ref().is_some_and(is_companion)
}

/// Finds a companion's parent: the latest non-companion entry of its
/// session. A companion nearly always follows its parent straight away, so
/// the last entry is compared field by field first; only when that fails
/// are the entries not yet indexed hashed into the map (each entry once, so
/// a batch stays linear). A batch without companions hashes nothing: hashing
/// every line was 16.4 M of 178 M instructions for 10,000 lines (callgrind).
/// The map keeps std's keyed SipHash: its keys come from log lines, which a
/// database user can shape (user and application names).
#[derive(Default)]
struct Parents {
    state: std::collections::hash_map::RandomState,
    open: HashMap<(i64, u64), usize>,
    /// How many leading entries of `out` are in `open`.
    indexed: usize,
}

impl Parents {
    fn find(&mut self, child: &Entry, out: &[Entry]) -> Option<usize> {
        let session = Session::of(child)?;
        if let Some(last) = out.last() {
            if !is_companion_entry(last) && Session::of(last).as_ref() == Some(&session) {
                return Some(out.len() - 1);
            }
        }
        for (at, entry) in out.iter().enumerate().skip(self.indexed) {
            // (`skip` on a slice iterator jumps: no walk over indexed entries)
            if is_companion_entry(entry) {
                continue;
            }
            if let Some(s) = Session::of(entry) {
                self.open.insert(s.key(&self.state), at);
            }
        }
        self.indexed = out.len();
        self.open.get(&session.key(&self.state)).copied()
    }
}

/// The prefix fields that name a session; `None` without a pid.
#[derive(PartialEq)]
struct Session<'a> {
    pid: i64,
    fields: [&'a str; 4],
    port: i64,
}

impl<'a> Session<'a> {
    fn of(entry: &'a Entry) -> Option<Self> {
        let a = &entry.parsed.attributes;
        let Some(Value::Int(pid)) = a.get(keys::PROCESS_PID) else {
            return None;
        };
        let fields = [
            keys::USER_NAME,
            keys::DB_NAMESPACE,
            keys::CLIENT_ADDRESS,
            keys::PG_SESSION_ID,
        ]
        .map(|k| a.get_str(k).unwrap_or(""));
        let port = match a.get(keys::CLIENT_PORT) {
            Some(Value::Int(p)) => *p,
            _ => -1,
        };
        Some(Session {
            pid: *pid,
            fields,
            port,
        })
    }

    /// (pid, hash of the other fields).
    fn key(&self, state: &impl std::hash::BuildHasher) -> (i64, u64) {
        (self.pid, state.hash_one((self.fields, self.port)))
    }
}

/// Appends `child` to `parent`: in place, so a long run of companion lines
/// costs linear time (a copy of the text so far per line was quadratic:
/// 100,000 DETAIL lines took 23 s).
fn absorb(parent: &mut Entry, child: Entry) {
    parent.body.push('\n');
    parent.body.push_str(&child.body);
    parent.event_ids.extend(child.event_ids);
    let pa = &mut parent.parsed.attributes;
    const FIRST_WINS: [PlainKey; 4] = [
        keys::DB_QUERY_TEXT,
        keys::DB_OPERATION_NAME,
        keys::PG_PARAMETERS,
        keys::MESSAGE_TRUNCATED_FROM,
    ];
    const JOINED: [PlainKey; 5] = [
        keys::PG_DETAIL,
        keys::PG_HINT,
        keys::PG_CONTEXT,
        keys::PG_INTERNAL_QUERY,
        keys::PG_LOCATION,
    ];
    for (key, value) in child.parsed.attributes.0 {
        match key.as_str() {
            k if FIRST_WINS.iter().any(|f| k == *f) && pa.get(&key).is_none() => {
                pa.insert(key, value);
            }
            k if JOINED.iter().any(|j| k == *j) => {
                let Some(new) = value.as_str() else { continue };
                match pa.0.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, Value::Str(old))) => {
                        old.push('\n');
                        old.push_str(new);
                    }
                    _ => pa.insert(key, new),
                }
            }
            // Prefix fields repeat the parent's.
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time;

    proptest::proptest! {
        /// The duration reader's loop gives what `leading_f64` gives, to
        /// the bit, and leaves the same rest: digits and dots in any
        /// number and order (past 15 digits, two dots, none), then a unit.
        #[test]
        fn duration_is_read_as_leading_f64_reads_it(
            text in "([0-9]{0,17}(\\.[0-9]{0,17})?|[0-9.]{0,22})( ms.*| |x|e5)?"
        ) {
            let fast = duration_ms(&text).map(|(v, rest)| (v.to_bits(), rest));
            let general = leading_f64(&text).map(|(v, rest)| (v.to_bits(), rest));
            proptest::prop_assert_eq!(fast, general, "{:?}", text);
        }
    }

    /// The keywords built at compile time are what the general reader
    /// gives, and any other start goes to it.
    #[test]
    fn common_keywords_are_what_the_general_reader_gives() {
        for sql in [
            "SELECT * FROM t",
            "INSERT INTO t VALUES (1)",
            "UPDATE t SET a = 1",
            "DELETE FROM t",
            "SELECT ",
        ] {
            let fast = common_keyword(sql).and_then(|v| v.as_str().map(str::to_owned));
            let general = first_sql_keyword(sql).map(|k| k.to_string());
            assert_eq!(fast, general, "{sql}");
        }
        for sql in [
            "select * from t",
            "SELECTED",
            "SELECT\n1",
            "SELECT(1)",
            "SELECT",
            " SELECT 1",
            "SELECT_x 1",
            "WITH a AS (SELECT 1) SELECT 1",
        ] {
            assert!(common_keyword(sql).is_none(), "{sql}");
        }
        let a = p(
            "2024-01-01 00:00:00 UTC:10.0.0.1(5432):app@db:[7]:LOG:  statement: UPDATE t SET a = 1",
        );
        assert_eq!(s(&a, keys::DB_OPERATION_NAME), Some("UPDATE"));
        assert_eq!(s(&a, keys::NETWORK_TRANSPORT), Some("tcp"));
        assert_eq!(s(&a, keys::PG_STATEMENT_KIND), Some("statement"));
        let a = p("2024-01-01 00:00:00 UTC:[local]:app@db:[7]:LOG:  statement: select 1");
        assert_eq!(s(&a, keys::DB_OPERATION_NAME), Some("SELECT"));
        assert_eq!(s(&a, keys::NETWORK_TRANSPORT), Some("unix"));
    }

    /// A long host name, and a `(` in it that is no port, read as the
    /// address.
    #[test]
    fn a_remote_host_past_64_bytes_is_read() {
        let host = format!("{}.example.com", "h".repeat(70));
        let a = p(&format!(
            "2024-01-01 00:00:00 UTC:{host}(5432):app@db:[7]:LOG:  statement: SELECT 1"
        ));
        assert_eq!(s(&a, keys::CLIENT_ADDRESS), Some(host.as_str()));
        assert_eq!(a.attributes.get(keys::CLIENT_PORT), Some(&Value::Int(5432)));
        // A `(` near the start that is no port, then the real one far on.
        let host = format!("a(b){}", "h".repeat(70));
        let a = p(&format!(
            "2024-01-01 00:00:00 UTC:{host}(5433):app@db:[7]:LOG:  statement: SELECT 1"
        ));
        assert_eq!(s(&a, keys::CLIENT_ADDRESS), Some(host.as_str()));
        assert_eq!(a.attributes.get(keys::CLIENT_PORT), Some(&Value::Int(5433)));
    }

    fn p(line: &str) -> Parsed {
        POSTGRESQL.parse(line)
    }
    fn s(p: &Parsed, k: PlainKey) -> Option<&str> {
        p.attributes.get_str(k)
    }
    fn i(p: &Parsed, k: PlainKey) -> Option<i64> {
        match p.attributes.get(k) {
            Some(Value::Int(v)) => Some(*v),
            _ => None,
        }
    }
    fn f(p: &Parsed, k: PlainKey) -> Option<f64> {
        match p.attributes.get(k) {
            Some(Value::Double(v)) => Some(*v),
            _ => None,
        }
    }

    #[test]
    fn rds_user_guide_examples() {
        let e = p("2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:ERROR: syntax error at or near \"ORDER\" at character 1");
        assert!(e.error.is_none());
        assert_eq!(e.severity.as_ref().unwrap().text, "ERROR");
        assert_eq!(e.severity.as_ref().unwrap().number, severity::ERROR);
        assert_eq!(e.timestamp_ns, time::utc_ns(2022, 10, 5, 22, 5, 56, 0));
        assert_eq!(s(&e, keys::CLIENT_ADDRESS), Some("52.95.4.1"));
        assert_eq!(i(&e, keys::CLIENT_PORT), Some(11335));
        assert_eq!(s(&e, keys::USER_NAME), Some("postgres"));
        assert_eq!(s(&e, keys::DB_NAMESPACE), Some("labdb"));
        assert_eq!(i(&e, keys::PROCESS_PID), Some(3639));

        let e = p("2022-10-05 19:05:19 UTC:52.95.4.1(6461):postgres@labdb:[6144]:LOG: statement: DROP table comments;");
        assert_eq!(s(&e, keys::DB_QUERY_TEXT), Some("DROP table comments;"));
        assert_eq!(s(&e, keys::DB_OPERATION_NAME), Some("DROP"));
        let e = p("2022-10-05 19:05:19 UTC:52.95.4.1(6461):postgres@labdb:[6144]:LOG: duration: 167.754 ms");
        assert_eq!(f(&e, keys::DB_QUERY_DURATION_MS), Some(167.754));
        let e = p("2022-10-05 19:08:07 UTC::@:[355]:LOG: checkpoint starting: time");
        assert_eq!(s(&e, keys::PG_EVENT), Some("checkpoint_starting"));
        assert_eq!(s(&e, keys::PG_CHECKPOINT_REASON), Some("time"));
        assert!(s(&e, keys::USER_NAME).is_none());
        let e = p("2020-03-04 12:13:46 UTC:10.1.47.201(31531):[unknown]@[unknown]:[3632]:LOG:  connection received: host=10.1.xx.xx port=31531");
        assert_eq!(s(&e, keys::PG_EVENT), Some("connection_received"));
        assert!(s(&e, keys::USER_NAME).is_none());
        assert_eq!(s(&e, keys::CLIENT_ADDRESS), Some("10.1.xx.xx"));
    }

    #[test]
    fn multi_line_statement_and_named_zones() {
        let e = p("2019-08-08 00:49:34 CEST:10.40.77.242(56266):xyz@xyz_db:[20474]:LOG:  duration: 5.076 ms  statement: SELECT col1, col2\n\tFROM sample1 JOIN sample2 ON sample1.id = sample2.id");
        assert_eq!(e.timestamp_ns, time::utc_ns(2019, 8, 7, 22, 49, 34, 0));
        assert_eq!(
            s(&e, keys::DB_QUERY_TEXT),
            Some("SELECT col1, col2\n\tFROM sample1 JOIN sample2 ON sample1.id = sample2.id")
        );
        assert_eq!(s(&e, keys::PG_STATEMENT_KIND), Some("statement"));
        let e = p("2020-03-11 20:40:44 CET:[local]:postgres@template1:[12774]:LOG:  duration: 0.027 ms  statement: ");
        assert!(e.error.is_none());
        assert_eq!(s(&e, keys::NETWORK_TRANSPORT), Some("unix"));
        assert_eq!(e.timestamp_ns, time::utc_ns(2020, 3, 11, 19, 40, 44, 0));
        // unknown zone: fields parsed, time left to CloudWatch
        let e = p("2020-03-11 20:40:44 XYZT::@:[1]:LOG:  hello");
        assert!(e.error.is_none() && e.timestamp_ns.is_none());
        let e = p("2020-03-11 20:40:44 UTC:::1(5432):u@d:[1]:LOG:  hi");
        assert_eq!(s(&e, keys::CLIENT_ADDRESS), Some("::1"));
    }

    #[test]
    fn second_rds_prefix_with_and_without_colon_before_the_application() {
        let line = "2024-01-02 03:04:05.678 UTC:10.0.0.9(40000):app@shop:[4242]:7:23505:2024-01-02 03:00:00 UTC:3/45:981:65a1b2c3.1092:psql:ERROR:  duplicate key value violates unique constraint \"p_pkey\"";
        let e = p(line);
        assert!(e.error.is_none(), "{:?}", e.error);
        assert_eq!(
            e.timestamp_ns,
            time::utc_ns(2024, 1, 2, 3, 4, 5, 678_000_000)
        );
        assert_eq!(i(&e, keys::PG_LINE_NUMBER), Some(7));
        assert_eq!(s(&e, keys::DB_RESPONSE_STATUS_CODE), Some("23505"));
        assert_eq!(
            s(&e, keys::PG_SESSION_START),
            Some("2024-01-02 03:00:00 UTC")
        );
        assert_eq!(s(&e, keys::PG_VIRTUAL_XID), Some("3/45"));
        assert_eq!(i(&e, keys::PG_XID), Some(981));
        assert_eq!(s(&e, keys::PG_SESSION_ID), Some("65a1b2c3.1092"));
        assert_eq!(s(&e, keys::PG_APPLICATION_NAME), Some("psql"));
        assert_eq!(e.severity.unwrap().text, "ERROR");

        let e = p("2024-01-02 03:04:05.678 UTC:10.0.0.9(40000):app@shop:[4242]:8:00000:2024-01-02 03:00:00 UTC:3/46:0:65a1b2c3.1092:psqlLOG:  statement: select 1");
        assert!(e.error.is_none(), "{:?}", e.error);
        assert_eq!(s(&e, keys::PG_APPLICATION_NAME), Some("psql"));
        assert!(s(&e, keys::DB_RESPONSE_STATUS_CODE).is_none());
        assert_eq!(s(&e, keys::DB_OPERATION_NAME), Some("SELECT"));
        // background process: %q stops before the application name
        let e = p("2024-01-02 03:04:05.001 UTC::@:[355]:1:00000:2024-01-02 02:00:00 UTC::0:65a1.163:LOG:  checkpoint starting: time");
        assert!(e.error.is_none(), "{:?}", e.error);
        assert!(s(&e, keys::PG_APPLICATION_NAME).is_none());
        assert_eq!(s(&e, keys::PG_EVENT), Some("checkpoint_starting"));
    }

    #[test]
    fn corpus_message_shapes() {
        let pre = "2026-11-25 07:50:30 UTC::@:[27354]:LOG:  ";
        let e = p(&format!("{pre}checkpoint complete: wrote 11897 buffers (72.6%); 0 WAL file(s) added, 0 removed, 25 recycled; write=39.276 s, sync=1.336 s, total=40.908 s; sync files=373, longest=0.008 s, average=0.004 s; distance=404713 kB, estimate=404713 kB"));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_BUFFERS), Some(11897));
        assert_eq!(f(&e, keys::PG_CHECKPOINT_BUFFERS_PCT), Some(72.6));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_WAL_ADDED), Some(0));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_WAL_RECYCLED), Some(25));
        assert_eq!(f(&e, keys::PG_CHECKPOINT_TOTAL_S), Some(40.908));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_SYNC_FILES), Some(373));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_DISTANCE_KB), Some(404713));
        assert_eq!(i(&e, keys::PG_CHECKPOINT_ESTIMATE_KB), Some(404713));

        let e = p(&format!(
            "{pre}temporary file: path \"base/pgsql_tmp/pgsql_tmp27636.0\", size 4833280"
        ));
        assert_eq!(
            s(&e, keys::PG_TEMP_FILE_PATH),
            Some("base/pgsql_tmp/pgsql_tmp27636.0")
        );
        assert_eq!(i(&e, keys::PG_TEMP_FILE_SIZE), Some(4833280));

        let e = p(&format!("{pre}automatic vacuum of table \"shopdb.pg_catalog.pg_statistic\": index scans: 1\n\tpages: 0 removed\n\tsystem usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.07 s"));
        assert_eq!(s(&e, keys::PG_EVENT), Some("autovacuum"));
        assert_eq!(
            s(&e, keys::PG_TABLE),
            Some("shopdb.pg_catalog.pg_statistic")
        );
        assert_eq!(f(&e, keys::PG_ELAPSED_S), Some(0.07));
        let e = p(&format!("{pre}automatic analyze of table \"shopdb.public.pgbench_branches\"\n\tsystem usage: CPU: user: 0.00 s, system: 0.00 s, elapsed: 0.00 s"));
        assert_eq!(s(&e, keys::PG_EVENT), Some("autoanalyze"));

        let e = p(&format!(
            "{pre}process 32504 still waiting for ShareLock on transaction 3614 after 1000.105 ms"
        ));
        assert_eq!(s(&e, keys::PG_EVENT), Some("lock_waiting"));
        assert_eq!(s(&e, keys::PG_LOCK_MODE), Some("ShareLock"));
        assert_eq!(s(&e, keys::PG_LOCK_OBJECT), Some("transaction 3614"));
        assert_eq!(f(&e, keys::PG_LOCK_WAIT_MS), Some(1000.105));
        let e = p(&format!(
            "{pre}process 32504 acquired ShareLock on transaction 3614 after 2980.431 ms"
        ));
        assert_eq!(s(&e, keys::PG_EVENT), Some("lock_acquired"));

        let e = p("2026-11-25 07:48:50 UTC:127.0.0.1(33994):shop_owner@shopdb:[27365]:LOG:  connection authenticated: identity=\"shop_owner\" method=scram-sha-256 (/rdsdbdata/A/pg/data/pg_hba.conf:5)");
        assert_eq!(s(&e, keys::PG_AUTH_IDENTITY), Some("shop_owner"));
        assert_eq!(s(&e, keys::PG_AUTH_METHOD), Some("scram-sha-256"));
        let e = p("2026-11-25 07:48:50 UTC:127.0.0.1(33994):shop_owner@shopdb:[27365]:LOG:  connection authorized: user=shop_owner database=shopdb application_name=pgbench");
        assert_eq!(s(&e, keys::PG_APPLICATION_NAME), Some("pgbench"));
        let e = p("2026-11-25 07:49:04 UTC:127.0.0.1(33994):shop_owner@shopdb:[27365]:LOG:  disconnection: session time: 0:00:14.407 user=shop_owner database=shopdb host=127.0.0.1 port=33994");
        assert_eq!(f(&e, keys::PG_SESSION_TIME_MS), Some(14407.0));
        let e = p("2026-11-25 07:49:45 UTC:127.0.0.1(39374):shop_owner@shopdb:[32059]:ERROR:  deadlock detected");
        assert_eq!(s(&e, keys::PG_EVENT), Some("deadlock"));
    }

    #[test]
    fn extended_protocol_and_parameters() {
        let pre = "2024-01-01 00:00:00 UTC:10.0.0.1(1):u@d:[9]:";
        let e = p(&format!(
            "{pre}LOG:  duration: 0.050 ms  execute S_1: SELECT * FROM t WHERE id = $1"
        ));
        assert_eq!(s(&e, keys::PG_STATEMENT_KIND), Some("execute"));
        assert_eq!(s(&e, keys::PG_PREPARED_NAME), Some("S_1"));
        assert_eq!(
            s(&e, keys::DB_QUERY_TEXT),
            Some("SELECT * FROM t WHERE id = $1")
        );
        let e = p(&format!(
            "{pre}LOG:  duration: 0.010 ms  bind <unnamed>: INSERT INTO t VALUES ($1)"
        ));
        assert_eq!(s(&e, keys::PG_PREPARED_NAME), Some("<unnamed>"));
        assert_eq!(s(&e, keys::DB_OPERATION_NAME), Some("INSERT"));
        let e = p(&format!("{pre}LOG:  execute <unnamed>: SELECT 1"));
        assert_eq!(s(&e, keys::PG_STATEMENT_KIND), Some("execute"));
        let e = p(&format!("{pre}DETAIL:  parameters: $1 = '42'"));
        assert_eq!(s(&e, keys::PG_PARAMETERS), Some("$1 = '42'"));
    }

    #[test]
    fn auto_explain_text_and_json() {
        let pre = "2026-11-25 07:48:50 UTC:127.0.0.1(33994):shop_owner@shopdb:[27365]:LOG:  duration: 260.717 ms  plan:\n";
        let e = p(&format!("{pre}\tQuery Text: INSERT INTO customers (id)\n\tSELECT g\n\tFROM generate_series(1, 60000) AS g;\n\tInsert on customers  (cost=0.00..4200.00 rows=0 width=0)\n\t  ->  Function Scan on generate_series g  (cost=0.00..3150.00 rows=60000 width=112)"));
        assert_eq!(s(&e, keys::PG_PLAN_FORMAT), Some("text"));
        assert_eq!(
            s(&e, keys::DB_QUERY_TEXT),
            Some("INSERT INTO customers (id)\nSELECT g\nFROM generate_series(1, 60000) AS g;")
        );
        assert!(s(&e, keys::PG_PLAN)
            .unwrap()
            .starts_with("Insert on customers"));
        assert_eq!(f(&e, keys::DB_QUERY_DURATION_MS), Some(260.717));
        let e = p(&format!("{pre}\t{{\n\t  \"Query Text\": \"select pg_sleep(1)\",\n\t  \"Plan\": {{\"Node Type\": \"Result\"}}\n\t}}"));
        assert_eq!(s(&e, keys::PG_PLAN_FORMAT), Some("json"));
        assert_eq!(s(&e, keys::DB_QUERY_TEXT), Some("select pg_sleep(1)"));
    }

    #[test]
    fn unrecognised_and_hostile_input_never_panics() {
        for bad in [
            "",
            "hello",
            "2022-10-05 22:05:56",
            "2022-10-05 22:05:56 UTC",
            "2022-10-05 22:05:56 UTC:",
            "2022-10-05 22:05:56 UTC:1.2.3.4(:",
            "2022-10-05 22:05:56 UTC::@:[",
            "2022-10-05 22:05:56 UTC::@:[1]:",
            "2022-10-05 22:05:56 UTC::@:[1]:BOGUS:  x",
            "2022-10-05 22:05:56 UTC::@:[1]:1:",
            "2022-10-05 22:05:56 UTC::@:[1]:1:00000:2022-10-05 22:05:56 UTC:",
            "2022-10-05 22:05:56 UTC:é(1):ü@ß:[1]:1:00000::::é",
            "2022-13-45 99:99:99 UTC::@:[1]:LOG:  x",
        ] {
            let r = p(bad);
            assert!(r.error.is_some() || bad.contains("2022-13"), "{bad:?}");
        }
        // every prefix of a real line, byte by byte
        let line = "2024-01-02 03:04:05.678 UTC:10.0.0.9(40000):app@shop:[4242]:7:23505:2024-01-02 03:00:00 UTC:3/45:981:65a1b2c3.1092:psql:ERROR:  dup é";
        for k in 0..line.len() {
            if line.is_char_boundary(k) {
                let _ = p(&line[..k]);
            }
        }
        assert!(UPGRADE
            .parse("Performing Consistency Checks")
            .error
            .is_none());
        assert!(UPGRADE.parse("").error.is_some());
    }

    #[test]
    fn verbose_error_verbosity_sqlstate_before_the_message() {
        const P: &str = "2026-11-25 07:59:31 UTC:10.0.0.5(5432):app@shop:[97390]:";
        let e = p(&format!("{P}LOG:  00000: statement: SELECT 1"));
        assert!(e.error.is_none());
        assert_eq!(s(&e, keys::DB_QUERY_TEXT), Some("SELECT 1"));
        assert_eq!(s(&e, keys::DB_OPERATION_NAME), Some("SELECT"));
        assert_eq!(s(&e, keys::PG_STATEMENT_KIND), Some("statement"));
        assert_eq!(s(&e, keys::DB_RESPONSE_STATUS_CODE), None);
        let e = p(&format!(
            "{P}LOG:  00000: duration: 12.5 ms  statement: UPDATE t SET a = 1"
        ));
        assert_eq!(f(&e, keys::DB_QUERY_DURATION_MS), Some(12.5));
        assert_eq!(s(&e, keys::DB_QUERY_TEXT), Some("UPDATE t SET a = 1"));
        assert_eq!(s(&e, keys::DB_OPERATION_NAME), Some("UPDATE"));
        let e = p(&format!(
            "{P}LOG:  00000: connection authorized: user=app database=shop"
        ));
        assert_eq!(s(&e, keys::PG_EVENT), Some("connection_authorized"));
        let e = p(&format!("{P}ERROR:  42P01: relation \"x\" does not exist"));
        assert_eq!(s(&e, keys::DB_RESPONSE_STATUS_CODE), Some("42P01"));
        assert_eq!(e.severity.as_ref().unwrap().text, "ERROR");
        // The second RDS prefix carries %e too; both agree.
        let e = p("2024-01-02 03:04:05.678 UTC:10.0.0.9(40000):app@shop:[4242]:7:23505:2024-01-02 03:00:00 UTC:3/45:981:65a1b2c3.1092:psql:ERROR:  23505: duplicate key value violates unique constraint \"t_pkey\"");
        assert_eq!(s(&e, keys::DB_RESPONSE_STATUS_CODE), Some("23505"));
        // Not a code: lower case, too short, no space after the colon.
        for text in ["abcde: x", "4201: x", "42P01:x"] {
            let e = p(&format!("{P}ERROR:  {text}"));
            assert_eq!(s(&e, keys::DB_RESPONSE_STATUS_CODE), None, "{text}");
        }

        let out = POSTGRESQL.join(vec![
            entry(
                "1",
                &format!("{P}ERROR:  42P01: relation \"x\" does not exist at character 15"),
            ),
            entry(
                "2",
                &format!("{P}LOCATION:  parserOpenTable, parse_relation.c:1384"),
            ),
            entry("3", &format!("{P}STATEMENT:  SELECT * FROM x")),
            entry(
                "4",
                &format!("{P}LOG:  00000: duration: 0.5 ms  statement: SELECT 2"),
            ),
            entry(
                "5",
                &format!("{P}LOCATION:  exec_simple_query, postgres.c:1303"),
            ),
        ]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].event_ids[..], ["1", "2", "3"]);
        assert_eq!(
            s(&out[0].parsed, keys::DB_RESPONSE_STATUS_CODE),
            Some("42P01")
        );
        assert_eq!(
            s(&out[0].parsed, keys::PG_LOCATION),
            Some("parserOpenTable, parse_relation.c:1384")
        );
        assert_eq!(
            s(&out[0].parsed, keys::DB_QUERY_TEXT),
            Some("SELECT * FROM x")
        );
        assert_eq!(out[1].event_ids[..], ["4", "5"]);
        assert_eq!(f(&out[1].parsed, keys::DB_QUERY_DURATION_MS), Some(0.5));
        assert_eq!(s(&out[1].parsed, keys::DB_QUERY_TEXT), Some("SELECT 2"));
        assert_eq!(
            s(&out[1].parsed, keys::PG_LOCATION),
            Some("exec_simple_query, postgres.c:1303")
        );
    }

    fn entry(id: &str, line: &str) -> Entry {
        Entry {
            event_ids: vec![id.to_owned()].into(),
            cloudwatch_timestamp_ms: 0,
            body: line.to_owned(),
            parsed: p(line),
            part: None,
        }
    }

    #[test]
    fn companions_join_their_parent_by_pid() {
        let entries = vec![
            entry("1", "2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:ERROR:  syntax error at or near \"ORDER\" at character 1"),
            entry("2", "2022-10-05 22:05:56 UTC::@:[355]:LOG:  checkpoint starting: time"),
            entry("3", "2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:HINT:  try again"),
            entry("4", "2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:STATEMENT:  ORDER BY s.confidence DESC;"),
            entry("5", "2022-10-05 22:05:57 UTC:52.95.4.1(11336):postgres@labdb:[4000]:STATEMENT:  SELECT orphan"),
            entry("6", "not a prefix"),
        ];
        let out = POSTGRESQL.join(entries);
        assert_eq!(out.len(), 4);
        assert_eq!(out[0].event_ids[..], ["1", "3", "4"]);
        assert!(out[0].body.ends_with("\n2022-10-05 22:05:56 UTC:52.95.4.1(11335):postgres@labdb:[3639]:STATEMENT:  ORDER BY s.confidence DESC;"));
        assert_eq!(
            s(&out[0].parsed, keys::DB_QUERY_TEXT),
            Some("ORDER BY s.confidence DESC;")
        );
        assert_eq!(s(&out[0].parsed, keys::DB_OPERATION_NAME), Some("ORDER"));
        assert_eq!(s(&out[0].parsed, keys::PG_HINT), Some("try again"));
        assert_eq!(out[0].parsed.severity.as_ref().unwrap().text, "ERROR");
        assert_eq!(out[2].event_ids[..], ["5"]);
        assert_eq!(out[2].parsed.severity.as_ref().unwrap().text, "STATEMENT");
        assert_eq!(out[3].event_ids[..], ["6"]);
    }

    /// The join compares the entry just before a companion first and falls
    /// back to the session map otherwise: both must pick the latest entry of
    /// the companion's session, never an older one nor a lone companion.
    #[test]
    fn companions_join_the_latest_entry_of_their_session() {
        const A: &str = "2022-10-05 22:05:56 UTC:10.0.0.5(40000):alice@shop:[7]:";
        const B: &str = "2022-10-05 22:05:56 UTC:10.0.0.6(40001):bob@shop:[8]:";
        let out = POSTGRESQL.join(vec![
            entry("1", &format!("{A}DETAIL:  no parent in this batch")),
            entry(
                "2",
                &format!("{A}HINT:  still none: a lone companion is no parent"),
            ),
            entry("3", &format!("{A}ERROR:  first")),
            entry("4", &format!("{B}ERROR:  other session")),
            entry("5", &format!("{A}DETAIL:  of 3, across 4")),
            entry("6", &format!("{A}ERROR:  second")),
            entry("7", &format!("{A}DETAIL:  of 6, straight after")),
            entry("8", &format!("{B}HINT:  of 4, across 6")),
            entry("9", &format!("{A}HINT:  of 6, across 4's join")),
        ]);
        let ids: Vec<Vec<&str>> = out
            .iter()
            .map(|e| e.event_ids.iter().map(String::as_str).collect())
            .collect();
        assert_eq!(
            ids,
            [
                vec!["1"],
                vec!["2"],
                vec!["3", "5"],
                vec!["4", "8"],
                vec!["6", "7", "9"]
            ]
        );
        assert_eq!(
            s(&out[4].parsed, keys::PG_DETAIL),
            Some("of 6, straight after")
        );
        assert_eq!(
            s(&out[4].parsed, keys::PG_HINT),
            Some("of 6, across 4's join")
        );
    }

    /// Issue 13: a companion line from another session that reuses the pid
    /// (another user, database or client) must not land in the victim's record.
    #[test]
    fn a_forged_companion_from_another_session_stays_alone() {
        let entries = vec![
            entry("1", "2022-10-05 22:05:56 UTC:10.0.0.5(40000):alice@shop:[3639]:ERROR:  permission denied for table pay"),
            entry("2", "2022-10-05 22:05:56 UTC:10.6.6.6(50000):mallory@shop:[3639]:DETAIL:  forged by mallory"),
            entry("3", "2022-10-05 22:05:56 UTC:10.0.0.5(40000):alice@shop:[3639]:STATEMENT:  SELECT * FROM pay"),
        ];
        let out = POSTGRESQL.join(entries);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(out[0].event_ids[..], ["1", "3"]);
        assert_eq!(s(&out[0].parsed, keys::PG_DETAIL), None);
        assert_eq!(out[1].event_ids[..], ["2"]);
    }

    /// Issue 13: joining copied the text so far for each companion line
    /// (100,000 DETAIL lines for one pid: 23 s). Eight times the lines must
    /// cost about eight times the work: the best of three runs, a ratio a
    /// quadratic join (64x) cannot meet. Timed in this thread's CPU time, so
    /// a loaded machine does not stretch one run.
    #[test]
    fn joining_companion_lines_is_linear() {
        let lines = |n: usize| -> Vec<Entry> {
            let mut v = vec![entry(
                "p",
                "2022-10-05 22:05:56 UTC:10.0.0.5(40000):a@d:[7]:ERROR:  boom",
            )];
            let detail = entry("d", "2022-10-05 22:05:56 UTC:10.0.0.5(40000):a@d:[7]:DETAIL:  one more line of detail text");
            v.extend(std::iter::repeat_n(detail, n));
            v
        };
        let best = |n: usize| {
            (0..3)
                .map(|_| {
                    let input = lines(n);
                    let t = cpu_time::ThreadTime::now();
                    let out = POSTGRESQL.join(input);
                    let spent = t.elapsed();
                    assert_eq!(out.len(), 1);
                    assert_eq!(out[0].event_ids.len(), n + 1);
                    spent
                })
                .min()
                .unwrap()
        };
        let (small, large) = (best(8_000), best(64_000));
        let ratio = large.as_secs_f64() / small.as_secs_f64().max(1e-9);
        println!("join: 8,000 lines {small:?}, 64,000 lines {large:?}, ratio {ratio:.1}");
        assert!(ratio < 24.0, "8x the lines cost {ratio:.1}x the time");
    }

    /// Issue 13: an impossible date in the prefix fell back to the CloudWatch
    /// time without a marker.
    #[test]
    fn an_impossible_prefix_date_is_marked() {
        let e = p("2026-02-30 10:00:00 UTC:10.0.0.5(1):u@d:[1]:LOG:  hello");
        assert_eq!(e.timestamp_ns, None);
        assert!(
            e.error.as_deref().unwrap().contains("impossible date-time"),
            "{e:?}"
        );
        assert_eq!(i(&e, keys::PROCESS_PID), Some(1), "the rest is still read");
        // An unknown zone name is no error: its time is left to CloudWatch.
        assert_eq!(p("2026-02-28 10:00:00 XYZT::@:[1]:LOG:  hi").error, None);
    }
}
