# cargo-fuzz, only when a fuzz smoke run is asked for (RDSF_FUZZ_SMOKE_SECS > 0,
# as CI does) and a nightly toolchain is there to run it.
if [ "${RDSF_FUZZ_SMOKE_SECS:-0}" -gt 0 ] && cargo +nightly --version >/dev/null 2>&1 \
   && ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "deps: installing cargo-fuzz (fuzz smoke run asked for)"
  cargo install --quiet --locked cargo-fuzz
fi
