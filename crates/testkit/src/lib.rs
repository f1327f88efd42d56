//! Test support shared by the integration tests, the benchmarks and the fuzz
//! targets (which depend on the core, the sinks and this crate only).
//!
//! - [`payload`]: CloudWatch Logs / Kinesis payload builders.
//! - [`whatap`]: an independent WhaTap frame decoder and a loopback receiver.
//! - [`fuzz`]: what each fuzz target runs, replayed on stable by the suite.

#![forbid(unsafe_code)]

pub mod fuzz;
pub mod payload;
pub mod whatap;
