//! One HTTP POST as the HTTP sinks (OTLP, Loki) send it: one bound for
//! connecting, sending and reading the whole answer (read up to a limit, so
//! a misbehaving server cannot fill memory), errors that name the URL
//! without its credentials or query, and the pieces every sink reads from an
//! answer (`Retry-After`, a quoted excerpt of the body). What a status means
//! stays with each sink: OTLP and Loki differ on 5xx and partial success.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{
    HeaderMap, HeaderValue, CONTENT_ENCODING, CONTENT_TYPE, RETRY_AFTER, USER_AGENT,
};
use http::{StatusCode, Uri};
use http_body_util::Full;

use super::otlp::transport::{parse_retry_after, redacted};
use super::registry::CheckLine;
use super::SinkError;
use rdsf_http::HttpsClient;

/// Bound on the part of an answer's body that is read.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Bound on the server text quoted in an error.
pub const MAX_QUOTED_CHARS: usize = 300;

/// The headers every request of an HTTP sink carries: its body's type,
/// `Content-Encoding: gzip` when the body is gzip'd, and our user agent.
pub fn base_headers(content_type: &'static str, gzip: bool) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    if gzip {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("rds-forwarder/", env!("CARGO_PKG_VERSION"))),
    );
    headers
}

/// What came back.
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The server's `Retry-After`, read saturating.
    pub fn retry_after(&self) -> Option<Duration> {
        self.headers
            .get(RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(parse_retry_after)
    }
}

/// POSTs `body` to `uri` with `headers`, within `timeout` and `deadline`
/// (whichever ends first). Network failures and timeouts are
/// [`SinkError::Unavailable`] (retryable), named by `redacted(uri)`.
pub async fn post(
    sink: &'static str,
    client: &HttpsClient,
    uri: &Uri,
    headers: &HeaderMap,
    body: Vec<u8>,
    timeout: Duration,
    deadline: Instant,
) -> Result<Answer, SinkError> {
    let now = Instant::now();
    if now >= deadline {
        return Err(SinkError::Deadline { sink });
    }
    let timeout = timeout.min(deadline - now);
    let shown = redacted(uri);
    let network = |e: &(dyn std::error::Error + 'static)| SinkError::Unavailable {
        sink,
        detail: format!("{shown}: {}", rdsf_http::error_chain(e)),
    };
    let mut request = http::Request::new(Full::new(Bytes::from(body)));
    *request.method_mut() = http::Method::POST;
    *request.uri_mut() = uri.clone();
    *request.headers_mut() = headers.clone();
    let answer = tokio::time::timeout(timeout, async {
        let response = client.request(request).await.map_err(|e| network(&e))?;
        let (parts, body) = response.into_parts();
        let body = rdsf_http::read_bounded(body, MAX_RESPONSE_BYTES)
            .await
            .map_err(|e| network(&e))?;
        Ok::<_, SinkError>(Answer {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    })
    .await
    .map_err(|_| SinkError::Unavailable {
        sink,
        detail: format!("{shown}: no answer within {} ms", timeout.as_millis()),
    })?;
    answer
}

/// At most [`MAX_QUOTED_CHARS`] of a server's text, trimmed.
pub fn quote(text: &str) -> String {
    let text = text.trim();
    match text.char_indices().nth(MAX_QUOTED_CHARS) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

/// `check`'s line for a probe request: the status on success, else the
/// reason without the URL the sink's error starts with (the line names it).
pub fn probe_line(
    what: String,
    shown_url: &str,
    probed: &str,
    result: Result<StatusCode, SinkError>,
) -> CheckLine {
    match result {
        Ok(status) => CheckLine::ok(what, format!("HTTP {} to {probed}", status.as_u16())),
        Err(e) => {
            let reason = match &e {
                SinkError::Unavailable { detail, .. }
                | SinkError::Rejected { detail, .. }
                | SinkError::Throttled { detail, .. } => detail
                    .strip_prefix(&format!("{shown_url}: "))
                    .unwrap_or(detail)
                    .to_owned(),
                other => other.to_string(),
            };
            CheckLine::fail(what, reason)
        }
    }
}
