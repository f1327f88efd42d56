//! RDS for Oracle logs: alert log (`alert`), listener log (`listener`),
//! trace files (`trace`), Enterprise Manager agent (`oemagent*`), and the
//! text audit files (`audit`, a name MySQL shares; see
//! [`looks_like_oracle_audit`]).
//!
//! These logs are mostly free text, so every non-empty message is accepted;
//! what is read from it:
//! - a time: ISO 8601 with offset (`2024-05-23T06:09:53.123456+00:00`, the
//!   alert log since 12.2), `Wed May 23 06:09:53 2024` (older alert logs and
//!   audit files) or `23-MAY-2024 06:09:53` (listener), on the first line;
//! - every `ORA-NNNNN` / `TNS-NNNNN` code (the first is the status code);
//! - listener lines `time * (CONNECT_DATA=…) * (ADDRESS=…) * establish * SID * 0`;
//! - audit fields `ACTION :[7] 'CONNECT'`, `DATABASE USER:[1] '/'`, ….

use super::scan::{self, Civil};
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes, Value};
use crate::severity::{self, Severity};

pub struct Oracle;

/// The one instance the registry holds.
pub static ORACLE: Oracle = Oracle;

/// Internal errors and corruption: the alert-log entries a DBA must see.
const CRITICAL: [&str; 5] = [
    "ORA-00600",
    "ORA-07445",
    "ORA-04031",
    "ORA-00603",
    "ORA-01578",
];

/// Whether a message looks like an Oracle text audit record (the `audit`
/// log type is shared with MySQL's audit plugin, whose lines are CSV).
pub fn looks_like_oracle_audit(message: &str) -> bool {
    message.starts_with("Audit file ")
        || message.contains("ACTION :[")
        || message.contains("ACTION:[")
}

impl LogParser for Oracle {
    fn name(&self) -> &'static str {
        "oracle"
    }

    fn parse(&self, message: &str) -> Parsed {
        if message.trim().is_empty() {
            return Parsed::unrecognised("empty Oracle log message");
        }
        let mut attrs = Attributes::new();
        let first_line = message.lines().next().unwrap_or("");
        // Audit records put their time on the second line.
        let timestamp_ns = message.lines().take(3).find_map(leading_time);

        let codes = error_codes(message);
        let mut sev = if codes.iter().any(|c| CRITICAL.contains(&c.as_str())) {
            Severity::new_static("CRITICAL", severity::FATAL)
        } else if !codes.is_empty() {
            Severity::new_static("ERROR", severity::ERROR)
        } else if first_line.trim_start().starts_with("WARNING") {
            Severity::new_static("WARNING", severity::WARN)
        } else {
            Severity::new_static("INFO", severity::INFO)
        };
        if let Some(first) = codes.first() {
            attrs.insert(keys::DB_RESPONSE_STATUS_CODE, first.as_str());
            attrs.insert(
                keys::ORA_ERROR_CODES,
                Value::Array(codes.iter().map(|c| Value::from(c.as_str())).collect()),
            );
        }

        if first_line.contains(" * ") {
            if let Some(s) = listener(first_line, &mut attrs) {
                sev = s;
            }
        }
        if looks_like_oracle_audit(message) {
            audit_fields(message, &mut attrs);
        }
        Parsed {
            timestamp_ns,
            severity: Some(sev),
            attributes: attrs,
            db_system: Some("oracle.db"),
            error: None,
        }
    }
}

/// Every distinct `ORA-NNNNN` / `TNS-NNNNN` in order of appearance.
fn error_codes(m: &str) -> Vec<String> {
    let b = m.as_bytes();
    let mut codes: Vec<String> = Vec::new();
    for at in memchr::memchr_iter(b'-', b) {
        if at < 3 {
            continue;
        }
        let tag = &b[at - 3..at];
        if tag != b"ORA" && tag != b"TNS" {
            continue;
        }
        let digits = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if (4..=5).contains(&digits)
            && !b
                .get(at.wrapping_sub(4))
                .is_some_and(u8::is_ascii_alphanumeric)
        {
            let code = m[at - 3..at + 1 + digits].to_owned();
            if !codes.contains(&code) {
                codes.push(code);
            }
        }
    }
    codes
}

fn month(name: &str) -> Option<u32> {
    const M: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    let upper = name.to_ascii_uppercase();
    M.iter().position(|m| *m == upper).map(|i| i as u32 + 1)
}

fn hms(s: &str) -> Option<(u32, u32, u32)> {
    let b = s.as_bytes();
    if b.len() != 8 || b[2] != b':' || b[5] != b':' {
        return None;
    }
    Some((
        scan::num(&b[0..2])?,
        scan::num(&b[3..5])?,
        scan::num(&b[6..8])?,
    ))
}

/// The time at the start of a line, in the three Oracle styles.
fn leading_time(line: &str) -> Option<i64> {
    let b = line.as_bytes();
    if let Some((civil, n)) = scan::date_time(b, b"T", b".") {
        let zone = line[n..].split([' ', '\t']).next().unwrap_or("");
        return civil.to_ns(scan::zone_offset(zone).unwrap_or(0));
    }
    let mut words = line.split_whitespace();
    let first = words.next()?;
    // 23-MAY-2024 06:09:53
    if let [d, m, y] = first.split('-').collect::<Vec<_>>()[..] {
        let (hour, min, sec) = hms(words.next()?)?;
        let c = Civil {
            year: scan::num(y.as_bytes())? as i32,
            month: month(m)?,
            day: scan::num(d.as_bytes())?,
            hour,
            min,
            sec,
            nanos: 0,
        };
        return c.to_ns(0);
    }
    // Wed May 23 06:09:53 2024 [+00:00]
    let m = month(words.next()?)?;
    let d = scan::num(words.next()?.as_bytes())?;
    let (hour, min, sec) = hms(words.next()?)?;
    let y = scan::num(words.next()?.as_bytes())? as i32;
    let offset = words.next().and_then(scan::zone_offset).unwrap_or(0);
    let _ = first; // day of week
    Civil {
        year: y,
        month: m,
        day: d,
        hour,
        min,
        sec,
        nanos: 0,
    }
    .to_ns(offset)
}

/// A listener line: `time * [CONNECT_DATA * ADDRESS *] event * service * rc`.
fn listener(line: &str, attrs: &mut Attributes) -> Option<Severity> {
    let fields: Vec<&str> = line.split(" * ").map(str::trim).collect();
    let n = fields.len();
    if n < 4 {
        return None;
    }
    let rc: i64 = fields[n - 1].parse().ok()?;
    attrs.insert(keys::ORA_LISTENER_EVENT, fields[n - 3]);
    attrs.insert(keys::ORA_LISTENER_SERVICE, fields[n - 2]);
    attrs.insert(keys::ORA_LISTENER_RETURN_CODE, rc);
    for f in &fields[1..n - 3] {
        if f.starts_with("(CONNECT_DATA=") {
            if let Some(v) = paren_value(f, "(PROGRAM=") {
                attrs.insert(keys::ORA_PROGRAM, v);
            }
            if let Some(v) = paren_value(f, "(HOST=") {
                attrs.insert(keys::ORA_CLIENT_HOST, v);
            }
            if let Some(v) = paren_value(f, "(USER=") {
                attrs.insert(keys::USER_NAME, v);
            }
            if let Some(v) = paren_value(f, "(SERVICE_NAME=").or_else(|| paren_value(f, "(SID=")) {
                attrs.insert(keys::DB_NAMESPACE, v);
            }
        } else if f.starts_with("(ADDRESS=") {
            if let Some(v) = paren_value(f, "(HOST=") {
                attrs.insert(keys::CLIENT_ADDRESS, v);
            }
            if let Some(p) = paren_value(f, "(PORT=").and_then(|p| p.parse::<i64>().ok()) {
                attrs.insert(keys::CLIENT_PORT, p);
            }
            if let Some(proto) = paren_value(f, "(PROTOCOL=") {
                if proto.eq_ignore_ascii_case("tcp") || proto.eq_ignore_ascii_case("tcps") {
                    attrs.insert(keys::NETWORK_TRANSPORT, "tcp");
                }
            }
        }
    }
    if rc != 0 {
        attrs.insert(keys::DB_RESPONSE_STATUS_CODE, format!("TNS-{rc:05}"));
        return Some(Severity::new_static("ERROR", severity::ERROR));
    }
    None
}

/// The value of `(KEY=value)` in a TNS descriptor.
fn paren_value<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let at = s.find(key)? + key.len();
    let rest = &s[at..];
    Some(&rest[..rest.find(')')?]).filter(|v| !v.is_empty())
}

/// `NAME:[len] 'value'` lines of a text audit record.
fn audit_fields(m: &str, attrs: &mut Attributes) {
    for line in m.lines() {
        let Some((name, rest)) = line.split_once(":[") else {
            continue;
        };
        let Some(value) = rest
            .split_once("] '")
            .and_then(|(_, v)| v.strip_suffix('\''))
        else {
            continue;
        };
        let key = match name.trim() {
            "ACTION" => keys::ORA_AUDIT_ACTION,
            "DATABASE USER" => keys::USER_NAME,
            "PRIVILEGE" => keys::ORA_AUDIT_PRIVILEGE,
            "CLIENT USER" => keys::ORA_AUDIT_CLIENT_USER,
            "STATUS" => keys::DB_RESPONSE_STATUS_CODE,
            _ => continue,
        };
        attrs.insert(key, value);
    }
}

#[cfg(test)]
mod tests {
    //! No real Oracle server is available here: the listener line is the
    //! documented example from /work/shared/formats/README.md (AWS user
    //! guide); alert and audit lines follow the formats Oracle documents.
    use super::*;
    use crate::time;

    #[test]
    fn documented_listener_line() {
        let p = ORACLE.parse("23-MAY-2024 06:09:53 * (CONNECT_DATA=(CID=(PROGRAM=sqlplus)(HOST=client1)(USER=scott))(SID=ORCL)) * (ADDRESS=(PROTOCOL=tcps)(HOST=10.0.0.7)(PORT=50123)) * establish * ORCL * 0");
        assert!(p.error.is_none());
        assert_eq!(p.timestamp_ns, time::utc_ns(2024, 5, 23, 6, 9, 53, 0));
        let a = &p.attributes;
        assert_eq!(a.get_str(keys::ORA_LISTENER_EVENT), Some("establish"));
        assert_eq!(a.get_str(keys::ORA_LISTENER_SERVICE), Some("ORCL"));
        assert_eq!(a.get_str(keys::ORA_PROGRAM), Some("sqlplus"));
        assert_eq!(a.get_str(keys::USER_NAME), Some("scott"));
        assert_eq!(a.get_str(keys::DB_NAMESPACE), Some("ORCL"));
        assert_eq!(a.get_str(keys::CLIENT_ADDRESS), Some("10.0.0.7"));
        assert_eq!(a.get(keys::CLIENT_PORT), Some(&50123i64.into()));
        assert_eq!(p.severity.unwrap().number, severity::INFO);

        let p = ORACLE.parse("23-MAY-2024 06:09:54 * (CONNECT_DATA=(SERVICE_NAME=NOPE)) * (ADDRESS=(PROTOCOL=tcp)(HOST=10.0.0.7)(PORT=1)) * establish * NOPE * 12514");
        assert_eq!(
            p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
            Some("TNS-12514")
        );
        assert_eq!(p.severity.unwrap().number, severity::ERROR);
        let p = ORACLE.parse("23-MAY-2024 06:09:55 * service_update * ORCL * 0");
        assert_eq!(
            p.attributes.get_str(keys::ORA_LISTENER_EVENT),
            Some("service_update")
        );
    }

    #[test]
    fn alert_log_entries_with_ora_codes() {
        let p = ORACLE.parse("2024-05-23T06:09:53.123456+02:00\nErrors in file /rdsdbdata/log/diag/rdbms/orcl_a/ORCL/trace/ORCL_j000_123.trc:\nORA-12012: error on auto execute of job 42\nORA-01031: insufficient privileges");
        assert_eq!(
            p.timestamp_ns,
            time::utc_ns(2024, 5, 23, 4, 9, 53, 123_456_000)
        );
        assert_eq!(
            p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
            Some("ORA-12012")
        );
        assert_eq!(
            p.attributes.get(keys::ORA_ERROR_CODES),
            Some(&Value::Array(vec!["ORA-12012".into(), "ORA-01031".into()]))
        );
        assert_eq!(p.severity.unwrap().number, severity::ERROR);
        let p = ORACLE.parse("ORA-00600: internal error code, arguments: [kdsgrp1]");
        assert_eq!(p.severity.unwrap().number, severity::FATAL);
        let p = ORACLE
            .parse("Wed May 23 06:09:53 2024\nThread 1 advanced to log sequence 123 (LGWR switch)");
        assert_eq!(p.timestamp_ns, time::utc_ns(2024, 5, 23, 6, 9, 53, 0));
        assert_eq!(p.severity.unwrap().number, severity::INFO);
        assert!(ORACLE.parse("  \n").error.is_some());
        assert!(ORACLE.parse("XORA-12345 is no code").attributes.is_empty());
    }

    #[test]
    fn text_audit_record() {
        let rec = "Audit file /rdsdbdata/admin/ORCL/adump/ORCL_ora_1234_20240523.aud\nWed May 23 06:09:53 2024 +00:00\nLENGTH : '275'\nACTION :[7] 'CONNECT'\nDATABASE USER:[1] '/'\nPRIVILEGE :[6] 'SYSDBA'\nCLIENT USER:[6] 'rdsdb'\nSTATUS:[1] '0'";
        assert!(looks_like_oracle_audit(rec));
        let p = ORACLE.parse(rec);
        assert_eq!(
            p.attributes.get_str(keys::ORA_AUDIT_ACTION),
            Some("CONNECT")
        );
        assert_eq!(
            p.attributes.get_str(keys::ORA_AUDIT_PRIVILEGE),
            Some("SYSDBA")
        );
        assert_eq!(
            p.attributes.get_str(keys::ORA_AUDIT_CLIENT_USER),
            Some("rdsdb")
        );
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("/"));
        assert!(!looks_like_oracle_audit(
            "20221201 14:07:05,ip-10-22-1-51,rdsadmin,localhost,821,0,CONNECT,,,0,SOCKET"
        ));
    }
}
