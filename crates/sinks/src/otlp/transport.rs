//! One OTLP/HTTP export request and the reading of its answer, per the OTLP
//! specification: 2xx is success unless `partial_success` rejects records;
//! 429, 502, 503 and 504 are retryable (honouring `Retry-After`); every other
//! status is permanent. Network failures and timeouts are retryable.

use std::time::{Duration, Instant, SystemTime};

use http::header::{
    HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE,
};
use http::{StatusCode, Uri};
use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use prost::Message;

use super::{encode, Compression, OtlpConfig, Protocol};
use rdsf_core::config_error::ConfigError;
use rdsf_http::HttpsClient;
use rdsf_core::metric::MetricPoint;
use rdsf_core::record::ResourceRecords;
use crate::{http_post, SinkError};

const SINK: &str = "otlp";
/// The OTLP/HTTP logs exporter. Keeps one connection pool for the process.
/// Redirects are not followed (hyper's client does not): a 3xx is a status
/// we do not accept, never a silent POST-turned-GET that looks delivered.
pub struct OtlpSink {
    client: HttpsClient,
    uri: Uri,
    /// Where metric points go (`/v1/metrics`), when known.
    metrics_uri: Option<Uri>,
    /// `uri` as errors name it: no `user:pass@`, no query string.
    shown_uri: String,
    config: OtlpConfig,
    headers: HeaderMap,
}

impl OtlpSink {
    pub fn new(config: OtlpConfig) -> Result<OtlpSink, ConfigError> {
        let invalid =
            |setting: &'static str, detail: String| ConfigError::Invalid { setting, detail };
        let mut headers = HeaderMap::new();
        for (name, value) in &config.headers {
            let bad = || {
                invalid(
                    "OTEL_EXPORTER_OTLP_HEADERS",
                    format!("header `{name}` has an invalid name or value"),
                )
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| bad())?;
            // Keeps the value out of http's and hyper's Debug output.
            value.set_sensitive(true);
            headers.append(name, value);
        }
        let content_type = match config.protocol {
            Protocol::Protobuf => "application/x-protobuf",
            Protocol::Json => "application/json",
        };
        // Ours win over a user header of the same name.
        let gzip = config.compression == Compression::Gzip;
        for (name, value) in &http_post::base_headers(content_type, gzip) {
            headers.insert(name, value.clone());
        }
        let uri: Uri = config.url.parse().map_err(|e| {
            invalid(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("not a valid URL: {e}"),
            )
        })?;
        let metrics_uri = match &config.metrics_url {
            Some(u) => Some(u.parse::<Uri>().map_err(|e| {
                invalid(
                    "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                    format!("not a valid URL: {e}"),
                )
            })?),
            None => None,
        };
        let client = rdsf_http::client().map_err(|e| {
            invalid(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                format!("cannot set up TLS: {e}"),
            )
        })?;
        if let Some(warning) = cleartext_credentials(&uri, !config.headers.is_empty()) {
            tracing::warn!("{warning}");
        }
        Ok(OtlpSink {
            client,
            shown_uri: redacted(&uri),
            uri,
            metrics_uri,
            config,
            headers,
        })
    }

    pub fn config(&self) -> &OtlpConfig {
        &self.config
    }

    /// Sends `batch` in one request, bounded by the OTLP timeout and `deadline`.
    pub async fn export(
        &self,
        batch: &[ResourceRecords<'_>],
        deadline: Instant,
    ) -> Result<(), SinkError> {
        self.post(batch, deadline).await.map(|_| ())
    }

    /// Sends an empty `ExportLogsServiceRequest` (no records), as `export`
    /// would send a batch: whether the receiver is there and accepts our
    /// headers. The answer's status on success.
    pub async fn probe(&self, deadline: Instant) -> Result<StatusCode, SinkError> {
        self.post(&[], deadline).await
    }

    /// The URL as messages show it (no credentials, no query string).
    pub fn shown_url(&self) -> &str {
        &self.shown_uri
    }

    /// Whether a metrics URL is known.
    pub fn takes_metrics(&self) -> bool {
        self.metrics_uri.is_some()
    }

    /// Sends metric `points` in one request to the metrics URL.
    pub async fn export_metrics(
        &self,
        points: &[MetricPoint],
        deadline: Instant,
    ) -> Result<(), SinkError> {
        let Some(uri) = &self.metrics_uri else {
            return Err(SinkError::Rejected {
                sink: SINK,
                detail: "no metrics URL (set OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)".to_owned(),
            });
        };
        let body = super::metrics::encode(
            points,
            &self.config.resource_attributes,
            self.config.protocol,
            self.config.compression,
        );
        self.post_body(uri, body, points.len(), Signal::Metrics, deadline)
            .await
            .map(|_| ())
    }

    async fn post(
        &self,
        batch: &[ResourceRecords<'_>],
        deadline: Instant,
    ) -> Result<StatusCode, SinkError> {
        let body = encode::encode(
            batch,
            &self.config.resource_attributes,
            self.config.protocol,
            self.config.compression,
        );
        let records = batch.iter().map(|g| g.records.len()).sum();
        self.post_body(&self.uri, body, records, Signal::Logs, deadline)
            .await
    }

    async fn post_body(
        &self,
        uri: &Uri,
        body: Vec<u8>,
        sent: usize,
        signal: Signal,
        deadline: Instant,
    ) -> Result<StatusCode, SinkError> {
        let answer = http_post::post(
            SINK,
            &self.client,
            uri,
            &self.headers,
            body,
            self.config.timeout,
            deadline,
        )
        .await?;
        let json = answer
            .headers
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.contains("json"))
            .unwrap_or(self.config.protocol == Protocol::Json);
        let retry_after = answer.retry_after();
        classify_signal(signal, answer.status, retry_after, json, &answer.body, sent)
            .map(|()| answer.status)
    }
}


/// `scheme://host:port/path` of `uri`: what errors may show. The userinfo
/// (`user:pass@`) and the query string (where some receivers take a token)
/// are left out.
pub fn redacted(uri: &Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or("?");
    let port = uri.port().map(|p| format!(":{p}")).unwrap_or_default();
    format!("{scheme}://{host}{port}{}", uri.path())
}

/// A warning when OTLP headers (usually credentials) would cross the
/// network in clear text: plain `http://` to a host other than this
/// machine's loopback (a Collector beside the function is fine).
pub fn cleartext_credentials(uri: &Uri, has_headers: bool) -> Option<String> {
    if !has_headers || uri.scheme_str() != Some("http") {
        return None;
    }
    let host = uri.host().unwrap_or("");
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let loopback = bare.eq_ignore_ascii_case("localhost")
        || bare.to_ascii_lowercase().ends_with(".localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        format!(
            "OTLP headers (often credentials) will be sent in clear text to {}: use an https:// endpoint",
            redacted(uri)
        )
    })
}

/// `google.rpc.Status`, the body OTLP servers send with errors; only the
/// fields we quote (the official message, declared here because
/// opentelemetry-proto does not ship it).
#[derive(Clone, PartialEq, prost::Message)]
struct RpcStatus {
    #[prost(int32, tag = "1")]
    code: i32,
    #[prost(string, tag = "2")]
    message: String,
}

/// Which OTLP signal a request carried: its partial-success answer names
/// rejected log records or rejected data points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Logs,
    Metrics,
}

/// Turns an answer to a logs export into success or a typed error (pure;
/// tested offline).
pub fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    json: bool,
    body: &[u8],
    sent: usize,
) -> Result<(), SinkError> {
    classify_signal(Signal::Logs, status, retry_after, json, body, sent)
}

/// [`classify`] for either signal.
pub fn classify_signal(
    signal: Signal,
    status: StatusCode,
    retry_after: Option<Duration>,
    json: bool,
    body: &[u8],
    sent: usize,
) -> Result<(), SinkError> {
    if status.is_success() {
        // An unreadable 2xx body is still an acceptance.
        let partial = match (json, signal) {
            (true, _) => json_partial_success(body, signal),
            (false, Signal::Logs) => ExportLogsServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success),
            (false, Signal::Metrics) => ExportMetricsServiceResponse::decode(body)
                .ok()
                .and_then(|r| r.partial_success)
                .map(|p| ExportLogsPartialSuccess {
                    rejected_log_records: p.rejected_data_points,
                    error_message: p.error_message,
                }),
        };
        let what = match signal {
            Signal::Logs => "log records",
            Signal::Metrics => "metric data points",
        };
        return match partial {
            Some(p) if p.rejected_log_records > 0 => Err(SinkError::Rejected {
                sink: SINK,
                detail: format!(
                    "receiver rejected {} of {sent} {what} (partial success): {}",
                    p.rejected_log_records,
                    quote(&p.error_message)
                ),
            }),
            Some(p) if !p.error_message.is_empty() => {
                tracing::warn!(
                    sink = SINK,
                    "receiver accepted with a warning: {}",
                    quote(&p.error_message)
                );
                Ok(())
            }
            _ => Ok(()),
        };
    }
    let message = error_message(body, json);
    let detail = format!(
        "HTTP {}{}{}",
        status.as_u16(),
        if message.is_empty() { "" } else { ": " },
        message
    );
    match status.as_u16() {
        429 | 502 | 503 | 504 => Err(match retry_after {
            Some(_) => SinkError::Throttled {
                sink: SINK,
                detail,
                retry_after,
            },
            None => SinkError::Unavailable { sink: SINK, detail },
        }),
        _ => Err(SinkError::Rejected {
            sink: SINK,
            detail: format!("{detail} (not retryable per the OTLP specification)"),
        }),
    }
}

/// Reads `partialSuccess` from an OTLP/JSON answer by hand: protobuf's JSON
/// mapping writes int64 as a string (`"rejectedLogRecords":"3"`), which the
/// generated serde types do not accept, and a misread here would turn
/// rejected records into a silent success.
fn json_partial_success(body: &[u8], signal: Signal) -> Option<ExportLogsPartialSuccess> {
    let v: serde_json::Value = serde_json::from_slice(body).ok()?;
    let p = v
        .get("partialSuccess")
        .or_else(|| v.get("partial_success"))?;
    let (camel, snake) = match signal {
        Signal::Logs => ("rejectedLogRecords", "rejected_log_records"),
        Signal::Metrics => ("rejectedDataPoints", "rejected_data_points"),
    };
    let rejected = p.get(camel).or_else(|| p.get(snake));
    let rejected_log_records = match rejected {
        Some(serde_json::Value::Number(n)) => n.as_i64().unwrap_or(i64::MAX),
        Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(i64::MAX),
        _ => 0,
    };
    let error_message = p
        .get("errorMessage")
        .or_else(|| p.get("error_message"))
        .and_then(|m| m.as_str())
        .unwrap_or_default()
        .to_owned();
    Some(ExportLogsPartialSuccess {
        rejected_log_records,
        error_message,
    })
}

fn error_message(body: &[u8], json: bool) -> String {
    if json {
        if let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) {
            if let Some(m) = v.get("message").and_then(|m| m.as_str()) {
                return quote(m);
            }
        }
    } else if let Ok(s) = RpcStatus::decode(body) {
        if !s.message.is_empty() {
            return quote(&s.message);
        }
    }
    quote(&String::from_utf8_lossy(body))
}

use crate::http_post::quote;

/// `Retry-After`: delay-seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .ok()?;
    let at = Duration::from_secs(u64::try_from(when.timestamp()).ok()?);
    Some(at.saturating_sub(now))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_follow_the_spec() {
        for code in [429, 502, 503, 504] {
            let e = classify(StatusCode::from_u16(code).unwrap(), None, false, b"", 1).unwrap_err();
            assert!(e.is_retryable(), "{code}");
        }
        let e = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(1)),
            false,
            b"",
            1,
        )
        .unwrap_err();
        assert_eq!(e.retry_after(), Some(Duration::from_secs(1)));
        for code in [301, 302, 307, 400, 401, 403, 404, 413, 500] {
            let e = classify(StatusCode::from_u16(code).unwrap(), None, false, b"", 1).unwrap_err();
            assert!(!e.is_retryable(), "{code}");
        }
    }

    #[test]
    fn error_bodies_are_quoted() {
        let status = RpcStatus {
            code: 3,
            message: "bad timestamp".into(),
        };
        let e = classify(
            StatusCode::BAD_REQUEST,
            None,
            false,
            &status.encode_to_vec(),
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("HTTP 400: bad timestamp"), "{e}");
        let e = classify(
            StatusCode::BAD_REQUEST,
            None,
            true,
            br#"{"code":3,"message":"nope"}"#,
            1,
        )
        .unwrap_err();
        assert!(e.to_string().contains("HTTP 400: nope"), "{e}");
    }

    #[test]
    fn partial_success_is_a_reported_failure() {
        let resp = ExportLogsServiceResponse {
            partial_success: Some(ExportLogsPartialSuccess {
                rejected_log_records: 2,
                error_message: "too old".into(),
            }),
        };
        let e = classify(StatusCode::OK, None, false, &resp.encode_to_vec(), 5).unwrap_err();
        assert!(!e.is_retryable());
        assert!(
            e.to_string()
                .contains("rejected 2 of 5 log records (partial success): too old"),
            "{e}"
        );
        let json = br#"{"partialSuccess":{"rejectedLogRecords":"3","errorMessage":"x"}}"#;
        assert!(classify(StatusCode::OK, None, true, json, 5).is_err());
        assert!(classify(StatusCode::OK, None, false, b"", 5).is_ok());
        assert!(classify(StatusCode::OK, None, true, b"{}", 5).is_ok());
    }

    #[test]
    fn headers_over_plain_http_beyond_loopback_are_warned_about() {
        let warn = |url: &str, headers| cleartext_credentials(&url.parse().unwrap(), headers);
        let w = warn(
            "http://user:pw@collector.example.com:4318/v1/logs?t=x",
            true,
        )
        .unwrap();
        assert!(
            w.contains("http://collector.example.com:4318/v1/logs"),
            "{w}"
        );
        assert!(!w.contains("pw") && !w.contains("t=x"), "{w}");
        assert!(warn("http://10.0.0.7:4318/v1/logs", true).is_some());
        for quiet in [
            "https://collector.example.com/v1/logs",
            "http://localhost:4318/v1/logs",
            "http://127.0.0.1:4318/v1/logs",
            "http://[::1]:4318/v1/logs",
            "http://otel.localhost:4318/v1/logs",
        ] {
            assert_eq!(warn(quiet, true), None, "{quiet}");
        }
        assert_eq!(warn("http://collector.example.com/v1/logs", false), None);
    }

    #[test]
    fn errors_name_the_url_without_userinfo_or_query() {
        let uri: Uri = "https://alice:pa55w0rd@collector.example:4318/v1/logs?api_key=k3y"
            .parse()
            .unwrap();
        assert_eq!(redacted(&uri), "https://collector.example:4318/v1/logs");
        let uri: Uri = "http://[::1]/v1/logs".parse().unwrap();
        assert_eq!(redacted(&uri), "http://[::1]/v1/logs");
    }

    #[test]
    fn retry_after_forms() {
        assert_eq!(parse_retry_after("1"), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
