//! OTLP/HTTP logs sink: records → `ExportLogsServiceRequest` ([`encode`],
//! pure) → one POST to `<endpoint>/v1/logs` ([`transport`]). Configuration
//! follows the OpenTelemetry exporter conventions (`OTEL_EXPORTER_OTLP_*`,
//! `OTEL_RESOURCE_ATTRIBUTES`). Retries are the delivery engine's job; this
//! sink sends once and says whether the receiver confirmed it.

mod component;
pub mod encode;
pub mod metrics;
pub mod transport;
pub mod wire;

use std::time::{Duration, Instant};

use clap::Args;

use super::{BoxFuture, Sink, SinkError};
use rdsf_core::config_error::ConfigError;
use rdsf_core::metric::MetricPoint;
use rdsf_core::record::{Attributes, ResourceRecords};
use rdsf_core::secret::Secret;

pub use transport::OtlpSink;

/// The endpoint the OTLP specification names as the default (a local
/// Collector, e.g. the ADOT Lambda layer), used when `otlp` is selected in
/// `RDSF_SINKS` without an endpoint.
pub const DEFAULT_ENDPOINT: &str = "http://localhost:4318";
/// Per-request timeout when `OTEL_EXPORTER_OTLP_TIMEOUT` is not set (spec default).
pub const DEFAULT_TIMEOUT_MS: u64 = 10_000;

/// OTLP exporter settings; the variable names are the OpenTelemetry ones and
/// the `_LOGS_` variants win over the generic ones.
#[derive(Debug, Clone, Default, Args)]
pub struct OtlpSettings {
    /// OTLP/HTTP base URL; logs go to `<endpoint>/v1/logs`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_ENDPOINT")]
    pub otlp_endpoint: Option<String>,
    /// Full OTLP/HTTP logs URL, used as-is.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT")]
    pub otlp_logs_endpoint: Option<String>,
    /// `http/protobuf` (default) or `http/json`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_PROTOCOL")]
    pub otlp_protocol: Option<String>,
    /// For logs only; wins over `--otlp-protocol`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_LOGS_PROTOCOL")]
    pub otlp_logs_protocol: Option<String>,
    /// Request headers, `key=value,key2=value2` (values percent-encoded). Secret.
    #[arg(
        help_heading = "OTLP",
        long,
        env = "OTEL_EXPORTER_OTLP_HEADERS",
        hide_env_values = true
    )]
    pub otlp_headers: Option<Secret>,
    /// For logs only; wins over `--otlp-headers`.
    #[arg(
        help_heading = "OTLP",
        long,
        env = "OTEL_EXPORTER_OTLP_LOGS_HEADERS",
        hide_env_values = true
    )]
    pub otlp_logs_headers: Option<Secret>,
    /// `gzip` (our default) or `none`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_COMPRESSION")]
    pub otlp_compression: Option<String>,
    /// For logs only; wins over `--otlp-compression`.
    #[arg(
        help_heading = "OTLP",
        long,
        env = "OTEL_EXPORTER_OTLP_LOGS_COMPRESSION"
    )]
    pub otlp_logs_compression: Option<String>,
    /// Full OTLP/HTTP metrics URL, used as-is. Default `<endpoint>/v1/metrics`;
    /// none when only the logs URL is given (metric points then go to the other sinks).
    #[arg(
        help_heading = "OTLP",
        long,
        env = "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"
    )]
    pub otlp_metrics_endpoint: Option<String>,
    /// Timeout of one export request, in milliseconds (default 10000).
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_TIMEOUT")]
    pub otlp_timeout: Option<u64>,
    /// For logs only; wins over `--otlp-timeout`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_EXPORTER_OTLP_LOGS_TIMEOUT")]
    pub otlp_logs_timeout: Option<u64>,
    /// Resource attributes added to every record's resource, `key=value,…`.
    #[arg(help_heading = "OTLP", long, env = "OTEL_RESOURCE_ATTRIBUTES")]
    pub resource_attributes: Option<String>,
}

impl OtlpSettings {
    /// Whether an endpoint was given (which selects the sink when
    /// `RDSF_SINKS` is not set).
    pub fn endpoint_configured(&self) -> bool {
        [&self.otlp_endpoint, &self.otlp_logs_endpoint]
            .iter()
            .any(|e| e.as_deref().is_some_and(|e| !e.trim().is_empty()))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    #[default]
    Protobuf,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Compression {
    #[default]
    Gzip,
    None,
}

/// Validated OTLP configuration.
#[derive(Debug, Clone, Default)]
pub struct OtlpConfig {
    /// The full logs URL.
    pub url: String,
    /// The full metrics URL; `None` when only a logs URL was given.
    pub metrics_url: Option<String>,
    pub protocol: Protocol,
    pub compression: Compression,
    /// Header names and values; the values may be credentials.
    pub headers: Vec<(String, Secret)>,
    pub timeout: Duration,
    /// From `OTEL_RESOURCE_ATTRIBUTES`; the record's own resource wins on
    /// conflicts (it describes the database, the variable the deployment).
    pub resource_attributes: Attributes,
}

fn pick<'a>(logs: &'a Option<String>, generic: &'a Option<String>) -> Option<&'a str> {
    logs.as_deref()
        .filter(|v| !v.trim().is_empty())
        .or(generic.as_deref().filter(|v| !v.trim().is_empty()))
        .map(str::trim)
}

impl OtlpConfig {
    pub fn from_settings(s: &OtlpSettings) -> Result<OtlpConfig, ConfigError> {
        let url = match (
            pick(&s.otlp_logs_endpoint, &None),
            pick(&s.otlp_endpoint, &None),
        ) {
            (Some(logs), _) => logs.to_owned(),
            (None, Some(base)) => format!("{}/v1/logs", base.trim_end_matches('/')),
            (None, None) => format!("{DEFAULT_ENDPOINT}/v1/logs"),
        };
        let metrics_url = match (
            pick(&s.otlp_metrics_endpoint, &None),
            pick(&s.otlp_endpoint, &None),
            pick(&s.otlp_logs_endpoint, &None),
        ) {
            (Some(metrics), _, _) => Some(metrics.to_owned()),
            (None, Some(base), _) => Some(format!("{}/v1/metrics", base.trim_end_matches('/'))),
            (None, None, Some(_)) => None,
            (None, None, None) => Some(format!("{DEFAULT_ENDPOINT}/v1/metrics")),
        };
        for (setting, u) in [
            ("OTEL_EXPORTER_OTLP_ENDPOINT", Some(&url)),
            ("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT", metrics_url.as_ref()),
        ] {
            if u.is_some_and(|u| !(u.starts_with("http://") || u.starts_with("https://"))) {
                return Err(ConfigError::Invalid {
                    setting,
                    // Never the URL itself: it may carry `user:pass@` or a token.
                    detail: "is not an http:// or https:// URL".to_owned(),
                });
            }
        }
        let protocol = match pick(&s.otlp_logs_protocol, &s.otlp_protocol) {
            None | Some("http/protobuf") => Protocol::Protobuf,
            Some("http/json") => Protocol::Json,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "OTEL_EXPORTER_OTLP_PROTOCOL",
                    detail: format!("`{other}` is not supported (use http/protobuf or http/json)"),
                })
            }
        };
        let compression = match pick(&s.otlp_logs_compression, &s.otlp_compression) {
            None | Some("gzip") => Compression::Gzip,
            Some("none") => Compression::None,
            Some(other) => {
                return Err(ConfigError::Invalid {
                    setting: "OTEL_EXPORTER_OTLP_COMPRESSION",
                    detail: format!("`{other}` is not supported (use gzip or none)"),
                })
            }
        };
        let mut headers = Vec::new();
        for (setting, value) in [
            ("OTEL_EXPORTER_OTLP_HEADERS", &s.otlp_headers),
            ("OTEL_EXPORTER_OTLP_LOGS_HEADERS", &s.otlp_logs_headers),
        ] {
            let Some(value) = value else { continue };
            // Values are secrets: the error names the setting and the entry's position only.
            for (k, v) in parse_key_values(value.expose()).map_err(|i| ConfigError::Invalid {
                setting,
                detail: format!("entry {i} is not `key=value` with a valid header name and value"),
            })? {
                if http::header::HeaderName::from_bytes(k.as_bytes()).is_err()
                    || http::header::HeaderValue::from_str(&v).is_err()
                {
                    return Err(ConfigError::Invalid {
                        setting,
                        detail: format!("header `{k}` has an invalid name or value"),
                    });
                }
                headers.retain(|(name, _): &(String, Secret)| !name.eq_ignore_ascii_case(&k));
                headers.push((k, Secret::new(v)));
            }
        }
        let timeout_ms = s
            .otlp_logs_timeout
            .or(s.otlp_timeout)
            .unwrap_or(DEFAULT_TIMEOUT_MS);
        if timeout_ms == 0 {
            return Err(ConfigError::Invalid {
                setting: "OTEL_EXPORTER_OTLP_TIMEOUT",
                detail: "must be at least 1 ms".to_owned(),
            });
        }
        let mut resource_attributes = Attributes::new();
        if let Some(raw) = s.resource_attributes.as_deref() {
            let pairs = parse_key_values(raw).map_err(|i| ConfigError::Invalid {
                setting: "OTEL_RESOURCE_ATTRIBUTES",
                detail: format!("entry {i} is not `key=value`"),
            })?;
            for (k, v) in pairs {
                resource_attributes.insert(k, v);
            }
        }
        Ok(OtlpConfig {
            url,
            metrics_url,
            protocol,
            compression,
            headers,
            timeout: Duration::from_millis(timeout_ms),
            resource_attributes,
        })
    }
}

/// Parses the W3C-baggage-like list the OTel variables use:
/// `k1=v1,k2=v2`, values percent-decoded, blanks around entries ignored.
/// On error returns the 1-based position of the bad entry (never its text,
/// which may be a credential).
pub fn parse_key_values(raw: &str) -> Result<Vec<(String, String)>, usize> {
    let mut out = Vec::new();
    for (i, entry) in raw.split(',').enumerate() {
        if entry.trim().is_empty() {
            continue;
        }
        let (k, v) = entry.split_once('=').ok_or(i + 1)?;
        let k = percent_decode(k.trim()).ok_or(i + 1)?;
        let v = percent_decode(v.trim()).ok_or(i + 1)?;
        if k.is_empty() {
            return Err(i + 1);
        }
        out.push((k, v));
    }
    Ok(out)
}

/// Percent-decoding is a dozen lines; not worth a crate.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = s.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

impl Sink for OtlpSink {
    fn name(&self) -> &'static str {
        "otlp"
    }

    fn send<'a>(
        &'a self,
        batch: &'a [ResourceRecords<'a>],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(self.export(batch, deadline))
    }

    /// Metrics go to `/v1/metrics` when a metrics URL is known.
    fn accepts_metrics(&self) -> bool {
        self.takes_metrics()
    }

    fn send_metrics<'a>(
        &'a self,
        points: &'a [MetricPoint],
        deadline: Instant,
    ) -> BoxFuture<'a, Result<(), SinkError>> {
        Box::pin(self.export_metrics(points, deadline))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> OtlpSettings {
        OtlpSettings::default()
    }

    #[test]
    fn endpoints_follow_the_spec() {
        let mut s = settings();
        assert_eq!(
            OtlpConfig::from_settings(&s).unwrap().url,
            "http://localhost:4318/v1/logs"
        );
        s.otlp_endpoint = Some("https://collector:4318/".into());
        assert_eq!(
            OtlpConfig::from_settings(&s).unwrap().url,
            "https://collector:4318/v1/logs"
        );
        s.otlp_logs_endpoint = Some("https://logs.example/custom".into());
        assert_eq!(
            OtlpConfig::from_settings(&s).unwrap().url,
            "https://logs.example/custom"
        );
        s.otlp_logs_endpoint = Some("ftp://x".into());
        assert!(OtlpConfig::from_settings(&s).is_err());
        // The error names the setting, never the URL (credentials in it).
        s.otlp_logs_endpoint = Some("htps://ops:Hunter2pw@collector/v1/logs".into());
        let e = OtlpConfig::from_settings(&s).unwrap_err().to_string();
        assert!(
            e.contains("OTEL_EXPORTER_OTLP_ENDPOINT") && !e.contains("Hunter2pw"),
            "{e}"
        );
    }

    #[test]
    fn protocol_compression_timeout_and_logs_variants() {
        let mut s = settings();
        s.otlp_protocol = Some("http/json".into());
        s.otlp_compression = Some("none".into());
        s.otlp_timeout = Some(1500);
        let c = OtlpConfig::from_settings(&s).unwrap();
        assert_eq!(
            (c.protocol, c.compression, c.timeout),
            (
                Protocol::Json,
                Compression::None,
                Duration::from_millis(1500)
            )
        );
        s.otlp_logs_protocol = Some("http/protobuf".into());
        s.otlp_logs_compression = Some("gzip".into());
        s.otlp_logs_timeout = Some(20);
        let c = OtlpConfig::from_settings(&s).unwrap();
        assert_eq!(
            (c.protocol, c.compression, c.timeout),
            (
                Protocol::Protobuf,
                Compression::Gzip,
                Duration::from_millis(20)
            )
        );
        s.otlp_logs_protocol = Some("grpc".into());
        assert!(OtlpConfig::from_settings(&s).is_err());
    }

    #[test]
    fn headers_merge_and_never_leak() {
        let mut s = settings();
        s.otlp_headers = Some(Secret::new("Authorization=Bearer%20s3cr3t, x-team = db"));
        s.otlp_logs_headers = Some(Secret::new("x-team=logs"));
        let c = OtlpConfig::from_settings(&s).unwrap();
        let h: Vec<(&str, &str)> = c
            .headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.expose()))
            .collect();
        assert_eq!(
            h,
            vec![("Authorization", "Bearer s3cr3t"), ("x-team", "logs")]
        );
        assert!(!format!("{c:?} {s:?}").contains("s3cr3t"));
        s.otlp_headers = Some(Secret::new("token-without-key-s3cr3t"));
        let err = OtlpConfig::from_settings(&s).unwrap_err().to_string();
        assert!(!err.contains("s3cr3t"), "{err}");
    }

    use crate::registry::select_for_tests::select as config_from;

    #[test]
    fn an_endpoint_selects_the_sink_unless_sinks_are_named() {
        let (otlp, stdout) = ("otlp", "stdout");
        let endpoint = ["--otlp-endpoint", "http://127.0.0.1:4318"];
        assert_eq!(config_from(&endpoint).unwrap().sink_names(), [otlp]);
        assert_eq!(
            config_from(&["--otlp-logs-endpoint", "http://h/v1/logs"])
                .unwrap()
                .sink_names(),
            [otlp]
        );
        let both = config_from(&[&endpoint[..], &["--sinks", "stdout,otlp"]].concat()).unwrap();
        assert_eq!(both.sink_names(), [stdout, otlp]);
        assert_eq!(
            config_from(&[&endpoint[..], &["--sinks", "stdout"]].concat())
                .unwrap()
                .sink_names(),
            [stdout]
        );
        // Explicitly named without an endpoint: the spec's local default.
        let local = config_from(&["--sinks", "otlp"]).unwrap();
        assert_eq!(
            local.sink::<OtlpConfig>().unwrap().url,
            "http://localhost:4318/v1/logs"
        );
        let nothing = config_from(&[]).unwrap();
        assert_eq!(
            (nothing.sink_names(), nothing.sink::<OtlpConfig>().is_none()),
            (vec![stdout], true)
        );
        assert!(config_from(&["--sinks", "otlp", "--otlp-protocol", "grpc"]).is_err());
        // A metrics URL that is not http(s) names its own setting.
        let e = config_from(&["--sinks", "otlp", "--otlp-metrics-endpoint", "ftp://h/m"])
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: "), "{e}");
    }

    #[test]
    fn resource_attributes_are_percent_decoded() {
        let mut s = settings();
        s.resource_attributes = Some("service.name=rds%20logs,deployment.environment=prod".into());
        let c = OtlpConfig::from_settings(&s).unwrap();
        assert_eq!(
            c.resource_attributes.get_str("service.name"),
            Some("rds logs")
        );
        assert_eq!(
            c.resource_attributes.get_str("deployment.environment"),
            Some("prod")
        );
        s.resource_attributes = Some("novalue".into());
        assert!(OtlpConfig::from_settings(&s).is_err());
    }
}
