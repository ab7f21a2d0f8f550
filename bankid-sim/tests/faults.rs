//! Faults per run and per order, and the `/sim/` control endpoints over HTTP.

mod common;

use std::time::{Duration, Instant};

use bankid_core::{AuthRequest, CollectRequest, ErrorCode, Operation, UnexpectedKind};
use bankid_sim::{Endpoint, Fault, FaultRule, qr_content};
use common::*;
use serde_json::json;

fn ip() -> std::net::IpAddr {
    "127.0.0.1".parse().unwrap()
}

#[tokio::test]
async fn maintenance_n_times_then_recover() {
    let sim = builder().fault(FaultRule::new(Fault::Maintenance).times(2)).start().await.unwrap();
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    for _ in 0..2 {
        let err = conn.call(&cfg, &AuthRequest::new(ip())).await.unwrap_err();
        assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance));
        assert!(err.is_retryable(bankid_core::Endpoint::Auth));
    }
    conn.call(&cfg, &AuthRequest::new(ip())).await.expect("recovered");
}

#[tokio::test]
async fn faults_target_an_endpoint() {
    let sim = builder().fault(FaultRule::new(Fault::InternalError).on(Endpoint::Collect)).start().await.unwrap();
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(ip())).await.expect("auth is not affected");
    for _ in 0..3 {
        let err = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap_err();
        assert_eq!(err.error_code(), Some(&ErrorCode::InternalError));
    }
    sim.clear_faults();
    conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
}

#[tokio::test]
async fn every_kind_of_fault() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let req = || AuthRequest::new(ip()).to_http(&config(&sim)).unwrap();

    sim.add_fault(FaultRule::new(Fault::RequestTimeout).times(1));
    let err = AuthRequest::parse(conn.send(req()).await.unwrap()).unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::RequestTimeout));

    sim.add_fault(FaultRule::new(Fault::Html { status: 502 }).times(1));
    let resp = conn.send(req()).await.unwrap();
    assert_eq!(resp.status(), 502);
    assert_eq!(resp.headers()["content-type"], "text/html");
    assert!(String::from_utf8_lossy(resp.body()).contains("<h1>Bad Gateway</h1>"));
    let err = AuthRequest::parse(resp).unwrap_err();
    assert!(matches!(err, bankid_core::Error::UnexpectedResponse(_) | bankid_core::Error::Api(_)), "{err:?}");

    sim.add_fault(FaultRule::new(Fault::Html { status: 503 }).times(1));
    let resp = conn.send(req()).await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (503, "text/html"));
    assert!(String::from_utf8_lossy(resp.body()).contains("<title>503 Service Unavailable</title>"));
    let err = AuthRequest::parse(resp).unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance), "core infers maintenance from the status");

    // A status no error page has is answered as 502 instead of failing.
    sim.add_fault(FaultRule::new(Fault::Html { status: 1000 }).times(1));
    assert_eq!(conn.send(req()).await.unwrap().status(), 502);

    sim.add_fault(FaultRule::new(Fault::MalformedJson).times(1));
    let resp = conn.send(req()).await.unwrap();
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (200, "application/json"));
    assert_eq!(resp.headers()["content-length"], resp.body().len().to_string().as_str());
    assert!(resp.body().starts_with(b"{\"orderRef\": "));
    assert!(serde_json::from_slice::<serde_json::Value>(resp.body()).is_err());
    let err = AuthRequest::parse(resp).unwrap_err();
    let bankid_core::Error::UnexpectedResponse(u) = &err else { panic!("{err:?}") };
    assert!(matches!(u.kind, UnexpectedKind::Body(_)), "{u:?}");

    for size in [0, 13, 14, 15, bankid_core::MAX_RESPONSE_BODY + 1] {
        sim.add_fault(FaultRule::new(Fault::Oversized(size)).times(1));
        let resp = conn.send(req()).await.unwrap();
        assert_eq!(
            (resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()),
            (200, "application/json")
        );
        assert_eq!(resp.headers()["content-length"], size.to_string().as_str());
        assert_eq!(resp.body().len(), size);
        if size >= 14 {
            let v: serde_json::Value = serde_json::from_slice(resp.body()).expect("a JSON object");
            assert_eq!(v["padding"].as_str().map(str::len), Some(size - 14));
        }
    }

    sim.add_fault(FaultRule::new(Fault::WrongContentType).times(1));
    let resp = conn.send(req()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "text/plain");
    let err = AuthRequest::parse(resp).unwrap_err();
    let bankid_core::Error::UnexpectedResponse(u) = &err else { panic!("{err:?}") };
    assert_eq!(u.kind, UnexpectedKind::ContentType);

    sim.add_fault(FaultRule::new(Fault::Redirect("https://example.com/elsewhere".into())).times(1));
    let resp = conn.send(req()).await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "https://example.com/elsewhere");
    assert!(AuthRequest::parse(resp).is_err());

    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(300))).times(1));
    let t = Instant::now();
    conn.call(&cfg, &AuthRequest::new(ip())).await.expect("a delay, then a normal answer");
    assert!(t.elapsed() >= Duration::from_millis(300));

    sim.add_fault(FaultRule::new(Fault::Truncate).times(1));
    assert!(conn.send(req()).await.is_err(), "truncated body is an error for the client");
    let mut conn = connect(&sim, Some(0)).await;

    sim.add_fault(FaultRule::new(Fault::Drop).times(1));
    assert!(conn.send(req()).await.is_err(), "no answer at all");
    let mut conn = connect(&sim, Some(0)).await;
    conn.call(&cfg, &AuthRequest::new(ip())).await.expect("the server is fine afterwards");
}

#[tokio::test]
async fn per_order_faults_hit_only_that_order() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let a = conn.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let b = conn.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    sim.inject_fault(&a.order_ref, Fault::Maintenance, 2).unwrap();
    for _ in 0..2 {
        let err = conn.call(&cfg, &CollectRequest::new(&a.order_ref)).await.unwrap_err();
        assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance));
        conn.call(&cfg, &CollectRequest::new(&b.order_ref)).await.expect("other orders unaffected");
    }
    conn.call(&cfg, &CollectRequest::new(&a.order_ref)).await.expect("recovered");
    // Another RP's requests do not consume the fault.
    sim.inject_fault(&a.order_ref, Fault::InternalError, 1).unwrap();
    let mut rp2 = connect(&sim, Some(1)).await;
    let err = rp2.call(&cfg, &CollectRequest::new(&a.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
    let err = conn.call(&cfg, &CollectRequest::new(&a.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InternalError));
    // A per-order drop.
    sim.inject_fault(&a.order_ref, Fault::Drop, 1).unwrap();
    let req = CollectRequest::new(&a.order_ref).to_http(&cfg).unwrap();
    assert!(conn.send(req).await.is_err());
    assert!(sim.inject_fault("no-such-order", Fault::Drop, 1).is_err());
}

#[tokio::test]
async fn the_sim_http_endpoints_drive_the_phone() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut rp = connect(&sim, Some(0)).await;
    // The phone needs a client certificate of this simulator's RP CA: any RP's will do.
    let mut phone = connect(&sim, Some(1)).await;
    let start = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let r = json!({"orderRef": start.order_ref});

    let (s, v) = phone.post("/sim/current-qr", &r).await;
    assert_eq!(s, 200);
    let qr = v["qr"].as_str().unwrap().to_owned();
    assert!(qr.starts_with(&format!("bankid.{}.", start.qr_start_token)));
    let (s, v) = phone.post("/sim/scan-qr", &json!({"qr": "bankid.nope"})).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "not a BankID QR code"));
    let (s, v) = phone.post("/sim/scan-qr", &json!({"qr": qr})).await;
    assert_eq!((s, v["orderRef"].as_str().unwrap()), (200, start.order_ref.as_str()));
    let (s, v) = phone.post("/sim/order", &r).await;
    assert_eq!((s, v["hintCode"].as_str().unwrap()), (200, "userSign"));
    assert_eq!(v["request"]["endUserIp"], "127.0.0.1");
    let (s, _) = phone.post("/sim/approve", &r).await;
    assert_eq!(s, 200);
    let (_, v) = phone.post("/sim/order", &r).await;
    assert_eq!(v["status"], "complete");
    assert_eq!(v["completionData"]["user"]["personalNumber"], "198001019994");

    // autostart, advance, fail, cancel.
    let start = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let r = json!({"orderRef": start.order_ref});
    let (s, _) = phone.post("/sim/use-autostart", &json!({"autoStartToken": start.auto_start_token})).await;
    assert_eq!(s, 200);
    let (_, v) = phone.post("/sim/next-step", &r).await;
    assert_eq!(v["hintCode"], "userSign");
    let (s, _) =
        phone.post("/sim/fail-order", &json!({"orderRef": start.order_ref, "hintCode": "certificateErr"})).await;
    assert_eq!(s, 200);
    let (_, v) = phone.post("/sim/order", &r).await;
    assert_eq!((v["status"].as_str(), v["hintCode"].as_str()), (Some("failed"), Some("certificateErr")));
    let start = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let (s, _) = phone.post("/sim/user-cancel", &json!({"orderRef": start.order_ref})).await;
    assert_eq!(s, 200);
    let (_, v) = phone.post("/sim/order", &json!({"orderRef": start.order_ref})).await;
    assert_eq!(v["hintCode"], "userCancel");

    // Phone orders: open.
    let p = rp.call(&cfg, &bankid_core::PhoneAuthRequest::new(PNR, bankid_core::CallInitiator::Rp)).await.unwrap();
    let (_, v) = phone.post("/sim/open-app", &json!({"orderRef": p.order_ref})).await;
    assert_eq!(v["hintCode"], "userCallConfirm");

    // Faults over HTTP: per order, and per run on one endpoint.
    let start = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let (s, _) = phone
        .post("/sim/inject-fault", &json!({"fault": "maintenance", "times": 1, "orderRef": start.order_ref}))
        .await;
    assert_eq!(s, 200);
    let err = rp.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "internalError", "endpoint": "auth", "times": 1})).await;
    assert_eq!(s, 200);
    let err = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InternalError));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "html", "times": 1})).await;
    assert_eq!(s, 200);
    let resp = rp.post_raw("/rp/v6.0/auth", Some("application/json"), br#"{"endUserIp":"127.0.0.1"}"#).await;
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (502, "text/html"));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "html", "status": 503, "times": 1})).await;
    assert_eq!(s, 200);
    let resp = rp.post_raw("/rp/v6.0/auth", Some("application/json"), br#"{"endUserIp":"127.0.0.1"}"#).await;
    assert_eq!((resp.status().as_u16(), resp.headers()["content-type"].to_str().unwrap()), (503, "text/html"));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "malformedJson", "endpoint": "auth", "times": 1})).await;
    assert_eq!(s, 200);
    let err = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap_err();
    assert!(matches!(&err, bankid_core::Error::UnexpectedResponse(u) if matches!(u.kind, UnexpectedKind::Body(_))));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "oversized", "bytes": 100, "times": 1})).await;
    assert_eq!(s, 200);
    let resp = rp.post_raw("/rp/v6.0/auth", Some("application/json"), br#"{"endUserIp":"127.0.0.1"}"#).await;
    assert_eq!((resp.status().as_u16(), resp.body().len()), (200, 100));
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "oversized", "times": 1})).await;
    assert_eq!(s, 200);
    let resp = rp.post_raw("/rp/v6.0/auth", Some("application/json"), br#"{"endUserIp":"127.0.0.1"}"#).await;
    assert_eq!(resp.body().len(), Fault::DEFAULT_OVERSIZED);
    for (bad, error) in [
        (json!({"fault": "html", "status": 99}), "\"status\" must be an HTTP status from 200 to 599"),
        (json!({"fault": "html", "status": "503"}), "\"status\" must be an HTTP status from 200 to 599"),
        (json!({"fault": "oversized", "bytes": -1}), "\"bytes\" must be a number of bytes up to 67108864"),
        (json!({"fault": "oversized", "bytes": 67_108_865}), "\"bytes\" must be a number of bytes up to 67108864"),
    ] {
        let (s, v) = phone.post("/sim/add-fault", &bad).await;
        assert_eq!((s, v["error"].as_str().unwrap()), (400, error), "{bad}");
    }
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "html"})).await;
    assert_eq!(s, 200);
    assert!(rp.call(&cfg, &AuthRequest::new(ip())).await.is_err());
    let (s, _) = phone.post("/sim/clear-faults", &json!({})).await;
    assert_eq!(s, 200);
    rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let (s, v) = phone.post("/sim/add-fault", &json!({"fault": "explode"})).await;
    assert_eq!((s, v["error"].as_str().unwrap()), (400, "unknown fault"));

    // The clock, and status.
    let start = rp.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let (s, _) = phone.post("/sim/advance-clock", &json!({"advanceMs": 31_000})).await;
    assert_eq!(s, 200);
    let (_, v) = phone.post("/sim/order", &json!({"orderRef": start.order_ref})).await;
    assert_eq!(v["hintCode"], "startFailed");
    let stale = qr_content(&start.qr_start_token, &start.qr_start_secret, 31);
    let (s, _) = phone.post("/sim/scan-qr", &json!({"qr": stale})).await;
    assert_eq!(s, 400);
    let (s, v) = phone.post("/sim/status", &json!({})).await;
    assert_eq!(s, 200);
    assert!(v["orders"].as_u64().unwrap() >= 5);
    assert_eq!(v["connections"].as_u64(), Some(2), "the RP's and the phone's");
    let (s, _) = phone.post("/sim/nope", &json!({})).await;
    assert_eq!(s, 404);
    let req = http::Request::builder().method("GET").uri("/sim/status").body(Vec::new()).unwrap();
    assert_eq!(phone.send(req).await.unwrap().status(), 405);
}

#[tokio::test]
async fn foreign_order_ref_answers_with_another_orders_completion() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let a = conn.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    let asked = json!({"orderRef": a.order_ref});
    let foreign = bankid_sim::TestPerson::foreign();

    // Per order, once: a complete answer naming another order and another person.
    sim.inject_fault(&a.order_ref, Fault::ForeignOrderRef, 1).unwrap();
    let (s, v) = conn.post("/rp/v6.0/collect", &asked).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("complete")));
    let other = v["orderRef"].as_str().expect("an orderRef").to_owned();
    assert_ne!(other, a.order_ref);
    assert!(sim.order(&other).is_none(), "a reference no order of this simulator has");
    let user = &v["completionData"]["user"];
    assert_eq!(user["personalNumber"], foreign.personal_number.as_str());
    assert_ne!(user["personalNumber"], PNR);
    assert_eq!(user["name"], "Fredrik Främling");
    assert!(v["completionData"]["signature"].as_str().is_some_and(|s| !s.is_empty()));
    assert!(v["completionData"]["ocspResponse"].as_str().is_some_and(|s| !s.is_empty()));
    // The order asked about is untouched and answers for itself again.
    let (s, v) = conn.post("/rp/v6.0/collect", &asked).await;
    assert_eq!((s, v["orderRef"].as_str(), v["status"].as_str()), (200, Some(a.order_ref.as_str()), Some("pending")));
    assert_eq!(sim.order(&a.order_ref).unwrap().status, "pending");

    // Per run over /sim/, on every endpoint: start and cancel answers name no other order and
    // are answered normally; every collect gets a different foreign reference.
    let mut phone = connect(&sim, Some(1)).await;
    let (s, _) = phone.post("/sim/add-fault", &json!({"fault": "foreignOrderRef"})).await;
    assert_eq!(s, 200);
    let b = conn.call(&cfg, &AuthRequest::new(ip())).await.expect("auth answered normally");
    let (_, v1) = conn.post("/rp/v6.0/collect", &json!({"orderRef": b.order_ref})).await;
    let (_, v2) = conn.post("/rp/v6.0/collect", &json!({"orderRef": b.order_ref})).await;
    for v in [&v1, &v2] {
        assert_eq!(v["status"], "complete");
        assert_ne!(v["orderRef"].as_str(), Some(b.order_ref.as_str()));
    }
    assert_ne!(v1["orderRef"], v2["orderRef"]);
    let (s, v) = conn.post("/rp/v6.0/cancel", &json!({"orderRef": b.order_ref})).await;
    assert_eq!((s, v), (200, json!({})));
    assert!(sim.order(&b.order_ref).is_none(), "the cancel was carried out");
}
