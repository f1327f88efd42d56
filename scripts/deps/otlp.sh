# Test dependency of the OTLP sink tests (sourced by scripts/test.sh):
# a Python venv with the official `opentelemetry-proto` package, used by
# tests/otlp/receiver.py as a decoder no one on this project wrote.
# Installs only when missing; quiet and idempotent.
otlp_venv="target/otlp-venv"
if ! "$otlp_venv/bin/python" -c 'import opentelemetry.proto.collector.logs.v1.logs_service_pb2' 2>/dev/null; then
  if ! python3 -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq python3-venv >/dev/null
  fi
  python3 -m venv "$otlp_venv"
  "$otlp_venv/bin/pip" install -q --disable-pip-version-check 'opentelemetry-proto>=1.20,<2'
fi
unset otlp_venv
