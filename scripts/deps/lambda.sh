# cargo-lambda (PyPI): the Lambda Runtime API emulator the runtime test drives.
# Installed into a venv under target/tools when no cargo-lambda is on PATH.
if ! command -v cargo-lambda >/dev/null 2>&1 && [ ! -x target/tools/lambda-venv/bin/cargo-lambda ]; then
  echo "deps: installing cargo-lambda into target/tools/lambda-venv"
  python3 -m venv target/tools/lambda-venv
  target/tools/lambda-venv/bin/pip install --quiet --disable-pip-version-check cargo-lambda
fi
