#!/usr/bin/env bash
# The whole test suite, as the README gives it and CI runs it.
# Installs what the tests need when it is missing (scripts/deps/*.sh, one
# file per tool), then runs every test. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."

for dep in scripts/deps/*.sh; do
  [ -e "$dep" ] || continue
  # shellcheck source=/dev/null
  source "$dep"
done

if [ -d "${RDSF_CORPUS_DIR:-../shared/corpus}" ]; then
  echo "test.sh: shared corpus found at ${RDSF_CORPUS_DIR:-../shared/corpus}: running the full sets too"
else
  echo "test.sh: no shared corpus beside the repo: running the in-repo fixtures only"
fi

cargo test --all-targets

# Fuzz smoke run (issue 7): only when asked, RDSF_FUZZ_SMOKE_SECS seconds per
# target; skips itself without nightly + cargo-fuzz.
if [ "${RDSF_FUZZ_SMOKE_SECS:-0}" -gt 0 ]; then
  scripts/fuzz-smoke.sh "$RDSF_FUZZ_SMOKE_SECS"
fi
