//! Benchmarks of the hot paths of the core, each beside a baseline measured in the same run.
//!
//! - `qr`: QR content generation against a bare HMAC-SHA256 + hex of the same input
//!   (target: within 1.5x).
//! - `request`: building an auth request against serialising the same JSON with serde_json.
//! - `collect`: parsing a complete collect response with a 10 KB signature against a bare
//!   `serde_json::Value` parse of the same bytes.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;

use bankid_core::{AuthRequest, CollectRequest, Config, Operation, Requirement};
use criterion::{Criterion, criterion_group, criterion_main};
use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

const TOKEN: &str = "67df3917-fa0d-44e5-b327-edcc928297f8";
const SECRET: &str = "d28db9a7-4cde-429e-a983-359be676944c";

fn qr(c: &mut Criterion) {
    let mut group = c.benchmark_group("qr");
    group.bench_function("baseline_hmac_sha256_hex", |b| {
        b.iter(|| {
            let mut mac = <Hmac<Sha256>>::new_from_slice(black_box(SECRET).as_bytes()).unwrap();
            mac.update(black_box(b"17"));
            hex::encode(mac.finalize().into_bytes())
        });
    });
    group.bench_function("qr_content", |b| {
        b.iter(|| bankid_core::qr::content(black_box(TOKEN), black_box(SECRET), black_box(17)))
    });
    let generator = bankid_core::qr::QrGenerator::new(TOKEN, SECRET);
    group.bench_function("qr_generator_content", |b| b.iter(|| black_box(&generator).content(black_box(17))));
    group.finish();
}

fn request(c: &mut Criterion) {
    let config = Config::test();
    let mut group = c.benchmark_group("request");
    group.bench_function("baseline_serde_json", |b| {
        b.iter(|| {
            serde_json::to_vec(&serde_json::json!({
                "endUserIp": black_box("192.0.2.10"),
                "requirement": {"pinCode": true, "personalNumber": "199001011239"},
                "userVisibleData": "TG9nIGluIHRvIEV4YW1wbGU=",
            }))
            .unwrap()
        });
    });
    group.bench_function("auth_to_http", |b| {
        b.iter(|| {
            AuthRequest::new(black_box([192, 0, 2, 10].into()))
                .requirement(Requirement::new().pin_code(true).personal_number("199001011239"))
                .user_visible_data("Log in to Example")
                .to_http(&config)
                .unwrap()
        });
    });
    group.finish();
}

fn collect(c: &mut Criterion) {
    use base64::Engine as _;
    let signature = base64::engine::general_purpose::STANDARD.encode(vec![b'x'; 7_500]); // 10 000 characters
    let body = format!(
        r#"{{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","status":"complete","completionData":{{
        "user":{{"personalNumber":"199001011239","name":"Karl Karlsson","givenName":"Karl","surname":"Karlsson"}},
        "device":{{"ipAddress":"192.0.2.10","uhi":"giCsUsVYgZEg96P/l/7QIxWjusqW"}},"bankIdIssueDate":"2023-11-29Z",
        "stepUp":{{"mrtd":true}},"signature":"{signature}","ocspResponse":"MIIHfgoBAKCCB3cwggdz","risk":"low"}}}}"#
    )
    .into_bytes();
    let mut group = c.benchmark_group("collect");
    group.bench_function("baseline_serde_json_value", |b| {
        b.iter(|| serde_json::from_slice::<serde_json::Value>(black_box(&body)).unwrap());
    });
    group.bench_function("parse_complete_10kb_signature", |b| {
        b.iter(|| {
            let response = http::Response::builder()
                .status(200)
                .header("content-type", "application/json")
                .body(black_box(body.as_slice()))
                .unwrap();
            CollectRequest::parse(response).unwrap()
        });
    });
    group.finish();
}

criterion_group!(benches, qr, request, collect);
criterion_main!(benches);
