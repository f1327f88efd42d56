//! Grafana Loki sink: records → Loki streams ([`encode`], pure) → one POST
//! to `<LOKI_URL>/loki/api/v1/push` ([`transport`]). The default body is
//! what promtail and lambda-promtail send (snappy-compressed protobuf
//! `logproto.PushRequest`); `LOKI_ENCODING=json` sends the push API's JSON
//! form, gzip-compressed. Retries are the delivery engine's job; this sink
//! sends once and says whether Loki confirmed it.

mod component;
pub mod encode;
pub mod transport;

use std::time::{Duration, Instant};

use clap::Args;

use super::{BoxFuture, Sink, SinkError};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use rdsf_core::secret::Secret;

pub use transport::LokiSink;

/// The push API path, appended to `LOKI_URL` unless it already ends with it.
pub const PUSH_PATH: &str = "/loki/api/v1/push";
/// Per-request timeout when `LOKI_TIMEOUT` is not set.
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;
/// The record keys promoted to stream labels by default: each has one value
/// per database and log type, so the number of streams stays the number of
/// log groups (what lambda-promtail indexes) and every stream is one
/// database's one log. `service_name` is always added on top.
pub const DEFAULT_LABELS: &str =
    "cloud.region,db.system.name,aws.rds.source_identifier,aws.rds.log_type";
/// Loki's default `max_label_names_per_series`: a stream with more label
/// names is refused, so more keys than that (with `service_name`) is a
/// configuration error rather than a batch rejected at run time.
pub const MAX_LABELS: usize = 15;

/// Loki settings. Only `LOKI_URL` is needed; it also selects the sink when
/// `RDSF_SINKS` is not set.
#[derive(Debug, Clone, Default, Args)]
pub struct LokiSettings {
    /// Loki base URL (e.g. http://loki:3100); `/loki/api/v1/push` is appended
    /// unless the URL ends with it. A `user:password@` in it is sent as basic auth.
    #[arg(help_heading = "Loki", long, env = "LOKI_URL", hide_env_values = true)]
    pub loki_url: Option<String>,
    /// Tenant, sent as `X-Scope-OrgID` (multi-tenant Loki, Grafana Cloud).
    #[arg(help_heading = "Loki", long, env = "LOKI_TENANT_ID")]
    pub loki_tenant_id: Option<String>,
    /// HTTP basic auth, `user:password`. Secret.
    #[arg(
        help_heading = "Loki",
        long,
        env = "LOKI_BASIC_AUTH",
        hide_env_values = true
    )]
    pub loki_basic_auth: Option<Secret>,
    /// Bearer token (`Authorization: Bearer …`); not with LOKI_BASIC_AUTH. Secret.
    #[arg(
        help_heading = "Loki",
        long,
        env = "LOKI_BEARER_TOKEN",
        hide_env_values = true
    )]
    pub loki_bearer_token: Option<Secret>,
    /// `protobuf` (default; snappy, as promtail sends) or `json` (gzip).
    #[arg(help_heading = "Loki", long, env = "LOKI_ENCODING")]
    pub loki_encoding: Option<String>,
    /// Timeout of one push request, in milliseconds (default 10000).
    #[arg(help_heading = "Loki", long, env = "LOKI_TIMEOUT")]
    pub loki_timeout: Option<u64>,
    /// Record keys (resource, then attributes) promoted to stream labels,
    /// comma-separated; the rest become structured metadata. Default:
    /// cloud.region,db.system.name,aws.rds.source_identifier,aws.rds.log_type.
    #[arg(help_heading = "Loki", long, env = "LOKI_LABELS")]
    pub loki_labels: Option<String>,
}

impl LokiSettings {
    /// Whether a URL was given (which selects the sink when `RDSF_SINKS`
    /// is not set).
    pub fn url_configured(&self) -> bool {
        self.loki_url
            .as_deref()
            .is_some_and(|u| !u.trim().is_empty())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    /// Snappy (block format) protobuf `logproto.PushRequest`.
    #[default]
    Protobuf,
    /// The push API's JSON, gzip-compressed.
    Json,
}

/// How requests authenticate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Auth {
    #[default]
    None,
    /// `user:password`.
    Basic(Secret),
    Bearer(Secret),
}

/// Validated Loki configuration.
#[derive(Debug, Clone, Default)]
pub struct LokiConfig {
    /// The full push URL, without any `user:pass@` (moved to `auth`).
    pub url: String,
    pub tenant_id: Option<String>,
    pub auth: Auth,
    pub encoding: Encoding,
    pub timeout: Duration,
    /// Record keys promoted to labels, in the order given.
    pub labels: Vec<String>,
}

impl LokiConfig {
    pub fn from_settings(s: &LokiSettings) -> Result<LokiConfig, ConfigError> {
        let invalid = |setting: &'static str, detail: &str| ConfigError::Invalid {
            setting,
            detail: detail.to_owned(),
        };
        let raw = s
            .loki_url
            .as_deref()
            .map(str::trim)
            .filter(|u| !u.is_empty())
            .ok_or_else(|| invalid("LOKI_URL", "is required by the loki sink"))?;
        // Never the URL itself in errors: it may carry `user:pass@`.
        let (scheme, rest) = raw
            .split_once("://")
            .filter(|(scheme, _)| matches!(*scheme, "http" | "https"))
            .ok_or_else(|| invalid("LOKI_URL", "is not an http:// or https:// URL"))?;
        let (authority, path) = rest.split_at(rest.find(['/', '?', '#']).unwrap_or(rest.len()));
        // `https://user:token@host` (the form Grafana Cloud shows for
        // promtail): the userinfo becomes basic auth, never part of the URI.
        let (userinfo, host) = match authority.rsplit_once('@') {
            Some((userinfo, host)) => (Some(userinfo), host),
            None => (None, authority),
        };
        if host.is_empty() {
            return Err(invalid("LOKI_URL", "has no host"));
        }
        let path = path.trim_end_matches('/');
        let url = if path.ends_with(PUSH_PATH) {
            format!("{scheme}://{host}{path}")
        } else if path.contains(['?', '#']) {
            return Err(invalid(
                "LOKI_URL",
                "has a query string but does not end with /loki/api/v1/push",
            ));
        } else {
            format!("{scheme}://{host}{path}{PUSH_PATH}")
        };
        if url.parse::<http::Uri>().is_err() {
            return Err(invalid("LOKI_URL", "is not a valid URL"));
        }

        let tenant_id = s
            .loki_tenant_id
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        if let Some(t) = &tenant_id {
            if http::HeaderValue::from_str(t).is_err() {
                return Err(invalid(
                    "LOKI_TENANT_ID",
                    "is not a valid HTTP header value",
                ));
            }
        }

        let basic = s.loki_basic_auth.as_ref().filter(|b| !b.is_empty());
        let bearer = s.loki_bearer_token.as_ref().filter(|b| !b.is_empty());
        let from_url = match userinfo {
            Some(u) => Some(Secret::new(
                u.split(':')
                    .map(|part| {
                        crate::otlp::percent_decode(part).ok_or_else(|| {
                            invalid("LOKI_URL", "has badly percent-encoded credentials")
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?
                    .join(":"),
            )),
            None => None,
        };
        let auth = match (basic, bearer, from_url) {
            (Some(_), Some(_), _) => {
                return Err(invalid(
                    "LOKI_BEARER_TOKEN",
                    "set either LOKI_BASIC_AUTH or LOKI_BEARER_TOKEN, not both",
                ))
            }
            (Some(_), _, Some(_)) | (_, Some(_), Some(_)) => {
                return Err(invalid(
                    "LOKI_URL",
                    "carries credentials (user:password@) and LOKI_BASIC_AUTH or LOKI_BEARER_TOKEN is set too",
                ))
            }
            (Some(b), None, None) => Auth::Basic(b.clone()),
            (None, Some(t), None) => Auth::Bearer(t.clone()),
            (None, None, Some(u)) => Auth::Basic(u),
            (None, None, None) => Auth::None,
        };
        if let Auth::Basic(b) = &auth {
            // The value is a secret: only its shape is described.
            if !b.expose().contains(':') {
                return Err(invalid(
                    "LOKI_BASIC_AUTH",
                    "is not `user:password` (no `:` found)",
                ));
            }
        }
        if let Auth::Bearer(t) = &auth {
            if http::HeaderValue::from_str(&format!("Bearer {}", t.expose())).is_err() {
                return Err(invalid(
                    "LOKI_BEARER_TOKEN",
                    "contains characters not allowed in an HTTP header",
                ));
            }
        }

        let encoding = match s.loki_encoding.as_deref().map(str::trim) {
            None | Some("") | Some("protobuf") => Encoding::Protobuf,
            Some("json") => Encoding::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "LOKI_ENCODING",
                    detail: format!("`{other}` is not supported (use protobuf or json)"),
                })
            }
        };
        let timeout_ms = s.loki_timeout.unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(invalid("LOKI_TIMEOUT", "must be at least 1 ms"));
        }
        let mut labels: Vec<String> = Vec::new();
        for key in s
            .loki_labels
            .as_deref()
            .unwrap_or(DEFAULT_LABELS)
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
        {
            if !labels.iter().any(|l| l == key) {
                labels.push(key.to_owned());
            }
        }
        if labels.len() + 1 > MAX_LABELS {
            return Err(ConfigError::Invalid {
                setting: "LOKI_LABELS",
                detail: format!(
                    "{} keys plus service_name exceed Loki's default limit of {MAX_LABELS} labels per stream",
                    labels.len()
                ),
            });
        }
        Ok(LokiConfig {
            url,
            tenant_id,
            auth,
            encoding,
            timeout: Duration::from_millis(timeout_ms),
            labels,
        })
    }
}

impl Sink for LokiSink {
    fn name(&self) -> &'static str {
        "loki"
    }

    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(self.push(batch, deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_url(url: &str) -> LokiSettings {
        LokiSettings {
            loki_url: Some(url.to_owned()),
            ..LokiSettings::default()
        }
    }

    #[test]
    fn the_push_path_is_appended_once() {
        for (given, url) in [
            ("http://loki:3100", "http://loki:3100/loki/api/v1/push"),
            ("http://loki:3100/", "http://loki:3100/loki/api/v1/push"),
            (
                "https://gw.example/tenant-a/",
                "https://gw.example/tenant-a/loki/api/v1/push",
            ),
            (
                "https://logs.example/loki/api/v1/push",
                "https://logs.example/loki/api/v1/push",
            ),
        ] {
            assert_eq!(
                LokiConfig::from_settings(&with_url(given)).unwrap().url,
                url
            );
        }
        for bad in ["loki:3100", "ftp://loki", "http://", "http://h/x?token=1"] {
            let e = LokiConfig::from_settings(&with_url(bad))
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("LOKI_URL: "), "{bad}: {e}");
        }
        let e = LokiConfig::from_settings(&LokiSettings::default()).unwrap_err();
        assert!(e.to_string().starts_with("LOKI_URL: is required"), "{e}");
    }

    #[test]
    fn url_credentials_become_basic_auth_and_never_leak() {
        let c = LokiConfig::from_settings(&with_url("https://123456:glc%3Ak3y@logs.grafana.net"))
            .unwrap();
        assert_eq!(c.url, "https://logs.grafana.net/loki/api/v1/push");
        assert_eq!(c.auth, Auth::Basic(Secret::new("123456:glc:k3y")));
        assert!(!format!("{c:?}").contains("k3y"));
        let mut s = with_url("htps://u:Hunter2pw@loki");
        let e = LokiConfig::from_settings(&s).unwrap_err().to_string();
        assert!(!e.contains("Hunter2pw"), "{e}");
        s.loki_url = Some("https://u:Hunter2pw@loki".into());
        s.loki_bearer_token = Some(Secret::new("t0ken"));
        let e = LokiConfig::from_settings(&s).unwrap_err().to_string();
        assert!(e.starts_with("LOKI_URL: carries credentials"), "{e}");
        assert!(!e.contains("Hunter2pw") && !e.contains("t0ken"), "{e}");
    }

    #[test]
    fn auth_tenant_encoding_timeout_and_labels() {
        let mut s = with_url("http://loki:3100");
        s.loki_basic_auth = Some(Secret::new("ops:Sw0rdfish"));
        s.loki_bearer_token = Some(Secret::new("t0ken"));
        let e = LokiConfig::from_settings(&s).unwrap_err().to_string();
        assert!(e.starts_with("LOKI_BEARER_TOKEN: set either"), "{e}");
        s.loki_bearer_token = None;
        s.loki_basic_auth = Some(Secret::new("Sw0rdfish-without-user"));
        let e = LokiConfig::from_settings(&s).unwrap_err().to_string();
        assert!(
            e.starts_with("LOKI_BASIC_AUTH: ") && !e.contains("Sw0rdfish"),
            "{e}"
        );
        s.loki_basic_auth = None;
        s.loki_bearer_token = Some(Secret::new("bad\ntoken"));
        let e = LokiConfig::from_settings(&s).unwrap_err().to_string();
        assert!(
            e.starts_with("LOKI_BEARER_TOKEN: ") && !e.contains("token\n"),
            "{e}"
        );
        s.loki_bearer_token = Some(Secret::new("t0ken"));
        s.loki_tenant_id = Some(" team-db ".into());
        s.loki_encoding = Some("json".into());
        s.loki_timeout = Some(250);
        s.loki_labels = Some(" cloud.region, aws.rds.log_type,cloud.region,".into());
        let c = LokiConfig::from_settings(&s).unwrap();
        assert_eq!(c.auth, Auth::Bearer(Secret::new("t0ken")));
        assert_eq!(c.tenant_id.as_deref(), Some("team-db"));
        assert_eq!(c.encoding, Encoding::Json);
        assert_eq!(c.timeout, Duration::from_millis(250));
        assert_eq!(c.labels, ["cloud.region", "aws.rds.log_type"]);
        s.loki_encoding = Some("snappy".into());
        assert!(LokiConfig::from_settings(&s)
            .unwrap_err()
            .to_string()
            .starts_with("LOKI_ENCODING: `snappy`"));
        s.loki_encoding = None;
        s.loki_timeout = Some(0);
        assert!(LokiConfig::from_settings(&s).is_err());
        s.loki_timeout = None;
        s.loki_labels = Some(
            (0..15)
                .map(|i| format!("k{i}"))
                .collect::<Vec<_>>()
                .join(","),
        );
        assert!(LokiConfig::from_settings(&s)
            .unwrap_err()
            .to_string()
            .starts_with("LOKI_LABELS: "));
        s.loki_labels = None;
        let c = LokiConfig::from_settings(&s).unwrap();
        assert_eq!(c.labels.join(","), DEFAULT_LABELS);
        assert_eq!(c.encoding, Encoding::Protobuf);
        assert_eq!(c.timeout, Duration::from_millis(DEFAULT_TIMEOUT_MS));
    }

    use crate::registry::select_for_tests::select as config_from;

    #[test]
    fn a_url_selects_the_sink_unless_sinks_are_named() {
        let url = ["--loki-url", "http://127.0.0.1:3100"];
        let c = config_from(&url).unwrap();
        assert_eq!(c.sink_names(), ["loki"]);
        assert_eq!(
            c.sink::<LokiConfig>().unwrap().url,
            "http://127.0.0.1:3100/loki/api/v1/push"
        );
        let both = config_from(&[&url[..], &["--sinks", "stdout,loki"]].concat()).unwrap();
        assert_eq!(both.sink_names(), ["stdout", "loki"]);
        let only_stdout = config_from(&[&url[..], &["--sinks", "stdout"]].concat()).unwrap();
        assert_eq!(
            (
                only_stdout.sink_names(),
                only_stdout.sink::<LokiConfig>().is_none()
            ),
            (vec!["stdout"], true)
        );
        let e = config_from(&["--sinks", "loki"]).unwrap_err().to_string();
        assert!(e.starts_with("LOKI_URL: is required"), "{e}");
        assert!(config_from(&[&url[..], &["--loki-encoding", "xml"]].concat()).is_err());
    }
}
