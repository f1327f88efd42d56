//! rds-forwarder's core: what RDS and Aurora emit, turned into
//! OpenTelemetry-shaped records and metric points.
//!
//! The data flows one way — [`input`] (decode a Lambda event) → [`parse`]
//! (one parser per engine log format) → [`sql`] (redaction, fingerprints) →
//! [`enrich`] (resource, RDS event catalogue) — and [`process::Processor`]
//! strings those stages together for one event. Nothing here does network
//! I/O or needs an async runtime, so it runs the same in tests, benchmarks
//! and fuzz targets; delivery lives in the `rdsf-sinks` crate.

#![forbid(unsafe_code)]

pub mod boxed;
pub mod config_error;
pub mod enhanced_monitoring;
pub mod enrich;
pub mod failure;
pub mod input;
pub mod metric;
pub mod parse;
pub mod process;
pub mod query_metrics;
pub mod record;
pub mod secret;
pub mod severity;
pub mod source;
pub mod sql;
pub mod time;
