//! Which metric sources are on, and how many processes an Enhanced
//! Monitoring document may contribute: validated into [`Options`].

use crate::config_error::ConfigError;

/// The metric sources `RDSF_METRICS` names. `queries` (query metrics from the
/// logs, issue 18 part 3) is not built yet and is refused rather than ignored.
pub const METRIC_SOURCES: [&str; 1] = ["os"];

/// Default of `RDSF_OS_TOP_PROCESSES`.
pub const DEFAULT_TOP_PROCESSES: usize = 10;

/// Upper bound of `RDSF_OS_TOP_PROCESSES`: cardinality stays bounded.
pub const MAX_TOP_PROCESSES: usize = 100;

/// Metrics settings, as given.
#[derive(Debug, Clone)]
#[cfg_attr(feature = "clap", derive(clap::Args))]
pub struct MetricsSettings {
    /// Metric sources, comma-separated: `os` (RDS Enhanced Monitoring documents of the
    /// `RDSOSMetrics` log group become metric points instead of log records); `none` or
    /// an empty value turns them all off (the documents then go out as log records).
    #[cfg_attr(
        feature = "clap",
        arg(
            help_heading = "Metrics",
            long = "metrics",
            env = "RDSF_METRICS",
            value_delimiter = ',',
            default_value = "os"
        )
    )]
    pub metrics: Vec<String>,

    /// Enhanced Monitoring: the processes kept per document, the top N by CPU and the top
    /// N by memory (0 keeps none, at most 100).
    #[cfg_attr(
        feature = "clap",
        arg(
            help_heading = "Metrics",
            long = "os-top-processes",
            env = "RDSF_OS_TOP_PROCESSES",
            default_value_t = DEFAULT_TOP_PROCESSES
        )
    )]
    pub os_top_processes: usize,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            metrics: vec!["os".to_owned()],
            os_top_processes: DEFAULT_TOP_PROCESSES,
        }
    }
}

/// What processing needs: Enhanced Monitoring on or off, and its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `RDSOSMetrics` documents become metric points (and no log records).
    pub os: bool,
    /// Processes kept per document: the top N by CPU and the top N by memory.
    pub top_processes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            os: true,
            top_processes: DEFAULT_TOP_PROCESSES,
        }
    }
}

impl MetricsSettings {
    /// The validated options; an unknown source or an out-of-range bound
    /// names its setting.
    pub fn options(&self) -> Result<Options, ConfigError> {
        let mut os = false;
        for source in &self.metrics {
            match source.trim().to_ascii_lowercase().as_str() {
                "" | "none" => {}
                "os" => os = true,
                "queries" => {
                    return Err(ConfigError::Invalid {
                        setting: "RDSF_METRICS",
                        detail: "`queries` (query metrics from the logs) is not available yet; \
                                 known sources: os, none"
                            .to_owned(),
                    })
                }
                other => {
                    return Err(ConfigError::Invalid {
                        setting: "RDSF_METRICS",
                        detail: format!("unknown metric source `{other}`; known sources: os, none"),
                    })
                }
            }
        }
        if self.os_top_processes > MAX_TOP_PROCESSES {
            return Err(ConfigError::Invalid {
                setting: "RDSF_OS_TOP_PROCESSES",
                detail: format!(
                    "{} is too large (at most {MAX_TOP_PROCESSES}: every process kept is a series per metric)",
                    self.os_top_processes
                ),
            });
        }
        Ok(Options {
            os,
            top_processes: self.os_top_processes,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(metrics: &[&str], top: usize) -> MetricsSettings {
        MetricsSettings {
            metrics: metrics.iter().map(|s| (*s).to_owned()).collect(),
            os_top_processes: top,
        }
    }

    #[test]
    fn os_is_on_by_default_and_can_be_turned_off() {
        assert_eq!(
            MetricsSettings::default().options().unwrap(),
            Options::default()
        );
        assert!(!settings(&["none"], 10).options().unwrap().os);
        assert!(!settings(&[""], 10).options().unwrap().os);
        assert!(settings(&[" OS "], 0).options().unwrap().os);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let e = settings(&["os", "cpu"], 10).options().unwrap_err();
        assert!(e.to_string().contains("RDSF_METRICS"), "{e}");
        assert!(e.to_string().contains("`cpu`"), "{e}");
        let e = settings(&["queries"], 10).options().unwrap_err();
        assert!(e.to_string().contains("not available yet"), "{e}");
        let e = settings(&["os"], 101).options().unwrap_err();
        assert!(e.to_string().contains("RDSF_OS_TOP_PROCESSES"), "{e}");
    }
}
