//! The eight scenarios PyBankID's suite asserts against BankID's test server, here against the
//! simulator over real mTLS, with bankid-core building requests and parsing answers.

mod common;

use bankid_core::{
    AuthRequest, CallInitiator, CancelRequest, CollectRequest, CollectStatus, ErrorCode, PendingHintCode,
    PhoneAuthRequest, PhoneSignRequest, Requirement, SignRequest,
};
use common::*;

fn is_waiting(s: &CollectStatus) -> bool {
    matches!(
        s,
        CollectStatus::Pending { hint_code: PendingHintCode::OutstandingTransaction | PendingHintCode::NoClient }
    )
}

fn ip() -> std::net::IpAddr {
    "127.0.0.1".parse().unwrap()
}

#[tokio::test]
async fn auth_with_and_without_personal_number_then_collect_is_pending() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    for req in [AuthRequest::new(ip()), AuthRequest::new(ip()).requirement(Requirement::new().personal_number(PNR))] {
        let start = conn.call(&cfg, &req).await.unwrap();
        let r = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
        assert_eq!(r.order_ref, start.order_ref);
        assert!(is_waiting(&r.status), "{:?}", r.status);
    }
}

#[tokio::test]
async fn sign_with_visible_and_non_visible_data_then_collect_is_pending() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let req = SignRequest::new(ip(), "Text to sign").user_non_visible_data(b"Non visible data".to_vec());
    let start = conn.call(&cfg, &req).await.unwrap();
    let r = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
    assert!(is_waiting(&r.status), "{:?}", r.status);
    let sign = SignRequest::new(ip(), "Text to sign").requirement(Requirement::new().personal_number(PNR2));
    let start = conn.call(&cfg, &sign).await.unwrap();
    let r = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
    assert!(is_waiting(&r.status), "{:?}", r.status);
}

#[tokio::test]
async fn phone_sign_with_user_and_rp_and_phone_auth_with_user() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    for (pnr, who) in [(PNR, CallInitiator::User), (PNR2, CallInitiator::Rp)] {
        let start = conn.call(&cfg, &PhoneSignRequest::new(pnr, who, "Phone text")).await.unwrap();
        let r = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
        assert!(is_waiting(&r.status), "{:?}", r.status);
    }
    let start = conn.call(&cfg, &PhoneAuthRequest::new("190001012384", CallInitiator::User)).await.unwrap();
    let r = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap();
    assert!(is_waiting(&r.status), "{:?}", r.status);
}

#[tokio::test]
async fn collect_of_invalid_uuid_is_invalid_parameters() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let err = conn.call(&config(&sim), &CollectRequest::new("invalid-uuid")).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
}

#[tokio::test]
async fn second_auth_or_sign_for_the_same_personal_number_is_already_in_progress() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let req = || Requirement::new().personal_number(PNR);
    conn.call(&cfg, &AuthRequest::new(ip()).requirement(req())).await.unwrap();
    let err = conn.call(&cfg, &AuthRequest::new(ip()).requirement(req())).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::AlreadyInProgress));

    conn.call(&cfg, &SignRequest::new(ip(), "a").requirement(Requirement::new().personal_number(PNR2))).await.unwrap();
    let err = conn
        .call(&cfg, &SignRequest::new(ip(), "b").requirement(Requirement::new().personal_number(PNR2)))
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::AlreadyInProgress));
}

#[tokio::test]
async fn cancel_answers_empty_and_a_later_collect_is_invalid_parameters() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(ip())).await.unwrap();
    conn.call(&cfg, &CancelRequest::new(&start.order_ref)).await.expect("cancel answers {}");
    let err = conn.call(&cfg, &CollectRequest::new(&start.order_ref)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
}

#[tokio::test]
async fn cancel_of_a_random_uuid_is_invalid_parameters() {
    let sim = sim().await;
    let mut conn = connect(&sim, Some(0)).await;
    let random = uuid::Uuid::new_v4().to_string();
    let err = conn.call(&config(&sim), &CancelRequest::new(random)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
}
