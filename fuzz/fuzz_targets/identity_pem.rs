//! `cargo +nightly fuzz run identity_pem`: see `bankid_conformance::fuzz_targets::identity_pem`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bankid_conformance::fuzz_targets::identity_pem(data));
