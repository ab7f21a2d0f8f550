//! `cargo +nightly fuzz run sim_request`: see `bankid_conformance::fuzz_targets::sim_request`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bankid_conformance::fuzz_targets::sim_request(data));
