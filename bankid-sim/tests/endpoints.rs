//! Every v6 endpoint: answers, validation with BankID's details strings, HTTP-level errors.

mod common;

use bankid_core::{
    AuthRequest, CallInitiator, CancelRequest, CollectRequest, Money, OtherPaymentRequest, PaymentRequest,
    PhoneAuthRequest, PhoneSignRequest, SignRequest, TransactionType, UserVisibleTransaction,
};
use common::*;
use serde_json::{Value, json};

fn is_uuid(v: &Value) -> bool {
    v.as_str().is_some_and(uuid_like)
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.bytes().filter(|b| *b == b'-').count() == 4
}

#[tokio::test]
async fn start_answers_have_the_documented_shape() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let ip = json!("192.0.2.1");
    for (path, body) in [
        ("auth", json!({"endUserIp": ip})),
        ("sign", json!({"endUserIp": ip, "userVisibleData": "SGVq"})),
        (
            "payment",
            json!({"endUserIp": ip, "userVisibleTransaction": {"transactionType": "card", "recipient": {"name": "Shop"}}}),
        ),
    ] {
        let resp =
            conn.post_raw(&format!("/rp/v6.0/{path}"), Some("application/json"), body.to_string().as_bytes()).await;
        assert_eq!(resp.status(), 200, "{path}");
        assert_eq!(resp.headers()["content-type"], "application/json");
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        for k in ["orderRef", "autoStartToken", "qrStartToken", "qrStartSecret"] {
            assert!(is_uuid(&v[k]), "{path}: {k}");
        }
        assert_eq!(v.as_object().unwrap().len(), 4);
    }
    for (i, (path, body)) in [
        ("phone/auth", json!({"personalNumber": PNR, "callInitiator": "user"})),
        ("phone/sign", json!({"personalNumber": PNR2, "callInitiator": "RP", "userVisibleData": "SGVq"})),
        ("other/payment", json!({"personalNumber": "190001012384", "userVisibleTransaction": {"transactionType": "npa", "recipient": {"name": "Shop"}}})),
    ]
    .into_iter()
    .enumerate()
    {
        let (status, v) = conn.post(&format!("/rp/v6.0/{path}"), &body).await;
        assert_eq!(status, 200, "{path} {i}: {v}");
        assert!(is_uuid(&v["orderRef"]));
        assert_eq!(v.as_object().unwrap().len(), 1, "{path}: only orderRef");
    }
    // cancel answers {}.
    let (_, v) = conn.post("/rp/v6.0/auth", &json!({"endUserIp": ip})).await;
    let resp = conn
        .post_raw(
            "/rp/v6.0/cancel",
            Some("application/json"),
            json!({"orderRef": v["orderRef"]}).to_string().as_bytes(),
        )
        .await;
    assert_eq!(resp.status(), 200);
    assert_eq!(&resp.body()[..], b"{}");
}

#[tokio::test]
async fn bankid_core_requests_for_every_endpoint_are_accepted() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let ip = "192.0.2.1".parse().unwrap();
    let tx = || UserVisibleTransaction::new(TransactionType::Card, "Shop").money(Money::new("100,50", "SEK"));
    let auth = conn.call(&cfg, &AuthRequest::new(ip).user_visible_data("Log in to *Test*")).await.unwrap();
    conn.call(&cfg, &SignRequest::new(ip, "I sign").user_non_visible_data(b"\x00\x01".to_vec())).await.unwrap();
    conn.call(&cfg, &PaymentRequest::new(ip, tx()).user_visible_data("Pay")).await.unwrap();
    conn.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::User)).await.unwrap();
    conn.call(&cfg, &PhoneSignRequest::new(PNR2, CallInitiator::Rp, "Sign on the phone")).await.unwrap();
    conn.call(&cfg, &OtherPaymentRequest::new("190001012384", tx())).await.unwrap();
    conn.call(&cfg, &CollectRequest::new(&auth.order_ref)).await.unwrap();
    conn.call(&cfg, &CancelRequest::new(&auth.order_ref)).await.unwrap();
}

#[tokio::test]
async fn validation_errors_carry_bankids_details() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let tx = json!({"transactionType": "card", "recipient": {"name": "Shop"}});
    let cases: Vec<(&str, Value, &str)> = vec![
        ("auth", json!({}), "Invalid endUserIp"),
        ("auth", json!({"endUserIp": "300.1.1.1"}), "Invalid endUserIp"),
        (
            "auth",
            json!({"endUserIp": "::1", "requirement": {"personalNumber": "19800101999a"}}),
            "Incorrect personalNumber",
        ),
        (
            "auth",
            json!({"endUserIp": "::1", "requirement": {"personalNumber": "19800101999"}}),
            "Incorrect personalNumber",
        ),
        (
            "auth",
            json!({"endUserIp": "::1", "requirement": {"personalNumber": "19800230-9994"}}),
            "Incorrect personalNumber",
        ),
        ("auth", json!({"endUserIp": "::1", "requirement": {"cardReader": "class9"}}), "Invalid requirement"),
        ("auth", json!({"endUserIp": "::1", "requirement": {"pinCode": "true"}}), "Invalid requirement"),
        ("auth", json!({"endUserIp": "::1", "requirement": {"mrtd": 1}}), "Invalid requirement"),
        (
            "auth",
            json!({"endUserIp": "::1", "requirement": {"certificatePolicies": "1.2.3.4.5"}}),
            "Invalid requirement",
        ),
        ("auth", json!({"endUserIp": "::1", "requirement": {"certificatePolicies": [1]}}), "Invalid requirement"),
        ("auth", json!({"endUserIp": "::1", "requirement": {"allowFingerprint": true}}), "Invalid requirement"),
        ("auth", json!({"endUserIp": "::1", "userVisibleData": "åäö"}), "Invalid userVisibleData"),
        ("auth", json!({"endUserIp": "::1", "userVisibleData": "A".repeat(1504)}), "Invalid userVisibleData"),
        ("auth", json!({"endUserIp": "::1", "userNonVisibleData": "***"}), "Invalid userNonVisibleData"),
        ("auth", json!({"endUserIp": "::1", "userNonVisibleData": "A".repeat(1504)}), "Invalid userNonVisibleData"),
        ("sign", json!({"endUserIp": "::1"}), "Invalid userVisibleData"),
        ("sign", json!({"endUserIp": "::1", "userVisibleData": "A".repeat(40_004)}), "Invalid userVisibleData"),
        (
            "sign",
            json!({"endUserIp": "::1", "userVisibleData": "SGVq", "userNonVisibleData": "A".repeat(200_004)}),
            "Invalid userNonVisibleData",
        ),
        ("phone/auth", json!({"personalNumber": PNR, "callInitiator": "rp"}), "Incorrect callInitiator"),
        ("phone/auth", json!({"personalNumber": PNR}), "Incorrect callInitiator"),
        ("phone/auth", json!({"personalNumber": "123", "callInitiator": "user"}), "Incorrect personalNumber"),
        (
            "phone/sign",
            json!({"personalNumber": PNR, "callInitiator": "user", "userVisibleData": "!!"}),
            "Invalid userVisibleData",
        ),
        (
            "payment",
            json!({"endUserIp": "::1", "userVisibleTransaction": {"transactionType": "cash", "recipient": {"name": "x"}}}),
            "transactionType is not a valid transaction type",
        ),
        (
            "payment",
            json!({"endUserIp": "::1", "userVisibleTransaction": {"transactionType": "card", "recipient": {"name": ""}}}),
            "Recipient name is invalid",
        ),
        (
            "payment",
            json!({"endUserIp": "::1", "userVisibleTransaction": {"transactionType": "card", "recipient": {"name": "x"}, "money": {"amount": "100.00", "currency": "SEK"}}}),
            "money has invalid amount or currency",
        ),
        (
            "payment",
            json!({"endUserIp": "::1", "userNonVisibleData": "AAAA", "userVisibleTransaction": tx}),
            "userNonVisible data requires userVisibleData",
        ),
        (
            "other/payment",
            json!({"personalNumber": PNR, "userNonVisibleData": "AAAA", "userVisibleTransaction": tx}),
            "userNonVisible data requires userVisibleData",
        ),
        ("collect", json!({"orderRef": "invalid-uuid"}), "No such order"),
        ("collect", json!({"orderRef": "131daac9-16c6-4618-beb0-365768f37288"}), "No such order"),
        ("cancel", json!({"orderRef": "131daac9-16c6-4618-beb0-365768f37288"}), "No such order"),
        ("collect", json!({}), "Invalid orderRef"),
        ("collect", json!([]), "Invalid JSON: expected an object"),
    ];
    for (path, body, details) in cases {
        let (status, v) = conn.post(&format!("/rp/v6.0/{path}"), &body).await;
        assert_eq!(error_of(status, &v), (400, "invalidParameters".into(), details.into()), "{path} {body:.80}");
    }
    assert_eq!(sim.order_count(), 0, "no order was created by an invalid request");
}

/// BankID's test service accepts personal numbers with a wrong check digit: bankid-cpp's suite,
/// which runs against it, sends these and gets HTTP 200 (spec §2.3, issue 12).
#[tokio::test]
async fn personal_numbers_are_checked_for_form_only_like_bankid() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let tx = json!({"transactionType": "card", "recipient": {"name": "Shop"}, "money": {"amount": "1,00", "currency": "SEK"}});
    let sign_text = "U2lnbiB0aGlz";
    let cases = [
        ("phone/auth", json!({"personalNumber": "200003121145", "callInitiator": "user"})),
        ("phone/sign", json!({"personalNumber": "200003121146", "callInitiator": "RP", "userVisibleData": sign_text})),
        (
            "sign",
            json!({"endUserIp": "::1", "userVisibleData": sign_text, "requirement": {"personalNumber": "200003121147"}}),
        ),
        ("other/payment", json!({"personalNumber": "200001010101", "userVisibleTransaction": tx})),
        ("auth", json!({"endUserIp": "::1", "requirement": {"personalNumber": "199913329999"}})),
    ];
    for (path, body) in cases {
        let (status, v) = conn.post(&format!("/rp/v6.0/{path}"), &body).await;
        assert_eq!(status, 200, "{path}: {v}");
        assert!(v["orderRef"].is_string(), "{path}: {v}");
    }
    // And the order completes for that number.
    let (_, v) =
        conn.post("/rp/v6.0/phone/auth", &json!({"personalNumber": "200003121148", "callInitiator": "user"})).await;
    let order_ref = v["orderRef"].as_str().unwrap().to_owned();
    sim.approve(&order_ref).unwrap();
    let (_, v) = conn.post("/rp/v6.0/collect", &json!({"orderRef": order_ref})).await;
    assert_eq!(v["completionData"]["user"]["personalNumber"], "200003121148");
}

#[tokio::test]
async fn http_level_errors() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    // Not JSON.
    let resp = conn.post_raw("/rp/v6.0/auth", Some("application/json"), b"endUserIp=1.2.3.4").await;
    assert_eq!(resp.status(), 400);
    let v: Value = serde_json::from_slice(resp.body()).unwrap();
    assert_eq!(v["errorCode"], "invalidParameters");
    let resp = conn.post_raw("/rp/v6.0/collect", Some("application/json"), b"").await;
    assert_eq!(resp.status(), 400);
    // 415: missing content type, a charset, another type.
    for ct in [
        None,
        Some("application/json; charset=utf-8"),
        Some("application/json;charset=UTF-8"),
        Some("text/plain"),
        Some("application/json; x=y"),
    ] {
        let resp = conn.post_raw("/rp/v6.0/auth", ct, br#"{"endUserIp":"1.2.3.4"}"#).await;
        assert_eq!(resp.status(), 415, "{ct:?}");
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(v["errorCode"], "unsupportedMediaType");
        if ct.is_some_and(|c| c.contains("charset")) {
            assert!(v["details"].as_str().unwrap().contains("'charset' parameter"));
        }
    }
    // 405 for anything but POST (BankID's own health check is a GET expecting 405).
    for method in ["GET", "PUT", "DELETE", "PATCH"] {
        let req = http::Request::builder().method(method).uri("/rp/v6.0/auth").body(Vec::new()).unwrap();
        let resp = conn.send(req).await.unwrap();
        assert_eq!(resp.status(), 405, "{method}");
        assert_eq!(resp.headers()["allow"], "POST");
        let v: Value = serde_json::from_slice(resp.body()).unwrap();
        assert_eq!(v["errorCode"], "methodNotAllowed");
    }
    // 404 for unknown paths.
    for path in ["/rp/v6.0/phone/payment", "/rp/v5.1/auth", "/", "/rp/v6.0/auth/"] {
        let (status, v) = conn.post(path, &json!({"endUserIp": "1.2.3.4"})).await;
        assert_eq!(error_of(status, &v).1, "notFound", "{path}");
        assert_eq!(status, 404);
    }
    // The connection is still usable after all of that (keep-alive through errors).
    let (status, _) = conn.post("/rp/v6.0/auth", &json!({"endUserIp": "1.2.3.4"})).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn hostile_input_never_breaks_the_server() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let big = vec![b'a'; 600 * 1024];
    let bodies: Vec<Vec<u8>> = vec![
        deep.into_bytes(),
        b"\xff\xfe\x00".to_vec(),
        b"null".to_vec(),
        b"\"string\"".to_vec(),
        br#"{"endUserIp":null,"requirement":null}"#.to_vec(),
        br#"{"endUserIp":"1.2.3.4","requirement":{"certificatePolicies":["1.2.3.4.5",null]}}"#.to_vec(),
        br#"{"orderRef":"\u0000"}"#.to_vec(),
        big,
    ];
    for path in [
        "/rp/v6.0/auth",
        "/rp/v6.0/sign",
        "/rp/v6.0/payment",
        "/rp/v6.0/phone/auth",
        "/rp/v6.0/other/payment",
        "/rp/v6.0/collect",
        "/rp/v6.0/cancel",
    ] {
        for body in &bodies[..7] {
            let resp = conn.post_raw(path, Some("application/json"), body).await;
            assert_eq!(resp.status(), 400, "{path}");
        }
        // A body over the limit is refused unread (its Content-Length says enough), and the
        // connection closed rather than drained: a new one is needed.
        let mut once = connect(&sim, Some(0)).await;
        let resp = once.post_raw(path, Some("application/json"), &bodies[7]).await;
        assert_eq!(resp.status(), 400, "{path}");
        assert_eq!(error_of(400, &serde_json::from_slice(resp.body()).unwrap()).2, "Too big content");
    }
    for path in
        ["/sim/scan-qr", "/sim/approve", "/sim/fail-order", "/sim/add-fault", "/sim/advance-clock", "/sim/order"]
    {
        for body in &bodies[..7] {
            let resp = conn.post_raw(path, Some("application/json"), body).await;
            assert_eq!(resp.status(), 400, "{path}");
        }
    }
    let (status, _) = conn.post("/rp/v6.0/auth", &json!({"endUserIp": "1.2.3.4"})).await;
    assert_eq!(status, 200);
}
