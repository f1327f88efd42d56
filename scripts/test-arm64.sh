#!/usr/bin/env bash
# The tests whose outcome depends on the CPU, on arm64 (the templates'
# default Architecture) under qemu: rdsf-core's unit tests (the vector
# scans of sql/redact.rs and sql/fingerprint.rs have a NEON path beside the
# SSE2 one, and their proptests compare each with the byte-table reference)
# and the byte-exact output checks (golden digests, the corpus records,
# fingerprints against pt-query-digest). Tests that start the binary as a
# child process cannot run here (qemu runs the test binary only), so the
# rest of the suite stays x86_64-only. Called by scripts/test.sh; runnable
# alone. Installs qemu-user and the aarch64 cross linker (Debian packages).
set -euo pipefail
cd "$(dirname "$0")/.."
target=aarch64-unknown-linux-gnu
if ! rustup target list --installed 2>/dev/null | grep -qx "$target"; then
  echo "test-arm64: SKIPPED: the Rust standard library for $target is not installed"
  echo "test-arm64:   (run 'rustup target add $target' where rustup can download it)."
  exit 0
fi
if ! command -v qemu-aarch64 >/dev/null || ! command -v aarch64-linux-gnu-gcc >/dev/null ||
  [ ! -d /usr/aarch64-linux-gnu/lib ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user gcc-aarch64-linux-gnu libc6-dev-arm64-cross >/dev/null
fi
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64 -L /usr/aarch64-linux-gnu"
export CC_aarch64_unknown_linux_gnu=aarch64-linux-gnu-gcc
echo "test-arm64: rdsf-core's unit tests and the output checks on $target (qemu)"
status=0
cargo test --target "$target" -p rdsf-core --lib --no-fail-fast || status=$?
cargo test --target "$target" --test integration --no-fail-fast -- \
  golden:: corpus_records:: fingerprint_vs_pt:: || status=$?
exit "$status"
