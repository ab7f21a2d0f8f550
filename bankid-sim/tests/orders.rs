//! Order life on the server's clock, the simulated phone, auto mode and completion data.

mod common;

use std::time::{Duration, Instant};

use bankid_core::{
    AuthRequest, CallInitiator, CollectRequest, CollectResponse, CollectStatus, CompletionData, ErrorCode, Event,
    FailedHintCode, Input, Order, Output, PendingHintCode, PhoneAuthRequest, PhoneSignRequest, Requirement, Risk,
    SignRequest, StartMode,
};
use bankid_sim::{PhoneError, Timings, qr_content};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;
use sha2::{Digest, Sha256};

const IP: &str = "192.0.2.44";

async fn collect(
    conn: &mut Conn,
    cfg: &bankid_core::Config,
    order_ref: &str,
) -> Result<CollectResponse, bankid_core::Error> {
    conn.call(cfg, &CollectRequest::new(order_ref)).await
}

async fn status(conn: &mut Conn, cfg: &bankid_core::Config, order_ref: &str) -> CollectStatus {
    collect(conn, cfg, order_ref).await.expect("collect").status
}

fn pending(h: PendingHintCode) -> CollectStatus {
    CollectStatus::Pending { hint_code: h }
}

fn failed(h: FailedHintCode) -> CollectStatus {
    CollectStatus::Failed { hint_code: h }
}

fn complete(s: CollectStatus) -> CompletionData {
    match s {
        CollectStatus::Complete(d) => *d,
        other => panic!("expected complete, got {other:?}"),
    }
}

#[tokio::test]
async fn qr_scan_then_approve_completes_with_real_looking_data() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn
        .call(
            &cfg,
            &SignRequest::new(IP.parse().unwrap(), "Jag godkänner")
                .user_non_visible_data(b"secret".to_vec())
                .return_risk(true),
        )
        .await
        .unwrap();
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::OutstandingTransaction));
    // Approving before the QR is scanned is refused.
    assert_eq!(sim.approve(&start.order_ref), Err(PhoneError::NotPickedUp));
    let qr = qr_content(&start.qr_start_token, &start.qr_start_secret, 0);
    assert_eq!(sim.scan_qr(&qr).unwrap(), start.order_ref);
    assert_eq!(sim.scan_qr(&qr), Err(PhoneError::AlreadyPickedUp));
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::UserSign));
    sim.approve(&start.order_ref).unwrap();
    let data = complete(status(&mut conn, &cfg, &start.order_ref).await);
    assert_eq!(data.user.personal_number, "198001019994");
    assert_eq!(data.user.name, "Tessa Testsson");
    assert_eq!(data.user.given_name, "Tessa");
    assert_eq!(data.user.surname, "Testsson");
    assert_eq!(data.device.ip_address, IP);
    assert!(data.device.uhi.as_deref().is_some_and(|u| u.len() == 28));
    assert_eq!(data.bank_id_issue_date, "2023-11-29Z");
    assert_eq!(data.risk, Some(Risk::Low));
    assert_eq!(data.step_up, None);
    assert!(!data.ocsp_response_der().unwrap().is_empty());

    // The signature carries exactly the base64 the RP sent, with valid SHA-256 reference digests.
    let info = sim.order(&start.order_ref).unwrap();
    let sent_visible = info.request["userVisibleData"].as_str().unwrap().to_owned();
    let sent_non_visible = info.request["userNonVisibleData"].as_str().unwrap().to_owned();
    assert_eq!(B64.decode(&sent_visible).unwrap(), "Jag godkänner".as_bytes());
    let xml = String::from_utf8(data.signature_xml().unwrap()).unwrap();
    assert!(
        xml.contains(&format!("<usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">{sent_visible}</usrVisibleData>"))
    );
    assert!(xml.contains(&format!("<usrNonVisibleData>{sent_non_visible}</usrNonVisibleData>")));
    assert!(xml.contains("<funcId>Signing</funcId>"));
    let element = |open: &str, close: &str| {
        let i = xml.find(open).unwrap();
        let j = xml[i..].find(close).unwrap() + i + close.len();
        xml[i..j].to_owned()
    };
    let signed_info = element("<SignedInfo", "</SignedInfo>");
    for part in [element("<bankIdSignedData", "</bankIdSignedData>"), element("<KeyInfo", "</KeyInfo>")] {
        let digest = B64.encode(Sha256::digest(part.as_bytes()));
        assert!(signed_info.contains(&format!("<DigestValue>{digest}</DigestValue>")));
    }
    assert!(xml.contains("<SignatureValue>"));
    assert_eq!(xml.matches("<X509Certificate>").count(), 3);
    // BankID: "the order cannot be collected twice".
    assert!(sim.order(&start.order_ref).unwrap().final_status_collected);
    let err = collect(&mut conn, &cfg, &start.order_ref).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InvalidParameters));
    // The order stays in memory for its window (3 minutes after completion), then is gone.
    sim.advance_clock(Duration::from_secs(179));
    assert_eq!(sim.order_count(), 1);
    sim.advance_clock(Duration::from_secs(2));
    assert!(collect(&mut conn, &cfg, &start.order_ref).await.is_err());
    assert_eq!(sim.order_count(), 0, "purged on access");
}

/// The final status is delivered once, within BankID's documented windows: completed orders
/// 3 minutes, failed ones 5 minutes, orders that timed out because nobody picked them up
/// 3 minutes 10 seconds.
#[tokio::test]
async fn a_final_status_is_collected_once_within_its_window() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let refused = |r: Result<CollectResponse, bankid_core::Error>| {
        let err = r.expect_err("a second collect of a final status is refused");
        let bankid_core::Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!(api.code, ErrorCode::InvalidParameters);
        assert!(api.details.starts_with("No such order"), "{}", api.details);
    };

    // Completed: first collect up to 3 min later, then never again.
    let a = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.use_autostart(&a.auto_start_token).unwrap();
    sim.approve(&a.order_ref).unwrap();
    let b = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.use_autostart(&b.auto_start_token).unwrap();
    sim.approve(&b.order_ref).unwrap();
    sim.advance_clock(Duration::from_secs(179));
    assert!(sim.order(&a.order_ref).unwrap().completion_data.is_some());
    complete(status(&mut conn, &cfg, &a.order_ref).await);
    refused(collect(&mut conn, &cfg, &a.order_ref).await);
    // Delivered once: the order keeps its status but no longer its signed data.
    let info = sim.order(&a.order_ref).unwrap();
    assert_eq!((info.status, info.completion_data.is_none()), ("complete", true));
    sim.advance_clock(Duration::from_secs(2));
    assert!(collect(&mut conn, &cfg, &b.order_ref).await.is_err(), "3 minutes passed without a collect");

    // Failed after pickup: 5 minutes.
    let c = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.use_autostart(&c.auto_start_token).unwrap();
    sim.user_cancel(&c.order_ref).unwrap();
    sim.advance_clock(Duration::from_secs(299));
    assert_eq!(status(&mut conn, &cfg, &c.order_ref).await, failed(FailedHintCode::UserCancel));
    refused(collect(&mut conn, &cfg, &c.order_ref).await);
    let d = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.use_autostart(&d.auto_start_token).unwrap();
    sim.user_cancel(&d.order_ref).unwrap();
    sim.advance_clock(Duration::from_secs(301));
    assert!(collect(&mut conn, &cfg, &d.order_ref).await.is_err());

    // Never picked up: startFailed at 30 s, then 3 min 10 s.
    let e = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    let f = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.advance_clock(Duration::from_secs(30 + 189));
    assert_eq!(status(&mut conn, &cfg, &e.order_ref).await, failed(FailedHintCode::StartFailed));
    refused(collect(&mut conn, &cfg, &e.order_ref).await);
    sim.advance_clock(Duration::from_secs(2));
    assert!(collect(&mut conn, &cfg, &f.order_ref).await.is_err());

    // Pending answers are repeated as often as asked.
    let g = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    for _ in 0..3 {
        assert_eq!(status(&mut conn, &cfg, &g.order_ref).await, pending(PendingHintCode::OutstandingTransaction));
    }
}

#[tokio::test]
async fn qr_checks_token_hmac_and_age() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    let (token, secret) = (&start.qr_start_token, &start.qr_start_secret);
    assert_eq!(sim.scan_qr("https://example.com"), Err(PhoneError::InvalidQr));
    assert_eq!(
        sim.scan_qr(&qr_content("67df3917-fa0d-44e5-b327-edcc928297f8", secret, 0)),
        Err(PhoneError::UnknownToken)
    );
    assert_eq!(sim.scan_qr(&qr_content(token, "wrong-secret", 0)), Err(PhoneError::WrongCode));
    // Claims a second that is wrong for its code.
    let code = qr_content(token, secret, 0);
    let forged = code.replacen(".0.", ".1.", 1);
    assert_eq!(sim.scan_qr(&forged), Err(PhoneError::WrongCode));
    // From the future.
    assert!(matches!(sim.scan_qr(&qr_content(token, secret, 9)), Err(PhoneError::QrTime { claimed: 9, .. })));
    // Too old: 10 s later, the code for second 0 is refused, the current one is accepted.
    sim.advance_clock(Duration::from_secs(10));
    assert!(matches!(sim.scan_qr(&code), Err(PhoneError::QrTime { claimed: 0, elapsed: 10 })));
    assert_eq!(sim.current_qr(&start.order_ref).unwrap(), qr_content(token, secret, 10));
    sim.scan_qr(&qr_content(token, secret, 8)).expect("2 s old is fine");
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::UserSign));
}

#[tokio::test]
async fn bankid_cores_qr_codes_are_accepted_by_the_simulated_phone() {
    // The simulator is an independent oracle for bankid-core's QR generator.
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    let t0 = Instant::now();
    let mut order = Order::new(&start, StartMode::Qr, t0);
    let mut seen = Vec::new();
    let mut now = t0;
    let mut user = None;
    let deadline = t0 + Duration::from_secs(20);
    while now < deadline {
        match order.poll_output(now, &cfg) {
            Output::Send { id, request, .. } => {
                let resp = conn.send(request).await.unwrap();
                order.handle_input(Instant::now(), Input::Response(id, resp.map(Vec::from))).unwrap();
            }
            Output::Event(Event::QrChanged(content)) => {
                seen.push(content.clone());
                // The phone scans the third QR code it sees.
                if seen.len() == 3 {
                    sim.scan_qr(&content).expect("core's QR code passes the simulator's check");
                }
            }
            Output::Event(Event::Progress { hint_code: PendingHintCode::UserSign, .. }) => {
                sim.approve(&start.order_ref).unwrap()
            }
            Output::Event(Event::Completed(data)) => user = Some(data.user),
            Output::Event(Event::Progress { .. }) => {}
            Output::Event(other) => panic!("unexpected {other:?}"),
            Output::Wait(until) => tokio::time::sleep_until(until.into()).await,
            Output::Done => break,
        }
        now = Instant::now();
    }
    assert_eq!(user.expect("completed").personal_number, "198001019994");
    assert!(seen.len() >= 3);
    // The core never collects after the final status (which the simulator, like BankID, would
    // refuse: the final status is delivered once).
    assert!(order.is_finished());
    for later in [1, 2, 10, 600] {
        let at = now + Duration::from_secs(later);
        assert!(matches!(order.poll_output(at, &cfg), Output::Done), "{later} s");
    }
    let again = collect(&mut conn, &cfg, &start.order_ref).await.unwrap_err();
    assert_eq!(again.error_code(), Some(&ErrorCode::InvalidParameters));
}

#[tokio::test]
async fn autostart_passes_started_then_user_sign() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn
        .call(&cfg, &AuthRequest::new(IP.parse().unwrap()).requirement(Requirement::new().mrtd(true)))
        .await
        .unwrap();
    assert_eq!(sim.use_autostart("nope"), Err(PhoneError::UnknownToken));
    assert_eq!(sim.use_autostart(&start.qr_start_token), Err(PhoneError::UnknownToken));
    sim.use_autostart(&start.auto_start_token).unwrap();
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::Started));
    assert_eq!(sim.next_step(&start.order_ref).unwrap(), "userMrtd");
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::UserMrtd));
    assert_eq!(sim.next_step(&start.order_ref).unwrap(), "userSign");
    assert_eq!(sim.next_step(&start.order_ref), Err(PhoneError::LastStep));
    sim.approve(&start.order_ref).unwrap();
    let data = complete(status(&mut conn, &cfg, &start.order_ref).await);
    assert_eq!(data.step_up.as_ref().and_then(|s| s.mrtd), Some(true));
    assert_eq!(data.risk, None);
    let xml = String::from_utf8(data.signature_xml().unwrap()).unwrap();
    assert!(xml.contains("<funcId>Identification</funcId>"));
    assert!(!xml.contains("usrVisibleData"));
    assert_eq!(sim.approve(&start.order_ref), Err(PhoneError::NotPending));
}

#[tokio::test]
async fn phone_orders_pass_user_call_confirm_and_complete_with_their_personal_number() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &PhoneSignRequest::new(PNR2, CallInitiator::Rp, "Avtal")).await.unwrap();
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::OutstandingTransaction));
    assert_eq!(sim.open_app(&start.order_ref).unwrap(), "userCallConfirm");
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::UserCallConfirm));
    assert_eq!(sim.next_step(&start.order_ref).unwrap(), "userSign");
    sim.approve(&start.order_ref).unwrap();
    let data = complete(status(&mut conn, &cfg, &start.order_ref).await);
    assert_eq!(data.user.personal_number, PNR2);
    assert_eq!(data.device.ip_address, "192.0.2.10", "phone orders report the phone's address");

    // Declined call.
    let start = conn.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::User)).await.unwrap();
    assert!(matches!(sim.scan_qr("bankid.x.0.0"), Err(PhoneError::InvalidQr)));
    sim.open_app(&start.order_ref).unwrap();
    sim.fail_order(&start.order_ref, "userDeclinedCall").unwrap();
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, failed(FailedHintCode::UserDeclinedCall));
}

#[tokio::test]
async fn start_failed_after_30_seconds_and_failed_orders_live_5_minutes() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.advance_clock(Duration::from_secs(29));
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::OutstandingTransaction));
    sim.advance_clock(Duration::from_secs(2));
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, failed(FailedHintCode::StartFailed));
    assert!(matches!(
        sim.scan_qr(&qr_content(&start.qr_start_token, &start.qr_start_secret, 31)),
        Err(PhoneError::NotPending)
    ));
    assert!(collect(&mut conn, &cfg, &start.order_ref).await.is_err(), "collected once");

    // Picked up but never finished: expiredTransaction (3 min after creation).
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.use_autostart(&start.auto_start_token).unwrap();
    sim.advance_clock(Duration::from_secs(181));
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, failed(FailedHintCode::ExpiredTransaction));
}

/// Phone and other/payment orders are pushed to the user's app: no QR code, no autostart token,
/// so no `startFailed`. They wait for the user until they expire (`expiredTransaction`).
#[tokio::test]
async fn pushed_orders_wait_for_the_user_until_they_expire() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let tx = bankid_core::UserVisibleTransaction::new(bankid_core::TransactionType::Npa, "Shop");
    let refs = [
        conn.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::User)).await.unwrap().order_ref,
        conn.call(&cfg, &PhoneSignRequest::new(PNR2, CallInitiator::Rp, "Avtal")).await.unwrap().order_ref,
        conn.call(&cfg, &bankid_core::OtherPaymentRequest::new("200001010101", tx)).await.unwrap().order_ref,
    ];
    sim.advance_clock(Duration::from_secs(31));
    for r in &refs {
        assert_eq!(
            status(&mut conn, &cfg, r).await,
            pending(PendingHintCode::OutstandingTransaction),
            "no startFailed"
        );
    }
    // Still openable after 30 s: the user opens the first one 2 minutes in.
    sim.advance_clock(Duration::from_secs(90));
    assert_eq!(sim.open_app(&refs[0]).unwrap(), "userCallConfirm");
    sim.advance_clock(Duration::from_secs(60));
    for r in &refs {
        assert_eq!(status(&mut conn, &cfg, r).await, failed(FailedHintCode::ExpiredTransaction));
        assert!(collect(&mut conn, &cfg, r).await.is_err(), "collected once");
    }
}

#[tokio::test]
async fn user_cancel_and_any_hint_code() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let a = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.user_cancel(&a.order_ref).unwrap();
    assert_eq!(status(&mut conn, &cfg, &a.order_ref).await, failed(FailedHintCode::UserCancel));
    let b = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    sim.fail_order(&b.order_ref, "somethingNew2030").unwrap();
    assert_eq!(status(&mut conn, &cfg, &b.order_ref).await, failed(FailedHintCode::Unknown("somethingNew2030".into())));
    assert_eq!(sim.fail_order(&b.order_ref, "certificateErr"), Err(PhoneError::NotPending));
    assert_eq!(sim.fail_order(&b.order_ref, "bad hint!"), Err(PhoneError::InvalidHint));
    assert_eq!(sim.fail_order("nope", "certificateErr"), Err(PhoneError::NoSuchOrder));
}

#[tokio::test]
async fn already_in_progress_cancels_the_first_order() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let first = conn
        .call(&cfg, &AuthRequest::new(IP.parse().unwrap()).requirement(Requirement::new().personal_number(PNR)))
        .await
        .unwrap();
    // Same pno through another endpoint and another RP.
    let mut rp2 = connect(&sim, Some(1)).await;
    let err = rp2.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::User)).await.unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::AlreadyInProgress));
    let bankid_core::Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!(api.details, "Order already in progress for pno");
    assert_eq!(status(&mut conn, &cfg, &first.order_ref).await, failed(FailedHintCode::Cancelled));
    // The first one is no longer pending, so a new order goes through and completes with that pno.
    let third = rp2.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::User)).await.unwrap();
    sim.approve(&third.order_ref).unwrap();
    let data = complete(status(&mut rp2, &cfg, &third.order_ref).await);
    assert_eq!(data.user.personal_number, PNR);
    // Orders without a personal number never conflict.
    for _ in 0..3 {
        conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    }
}

#[tokio::test]
async fn cancel_then_collect_is_no_such_order() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    conn.call(&cfg, &bankid_core::CancelRequest::new(&start.order_ref)).await.unwrap();
    let err = collect(&mut conn, &cfg, &start.order_ref).await.unwrap_err();
    let bankid_core::Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!((api.code.clone(), api.details.as_str()), (ErrorCode::InvalidParameters, "No such order"));
    // Cancelling again is invalidParameters too; the tokens are gone.
    assert!(conn.call(&cfg, &bankid_core::CancelRequest::new(&start.order_ref)).await.is_err());
    assert_eq!(sim.use_autostart(&start.auto_start_token), Err(PhoneError::UnknownToken));
}

#[tokio::test]
async fn auto_mode_scans_and_approves_every_order() {
    let sim = builder().auto_approve(Some(Duration::from_millis(300))).start().await.unwrap();
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    let phone = conn.call(&cfg, &PhoneAuthRequest::new(PNR, CallInitiator::Rp)).await.unwrap();
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::OutstandingTransaction));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(status(&mut conn, &cfg, &start.order_ref).await, pending(PendingHintCode::UserSign));
    assert_eq!(status(&mut conn, &cfg, &phone.order_ref).await, pending(PendingHintCode::UserCallConfirm));
    tokio::time::sleep(Duration::from_millis(300)).await;
    complete(status(&mut conn, &cfg, &start.order_ref).await);
    // With the virtual clock, too.
    sim.advance_clock(Duration::from_secs(1));
    assert_eq!(complete(status(&mut conn, &cfg, &phone.order_ref).await).user.personal_number, PNR);

    // Zero delay: complete at once (load runs).
    let fast = builder().auto_approve(Some(Duration::ZERO)).start().await.unwrap();
    let mut conn = connect(&fast, Some(0)).await;
    let cfg = config(&fast);
    let start = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
    complete(status(&mut conn, &cfg, &start.order_ref).await);
}

#[tokio::test]
async fn finished_orders_are_purged_so_memory_stays_bounded() {
    let mut timings = Timings::default();
    timings.sweep_interval = Duration::from_millis(20);
    let sim = builder().timings(timings).start().await.unwrap();
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let mut refs = Vec::new();
    for _ in 0..2_000 {
        refs.push(conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap().order_ref);
    }
    assert_eq!(sim.order_count(), 2_000);
    for r in refs.iter().take(500) {
        sim.user_cancel(r).unwrap();
    }
    // 30 s: the rest fail with startFailed; 5 min after failing (3 min 10 s for those never
    // picked up), all are purged by the sweeper.
    sim.advance_clock(Duration::from_secs(31));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(sim.order_count(), 2_000, "failed orders stay collectable");
    sim.advance_clock(Duration::from_secs(301)); // past the 5 min and the 3 min 10 s windows
    let t = Instant::now();
    while sim.order_count() > 0 && t.elapsed() < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(sim.order_count(), 0, "the background sweeper purged everything");
}

#[tokio::test]
async fn thousands_of_concurrent_orders_over_many_connections() {
    let sim = sim().await;
    let cfg = config(&sim);
    let mut tasks = Vec::new();
    for c in 0..16 {
        let (sim, cfg) = (sim.handle(), cfg.clone());
        tasks.push(tokio::spawn(async move {
            let mut conn = connect(&sim, Some(c % 2)).await;
            for _ in 0..150 {
                let s = conn.call(&cfg, &AuthRequest::new(IP.parse().unwrap())).await.unwrap();
                conn.call(&cfg, &CollectRequest::new(&s.order_ref)).await.unwrap();
                sim.scan_qr(&sim.current_qr(&s.order_ref).unwrap()).unwrap();
                sim.approve(&s.order_ref).unwrap();
                let r = conn.call(&cfg, &CollectRequest::new(&s.order_ref)).await.unwrap();
                assert!(matches!(r.status, CollectStatus::Complete(_)));
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(sim.order_count(), 16 * 150);
}
