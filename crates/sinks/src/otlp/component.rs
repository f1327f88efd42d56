//! The OTLP sink's place in the sink registry: what selects it, how `check`
//! probes the endpoint, what `check --show-wire` shows.

use std::any::Any;
use std::time::{Duration, Instant};

use super::{encode, Compression, OtlpConfig, OtlpSettings, OtlpSink, Protocol};
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use crate::registry::{BuildSink, CheckLine, SinkComponent, SinkSpec};
use crate::{http_post, BoxFuture, Sink};

/// Its name in `RDSF_SINKS`.
pub const NAME: &str = "otlp";

impl SinkComponent for OtlpSettings {
    fn name(&self) -> &'static str {
        NAME
    }

    /// An endpoint selects it.
    fn configured(&self) -> bool {
        self.endpoint_configured()
    }

    /// Checked when selected (named without an endpoint: the spec's local
    /// default, `http://localhost:4318`).
    fn validate(&self, selected: bool) -> Result<Option<SinkSpec>, Vec<ConfigError>> {
        if !selected {
            return Ok(None);
        }
        OtlpConfig::from_settings(self)
            .map(|c| Some(SinkSpec::new(c)))
            .map_err(|e| vec![e])
    }

    /// An empty export request, as the sink sends batches (same headers,
    /// protocol and compression).
    fn check(&self, selected: bool) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async move {
            if !selected && !self.endpoint_configured() {
                return Vec::new();
            }
            let Ok(config) = OtlpConfig::from_settings(self) else {
                return Vec::new();
            };
            match OtlpSink::new(config) {
                Ok(sink) => vec![probe(&sink).await],
                Err(e) => vec![CheckLine::fail(NAME, e.to_string())],
            }
        })
    }
}

async fn probe(sink: &OtlpSink) -> CheckLine {
    let deadline = Instant::now() + sink.config().timeout + Duration::from_millis(100);
    http_post::probe_line(
        format!("{NAME} {}", sink.shown_url()),
        sink.shown_url(),
        "an empty export request",
        sink.probe(deadline).await,
    )
}

impl BuildSink for OtlpConfig {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self) -> Result<Box<dyn Sink>, ConfigError> {
        Ok(Box::new(OtlpSink::new(self.clone())?))
    }

    /// The request as OTLP/JSON, whatever protocol it goes out in.
    fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String {
        let json = encode::encode(
            batch,
            &self.resource_attributes,
            Protocol::Json,
            Compression::None,
        );
        let pretty = serde_json::from_slice::<serde_json::Value>(&json)
            .and_then(|v| serde_json::to_string_pretty(&v))
            .unwrap_or_else(|_| String::from_utf8_lossy(&json).into_owned());
        let sent_as = match (self.protocol, self.compression) {
            (Protocol::Protobuf, Compression::Gzip) => "http/protobuf, gzip",
            (Protocol::Protobuf, Compression::None) => "http/protobuf",
            (Protocol::Json, Compression::Gzip) => "http/json, gzip",
            (Protocol::Json, Compression::None) => "http/json",
        };
        format!(
            "\notlp (POST {}, sent as {sent_as}; shown as OTLP/JSON):\n{pretty}\n",
            self.url
                .parse::<http::Uri>()
                .map(|u| super::transport::redacted(&u))
                .unwrap_or_else(|_| "the OTLP endpoint".to_owned())
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
