//! Fuzz target `decode_event`: see `rdsf_testkit::fuzz::decode_event` (crates/testkit/src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rdsf_testkit::fuzz::decode_event(data));
