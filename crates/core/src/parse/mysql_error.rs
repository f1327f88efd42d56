//! MySQL / MariaDB / Aurora MySQL error log (log type `error`).
//!
//! ```text
//! 2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] CA certificate … is self signed.   MySQL 8
//! … [Note] [MY-010914] [Server] Aborted connection … (sql_connect.cc:842)                        Aurora 3
//! 2023-06-09T15:33:05.690097Z 0 [Note] Shutting down slave threads                              MySQL 5.7
//! 2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)  MariaDB
//! 261125  7:52:29 server_audit: MariaDB Audit Plugin version 1.4.14 STARTED.                    short form
//! ```
//! An entry keeps every continuation line (InnoDB deadlock dumps) in its body.

use super::mysql_common::{leading_time, mentions_mariadb, quoted_user_host, TimeStyle};
use super::scan::finder;
use super::{LogParser, Parsed};
use crate::record::keys;
use crate::severity::Severity;

pub struct MySqlError;

impl LogParser for MySqlError {
    fn name(&self) -> &'static str {
        "mysql_error"
    }

    fn parse(&self, message: &str) -> Parsed {
        let Some((ts, used, style)) = leading_time(message) else {
            return Parsed::unrecognised(
                "mysql error log: no time stamp at the start of the entry",
            );
        };
        let mut p = Parsed {
            timestamp_ns: Some(ts),
            ..Parsed::default()
        };
        let first_line =
            &message[..memchr::memchr(b'\n', message.as_bytes()).unwrap_or(message.len())];
        let mut rest = first_line[used..].trim_start();

        // Thread id (absent in the short form).
        let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        if id_len > 0 && rest[id_len..].starts_with(' ') {
            if let Ok(id) = rest[..id_len].parse::<i64>() {
                p.attributes.insert(keys::MYSQL_THREAD_ID, id);
            }
            rest = rest[id_len..].trim_start();
        }

        // [Level], then MySQL 8's [MY-NNNNNN] and [Subsystem].
        if let Some((level, after)) = bracketed(rest) {
            if let Some(sev) = Severity::from_word(level) {
                p.severity = Some(sev);
                rest = after;
                if let Some((code, after)) = bracketed(rest).filter(|(c, _)| c.starts_with("MY-")) {
                    p.attributes.insert(keys::DB_RESPONSE_STATUS_CODE, code);
                    rest = after;
                    if let Some((subsystem, after)) = bracketed(rest) {
                        p.attributes.insert(keys::MYSQL_SUBSYSTEM, subsystem);
                        rest = after;
                    }
                }
            }
        }
        if p.attributes.get(keys::MYSQL_SUBSYSTEM).is_none() {
            if let Some(sub) = ["InnoDB", "Aria", "Mroonga", "server_audit"]
                .into_iter()
                .find(|s| rest.strip_prefix(s).is_some_and(|r| r.starts_with(':')))
            {
                p.attributes.insert(keys::MYSQL_SUBSYSTEM, sub);
            }
        }
        // Aurora MySQL 3: ` (sql_connect.cc:842)` at the end of the first line.
        if let Some(loc) = source_location(rest) {
            p.attributes.insert(keys::MYSQL_SOURCE_LOCATION, loc);
        }
        if let Some((user, host)) = quoted_user_host(rest, finder!(b"Access denied for user ")) {
            p.attributes.insert(keys::USER_NAME, user);
            p.attributes.insert(keys::CLIENT_ADDRESS, host);
        }

        p.db_system = if p.attributes.get(keys::DB_RESPONSE_STATUS_CODE).is_some() {
            Some("mysql")
        } else if mentions_mariadb(message) || (style == TimeStyle::Spaced && p.severity.is_some())
        {
            // The `[Level]` check keeps SQL Server's `2024-05-23 06:09:53.813 Logon …`
            // (same log type `error`, same date style) from passing as MariaDB.
            Some("mariadb")
        } else if style == TimeStyle::Iso {
            Some("mysql")
        } else {
            None
        };
        p
    }
}

/// `[word] rest` → (word, rest without leading spaces).
fn bracketed(s: &str) -> Option<(&str, &str)> {
    let inner = s.strip_prefix('[')?;
    let end = inner.find(']')?;
    let word = &inner[..end];
    if word.is_empty() || word.len() > 32 || word.contains(' ') {
        return None;
    }
    Some((word, inner[end + 1..].trim_start()))
}

/// `… (file.cc:NNN)` at the end of a line → `file.cc:NNN`.
fn source_location(line: &str) -> Option<&str> {
    let line = line.trim_end();
    let inner = line.strip_suffix(')')?;
    let open = inner.rfind('(')?;
    let loc = &inner[open + 1..];
    let (file, lineno) = loc.rsplit_once(':')?;
    let is_source = [".cc", ".c", ".h", ".cpp", ".ic"]
        .iter()
        .any(|ext| file.ends_with(ext))
        && !file.contains(' ')
        && !lineno.is_empty()
        && lineno.bytes().all(|c| c.is_ascii_digit());
    is_source.then_some(loc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::severity;

    fn parse(s: &str) -> Parsed {
        MySqlError.parse(s)
    }

    #[test]
    fn mysql8_and_aurora3() {
        let p = parse("2020-08-06T14:25:02.936146Z 0 [Warning] [MY-010068] [Server] CA certificate /var/mysql/sslinfo/cacert.pem is self signed.");
        assert_eq!(p.error, None);
        assert_eq!(p.severity.as_ref().unwrap().text, "Warning");
        assert_eq!(p.severity.as_ref().unwrap().number, severity::WARN);
        assert_eq!(
            p.attributes.get_str(keys::DB_RESPONSE_STATUS_CODE),
            Some("MY-010068")
        );
        assert_eq!(p.attributes.get_str(keys::MYSQL_SUBSYSTEM), Some("Server"));
        assert_eq!(p.attributes.get(keys::MYSQL_THREAD_ID), Some(&0i64.into()));
        assert_eq!(p.db_system, Some("mysql"));
        let p = parse("2024-01-01T00:00:00.000000Z 2025180 [Note] [MY-010914] [Server] Aborted connection 2025180 to db: 'unconnected' user: 'rdsadmin' host: 'localhost' (The client was disconnected by the server because of inactivity.). (sql_connect.cc:842)");
        assert_eq!(
            p.attributes.get_str(keys::MYSQL_SOURCE_LOCATION),
            Some("sql_connect.cc:842")
        );
        assert_eq!(p.severity.unwrap().text, "Note");
    }

    #[test]
    fn mysql57_mariadb_and_short_form() {
        let p = parse("2020-10-23T07:13:26.298081Z 34 [Note] Access denied for user 'admin'@'58.182.98.237' (using password: YES)");
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("admin"));
        assert_eq!(
            p.attributes.get_str(keys::CLIENT_ADDRESS),
            Some("58.182.98.237")
        );
        assert_eq!(p.db_system, Some("mysql"));
        let p = parse("2023-04-27 14:36:09 14487 [Warning] Access denied for user 'dev'@'1.2.3.4' (using password: YES)");
        assert_eq!(
            p.attributes.get(keys::MYSQL_THREAD_ID),
            Some(&14487i64.into())
        );
        assert_eq!(p.db_system, Some("mariadb"));
        let p = parse("2026-11-25  7:59:31 0 [ERROR] InnoDB: Cannot open datafile\nsecond line");
        assert_eq!(p.severity.as_ref().unwrap().number, severity::ERROR);
        assert_eq!(p.attributes.get_str(keys::MYSQL_SUBSYSTEM), Some("InnoDB"));
        let p = parse("261125  7:52:29 server_audit: MariaDB Audit Plugin version 1.4.14 STARTED.");
        assert_eq!(p.error, None);
        assert_eq!(p.severity, None);
        assert_eq!(
            p.attributes.get_str(keys::MYSQL_SUBSYSTEM),
            Some("server_audit")
        );
        assert_eq!(p.db_system, Some("mariadb"));
        assert!(parse("Version: '10.11' socket").error.is_some());
        let p = parse("2024-05-23 06:09:53.813 Logon       Login failed for user 'john'. [CLIENT: 213.252.232.134]");
        assert_eq!(p.db_system, None);
        assert!(parse("").error.is_some());
    }
}
