//! The WhaTap sink's settings (flags and environment variables) and its
//! place in the sink registry: what selects it, how `check` contacts the
//! collectors, what `check --show-wire` shows.

use std::any::Any;
use std::time::Instant;

use clap::Args;

use super::{decode, WhatapConfig, WhatapSink};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use rdsf_core::secret::Secret;
use crate::registry::{BuildSink, CheckLine, SinkComponent, SinkSpec};
use crate::{BoxFuture, Sink};

/// Its name in `RDSF_SINKS`.
pub const NAME: &str = "whatap";

/// WhaTap settings, as given.
#[derive(Debug, Clone, Args)]
pub struct WhatapSettings {
    /// WhaTap collector hosts (`host` or `host:port`), separated by `/` or `,`, tried in order; with
    /// WHATAP_LICENSE selects the WhaTap sink.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_HOST")]
    pub whatap_host: Option<String>,

    /// WhaTap collector port.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_PORT", default_value_t = super::DEFAULT_PORT)]
    pub whatap_port: u16,

    /// WhaTap licence (project access key); only its hash is sent, it is never printed.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_LICENSE",
        hide_env_values = true
    )]
    pub whatap_license: Option<Secret>,

    /// WhaTap project code; by default the one the licence carries.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_PCODE")]
    pub whatap_pcode: Option<String>,

    /// Also send RDS events as WhaTap EventPacks (alerts): true/false.
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_EVENT_PACK", action = clap::ArgAction::Set, num_args = 0..=1,
          default_value = "false", default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub whatap_event_pack: bool,

    /// WhaTap category for log records (default `rds-<log type>`).
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_CATEGORY")]
    pub whatap_category: Option<String>,

    /// WhaTap category for RDS event records (default `rds-event`).
    #[arg(help_heading = "WhaTap", long, env = "WHATAP_EVENT_CATEGORY")]
    pub whatap_event_category: Option<String>,

    /// WhaTap connect timeout per host, in milliseconds.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_CONNECT_TIMEOUT_MS",
        default_value_t = 3000
    )]
    pub whatap_connect_timeout_ms: u64,

    /// WhaTap write timeout (no progress for this long fails the connection), in milliseconds.
    #[arg(
        help_heading = "WhaTap",
        long,
        env = "WHATAP_WRITE_TIMEOUT_MS",
        default_value_t = 5000
    )]
    pub whatap_write_timeout_ms: u64,
}

impl Default for WhatapSettings {
    fn default() -> Self {
        WhatapSettings {
            whatap_host: None,
            whatap_port: super::DEFAULT_PORT,
            whatap_license: None,
            whatap_pcode: None,
            whatap_event_pack: false,
            whatap_category: None,
            whatap_event_category: None,
            whatap_connect_timeout_ms: 3000,
            whatap_write_timeout_ms: 5000,
        }
    }
}

impl SinkComponent for WhatapSettings {
    fn name(&self) -> &'static str {
        NAME
    }

    /// A host and a licence select it.
    fn configured(&self) -> bool {
        let set = |v: Option<&str>| v.is_some_and(|v| !v.trim().is_empty());
        set(self.whatap_host.as_deref()) && set(self.whatap_license.as_ref().map(Secret::expose))
    }

    /// Its settings are checked whenever any is set, selected or not.
    fn validate(&self, selected: bool) -> Result<Option<SinkSpec>, Vec<ConfigError>> {
        match WhatapConfig::from_settings_all(self)? {
            Some(config) => Ok(selected.then(|| SinkSpec::new(config))),
            None if selected => Err(vec![ConfigError::Invalid {
                setting: "RDSF_SINKS",
                detail: "whatap needs WHATAP_HOST and WHATAP_LICENSE".to_owned(),
            }]),
            None => Ok(None),
        }
    }

    /// A TCP connect to each collector (the protocol has no handshake: a
    /// connection is all there is to check), even when the licence is
    /// missing or unreadable.
    fn check(&self, _selected: bool) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async move {
            match WhatapConfig::endpoints_from_settings(self) {
                Ok(Some(endpoints)) => check_endpoints(&endpoints).await,
                _ => Vec::new(),
            }
        })
    }
}

async fn check_endpoints(endpoints: &super::conn::Endpoints) -> Vec<CheckLine> {
    let mut lines = Vec::new();
    for (host, port) in &endpoints.hosts {
        let what = format!("whatap {}", show_host_port(host, *port));
        let started = Instant::now();
        let connect = tokio::net::TcpStream::connect((host.as_str(), *port));
        lines.push(
            match tokio::time::timeout(endpoints.connect_timeout, connect).await {
                Ok(Ok(_stream)) => CheckLine::ok(
                    what,
                    format!("TCP connect in {} ms", started.elapsed().as_millis()),
                ),
                Ok(Err(e)) => CheckLine::fail(what, format!("cannot connect: {e}")),
                Err(_) => CheckLine::fail(
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

impl BuildSink for WhatapConfig {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self) -> Result<Box<dyn Sink>, ConfigError> {
        Ok(Box::new(WhatapSink::new(self)))
    }

    /// The frames decoded into fields (the licence hash is not shown).
    fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String {
        let bytes = WhatapSink::new(self).encode(batch);
        let mut out = format!(
            "\nwhatap ({} bytes; the licence hash in each frame header is not shown):\n",
            bytes.len()
        );
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
        out
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
