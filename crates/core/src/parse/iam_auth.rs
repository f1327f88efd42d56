//! IAM database authentication errors (log type `iam-db-auth-error`, every
//! engine): `2025-08-11T04:00:05,804 [ERROR] Failed to authenticate the
//! connection request for user 'testuser' because …`. The time has a comma
//! before the milliseconds and no zone; RDS writes it in UTC.

use super::scan;
use super::{LogParser, Parsed};
use crate::record::{keys, Attributes};
use crate::severity::Severity;

pub struct IamAuth;

impl LogParser for IamAuth {
    fn name(&self) -> &'static str {
        "iam-db-auth-error"
    }

    fn parse(&self, message: &str) -> Parsed {
        let Some((civil, n)) = scan::date_time(message.as_bytes(), b"T ", b",.") else {
            return Parsed::unrecognised("no time stamp (YYYY-MM-DDTHH:MM:SS,fff) at the start");
        };
        let rest = message[n..].trim_start_matches('Z');
        let Some(rest) = rest.strip_prefix(" [") else {
            return Parsed::unrecognised("no [LEVEL] after the time stamp");
        };
        let Some((word, text)) = rest.split_once(']') else {
            return Parsed::unrecognised("unterminated [LEVEL]");
        };
        let Some(severity) = Severity::from_word(word) else {
            return Parsed::unrecognised(format!("unknown level {word:?}"));
        };
        let mut attrs = Attributes::new();
        if let Some(user) = text
            .split_once(" user '")
            .and_then(|(_, r)| r.split_once('\''))
        {
            attrs.insert(keys::USER_NAME, user.0);
        }
        Parsed {
            timestamp_ns: civil.to_ns(0),
            severity: Some(severity),
            attributes: attrs,
            db_system: None,
            error: None,
        }
    }
}

#[cfg(test)]
mod tests {
    //! No real IAM-auth failure log is available here: the line is the
    //! documented example from /work/shared/formats/README.md.
    use super::*;
    use crate::{severity, time};

    #[test]
    fn documented_example() {
        let p = IamAuth.parse("2025-08-11T04:00:05,804 [ERROR] Failed to authenticate the connection request for user 'testuser' because the provided token is expired.");
        assert!(p.error.is_none());
        assert_eq!(
            p.timestamp_ns,
            time::utc_ns(2025, 8, 11, 4, 0, 5, 804_000_000)
        );
        assert_eq!(p.severity.as_ref().unwrap().text, "ERROR");
        assert_eq!(p.severity.as_ref().unwrap().number, severity::ERROR);
        assert_eq!(p.attributes.get_str(keys::USER_NAME), Some("testuser"));
        for bad in [
            "",
            "[ERROR] x",
            "2025-08-11T04:00:05,804 ERROR",
            "2025-08-11T04:00:05,804 [HUH] x",
        ] {
            assert!(IamAuth.parse(bad).error.is_some(), "{bad:?}");
        }
    }
}
