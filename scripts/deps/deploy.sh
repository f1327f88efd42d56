# Tools the deployment checks need (tests/deploy_lint.rs, tests/deploy_moto.rs):
# cfn-lint, checkov and moto_server, each in its own virtualenv under target/
# so their pinned dependencies never fight (scripts/package.sh installs
# cargo-lambda itself). Sourced by scripts/test.sh: installs only what is
# missing, quietly, and is safe to run again.
# shellcheck shell=bash

rdsf_venv() { # rdsf_venv NAME EXECUTABLE PIP-SPEC...
  local name=$1 exe=$2
  shift 2
  local dir="target/venv-$name"
  [ -x "$dir/bin/$exe" ] && return 0
  python3 -m venv "$dir"
  "$dir/bin/pip" install --quiet --disable-pip-version-check "$@"
}

rdsf_venv cfn-lint cfn-lint 'cfn-lint>=1.20,<2'
rdsf_venv checkov checkov 'checkov>=3.2,<4'
rdsf_venv moto moto_server 'moto[server]>=5.0,<6'
unset -f rdsf_venv
