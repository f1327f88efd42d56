#!/usr/bin/env bash
# The whole test suite as a fresh clone with no ../shared beside it sees it:
# the working tree (tracked and untracked, not ignored) is copied to a temp
# folder that has no `shared` sibling, the shared-set overrides are unset,
# and scripts/test.sh runs there. Its `target` is a link to this checkout's,
# so dependencies and the tools scripts/deps installed are reused (only the
# crate itself is rebuilt). CI runs this after scripts/test.sh (issue 12:
# main went red without ../shared because only the run beside it was tried).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
mkdir -p target
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rdsf-no-shared.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/repo"
# Files git would hand a fresh clone, plus untracked ones not ignored (so an
# uncommitted change is tested too); deleted files are skipped.
git ls-files -z --cached --others --exclude-standard |
  while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
  tar --null -T - -cf - | tar -xf - -C "$tmp/repo"
ln -s "$root/target" "$tmp/repo/target"
[ ! -e "$tmp/shared" ] || { echo "test-without-shared: $tmp/shared exists" >&2; exit 1; }
echo "test-without-shared: running the suite in $tmp/repo (no ../shared)"
cd "$tmp/repo"
env -u RDSF_CORPUS_DIR -u RDSF_WHATAP_VECTORS RDSF_ARM64_TESTS=0 bash scripts/test.sh
