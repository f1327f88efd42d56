//! Which metric sources are on, how many processes an Enhanced Monitoring
//! document may contribute and how many query fingerprints a batch may:
//! validated into [`Options`].

use crate::config_error::ConfigError;

/// The metric sources `RDSF_METRICS` names.
pub const METRIC_SOURCES: [&str; 2] = ["os", "queries"];

/// Default of `RDSF_QUERY_METRICS_TOP`: pt-query-digest's own report shows
/// the top 20 classes (`--limit 95%:20`); 20 fingerprints × up to 5 points
/// a minute keeps an instance near 100 query series.
pub const DEFAULT_QUERY_TOP: usize = 20;

/// Upper bound of `RDSF_QUERY_METRICS_TOP`: every fingerprint kept is a
/// series per metric in the backend.
pub const MAX_QUERY_TOP: usize = 1000;

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

    /// Query metrics (`RDSF_METRICS=queries`): the fingerprints kept per resource and batch,
    /// the top N by count; the others are summed into one `other` series (0 sums them all
    /// there, at most 1000).
    #[cfg_attr(
        feature = "clap",
        arg(
            help_heading = "Metrics",
            long = "query-metrics-top",
            env = "RDSF_QUERY_METRICS_TOP",
            default_value_t = DEFAULT_QUERY_TOP
        )
    )]
    pub query_metrics_top: usize,
}

impl Default for MetricsSettings {
    fn default() -> Self {
        MetricsSettings {
            metrics: vec!["os".to_owned()],
            os_top_processes: DEFAULT_TOP_PROCESSES,
            query_metrics_top: DEFAULT_QUERY_TOP,
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
    /// Log records also become query metrics (`crate::query_metrics`).
    pub queries: bool,
    /// Fingerprints (and error codes) kept per resource and batch.
    pub query_top: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            os: true,
            top_processes: DEFAULT_TOP_PROCESSES,
            queries: false,
            query_top: DEFAULT_QUERY_TOP,
        }
    }
}

impl MetricsSettings {
    /// The validated options; an unknown source or an out-of-range bound
    /// names its setting.
    pub fn options(&self) -> Result<Options, ConfigError> {
        let mut os = false;
        let mut queries = false;
        for source in &self.metrics {
            match source.trim().to_ascii_lowercase().as_str() {
                "" | "none" => {}
                "os" => os = true,
                "queries" => queries = true,
                other => {
                    return Err(ConfigError::Invalid {
                        setting: "RDSF_METRICS",
                        detail: format!(
                            "unknown metric source `{other}`; known sources: os, queries, none"
                        ),
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
        if self.query_metrics_top > MAX_QUERY_TOP {
            return Err(ConfigError::Invalid {
                setting: "RDSF_QUERY_METRICS_TOP",
                detail: format!(
                    "{} is too large (at most {MAX_QUERY_TOP}: every fingerprint kept is a series per metric)",
                    self.query_metrics_top
                ),
            });
        }
        Ok(Options {
            os,
            top_processes: self.os_top_processes,
            queries,
            query_top: self.query_metrics_top,
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
            query_metrics_top: DEFAULT_QUERY_TOP,
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
    fn queries_are_off_by_default_and_turned_on_by_name() {
        assert!(!MetricsSettings::default().options().unwrap().queries);
        let o = settings(&["os", " Queries"], 10).options().unwrap();
        assert!(o.os && o.queries);
        assert_eq!(o.query_top, DEFAULT_QUERY_TOP);
        let o = settings(&["queries"], 10).options().unwrap();
        assert!(!o.os && o.queries);
        let mut s = settings(&["queries"], 10);
        s.query_metrics_top = 0;
        assert_eq!(s.options().unwrap().query_top, 0);
    }

    #[test]
    fn bad_values_name_their_setting() {
        let e = settings(&["os", "cpu"], 10).options().unwrap_err();
        assert!(e.to_string().contains("RDSF_METRICS"), "{e}");
        assert!(e.to_string().contains("`cpu`"), "{e}");
        let mut s = settings(&["queries"], 10);
        s.query_metrics_top = 1001;
        let e = s.options().unwrap_err();
        assert!(e.to_string().contains("RDSF_QUERY_METRICS_TOP"), "{e}");
        assert!(e.to_string().contains("1001"), "{e}");
        let e = settings(&["os"], 101).options().unwrap_err();
        assert!(e.to_string().contains("RDSF_OS_TOP_PROCESSES"), "{e}");
    }
}
