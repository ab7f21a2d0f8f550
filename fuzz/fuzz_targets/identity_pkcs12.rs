//! `cargo +nightly fuzz run identity_pkcs12`: see `bankid_conformance::fuzz_targets::identity_pkcs12`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| bankid_conformance::fuzz_targets::identity_pkcs12(data));
