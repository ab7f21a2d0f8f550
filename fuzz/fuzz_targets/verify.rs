//! `cargo +nightly fuzz run verify`: see `bankid_conformance::fuzz_targets::verify`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bankid_conformance::fuzz_targets::verify(data));
