//! One push request to Loki and the reading of its answer: 2xx (Loki sends
//! 204) is delivered; 429 is throttling (honouring `Retry-After`); 5xx is
//! retryable (an ingester restarting, a gateway timing out); every other
//! status is permanent (400: out of order, too old, line too long, invalid
//! labels; 401/403: credentials), because sending the same body again gets
//! the same answer. Network failures and timeouts are retryable.

use std::time::{Duration, Instant};

use base64::Engine;
use http::header::{
    HeaderMap, HeaderName, HeaderValue, AUTHORIZATION,
};
use http::{StatusCode, Uri};

use super::{encode, Auth, Encoding, LokiConfig};
use rdsf_core::config_error::ConfigError;
use rdsf_http::HttpsClient;
use rdsf_core::record::ResourceRecords;
use crate::http_post::{self, quote};
use crate::otlp::transport::redacted;
use crate::SinkError;

const SINK: &str = "loki";

/// The Loki push client. Keeps one connection pool for the process;
/// redirects are not followed (a 3xx is a status we do not accept).
pub struct LokiSink {
    client: HttpsClient,
    uri: Uri,
    /// `uri` as errors name it: no query string.
    shown_uri: String,
    config: LokiConfig,
    headers: HeaderMap,
}

impl LokiSink {
    pub fn new(config: LokiConfig) -> Result<LokiSink, ConfigError> {
        let invalid = |setting: &'static str, detail: &str| ConfigError::Invalid {
            setting,
            detail: detail.to_owned(),
        };
        let content_type = match config.encoding {
            Encoding::Protobuf => "application/x-protobuf",
            Encoding::Json => "application/json",
        };
        // Loki reads protobuf bodies as raw snappy whatever the header
        // says; only the JSON body declares its (gzip) encoding.
        let mut headers =
            http_post::base_headers(content_type, config.encoding == Encoding::Json);
        if let Some(tenant) = &config.tenant_id {
            let value = HeaderValue::from_str(tenant)
                .map_err(|_| invalid("LOKI_TENANT_ID", "is not a valid HTTP header value"))?;
            headers.insert(HeaderName::from_static("x-scope-orgid"), value);
        }
        let authorization = match &config.auth {
            Auth::None => None,
            Auth::Basic(b) => Some((
                "LOKI_BASIC_AUTH",
                format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(b.expose())
                ),
            )),
            Auth::Bearer(t) => Some(("LOKI_BEARER_TOKEN", format!("Bearer {}", t.expose()))),
        };
        if let Some((setting, value)) = authorization {
            let mut value = HeaderValue::from_str(&value).map_err(|_| {
                invalid(setting, "contains characters not allowed in an HTTP header")
            })?;
            // Keeps the credentials out of http's and hyper's Debug output.
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        let uri: Uri = config
            .url
            .parse()
            .map_err(|_| invalid("LOKI_URL", "is not a valid URL"))?;
        let client = rdsf_http::client().map_err(|e| ConfigError::Invalid {
            setting: "LOKI_URL",
            detail: format!("cannot set up TLS: {e}"),
        })?;
        if let Some(warning) = cleartext_credentials(&uri, config.auth != Auth::None) {
            tracing::warn!("{warning}");
        }
        Ok(LokiSink {
            client,
            shown_uri: redacted(&uri),
            uri,
            config,
            headers,
        })
    }

    pub fn config(&self) -> &LokiConfig {
        &self.config
    }

    /// The URL as messages show it (no credentials, no query string).
    pub fn shown_url(&self) -> &str {
        &self.shown_uri
    }

    /// Pushes `batch` in one request, bounded by `LOKI_TIMEOUT` and `deadline`.
    pub async fn push(
        &self,
        batch: &[ResourceRecords<'_>],
        deadline: Instant,
    ) -> Result<(), SinkError> {
        let body = encode::encode(batch, &self.config.labels, self.config.encoding);
        self.post(body, deadline).await.map(|_| ())
    }

    /// Pushes a request without streams, as `push` sends batches (same URL,
    /// headers, tenant and credentials): whether Loki is there and accepts
    /// us. Loki stores nothing for an empty push and answers it like any other (204).
    pub async fn probe(&self, deadline: Instant) -> Result<StatusCode, SinkError> {
        let body = encode::encode(&[], &self.config.labels, self.config.encoding);
        self.post(body, deadline).await
    }

    async fn post(&self, body: Vec<u8>, deadline: Instant) -> Result<StatusCode, SinkError> {
        let answer = http_post::post(
            SINK,
            &self.client,
            &self.uri,
            &self.headers,
            body,
            self.config.timeout,
            deadline,
        )
        .await?;
        classify(answer.status, answer.retry_after(), &answer.body).map(|()| answer.status)
    }
}

/// A warning when credentials would cross the network in clear text: plain
/// `http://` to a host other than this machine's loopback.
pub fn cleartext_credentials(uri: &Uri, has_auth: bool) -> Option<String> {
    // The OTLP check is the same rule; only the wording differs.
    crate::otlp::transport::cleartext_credentials(uri, has_auth).map(|_| {
        format!(
            "Loki credentials will be sent in clear text to {}: use an https:// URL",
            redacted(uri)
        )
    })
}

/// Turns Loki's answer into success or a typed error (pure; tested offline).
pub fn classify(
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> Result<(), SinkError> {
    if status.is_success() {
        return Ok(());
    }
    let message = quote(&String::from_utf8_lossy(body));
    let detail = format!(
        "HTTP {}{}{}",
        status.as_u16(),
        if message.is_empty() { "" } else { ": " },
        message
    );
    match status.as_u16() {
        429 => Err(SinkError::Throttled {
            sink: SINK,
            detail,
            retry_after,
        }),
        500..=599 => Err(match retry_after {
            Some(_) => SinkError::Throttled {
                sink: SINK,
                detail,
                retry_after,
            },
            None => SinkError::Unavailable { sink: SINK, detail },
        }),
        _ => Err(SinkError::Rejected {
            sink: SINK,
            detail: format!("{detail} (not retryable: Loki would refuse the same push again)"),
        }),
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_retryable_or_permanent() {
        for code in [200, 204] {
            assert!(classify(StatusCode::from_u16(code).unwrap(), None, b"").is_ok());
        }
        let e = classify(
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(2)),
            b"Ingestion rate limit exceeded",
        )
        .unwrap_err();
        assert!(e.is_retryable());
        assert_eq!(e.retry_after(), Some(Duration::from_secs(2)));
        assert!(
            e.to_string().contains("HTTP 429: Ingestion rate limit"),
            "{e}"
        );
        for code in [500, 502, 503, 504] {
            let e = classify(StatusCode::from_u16(code).unwrap(), None, b"").unwrap_err();
            assert!(e.is_retryable(), "{code}");
        }
        for code in [301, 400, 401, 403, 404, 413] {
            let e = classify(StatusCode::from_u16(code).unwrap(), None, b"").unwrap_err();
            assert!(!e.is_retryable(), "{code}");
        }
    }

    #[test]
    fn long_replies_are_cut() {
        let reply = "entry out of order ".repeat(100);
        let e = classify(StatusCode::BAD_REQUEST, None, reply.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("HTTP 400: entry out of order"), "{e}");
        assert!(e.len() < 500, "{}", e.len());
    }

    #[test]
    fn cleartext_warning_names_loki() {
        let uri: Uri = "http://loki.example:3100/loki/api/v1/push".parse().unwrap();
        let w = cleartext_credentials(&uri, true).unwrap();
        assert!(w.starts_with("Loki credentials"), "{w}");
        assert!(cleartext_credentials(&uri, false).is_none());
        let local: Uri = "http://127.0.0.1:3100/loki/api/v1/push".parse().unwrap();
        assert!(cleartext_credentials(&local, true).is_none());
    }
}
