#!/usr/bin/env bash
# Builds the Lambda deployment zips (provided.al2023 `bootstrap`):
#   dist/rds-forwarder-x86_64.zip  always;
#   dist/rds-forwarder-arm64.zip   when the aarch64 Rust standard library is
#                                  installed (otherwise says why it skipped).
# Uses cargo-lambda with zig (both from PyPI, in target/venv-cargo-lambda),
# which links against an old glibc so the binary runs on Amazon Linux 2023
# whatever the build machine's glibc is.
# Usage: scripts/package.sh   (from anywhere)
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/venv-cargo-lambda
if [ ! -x "$venv/bin/cargo-lambda" ] || [ ! -x "$venv/bin/python-zig" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'cargo-lambda>=1.4,<2' 'ziglang>=0.13'
fi
export PATH="$PWD/$venv/bin:$PATH"

mkdir -p dist
built=()

build() { # build ARCH CARGO-LAMBDA-FLAG
  local arch=$1 flag=$2
  echo "package.sh: building $arch"
  cargo lambda build --release "$flag" --compiler cargo-zigbuild --output-format zip \
    --bin rds-forwarder --lambda-dir "target/lambda-$arch"
  cp "target/lambda-$arch/rds-forwarder/bootstrap.zip" "dist/rds-forwarder-$arch.zip"
  built+=("dist/rds-forwarder-$arch.zip")
}

build x86_64 --x86-64

if rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  build arm64 --arm64
else
  echo "package.sh: SKIPPED arm64: the Rust standard library for aarch64-unknown-linux-gnu is not installed"
  echo "package.sh:   (run 'rustup target add aarch64-unknown-linux-gnu' where rustup can download it, then re-run)."
  echo "package.sh:   Deploy dist/rds-forwarder-x86_64.zip with the install stack's Architecture=x86_64 meanwhile."
fi

for zip in "${built[@]}"; do
  size=$(wc -c < "$zip" | tr -d " ")   # POSIX: GNU stat -c fails on macOS
  bin_size=$(unzip -l "$zip" bootstrap | awk '$4 == "bootstrap" {print $1}')
  echo "package.sh: $zip: zip $size bytes, bootstrap $bin_size bytes"
done
