//! `rds-forwarder check`: what a user runs before deploying. The same
//! settings as `replay` (flags and environment), validated as start-up does
//! but with every problem reported at once; secret references resolved when
//! AWS credentials are at hand; each configured sink contacted; and, with
//! `--show-wire`, what would be sent for a sample event, without sending it.
//!
//! One line per check, `ok` or `FAIL` and the reason. No line ever holds a
//! secret value: settings errors never quote them (see `config`), URLs are
//! shown without `user:pass@` and query, and the WhaTap licence hash in the
//! frame headers is not decoded.

use std::fmt;
use std::time::{Duration, Instant};

use crate::aws::{secrets, SecretRef, SecretSource};
use crate::config::{Config, Settings, SinkKind};
use crate::secret::Secret;
use crate::sink::otlp::{encode, Compression, OtlpSink, Protocol};
use crate::sink::whatap::conn::Endpoints;
use crate::sink::whatap::{decode, WhatapConfig, WhatapSink};
use crate::sink::SinkError;

/// The sample event `--show-wire` encodes (a PostgreSQL log payload as a
/// CloudWatch Logs subscription delivers it).
const SAMPLE_EVENT: &str = include_str!("../../examples/cloudwatch-postgresql.json");

/// The result of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub ok: bool,
    /// What was checked, e.g. `settings`, `whatap 10.0.0.1:6600`.
    pub what: String,
    /// Why it is fine, or what is wrong.
    pub detail: String,
}

impl Line {
    pub fn ok(what: impl Into<String>, detail: impl Into<String>) -> Line {
        Line {
            ok: true,
            what: what.into(),
            detail: detail.into(),
        }
    }
    pub fn fail(what: impl Into<String>, detail: impl Into<String>) -> Line {
        Line {
            ok: false,
            what: what.into(),
            detail: detail.into(),
        }
    }
}

impl fmt::Display for Line {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let status = if self.ok { "ok" } else { "FAIL" };
        write!(f, "{status:<4} {}: {}", self.what, self.detail)
    }
}

/// The secrets `check` read, and the variables it could not fill.
#[derive(Debug, Default)]
pub struct SecretsOutcome {
    pub lines: Vec<Line>,
    pub resolved: Vec<(&'static str, Secret)>,
    /// Variables whose reference was not read (their settings then look unset).
    pub unresolved: Vec<&'static str>,
}

/// Resolves each secret reference in `env`, all of them (not stopping at the
/// first failure). `source` is `Err` when no AWS credentials are available:
/// then every reference is reported as not read, saying why.
pub async fn resolve_secrets(
    env: impl Fn(&str) -> Option<String>,
    source: Result<&dyn SecretSource, String>,
) -> SecretsOutcome {
    let mut out = SecretsOutcome::default();
    let refs = match secrets::references(env) {
        Ok(refs) => refs,
        Err(e) => {
            out.lines.push(Line::fail("secrets", e.to_string()));
            return out;
        }
    };
    for (var, reference) in refs {
        let what = format!("secret {var}{}", reference_suffix(&reference));
        match &source {
            Err(why) => {
                out.unresolved.push(var);
                out.lines.push(Line::fail(
                    what,
                    format!("not read: no AWS access from here ({why}); {var} is checked as unset. Run with the credentials of the function's role or a profile that may read {reference}"),
                ));
            }
            Ok(source) => match source.get(&reference).await {
                Ok(secret) if secret.is_empty() => {
                    out.unresolved.push(var);
                    out.lines
                        .push(Line::fail(what, format!("{reference} is empty")));
                }
                Ok(secret) => {
                    out.lines.push(Line::ok(what, format!("read {reference}")));
                    out.resolved.push((var, secret));
                }
                Err(e) => {
                    out.unresolved.push(var);
                    out.lines.push(Line::fail(what, e.to_string()));
                }
            },
        }
    }
    out
}

fn reference_suffix(r: &SecretRef) -> &'static str {
    match r {
        SecretRef::SecretsManager(_) => secrets::SECRET_ARN_SUFFIX,
        SecretRef::SsmParameter(_) => secrets::SSM_PARAMETER_SUFFIX,
    }
}

/// Every settings problem, one line each (or one `ok` line). `unresolved`
/// are variables whose secret could not be read: errors about them say so.
pub fn check_settings(s: &Settings, unresolved: &[&str]) -> (Vec<Line>, Option<Config>) {
    match Config::from_settings_all(s) {
        Ok(config) => {
            let sinks: Vec<&str> = config
                .sinks
                .iter()
                .map(|k| match k {
                    SinkKind::Stdout => "stdout",
                    SinkKind::Whatap => "whatap",
                    SinkKind::Otlp => "otlp",
                })
                .collect();
            let line = Line::ok("settings", format!("valid; sinks: {}", sinks.join(", ")));
            (vec![line], Some(config))
        }
        Err(errors) => {
            let lines = errors
                .into_iter()
                .map(|e| {
                    let crate::config::ConfigError::Invalid { setting, detail } = e;
                    let note = if unresolved.contains(&setting) {
                        " (its secret reference could not be read, see above)"
                    } else {
                        ""
                    };
                    Line::fail(format!("setting {setting}"), format!("{detail}{note}"))
                })
                .collect();
            (lines, None)
        }
    }
}

/// A TCP connect to each WhaTap host within the connect timeout (the
/// protocol has no handshake: a connection is all there is to check).
pub async fn check_whatap(endpoints: &Endpoints) -> Vec<Line> {
    let mut lines = Vec::new();
    for (host, port) in &endpoints.hosts {
        let what = format!("whatap {}", show_host_port(host, *port));
        let started = Instant::now();
        let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
        lines.push(
            match tokio::time::timeout(endpoints.connect_timeout, connect).await {
                Ok(Ok(_stream)) => Line::ok(
                    what,
                    format!("TCP connect in {} ms", started.elapsed().as_millis()),
                ),
                Ok(Err(e)) => Line::fail(what, format!("cannot connect: {e}")),
                Err(_) => Line::fail(
                    what,
                    format!(
                        "no connection within {} ms (WHATAP_CONNECT_TIMEOUT_MS)",
                        endpoints.connect_timeout.as_millis()
                    ),
                ),
            },
        );
    }
    lines
}

fn show_host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// An empty export request to the OTLP logs endpoint, as the sink sends
/// batches (same headers, protocol and compression).
pub async fn check_otlp(sink: &OtlpSink) -> Line {
    let what = format!("otlp {}", sink.shown_url());
    let deadline = Instant::now() + sink.config().timeout + Duration::from_millis(100);
    match sink.probe(deadline).await {
        Ok(status) => Line::ok(
            what,
            format!("HTTP {} to an empty export request", status.as_u16()),
        ),
        Err(e) => {
            // The line names the URL already: the reason alone, without the
            // sink's "delivery failed" / "records rejected" wording (the
            // request carried no records).
            let reason = match &e {
                SinkError::Unavailable { detail, .. }
                | SinkError::Rejected { detail, .. }
                | SinkError::Throttled { detail, .. } => detail
                    .strip_prefix(&format!("{}: ", sink.shown_url()))
                    .unwrap_or(detail)
                    .to_owned(),
                other => other.to_string(),
            };
            Line::fail(what, reason)
        }
    }
}

/// All checks after the secrets: settings, then each configured sink.
pub async fn check_all(s: &Settings, unresolved: &[&str]) -> (Vec<Line>, Option<Config>) {
    let (mut lines, config) = check_settings(s, unresolved);
    // The sinks whose own settings are valid are contacted even when some
    // other setting is not, so one run shows as much as it can.
    let whatap = match &config {
        Some(c) if c.sinks.contains(&SinkKind::Whatap) => {
            c.whatap.as_ref().map(|w| w.endpoints.clone())
        }
        Some(_) => None,
        None => WhatapConfig::endpoints_from_settings(s).ok().flatten(),
    };
    let otlp = match &config {
        Some(c) if c.sinks.contains(&SinkKind::Otlp) => c.otlp.clone(),
        Some(_) => None,
        None => s
            .otlp
            .endpoint_configured()
            .then(|| crate::sink::otlp::OtlpConfig::from_settings(&s.otlp).ok())
            .flatten(),
    };
    if let Some(endpoints) = whatap {
        lines.extend(check_whatap(&endpoints).await);
    }
    if let Some(o) = otlp {
        match OtlpSink::new(o) {
            Ok(sink) => lines.push(check_otlp(&sink).await),
            Err(e) => lines.push(Line::fail("otlp", e.to_string())),
        }
    }
    if config
        .as_ref()
        .is_some_and(|c| c.sinks.contains(&SinkKind::Stdout))
    {
        lines.push(Line::ok(
            "stdout",
            "records are written to stdout as NDJSON (in Lambda: the function's log group)",
        ));
    }
    (lines, config)
}

/// What each configured sink would send for the first record of the
/// sample event: WhaTap frames decoded into fields, OTLP as OTLP/JSON, the
/// stdout line. Nothing is sent.
pub fn show_wire(config: &Config) -> String {
    let pipeline = crate::pipeline::Pipeline::new(config.clone());
    let processed = pipeline.process(SAMPLE_EVENT.as_bytes(), crate::time::now_ns());
    let records = &processed.records[..processed.records.len().min(1)];
    let mut out = String::from(
        "\nWhat would be sent for the first record of examples/cloudwatch-postgresql.json (nothing is sent):\n",
    );
    for kind in &config.sinks {
        match kind {
            SinkKind::Stdout => {
                let mut buf = Vec::new();
                crate::sink::stdout::encode_ndjson_batch(records, &mut buf);
                out.push_str("\nstdout (one NDJSON line per record):\n");
                out.push_str(&String::from_utf8_lossy(&buf));
            }
            SinkKind::Whatap => {
                let Some(w) = &config.whatap else { continue };
                let bytes = WhatapSink::new(w).encode(records);
                out.push_str(&format!(
                    "\nwhatap ({} bytes; the licence hash in each frame header is not shown):\n",
                    bytes.len()
                ));
                match decode::decode_frames(&bytes) {
                    Ok(frames) => {
                        for (i, f) in frames.iter().enumerate() {
                            out.push_str(&format!(
                                "  frame {}: {} (header pcode {})\n",
                                i + 1,
                                f.pack,
                                f.pcode
                            ));
                            for (k, v) in &f.fields {
                                out.push_str(&format!("    {k}: {v}\n"));
                            }
                        }
                    }
                    Err(e) => out.push_str(&format!("  (cannot decode: {e})\n")),
                }
            }
            SinkKind::Otlp => {
                let Some(o) = &config.otlp else { continue };
                let json = encode::encode(
                    records,
                    &o.resource_attributes,
                    Protocol::Json,
                    Compression::None,
                );
                let pretty = serde_json::from_slice::<serde_json::Value>(&json)
                    .and_then(|v| serde_json::to_string_pretty(&v))
                    .unwrap_or_else(|_| String::from_utf8_lossy(&json).into_owned());
                let sent_as = match (o.protocol, o.compression) {
                    (Protocol::Protobuf, Compression::Gzip) => "http/protobuf, gzip",
                    (Protocol::Protobuf, Compression::None) => "http/protobuf",
                    (Protocol::Json, Compression::Gzip) => "http/json, gzip",
                    (Protocol::Json, Compression::None) => "http/json",
                };
                out.push_str(&format!(
                    "\notlp (POST {}, sent as {sent_as}; shown as OTLP/JSON):\n{pretty}\n",
                    o.url
                        .parse::<http::Uri>()
                        .map(|u| crate::sink::otlp::transport::redacted(&u))
                        .unwrap_or_else(|_| "the OTLP endpoint".to_owned())
                ));
            }
        }
    }
    out
}
