//! MariaDB audit plugin (RDS MySQL and MariaDB) and Aurora MySQL advanced
//! auditing (log type `audit`): one CSV record per event,
//!
//! ```text
//! timestamp,serverhost,username,host,connectionid,queryid,operation,database,object,retcode[,connection_type]
//! 20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET
//! 20261125 07:52:29,vm,root,localhost,6,7,QUERY,mysql,'CREATE USER \'web_app\'@\'%\' IDENTIFIED BY *****',0
//! 1603438736650167,database-1-instance-1,admin,1.34.6.81,30,964317,QUERY,world,'create database mysqldemo',0
//! ```
//! The object of a QUERY is single-quoted with `\'` escapes and may hold
//! commas and newlines; for table events (READ, WRITE, CREATE, …) it is the
//! table name. Aurora stamps microseconds since the Unix epoch.
//! The CSV crate is not used: the plugin escapes with backslashes, not by
//! doubling quotes, which RFC 4180 readers do not understand.

use std::borrow::Cow;
use std::cell::Cell;

use super::mysql_common::operation_name;
use super::scan::{first_positions, int_value};
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes};
use crate::time;

pub struct MySqlAudit;

impl LogParser for MySqlAudit {
    fn name(&self) -> &'static str {
        "mysql_audit"
    }

    /// An event holding several records (a whole file wrapped as one event)
    /// is cut before each line that starts a record after the end of the
    /// one before (the line holding its object's closing quote); lines that
    /// start none stay with the record before them.
    fn split<'m>(&self, message: &'m str) -> Option<Vec<&'m str>> {
        // A record ends at a line break: with none there is one record
        // (nearly every event), told by one search instead of reading its
        // fields (~680 instructions an event, callgrind).
        memchr::memchr(b'\n', message.as_bytes())?;
        split_records(message)
    }

    fn parse(&self, message: &str) -> Parsed {
        match parse_record(message) {
            Some(p) => p,
            None => Parsed::unrecognised(
                "mysql audit log: not a MariaDB audit plugin or Aurora advanced auditing record",
            ),
        }
    }
}

/// [`LogParser::split`] without the line-break test: the records of
/// `message` when it holds two or more.
fn split_records(message: &str) -> Option<Vec<&str>> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut line_end = record_end(message);
    while let Some(end) = line_end {
        let next = end + 1;
        if is_record_start(&message[next..]) {
            parts.push(&message[start..end]);
            start = next;
            line_end = record_end(&message[start..]).map(|e| start + e);
        } else {
            line_end = message[next..].find('\n').map(|k| next + k);
        }
    }
    if parts.is_empty() {
        return None;
    }
    let last = &message[start..];
    parts.push(last.strip_suffix('\n').unwrap_or(last));
    Some(parts)
}

fn parse_record(message: &str) -> Option<Parsed> {
    let mut p = Parsed {
        // Room for every attribute a record can set: no regrowth.
        attributes: Attributes::with_capacity(12),
        ..Parsed::default()
    };
    let ([stamp, server_host, user, host, connection_id, query_id, operation, database], rest) =
        leading_fields(message)?;
    let (ts, aurora) = audit_time(stamp)?;
    if !operation
        .bytes()
        .all(|c| c.is_ascii_uppercase() || c == b'_')
        || operation.is_empty()
    {
        return None;
    }
    let (object, quoted, after_object) = object_field(rest)?;
    let (retcode, extra_field, connection_type) = after_object_fields(after_object);

    p.timestamp_ns = Some(ts);
    // Aurora's own format is MySQL. RDS MySQL (5.7.34+, 8.0) runs the MariaDB
    // plugin with a `connection_type` field after retcode; MariaDB's plugin
    // writes none. A heuristic: a record without it is taken as MariaDB.
    p.db_system = Some(if aurora || extra_field {
        "mysql"
    } else {
        "mariadb"
    });
    // A fresh list, each key written once (the branches exclude each
    // other): no key scan.
    let a = &mut p.attributes;
    a.push_new(keys::MYSQL_AUDIT_SERVER_HOST, server_host);
    if !user.is_empty() {
        a.push_new(keys::USER_NAME, user);
    }
    if !host.is_empty() {
        a.push_new(keys::CLIENT_ADDRESS, host);
    }
    if let Some(id) = int_value(connection_id) {
        a.push_new(keys::MYSQL_THREAD_ID, id);
    }
    if let Some(id) = int_value(query_id) {
        a.push_new(keys::MYSQL_QUERY_ID, id);
    }
    a.push_new(keys::MYSQL_AUDIT_OPERATION, operation);
    if !database.is_empty() {
        a.push_new(keys::DB_NAMESPACE, database);
    }
    if let Some(code) = int_value(retcode) {
        a.push_new(keys::MYSQL_AUDIT_RETCODE, code);
        if code != 0 {
            a.push_new(keys::DB_RESPONSE_STATUS_CODE, retcode);
        }
    }
    if !connection_type.is_empty() {
        a.push_new(keys::MYSQL_AUDIT_CONNECTION_TYPE, connection_type);
    }
    if !object.is_empty() {
        if quoted || operation == "QUERY" {
            let statement = unescape(object);
            if let Some(op) = operation_name(&statement) {
                a.push_new(keys::DB_OPERATION_NAME, op);
            }
            match statement {
                Cow::Borrowed(text) => a.push_new(keys::DB_QUERY_TEXT, text),
                Cow::Owned(text) => a.push_new(keys::DB_QUERY_TEXT, text),
            }
        } else {
            a.push_new(keys::DB_COLLECTION_NAME, object);
            a.push_new(keys::MYSQL_AUDIT_OBJECT, object);
        }
    }
    Some(p)
}

/// `retcode[,connection_type[,…]]`: (retcode, whether a field follows it,
/// connection_type), trimmed; by [`comma`], not `str::split`'s char
/// searcher (~100 instructions a record, callgrind).
fn after_object_fields(after_object: &str) -> (&str, bool, &str) {
    let (retcode, extra) = match comma(after_object.as_bytes()) {
        Some(k) => (&after_object[..k], Some(&after_object[k + 1..])),
        None => (after_object, None),
    };
    let connection_type = extra.map_or("", |e| &e[..comma(e.as_bytes()).unwrap_or(e.len())]);
    (retcode.trim(), extra.is_some(), connection_type.trim())
}

/// The eight fields before the object (they never hold commas) and what
/// follows their last comma, found in one pass ([`first_positions`]):
/// a search per field cost ~350 instructions a record (callgrind).
fn leading_fields(message: &str) -> Option<([&str; 8], &str)> {
    let commas = first_positions::<8>(message.as_bytes(), b',')?;
    let mut fields = [""; 8];
    let mut start = 0;
    for (field, comma) in fields.iter_mut().zip(commas) {
        // `,` is ASCII: every cut is at a character boundary.
        *field = &message[start..comma];
        start = comma + 1;
    }
    Some((fields, &message[start..]))
}

/// Where the first `,` of `b` is. A plain loop: the fields before the
/// object are a few bytes each, and `memchr`'s set-up per call cost more
/// than the scan (~40 instructions a field, callgrind).
fn comma(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b',')
}

/// Whether `s` starts with a record: a time, then the fields up to an
/// upper-case operation (none holds a comma or a line break).
fn is_record_start(s: &str) -> bool {
    let line = s.split('\n').next().unwrap_or("");
    let mut fields = line.splitn(8, ',');
    let mut next = || fields.next();
    let (Some(stamp), Some(_), Some(_), Some(_), Some(conn), Some(query), Some(op)) =
        (next(), next(), next(), next(), next(), next(), next())
    else {
        return false;
    };
    let number = |f: &str| !f.is_empty() && f.bytes().all(|c| c.is_ascii_digit());
    audit_time(stamp).is_some()
        && number(conn)
        && number(query)
        && !op.is_empty()
        && op.bytes().all(|c| c.is_ascii_uppercase() || c == b'_')
        && fields.next().is_some()
}

/// Where the record starting `s` ends: the line break after its object
/// (after the closing quote of a quoted one); `None` when it is the last.
fn record_end(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = first_positions::<8>(b, b',')?[7] + 1;
    if b.get(i) == Some(&b'\'') {
        i += 1 + closing_quote(&b[i + 1..])?;
    }
    memchr::memchr(b'\n', &b[i..]).map(|k| i + k)
}

/// Where the single-quoted text that `b` starts inside ends: the index of
/// its closing quote, skipping `\x` escapes; `None` when it is not closed.
/// Jumps from one quote or backslash to the next (memchr2) rather than
/// stepping byte by byte: statements are most of an audit log's bytes.
fn closing_quote(b: &[u8]) -> Option<usize> {
    let mut i = 0;
    loop {
        i += memchr::memchr2(b'\\', b'\'', b.get(i..)?)?;
        if b[i] == b'\'' {
            return Some(i);
        }
        i += 2;
    }
}

/// `YYYYMMDD HH:MM:SS` (UTC) or Aurora's microseconds since the epoch.
fn audit_time(stamp: &str) -> Option<(i64, bool)> {
    audit_time_with(stamp, true)
}

/// [`audit_time`]; without `digits_first` only by the general reading, the
/// reference the tests hold the fast one to.
fn audit_time_with(stamp: &str, digits_first: bool) -> Option<(i64, bool)> {
    let b = stamp.as_bytes();
    if b.len() == 17 && b[8] == b' ' && b[11] == b':' && b[14] == b':' {
        // All digits (every real record): read from their fixed places, or
        // the ns of the record before when the stamp is the same (~45
        // instructions), where six `small_number` calls and chrono cost
        // ~315 (callgrind).
        if let Some(ns) = digits_first.then(|| digit_stamp_ns(b)).flatten() {
            return Some((ns, false));
        }
        let n = |r: std::ops::Range<usize>| small_number(stamp.get(r)?);
        let ns = time::utc_ns(
            n(0..4)? as i32,
            n(4..6)?,
            n(6..8)?,
            n(9..11)?,
            n(12..14)?,
            n(15..17)?,
            0,
        )?;
        return Some((ns, false));
    }
    if (13..=17).contains(&b.len()) && b.iter().all(u8::is_ascii_digit) {
        let micros: i64 = stamp.parse().ok()?;
        return Some((micros.checked_mul(1000)?, true));
    }
    None
}

thread_local! {
    /// The last all-digit stamp read and its ns. Records come in time
    /// order and many share their second: a 17-byte comparison
    /// (~20 instructions) instead of reading it again (~180, callgrind).
    /// The zero bytes it starts with are no stamp (byte 8 is not a space).
    static LAST_STAMP: Cell<([u8; 17], i64)> = const { Cell::new(([0; 17], 0)) };
}

/// The ns of a 17-byte `YYYYMMDD HH:MM:SS` whose number places all hold
/// digits ([`LAST_STAMP`] when it is the one before); `None` for an
/// impossible date or time, or when a place holds no digit (the caller
/// then reads it with [`small_number`]).
fn digit_stamp_ns(b: &[u8]) -> Option<i64> {
    let stamp: [u8; 17] = b.try_into().ok()?;
    let (last, last_ns) = LAST_STAMP.get();
    if stamp == last {
        return Some(last_ns);
    }
    let [y, mo, d, h, mi, s] = stamp_digits(b)?;
    let ns = time::utc_ns(y as i32, mo, d, h, mi, s, 0)?;
    LAST_STAMP.set((stamp, ns));
    Some(ns)
}

/// The six numbers of a 17-byte `YYYYMMDD HH:MM:SS` when its fourteen
/// number places all hold digits; `None` sends it to [`small_number`].
fn stamp_digits(b: &[u8]) -> Option<[u32; 6]> {
    const PLACES: [std::ops::Range<usize>; 6] = [0..4, 4..6, 6..8, 9..11, 12..14, 15..17];
    let mut numbers = [0u32; 6];
    for (n, places) in numbers.iter_mut().zip(PLACES) {
        for &c in b.get(places)? {
            let digit = c.wrapping_sub(b'0');
            if digit > 9 {
                return None;
            }
            *n = *n * 10 + u32::from(digit);
        }
    }
    Some(numbers)
}

/// A date or time field of 1 to 4 characters as `str::parse` reads it: the
/// digits-only case by hand (six `parse` calls were ~300 instructions a
/// record, callgrind), anything else (a `+` sign, junk) still by `parse`.
fn small_number(s: &str) -> Option<u32> {
    if !s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit()) {
        return Some(s.bytes().fold(0, |n, c| n * 10 + u32::from(c - b'0')));
    }
    s.parse().ok()
}

/// The object field: (raw text between the quotes or up to the comma,
/// whether it was quoted, what follows its comma).
fn object_field(rest: &str) -> Option<(&str, bool, &str)> {
    let Some(body) = rest.strip_prefix('\'') else {
        let (object, after) = match comma(rest.as_bytes()) {
            Some(k) => (&rest[..k], &rest[k + 1..]),
            None => (rest, ""),
        };
        return Some((object.trim_end(), false, after));
    };
    let close = closing_quote(body.as_bytes())?;
    let after = &body[close + 1..];
    // The closing quote is followed by `,retcode` (or ends the record).
    let after = after.strip_prefix(',').unwrap_or(after);
    Some((&body[..close], true, after))
}

/// Undoes the plugin's escapes: `\'`, `\\`, `\n`, `\r`, `\t`; borrows
/// when there is none (most statements), copying runs between escapes.
fn unescape(s: &str) -> Cow<'_, str> {
    let Some(first) = memchr::memchr(b'\\', s.as_bytes()) else {
        return Cow::Borrowed(s);
    };
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    let mut at = Some(first);
    while let Some(k) = at {
        out.push_str(&rest[..k]);
        // `\` is ASCII, so the character after it starts at k + 1.
        let mut after = rest[k + 1..].chars();
        match after.next() {
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('t') => out.push('\t'),
            Some(other) => out.push(other),
            None => out.push('\\'),
        }
        rest = after.as_str();
        at = memchr::memchr(b'\\', rest.as_bytes());
    }
    out.push_str(rest);
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    #[test]
    fn mariadb_plugin_records() {
        let p = MySqlAudit.parse("20261125 07:52:29,vm,root,localhost,6,7,QUERY,mysql,'CREATE USER \\'web_app\\'@\\'%\\' IDENTIFIED BY *****',0");
        assert_eq!(p.error, None);
        let a = &p.attributes;
        assert_eq!(
            a.get_str(keys::DB_QUERY_TEXT),
            Some("CREATE USER 'web_app'@'%' IDENTIFIED BY *****")
        );
        assert_eq!(a.get_str(keys::DB_OPERATION_NAME), Some("CREATE"));
        assert_eq!(a.get(keys::MYSQL_THREAD_ID), Some(&Value::Int(6)));
        assert_eq!(a.get(keys::MYSQL_QUERY_ID), Some(&Value::Int(7)));
        assert_eq!(a.get(keys::MYSQL_AUDIT_RETCODE), Some(&Value::Int(0)));
        assert_eq!(a.get_str(keys::DB_NAMESPACE), Some("mysql"));
        assert_eq!(p.timestamp_ns, time::utc_ns(2026, 11, 25, 7, 52, 29, 0));
        assert_eq!(p.db_system, Some("mariadb"));

        let p = MySqlAudit
            .parse("20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET");
        assert_eq!(
            p.attributes.get_str(keys::MYSQL_AUDIT_CONNECTION_TYPE),
            Some("SOCKET")
        );
        assert_eq!(
            p.attributes.get_str(keys::MYSQL_AUDIT_OPERATION),
            Some("CONNECT")
        );
        let p = MySqlAudit.parse("20230501 10:02:19,ip-10-1-0-50,rdsadmin,localhost,7,585281,QUERY,,'select a, b from t where (type <> \\'BACKGROUND\\'\nand x)',0,,");
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("select a, b from t where (type <> 'BACKGROUND'\nand x)")
        );
        let p =
            MySqlAudit.parse("20261125 07:52:34,vm,web_app,127.0.0.1,25,0,FAILED_CONNECT,,,1045");
        assert_eq!(
            p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
            Some("1045")
        );
        let p = MySqlAudit
            .parse("20261125 07:52:29,vm,web_app,127.0.0.1,7,18,CREATE,storefront,catalog_items,");
        assert_eq!(
            p.attributes.get_str(keys::DB_COLLECTION_NAME),
            Some("catalog_items")
        );
    }

    #[test]
    fn an_event_holding_several_records_is_split() {
        let recs = [
            "1603442208508100,database-1-instance-1,admin,1.34.6.81,50,0,CONNECT,,,0",
            "1603442208508200,database-1-instance-1,admin,1.34.6.81,50,1234,QUERY,mydb,'select \\'a\\',\n1603442208508250,h,u,c,1,2,QUERY,x,\nfrom t',0",
            "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,DISCONNECT,,,0,SOCKET",
        ];
        let event = format!("{}\n", recs.join("\n"));
        assert_eq!(MySqlAudit.split(&event), Some(recs.to_vec()));
        assert_eq!(MySqlAudit.split(recs[1]), None);
        // A line that starts no record stays with the one before.
        let odd = format!("{}\ngarbage,1\n{}", recs[0], recs[2]);
        assert_eq!(
            MySqlAudit.split(&odd),
            Some(vec![format!("{}\ngarbage,1", recs[0]).as_str(), recs[2]])
        );
        for s in ["", "\n", ",,,,,,,,'", ",,,,,,,,'\\", "a,b,c,d,e,f,g,h,\n"] {
            let _ = MySqlAudit.split(s);
        }
    }

    /// [`audit_time`] as it was before [`stamp_digits`] and the remembered
    /// stamp: six [`small_number`] calls and chrono.
    fn audit_time_by_small_numbers(stamp: &str) -> Option<(i64, bool)> {
        audit_time_with(stamp, false)
    }

    /// [`leading_fields`] as it was: one [`comma`] search per field.
    fn leading_fields_by_comma(message: &str) -> Option<([&str; 8], &str)> {
        let mut fields = [""; 8];
        let mut rest = message;
        for field in &mut fields {
            let comma = comma(rest.as_bytes())?;
            *field = &rest[..comma];
            rest = &rest[comma + 1..];
        }
        Some((fields, rest))
    }

    /// The tail as `str::split` read it before [`after_object_fields`].
    fn after_object_fields_by_split(after_object: &str) -> (&str, bool, &str) {
        let mut tail = after_object.split(',');
        let retcode = tail.next().unwrap_or("").trim();
        let extra_field = tail.clone().next().is_some();
        let connection_type = tail.next().unwrap_or("").trim();
        (retcode, extra_field, connection_type)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(20_000))]
        /// The fixed-place reading gives what the `small_number` and chrono
        /// reading gave: real stamps (any digits, impossible dates and
        /// times included), stamps with a sign, space or letter in a number
        /// place, Aurora's microseconds, and any short text.
        #[test]
        fn audit_time_equals_the_small_number_reading(
            stamp in proptest::prop_oneof![
                "[0-9]{8} [0-9]{2}:[0-9]{2}:[0-9]{2}",
                "(19|20)[0-9]{2}(0[0-9]|1[0-3])([0-3][0-9]) ([0-2][0-9]):([0-6][0-9]):([0-6][0-9])",
                "[0-9+ a-]{8}[ x][0-9+ -]{2}[:.][0-9+]{2}:[0-9+]{2}",
                "[0-9]{12,18}",
                "[0-9 :+]{0,20}",
                ".{0,18}",
            ],
        ) {
            proptest::prop_assert_eq!(audit_time(&stamp), audit_time_by_small_numbers(&stamp));
        }

        /// Runs of stamps drawn from a few (repeats in a row and returns to
        /// an earlier one, impossible dates between them): the remembered
        /// last stamp never answers for another.
        #[test]
        fn remembered_stamps_equal_the_small_number_reading(
            stamps in proptest::collection::vec(proptest::sample::select(vec![
                "20261125 07:52:29", "20261125 07:52:30", "20261126 07:52:29", "20230229 00:00:00",
                "20240229 00:00:00", "2026+125 07:52:29", "20261125 07:52:2x", "1603438736650167",
            ]), 1..12),
        ) {
            for stamp in stamps {
                proptest::prop_assert_eq!(audit_time(stamp), audit_time_by_small_numbers(stamp), "{}", stamp);
            }
        }

        /// One pass cuts the leading fields where a search per field cut
        /// them: missing fields, empty ones, quotes and non-ASCII text.
        #[test]
        fn leading_fields_equal_a_search_per_field(message in "[a-z0-9,' é\\\n]{0,70}") {
            proptest::prop_assert_eq!(leading_fields(&message), leading_fields_by_comma(&message));
        }

        /// Records cut short anywhere: recognised exactly when the old
        /// field cuts, the old time reading and the object allow it.
        #[test]
        fn records_cut_anywhere_are_recognised_as_the_old_reading_says(
            cut in 0..120usize,
            record in proptest::sample::select(vec![
                "20261125 07:52:29,vm,root,localhost,4,2,QUERY,,'SELECT \\'a\\', b',0",
                "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET",
                "1603439251354761,database-1-instance-1,admin,1.34.6.81,30,966941,CREATE,world,customers,",
            ]),
        ) {
            let message = &record[..cut.min(record.len())];
            let p = MySqlAudit.parse(message);
            let whole = leading_fields_by_comma(message).is_some_and(|(f, rest)| {
                audit_time_by_small_numbers(f[0]).is_some()
                    && !f[6].is_empty()
                    && f[6].bytes().all(|c| c.is_ascii_uppercase() || c == b'_')
                    && object_field(rest).is_some()
            });
            proptest::prop_assert_eq!(p.error.is_none(), whole, "{:?}", message);
        }

        /// The byte loop reads the tail as the char searcher did.
        #[test]
        fn after_object_fields_equal_str_split(tail in "[0-9a-zA-Z, \t\né]{0,12}") {
            proptest::prop_assert_eq!(
                after_object_fields(&tail),
                after_object_fields_by_split(&tail)
            );
        }

        /// The line-break test only skips messages that `split_records`
        /// would leave whole; records, junk lines and quoted objects with
        /// line breaks in any order.
        #[test]
        fn split_by_line_break_test_equals_reading_the_records(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                "20261125 07:52:29,vm,root,localhost,3,0,CONNECT,,,0",
                "1603442208508100,database-1-instance-1,admin,1.34.6.81,50,0,CONNECT,,,0",
                "20261125 07:52:29,vm,root,localhost,4,2,QUERY,,'SELECT \\'a\n,b',0",
                "20261125 07:52:29,vm,web_app,127.0.0.1,7,18,CREATE,storefront,catalog_items,",
                "garbage,1",
                "",
                "'",
                "x,y',0",
            ]), 0..6),
            trailing_break in proptest::bool::ANY,
        ) {
            let mut message = parts.join("\n");
            if trailing_break {
                message.push('\n');
            }
            proptest::prop_assert_eq!(MySqlAudit.split(&message), split_records(&message));
        }
    }

    #[test]
    fn aurora_records_and_garbage() {
        let p = MySqlAudit.parse("1603438736650167,database-1-instance-1,admin,1.34.6.81,30,964317,QUERY,world,'create database mysqldemo',0");
        assert_eq!(p.timestamp_ns, Some(1_603_438_736_650_167_000));
        assert_eq!(p.db_system, Some("mysql"));
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("create database mysqldemo")
        );
        let p = MySqlAudit.parse("1603439251354761,database-1-instance-1,admin,1.34.6.81,30,966941,CREATE,world,customers,");
        assert_eq!(
            p.attributes.get_str(keys::DB_COLLECTION_NAME),
            Some("customers")
        );
        for bad in [
            "",
            "a,b,c",
            "20261125 07:52:29,vm,root,localhost,6,7,QUERY,mysql,'unterminated",
            "x,vm,root,localhost,6,7,QUERY,,,0",
        ] {
            assert!(MySqlAudit.parse(bad).error.is_some(), "{bad:?}");
        }
    }
}
