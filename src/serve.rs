//! `rds-forwarder serve`: the Firehose HTTP endpoint as a long-running
//! server, for a container fleet behind a load balancer that terminates
//! TLS, or over HTTPS itself with a given certificate and key (`tls`). The
//! same contract as the function URL (`crate::firehose`), plus `/healthz`,
//! `/readyz`, `/metrics` (Prometheus text), a bound on request bodies and on
//! requests in flight, and a graceful stop on SIGTERM: no new connections,
//! requests in flight finish (up to the request timeout).

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Args;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::{GracefulShutdown, Watcher};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_rustls::TlsAcceptor;

use rdsf_core::input::firehose::HttpRequest;
use rdsf_sinks::Sink;

use crate::firehose::{self, Recent};
use crate::pipeline::Pipeline;

pub mod tls;

/// How long a client may take over its TLS handshake before the connection is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the server listens.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Address to listen on (plain HTTP unless --tls-cert and --tls-key are given).
    #[arg(
        long,
        env = "RDSF_SERVE_LISTEN",
        default_value = "0.0.0.0:8080",
        help_heading = "Serve"
    )]
    pub listen: SocketAddr,
    /// Requests processed at once; more wait for a turn (bounds memory at about this many
    /// bodies of RDSF_MAX_DECOMPRESSED_BYTES).
    #[arg(long, env = "RDSF_SERVE_MAX_IN_FLIGHT", default_value_t = 4, value_parser = clap::value_parser!(u16).range(1..), help_heading = "Serve")]
    pub max_in_flight: u16,
    /// Seconds one request may take (Firehose gives up after 180).
    #[arg(long, env = "RDSF_SERVE_REQUEST_TIMEOUT_SECS", default_value_t = 170, value_parser = clap::value_parser!(u64).range(1..=3600), help_heading = "Serve")]
    pub request_timeout_secs: u64,
    /// PEM certificate chain (server certificate first) to serve HTTPS with; needs
    /// RDSF_SERVE_TLS_KEY. Neither: plain HTTP, for behind a TLS-terminating load balancer.
    #[arg(long, env = "RDSF_SERVE_TLS_CERT", help_heading = "Serve")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) of the RDSF_SERVE_TLS_CERT certificate.
    #[arg(long, env = "RDSF_SERVE_TLS_KEY", help_heading = "Serve")]
    pub tls_key: Option<PathBuf>,
}

impl ServeArgs {
    /// The TLS acceptor the settings ask for, `None` for plain HTTP.
    pub fn tls(&self) -> Result<Option<TlsAcceptor>, tls::TlsError> {
        tls::acceptor(self.tls_cert.as_deref(), self.tls_key.as_deref())
    }
}

/// What every connection shares.
pub struct Server {
    pipeline: Pipeline,
    sinks: Vec<Box<dyn Sink>>,
    delivered: Mutex<Recent>,
    turns: Semaphore,
    request_timeout: Duration,
    stopping: AtomicBool,
    in_flight: AtomicUsize,
    /// Answers given, by status.
    answers: Mutex<BTreeMap<u16, u64>>,
}

impl Server {
    pub fn new(pipeline: Pipeline, sinks: Vec<Box<dyn Sink>>, args: &ServeArgs) -> Arc<Server> {
        Arc::new(Server {
            pipeline,
            sinks,
            delivered: Mutex::default(),
            turns: Semaphore::new(usize::from(args.max_in_flight)),
            request_timeout: Duration::from_secs(args.request_timeout_secs),
            stopping: AtomicBool::new(false),
            in_flight: AtomicUsize::new(0),
            answers: Mutex::default(),
        })
    }

    fn count(&self, status: u16) {
        *self
            .answers
            .lock()
            .expect("not poisoned")
            .entry(status)
            .or_default() += 1;
    }

    /// The counters in Prometheus text format.
    fn metrics(&self) -> String {
        let mut out = String::from(
            "# HELP rdsf_serve_requests_total Requests answered, by HTTP status.\n\
             # TYPE rdsf_serve_requests_total counter\n",
        );
        for (status, n) in self.answers.lock().expect("not poisoned").iter() {
            out.push_str(&format!(
                "rdsf_serve_requests_total{{status=\"{status}\"}} {n}\n"
            ));
        }
        out.push_str(&format!(
            "# HELP rdsf_serve_in_flight Firehose requests being processed.\n\
             # TYPE rdsf_serve_in_flight gauge\n\
             rdsf_serve_in_flight {}\n\
             # HELP rdsf_serve_delivered_request_ids Request ids remembered as delivered.\n\
             # TYPE rdsf_serve_delivered_request_ids gauge\n\
             rdsf_serve_delivered_request_ids {}\n",
            self.in_flight.load(Ordering::SeqCst),
            self.delivered.lock().expect("not poisoned").len()
        ));
        // The same counters self-monitoring shows as EMF and metric points.
        out.push_str(&self.pipeline.self_totals().prometheus());
        out
    }
}

fn text(status: StatusCode, content_type: &'static str, body: String) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from(body)));
    *r.status_mut() = status;
    r.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    r
}

/// One request: health, readiness, metrics, or a Firehose delivery.
async fn handle(
    server: Arc<Server>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let response = match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => text(StatusCode::OK, "text/plain", "ok\n".into()),
        (&Method::GET, "/readyz") if server.stopping.load(Ordering::SeqCst) => text(
            StatusCode::SERVICE_UNAVAILABLE,
            "text/plain",
            "stopping\n".into(),
        ),
        (&Method::GET, "/readyz") => text(StatusCode::OK, "text/plain", "ready\n".into()),
        (&Method::GET, "/metrics") => text(
            StatusCode::OK,
            "text/plain; version=0.0.4",
            server.metrics(),
        ),
        _ => delivery(&server, req, path).await,
    };
    server.count(response.status().as_u16());
    Ok(response)
}

/// A Firehose delivery: the body read within its bound, then the contract.
async fn delivery(server: &Server, req: Request<Incoming>, path: String) -> Response<Full<Bytes>> {
    let limit = server.pipeline.config().max_decompressed_bytes;
    // The turn is taken before the body is read: bodies in memory are
    // bounded by the turns, not by the connections.
    let _turn = server
        .turns
        .acquire()
        .await
        .expect("the semaphore is never closed");
    let method = req.method().to_string();
    let headers = req
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = match Limited::new(req.into_body(), limit).collect().await {
        Ok(b) => b.to_bytes().to_vec(),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            return text(
                StatusCode::PAYLOAD_TOO_LARGE,
                "application/json",
                serde_json::json!({"requestId": "", "timestamp": rdsf_core::time::now_ns() / 1_000_000,
                    "errorMessage": format!("the request body is over {limit} bytes (RDSF_MAX_DECOMPRESSED_BYTES)")})
                .to_string(),
            )
        }
        Err(e) => {
            tracing::warn!("request body not read: {e}");
            return text(StatusCode::BAD_REQUEST, "text/plain", "body not read\n".into());
        }
    };
    let request = HttpRequest {
        method,
        path,
        headers,
        body,
    };
    server.in_flight.fetch_add(1, Ordering::SeqCst);
    let deadline = Instant::now() + server.request_timeout;
    let answer = firehose::answer(
        &server.pipeline,
        &server.sinks,
        &server.delivered,
        request,
        deadline,
    )
    .await;
    server.in_flight.fetch_sub(1, Ordering::SeqCst);
    text(
        StatusCode::from_u16(answer.status_code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        "application/json",
        answer.body,
    )
}

/// Serves connections from `listener` (over TLS when `tls` is given) until
/// `stop` completes, then stops accepting, lets requests in flight finish
/// (within the request timeout) and returns.
pub async fn run(
    listener: TcpListener,
    server: Arc<Server>,
    tls: Option<TlsAcceptor>,
    stop: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let graceful = GracefulShutdown::new();
    tokio::pin!(stop);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (stream, _peer) = match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        tracing::warn!("accept failed: {e}");
                        continue;
                    }
                };
                let (server, watcher, tls) = (server.clone(), graceful.watcher(), tls.clone());
                tokio::spawn(async move {
                    let Some(tls) = tls else {
                        return connection(stream, server, watcher).await;
                    };
                    match tokio::time::timeout(HANDSHAKE_TIMEOUT, tls.accept(stream)).await {
                        Ok(Ok(stream)) => connection(stream, server, watcher).await,
                        Ok(Err(e)) => tracing::debug!("TLS handshake failed: {e}"),
                        Err(_) => tracing::debug!("TLS handshake timed out"),
                    }
                });
            }
            () = &mut stop => break,
        }
    }
    server.stopping.store(true, Ordering::SeqCst);
    drop(listener);
    tracing::info!(
        in_flight = server.in_flight.load(Ordering::SeqCst),
        "stopping: no new connections; finishing requests in flight"
    );
    if tokio::time::timeout(server.request_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("requests still in flight at the request timeout; stopping anyway");
    }
    Ok(())
}

/// One connection's HTTP/1 requests, watched for the graceful stop.
async fn connection<S>(stream: S, server: Arc<Server>, watcher: Watcher)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = hyper::service::service_fn(move |req| handle(server.clone(), req));
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    if let Err(e) = watcher.watch(conn).await {
        tracing::debug!("connection ended: {e}");
    }
}

/// Completes on SIGTERM (what ECS and Kubernetes send) or Ctrl-C.
pub async fn termination() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
