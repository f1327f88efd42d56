//! Fuzz target `decode_event`: see `fuzz_support::decode_event` (tests/fuzz_support/mod.rs).
#![no_main]

#[path = "../../tests/fuzz_support/mod.rs"]
mod fuzz_support;
#[path = "../../benches/support/payload.rs"]
mod payload;
#[path = "../../tests/whatap_support/mod.rs"]
mod whatap_support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| fuzz_support::decode_event(data));
