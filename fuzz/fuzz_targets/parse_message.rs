//! Fuzz target `parse_message`: see `rdsf_testkit::fuzz::parse_message` (crates/testkit/src/fuzz.rs).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rdsf_testkit::fuzz::parse_message(data));
