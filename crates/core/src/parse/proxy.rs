//! RDS Proxy logs (log group `/aws/rds/proxy/<name>`):
//! `2025-05-30T12:28:53.383Z [INFO] Database "database-4" at 172.31.1.99:3306 is now available …`.
//! AWS calls the text "intended for human consumption, format subject to
//! change", so only the time, the level and the target endpoint are read.

use super::scan;
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes};
use crate::severity::{self, Severity};

pub struct Proxy;

impl LogParser for Proxy {
    fn name(&self) -> &'static str {
        "rds-proxy"
    }

    fn parse(&self, message: &str) -> Parsed {
        let b = message.as_bytes();
        let Some((civil, n)) = scan::date_time(b, b"T", b".") else {
            return Parsed::unrecognised(
                "no RDS Proxy time stamp (YYYY-MM-DDTHH:MM:SS.fffZ) at the start",
            );
        };
        let rest = &message[n..];
        // RDS Proxy writes UTC (`Z`).
        let rest = rest.strip_prefix('Z').unwrap_or(rest);
        let Some(rest) = rest.strip_prefix(" [") else {
            return Parsed::unrecognised("no [LEVEL] after the RDS Proxy time stamp");
        };
        let Some((word, text)) = rest.split_once(']') else {
            return Parsed::unrecognised("unterminated [LEVEL] in an RDS Proxy line");
        };
        let number = match word {
            "TRACE" => severity::TRACE,
            "DEBUG" => severity::DEBUG,
            "INFO" => severity::INFO,
            "WARN" | "WARNING" => severity::WARN,
            "ERROR" => severity::ERROR,
            "FATAL" => severity::FATAL,
            _ => return Parsed::unrecognised(format!("unknown RDS Proxy level {word:?}")),
        };
        let text = text.trim_start();
        let mut attrs = Attributes::new();
        // `Database "name" at host:port …`: the endpoint the proxy talks to.
        if let Some(rest) = text.strip_prefix("Database \"") {
            if let Some((name, after)) = rest.split_once('"') {
                attrs.insert(keys::PROXY_TARGET, name);
                if let Some(endpoint) = scan::word_after(after, " at ") {
                    if let Some((host, port)) = endpoint.rsplit_once(':') {
                        if let Ok(p) = port.parse::<i64>() {
                            attrs.insert(keys::SERVER_ADDRESS, host);
                            attrs.insert(keys::SERVER_PORT, p);
                        }
                    }
                }
            }
        }
        Parsed {
            timestamp_ns: civil.to_ns(0),
            severity: Some(Severity {
                text: word.to_owned().into(),
                number,
            }),
            attributes: attrs,
            db_system: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    //! No real RDS Proxy is available here: the lines are the documented
    //! examples from /work/shared/formats/README.md (AWS RDS user guide).
    use super::*;
    use crate::time;

    #[test]
    fn documented_example() {
        let p = Proxy.parse("2025-05-30T12:28:53.383Z [INFO] Database \"database-4\" at 172.31.1.99:3306 is now available for read/write access from 172.31.46.36. Version: MySQL: 8.0.41.");
        assert!(p.error.is_none());
        assert_eq!(
            p.timestamp_ns,
            time::utc_ns(2025, 5, 30, 12, 28, 53, 383_000_000)
        );
        assert_eq!(p.severity.as_ref().unwrap().text, "INFO");
        assert_eq!(p.attributes.get_str(keys::PROXY_TARGET), Some("database-4"));
        assert_eq!(
            p.attributes.get_str(keys::SERVER_ADDRESS),
            Some("172.31.1.99")
        );
        let p = Proxy.parse("2025-05-30T12:28:53.383Z [WARN] The client session was closed");
        assert_eq!(p.severity.unwrap().number, severity::WARN);
        for bad in [
            "",
            "x",
            "2025-05-30T12:28:53.383Z",
            "2025-05-30T12:28:53.383Z [NOPE] x",
            "2025-05-30T12:28:53Z [INFO",
        ] {
            assert!(Proxy.parse(bad).error.is_some(), "{bad:?}");
        }
    }
}
