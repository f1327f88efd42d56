//! `rds-forwarder check`: what a user runs before deploying. The same
//! settings as `replay` (flags and environment), validated as start-up does
//! but with every problem reported at once; secret references resolved when
//! AWS credentials are at hand; each configured sink contacted; and, with
//! `--show-wire`, what would be sent for a sample event, without sending it.
//!
//! One line per check, `ok` or `FAIL` and the reason. No line ever holds a
//! secret value: settings errors never quote them (see `config`), URLs are
//! shown without `user:pass@` and query, and the WhaTap licence hash in the
//! frame headers is not decoded.

use crate::config::{Config, Settings};
use rdsf_aws::{secrets, SecretRef, SecretSource};
use rdsf_core::secret::Secret;

/// The sample event `--show-wire` encodes (a PostgreSQL log payload as a
/// CloudWatch Logs subscription delivers it).
const SAMPLE_EVENT: &str = include_str!("../../examples/cloudwatch-postgresql.json");

/// The result of one check (the sinks make theirs).
pub use rdsf_sinks::registry::CheckLine as Line;

/// The secrets `check` read, and the variables it could not fill.
#[derive(Debug, Default)]
pub struct SecretsOutcome {
    pub lines: Vec<Line>,
    pub resolved: Vec<(&'static str, Secret)>,
    /// Variables whose reference was not read (their settings then look unset).
    pub unresolved: Vec<&'static str>,
}

/// Resolves each secret reference in `env`, all of them (not stopping at the
/// first failure). `source` is `Err` when no AWS credentials are available:
/// then every reference is reported as not read, saying why.
pub async fn resolve_secrets(
    env: impl Fn(&str) -> Option<String>,
    source: Result<&dyn SecretSource, String>,
) -> SecretsOutcome {
    let mut out = SecretsOutcome::default();
    let refs = match secrets::references(crate::config::secret_vars(), env) {
        Ok(refs) => refs,
        Err(e) => {
            out.lines.push(Line::fail("secrets", e.to_string()));
            return out;
        }
    };
    for (var, reference) in refs {
        let what = format!("secret {var}{}", reference_suffix(&reference));
        match &source {
            Err(why) => {
                out.unresolved.push(var);
                out.lines.push(Line::fail(
                    what,
                    format!("not read: no AWS access from here ({why}); {var} is checked as unset. Run with the credentials of the function's role or a profile that may read {reference}"),
                ));
            }
            Ok(source) => match source
                .get(&reference)
                .await
                .and_then(|secret| secrets::setting_value(var, &reference, secret))
            {
                Ok(secret) if secret.is_empty() => {
                    out.unresolved.push(var);
                    out.lines
                        .push(Line::fail(what, format!("{reference} is empty")));
                }
                Ok(secret) => {
                    out.lines.push(Line::ok(what, format!("read {reference}")));
                    out.resolved.push((var, secret));
                }
                Err(e) => {
                    out.unresolved.push(var);
                    out.lines.push(Line::fail(what, e.to_string()));
                }
            },
        }
    }
    out
}

fn reference_suffix(r: &SecretRef) -> &'static str {
    match r {
        SecretRef::SecretsManager(_) => secrets::SECRET_ARN_SUFFIX,
        SecretRef::SsmParameter(_) => secrets::SSM_PARAMETER_SUFFIX,
    }
}

/// Every settings problem, one line each (or one `ok` line). `unresolved`
/// are variables whose secret could not be read: errors about them say so.
pub fn check_settings(s: &Settings, unresolved: &[&str]) -> (Vec<Line>, Option<Config>) {
    match Config::from_settings_all(s) {
        Ok(config) => {
            let sinks = config.sink_names();
            let line = Line::ok("settings", format!("valid; sinks: {}", sinks.join(", ")));
            (vec![line], Some(config))
        }
        Err(errors) => {
            let lines = errors
                .into_iter()
                .map(|e| {
                    let crate::config::ConfigError::Invalid { setting, detail } = e;
                    let note = if unresolved.contains(&setting) {
                        " (its secret reference could not be read, see above)"
                    } else {
                        ""
                    };
                    Line::fail(format!("setting {setting}"), format!("{detail}{note}"))
                })
                .collect();
            (lines, None)
        }
    }
}

/// All checks after the secrets: settings, then each selected sink (its
/// own check, see `sink::registry`).
pub async fn check_all(s: &Settings, unresolved: &[&str]) -> (Vec<Line>, Option<Config>) {
    let (mut lines, config) = check_settings(s, unresolved);
    // When the settings are invalid, each sink still contacts what its own
    // settings name, so one run shows as much as it can.
    let components = s.sink.components();
    match &config {
        // The selected sinks, in the order the settings line names them.
        Some(c) => {
            for name in c.sink_names() {
                if let Some(component) = components.iter().find(|k| k.name() == name) {
                    lines.extend(component.check(true).await);
                }
            }
        }
        None => {
            for component in &components {
                lines.extend(component.check(false).await);
            }
        }
    }
    (lines, config)
}

/// What each configured sink would send for the first record of the
/// sample event (WhaTap frames decoded into fields, OTLP as OTLP/JSON, the
/// stdout line). Nothing is sent.
pub fn show_wire(config: &Config) -> String {
    let pipeline = crate::pipeline::Pipeline::new(config.clone());
    let processed = pipeline.process(SAMPLE_EVENT.as_bytes(), rdsf_core::time::now_ns());
    let first = processed.records.groups(0..processed.records.len().min(1));
    let mut out = String::from(
        "\nWhat would be sent for the first record of examples/cloudwatch-postgresql.json (nothing is sent):\n",
    );
    for sink in &config.sinks {
        out.push_str(&sink.show_wire(&first));
    }
    out
}

#[cfg(test)]
mod secret_tests {
    use super::*;
    use rdsf_aws::AwsError;
    use rdsf_core::boxed::BoxFuture;

    /// Every reference holds `value`.
    struct Holds(&'static str);

    impl SecretSource for Holds {
        fn get<'a>(&'a self, _: &'a SecretRef) -> BoxFuture<'a, Result<Secret, AwsError>> {
            Box::pin(async move { Ok(Secret::new(self.0)) })
        }
    }

    fn outcome(value: &'static str) -> SecretsOutcome {
        let env = |k: &str| {
            (k == "RDSF_FIREHOSE_ACCESS_KEY_SECRET_ARN")
                .then(|| "arn:aws:secretsmanager:us-east-1:1:secret:fh".to_owned())
        };
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(resolve_secrets(env, Ok(&Holds(value))))
    }

    /// `check` reads Firehose's JSON secret as the function does.
    #[test]
    fn check_takes_the_firehose_key_from_its_json_secret() {
        let ok = outcome(r#"{"api_key":"k-1"}"#);
        assert_eq!(ok.resolved.len(), 1);
        assert_eq!(ok.resolved[0].1.expose(), "k-1");
        let bad = outcome(r#"{"key":"hidden-2"}"#);
        assert!(bad.resolved.is_empty());
        assert_eq!(bad.unresolved, ["RDSF_FIREHOSE_ACCESS_KEY"]);
        let line = bad.lines[0].to_string();
        assert!(
            line.contains("`api_key`") && !line.contains("hidden-2"),
            "{line}"
        );
    }
}
