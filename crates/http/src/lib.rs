//! The one HTTPS client setup shared by every outbound HTTP call (the OTLP
//! sink, the AWS API calls in `aws/`): hyper-util's pooled client over
//! rustls (ring) with webpki roots, HTTP/1.1, no OpenSSL. Shared so both
//! agree on TLS and pooling and the binary carries one client stack.

#![forbid(unsafe_code)]

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

/// Pooled connections idle longer than this are not reused: a frozen Lambda
/// environment thaws with connections the peer has long closed.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(20);

/// A pooled HTTP/1.1 client speaking `https://` and plain `http://` (local
/// collectors and emulators).
pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// Builds the client. Redirects are not followed (hyper's client does not).
pub fn client() -> Result<HttpsClient, rustls::Error> {
    let tls = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_webpki_roots(Arc::new(rustls::crypto::ring::default_provider()))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(TokioExecutor::new())
        .pool_idle_timeout(POOL_IDLE_TIMEOUT)
        .pool_timer(TokioTimer::new())
        .build(tls))
}

/// Reads at most `limit` bytes of a response body, so a misbehaving server
/// cannot fill memory.
pub async fn read_bounded<B>(mut body: B, limit: usize) -> Result<Vec<u8>, B::Error>
where
    B: http_body::Body<Data = Bytes> + Unpin,
{
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            let room = limit - out.len();
            out.extend_from_slice(&data[..data.len().min(room)]);
            if out.len() >= limit {
                break;
            }
        }
    }
    Ok(out)
}

/// An error with its causes ("client error (Connect): tcp connect error:
/// Connection refused"); hyper's top-level message alone says little.
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut detail = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        source = s.source();
    }
    detail
}
