//! The Loki sink against a real HTTP server on 127.0.0.1 that decodes what
//! it receives the way Loki does (snappy block + `logproto.PushRequest`, or
//! gzip JSON), answers on cue (204, 429 with `Retry-After`, 500, 400, 401)
//! and keeps every request's headers and entries. Driven through the
//! library (`Pipeline::run` with the delivery engine's retries) and the
//! `rds-forwarder replay` binary.

use crate::delivery_support;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::SocketAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use prost::Message;
use rdsf_core::record::{Record, RecordRef, RecordSet};
use rdsf_sinks::loki::encode::proto;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// One decoded entry: timestamp (ns), line, structured metadata.
#[derive(Debug, Clone, PartialEq)]
struct Entry {
    ts: i64,
    line: String,
    meta: BTreeMap<String, String>,
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Request {
    path: String,
    /// Lower-cased names.
    headers: BTreeMap<String, String>,
    streams: Vec<(BTreeMap<String, String>, Vec<Entry>)>,
}

impl Request {
    fn entries(&self) -> impl Iterator<Item = (&BTreeMap<String, String>, &Entry)> {
        self.streams
            .iter()
            .flat_map(|(labels, entries)| entries.iter().map(move |e| (labels, e)))
    }
}

/// What the server answers to one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Act {
    /// 204, entries kept as accepted.
    Accept,
    /// This status with `Retry-After` when given and a text body.
    Status(u16, Option<&'static str>, &'static str),
}

#[derive(Default)]
struct State {
    script: Vec<Act>,
    next: usize,
    taken: Vec<Act>,
    requests: Vec<Request>,
    /// `log_record_uid` of every accepted entry, with how often it came.
    accepted: BTreeMap<String, usize>,
}

struct LokiServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl LokiServer {
    /// Plays `script`, then accepts every later request.
    fn start(script: Vec<Act>) -> LokiServer {
        let state = Arc::new(Mutex::new(State {
            script,
            ..State::default()
        }));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let st = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = TcpListener::from_std(listener).unwrap();
                tokio::select! {
                    _ = async {
                        loop {
                            if let Ok((stream, _)) = listener.accept().await {
                                tokio::spawn(serve(stream, st.clone()));
                            }
                        }
                    } => {}
                    _ = stopped => {}
                }
            });
        });
        LokiServer {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
    fn requests(&self) -> Vec<Request> {
        self.state.lock().unwrap().requests.clone()
    }
    fn taken(&self) -> Vec<Act> {
        self.state.lock().unwrap().taken.clone()
    }
    fn accepted(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().accepted.clone()
    }
}

impl Drop for LokiServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let path = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .unwrap_or("")
            .to_owned();
        let headers: BTreeMap<String, String> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        let streams = decode(&headers, &body);
        let response = {
            let mut st = state.lock().unwrap();
            let act = st.script.get(st.next).copied().unwrap_or(Act::Accept);
            st.next += 1;
            st.taken.push(act);
            let request = Request {
                path,
                headers,
                streams,
            };
            if act == Act::Accept {
                for (_, e) in request.entries() {
                    let uid = e.meta.get("log_record_uid").expect("entry has an id");
                    *st.accepted.entry(uid.clone()).or_default() += 1;
                }
            }
            st.requests.push(request);
            match act {
                Act::Accept => "HTTP/1.1 204 No Content\r\n\r\n".to_owned(),
                Act::Status(code, retry_after, text) => format!(
                    "HTTP/1.1 {code} X\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{}\r\n{text}",
                    text.len(),
                    retry_after
                        .map(|r| format!("retry-after: {r}\r\n"))
                        .unwrap_or_default()
                ),
            }
        };
        if stream.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Decodes a push body as Loki does: by `Content-Type`; protobuf is raw
/// snappy (block format), JSON may be gzip (`Content-Encoding`).
fn decode(
    headers: &BTreeMap<String, String>,
    body: &[u8],
) -> Vec<(BTreeMap<String, String>, Vec<Entry>)> {
    let content_type = headers.get("content-type").map(String::as_str);
    if content_type == Some("application/x-protobuf") {
        assert!(
            !headers.contains_key("content-encoding"),
            "Loki reads protobuf as raw snappy: no Content-Encoding"
        );
        let raw = snap::raw::Decoder::new()
            .decompress_vec(body)
            .expect("snappy block body");
        let req = proto::PushRequest::decode(&raw[..]).expect("logproto.PushRequest");
        return req
            .streams
            .into_iter()
            .map(|s| {
                let entries = s
                    .entries
                    .into_iter()
                    .map(|e| {
                        let t = e.timestamp.expect("entry timestamp");
                        Entry {
                            ts: t.seconds * 1_000_000_000 + i64::from(t.nanos),
                            line: e.line,
                            meta: e
                                .structured_metadata
                                .into_iter()
                                .map(|p| (p.name, p.value))
                                .collect(),
                        }
                    })
                    .collect();
                (parse_labels(&s.labels), entries)
            })
            .collect();
    }
    assert_eq!(content_type, Some("application/json"), "{headers:?}");
    let raw = if headers.get("content-encoding").map(String::as_str) == Some("gzip") {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip body");
        out
    } else {
        body.to_vec()
    };
    let v: serde_json::Value = serde_json::from_slice(&raw).expect("JSON body");
    let strings = |o: &serde_json::Value| -> BTreeMap<String, String> {
        o.as_object()
            .map(|m| {
                m.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().expect("string value").to_owned()))
                    .collect()
            })
            .unwrap_or_default()
    };
    v["streams"]
        .as_array()
        .expect("streams")
        .iter()
        .map(|s| {
            let entries = s["values"]
                .as_array()
                .expect("values")
                .iter()
                .map(|e| Entry {
                    ts: e[0].as_str().expect("ns as a string").parse().unwrap(),
                    line: e[1].as_str().expect("line").to_owned(),
                    meta: strings(&e[2]),
                })
                .collect();
            (strings(&s["stream"]), entries)
        })
        .collect()
}

/// Parses Prometheus label text (`{a="b", c="d\"e"}`) as Loki's parser
/// does, checking names are valid Loki label names.
fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or_else(|| panic!("labels not in braces: {text}"));
    let mut out = BTreeMap::new();
    let mut chars = inner.chars().peekable();
    loop {
        while chars.peek() == Some(&' ') || chars.peek() == Some(&',') {
            chars.next();
        }
        if chars.peek().is_none() {
            break;
        }
        let name: String = chars.by_ref().take_while(|c| *c != '=').collect();
        assert!(
            name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "invalid label name {name:?} in {text}"
        );
        assert_eq!(chars.next(), Some('"'), "{text}");
        let mut value = String::new();
        loop {
            match chars.next().expect("closing quote") {
                '"' => break,
                '\\' => match chars.next().expect("escape") {
                    'n' => value.push('\n'),
                    't' => value.push('\t'),
                    'r' => value.push('\r'),
                    c => value.push(c),
                },
                c => value.push(c),
            }
        }
        out.insert(name, value);
    }
    out
}

/// Small backoffs, one batch in flight so the script meets batches in order.
fn flags<'a>(url: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut f = vec![
        "--loki-url",
        url,
        "--loki-timeout",
        "2000",
        "--retry-initial-backoff-ms",
        "20",
        "--retry-max-backoff-ms",
        "100",
        "--delivery-concurrency",
        "1",
    ];
    f.extend_from_slice(extra);
    f
}

struct Run {
    failed: bool,
    summary: String,
    records: RecordSet,
}

/// The first corpus payload through the library, as Lambda would run it.
async fn run(url: &str, extra: &[&str]) -> Run {
    let (pipeline, sinks) = delivery_support::build(&flags(url, extra));
    assert_eq!(sinks[0].name(), "loki");
    let (_, payload) = &delivery_support::maria_error_payloads()[0];
    let records = pipeline.process(payload, 0).records;
    let outcome = pipeline
        .run(payload, &sinks, Instant::now() + Duration::from_secs(30))
        .await;
    Run {
        failed: outcome.stats.failed(),
        summary: outcome
            .failures
            .iter()
            .map(|f| f.message.clone())
            .collect::<Vec<_>>()
            .join("\n"),
        records,
    }
}

fn ids(records: &[Record]) -> BTreeSet<String> {
    records.iter().map(|r| r.id.clone()).collect()
}

/// Every record arrived exactly as it left: its id, its own timestamp in
/// ns, its body as the line, labels from the resource, metadata from the rest.
fn assert_entries_match(requests: &[Request], records: &RecordSet) {
    let by_id: BTreeMap<&str, RecordRef<'_>> = records
        .with_resources()
        .map(|r| (r.record.id.as_str(), r))
        .collect();
    let mut seen = 0;
    for req in requests {
        assert_eq!(req.path, "/loki/api/v1/push");
        for (labels, e) in req.entries() {
            let r = by_id[e.meta["log_record_uid"].as_str()];
            seen += 1;
            assert_eq!(e.ts, r.timestamp_ns, "the database's own time, in ns");
            assert_eq!(e.line, r.body);
            for key in [
                "aws.rds.source_identifier",
                "aws.rds.log_type",
                "db.system.name",
            ] {
                let label = key.replace('.', "_");
                assert_eq!(
                    labels.get(&label).map(String::as_str),
                    r.resource.get_str(key),
                    "{label}"
                );
                assert!(
                    !e.meta.contains_key(&label),
                    "{label} is a label, not metadata"
                );
            }
            assert_eq!(labels["service_name"], "rds-forwarder");
            let level = e.meta["level"].as_str();
            assert!(
                ["trace", "debug", "info", "warn", "error", "fatal"].contains(&level),
                "{level}"
            );
            assert_eq!(e.meta["severity_text"], r.severity.text);
            for (k, v) in r.attributes.iter() {
                if let Some(s) = v.as_str() {
                    assert_eq!(e.meta[&k.replace('.', "_")], s, "{k}");
                }
            }
            assert!(e.meta.contains_key("cloud_account_id"), "{:?}", e.meta);
        }
    }
    assert_eq!(seen, records.len());
}

#[tokio::test]
async fn protobuf_pushes_carry_streams_entries_and_the_tenants_credentials() {
    let server = LokiServer::start(vec![]);
    let r = run(
        &server.url(),
        &[
            "--loki-tenant-id",
            "team-db",
            "--loki-basic-auth",
            "ops:S3cretPw0rd",
            "--batch-max-records",
            "25",
        ],
    )
    .await;
    assert!(!r.failed, "{}", r.summary);
    let requests = server.requests();
    assert!(requests.len() > 1, "several batches: {}", requests.len());
    for req in &requests {
        assert_eq!(req.headers["content-type"], "application/x-protobuf");
        assert_eq!(req.headers["x-scope-orgid"], "team-db");
        let basic = base64::engine::general_purpose::STANDARD.encode("ops:S3cretPw0rd");
        assert_eq!(req.headers["authorization"], format!("Basic {basic}"));
        assert!(req.headers["user-agent"].starts_with("rds-forwarder/"));
    }
    assert_entries_match(&requests, &r.records);
    let accepted = server.accepted();
    assert_eq!(
        accepted.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&r.records)
    );
    assert!(accepted.values().all(|n| *n == 1), "each record once");
}

#[tokio::test]
async fn json_pushes_are_gzip_and_carry_a_bearer_token() {
    let server = LokiServer::start(vec![]);
    let r = run(
        &format!("{}/loki/api/v1/push", server.url()),
        &["--loki-encoding", "json", "--loki-bearer-token", "tok-Xy9"],
    )
    .await;
    assert!(!r.failed, "{}", r.summary);
    let requests = server.requests();
    for req in &requests {
        assert_eq!(req.headers["content-type"], "application/json");
        assert_eq!(req.headers["content-encoding"], "gzip");
        assert_eq!(req.headers["authorization"], "Bearer tok-Xy9");
        assert!(!req.headers.contains_key("x-scope-orgid"));
    }
    assert_entries_match(&requests, &r.records);
    assert_eq!(
        server.accepted().keys().cloned().collect::<BTreeSet<_>>(),
        ids(&r.records)
    );
}

#[tokio::test]
async fn http_429_with_retry_after_is_waited_out_and_delivered_once() {
    let server = LokiServer::start(vec![Act::Status(
        429,
        Some("1"),
        "Ingestion rate limit exceeded for user team-db",
    )]);
    let started = Instant::now();
    let r = run(&server.url(), &[]).await;
    assert!(!r.failed, "{}", r.summary);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After honoured"
    );
    assert_eq!(server.taken()[..2], [server.taken()[0], Act::Accept]);
    assert!(matches!(server.taken()[0], Act::Status(429, ..)));
    let accepted = server.accepted();
    assert_eq!(
        accepted.keys().cloned().collect::<BTreeSet<_>>(),
        ids(&r.records)
    );
    assert!(accepted.values().all(|n| *n == 1), "delivered once");
}

#[tokio::test]
async fn http_500_is_retried() {
    let server = LokiServer::start(vec![
        Act::Status(500, None, "rpc error: code = Unavailable"),
        Act::Status(503, None, ""),
    ]);
    let r = run(&server.url(), &[]).await;
    assert!(!r.failed, "{}", r.summary);
    assert_eq!(server.taken().len(), 3);
    assert_eq!(
        server.accepted().keys().cloned().collect::<BTreeSet<_>>(),
        ids(&r.records)
    );
}

#[tokio::test]
async fn http_400_is_permanent_and_fails_the_invocation() {
    let reply = "entry for stream '{service_name=\"rds-forwarder\"}' has timestamp too old";
    let server = LokiServer::start(vec![Act::Status(400, None, reply)]);
    let r = run(&server.url(), &[]).await;
    assert!(r.failed, "a refused batch fails the invocation");
    assert!(
        r.summary.contains("HTTP 400: entry for stream"),
        "{}",
        r.summary
    );
    assert!(r.summary.contains("not retryable"), "{}", r.summary);
    assert_eq!(server.taken().len(), 1, "tried once");
    assert!(server.accepted().is_empty());
}

#[tokio::test]
async fn an_unreachable_loki_is_a_retryable_failure() {
    let addr = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let r = run(
        &format!("http://{addr}"),
        &[
            "--retry-max-attempts",
            "3",
            "--loki-basic-auth",
            "ops:S3cretPw0rd",
        ],
    )
    .await;
    assert!(r.failed);
    assert!(r.summary.contains("after 3 attempt(s)"), "{}", r.summary);
    assert!(
        r.summary.to_lowercase().contains("connect"),
        "{}",
        r.summary
    );
    assert!(!r.summary.contains("S3cretPw0rd"), "{}", r.summary);
}

fn replay(env: &[(&str, &str)]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"));
    cmd.arg("replay")
        .arg(delivery_support::manifest_dir().join("examples/cloudwatch-postgresql.json"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RDSF_RETRY_MAX_ATTEMPTS", "2")
        .env("RDSF_RETRY_INITIAL_BACKOFF_MS", "10");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("rds-forwarder runs")
}

#[test]
fn replay_delivers_to_loki_end_to_end() {
    let server = LokiServer::start(vec![]);
    let url = server.url();
    let out = replay(&[("RDSF_SINKS", "loki"), ("LOKI_URL", &url)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let entries: Vec<Entry> = server
        .requests()
        .iter()
        .flat_map(|r| r.entries().map(|(_, e)| e.clone()).collect::<Vec<_>>())
        .collect();
    assert!(!entries.is_empty());
    assert!(
        entries[0].line.contains("starting PostgreSQL"),
        "{entries:?}"
    );
    let labels = &server.requests()[0].streams[0].0;
    assert_eq!(labels["aws_rds_source_identifier"], "shopdb-prod");
    assert_eq!(labels["aws_rds_log_type"], "postgresql");
}

#[test]
fn secrets_never_reach_errors_or_logs() {
    let server = LokiServer::start(vec![Act::Status(401, None, "no org id"); 4]);
    let url = server.url();
    let with_creds = url.replace("http://", "http://ops:UrlPassw0rd@");
    let refused = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}", l.local_addr().unwrap())
    };
    for env in [
        vec![
            ("LOKI_URL", url.as_str()),
            ("LOKI_BASIC_AUTH", "ops:BasicPassw0rd"),
        ],
        vec![
            ("LOKI_URL", url.as_str()),
            ("LOKI_BEARER_TOKEN", "BearerT0ken"),
        ],
        vec![("LOKI_URL", with_creds.as_str())],
        vec![
            ("LOKI_URL", refused.as_str()),
            ("LOKI_BEARER_TOKEN", "BearerT0ken"),
        ],
        // A bad setting next to a secret: the error names the setting only.
        vec![
            ("LOKI_URL", with_creds.as_str()),
            ("LOKI_BASIC_AUTH", "ops:BasicPassw0rd"),
        ],
    ] {
        let out = replay(&[&env[..], &[("RDSF_LOG_LEVEL", "debug")]].concat());
        let all = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.status.success(), "{env:?}: {all}");
        for secret in ["BasicPassw0rd", "BearerT0ken", "UrlPassw0rd"] {
            assert!(!all.contains(secret), "{secret} leaked ({env:?}):\n{all}");
        }
        assert!(
            all.contains("HTTP 401") || all.contains("onnect") || all.contains("LOKI_URL"),
            "{env:?}: {all}"
        );
    }
    // The URL's credentials went as basic auth, not in the request line.
    let basic = base64::engine::general_purpose::STANDARD.encode("ops:UrlPassw0rd");
    assert!(server
        .requests()
        .iter()
        .any(|r| r.headers["authorization"] == format!("Basic {basic}")));
}

#[test]
fn check_pushes_an_empty_request_with_the_same_credentials() {
    let server = LokiServer::start(vec![Act::Status(401, None, "invalid token")]);
    let check = |env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_rds-forwarder"))
            .arg("check")
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().copied())
            .output()
            .expect("rds-forwarder runs");
        (
            out.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        )
    };
    let url = server.url();
    let env = [
        ("LOKI_URL", url.as_str()),
        ("LOKI_TENANT_ID", "team-db"),
        ("LOKI_BEARER_TOKEN", "BearerT0ken"),
    ];
    let (code, text) = check(&env);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("FAIL loki http://127.0.0.1:") && text.contains("HTTP 401: invalid token"),
        "{text}"
    );
    assert!(!text.contains("BearerT0ken"), "{text}");
    let (code, text) = check(&env);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("HTTP 204 to an empty push"), "{text}");
    let requests = server.requests();
    assert_eq!(requests.len(), 2);
    for r in &requests {
        assert!(r.streams.is_empty(), "nothing stored: {r:?}");
        assert_eq!(r.headers["x-scope-orgid"], "team-db");
        assert_eq!(r.headers["authorization"], "Bearer BearerT0ken");
    }
}
