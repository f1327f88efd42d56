//! Configuration: environment variables, each mirrored by a CLI flag (clap's
//! `env` support gives both from one definition), validated into [`Config`].

use clap::Args;
use thiserror::Error;

/// Default bound on one payload's decompressed size.
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("{setting}: {detail}")]
    Invalid { setting: &'static str, detail: String },
}

/// The settings every mode shares (Lambda, `replay`). Flags override the
/// environment variables named beside them.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Sinks to deliver to, comma-separated (stdout). Default: stdout.
    #[arg(long, env = "RDSF_SINKS", value_delimiter = ',')]
    pub sinks: Vec<String>,

    /// Upper bound on one payload's decompressed size, in bytes.
    #[arg(long, env = "RDSF_MAX_DECOMPRESSED_BYTES", default_value_t = DEFAULT_MAX_DECOMPRESSED_BYTES)]
    pub max_decompressed_bytes: usize,

    /// AWS region put on log records (`cloud.region`); EventBridge events carry their own.
    #[arg(long, env = "AWS_REGION")]
    pub region: Option<String>,

    /// Our own diagnostics on stderr: error, warn, info, debug, trace.
    #[arg(long, env = "RDSF_LOG_LEVEL", default_value = "info")]
    pub log_level: String,

    /// Auto-subscription (Lambda): only new log groups under this prefix get a subscription filter.
    #[arg(long, env = "RDSF_AUTO_SUBSCRIBE_PREFIX", default_value = "/aws/rds/")]
    pub auto_subscribe_prefix: String,

    /// Auto-subscription (Lambda): where new groups' filters send events; default: this function.
    #[arg(long, env = "RDSF_SUBSCRIPTION_DESTINATION_ARN")]
    pub subscription_destination_arn: Option<String>,
}

impl Settings {
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
}

impl SinkKind {
    fn parse(name: &str) -> Result<SinkKind, ConfigError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "stdout" => Ok(SinkKind::Stdout),
            other => Err(ConfigError::Invalid {
                setting: "RDSF_SINKS",
                detail: format!("unknown sink `{other}` (known: stdout)"),
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
}

impl Config {
    pub fn from_settings(s: &Settings) -> Result<Config, ConfigError> {
        if s.max_decompressed_bytes < 1024 {
            return Err(ConfigError::Invalid {
                setting: "RDSF_MAX_DECOMPRESSED_BYTES",
                detail: format!("{} is too small (minimum 1024)", s.max_decompressed_bytes),
            });
        }
        let mut sinks = Vec::new();
        for name in s.sinks.iter().filter(|n| !n.trim().is_empty()) {
            let kind = SinkKind::parse(name)?;
            if !sinks.contains(&kind) {
                sinks.push(kind);
            }
        }
        if sinks.is_empty() {
            sinks.push(SinkKind::Stdout);
        }
        Ok(Config {
            sinks,
            max_decompressed_bytes: s.max_decompressed_bytes,
            region: s.region.clone().filter(|r| !r.is_empty()),
        })
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sinks: vec![SinkKind::Stdout],
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            region: None,
        }
    }
}
