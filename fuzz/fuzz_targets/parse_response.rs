//! `cargo +nightly fuzz run parse_response`: see `bankid_conformance::fuzz_targets::parse_response`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bankid_conformance::fuzz_targets::parse_response(data));
