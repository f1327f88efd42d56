//! RDS SQL Server logs: the error log (log type `error`, shared in name with
//! MySQL) and the SQL Server Agent log (`agent`).
//!
//! Error log: `2024-05-23 06:09:53.813 Logon       Login failed for user 'john'. …`
//! — time with a fraction, a source column (`Logon`, `Server`, `spid52`,
//! `Backup`, …), then the message; `Error: 18456, Severity: 14, State: 8.`
//! lines carry the error number and its severity (0–25).
//! Agent log: `2024-05-23 06:09:53 - ? [100] Microsoft SQLServerAgent …` —
//! `?` information, `+` warning, `!` error, then a message id.
//!
//! Neither line names a level word, so `severity_text` is SQL Server's own
//! wording for the class: `Informational`, `Warning`, `Error`, `Fatal`.

use super::scan;
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes};
use crate::severity::{self, Severity};

pub struct SqlServer;

/// The one instance the registry holds.
pub static SQLSERVER: SqlServer = SqlServer;

/// Whether a message is shaped like a SQL Server error-log or agent-log line.
/// The `error` log type is shared with MySQL/MariaDB, whose lines have a
/// thread number or `[Level]` after the time (or a `T` in it), never a word.
pub fn looks_like_sqlserver(message: &str) -> bool {
    error_log_line(message).is_some() || agent_line(message).is_some()
}

/// (time, source, message) of an error-log line.
fn error_log_line(m: &str) -> Option<(scan::Civil, &str, &str)> {
    let (civil, n) = scan::date_time(m.as_bytes(), b" ", b".")?;
    if !m[..n].contains('.') {
        return None;
    }
    let rest = m[n..].strip_prefix(' ')?.trim_start_matches(' ');
    let end = rest.find([' ', '\t', '\n']).unwrap_or(rest.len());
    let source = &rest[..end];
    if !source.starts_with(|c: char| c.is_ascii_alphabetic())
        || !source.bytes().all(|c| c.is_ascii_alphanumeric())
    {
        return None;
    }
    Some((civil, source, rest[end..].trim_start_matches([' ', '\t'])))
}

/// (time, type mark, message id, message) of an agent-log line.
fn agent_line(m: &str) -> Option<(scan::Civil, char, i64, &str)> {
    let (civil, n) = scan::date_time(m.as_bytes(), b" ", b"")?;
    let rest = m[n..].strip_prefix(" - ")?;
    let mark = rest
        .chars()
        .next()
        .filter(|c| matches!(c, '?' | '+' | '!'))?;
    let rest = rest[1..].strip_prefix(" [")?;
    let (id, rest) = scan::leading_i64(rest)?;
    let text = rest.strip_prefix(']')?.trim_start();
    Some((civil, mark, id, text))
}

fn class(error_severity: i64) -> Severity {
    match error_severity {
        ..=10 => Severity::new_static("Informational", severity::INFO),
        11..=16 => Severity::new_static("Error", severity::ERROR),
        17..=19 => Severity::new_static("Error", severity::ERROR + 2),
        _ => Severity::new_static("Fatal", severity::FATAL),
    }
}

impl LogParser for SqlServer {
    fn name(&self) -> &'static str {
        "sqlserver"
    }

    fn parse(&self, message: &str) -> Parsed {
        let mut attrs = Attributes::new();
        if let Some((civil, mark, id, _)) = agent_line(message) {
            attrs.insert(keys::MSSQL_AGENT_MESSAGE_ID, id);
            let sev = match mark {
                '!' => Severity::new_static("Error", severity::ERROR),
                '+' => Severity::new_static("Warning", severity::WARN),
                _ => Severity::new_static("Informational", severity::INFO),
            };
            return parsed(civil.to_ns(0), sev, attrs);
        }
        let Some((civil, source, text)) = error_log_line(message) else {
            return Parsed::unrecognised(
                "not a SQL Server error-log line (time, source, message) nor an agent-log line (time - ? [id] message)",
            );
        };
        attrs.insert(keys::MSSQL_SOURCE, source);
        if let Some(spid) = source
            .strip_prefix("spid")
            .and_then(|s| scan::leading_i64(s))
        {
            attrs.insert(keys::MSSQL_SPID, spid.0);
        }
        let first_line = text.lines().next().unwrap_or("");
        let mut sev = Severity::new_static("Informational", severity::INFO);
        if let Some(rest) = first_line.strip_prefix("Error: ") {
            if let Some((number, _)) = scan::leading_i64(rest) {
                attrs.insert(keys::DB_RESPONSE_STATUS_CODE, number.to_string());
            }
            if let Some((s, _)) = scan::word_after(rest, "Severity: ").and_then(scan::leading_i64) {
                attrs.insert(keys::MSSQL_ERROR_SEVERITY, s);
                sev = class(s);
            }
            if let Some((s, _)) = scan::word_after(rest, "State: ").and_then(scan::leading_i64) {
                attrs.insert(keys::MSSQL_ERROR_STATE, s);
            }
        } else if let Some(rest) = first_line.strip_prefix("Login failed for user '") {
            // Paired with error 18456, severity 14.
            sev = class(14);
            if let Some((user, _)) = rest.split_once('\'') {
                attrs.insert(keys::USER_NAME, user);
            }
        }
        if let Some(client) = first_line
            .split_once("[CLIENT: ")
            .and_then(|(_, r)| r.split_once(']'))
        {
            attrs.insert(keys::CLIENT_ADDRESS, client.0.trim());
        }
        parsed(civil.to_ns(0), sev, attrs)
    }
}

fn parsed(timestamp_ns: Option<i64>, sev: Severity, attributes: Attributes) -> Parsed {
    Parsed {
        timestamp_ns,
        severity: Some(sev),
        attributes,
        db_system: Some("microsoft.sql_server"),
        error: None,
    }
}

#[cfg(test)]
mod tests {
    //! No real SQL Server is available here: the error-log line is the
    //! documented example from /work/shared/formats/README.md (AWS / Sumo
    //! Logic documentation); the `Error:` and agent lines follow the formats
    //! SQL Server's documentation describes.
    use super::*;
    use crate::time;

    #[test]
    fn documented_error_log_line() {
        let line = "2024-05-23 06:09:53.813 Logon       Login failed for user 'john'. Reason: Password did not match that for the login provided. [CLIENT: 213.252.232.134]";
        assert!(looks_like_sqlserver(line));
        let p = SQLSERVER.parse(line);
        assert!(p.error.is_none());
        assert_eq!(
            p.timestamp_ns,
            time::utc_ns(2024, 5, 23, 6, 9, 53, 813_000_000)
        );
        assert_eq!(p.attributes.get_str(keys::MSSQL_SOURCE), Some("Logon"));
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("john"));
        assert_eq!(
            p.attributes.get_str(keys::CLIENT_ADDRESS),
            Some("213.252.232.134")
        );
        assert_eq!(p.severity.as_ref().unwrap().number, severity::ERROR);

        let p = SQLSERVER
            .parse("2024-05-23 06:09:53.81 spid52      Error: 18456, Severity: 14, State: 8.");
        assert_eq!(
            p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
            Some("18456")
        );
        assert_eq!(p.attributes.get(keys::MSSQL_SPID), Some(&52i64.into()));
        assert_eq!(
            p.attributes.get(keys::MSSQL_ERROR_STATE),
            Some(&8i64.into())
        );
        assert_eq!(p.severity.as_ref().unwrap().text, "Error");
        let p = SQLSERVER.parse("2024-05-23 06:09:53.81 Server      Microsoft SQL Server 2019 (RTM-CU22)\n\tCopyright (C) 2019");
        assert_eq!(p.severity.unwrap().text, "Informational");
    }

    #[test]
    fn agent_log_and_mysql_lines() {
        let p = SQLSERVER
            .parse("2024-05-23 06:09:53 - ! [364] The Messenger service has not been started");
        assert!(p.error.is_none());
        assert_eq!(
            p.attributes.get(keys::MSSQL_AGENT_MESSAGE_ID),
            Some(&364i64.into())
        );
        assert_eq!(p.severity.unwrap().number, severity::ERROR);
        for mysql in [
            "2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] CA certificate is self signed.",
            "2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)",
            "2026-11-25  7:59:31 0 [Note] InnoDB: Buffer pool(s) load completed",
            "",
        ] {
            assert!(!looks_like_sqlserver(mysql), "{mysql}");
            assert!(SQLSERVER.parse(mysql).error.is_some());
        }
    }
}
