//! The stdout sink's place in the registry: no settings of its own; the
//! default when no other sink is selected.

use std::any::Any;

use super::StdoutSink;
use rdsf_core::config_error::ConfigError;
use rdsf_core::record::ResourceRecords;
use crate::registry::{BuildSink, CheckLine, SinkComponent, SinkSpec};
use crate::{BoxFuture, Sink};

/// Its name in `RDSF_SINKS`.
pub const NAME: &str = "stdout";

/// No settings: NDJSON on stdout needs none.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct StdoutSettings {}

#[derive(Debug)]
struct Spec;

impl SinkComponent for StdoutSettings {
    fn name(&self) -> &'static str {
        NAME
    }

    fn configured(&self) -> bool {
        false
    }

    fn validate(&self, selected: bool) -> Result<Option<SinkSpec>, Vec<ConfigError>> {
        Ok(selected.then(|| SinkSpec::new(Spec)))
    }

    fn check(&self, selected: bool) -> BoxFuture<'_, Vec<CheckLine>> {
        Box::pin(async move {
            if !selected {
                return Vec::new();
            }
            vec![CheckLine::ok(
                NAME,
                "records are written to stdout as NDJSON (in Lambda: the function's log group)",
            )]
        })
    }
}

impl BuildSink for Spec {
    fn name(&self) -> &'static str {
        NAME
    }

    fn build(&self) -> Result<Box<dyn Sink>, ConfigError> {
        Ok(Box::new(StdoutSink::new()))
    }

    fn show_wire(&self, batch: &[ResourceRecords<'_>]) -> String {
        let mut buf = Vec::new();
        super::encode_ndjson_batch(batch, &mut buf);
        format!(
            "\nstdout (one NDJSON line per record):\n{}",
            String::from_utf8_lossy(&buf)
        )
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
