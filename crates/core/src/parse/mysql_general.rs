//! MySQL / MariaDB / Aurora MySQL general query log (log type `general`).
//!
//! ```text
//! 261125  7:52:29\t     3 Connect\troot@localhost on  using Socket        MariaDB, time when it changed
//! \t\t     6 Query\tCREATE USER …                                         MariaDB, same second
//! 2021-08-10T09:57:26.077268Z    2 Query\tSELECT durable_lsn, …            MySQL 5.7 / 8.0
//! ```
//! The argument may span lines (multi-line statements); the entry keeps them.

use super::mysql_common::{
    is_server_header, leading_time, mentions_mariadb, operation_name, quoted_user_host, TimeStyle,
};
use super::scan::finder;
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes};

pub struct MySqlGeneral;

/// Commands whose argument is a statement.
const STATEMENT_COMMANDS: [&str; 3] = ["Query", "Prepare", "Execute"];

impl LogParser for MySqlGeneral {
    fn name(&self) -> &'static str {
        "mysql_general"
    }

    fn parse(&self, message: &str) -> Parsed {
        // A file header RDS published with (or as) this event is no command.
        let mut message = message;
        let mut had_header = false;
        let mut header_mariadb = false;
        // Lines and tabs found with `memchr`: `split`/`find` with a char set
        // up a searcher per call, ~500 instructions a line in all (callgrind).
        while let Some(first) = Some(&message[..line_end(message)]).filter(|l| is_server_header(l))
        {
            had_header = true;
            header_mariadb |= mentions_mariadb(first);
            message = message.get(first.len() + 1..).unwrap_or("");
        }
        if had_header && message.trim().is_empty() {
            return Parsed {
                db_system: header_mariadb.then_some("mariadb"),
                ..Parsed::default()
            };
        }
        let mut p = Parsed {
            // Room for every attribute a line can set: no regrowth.
            attributes: Attributes::with_capacity(8),
            ..Parsed::default()
        };
        let mut rest = message;
        if let Some((ns, used, style)) = leading_time(message) {
            p.timestamp_ns = Some(ns);
            p.db_system = match style {
                TimeStyle::Iso => Some("mysql"),
                // MySQL ≥ 5.7 writes ISO times; the short form is MariaDB's.
                TimeStyle::Short | TimeStyle::Spaced => Some("mariadb"),
            };
            rest = &message[used..];
        }
        if !rest.starts_with([' ', '\t']) {
            return Parsed::unrecognised("mysql general log: no thread id and command");
        }
        let rest = &rest[rest
            .bytes()
            .take_while(|c| matches!(c, b' ' | b'\t'))
            .count()..];
        let id_len = rest.bytes().take_while(u8::is_ascii_digit).count();
        let Some(after_id) = rest[id_len..].strip_prefix(' ').filter(|_| id_len > 0) else {
            return Parsed::unrecognised("mysql general log: no thread id and command");
        };
        // The command runs to the tab (MariaDB writes `Quit\t`); MySQL may end the line instead.
        let first_line_end = line_end(after_id);
        let (command, argument) =
            match memchr::memchr(b'\t', &after_id.as_bytes()[..first_line_end]) {
                Some(tab) => (&after_id[..tab], &after_id[tab + 1..]),
                None => (
                    after_id[..first_line_end].trim_end(),
                    &after_id[first_line_end..],
                ),
            };
        let command = command.trim();
        if command.is_empty()
            || command.len() > 24
            || !command
                .bytes()
                .all(|c| c.is_ascii_alphabetic() || c == b' ')
        {
            return Parsed::unrecognised("mysql general log: no thread id and command");
        }
        // A fresh list, each key written once (the branches exclude each
        // other): no key scan.
        if let Ok(id) = rest[..id_len].parse::<i64>() {
            p.attributes.push_new(keys::MYSQL_THREAD_ID, id);
        }
        p.attributes.push_new(keys::MYSQL_COMMAND, command);
        let argument = argument.trim_end();

        match command {
            c if STATEMENT_COMMANDS.contains(&c) && !argument.is_empty() => {
                if let Some(op) = operation_name(argument) {
                    p.attributes.push_new(keys::DB_OPERATION_NAME, op);
                }
                p.attributes.push_new(keys::DB_QUERY_TEXT, argument);
            }
            "Connect" => connect(argument, &mut p),
            "Init DB" => {
                if let Some((user, host)) =
                    quoted_user_host(argument, finder!(b"Access denied for user "))
                {
                    p.attributes.push_new(keys::USER_NAME, user);
                    p.attributes.push_new(keys::CLIENT_ADDRESS, host);
                } else if !argument.is_empty() {
                    p.attributes.push_new(keys::DB_NAMESPACE, argument);
                }
            }
            _ => {}
        }
        p
    }
}

/// Where the first line of `s` ends (its `\n`, or the end).
fn line_end(s: &str) -> usize {
    memchr::memchr(b'\n', s.as_bytes()).unwrap_or(s.len())
}

/// `web_app@127.0.0.1 on storefront using TCP/IP`, or
/// `Access denied for user 'x'@'h' (using password: YES)`.
fn connect(argument: &str, p: &mut Parsed) {
    if let Some((user, host)) = quoted_user_host(argument, finder!(b"Access denied for user ")) {
        p.attributes.push_new(keys::USER_NAME, user);
        p.attributes.push_new(keys::CLIENT_ADDRESS, host);
        return;
    }
    let (who, rest) = argument.split_once(" on ").unwrap_or((argument, ""));
    if let Some((user, host)) = who.rsplit_once('@') {
        if !user.is_empty() {
            p.attributes.push_new(keys::USER_NAME, user);
        }
        if !host.is_empty() {
            p.attributes.push_new(keys::CLIENT_ADDRESS, host);
        }
    }
    let db = rest.split(" using ").next().unwrap_or("").trim();
    if !db.is_empty() {
        p.attributes.push_new(keys::DB_NAMESPACE, db);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    #[test]
    fn mariadb_lines() {
        let p =
            MySqlGeneral.parse("261125  7:52:29\t     3 Connect\troot@localhost on  using Socket");
        assert_eq!(p.error, None);
        assert_eq!(
            p.attributes.get(keys::MYSQL_THREAD_ID),
            Some(&Value::Int(3))
        );
        assert_eq!(p.attributes.get_str(keys::MYSQL_COMMAND), Some("Connect"));
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("root"));
        assert_eq!(
            p.attributes.get_str(keys::CLIENT_ADDRESS),
            Some("localhost")
        );
        assert_eq!(p.attributes.get(keys::DB_NAMESPACE), None);
        assert_eq!(p.db_system, Some("mariadb"));

        let p =
            MySqlGeneral.parse("\t\t     7 Query\tCREATE TABLE t (\n    id INT\n) ENGINE=InnoDB");
        assert_eq!(p.timestamp_ns, None);
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("CREATE TABLE t (\n    id INT\n) ENGINE=InnoDB")
        );
        assert_eq!(
            p.attributes.get_str(keys::DB_OPERATION_NAME),
            Some("CREATE")
        );

        let p = MySqlGeneral.parse("\t\t     3 Quit\t");
        assert_eq!(p.attributes.get_str(keys::MYSQL_COMMAND), Some("Quit"));
        let p = MySqlGeneral.parse(
            "\t\t    28 Init DB\tAccess denied for user 'bi_reader'@'%' to database 'mysql'",
        );
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("bi_reader"));
        let p = MySqlGeneral.parse("\t\t     8 Init DB\tslap_promo");
        assert_eq!(p.attributes.get_str(keys::DB_NAMESPACE), Some("slap_promo"));
        let p =
            MySqlGeneral.parse("\t\t    25 Connect\tweb_app@127.0.0.1 on storefront using TCP/IP");
        assert_eq!(p.attributes.get_str(keys::DB_NAMESPACE), Some("storefront"));
    }

    #[test]
    fn mysql8_lines_and_garbage() {
        let p =
            MySqlGeneral.parse("2021-08-10T09:57:26.077268Z    2 Query\tSELECT durable_lsn FROM t");
        assert_eq!(p.db_system, Some("mysql"));
        assert_eq!(
            p.attributes.get_str(keys::DB_QUERY_TEXT),
            Some("SELECT durable_lsn FROM t")
        );
        let p = MySqlGeneral.parse("2021-08-10T09:57:26.077268Z    9 Quit");
        assert_eq!(p.attributes.get_str(keys::MYSQL_COMMAND), Some("Quit"));
        let p = MySqlGeneral.parse("/usr/sbin/mariadbd, Version: 10.11.19-MariaDB-0+deb12u1-log (Debian 12). started with:\nTcp port: 53306  Unix socket: /x.sock\nTime\t\t    Id Command\tArgument\n\t\t     3 Quit\t");
        assert_eq!(p.error, None);
        assert_eq!(p.attributes.get_str(keys::MYSQL_COMMAND), Some("Quit"));
        let p = MySqlGeneral.parse("Tcp port: 3306  Unix socket: /tmp/mysql.sock");
        assert_eq!(p.error, None);
        assert_eq!(p.db_system, None);
        for bad in ["", "hello", "   x Query\tSELECT", "\t\t 3 Qu1t\t"] {
            assert!(MySqlGeneral.parse(bad).error.is_some(), "{bad:?}");
        }
    }
}
