//! Severity as OpenTelemetry models it: the source's own level word plus a
//! number in OTel's bands (TRACE 1–4, DEBUG 5–8, INFO 9–12, WARN 13–16,
//! ERROR 17–20, FATAL 21–24), so backends can filter across engines.

use std::borrow::Cow;

pub const TRACE: u8 = 1;
pub const DEBUG: u8 = 5;
pub const INFO: u8 = 9;
pub const INFO2: u8 = 10;
pub const WARN: u8 = 13;
pub const ERROR: u8 = 17;
pub const FATAL: u8 = 21;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Severity {
    /// The engine's own word (`LOG`, `ERROR`, `Note`, `Warning`, …).
    pub text: Cow<'static, str>,
    /// 1–24 in OpenTelemetry's bands.
    pub number: u8,
}

impl Severity {
    pub const fn new_static(text: &'static str, number: u8) -> Self {
        Severity {
            text: Cow::Borrowed(text),
            number,
        }
    }

    /// The default for a record nobody assigned a level to.
    pub const fn info() -> Self {
        Self::new_static("INFO", INFO)
    }

    /// The name of the OTel band a number falls into.
    pub fn band(number: u8) -> &'static str {
        match number {
            1..=4 => "TRACE",
            5..=8 => "DEBUG",
            9..=12 => "INFO",
            13..=16 => "WARN",
            17..=20 => "ERROR",
            21..=24 => "FATAL",
            _ => "UNSPECIFIED",
        }
    }

    /// Maps a generic level word (any case) into a band; `None` when the word
    /// is no level at all. Engine parsers handle their own vocabularies and
    /// fall back to this.
    pub fn from_word(word: &str) -> Option<Self> {
        let number = match word.to_ascii_uppercase().as_str() {
            "TRACE" => TRACE,
            "DEBUG" | "DEBUG1" | "DEBUG2" | "DEBUG3" | "DEBUG4" | "DEBUG5" => DEBUG,
            "INFO" | "INFORMATION" | "LOG" | "NOTE" | "SYSTEM" => INFO,
            "NOTICE" => INFO2,
            "WARN" | "WARNING" => WARN,
            "ERR" | "ERROR" => ERROR,
            "FATAL" | "CRITICAL" | "PANIC" | "EMERGENCY" | "ALERT" => FATAL,
            _ => return None,
        };
        Some(Severity {
            text: Cow::Owned(word.to_owned()),
            number,
        })
    }
}

impl Default for Severity {
    fn default() -> Self {
        Self::info()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fall_into_otel_bands() {
        assert_eq!(Severity::from_word("LOG").unwrap().number, INFO);
        assert_eq!(Severity::from_word("Warning").unwrap().number, WARN);
        assert_eq!(Severity::from_word("ERROR").unwrap().number, ERROR);
        assert_eq!(Severity::from_word("PANIC").unwrap().number, FATAL);
        assert_eq!(Severity::from_word("DEBUG3").unwrap().number, DEBUG);
        assert!(Severity::from_word("statement").is_none());
        assert_eq!(Severity::band(14), "WARN");
        assert_eq!(Severity::band(0), "UNSPECIFIED");
    }
}
