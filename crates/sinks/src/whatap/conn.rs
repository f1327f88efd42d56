//! The transport: one TCP connection to the first WhaTap host that accepts,
//! kept across packs and invocations, with failover along the host list.
//!
//! The protocol has no acknowledgement, so on Linux a batch counts as sent
//! only once the collector's kernel has acknowledged every byte of it
//! (`SIOCOUTQ` reaches zero), within the write timeout. Within one `send`
//! any error (write failure, stall, peer closed or reset) drops the
//! connection and resends the WHOLE batch on the next host: duplicates are
//! accepted to avoid loss. What remains is bytes the collector's kernel
//! acknowledged that its application never read. Elsewhere (no `SIOCOUTQ`)
//! "sent" only means "handed to our kernel on a connection that still
//! looked alive".

use std::io;
use std::mem::MaybeUninit;
use std::time::{Duration, Instant, SystemTime};

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::sync::Mutex;

use crate::SinkError;

const SINK: &str = "whatap";
/// Bytes written per write-timeout window: progress within each chunk
/// resets the timeout, a stalled peer trips it.
const CHUNK: usize = 64 * 1024;
/// A kept connection idle longer than this is replaced before use: NATs and
/// load balancers drop idle flows without a FIN, and a write into such a
/// flow "succeeds" and is lost. Measured on the wall clock, because the
/// monotonic clock may stand still while Lambda freezes the environment.
pub const MAX_IDLE: Duration = Duration::from_secs(60);

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// (host, port), tried in order; the first that connects is kept.
    pub hosts: Vec<(String, u16)>,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
}

pub struct Transport {
    endpoints: Endpoints,
    /// A tokio Mutex: held across the awaits of one send, so concurrent
    /// sends never interleave frames on the stream.
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    stream: Option<TcpStream>,
    /// When the stream last finished a batch.
    last_used: Option<SystemTime>,
    /// Index of the host the stream is (or was last) connected to.
    current: usize,
}

/// Why one write pass failed.
enum WriteFail {
    Deadline,
    Io(String),
}

impl Transport {
    pub fn new(endpoints: Endpoints) -> Self {
        Transport {
            endpoints,
            state: Mutex::new(State::default()),
        }
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// Writes `bytes` (whole frames) on the kept connection, reconnecting
    /// and resending all of them after a failure: at most one pass over the
    /// host list plus the current host, never past `deadline`. After a
    /// failure the next host in the list is tried first.
    pub async fn send(&self, bytes: &[u8], deadline: Instant) -> Result<(), SinkError> {
        let mut st = tokio::time::timeout_at(deadline.into(), self.state.lock())
            .await
            .map_err(|_| deadline_error())?;
        let mut failures: Vec<String> = Vec::new();
        for _attempt in 0..=self.endpoints.hosts.len() {
            if Instant::now() >= deadline {
                return Err(deadline_error());
            }
            // Taken out while writing: if this future is dropped mid-write
            // (a caller's timeout), the half-written stream is dropped with
            // it instead of being reused with half a frame on it.
            let idle_too_long = st
                .last_used
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|idle| idle > MAX_IDLE);
            let mut stream = match st.stream.take() {
                Some(s) if !idle_too_long => s,
                _ => self.connect(&mut st, deadline, &mut failures).await?,
            };
            let host = self.describe(st.current);
            match self.write_batch(&mut stream, bytes, deadline).await {
                Ok(()) => {
                    st.stream = Some(stream);
                    st.last_used = Some(SystemTime::now());
                    return Ok(());
                }
                Err(WriteFail::Deadline) => return Err(deadline_error()),
                Err(WriteFail::Io(e)) => {
                    tracing::warn!(host = %host, error = %e, "whatap: connection lost; reconnecting and resending the batch");
                    failures.push(format!("{host}: {e}"));
                    // The host that failed goes last: a collector that
                    // accepts but stalls must not be picked again at once.
                    // With one host this is the same host again.
                    st.current = (st.current + 1) % self.endpoints.hosts.len();
                }
            }
        }
        Err(unavailable(&failures))
    }

    /// Connects to the first host that accepts, starting at the current one
    /// (the last that worked, or the one after the last that failed) and
    /// moving on along the list, wrapping around once.
    async fn connect(
        &self,
        st: &mut State,
        deadline: Instant,
        failures: &mut Vec<String>,
    ) -> Result<TcpStream, SinkError> {
        let n = self.endpoints.hosts.len();
        for i in 0..n {
            let idx = (st.current + i) % n;
            let now = Instant::now();
            if now >= deadline {
                return Err(deadline_error());
            }
            let limit = deadline.min(rdsf_core::time::instant_after(self.endpoints.connect_timeout));
            let (host, port) = &self.endpoints.hosts[idx];
            match tokio::time::timeout_at(limit.into(), TcpStream::connect((host.as_str(), *port)))
                .await
            {
                Ok(Ok(stream)) => {
                    // Small batches must leave now, not wait for Nagle: a
                    // Lambda environment freezes as soon as we return.
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!(error = %e, "whatap: cannot set TCP_NODELAY");
                    }
                    if i > 0 {
                        tracing::info!(host = %self.describe(idx), "whatap: failed over");
                    }
                    tracing::debug!(host = %self.describe(idx), "whatap: connected");
                    st.current = idx;
                    return Ok(stream);
                }
                Ok(Err(e)) => failures.push(format!("{}: connect: {e}", self.describe(idx))),
                Err(_) if limit >= deadline => return Err(deadline_error()),
                Err(_) => failures.push(format!(
                    "{}: connect: timed out after {:?}",
                    self.describe(idx),
                    self.endpoints.connect_timeout
                )),
            }
        }
        Err(unavailable(failures))
    }

    async fn write_batch(
        &self,
        stream: &mut TcpStream,
        bytes: &[u8],
        deadline: Instant,
    ) -> Result<(), WriteFail> {
        // A peer that closed since the last batch: writing would "succeed"
        // into the kernel buffer and be lost.
        check_alive(stream).map_err(WriteFail::Io)?;
        for chunk in bytes.chunks(CHUNK) {
            let limit = deadline.min(rdsf_core::time::instant_after(self.endpoints.write_timeout));
            match tokio::time::timeout_at(limit.into(), stream.write_all(chunk)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => return Err(WriteFail::Io(format!("write: {e}"))),
                Err(_) if limit >= deadline => return Err(WriteFail::Deadline),
                Err(_) => {
                    return Err(WriteFail::Io(format!(
                        "write: timed out after {:?}",
                        self.endpoints.write_timeout
                    )))
                }
            }
        }
        let limit = deadline.min(rdsf_core::time::instant_after(self.endpoints.write_timeout));
        match tokio::time::timeout_at(limit.into(), stream.flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(WriteFail::Io(format!("flush: {e}"))),
            Err(_) if limit >= deadline => return Err(WriteFail::Deadline),
            Err(_) => return Err(WriteFail::Io("flush: timed out".to_owned())),
        }
        // A close or reset that raced the batch shows up here.
        check_alive(stream).map_err(WriteFail::Io)?;
        self.await_acknowledged(stream, deadline).await
    }

    /// Waits until the collector's kernel has acknowledged every byte
    /// written (unacknowledged + unsent bytes in our socket reach zero):
    /// the strongest confirmation a protocol without replies allows. A
    /// connection that makes no progress for the write timeout, or that
    /// closes or resets first, fails, so the caller resends elsewhere.
    async fn await_acknowledged(
        &self,
        stream: &TcpStream,
        deadline: Instant,
    ) -> Result<(), WriteFail> {
        let mut last = match outq(stream) {
            None => return Ok(()), // platform without the count: weaker, see outq
            Some(n) => n,
        };
        let mut stall_limit = rdsf_core::time::instant_after(self.endpoints.write_timeout);
        let mut pause = Duration::from_millis(1);
        loop {
            if last == 0 {
                return Ok(());
            }
            check_alive(stream).map_err(WriteFail::Io)?;
            let now = Instant::now();
            if now >= deadline {
                return Err(WriteFail::Deadline);
            }
            if now >= stall_limit {
                return Err(WriteFail::Io(format!(
                    "{last} bytes not acknowledged by the collector after {:?}",
                    self.endpoints.write_timeout
                )));
            }
            tokio::time::sleep_until(deadline.min(stall_limit).min(now + pause).into()).await;
            pause = (pause * 2).min(Duration::from_millis(50));
            // A count that cannot be read is no confirmation: the connection
            // is treated as dead and the batch resent.
            let Some(n) = outq(stream) else {
                return Err(WriteFail::Io(
                    "the socket's unacknowledged byte count could not be read".to_owned(),
                ));
            };
            if n < last {
                // Progress: the stall timer starts over.
                stall_limit = rdsf_core::time::instant_after(self.endpoints.write_timeout);
            }
            last = n;
        }
    }

    fn describe(&self, idx: usize) -> String {
        match self.endpoints.hosts.get(idx) {
            Some((host, port)) => format!("{host}:{port}"),
            None => "?".to_owned(),
        }
    }
}

/// Whether the connection is still open, by a non-blocking read: the
/// collector never talks back, so "nothing to read" means alive,
/// end-of-stream means it closed, an error (e.g. reset) means it is gone.
/// Stray bytes are read and discarded so they cannot hide a later FIN. A
/// direct syscall rather than tokio's cached readiness, so a FIN that
/// arrived while the runtime was idle (or frozen) is seen.
fn check_alive(stream: &TcpStream) -> Result<(), String> {
    let sock = socket2::SockRef::from(stream);
    let mut buf = [MaybeUninit::<u8>::uninit(); 512];
    // Bounded: a peer streaming bytes at us cannot keep us here.
    for _ in 0..64 {
        match sock.recv(&mut buf) {
            Ok(0) => return Err("peer closed the connection".to_owned()),
            Ok(_) => continue,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(()),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(format!("connection check: {e}")),
        }
    }
    Ok(())
}

/// Bytes the collector's kernel has not acknowledged (Linux `SIOCOUTQ`).
/// `None` where the count is not available: there a batch counts as
/// delivered once the kernel took it and the connection still looked alive
/// (weaker: a collector that stops reading can lose up to our send buffer).
fn outq(stream: &TcpStream) -> Option<usize> {
    rdsf_outq::unacknowledged_bytes(stream)
}

fn deadline_error() -> SinkError {
    SinkError::Deadline { sink: SINK }
}

fn unavailable(failures: &[String]) -> SinkError {
    SinkError::Unavailable {
        sink: SINK,
        detail: if failures.is_empty() {
            "no host configured".to_owned()
        } else {
            failures.join("; ")
        },
    }
}
