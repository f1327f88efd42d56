//! Fuzz target `whatap_roundtrip`: see `rdsf_testkit::fuzz::whatap_roundtrip` (crates/testkit/src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rdsf_testkit::fuzz::whatap_roundtrip(data));
