#!/usr/bin/env bash
# Every performance figure of issue 7 in ONE table, targets beside them:
# warm processing per payload and stage (vs the base64+gunzip+JSON floor),
# scaling 1k/10k/100k/~6 MB, corpus kinds, end-to-end through a loopback
# WhaTap receiver, cold start, binary size, peak RSS and callgrind
# instruction counts. Builds release; run from anywhere.
#
#   scripts/bench.sh            # the table
#   scripts/bench.sh --divan    # also divan's per-stage view (benches/pipeline.rs)
#   scripts/bench.sh --profile [process|ndjson|whatap|otlp|otlp_gzip]
#                               # instead: a callgrind profile with symbols of the
#                               # 10k payload (own target dir, top functions printed)
#
# Pinned to one CPU with taskset when available (the targets are per core).
set -euo pipefail
cd "$(dirname "$0")/.."

# valgrind: instruction counts; time (/usr/bin/time): peak RSS of the binary.
missing=()
command -v valgrind >/dev/null 2>&1 || missing+=(valgrind)
[ -x /usr/bin/time ] || missing+=(time)
if [ ${#missing[@]} -gt 0 ]; then
  echo "bench: installing ${missing[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

json_executable() { # name: the bench executable from cargo's JSON messages
  python3 -c 'import json,sys
for l in sys.stdin:
    m = json.loads(l)
    if m.get("reason") == "compiler-artifact" and m["target"]["name"] == sys.argv[1] and m.get("executable"):
        print(m["executable"])' "$1"
}

if [ "${1:-}" = "--profile" ]; then
  mode="${2:-ndjson}"
  # Symbols and line tables (release strips them), in a separate target dir
  # so the measured builds stay untouched.
  exe=$(CARGO_TARGET_DIR=target/profile CARGO_PROFILE_BENCH_STRIP=none CARGO_PROFILE_BENCH_DEBUG=line-tables-only \
    cargo bench --no-run --quiet --bench callgrind_once --message-format=json 2>/dev/null | json_executable callgrind_once)
  [ -f target/bench/pg-10000.json ] || { echo "bench: run scripts/bench.sh once first (it writes target/bench/pg-10000.json)"; exit 2; }
  out=target/bench/callgrind.profile.$mode.out
  valgrind --tool=callgrind --callgrind-out-file="$out" "$exe" target/bench/pg-10000.json "$mode" 2>&1 | grep Collected
  callgrind_annotate "$out" | sed -n '/file:function/,$p' | head -45
  echo "bench: full profile in $out (callgrind_annotate --inclusive=yes $out)"
  exit 0
fi

cargo build --release --quiet --bin rds-forwarder
# A copy of the binary as shipped: building the benches below writes their own
# build of it (dev-dependencies unify more features in, ~0.3 MB larger) over
# target/release/rds-forwarder, which size, cold start and peak RSS must not
# measure.
mkdir -p target/bench
cp target/release/rds-forwarder target/bench/rds-forwarder
bin="$PWD/target/bench/rds-forwarder"
# The bench profile inherits release; ask cargo where the executable is.
callgrind_bin=$(cargo bench --no-run --quiet --bench callgrind_once --message-format=json 2>/dev/null |
  json_executable callgrind_once)

pin=()
if command -v taskset >/dev/null 2>&1; then pin=(taskset -c "$(( $(nproc) - 1 ))"); fi

echo "bench: $(uname -m), $(nproc) CPU(s): $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "bench: rustc $(rustc --version | cut -d' ' -f2), $(git rev-parse --short HEAD 2>/dev/null || echo '?')"
RDSF_BENCH_BIN="$bin" RDSF_BENCH_CALLGRIND_BIN="$callgrind_bin" \
  "${pin[@]}" cargo bench --quiet --bench report

if [ "${1:-}" = "--divan" ]; then
  "${pin[@]}" cargo bench --quiet --bench pipeline
fi
