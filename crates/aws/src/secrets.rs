//! Secrets for the sinks, read once per cold start: for each secret
//! variable (`config::secret_vars`: every setting whose value is hidden),
//! `<VAR>_SECRET_ARN` names a Secrets Manager secret and
//! `<VAR>_SSM_PARAMETER` an SSM (SecureString) parameter. `main` resolves
//! them and sets `<VAR>` before the settings are read, so the sinks'
//! configuration needs no AWS knowledge and the process environment is
//! the cache. Values only ever travel as [`Secret`].

use super::{AwsError, SecretRef, SecretSource};
use rdsf_core::secret::Secret;

/// Suffix of the variable naming a Secrets Manager secret (ARN or name).
pub const SECRET_ARN_SUFFIX: &str = "_SECRET_ARN";
/// Suffix of the variable naming an SSM parameter.
pub const SSM_PARAMETER_SUFFIX: &str = "_SSM_PARAMETER";

/// Secrets another AWS service reads too, in the JSON shape it needs: the
/// setting takes the value of that key. Firehose reads an HTTP endpoint's
/// access key from a Secrets Manager secret `{"api_key": "..."}`
/// (deploy/firehose.yaml generates one), so the forwarder reads the same
/// secret. A value that is not a JSON object is taken whole, as before.
pub const JSON_KEY_OF: [(&str, &str); 1] = [("RDSF_FIREHOSE_ACCESS_KEY", "api_key")];

/// The secret references set in the environment (`env` looks a variable
/// up) for the variables `vars`, in that order. Both kinds for one variable
/// is an error.
pub fn references(
    vars: &[&'static str],
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<(&'static str, SecretRef)>, AwsError> {
    let set = |name: String| {
        env(&name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let mut refs = Vec::new();
    for &var in vars {
        let arn = set(format!("{var}{SECRET_ARN_SUFFIX}"));
        let ssm = set(format!("{var}{SSM_PARAMETER_SUFFIX}"));
        match (arn, ssm) {
            (Some(_), Some(_)) => {
                return Err(AwsError::Invalid {
                    target: var.to_owned(),
                    detail: format!(
                    "set either {var}{SECRET_ARN_SUFFIX} or {var}{SSM_PARAMETER_SUFFIX}, not both"
                ),
                })
            }
            (Some(arn), None) => refs.push((var, SecretRef::SecretsManager(arn))),
            (None, Some(name)) => refs.push((var, SecretRef::SsmParameter(name))),
            (None, None) => {}
        }
    }
    Ok(refs)
}

/// Reads every referenced secret; the first failure stops the cold start
/// (Lambda then retries the init), naming the reference but not the value.
pub async fn resolve(
    source: &dyn SecretSource,
    refs: &[(&'static str, SecretRef)],
) -> Result<Vec<(&'static str, Secret)>, AwsError> {
    let mut out = Vec::with_capacity(refs.len());
    for (var, reference) in refs {
        let secret = setting_value(var, reference, source.get(reference).await?)?;
        if secret.is_empty() {
            return Err(AwsError::Invalid {
                target: reference.to_string(),
                detail: format!("is empty (wanted for {var})"),
            });
        }
        out.push((*var, secret));
    }
    Ok(out)
}

/// What setting `var` takes from the secret read at `reference`: the secret
/// itself, or for a variable of [`JSON_KEY_OF`] whose secret is a JSON
/// object, the string at its key. Errors name the reference and the key,
/// never a value. (`resolve` and `rds-forwarder check` both use it.)
pub fn setting_value(var: &str, reference: &SecretRef, secret: Secret) -> Result<Secret, AwsError> {
    let Some((_, key)) = JSON_KEY_OF.iter().find(|(v, _)| *v == var) else {
        return Ok(secret);
    };
    let Ok(serde_json::Value::Object(mut object)) =
        serde_json::from_str::<serde_json::Value>(secret.expose())
    else {
        return Ok(secret);
    };
    match object.remove(*key) {
        Some(serde_json::Value::String(value)) => Ok(Secret::new(value)),
        _ => Err(AwsError::Invalid {
            target: reference.to_string(),
            detail: format!("is a JSON object without a string `{key}` (wanted for {var})"),
        }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use rdsf_core::boxed::BoxFuture;

    const VARS: [&str; 2] = ["WHATAP_LICENSE", "OTEL_EXPORTER_OTLP_HEADERS"];

    struct Fake(HashMap<SecretRef, &'static str>);

    impl SecretSource for Fake {
        fn get<'a>(&'a self, secret: &'a SecretRef) -> BoxFuture<'a, Result<Secret, AwsError>> {
            Box::pin(async move {
                self.0
                    .get(secret)
                    .map(|v| Secret::new(*v))
                    .ok_or_else(|| AwsError::Call {
                        call: "fake:Get",
                        target: secret.to_string(),
                        detail: "not found".to_owned(),
                        retryable: false,
                    })
            })
        }
    }

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn reads_each_reference_kind() {
        let refs = references(
            &VARS,
            env(&[
                (
                    "WHATAP_LICENSE_SECRET_ARN",
                    "arn:aws:secretsmanager:us-east-1:1:secret:lic",
                ),
                ("OTEL_EXPORTER_OTLP_HEADERS_SSM_PARAMETER", "/rdsf/otlp"),
                ("WHATAP_LICENSE_SSM_PARAMETER", " "),
            ]),
        )
        .unwrap();
        assert_eq!(
            refs,
            vec![
                (
                    "WHATAP_LICENSE",
                    SecretRef::SecretsManager(
                        "arn:aws:secretsmanager:us-east-1:1:secret:lic".into()
                    )
                ),
                (
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    SecretRef::SsmParameter("/rdsf/otlp".into())
                ),
            ]
        );
        let fake = Fake(HashMap::from([
            (refs[0].1.clone(), "lic-123"),
            (refs[1].1.clone(), "authorization=Bearer t"),
        ]));
        let got = block_on(resolve(&fake, &refs)).unwrap();
        assert_eq!(got[0].1.expose(), "lic-123");
        assert_eq!(got[1].1.expose(), "authorization=Bearer t");
        assert_eq!(format!("{got:?}").matches("***").count(), 2);
    }

    /// The secret deploy/firehose.yaml generates is the JSON Firehose reads
    /// (`{"api_key": …}`); the forwarder takes the key from it, a plain value
    /// as it is, and a JSON object without the key is an error naming the
    /// reference but no value. Other settings take JSON whole.
    #[test]
    fn the_firehose_access_key_is_read_from_firehoses_json_secret() {
        let arn = "arn:aws:secretsmanager:us-east-1:1:secret:fh";
        let read = |var: &'static str, value: &'static str| {
            let refs = vec![(var, SecretRef::SecretsManager(arn.into()))];
            let fake = Fake(HashMap::from([(refs[0].1.clone(), value)]));
            block_on(resolve(&fake, &refs)).map(|got| got[0].1.expose().to_owned())
        };
        let var = "RDSF_FIREHOSE_ACCESS_KEY";
        assert_eq!(read(var, r#"{"api_key":"k-123"}"#).unwrap(), "k-123");
        assert_eq!(
            read(var, " { \"api_key\" : \"k 4\", \"note\": 1 } ").unwrap(),
            "k 4"
        );
        assert_eq!(read(var, "plain-key").unwrap(), "plain-key");
        assert_eq!(read(var, "{not json").unwrap(), "{not json");
        for wrong in [r#"{"apikey":"hidden-1"}"#, r#"{"api_key":42}"#] {
            let err = read(var, wrong).unwrap_err().to_string();
            assert!(err.contains(arn) && err.contains("`api_key`"), "{err}");
            assert!(!err.contains("hidden-1") && !err.contains("42"), "{err}");
        }
        let err = read(var, r#"{"api_key":""}"#).unwrap_err().to_string();
        assert!(err.contains("is empty"), "{err}");
        assert_eq!(
            read("WHATAP_LICENSE", r#"{"api_key":"k"}"#).unwrap(),
            r#"{"api_key":"k"}"#
        );
    }

    #[test]
    fn both_kinds_for_one_variable_is_an_error() {
        let err = references(
            &VARS,
            env(&[
                ("WHATAP_LICENSE_SECRET_ARN", "a"),
                ("WHATAP_LICENSE_SSM_PARAMETER", "b"),
            ]),
        )
        .unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
    }

    #[test]
    fn missing_or_empty_secret_fails_without_the_value() {
        let refs = vec![("WHATAP_LICENSE", SecretRef::SsmParameter("/absent".into()))];
        let err = block_on(resolve(&Fake(HashMap::new()), &refs)).unwrap_err();
        assert!(err.to_string().contains("SSM parameter /absent"), "{err}");
        let fake = Fake(HashMap::from([(refs[0].1.clone(), "")]));
        let err = block_on(resolve(&fake, &refs)).unwrap_err();
        assert!(err.to_string().contains("is empty"), "{err}");
    }
}
