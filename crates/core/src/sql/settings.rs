//! The redaction settings: the user's own patterns on top of the built-in
//! rules, validated into the [`Redactor`] every stage uses.

use super::Redactor;
use crate::config_error::ConfigError;

/// Redaction settings, as given.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct RedactionSettings {
    /// Extra secret-redaction regexes, on top of the built-in rules (one per line in the
    /// environment variable; the flag may be repeated). Group 1 is masked when present,
    /// else the whole match.
    #[cfg_attr(
        feature = "clap",
        arg(
            help_heading = "Redaction",
            long = "redact-pattern",
            env = "RDSF_REDACT_PATTERNS",
            value_delimiter = '\n'
        )
    )]
    pub redact_patterns: Vec<String>,
}

impl RedactionSettings {
    /// The built-in rules plus the user's patterns; a pattern that does not
    /// compile names the setting.
    pub fn redactor(&self) -> Result<Redactor, ConfigError> {
        Redactor::new(&self.redact_patterns).map_err(|e| ConfigError::Invalid {
            setting: "RDSF_REDACT_PATTERNS",
            detail: e.to_string(),
        })
    }
}
