//! Where the AWS API calls get their credentials and region, without the
//! SDK's provider chain (which brings SSO, IMDS, STS and a second HTTP
//! stack): the environment, as Lambda sets it, then a static profile in
//! the shared files, as `aws configure` writes it, for the CLI. Anything
//! else (SSO, assume-role profiles) is bridged with
//! `eval "$(aws configure export-credentials --format env)"`.

use std::collections::HashMap;
use std::path::PathBuf;

use super::AwsError;
use rdsf_core::secret::Secret;

/// Long-term or temporary credentials; the secret parts never print.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
}

/// What a call needs besides its body: who signs, and where.
#[derive(Clone, Debug)]
pub struct AwsContext {
    pub credentials: Credentials,
    pub region: String,
}

impl AwsContext {
    /// From the process environment and the shared files it names.
    pub fn from_env() -> Result<AwsContext, AwsError> {
        Self::load(
            |k| std::env::var(k).ok().filter(|v| !v.is_empty()),
            |p| std::fs::read_to_string(p).ok(),
        )
    }

    /// `env` looks a variable up; `read` reads a file (None if absent).
    /// Separate from [`from_env`](Self::from_env) so tests need no globals.
    pub fn load(
        env: impl Fn(&str) -> Option<String>,
        read: impl Fn(&PathBuf) -> Option<String>,
    ) -> Result<AwsContext, AwsError> {
        let profile = env("AWS_PROFILE").unwrap_or_else(|| "default".to_owned());
        let home = env("HOME").map(PathBuf::from).unwrap_or_default();
        let config_file = env("AWS_CONFIG_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws/config"));
        let credentials_file = env("AWS_SHARED_CREDENTIALS_FILE")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws/credentials"));
        // Loaded lazily: in Lambda the environment answers everything.
        let config = || {
            read(&config_file)
                .map(|text| profile_section(&text, &profile, true))
                .unwrap_or_default()
        };
        let region = env("AWS_REGION")
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .or_else(|| config().remove("region"))
            .ok_or_else(|| AwsError::Invalid {
                target: "AWS region".to_owned(),
                detail: format!(
                    "not set: set AWS_REGION (or `region` in profile `{profile}` of {})",
                    config_file.display()
                ),
            })?;
        if let (Some(id), Some(key)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
            let credentials = Credentials {
                access_key_id: id,
                secret_access_key: Secret::new(key),
                session_token: env("AWS_SESSION_TOKEN").map(Secret::new),
            };
            return Ok(AwsContext {
                credentials,
                region,
            });
        }
        // The SDK's precedence: the credentials file, then the config file.
        let from_file = read(&credentials_file)
            .map(|text| profile_section(&text, &profile, false))
            .and_then(static_credentials)
            .or_else(|| static_credentials(config()));
        let credentials = from_file.ok_or_else(|| AwsError::Invalid {
            target: "AWS credentials".to_owned(),
            detail: format!(
                "none found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), \
                 or keys in profile `{profile}` of {}; for SSO or role profiles run \
                 `eval \"$(aws configure export-credentials --format env)\"` first",
                credentials_file.display()
            ),
        })?;
        Ok(AwsContext {
            credentials,
            region,
        })
    }
}

fn static_credentials(mut section: HashMap<String, String>) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: section.remove("aws_access_key_id")?,
        secret_access_key: Secret::new(section.remove("aws_secret_access_key")?),
        session_token: section.remove("aws_session_token").map(Secret::new),
    })
}

/// The `key = value` pairs of one profile in an AWS shared file: the
/// credentials file names sections `[NAME]`, the config file
/// `[profile NAME]` (and `[default]`). Hand-written: the format is a few
/// lines of INI, and an INI crate would still not know these section rules.
fn profile_section(text: &str, profile: &str, config_file: bool) -> HashMap<String, String> {
    let mut in_section = false;
    let mut out = HashMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            let name = name.trim();
            let name = match name.strip_prefix("profile ") {
                Some(n) if config_file => n.trim(),
                _ => name,
            };
            in_section = name == profile;
            continue;
        }
        if in_section {
            if let Some((key, value)) = line.split_once('=') {
                out.insert(key.trim().to_owned(), value.trim().to_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)], files: &[(&str, &str)]) -> Result<AwsContext, AwsError> {
        AwsContext::load(
            |k| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| v.to_string())
            },
            |p| {
                files
                    .iter()
                    .find(|(n, _)| PathBuf::from(n) == *p)
                    .map(|(_, t)| t.to_string())
            },
        )
    }

    #[test]
    fn lambda_environment() {
        let c = load(
            &[
                ("AWS_REGION", "eu-west-1"),
                ("AWS_ACCESS_KEY_ID", "AKIDLAMBDA"),
                ("AWS_SECRET_ACCESS_KEY", "lambda-secret"),
                ("AWS_SESSION_TOKEN", "lambda-token"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.region, "eu-west-1");
        assert_eq!(c.credentials.access_key_id, "AKIDLAMBDA");
        assert_eq!(c.credentials.secret_access_key.expose(), "lambda-secret");
        assert_eq!(
            c.credentials.session_token.unwrap().expose(),
            "lambda-token"
        );
        let c = load(
            &[
                ("AWS_DEFAULT_REGION", "us-west-2"),
                ("AWS_ACCESS_KEY_ID", "A"),
                ("AWS_SECRET_ACCESS_KEY", "S"),
            ],
            &[],
        )
        .unwrap();
        assert_eq!(c.region, "us-west-2");
        assert!(c.credentials.session_token.is_none());
    }

    #[test]
    fn static_profile_from_the_shared_files() {
        let credentials = "[default]\naws_access_key_id = AKIDDEF\naws_secret_access_key = def\n\n\
                           [ops]\n# a comment\naws_access_key_id=AKIDOPS\naws_secret_access_key=ops-secret\naws_session_token = tok\n";
        let config = "[default]\nregion = us-east-1\n[profile ops]\nregion = ap-northeast-2\n";
        let files = [
            ("/h/.aws/credentials", credentials),
            ("/h/.aws/config", config),
        ];
        let c = load(&[("HOME", "/h"), ("AWS_PROFILE", "ops")], &files).unwrap();
        assert_eq!(c.region, "ap-northeast-2");
        assert_eq!(c.credentials.access_key_id, "AKIDOPS");
        assert_eq!(c.credentials.secret_access_key.expose(), "ops-secret");
        assert_eq!(c.credentials.session_token.unwrap().expose(), "tok");
        let c = load(&[("HOME", "/h")], &files).unwrap();
        assert_eq!(
            (c.region.as_str(), c.credentials.access_key_id.as_str()),
            ("us-east-1", "AKIDDEF")
        );
        let c = load(
            &[
                ("AWS_SHARED_CREDENTIALS_FILE", "/elsewhere"),
                ("AWS_REGION", "us-east-2"),
            ],
            &[("/elsewhere", credentials)],
        )
        .unwrap();
        assert_eq!(c.credentials.access_key_id, "AKIDDEF");
    }

    #[test]
    fn missing_pieces_are_explained_without_secrets() {
        let e = load(
            &[("AWS_ACCESS_KEY_ID", "A"), ("AWS_SECRET_ACCESS_KEY", "S")],
            &[],
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("AWS_REGION"), "{e}");
        let e = load(&[("AWS_REGION", "us-east-1"), ("HOME", "/h")], &[])
            .unwrap_err()
            .to_string();
        assert!(e.contains("aws configure export-credentials"), "{e}");
        let c = load(
            &[
                ("AWS_REGION", "r"),
                ("AWS_ACCESS_KEY_ID", "A"),
                ("AWS_SECRET_ACCESS_KEY", "hunter2"),
                ("AWS_SESSION_TOKEN", "tok9"),
            ],
            &[],
        )
        .unwrap();
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok9"),
            "{shown}"
        );
    }
}
