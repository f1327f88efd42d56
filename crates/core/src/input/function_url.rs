//! Lambda function URL events (payload format 2.0): an HTTP request handed
//! to the function as its event. This is how Firehose's HTTP endpoint
//! delivery reaches the function without an API gateway.

use std::collections::BTreeMap;

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::firehose::HttpRequest;
use super::{gzip, InputError};

#[derive(Deserialize)]
struct Event {
    #[serde(rename = "rawPath", default)]
    raw_path: String,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(rename = "requestContext")]
    request_context: RequestContext,
    #[serde(default)]
    body: Option<String>,
    #[serde(rename = "isBase64Encoded", default)]
    is_base64_encoded: bool,
}

#[derive(Deserialize)]
struct RequestContext {
    http: Http,
}

#[derive(Deserialize)]
struct Http {
    method: String,
}

/// Just the two keys that make a function URL event.
#[derive(Deserialize)]
struct Probe {
    #[serde(rename = "routeKey")]
    route_key: Option<IgnoredAny>,
    #[serde(rename = "requestContext")]
    request_context: Option<IgnoredAny>,
}

/// The HTTP request `event` carries when it is a function URL event (it has
/// `routeKey` and `requestContext`), `None` for any other event. The big
/// events — CloudWatch's `{"awslogs":…}` and Kinesis's `{"Records":…}`, up
/// to 6 MB — are told by their first key and not parsed an extra time.
pub fn request(event: &[u8]) -> Option<Result<HttpRequest, InputError>> {
    let inside = event
        .trim_ascii_start()
        .strip_prefix(b"{")?
        .trim_ascii_start();
    if inside.starts_with(b"\"awslogs\"") || inside.starts_with(b"\"Records\"") {
        return None;
    }
    match serde_json::from_slice::<Probe>(event) {
        Ok(Probe {
            route_key: Some(_),
            request_context: Some(_),
        }) => {}
        _ => return None,
    }
    let parsed: Event = match serde_json::from_slice(event) {
        Ok(e) => e,
        Err(e) => {
            return Some(Err(InputError::UnknownShape(format!(
                "a function URL event that cannot be read: {e}"
            ))))
        }
    };
    let body = match (parsed.body, parsed.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(text), true) => match gzip::base64_decode("function URL body", &text) {
            Ok(bytes) => bytes,
            Err(e) => return Some(Err(e)),
        },
        (Some(text), false) => text.into_bytes(),
    };
    Some(Ok(HttpRequest {
        method: parsed.request_context.http.method,
        path: parsed.raw_path,
        headers: parsed
            .headers
            .into_iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v))
            .collect(),
        body,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_url_event_gives_its_request() {
        let event = serde_json::json!({
            "version": "2.0", "routeKey": "$default", "rawPath": "/", "rawQueryString": "",
            "headers": {"X-Amz-Firehose-Request-Id": "r1", "content-type": "application/json"},
            "requestContext": {"http": {"method": "POST", "path": "/"}},
            "body": "eyJhIjoxfQ==", "isBase64Encoded": true
        });
        let req = request(event.to_string().as_bytes()).unwrap().unwrap();
        assert_eq!(req.method, "POST");
        assert_eq!(req.header("x-amz-firehose-request-id"), Some("r1"));
        assert_eq!(req.body, b"{\"a\":1}");
        assert!(req.is_firehose());
    }

    #[test]
    fn other_events_are_not_read() {
        assert!(request(br#"{"awslogs":{"data":"x"}}"#).is_none());
        assert!(request(br#"{"Records":[]}"#).is_none());
        assert!(request(br#"{"version":"2.0","routeKey":"$default"}"#).is_none());
        let bad = br#"{"routeKey":"$default","requestContext":{}}"#;
        assert!(request(bad).unwrap().is_err(), "no requestContext.http");
        let bad_body = br#"{"routeKey":"$default","requestContext":{"http":{"method":"POST"}},"body":"%%","isBase64Encoded":true}"#;
        let e = request(bad_body).unwrap().unwrap_err();
        assert_eq!(e.reason(), "invalid_base64");
    }
}
