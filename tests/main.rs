//! The integration tests of the `rds-forwarder` crate: one test binary (so
//! one link, not one per file); each file beside this one is a module named
//! for what it guards. Helpers shared by several live in the `*_support`,
//! `common` and `fingerprint_old` modules, and in the `rdsf-testkit` crate
//! (shared with the benchmarks and the fuzz targets).
//!
//! Run one file's tests with `cargo test --test integration <module>::`.

// ---- shared helpers ----
mod common;
mod delivery_support;
mod deploy_support;
mod fingerprint_old;
mod golib_tagcount;
mod mysql_support;

// ---- the tests ----
mod check_cli;
mod cli;
mod corpus_records;
mod deploy_lint;
mod deploy_moto;
mod deploy_packaging;
mod enhanced_monitoring;
mod enhanced_monitoring_whatap;
mod extracted_fields_linear;
mod fingerprint_linear;
mod fingerprint_one_pass;
mod fingerprint_same_as_before;
mod fingerprint_vs_pt;
mod firehose;
mod fleet;
mod fuzz_regressions;
mod golden;
mod handler;
mod kinesis_item_failures;
mod lambda_runtime;
mod layering;
mod loki_sink;
mod malformed;
mod many_keys_linear;
mod mariadb_server;
mod metrics_signal;
mod mysql_corpus;
mod ndjson_writer;
mod otlp_decoder;
mod otlp_faults;
mod parse_other_engines;
mod parse_pg_corpus;
mod parse_pg_server;
mod planted_secrets;
mod properties;
mod query_metrics;
mod rds_events;
mod rds_metadata;
mod readme_examples;
mod release_artefacts;
mod schema;
mod self_monitoring;
mod serve;
mod serve_load;
mod serve_tls;
mod shared_log_types;
mod streamed;
mod unix_cli;
mod whatap_cli;
mod whatap_delivery;
mod whatap_vectors;
