//! The Loki sink's place in the sink registry: what selects it, how `check`
//! probes Loki, what `check --show-wire` shows.

use std::any::Any;
use std::time::{Duration, Instant};

use super::{encode, Encoding, LokiConfig, LokiSettings, LokiSink};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use crate::registry::{BuildSink, CheckLine, SinkComponent, SinkSpec};
use crate::{http_post, BoxFuture, Sink};

/// Its name in `RDSF_SINKS`.
pub const NAME: &str = "loki";

impl SinkComponent for LokiSettings {
    fn name(&self) -> &'static str {
        NAME
    }

    /// A URL selects it.
    fn configured(&self) -> bool {
        self.url_configured()
    }

    /// Checked when selected (named without a URL: an error naming LOKI_URL).
    fn validate(&self, selected: bool) -> Result<Option<SinkSpec>, Vec<ConfigError>> {
        if !selected {
            return Ok(None);
        }
        LokiConfig::from_settings(self)
            .map(|c| Some(SinkSpec::new(c)))
            .map_err(|e| vec![e])
    }

    /// A push without streams, as the sink sends batches (same URL, headers,
    /// tenant and credentials): Loki stores nothing and answers 204.
    fn check(&self, selected: bool) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async move {
            if !selected && !self.url_configured() {
                return Vec::new();
            }
            let Ok(config) = LokiConfig::from_settings(self) else {
                return Vec::new();
            };
            match LokiSink::new(config) {
                Ok(sink) => vec![probe(&sink).await],
                Err(e) => vec![CheckLine::fail(NAME, e.to_string())],
            }
        })
    }
}

async fn probe(sink: &LokiSink) -> CheckLine {
    let deadline = Instant::now() + sink.config().timeout + Duration::from_millis(100);
    http_post::probe_line(
        format!("{NAME} {}", sink.shown_url()),
        sink.shown_url(),
        "an empty push",
        sink.probe(deadline).await,
    )
}

impl BuildSink for LokiConfig {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self) -> Result<Box<dyn Sink>, ConfigError> {
        Ok(Box::new(LokiSink::new(self.clone())?))
    }

    /// The push as Loki's JSON, whatever encoding it goes out in.
    fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String {
        let streams = encode::streams(batch, &self.labels);
        let json = encode::json_body(&streams);
        let pretty = serde_json::from_slice::<serde_json::Value>(&json)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| String::from_utf8_lossy(&json).into_owned());
        let sent_as = match self.encoding {
            Encoding::Protobuf => "snappy protobuf",
            Encoding::Json => "JSON, gzip",
        };
        format!(
            "\nloki (POST {}, sent as {sent_as}; shown as push API JSON):\n{pretty}\n",
            self.url
                .parse::<http::Uri>()
                .map(|u| crate::otlp::transport::redacted(&u))
                .unwrap_or_else(|_| "the Loki URL".to_owned())
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
