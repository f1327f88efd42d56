//! Configuration: environment variables, each mirrored by a CLI flag (clap's
//! `env` support gives both from one definition), validated into [`Config`].

use clap::Args;

use rdsf_sinks::registry::SinkSpec;
use rdsf_sinks::SinkSettings;

pub use rdsf_core::input::DEFAULT_MAX_DECOMPRESSED_BYTES;

pub use rdsf_core::config_error::ConfigError;

/// The settings every mode shares (Lambda, `replay`). Flags override the
/// environment variables named beside them.
#[derive(Debug, Clone, Args)]
pub struct Settings {
    /// Sinks to deliver to, comma-separated (stdout, whatap, otlp, loki). Default: each
    /// configured backend (WhaTap host + licence, OTLP endpoint, Loki URL), else stdout.
    #[arg(
        help_heading = "General",
        long,
        env = "RDSF_SINKS",
        value_delimiter = ','
    )]
    pub sinks: Vec<String>,

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

    #[command(flatten)]
    pub delivery: rdsf_sinks::delivery::DeliverySettings,

    /// Each sink's own settings (crates/sinks/src/registry.rs).
    #[command(flatten)]
    pub sink: SinkSettings,

    #[command(flatten)]
    pub input: rdsf_core::input::InputSettings,

    #[command(flatten)]
    pub redaction: rdsf_core::sql::RedactionSettings,

    #[command(flatten)]
    pub metrics: rdsf_core::enhanced_monitoring::MetricsSettings,

    #[command(flatten)]
    pub auto_subscribe: rdsf_aws::subscribe::AutoSubscribeSettings,

    /// RDS metadata enrichment (crates/aws/src/rds_metadata.rs).
    #[command(flatten)]
    pub rds_metadata: rdsf_aws::rds_metadata::RdsMetadataSettings,
    /// Self-monitoring (`RDSF_SELF_METRICS`, `RDSF_METRICS_NAMESPACE`).
    #[command(flatten)]
    pub self_metrics: crate::selfmon::SelfMetricsSettings,
}

/// The variables whose values are secrets: every setting declared with
/// `hide_env_values` by the component that owns it. A `<VAR>_SECRET_ARN` or
/// `<VAR>_SSM_PARAMETER` reference may fill each (`aws::secrets`). Read from
/// the CLI definition, so a new sink's secret setting needs no list of its own.
pub fn secret_vars() -> &'static [&'static str] {
    static VARS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    VARS.get_or_init(|| {
        let cmd = <Settings as Args>::augment_args(clap::Command::new("rds-forwarder"));
        cmd.get_arguments()
            .filter(|a| a.is_hide_env_values_set())
            .filter_map(|a| a.get_env())
            // Once per process, a few short names: leaked to be 'static.
            .map(|e| &*Box::leak(e.to_string_lossy().into_owned().into_boxed_str()))
            .collect()
    })
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
        Self::from_env_with(&[])
    }

    /// [`from_env`](Self::from_env), with `flags` (`--name=value`) on top:
    /// how secrets read at cold start reach the settings without being put
    /// into the process environment.
    pub fn from_env_with(flags: &[String]) -> Result<Settings, ConfigError> {
        #[derive(clap::Parser)]
        struct EnvOnly {
            #[command(flatten)]
            settings: Settings,
        }
        let argv = std::iter::once("rds-forwarder").chain(flags.iter().map(String::as_str));
        <EnvOnly as clap::Parser>::try_parse_from(argv)
            .map(|e| e.settings)
            .map_err(|e| ConfigError::Invalid {
                setting: "environment",
                detail: e.to_string(),
            })
    }
}

/// Validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The selected sinks, validated, in order.
    pub sinks: Vec<SinkSpec>,
    pub max_decompressed_bytes: usize,
    pub region: Option<String>,
    pub delivery: rdsf_sinks::delivery::DeliveryConfig,
    pub kinesis_batch_item_failures: bool,
    /// The key Firehose deliveries must present (none: they are refused).
    pub firehose_access_key: Option<rdsf_core::secret::Secret>,
    /// Built-in redaction rules plus the user's validated patterns.
    pub redactor: rdsf_core::sql::Redactor,
    /// Enhanced Monitoring documents as metric points (`RDSF_METRICS`).
    pub enhanced_monitoring: rdsf_core::enhanced_monitoring::Options,
    /// RDS metadata lookups (`RDSF_RDS_METADATA*`, `RDSF_RDS_TAG_KEYS`).
    pub rds_metadata: rdsf_aws::rds_metadata::RdsMetadataOptions,
    /// Where the forwarder's own counters go (`RDSF_SELF_METRICS`).
    pub self_metrics: crate::selfmon::SelfMetricsConfig,
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
        keep(&mut errors, s.input.validate());
        let sinks = s.sink.select(&s.sinks).map_err(|e| errors.extend(e)).ok();
        let delivery = keep(
            &mut errors,
            rdsf_sinks::delivery::DeliveryConfig::from_settings(&s.delivery),
        );
        let redactor = keep(&mut errors, s.redaction.redactor());
        let enhanced_monitoring = keep(&mut errors, s.metrics.options());
        let rds_metadata = keep(&mut errors, s.rds_metadata.options());
        let self_metrics = keep(&mut errors, s.self_metrics.validate());
        match (
            sinks,
            delivery,
            redactor,
            enhanced_monitoring,
            rds_metadata,
            self_metrics,
        ) {
            (
                Some(sinks),
                Some(delivery),
                Some(redactor),
                Some(enhanced_monitoring),
                Some(rds_metadata),
                Some(self_metrics),
            ) if errors.is_empty() => Ok(Config {
                sinks,
                max_decompressed_bytes: s.input.max_decompressed_bytes,
                region: s.region.clone().filter(|r| !r.is_empty()),
                delivery,
                kinesis_batch_item_failures: s.input.kinesis_batch_item_failures,
                firehose_access_key: s
                    .input
                    .firehose_access_key
                    .clone()
                    .filter(|k| !k.is_empty()),
                redactor,
                enhanced_monitoring,
                rds_metadata,
                self_metrics,
            }),
            _ => Err(errors),
        }
    }
}

impl Config {
    /// The selected sinks' names, in order.
    pub fn sink_names(&self) -> Vec<&'static str> {
        self.sinks.iter().map(SinkSpec::name).collect()
    }

    /// The configuration of the selected sink whose configuration type is
    /// `T` (e.g. `WhatapConfig`), if one is selected.
    pub fn sink<T: 'static>(&self) -> Option<&T> {
        self.sinks.iter().find_map(|s| s.get::<T>())
    }
}

/// `r`'s value, or `None` after adding its error to `errors`.
fn keep<T>(errors: &mut Vec<ConfigError>, r: Result<T, ConfigError>) -> Option<T> {
    r.map_err(|e| errors.push(e)).ok()
}

impl Default for Config {
    fn default() -> Self {
        Config {
            sinks: SinkSettings::default()
                .select(&[])
                .expect("stdout needs no settings"),
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            region: None,
            delivery: rdsf_sinks::delivery::DeliveryConfig::default(),
            kinesis_batch_item_failures: false,
            firehose_access_key: None,
            redactor: rdsf_core::sql::Redactor::builtin(),
            enhanced_monitoring: rdsf_core::enhanced_monitoring::Options::default(),
            rds_metadata: rdsf_aws::rds_metadata::RdsMetadataSettings::default()
                .options()
                .expect("the defaults are valid"),
            self_metrics: crate::selfmon::SelfMetricsConfig::default(),
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
    fn the_secret_variables_are_the_hidden_settings() {
        assert_eq!(
            secret_vars(),
            [
                "WHATAP_LICENSE",
                "OTEL_EXPORTER_OTLP_HEADERS",
                "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
                // A URL may carry `user:password@` (Grafana Cloud shows it so).
                "LOKI_URL",
                "LOKI_BASIC_AUTH",
                "LOKI_BEARER_TOKEN",
                "RDSF_FIREHOSE_ACCESS_KEY",
            ]
        );
    }

    #[test]
    fn rds_metadata_settings_are_validated_with_the_rest() {
        let err = |args: &[&str]| {
            Config::from_settings(&settings(args))
                .unwrap_err()
                .to_string()
        };
        assert!(err(&["--rds-metadata", "maybe"]).starts_with("RDSF_RDS_METADATA: "));
        assert!(err(&["--rds-metadata-ttl-seconds", "0"])
            .starts_with("RDSF_RDS_METADATA_TTL_SECONDS: "));
        assert!(
            err(&["--rds-metadata-budget-ms", "x"]).starts_with("RDSF_RDS_METADATA_BUDGET_MS: ")
        );
        assert!(err(&["--rds-tag-keys", "a,,b"]).starts_with("RDSF_RDS_TAG_KEYS: "));
        let c = Config::from_settings(&settings(&["--rds-metadata", "off"])).unwrap();
        assert!(!c.rds_metadata.enabled);
        assert!(Config::default().rds_metadata.enabled);
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
