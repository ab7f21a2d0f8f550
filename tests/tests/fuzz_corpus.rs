//! Replays every committed fuzz corpus file (`fuzz/corpus/<target>/*`) through the target's body
//! in `bankid_conformance::fuzz_targets`, on stable, so that `cargo test` keeps the corpora green.

use std::path::PathBuf;

use bankid_conformance::fuzz_targets;

fn corpus(target: &str) -> Vec<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|err| panic!("{}: {err}", dir.display()))
        .map(|entry| entry.expect("corpus entry").path())
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    files
}

fn replay(target: &str) {
    let files = corpus(target);
    assert!(files.len() >= 5, "the {target} corpus has only {} files", files.len());
    for file in files {
        let data = std::fs::read(&file).expect("corpus file");
        let result = std::panic::catch_unwind(|| fuzz_targets::run(target, &data));
        assert!(result.is_ok(), "{target}: {} fails", file.display());
    }
}

#[test]
fn parse_response_corpus() {
    replay("parse_response");
}

#[test]
fn identity_pem_corpus() {
    replay("identity_pem");
}

#[test]
fn identity_pkcs12_corpus() {
    replay("identity_pkcs12");
}

#[test]
fn sim_request_corpus() {
    replay("sim_request");
}

#[test]
fn verify_corpus() {
    replay("verify");
}

#[test]
fn every_target_has_a_corpus_and_a_fuzz_target() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    for target in fuzz_targets::TARGETS {
        assert!(root.join("corpus").join(target).is_dir(), "no corpus for {target}");
        assert!(root.join("fuzz_targets").join(format!("{target}.rs")).is_file(), "no fuzz target {target}");
    }
}
