//! An OTLP/HTTP server on 127.0.0.1 that misbehaves on cue. Each request
//! takes the next act of its script (then `then` forever); the ids
//! (`log.record.uid`) of every request it *accepted* (answered 2xx without
//! rejecting) are kept, so a test can check that nothing went missing.
//!
//! HTTP/1.1 is hand-read here on purpose: the faults (reset mid-request,
//! never reading, stalling) live below what an HTTP server library exposes.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opentelemetry_proto::tonic::collector::logs::v1::{
    ExportLogsPartialSuccess, ExportLogsServiceRequest, ExportLogsServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Act {
    /// 200, ids kept.
    Accept,
    /// This status, with `Retry-After` when given; ids not kept.
    Status(u16, Option<&'static str>),
    /// 200 with `partial_success.rejected_log_records = n`; ids not kept.
    Partial(i64),
    /// Reads the request head and part of the body, then resets the connection (RST).
    Reset,
    /// Reads the whole request and never answers.
    Stall,
    /// Accepts the connection and never reads from it (half-open). Checked
    /// when a connection is accepted, so it applies to a fresh connection.
    NeverRead,
}

#[derive(Default)]
struct State {
    script: Vec<Act>,
    then: Option<Act>,
    next: usize,
    /// Acts taken, in order.
    taken: Vec<Act>,
    accepted: BTreeSet<String>,
    /// How many times each id was accepted (repeats are what exactly-once checks).
    accepted_times: BTreeMap<String, usize>,
    accepted_records: usize,
    /// Every request read whole: its path and body (gunzipped).
    requests: Vec<(String, Vec<u8>)>,
}

impl State {
    fn peek(&self) -> Act {
        self.script
            .get(self.next)
            .copied()
            .unwrap_or(self.then.unwrap_or(Act::Accept))
    }
    fn take(&mut self) -> Act {
        let act = self.peek();
        self.next += 1;
        self.taken.push(act);
        act
    }
}

pub struct FaultServer {
    pub addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FaultServer {
    /// Starts a server that plays `script`, then `then` for every later request.
    pub fn start(script: Vec<Act>, then: Act) -> FaultServer {
        let state = Arc::new(Mutex::new(State {
            script,
            then: Some(then),
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
                    _ = accept_loop(listener, st) => {}
                    _ = stopped => {}
                }
            });
        });
        FaultServer {
            addr,
            state,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    /// An address where nothing listens: connections are refused.
    pub fn refused_addr() -> SocketAddr {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
        // dropped here: the port is closed
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn accepted(&self) -> BTreeSet<String> {
        self.state.lock().unwrap().accepted.clone()
    }

    /// How many times each id was accepted.
    pub fn accepted_times(&self) -> BTreeMap<String, usize> {
        self.state.lock().unwrap().accepted_times.clone()
    }

    /// Every request read whole, in order: (path, body gunzipped).
    pub fn requests(&self) -> Vec<(String, Vec<u8>)> {
        self.state.lock().unwrap().requests.clone()
    }

    /// The acts played so far, one per request (or half-open connection).
    pub fn taken(&self) -> Vec<Act> {
        self.state.lock().unwrap().taken.clone()
    }
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn accept_loop(listener: TcpListener, state: Arc<Mutex<State>>) {
    // Half-open sockets are kept here so they stay open, unread.
    let mut held = Vec::new();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        {
            let mut st = state.lock().unwrap();
            if st.peek() == Act::NeverRead {
                st.take();
                held.push(stream);
                continue;
            }
        }
        tokio::spawn(serve(stream, state.clone()));
    }
}

async fn serve(mut stream: TcpStream, state: Arc<Mutex<State>>) {
    let mut buf = Vec::new();
    loop {
        // The request head.
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let gzip = head
            .lines()
            .any(|l| l.starts_with("content-encoding:") && l.contains("gzip"));
        let act = state.lock().unwrap().take();
        if act == Act::Reset {
            // SO_LINGER 0 is the point here (a reset, not a close); with a
            // zero linger the drop does not block, which the deprecation is about.
            #[allow(deprecated)]
            let _ = stream.set_linger(Some(Duration::ZERO));
            return; // dropped with SO_LINGER 0: RST, mid-request
        }
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf.drain(..head_end + length).skip(head_end).collect();
        let path = head
            .lines()
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or("")
            .to_owned();
        let plain = if gzip {
            let mut out = Vec::new();
            let _ = flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out);
            out
        } else {
            body.clone()
        };
        state.lock().unwrap().requests.push((path.clone(), plain));
        let response = match act {
            Act::Stall => {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                return;
            }
            Act::Accept => {
                let ids = if path.ends_with("/v1/logs") {
                    record_ids(&body, gzip)
                } else {
                    Vec::new()
                };
                let mut st = state.lock().unwrap();
                st.accepted_records += ids.len();
                for id in &ids {
                    *st.accepted_times.entry(id.clone()).or_default() += 1;
                }
                st.accepted.extend(ids);
                response(200, None, &[])
            }
            Act::Partial(n) => {
                let answer = ExportLogsServiceResponse {
                    partial_success: Some(ExportLogsPartialSuccess {
                        rejected_log_records: n,
                        error_message: "fault injected: records rejected".into(),
                    }),
                };
                response(200, None, &answer.encode_to_vec())
            }
            Act::Status(code, retry_after) => response(code, retry_after, b"fault injected"),
            Act::Reset | Act::NeverRead => unreachable!(),
        };
        if stream.write_all(&response).await.is_err() {
            return;
        }
    }
}

fn response(code: u16, retry_after: Option<&str>, body: &[u8]) -> Vec<u8> {
    let mut head = format!(
        "HTTP/1.1 {code} X\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\n",
        body.len()
    );
    if let Some(ra) = retry_after {
        head.push_str(&format!("retry-after: {ra}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `log.record.uid` of every record in an OTLP protobuf request.
pub fn record_ids(body: &[u8], gzip: bool) -> Vec<String> {
    let raw = if gzip {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .expect("gzip body");
        out
    } else {
        body.to_vec()
    };
    let req = ExportLogsServiceRequest::decode(&raw[..]).expect("protobuf body");
    let mut ids = Vec::new();
    for rl in &req.resource_logs {
        for sl in &rl.scope_logs {
            for r in &sl.log_records {
                let uid = r.attributes.iter().find(|kv| kv.key == "log.record.uid");
                match uid
                    .and_then(|kv| kv.value.as_ref())
                    .and_then(|v| v.value.as_ref())
                {
                    Some(any_value::Value::StringValue(s)) => ids.push(s.clone()),
                    other => panic!("record without a string log.record.uid: {other:?}"),
                }
            }
        }
    }
    ids
}
