//! Amazon Data Firehose HTTP endpoint deliveries: the scale path (one
//! account-level subscription, Firehose's buffering, its S3 backup when the
//! endpoint keeps failing).
//!
//! Firehose POSTs `{"requestId","timestamp","records":[{"data"}]}` with
//! `X-Amz-Firehose-Protocol-Version: 1.0`, `X-Amz-Firehose-Request-Id`
//! (the same across its retries of one request), `X-Amz-Firehose-Access-Key`
//! and, when the stream compresses, `Content-Encoding: gzip`. A delivery is
//! done only when the endpoint answers 200 with `{"requestId","timestamp"}`;
//! anything else Firehose retries and, after its retry window, backs up to
//! S3. Each record's `data` is base64 of what the stream received: a
//! CloudWatch Logs subscription document (gzip, or JSON when the stream
//! decompresses) or an EventBridge RDS event.
//!
//! Pure: an HTTP request in, the decoded event or the refusal (status and
//! message) out. The binary does the answering.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use super::{cloudwatch, eventbridge, gzip};
use super::{Content, Decoded, EventKind, InputError, Origin, Unit};
use crate::secret::Secret;

/// The only protocol version Firehose speaks.
pub const PROTOCOL_VERSION: &str = "1.0";
pub const HEADER_PROTOCOL_VERSION: &str = "x-amz-firehose-protocol-version";
pub const HEADER_REQUEST_ID: &str = "x-amz-firehose-request-id";
pub const HEADER_ACCESS_KEY: &str = "x-amz-firehose-access-key";

/// An HTTP request, as a function URL (or a server) hands it over.
#[derive(Debug, Clone, Default)]
pub struct HttpRequest {
    pub method: String,
    pub path: String,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether Firehose sent it (its request id header is there).
    pub fn is_firehose(&self) -> bool {
        self.header(HEADER_REQUEST_ID).is_some()
    }
}

/// Why a request is refused before anything is delivered; each maps to the
/// HTTP status Firehose is answered with.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("method {0} not allowed: Firehose delivers with POST")]
    Method(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("the request body inflates past {limit} bytes (RDSF_MAX_DECOMPRESSED_BYTES)")]
    TooLarge { limit: usize },
    #[error("{0}")]
    BadRequest(String),
}

impl Refusal {
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Method(_) => 405,
            Refusal::Unauthorized(_) => 401,
            Refusal::TooLarge { .. } => 413,
            Refusal::BadRequest(_) => 400,
        }
    }
}

/// A request read and authorised: its id and its records as units.
#[derive(Debug)]
pub struct Delivery {
    pub request_id: String,
    pub decoded: Decoded,
}

/// What Firehose is answered with (the body; the status goes beside it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Response {
    #[serde(rename = "requestId")]
    pub request_id: String,
    /// When the endpoint answered (Unix ms).
    pub timestamp: i64,
    #[serde(rename = "errorMessage", skip_serializing_if = "Option::is_none")]
    pub error_message: Option<String>,
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "requestId")]
    request_id: String,
    records: Vec<BodyRecord>,
}

#[derive(Deserialize)]
struct BodyRecord {
    data: String,
}

/// Checks and reads a Firehose request. `access_key` is the key Firehose
/// must present (none configured: every request is refused, since a
/// function URL or load balancer is reachable by anyone); `limit` bounds
/// the inflated body and each record. The error carries the request id to
/// answer with (empty when the request had none).
pub fn open(
    req: &HttpRequest,
    access_key: Option<&Secret>,
    limit: usize,
) -> Result<Delivery, (String, Refusal)> {
    let request_id = req.header(HEADER_REQUEST_ID).unwrap_or_default().to_owned();
    let refuse = |r: Refusal| (request_id.clone(), r);
    if !req.method.eq_ignore_ascii_case("POST") {
        return Err(refuse(Refusal::Method(req.method.clone())));
    }
    match req.header(HEADER_PROTOCOL_VERSION) {
        Some(PROTOCOL_VERSION) => {}
        other => {
            return Err(refuse(Refusal::BadRequest(format!(
                "X-Amz-Firehose-Protocol-Version is {}, expected {PROTOCOL_VERSION}",
                other.map_or("missing".to_owned(), |v| format!("`{v}`"))
            ))))
        }
    }
    if request_id.is_empty() {
        return Err(refuse(Refusal::BadRequest(
            "X-Amz-Firehose-Request-Id is empty".to_owned(),
        )));
    }
    authorise(req.header(HEADER_ACCESS_KEY), access_key).map_err(refuse)?;
    let body = body_of(req, limit).map_err(refuse)?;
    let parsed: Body = serde_json::from_slice(&body).map_err(|e| {
        refuse(Refusal::BadRequest(format!(
            "the body is not a Firehose delivery request: {e}"
        )))
    })?;
    if parsed.request_id != request_id {
        return Err(refuse(Refusal::BadRequest(
            "the body's requestId differs from X-Amz-Firehose-Request-Id".to_owned(),
        )));
    }
    let units = parsed
        .records
        .iter()
        .enumerate()
        .map(|(i, r)| Unit {
            origin: Origin::Whole,
            content: decode_record(i, &r.data, limit),
        })
        .collect();
    Ok(Delivery {
        request_id,
        decoded: Decoded {
            kind: EventKind::Firehose,
            units,
        },
    })
}

/// The presented key against ours, in time independent of where they
/// differ (the length may show; the key's content may not).
fn authorise(presented: Option<&str>, ours: Option<&Secret>) -> Result<(), Refusal> {
    let Some(ours) = ours.filter(|k| !k.is_empty()) else {
        return Err(Refusal::Unauthorized(
            "no access key is configured here (RDSF_FIREHOSE_ACCESS_KEY); refusing every delivery",
        ));
    };
    let presented = presented.unwrap_or_default();
    if bool::from(presented.as_bytes().ct_eq(ours.expose().as_bytes())) {
        Ok(())
    } else {
        Err(Refusal::Unauthorized("access key rejected"))
    }
}

/// The body, inflated when `Content-Encoding: gzip`, within `limit`.
fn body_of(req: &HttpRequest, limit: usize) -> Result<Vec<u8>, Refusal> {
    let encoding = req.header("content-encoding").unwrap_or("identity");
    if encoding.eq_ignore_ascii_case("gzip") {
        return gzip::gunzip_bounded("Firehose request body", &req.body, limit).map_err(
            |e| match e {
                InputError::TooLarge { limit, .. } => Refusal::TooLarge { limit },
                other => Refusal::BadRequest(other.to_string()),
            },
        );
    }
    if !encoding.eq_ignore_ascii_case("identity") {
        return Err(Refusal::BadRequest(format!(
            "Content-Encoding `{encoding}` is not gzip"
        )));
    }
    if req.body.len() > limit {
        return Err(Refusal::TooLarge { limit });
    }
    Ok(req.body.clone())
}

/// One record's data: a CloudWatch Logs document (gzip or JSON), or an
/// EventBridge RDS event.
fn decode_record(index: usize, data: &str, limit: usize) -> Result<Content, InputError> {
    let what = format!("Firehose record {index}");
    let json = gzip::record_text(&what, data, limit)?;
    match cloudwatch::parse_documents(&what, &json) {
        Ok(docs) => Ok(Content::Logs(docs)),
        Err(not_logs) => match serde_json::from_str::<serde_json::Value>(&json) {
            Ok(v) if v.get("detail-type").is_some() => {
                eventbridge::decode(v).map(|e| Content::RdsEvent(Box::new(e)))
            }
            _ => Err(not_logs),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use base64::Engine as _;

    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    fn b64(bytes: &[u8]) -> String {
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    const DOC: &str = r#"{"messageType":"DATA_MESSAGE","owner":"123456789012","logGroup":"/aws/rds/instance/db1/postgresql","logStream":"db1.0","subscriptionFilters":["f"],"logEvents":[{"id":"1","timestamp":1700000000000,"message":"2023-11-14 22:13:20 UTC::@:[1]:LOG:  checkpoint starting: time"}]}"#;

    fn request(records: &[String], key: &str) -> HttpRequest {
        let body = serde_json::json!({
            "requestId": "req-1",
            "timestamp": 1_700_000_000_000i64,
            "records": records.iter().map(|d| serde_json::json!({"data": d})).collect::<Vec<_>>(),
        });
        HttpRequest {
            method: "POST".into(),
            path: "/".into(),
            headers: vec![
                (HEADER_PROTOCOL_VERSION.into(), "1.0".into()),
                (HEADER_REQUEST_ID.into(), "req-1".into()),
                (HEADER_ACCESS_KEY.into(), key.into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    fn key() -> Secret {
        Secret::new("k3y-for-tests")
    }

    #[test]
    fn gzip_and_plain_documents_and_rds_events_become_units() {
        let event = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/data/whatap/rds-event-failover.json"
        ))
        .unwrap();
        let records = [
            b64(&gzip(DOC.as_bytes())),
            b64(DOC.as_bytes()),
            b64(event.as_bytes()),
        ];
        let d = open(&request(&records, "k3y-for-tests"), Some(&key()), 1 << 20).unwrap();
        assert_eq!(d.request_id, "req-1");
        assert_eq!(d.decoded.kind, EventKind::Firehose);
        let kinds: Vec<&str> = d
            .decoded
            .units
            .iter()
            .map(|u| match u.content.as_ref().unwrap() {
                Content::Logs(_) => "logs",
                Content::RdsEvent(_) => "rds",
                Content::LogGroupCreated(_) => "trail",
            })
            .collect();
        assert_eq!(kinds, ["logs", "logs", "rds"]);
    }

    #[test]
    fn a_gzip_body_is_inflated_within_the_limit() {
        let mut req = request(&[b64(DOC.as_bytes())], "k3y-for-tests");
        req.body = gzip(&req.body);
        req.headers.push(("content-encoding".into(), "gzip".into()));
        assert!(open(&req, Some(&key()), 1 << 20).is_ok());
        let (id, refusal) = open(&req, Some(&key()), 64).unwrap_err();
        assert_eq!((id.as_str(), refusal.status()), ("req-1", 413));
    }

    #[test]
    fn refusals_carry_their_status() {
        let good = request(&[b64(DOC.as_bytes())], "k3y-for-tests");
        let status = |req: &HttpRequest, key: Option<&Secret>| {
            open(req, key, 1 << 20)
                .map(|_| 200)
                .unwrap_or_else(|(_, r)| r.status())
        };
        assert_eq!(status(&good, Some(&key())), 200);
        assert_eq!(status(&good, None), 401, "no key configured: refuse");
        assert_eq!(status(&request(&[], "wrong"), Some(&key())), 401);
        assert_eq!(
            status(&request(&[], "k3y-for-tests-and-more"), Some(&key())),
            401
        );
        let mut no_key = good.clone();
        no_key.headers.retain(|(n, _)| n != HEADER_ACCESS_KEY);
        assert_eq!(status(&no_key, Some(&key())), 401);
        let mut get = good.clone();
        get.method = "GET".into();
        assert_eq!(status(&get, Some(&key())), 405);
        let mut v2 = good.clone();
        v2.headers[0].1 = "2.0".into();
        assert_eq!(status(&v2, Some(&key())), 400);
        let mut junk = good.clone();
        junk.body = b"not json".to_vec();
        assert_eq!(status(&junk, Some(&key())), 400);
        let mut other_id = good.clone();
        other_id.headers[1].1 = "req-2".into();
        assert_eq!(status(&other_id, Some(&key())), 400);
        assert_eq!(status(&good, Some(&key())), 200);
        // The key never appears in what a refusal says.
        let (_, r) = open(&request(&[], "wrong"), Some(&key()), 1 << 20).unwrap_err();
        assert!(!r.to_string().contains("k3y"));
    }

    #[test]
    fn a_bad_record_fails_alone() {
        let records = [b64(DOC.as_bytes()), "%%%".to_owned(), b64(b"{\"hello\":1}")];
        let d = open(&request(&records, "k3y-for-tests"), Some(&key()), 1 << 20).unwrap();
        let ok: Vec<bool> = d.decoded.units.iter().map(|u| u.content.is_ok()).collect();
        assert_eq!(ok, [true, false, false]);
    }
}
