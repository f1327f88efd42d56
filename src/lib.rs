//! rds-forwarder, the binary's library: the composition root. It reads the
//! configuration ([`config`]), wires the core's processing
//! (`rdsf_core::process`) to the sinks' delivery engine (`rdsf_sinks`) in
//! [`pipeline::Pipeline`], and serves it as a Lambda handler ([`lambda`]) or
//! a command line ([`cli`]). The stages themselves live in the workspace's
//! crates (README, "Where things are").

#![forbid(unsafe_code)]

pub mod cli;
pub mod config;
pub mod firehose;
pub mod lambda;
pub mod pipeline;
pub mod selfmon;
pub mod serve;
