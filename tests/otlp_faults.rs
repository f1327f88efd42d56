//! Fault injection against the OTLP/HTTP sink through the delivery engine:
//! for every scenario the invariant is "the server accepted every record
//! id, OR the run reported failure" — never success with a record missing.
//! Each scenario also pins the specific outcome the OTLP spec asks for.
//! Driven through the library (`Pipeline::run`, `Handler`) and the real
//! binary (`rds-forwarder replay` with OTEL_* variables).

use crate::delivery_support;

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use delivery_support::fault_server::{Act, FaultServer};
use rds_forwarder::lambda::Handler;

/// Small backoffs and an OTLP timeout short enough for stalls; one batch in
/// flight so the server's script meets batches in order.
fn flags<'a>(endpoint: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut f = vec![
        "--otlp-endpoint",
        endpoint,
        "--otlp-timeout",
        "500",
        "--retry-initial-backoff-ms",
        "20",
        "--retry-max-backoff-ms",
        "100",
    ];
    if !extra.contains(&"--delivery-concurrency") {
        f.extend_from_slice(&["--delivery-concurrency", "1"]);
    }
    f.extend_from_slice(extra);
    f
}

struct Run {
    failed: bool,
    summary: String,
}

/// Replays every corpus payload through the library, as Lambda would.
async fn run_library(endpoint: &str, extra: &[&str]) -> (Run, BTreeSet<String>) {
    let (pipeline, sinks) = delivery_support::build(&flags(endpoint, extra));
    let mut expected = BTreeSet::new();
    let mut run = Run {
        failed: false,
        summary: String::new(),
    };
    for (_, payload) in delivery_support::maria_error_payloads() {
        expected.extend(delivery_support::expected_ids(&pipeline, &payload));
        let outcome = pipeline
            .run(&payload, &sinks, Instant::now() + Duration::from_secs(30))
            .await;
        if outcome.stats.failed() {
            run.failed = true;
            for f in &outcome.failures {
                run.summary.push_str(&f.message);
                run.summary.push('\n');
            }
        }
    }
    (run, expected)
}

/// The invariant every scenario must hold.
fn assert_invariant(run: &Run, expected: &BTreeSet<String>, server: &FaultServer) {
    let accepted = server.accepted();
    let missing: Vec<&String> = expected.difference(&accepted).collect();
    assert!(
        run.failed || missing.is_empty(),
        "run reported success but {} of {} records never reached the server (acts: {:?})",
        missing.len(),
        expected.len(),
        server.taken()
    );
}

#[tokio::test]
async fn connection_refused_fails_the_run() {
    let endpoint = format!("http://{}", FaultServer::refused_addr());
    let (pipeline, sinks) =
        delivery_support::build(&flags(&endpoint, &["--retry-max-attempts", "3"]));
    let (_, payload) = &delivery_support::maria_error_payloads()[0];
    let outcome = pipeline
        .run(payload, &sinks, Instant::now() + Duration::from_secs(30))
        .await;
    assert!(outcome.stats.failed());
    assert_eq!(outcome.stats.delivered, 0);
    let message = &outcome.failures[0].message;
    assert!(message.contains("after 3 attempt(s)"), "{message}");
    assert!(message.to_lowercase().contains("connect"), "{message}");
}

#[tokio::test]
async fn reset_mid_request_is_retried_to_completion() {
    let server = FaultServer::start(vec![Act::Reset], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(!run.failed, "{}", run.summary);
    assert_eq!(server.taken()[..2], [Act::Reset, Act::Accept]);
}

#[tokio::test]
async fn http_500_is_permanent_per_spec_and_the_lambda_retry_completes() {
    let server = FaultServer::start(vec![Act::Status(500, None)], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(
        run.failed,
        "500 is not retryable in OTLP: the invocation must fail"
    );
    assert!(run.summary.contains("HTTP 500"), "{}", run.summary);
    // Lambda retries the failed invocation: the same records are sent again
    // (duplicates allowed) and now all arrive.
    let (rerun, _) = run_library(&server.endpoint(), &[]).await;
    assert!(!rerun.failed, "{}", rerun.summary);
    assert_eq!(server.accepted(), expected);
}

#[tokio::test]
async fn http_429_with_retry_after_is_retried() {
    let server = FaultServer::start(vec![Act::Status(429, Some("1"))], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(!run.failed, "{}", run.summary);
    assert_eq!(
        server.taken()[..2],
        [Act::Status(429, Some("1")), Act::Accept]
    );
    assert_eq!(server.accepted(), expected);
}

#[tokio::test]
async fn a_stalled_answer_times_out_and_is_retried() {
    let server = FaultServer::start(vec![Act::Stall], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(!run.failed, "{}", run.summary);
    assert_eq!(server.taken()[..2], [Act::Stall, Act::Accept]);
}

#[tokio::test]
async fn a_half_open_server_times_out_and_is_retried() {
    let server = FaultServer::start(vec![Act::NeverRead], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(!run.failed, "{}", run.summary);
    assert_eq!(server.taken()[..2], [Act::NeverRead, Act::Accept]);
}

#[tokio::test]
async fn http_400_for_one_batch_is_reported_not_retried() {
    let server = FaultServer::start(vec![Act::Accept, Act::Status(400, None)], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &["--batch-max-records", "10"]).await;
    assert_invariant(&run, &expected, &server);
    assert!(run.failed);
    assert!(run.summary.contains("HTTP 400"), "{}", run.summary);
    assert!(
        run.summary.contains("[10..20)"),
        "names the batch: {}",
        run.summary
    );
    // Only that batch is missing, and it was tried once.
    assert_eq!(expected.len() - server.accepted().len(), 10);
    assert_eq!(
        server
            .taken()
            .iter()
            .filter(|a| **a == Act::Status(400, None))
            .count(),
        1
    );
}

#[tokio::test]
async fn partial_success_is_a_failure() {
    let server = FaultServer::start(vec![Act::Partial(2)], Act::Accept);
    let (run, expected) = run_library(&server.endpoint(), &[]).await;
    assert_invariant(&run, &expected, &server);
    assert!(run.failed);
    assert!(run.summary.contains("rejected 2 of"), "{}", run.summary);
}

#[tokio::test]
async fn a_lambda_deadline_mid_retry_ends_cleanly_with_an_error() {
    let server = FaultServer::start(vec![], Act::Status(503, None));
    let (pipeline, sinks) = delivery_support::build(&flags(
        &server.endpoint(),
        &["--retry-max-attempts", "1000"],
    ));
    let handler = Handler::new(pipeline, sinks);
    let (_, payload) = &delivery_support::maria_error_payloads()[0];
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // Lambda's deadline 2.5 s away; the handler keeps its safety margin.
    // The outer timeout only keeps a broken build from hanging the suite.
    let result = tokio::time::timeout(
        Duration::from_secs(60),
        handler.handle(payload, now_ms + 2_500),
    )
    .await
    .expect("the handler returns before the deadline instead of hanging");
    let err = result.expect_err("a deadline with nothing delivered is an error");
    assert_eq!(err.kind, "retryable");
    assert!(err.summary.contains("sink_deadline"), "{}", err.summary);
    assert!(server.taken().len() > 1, "it retried before the deadline");
    assert!(server.accepted().is_empty());
}

/// Every scenario again through the Lambda handler: `Ok` only with every id
/// on the server, else an error (never `Ok` with a record missing).
#[tokio::test]
async fn the_handler_holds_the_invariant_in_every_scenario() {
    let scenarios: Vec<(&str, Vec<Act>)> = vec![
        ("reset", vec![Act::Reset]),
        ("500 then 200", vec![Act::Status(500, None)]),
        ("429 Retry-After: 1", vec![Act::Status(429, Some("1"))]),
        ("stall", vec![Act::Stall]),
        ("half-open", vec![Act::NeverRead]),
        (
            "400 for one batch",
            vec![Act::Accept, Act::Status(400, None)],
        ),
        ("partial success", vec![Act::Partial(1)]),
        ("503 always", vec![Act::Status(503, None); 100]),
        (
            "302 redirect (never followed)",
            vec![Act::Status(302, None)],
        ),
    ];
    let payloads = delivery_support::maria_error_payloads();
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    // One batch in flight, then four (faults then meet batches in any order).
    for (name, script, concurrency) in scenarios
        .iter()
        .flat_map(|(name, script)| [(*name, script.clone(), "1"), (*name, script.clone(), "4")])
    {
        let server = FaultServer::start(script, Act::Accept);
        let (pipeline, sinks) = delivery_support::build(&flags(
            &server.endpoint(),
            &[
                "--batch-max-records",
                "10",
                "--retry-max-attempts",
                "3",
                "--delivery-concurrency",
                concurrency,
            ],
        ));
        let handler = Handler::new(pipeline, sinks);
        for (_, payload) in &payloads {
            let expected = delivery_support::expected_ids(&handler.pipeline, payload);
            match handler.handle(payload, now_ms + 60_000).await {
                Ok(stats) => {
                    assert_eq!(stats.delivered, stats.records, "{name}");
                    let missing: Vec<_> =
                        expected.difference(&server.accepted()).cloned().collect();
                    assert!(
                        missing.is_empty(),
                        "{name}: Ok but {} record(s) missing",
                        missing.len()
                    );
                }
                Err(e) => eprintln!(
                    "{name} (concurrency {concurrency}): reported failure: {}",
                    e.summary
                ),
            }
        }
    }
}

#[test]
fn deadlines_that_are_no_epoch_time_fall_back_to_the_lambda_maximum() {
    use rds_forwarder::lambda::{instant_for, MAX_LAMBDA_TIMEOUT};
    // cargo-lambda's emulator sends a duration (600000), a missing header 0.
    for odd in [0, 600_000] {
        let left = instant_for(odd) - Instant::now();
        assert!(
            left > MAX_LAMBDA_TIMEOUT - Duration::from_secs(5),
            "{odd}: {left:?}"
        );
    }
    // A real deadline already past: now.
    let now_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    let past = now_ms - 120_000;
    assert!(instant_for(past) <= Instant::now());
    // A deadline past anything Lambda allows (u64::MAX overflowed `Instant`,
    // issue 13) is bounded by the Lambda maximum.
    for far in [u64::MAX, now_ms + 3_600_000] {
        let left = instant_for(far) - Instant::now();
        assert!(left <= MAX_LAMBDA_TIMEOUT, "{far}: {left:?}");
    }
}

/// The real binary: `rds-forwarder replay` configured by OTEL_* variables only.
fn replay_binary(endpoint: &str, extra_env: &[(&str, &str)]) -> (bool, String) {
    let payloads: Vec<String> = delivery_support::maria_error_payloads()
        .into_iter()
        .map(|(p, _)| p.display().to_string())
        .collect();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    cmd.arg("replay")
        .arg("--timeout-secs")
        .arg("30")
        .args(&payloads)
        .env_remove("RDSF_SINKS")
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint)
        .env("OTEL_EXPORTER_OTLP_TIMEOUT", "500")
        .env(
            "OTEL_EXPORTER_OTLP_HEADERS",
            "authorization=Bearer%20sup3r-s3cret",
        )
        .env("RDSF_RETRY_INITIAL_BACKOFF_MS", "20")
        .env("RDSF_DELIVERY_CONCURRENCY", "1");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("binary runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stderr.contains("sup3r-s3cret"),
        "a header value leaked: {stderr}"
    );
    assert!(
        out.stdout.is_empty(),
        "an OTLP endpoint alone selects the OTLP sink, not stdout"
    );
    (out.status.success(), stderr)
}

fn expected_all() -> BTreeSet<String> {
    let (pipeline, _) = delivery_support::build(&[]);
    delivery_support::maria_error_payloads()
        .iter()
        .flat_map(|(_, p)| delivery_support::expected_ids(&pipeline, p))
        .collect()
}

#[test]
fn binary_retries_429_and_exits_zero_with_everything_delivered() {
    let server = FaultServer::start(vec![Act::Status(429, Some("1"))], Act::Accept);
    let (ok, stderr) = replay_binary(&server.endpoint(), &[]);
    assert!(ok, "{stderr}");
    assert_eq!(server.accepted(), expected_all());
}

#[test]
fn binary_exits_non_zero_when_a_batch_is_rejected() {
    let server = FaultServer::start(vec![Act::Accept, Act::Status(400, None)], Act::Accept);
    let (ok, stderr) = replay_binary(&server.endpoint(), &[("RDSF_BATCH_MAX_RECORDS", "10")]);
    assert!(!ok, "exit status must be non-zero: {stderr}");
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(server.accepted().len() < expected_all().len());
}

#[test]
fn binary_exits_non_zero_when_the_endpoint_refuses() {
    let endpoint = format!("http://{}", FaultServer::refused_addr());
    let (ok, stderr) = replay_binary(&endpoint, &[("RDSF_RETRY_MAX_ATTEMPTS", "2")]);
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("sink_unavailable"), "{stderr}");
}

#[test]
fn binary_survives_a_reset_and_a_half_open_connection() {
    let server = FaultServer::start(vec![Act::Reset, Act::NeverRead], Act::Accept);
    let (ok, stderr) = replay_binary(&server.endpoint(), &[]);
    assert!(ok, "{stderr}");
    assert_eq!(server.accepted(), expected_all());
}

#[tokio::test]
async fn https_to_a_server_that_does_not_speak_tls_fails_cleanly() {
    // The TLS client (rustls, ring, webpki roots) starts a handshake the
    // server never answers: a retryable failure, reported, no panic.
    let server = FaultServer::start(vec![], Act::Accept);
    let endpoint = format!("https://{}", server.addr);
    let (pipeline, sinks) =
        delivery_support::build(&flags(&endpoint, &["--retry-max-attempts", "2"]));
    let (_, payload) = &delivery_support::maria_error_payloads()[0];
    let outcome = pipeline
        .run(payload, &sinks, Instant::now() + Duration::from_secs(30))
        .await;
    assert!(outcome.stats.failed());
    assert_eq!(outcome.stats.delivered, 0);
    assert!(server.accepted().is_empty());
}
