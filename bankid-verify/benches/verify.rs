//! Verifying one genuine BankID signature with its OCSP response, against baselines measured in
//! the same run: one bare RSA-2048 PKCS#1 v1.5 SHA-256 verification with ring (the SignatureValue
//! check alone). The full verification does 1 RSA-2048 + 3 RSA-4096 (chain) + 1 RSA-4096
//! (responder certificate) + 1 RSA-2048 (OCSP) verifications, three C14N + SHA-256 digests and the
//! parsing: the second baseline (one RSA-4096 verification) gives the cryptographic floor,
//! 2 x RSA-2048 + 4 x RSA-4096.

#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use bankid_verify::{Environment, Expectations, TrustAnchors, verify};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use criterion::{Criterion, criterion_group, criterion_main};
use x509_parser::prelude::FromDer;

fn sample() -> (String, String) {
    let text = include_str!("../tests/data/test-2016-t2v.json");
    let field = |key: &str| {
        let start = text.find(&format!("\"{key}\": \"")).expect("key") + key.len() + 5;
        let end = start + text[start..].find('"').expect("end");
        text[start..end].to_owned()
    };
    (field("signature"), field("ocspResponse"))
}

fn bench(c: &mut Criterion) {
    let (signature, ocsp) = sample();
    let expect = Expectations::new(TrustAnchors::bankid(Environment::Test)).personal_number("198701178793");
    assert!(verify(&signature, Some(&ocsp), &expect).is_ok(), "the sample verifies");

    // Baseline material: the SignedInfo bytes, its SignatureValue and the leaf's key.
    let xml = String::from_utf8(B64.decode(&signature).expect("b64")).expect("utf8");
    let si = &xml[xml.find("<SignedInfo").expect("si")..xml.find("</SignedInfo>").expect("si") + 13];
    let sv = B64
        .decode(&xml[xml.find("<SignatureValue>").expect("sv") + 16..xml.find("</SignatureValue>").expect("sv")])
        .expect("b64");
    let leaf_b64 =
        &xml[xml.find("<X509Certificate>").expect("cert") + 17..xml.find("</X509Certificate>").expect("cert")];
    let leaf_der = B64.decode(leaf_b64).expect("b64");
    let (_, leaf) = x509_parser::certificate::X509Certificate::from_der(&leaf_der).expect("leaf");
    let key = leaf.public_key().subject_public_key.data.to_vec();
    let pk = ring::signature::UnparsedPublicKey::new(&ring::signature::RSA_PKCS1_2048_8192_SHA256, key);
    assert!(pk.verify(si.as_bytes(), &sv).is_ok());

    // Second baseline: the bank CA certificate's sha512WithRSA signature under the RSA-4096 root.
    let certs: Vec<Vec<u8>> = xml
        .match_indices("<X509Certificate>")
        .map(|(i, _)| {
            let start = i + 17;
            let end = start + xml[start..].find('<').expect("end");
            B64.decode(&xml[start..end]).expect("b64")
        })
        .collect();
    let (_, bank_ca) = x509_parser::certificate::X509Certificate::from_der(&certs[2]).expect("bank CA");
    let root_der = TrustAnchors::bankid(Environment::Test).certificates()[0].clone();
    let (_, root) = x509_parser::certificate::X509Certificate::from_der(&root_der).expect("root");
    let root_key = ring::signature::UnparsedPublicKey::new(
        &ring::signature::RSA_PKCS1_2048_8192_SHA512,
        root.public_key().subject_public_key.data.to_vec(),
    );
    let (tbs, bank_sig) = (bank_ca.tbs_certificate.as_ref().to_vec(), bank_ca.signature_value.data.to_vec());
    assert!(root_key.verify(&tbs, &bank_sig).is_ok());

    let mut g = c.benchmark_group("verify");
    g.bench_function("genuine signature + OCSP (test-2016-t2v)", |b| {
        b.iter(|| verify(black_box(&signature), Some(black_box(&ocsp)), &expect).is_ok())
    });
    g.bench_function("baseline: one RSA-2048 SHA-256 verification (ring)", |b| {
        b.iter(|| pk.verify(black_box(si.as_bytes()), black_box(&sv)).is_ok())
    });
    g.bench_function("baseline: one RSA-4096 SHA-512 verification (ring)", |b| {
        b.iter(|| root_key.verify(black_box(&tbs), black_box(&bank_sig)).is_ok())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
