//! rds-forwarder: Amazon RDS and Aurora logs and events, parsed into
//! OpenTelemetry-shaped records and delivered to WhaTap, OTLP or stdout.
//!
//! The data flows one way — [`input`] → [`parse`] → [`enrich`] → [`sink`] —
//! and [`pipeline::Pipeline`] strings the stages together. Everything but the
//! sinks' transports is free of network code, so it runs offline in tests
//! and benchmarks.

// No unsafe code, except the one isolated call with a SAFETY comment and
// `#[allow(unsafe_code)]` (the WhaTap SIOCOUTQ ioctl in sink/whatap/conn.rs).
#![deny(unsafe_code)]

pub mod aws;
pub mod boxed;
pub mod cli;
pub mod config;
pub mod config_error;
pub mod delivery;
pub mod enrich;
pub mod https;
pub mod input;
pub mod lambda;
pub mod metric;
pub mod parse;
pub mod pipeline;
pub mod record;
pub mod secret;
pub mod severity;
pub mod sink;
pub mod source;
pub mod sql;
pub mod time;
