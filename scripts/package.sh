#!/usr/bin/env bash
# Builds the release artefacts into dist/ (the README's "Install" lists them):
#   rds-forwarder-arm64.zip, rds-forwarder-x86_64.zip   the Lambda zips
#       (provided.al2023 `bootstrap`), built with cargo-lambda and zig
#       (both from PyPI, in target/venv-cargo-lambda), which link against an
#       old glibc so the binary runs on Amazon Linux 2023 whatever the build
#       machine's glibc is;
#   install.yaml, setup.yaml, ... (deploy/*.yaml)        CloudFormation, with
#       CodeS3Key defaulting to rds-forwarder/VERSION/rds-forwarder-arm64.zip,
#       where scripts/upload.sh puts the zip;
#   sam-arm64.yaml, sam-x86_64.yaml                      SAM templates for
#       `sam deploy` / the Serverless Application Repository, generated from
#       install.yaml (scripts/sam_template.py), CodeUri the zip beside them;
#   rds-forwarder-terraform-VERSION.tar.gz               the Terraform module
#       (deploy/terraform, with its examples);
#   LICENSE, SHA256SUMS                                  check with
#       `shasum -a 256 -c SHA256SUMS` (macOS and Linux).
# An architecture whose Rust standard library is not installed is skipped
# with a message saying so (`rustup target add aarch64-unknown-linux-gnu`).
#
# Usage: scripts/package.sh [--skip-build] [--out DIR]   (from anywhere)
#   --skip-build  package the zips a previous build left in
#                 ${CARGO_TARGET_DIR:-target}/lambda-ARCH/ instead of building
#   --out DIR     write there instead of dist/ (emptied first)
# Portable: bash 3.2 and the BSD tools of macOS (no GNU-only flags).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD

skip_build=0
out=dist
while [ $# -gt 0 ]; do
  case $1 in
    --skip-build) skip_build=1 ;;
    --out)
      [ $# -ge 2 ] || { echo "package.sh: --out needs a directory" >&2; exit 2; }
      out=$2
      shift
      ;;
    -h | --help)
      sed -n '2,/^set -euo/p' "$0" | sed '$d'
      exit 0
      ;;
    *) echo "package.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

version=$(sed -n 's/^version = "\([^"]*\)"$/\1/p' Cargo.toml | head -n 1)
[ -n "$version" ] || { echo "package.sh: no version in Cargo.toml" >&2; exit 1; }
target=${CARGO_TARGET_DIR:-target}

venv=target/venv-cargo-lambda
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c 'import yaml' 2>/dev/null ||
  { [ "$skip_build" = 0 ] && { [ ! -x "$venv/bin/cargo-lambda" ] || [ ! -x "$venv/bin/python-zig" ]; }; }; then
  python3 -m venv "$venv"
  if [ "$skip_build" = 1 ]; then
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'PyYAML>=6'
  else
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'PyYAML>=6' 'cargo-lambda>=1.4,<2' 'ziglang>=0.13'
  fi
fi
export PATH="$repo/$venv/bin:$PATH"

rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
archs=()

package() { # package ARCH CARGO-LAMBDA-FLAG
  local arch=$1 flag=$2 zip="$target/lambda-$1/rds-forwarder/bootstrap.zip"
  if [ "$skip_build" = 0 ]; then
    echo "package.sh: building $arch"
    cargo lambda build --release "$flag" --compiler cargo-zigbuild --output-format zip \
      --bin rds-forwarder --lambda-dir "$target/lambda-$arch"
  elif [ ! -f "$zip" ]; then
    echo "package.sh: SKIPPED $arch: --skip-build and no $zip"
    return 0
  fi
  cp "$zip" "$out/rds-forwarder-$arch.zip"
  archs+=("$arch")
}

if [ "$skip_build" = 1 ] || rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu; then
  package arm64 --arm64
else
  echo "package.sh: SKIPPED arm64: the Rust standard library for aarch64-unknown-linux-gnu is not installed"
  echo "package.sh:   (run 'rustup target add aarch64-unknown-linux-gnu' where rustup can download it, then re-run)."
  echo "package.sh:   Deploy rds-forwarder-x86_64.zip with Architecture=x86_64 meanwhile."
fi
package x86_64 --x86-64
[ "${#archs[@]}" -gt 0 ] || { echo "package.sh: no zip to package" >&2; exit 1; }

# The templates, CodeS3Key pinned to where scripts/upload.sh puts this version's zip.
for template in deploy/*.yaml; do
  awk -v key="rds-forwarder/$version/rds-forwarder-arm64.zip" '
    { print }
    /^  CodeS3Key:$/ { pinning = 1; next }
    pinning && /^    Type: / { print "    Default: " key; pinning = 0 }
  ' "$template" > "$out/$(basename "$template")"
done
for arch in "${archs[@]}"; do
  (cd scripts && python sam_template.py "$repo/deploy/install.yaml" "$arch" "$version") > "$out/sam-$arch.yaml"
done

# The Terraform module, examples included (no state, no provider cache).
tar -czf "$out/rds-forwarder-terraform-$version.tar.gz" \
  --exclude .terraform --exclude '.terraform.lock.hcl' --exclude '*.tfstate*' \
  -C deploy terraform
cp LICENSE "$out/LICENSE"

sums=$(cd "$out" && find . -type f | sed 's|^\./||' | LC_ALL=C sort |
  while read -r f; do shasum -a 256 "$f"; done)
printf '%s\n' "$sums" > "$out/SHA256SUMS"

for zip in "$out"/*.zip; do
  size=$(wc -c < "$zip" | tr -d " ")   # POSIX: GNU stat -c fails on macOS
  bin_size=$(unzip -l "$zip" bootstrap | awk '$4 == "bootstrap" {print $1}')
  echo "package.sh: $(basename "$zip"): zip $size bytes, bootstrap $bin_size bytes"
done
echo "package.sh: rds-forwarder $version in $out:"
(cd "$out" && ls -1)
