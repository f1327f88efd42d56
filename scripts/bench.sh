#!/usr/bin/env bash
# Every performance figure of issue 7 in ONE table, targets beside them:
# warm processing per payload and stage (vs the base64+gunzip+JSON floor),
# scaling 1k/10k/100k/~6 MB, corpus kinds, end-to-end through a loopback
# WhaTap receiver, cold start, binary size, peak RSS and callgrind
# instruction counts. Builds release; run from anywhere.
#
#   scripts/bench.sh            # the table
#   scripts/bench.sh --divan    # also divan's per-stage view (benches/pipeline.rs)
#
# Pinned to one CPU with taskset when available (the targets are per core).
set -euo pipefail
cd "$(dirname "$0")/.."

command -v valgrind >/dev/null 2>&1 || {
  echo "bench: installing valgrind (instruction counts)"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind >/dev/null
}

cargo build --release --quiet --bin rds-forwarder
bin="$PWD/target/release/rds-forwarder"
# The bench profile inherits release; ask cargo where the executable is.
callgrind_bin=$(cargo bench --no-run --quiet --bench callgrind_once --message-format=json 2>/dev/null |
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == "callgrind_once" and m.get("executable"):
        print(m["executable"])')

pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c "$(( $(nproc) - 1 ))"); fi

echo "bench: $(uname -m), $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: rustc $(rustc --version | cut -d' ' -f2), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
RDSF_BENCH_BIN="$bin" RDSF_BENCH_CALLGRIND_BIN="$callgrind_bin" \
  "${pin[@]}" cargo bench --quiet --bench report

if [ "${1:-}" = "--divan" ]; then
  "${pin[@]}" cargo bench --quiet --bench pipeline
fi
