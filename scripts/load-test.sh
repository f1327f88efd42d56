#!/usr/bin/env bash
# The serve load test (issue 15): a release build of rds-forwarder serving
# Firehose requests on 127.0.0.1 to concurrent clients; prints records/s,
# records per CPU-second of the server, p50/p99 request latency and peak
# RSS (VmHWM). Nothing timed is asserted. The test harness itself (clients)
# is the debug test binary; the server it measures is the release build.
#
#   scripts/load-test.sh
#   RDSF_LOAD_CLIENTS=8 RDSF_LOAD_REQUESTS=300 RDSF_LOAD_RECORDS=500 RDSF_LOAD_EVENTS=4 scripts/load-test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin rds-forwarder
RDSF_LOAD_BIN="$PWD/target/release/rds-forwarder" \
  cargo test --test integration serve_load::load_figures -- --ignored --nocapture --test-threads 1
