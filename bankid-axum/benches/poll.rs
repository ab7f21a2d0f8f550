//! The cost of one status poll without the network: open the sealed cookie, compute the QR
//! content for the current second, render its SVG, build the JSON answer, seal the cookie
//! again. Target: at most 50 µs. Measured beside baselines in the same run: the `qrcode`
//! crate's encoding of the same content alone (the dominant step), and AES-256-GCM seal + open
//! of the same cookie alone.
#![allow(missing_docs)] // criterion_group! generates undocumented functions

use std::hint::black_box;
use std::time::SystemTime;

use bankid_axum::Key;
use bankid_axum::bench::{order_cookie, poll_without_network};
use bankid_axum::seal::Sealer;
use criterion::{Criterion, criterion_group, criterion_main};

fn poll(c: &mut Criterion) {
    let sealer =
        Sealer::new(&[Key::from_bytes([7; 32]), Key::from_bytes([8; 32])], "bankid-axum/order/v1/bankid_order")
            .expect("a key");
    let wall = SystemTime::now();
    let cookie = order_cookie(&sealer, wall);
    let content = bankid_core::qr::content_at_system_time(
        "67df3917-fa0d-44e5-b327-edcc928297f8",
        "d28db9a7-4cde-429e-a983-359be676944c",
        wall,
        wall,
    );
    let (body, _) = poll_without_network(&sealer, &cookie, wall).expect("the cookie opens");
    assert!(body.starts_with(b"{\"status\":\"pending\""));

    let mut group = c.benchmark_group("status_poll");
    group.bench_function("baseline_qrcode_encode", |b| {
        b.iter(|| qrcode::QrCode::with_error_correction_level(black_box(content.as_bytes()), qrcode::EcLevel::L))
    });
    group.bench_function("baseline_seal_open", |b| {
        b.iter(|| {
            let plain = sealer.open(black_box(&cookie)).expect("opens");
            sealer.seal(&plain).expect("seals")
        })
    });
    group.bench_function("svg", |b| b.iter(|| bankid_axum::svg::qr_svg(black_box(&content))));
    group.bench_function("poll_without_network", |b| {
        b.iter(|| poll_without_network(black_box(&sealer), black_box(&cookie), black_box(wall)))
    });
    group.finish();
}

criterion_group!(benches, poll);
criterion_main!(benches);
