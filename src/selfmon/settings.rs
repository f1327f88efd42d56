//! `RDSF_SELF_METRICS` and `RDSF_METRICS_NAMESPACE`: where the forwarder's
//! own counters go and under which CloudWatch namespace.

use clap::Args;

use rdsf_core::config_error::ConfigError;

/// The CloudWatch namespace when none is set.
pub const DEFAULT_NAMESPACE: &str = "RdsForwarder";

/// Self-monitoring settings (environment variables, each mirrored by a flag).
#[derive(Debug, Clone, Args)]
pub struct SelfMetricsSettings {
    /// The forwarder's own counters: `emf` (CloudWatch embedded metric format lines on stdout),
    /// `sinks` (metric points to the sinks that take metrics), both comma-separated, or `off`.
    /// Default: emf under Lambda, off for replay and serve.
    #[arg(help_heading = "Self-monitoring", long, env = "RDSF_SELF_METRICS")]
    pub self_metrics: Option<String>,
    /// CloudWatch namespace of the EMF metrics.
    #[arg(help_heading = "Self-monitoring", long, env = "RDSF_METRICS_NAMESPACE", default_value = DEFAULT_NAMESPACE)]
    pub metrics_namespace: String,
}

impl Default for SelfMetricsSettings {
    fn default() -> Self {
        SelfMetricsSettings {
            self_metrics: None,
            metrics_namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

/// Where self-monitoring goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Outputs {
    pub emf: bool,
    pub sinks: bool,
}

impl Outputs {
    pub const OFF: Outputs = Outputs {
        emf: false,
        sinks: false,
    };
    pub const EMF: Outputs = Outputs {
        emf: true,
        sinks: false,
    };
}

/// Validated self-monitoring configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelfMetricsConfig {
    /// `None`: not set, the mode's default applies (emf under Lambda).
    pub outputs: Option<Outputs>,
    pub namespace: String,
}

impl Default for SelfMetricsConfig {
    fn default() -> Self {
        SelfMetricsConfig {
            outputs: None,
            namespace: DEFAULT_NAMESPACE.to_owned(),
        }
    }
}

impl SelfMetricsSettings {
    pub fn validate(&self) -> Result<SelfMetricsConfig, ConfigError> {
        Ok(SelfMetricsConfig {
            outputs: self.self_metrics.as_deref().map(outputs).transpose()?,
            namespace: namespace(&self.metrics_namespace)?,
        })
    }
}

fn outputs(text: &str) -> Result<Outputs, ConfigError> {
    let bad = |detail: String| ConfigError::Invalid {
        setting: "RDSF_SELF_METRICS",
        detail,
    };
    let words: Vec<String> = text
        .split(',')
        .map(|w| w.trim().to_ascii_lowercase())
        .filter(|w| !w.is_empty())
        .collect();
    let mut out = Outputs::OFF;
    for w in &words {
        match w.as_str() {
            "emf" => out.emf = true,
            "sinks" => out.sinks = true,
            "off" if words.len() == 1 => {}
            "off" => return Err(bad(format!("`{text}`: `off` cannot be combined"))),
            other => {
                return Err(bad(format!(
                    "`{other}` is not an output (use emf, sinks, both comma-separated, or off)"
                )))
            }
        }
    }
    if words.is_empty() {
        return Err(bad("empty (use emf, sinks, or off)".to_owned()));
    }
    Ok(out)
}

/// CloudWatch's rules for a namespace: 1–255 ASCII letters, digits and
/// `. - _ / # : ` or space, not only spaces, not starting with `AWS/`
/// (reserved for AWS services).
fn namespace(text: &str) -> Result<String, ConfigError> {
    let bad = |detail: String| ConfigError::Invalid {
        setting: "RDSF_METRICS_NAMESPACE",
        detail,
    };
    if text.trim().is_empty() || text.len() > 255 {
        return Err(bad(format!(
            "`{text}` must have 1 to 255 characters, not only spaces"
        )));
    }
    if let Some(c) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-_/#: ".contains(*c)))
    {
        return Err(bad(format!(
            "`{text}` has `{c}`; a CloudWatch namespace takes letters, digits and . - _ / # : or space"
        )));
    }
    if text.starts_with("AWS/") {
        return Err(bad(format!(
            "`{text}`: the AWS/ prefix is reserved for AWS services"
        )));
    }
    Ok(text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(outputs: Option<&str>, ns: &str) -> SelfMetricsSettings {
        SelfMetricsSettings {
            self_metrics: outputs.map(str::to_owned),
            metrics_namespace: ns.to_owned(),
        }
    }

    #[test]
    fn outputs_are_read_and_bad_values_name_the_setting() {
        let ok = |v: &str| settings(Some(v), "X").validate().unwrap().outputs.unwrap();
        assert_eq!(ok("emf"), Outputs::EMF);
        assert_eq!(
            ok(" Sinks , EMF "),
            Outputs {
                emf: true,
                sinks: true
            }
        );
        assert_eq!(ok("off"), Outputs::OFF);
        assert_eq!(settings(None, "X").validate().unwrap().outputs, None);
        for bad in ["cloudwatch", "off,emf", "", " , "] {
            let err = settings(Some(bad), "X").validate().unwrap_err().to_string();
            assert!(err.starts_with("RDSF_SELF_METRICS: "), "{bad}: {err}");
        }
    }

    #[test]
    fn namespaces_follow_cloudwatch_rules() {
        assert!(settings(None, "Team/Rds Forwarder#1").validate().is_ok());
        for bad in ["", "   ", "AWS/Lambda", "a\"b", "é", &"x".repeat(256)] {
            let err = settings(None, bad).validate().unwrap_err().to_string();
            assert!(err.starts_with("RDSF_METRICS_NAMESPACE: "), "{bad}: {err}");
        }
    }
}
