//! Configuration: environment variables, each mirrored by a CLI flag (clap's
//! `env` support gives both from one definition), validated into [`Config`].

use clap::Args;
use thiserror::Error;

use crate::secret::Secret;
use crate::sink::whatap::WhatapConfig;

/// Default bound on one payload's decompressed size.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{setting}: {detail}")]
    Invalid {
        setting: &'static str,
        detail: String,
    },
}

/// The settings every mode shares (Lambda, `replay`). Flags override the
/// environment variables named beside them.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Sinks to deliver to, comma-separated (stdout, whatap, otlp). Default: each
    /// configured backend (WhaTap host + licence, OTLP endpoint), else stdout.
    #[arg(
        help_heading = "General",
        long,
        env = "RDSF_SINKS",
        value_delimiter = ','
    )]
    pub sinks: Vec<String>,

    /// Upper bound on one payload's decompressed size, in bytes.
    #[arg(help_heading = "General", long, env = "RDSF_MAX_DECOMPRESSED_BYTES", default_value_t = DEFAULT_MAX_DECOMPRESSED_BYTES)]
    pub max_decompressed_bytes: usize,

    /// AWS region put on log records (`cloud.region`); EventBridge events carry their own.
    #[arg(help_heading = "General", long, env = "AWS_REGION")]
    pub region: Option<String>,

    /// Our own diagnostics on stderr: error, warn, info, debug, trace or off.
    #[arg(
        help_heading = "General",
        long,
        env = "RDSF_LOG_LEVEL",
        default_value = "info"
    )]
    pub log_level: String,

    // ---- WhaTap sink (src/sink/whatap) ----
    /// WhaTap collector hosts (`host` or `host:port`), separated by `/` or `,`, tried in order; with
    /// WHATAP_LICENSE selects the WhaTap sink.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_HOST")]
    pub whatap_host: Option<String>,

    /// WhaTap collector port.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_PORT", default_value_t = crate::sink::whatap::DEFAULT_PORT)]
    pub whatap_port: u16,

    /// WhaTap licence (project access key); only its hash is sent, it is never printed.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_LICENSE",
        hide_env_values = true
    )]
    pub whatap_license: Option<Secret>,

    /// WhaTap project code; by default the one the licence carries.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_PCODE")]
    pub whatap_pcode: Option<String>,

    /// Also send RDS events as WhaTap EventPacks (alerts): true/false.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_EVENT_PACK", action = clap::ArgAction::Set, num_args = 0..=1,
          default_value = "false", default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub whatap_event_pack: bool,

    /// WhaTap category for log records (default `rds-<log type>`).
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_CATEGORY")]
    pub whatap_category: Option<String>,

    /// WhaTap category for RDS event records (default `rds-event`).
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_EVENT_CATEGORY")]
    pub whatap_event_category: Option<String>,

    /// WhaTap connect timeout per host, in milliseconds.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_CONNECT_TIMEOUT_MS",
        default_value_t = 3000
    )]
    pub whatap_connect_timeout_ms: u64,

    /// WhaTap write timeout (no progress for this long fails the connection), in milliseconds.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_WRITE_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub whatap_write_timeout_ms: u64,
    #[command(flatten)]
    pub delivery: crate::delivery::DeliverySettings,

    #[command(flatten)]
    pub otlp: crate::sink::otlp::OtlpSettings,

    /// Kinesis input: report undelivered records as `batchItemFailures` instead of
    /// failing the whole batch. Only with `FunctionResponseTypes: [ReportBatchItemFailures]`
    /// on the event source mapping (otherwise Lambda ignores the reply and loses them).
    #[arg(help_heading = "Kinesis", long, env = "RDSF_KINESIS_BATCH_ITEM_FAILURES", default_value_t = false, action = clap::ArgAction::Set)]
    pub kinesis_batch_item_failures: bool,
    /// Extra secret-redaction regexes, on top of the built-in rules (one per line in the
    /// environment variable; the flag may be repeated). Group 1 is masked when present,
    /// else the whole match.
    #[arg(
        help_heading = "Redaction",
        long = "redact-pattern",
        env = "RDSF_REDACT_PATTERNS",
        value_delimiter = '\n'
    )]
    pub redact_patterns: Vec<String>,
    /// Auto-subscription (Lambda): only new log groups under this prefix get a subscription filter.
    #[arg(
        help_heading = "Auto-subscription",
        long,
        env = "RDSF_AUTO_SUBSCRIBE_PREFIX",
        default_value = "/aws/rds/"
    )]
    pub auto_subscribe_prefix: String,

    /// Auto-subscription (Lambda): where new groups' filters send events; default: this function.
    #[arg(
        help_heading = "Auto-subscription",
        long,
        env = "RDSF_SUBSCRIPTION_DESTINATION_ARN"
    )]
    pub subscription_destination_arn: Option<String>,
}

/// The values `RDSF_LOG_LEVEL` takes.
pub const LOG_LEVELS: [&str; 6] = ["error", "warn", "info", "debug", "trace", "off"];

impl Settings {
    /// `RDSF_LOG_LEVEL`, validated (any case): one of [`LOG_LEVELS`]. An
    /// unknown value is an error rather than a silent fallback to `info`.
    pub fn log_level(&self) -> Result<&'static str, ConfigError> {
        let given = self.log_level.trim().to_ascii_lowercase();
        LOG_LEVELS
            .into_iter()
            .find(|l| *l == given)
            .ok_or_else(|| ConfigError::Invalid {
                setting: "RDSF_LOG_LEVEL",
                detail: format!(
                    "`{}` is not a log level (use one of: {})",
                    self.log_level,
                    LOG_LEVELS.join(", ")
                ),
            })
    }

    /// Reads the settings from environment variables alone (Lambda mode).
    pub fn from_env() -> Result<Settings, ConfigError> {
        #[derive(clap::Parser)]
        struct EnvOnly {
            #[command(flatten)]
            settings: Settings,
        }
        <EnvOnly as clap::Parser>::try_parse_from(["rds-forwarder"])
            .map(|e| e.settings)
            .map_err(|e| ConfigError::Invalid {
                setting: "environment",
                detail: e.to_string(),
            })
    }
}

/// A sink the configuration selected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SinkKind {
    Stdout,
    Whatap,
    Otlp,
}

impl SinkKind {
    fn parse(name: &str) -> Result<SinkKind, ConfigError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "stdout" => Ok(SinkKind::Stdout),
            "whatap" => Ok(SinkKind::Whatap),
            "otlp" => Ok(SinkKind::Otlp),
            other => Err(ConfigError::Invalid {
                setting: "RDSF_SINKS",
                detail: format!("unknown sink `{other}` (known: stdout, whatap, otlp)"),
            }),
        }
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub sinks: Vec<SinkKind>,
    pub max_decompressed_bytes: usize,
    pub region: Option<String>,
    /// Set when WHATAP_HOST and WHATAP_LICENSE are.
    pub whatap: Option<WhatapConfig>,
    pub delivery: crate::delivery::DeliveryConfig,
    /// Set when the OTLP sink is selected.
    pub otlp: Option<crate::sink::otlp::OtlpConfig>,
    pub kinesis_batch_item_failures: bool,
    /// Built-in redaction rules plus the user's validated patterns.
    pub redactor: crate::sql::Redactor,
}

impl Config {
    /// The configuration start-up uses; the first problem is the error.
    pub fn from_settings(s: &Settings) -> Result<Config, ConfigError> {
        Config::from_settings_all(s).map_err(|mut errors| errors.swap_remove(0))
    }

    /// Validates every component and reports every problem (at least one
    /// when `Err`), in the order of the settings: what `check` shows.
    pub fn from_settings_all(s: &Settings) -> Result<Config, Vec<ConfigError>> {
        let mut errors = Vec::new();
        keep(&mut errors, s.log_level());
        keep(
            &mut errors,
            if s.max_decompressed_bytes < 1024 {
                Err(ConfigError::Invalid {
                    setting: "RDSF_MAX_DECOMPRESSED_BYTES",
                    detail: format!("{} is too small (minimum 1024)", s.max_decompressed_bytes),
                })
            } else {
                Ok(())
            },
        );
        let mut sinks = Vec::new();
        for name in s.sinks.iter().filter(|n| !n.trim().is_empty()) {
            if let Some(kind) = keep(&mut errors, SinkKind::parse(name)) {
                if !sinks.contains(&kind) {
                    sinks.push(kind);
                }
            }
        }
        // Without RDSF_SINKS, each configured backend (WhaTap host and
        // licence, an OTLP endpoint) selects itself; stdout is the default
        // only when no other sink is configured.
        let named = s.sinks.iter().any(|n| !n.trim().is_empty());
        let (whatap, whatap_invalid) = match WhatapConfig::from_settings_all(s) {
            Ok(w) => (w, false),
            Err(e) => {
                errors.extend(e);
                (None, true)
            }
        };
        if !named && whatap.is_some() {
            sinks.push(SinkKind::Whatap);
        }
        if sinks.contains(&SinkKind::Whatap) && whatap.is_none() && !whatap_invalid {
            errors.push(ConfigError::Invalid {
                setting: "RDSF_SINKS",
                detail: "whatap needs WHATAP_HOST and WHATAP_LICENSE".to_owned(),
            });
        }
        if !named && s.otlp.endpoint_configured() {
            sinks.push(SinkKind::Otlp);
        }
        if sinks.is_empty() {
            sinks.push(SinkKind::Stdout);
        }
        let otlp = if sinks.contains(&SinkKind::Otlp) {
            keep(
                &mut errors,
                crate::sink::otlp::OtlpConfig::from_settings(&s.otlp),
            )
        } else {
            None
        };
        let delivery = keep(
            &mut errors,
            crate::delivery::DeliveryConfig::from_settings(&s.delivery),
        );
        let redactor = keep(
            &mut errors,
            crate::sql::Redactor::new(&s.redact_patterns).map_err(|e| ConfigError::Invalid {
                setting: "RDSF_REDACT_PATTERNS",
                detail: e.to_string(),
            }),
        );
        match (delivery, redactor) {
            (Some(delivery), Some(redactor)) if errors.is_empty() => Ok(Config {
                sinks,
                max_decompressed_bytes: s.max_decompressed_bytes,
                region: s.region.clone().filter(|r| !r.is_empty()),
                whatap,
                delivery,
                otlp,
                kinesis_batch_item_failures: s.kinesis_batch_item_failures,
                redactor,
            }),
            _ => Err(errors),
        }
    }
}

/// `r`'s value, or `None` after adding its error to `errors`.
fn keep<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sinks: vec![SinkKind::Stdout],
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            region: None,
            whatap: None,
            delivery: crate::delivery::DeliveryConfig::default(),
            otlp: None,
            kinesis_batch_item_failures: false,
            redactor: crate::sql::Redactor::builtin(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(args: &[&str]) -> Settings {
        #[derive(clap::Parser)]
        struct P {
            #[command(flatten)]
            s: Settings,
        }
        let argv = std::iter::once("rds-forwarder").chain(args.iter().copied());
        <P as clap::Parser>::try_parse_from(argv).unwrap().s
    }

    #[test]
    fn unknown_log_levels_are_a_configuration_error_naming_the_setting() {
        let err = Config::from_settings(&settings(&["--log-level", "verbose"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("RDSF_LOG_LEVEL: `verbose` is not a log level"),
            "{err}"
        );
        for level in LOG_LEVELS {
            assert_eq!(
                settings(&["--log-level", level]).log_level().unwrap(),
                level
            );
        }
        assert_eq!(
            settings(&["--log-level", " DEBUG "]).log_level().unwrap(),
            "debug"
        );
    }
}
