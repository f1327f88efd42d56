//! The input stage's settings: how much a payload may inflate to, and how a
//! Kinesis batch reports what failed.

use crate::config_error::ConfigError;
use crate::secret::Secret;

/// Default bound on one payload's decompressed size: what the 6 MB Lambda
/// payload carries of real logs (README, "Memory").
pub const DEFAULT_MAX_DECOMPRESSED_BYTES: usize = 64 * 1024 * 1024;

/// Input settings, as given.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct InputSettings {
    /// Upper bound on one payload's decompressed size, in bytes.
    #[cfg_attr(feature = "clap", arg(help_heading = "General", long, env = "RDSF_MAX_DECOMPRESSED_BYTES", default_value_t = DEFAULT_MAX_DECOMPRESSED_BYTES))]
    pub max_decompressed_bytes: usize,

    /// Kinesis input: report undelivered records as `batchItemFailures` instead of
    /// failing the whole batch. Only with `FunctionResponseTypes: [ReportBatchItemFailures]`
    /// on the event source mapping (otherwise Lambda ignores the reply and loses them).
    #[cfg_attr(feature = "clap", arg(help_heading = "Kinesis", long, env = "RDSF_KINESIS_BATCH_ITEM_FAILURES", default_value_t = false, action = clap::ArgAction::Set))]
    pub kinesis_batch_item_failures: bool,

    /// Firehose HTTP endpoint input (a function URL): the access key Firehose must present
    /// (`X-Amz-Firehose-Access-Key`, compared in constant time). Unset or empty: Firehose
    /// deliveries are refused. Secret.
    #[cfg_attr(
        feature = "clap",
        arg(
            help_heading = "Firehose",
            long,
            env = "RDSF_FIREHOSE_ACCESS_KEY",
            hide_env_values = true
        )
    )]
    pub firehose_access_key: Option<Secret>,
}

impl InputSettings {
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.max_decompressed_bytes < 1024 {
            return Err(ConfigError::Invalid {
                setting: "RDSF_MAX_DECOMPRESSED_BYTES",
                detail: format!(
                    "{} is too small (minimum 1024)",
                    self.max_decompressed_bytes
                ),
            });
        }
        if let Some(key) = &self.firehose_access_key {
            // Firehose sends at most 4096 bytes. (Empty counts as unset, as
            // a template's blank parameter sets it: deliveries are refused.)
            if key.expose().len() > 4096 {
                return Err(ConfigError::Invalid {
                    setting: "RDSF_FIREHOSE_ACCESS_KEY",
                    detail: format!(
                        "must be at most 4096 bytes (Firehose's limit), got {}",
                        key.expose().len()
                    ),
                });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_key(key: Option<&str>) -> InputSettings {
        InputSettings {
            max_decompressed_bytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
            kinesis_batch_item_failures: false,
            firehose_access_key: key.map(Secret::new),
        }
    }

    #[test]
    fn a_firehose_key_past_firehoses_limit_names_the_setting_not_the_key() {
        assert!(with_key(None).validate().is_ok());
        assert!(with_key(Some("")).validate().is_ok(), "blank is unset");
        assert!(with_key(Some(&"k".repeat(4096))).validate().is_ok());
        let e = with_key(Some(&"k".repeat(4097)))
            .validate()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("RDSF_FIREHOSE_ACCESS_KEY") && !e.contains("kkk"),
            "{e}"
        );
    }
}
