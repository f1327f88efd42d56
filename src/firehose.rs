//! Firehose HTTP endpoint deliveries through a Lambda function URL: the
//! request checked and read (`rdsf_core::input::firehose`), its records run
//! through the pipeline, and the answer Firehose's contract asks for.
//!
//! Firehose retries a request (same request id) until it gets a 200 or its
//! retry window ends, then backs the data up to S3. So: 200 only after every
//! record reached every sink; any failure is a non-200 carrying the request
//! id and a message. A request id already delivered (its 200 lost on the
//! way back) is answered 200 again without sending its records twice, for
//! as long as this execution environment remembers it ([`Recent`]).

use std::collections::{HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde::Serialize;

use rdsf_core::input::firehose::{self, HttpRequest, Response};
use rdsf_sinks::Sink;

use crate::pipeline::{Outcome, Pipeline};

/// How long a delivered request id is remembered: Firehose's longest retry
/// window for HTTP endpoints (7,200 s).
pub const REMEMBER_FOR: Duration = Duration::from_secs(7_200);
/// How many delivered request ids are remembered at most (~0.5 MB).
pub const REMEMBER_AT_MOST: usize = 10_000;

/// A function URL's answer (`statusCode`, `headers`, `body`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpResponse {
    pub status_code: u16,
    pub headers: std::collections::BTreeMap<&'static str, &'static str>,
    pub body: String,
}

impl HttpResponse {
    fn json(status_code: u16, response: &Response) -> Self {
        HttpResponse {
            status_code,
            headers: [("content-type", "application/json")].into(),
            body: serde_json::to_string(response).expect("a response serializes"),
        }
    }

    /// The answer's request id and message, read back (for logs and tests).
    pub fn response(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_default()
    }
}

/// Request ids delivered lately, oldest first; bounded in count and age.
/// Also the ids being delivered right now, so a copy of a request that
/// arrives while the first is still in flight (Firehose gave up waiting on
/// it, or a client replays early) is told to retry instead of sending the
/// same records a second time beside it.
pub struct Recent {
    order: VecDeque<(Instant, String)>,
    ids: HashSet<String>,
    /// Bounded by the requests in flight at once (serve's turns).
    in_flight: HashSet<String>,
    /// [`REMEMBER_FOR`] (shorter in tests).
    remember_for: Duration,
}

impl Default for Recent {
    fn default() -> Self {
        Recent {
            order: VecDeque::new(),
            ids: HashSet::new(),
            in_flight: HashSet::new(),
            remember_for: REMEMBER_FOR,
        }
    }
}

impl Recent {
    fn forget_old(&mut self, now: Instant) {
        while let Some((at, _)) = self.order.front() {
            if now.duration_since(*at) < self.remember_for && self.order.len() <= REMEMBER_AT_MOST {
                break;
            }
            if let Some((_, id)) = self.order.pop_front() {
                self.ids.remove(&id);
            }
        }
    }

    pub fn contains(&mut self, id: &str) -> bool {
        self.forget_old(Instant::now());
        self.ids.contains(id)
    }

    pub fn insert(&mut self, id: &str) {
        if self.ids.insert(id.to_owned()) {
            self.order.push_back((Instant::now(), id.to_owned()));
        }
        self.forget_old(Instant::now());
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// Marks `id` as being delivered; false when it already is.
    fn start(&mut self, id: &str) -> bool {
        self.in_flight.insert(id.to_owned())
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }
}

/// The answer to a function URL event that could not be read.
pub fn bad_event(e: &rdsf_core::input::InputError) -> HttpResponse {
    HttpResponse::json(
        400,
        &Response {
            request_id: String::new(),
            timestamp: rdsf_core::time::now_ns() / 1_000_000,
            error_message: Some(e.to_string()),
        },
    )
}

/// Answers one function URL request.
pub async fn answer(
    pipeline: &Pipeline,
    sinks: &[Box<dyn Sink>],
    recent: &Mutex<Recent>,
    req: HttpRequest,
    deadline: Instant,
) -> HttpResponse {
    let now_ms = rdsf_core::time::now_ns() / 1_000_000;
    let reply = |status: u16, request_id: String, error: Option<String>| {
        HttpResponse::json(
            status,
            &Response {
                request_id,
                timestamp: now_ms,
                error_message: error,
            },
        )
    };
    if !req.is_firehose() {
        tracing::warn!(method = %req.method, path = %req.path, "function URL request that is not a Firehose delivery");
        return reply(
            404,
            String::new(),
            Some("only Amazon Data Firehose HTTP endpoint deliveries are served here".to_owned()),
        );
    }
    let config = pipeline.config();
    let delivery = match firehose::open(
        &req,
        config.firehose_access_key.as_ref(),
        config.max_decompressed_bytes,
    ) {
        Ok(d) => d,
        Err((request_id, refusal)) => {
            tracing::warn!(
                request_id,
                status = refusal.status(),
                "Firehose request refused: {refusal}"
            );
            return reply(refusal.status(), request_id, Some(refusal.to_string()));
        }
    };
    let id = delivery.request_id;
    {
        let mut recent = recent.lock().expect("not poisoned");
        if recent.contains(&id) {
            tracing::info!(
                request_id = id,
                "Firehose retried a request already delivered; answering 200 again"
            );
            return reply(200, id, None);
        }
        if !recent.start(&id) {
            tracing::warn!(
                request_id = id,
                "a copy of a Firehose request still being delivered; answering 503 for a retry"
            );
            let message = "a delivery of this request id is still in progress; retry later";
            return reply(503, id, Some(message.to_owned()));
        }
    }
    // Ends the in-flight mark however this future ends (done, failed, or
    // dropped by serve's request timeout).
    let _in_flight = InFlight {
        recent,
        id: id.clone(),
    };
    let records = delivery.decoded.units.len();
    let outcome = pipeline
        .run_decoded(Ok(delivery.decoded), req.body.len(), sinks, deadline)
        .await;
    match failure_of(&outcome) {
        None => {
            recent.lock().expect("not poisoned").insert(&id);
            tracing::info!(
                request_id = id,
                records,
                delivered = outcome.stats.delivered,
                "Firehose delivery done"
            );
            reply(200, id, None)
        }
        Some((status, message)) => {
            tracing::error!(
                request_id = id,
                status,
                "Firehose delivery failed: {message}"
            );
            reply(status, id, Some(message))
        }
    }
}

/// The in-flight mark of one request id, removed on drop.
struct InFlight<'a> {
    recent: &'a Mutex<Recent>,
    id: String,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        // A poisoned lock only means another request panicked; the mark
        // must go either way, or every retry of this id would be refused.
        let mut recent = self.recent.lock().unwrap_or_else(|e| e.into_inner());
        recent.in_flight.remove(&self.id);
    }
}

/// The status and message of a delivery that did not complete: 503 when a
/// retry may pass (a sink down, the deadline), 400 when the data itself was
/// refused (Firehose retries either way and, at the end of its window,
/// backs the request up to S3).
fn failure_of(outcome: &Outcome) -> Option<(u16, String)> {
    let first = outcome.failures.first()?;
    let status = if outcome.failures.iter().any(|f| f.retryable()) {
        503
    } else {
        400
    };
    let more = outcome.failures.len() - 1;
    let message = if more == 0 {
        first.message.clone()
    } else {
        format!("{} (and {more} more)", first.message)
    };
    Some((status, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the function URL runtime reads: `statusCode`, `headers`, `body`
    /// (a string holding Firehose's JSON answer).
    #[test]
    fn the_answer_serializes_as_a_function_url_response() {
        let r = HttpResponse::json(
            503,
            &Response {
                request_id: "r1".into(),
                timestamp: 7,
                error_message: Some("down".into()),
            },
        );
        let v = serde_json::to_value(crate::lambda::Reply::Http(r)).unwrap();
        assert_eq!(v["statusCode"], 503);
        assert_eq!(v["headers"]["content-type"], "application/json");
        let body: serde_json::Value = serde_json::from_str(v["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({"requestId": "r1", "timestamp": 7, "errorMessage": "down"})
        );
        let ok = HttpResponse::json(
            200,
            &Response {
                request_id: "r1".into(),
                timestamp: 7,
                error_message: None,
            },
        );
        assert_eq!(ok.body, r#"{"requestId":"r1","timestamp":7}"#);
    }

    #[test]
    fn recent_ids_are_forgotten_after_the_window() {
        let mut r = Recent {
            remember_for: Duration::from_millis(50),
            ..Recent::default()
        };
        r.insert("old");
        assert!(r.contains("old"));
        std::thread::sleep(Duration::from_millis(80));
        r.insert("new");
        assert!(
            !r.contains("old"),
            "past the window: a retry would be delivered again"
        );
        assert!(r.contains("new"));
        assert_eq!(r.len(), 1);
    }

    #[test]
    fn recent_ids_are_bounded_in_count() {
        let mut r = Recent::default();
        for i in 0..REMEMBER_AT_MOST + 5 {
            r.insert(&format!("id-{i}"));
        }
        assert_eq!(r.len(), REMEMBER_AT_MOST);
        assert!(!r.contains("id-0"), "the oldest went first");
        assert!(r.contains(&format!("id-{}", REMEMBER_AT_MOST + 4)));
    }
}
