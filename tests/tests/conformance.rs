//! The conformance suite: every scenario is written once, generic over [`Transport`], and run
//! against bankid-blocking, bankid-reqwest and bankid-hyper (see the `suite!` call at the end),
//! each talking to an in-process bankid-sim over mutual TLS on loopback.
#![allow(missing_docs)]

use std::net::{IpAddr, TcpListener};
use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use bankid_conformance::{
    AsyncTransport, Blocking, Hyper, REQUEST_TIMEOUT, Reqwest, Sim, Transport, order, phone_order,
};
use bankid_core::{
    AuthRequest, CallInitiator, CancelReason, CancelRequest, CollectRequest, CollectStatus, CompletionData, Config,
    Error, ErrorCode, Event, FailedHintCode, MAX_RESPONSE_BODY, Money, OtherPaymentRequest, PaymentRequest,
    PendingHintCode, PhoneAuthRequest, PhoneSignRequest, Rfa, Roots, SignRequest, StartMode, TransactionType,
    TransportErrorKind, UnexpectedKind, UserVisibleTransaction,
};
use bankid_sim::{Endpoint, Fault, FaultRule, Simulator};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// The simulator's default test person.
const PNR: &str = "198001019994";

fn ip() -> IpAddr {
    IpAddr::from([192, 0, 2, 10])
}

fn api_error<T: std::fmt::Debug>(result: Result<T, Error>) -> bankid_core::ApiError {
    match result {
        Err(Error::Api(error)) => error,
        other => panic!("expected a BankID error, got {other:?}"),
    }
}

fn transport_kind<T: std::fmt::Debug>(result: Result<T, Error>) -> TransportErrorKind {
    match result {
        Err(Error::Transport(error)) => error.kind(),
        other => panic!("expected a transport error, got {other:?}"),
    }
}

fn unexpected<T: std::fmt::Debug>(result: Result<T, Error>) -> bankid_core::UnexpectedResponse {
    match result {
        Err(Error::UnexpectedResponse(error)) => error,
        other => panic!("expected an unexpected response, got {other:?}"),
    }
}

fn completed(end: Event) -> Box<CompletionData> {
    match end {
        Event::Completed(data) => data,
        other => panic!("expected completion, got {other:?}"),
    }
}

/// The base64 text between `<tag ...>` and `</tag>` in the signature XML, decoded.
fn signed(data: &CompletionData, tag: &str) -> Vec<u8> {
    let xml = String::from_utf8(data.signature_xml().expect("base64 signature")).expect("UTF-8 XML");
    let start = xml.find(&format!("<{tag}")).unwrap_or_else(|| panic!("no <{tag}> in the signature"));
    let content = &xml[start..];
    let content =
        &content[content.find('>').expect("end of tag") + 1..content.find(&format!("</{tag}>")).expect("end")];
    BASE64.decode(content).expect("base64 content")
}

fn all_events(log: &mut Vec<String>) -> impl FnMut(&Event) -> ControlFlow<()> + '_ {
    |event| {
        log.push(format!("{event:?}"));
        ControlFlow::Continue(())
    }
}

// ---- flows ----

/// The RP shows the animated QR code; the simulated phone scans the second one (the simulator
/// checks its HMAC and age), the user approves when asked to sign.
fn auth_qr_scanned_by_phone_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip()).user_visible_data("Log in to Example")).unwrap();
    let (mut qr_codes, mut progress) = (Vec::<String>::new(), Vec::new());
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        match event {
            Event::QrChanged(content) => {
                qr_codes.push(content.clone());
                if qr_codes.len() == 2 {
                    assert_eq!(sim.scan_qr(content).expect("the simulator accepts the QR code"), start.order_ref);
                }
            }
            Event::Progress { hint_code, message } => {
                progress.push((hint_code.clone(), *message));
                if *hint_code == PendingHintCode::UserSign {
                    sim.approve(&start.order_ref).unwrap();
                }
            }
            other => assert!(other.is_final(), "{other:?}"),
        }
        ControlFlow::Continue(())
    });
    let data = completed(end);
    assert_eq!(data.user.personal_number, PNR);
    assert_eq!(data.user.given_name, "Tessa");
    assert_eq!(
        progress,
        [(PendingHintCode::OutstandingTransaction, Rfa::Rfa1), (PendingHintCode::UserSign, Rfa::Rfa9)]
    );
    // Every QR code shown is the simulator's own for its second, one per second from 0.
    let seconds: Vec<u64> = qr_codes
        .iter()
        .map(|content| {
            let second = content.split('.').nth(2).and_then(|s| s.parse().ok()).expect("seconds");
            assert_eq!(content, &bankid_sim::qr_content(&start.qr_start_token, &start.qr_start_secret, second));
            second
        })
        .collect();
    // The scan happens at second 1; a collect already due at that moment may still see
    // `outstandingTransaction`, and then the QR code of second 2 is shown too.
    assert!(seconds == [0, 1] || seconds == [0, 1, 2], "{seconds:?}");
}

/// The app is started with the autostart token: no QR code, `started` then completion.
fn autostart_flow_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    let order = order(&start, StartMode::AutoStart);
    assert_eq!(order.auto_start_token(), Some(start.auto_start_token.as_str()));
    sim.use_autostart(&start.auto_start_token).unwrap();
    let mut progress = Vec::new();
    let end = client.wait(order, &mut |event| {
        match event {
            Event::QrChanged(_) => panic!("no QR code in autostart mode"),
            Event::Progress { hint_code, message } => {
                progress.push((hint_code.clone(), *message));
                sim.approve(&start.order_ref).unwrap();
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    assert_eq!(progress, [(PendingHintCode::Started, Rfa::Rfa15A)]);
}

/// Sign with the largest texts BankID allows: the signature carries exactly that data, and
/// the answer (about 350 kB) fits under the transports' body cap.
fn sign_carries_visible_and_non_visible_data<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let visible = "I agree to the terms of the contract. ".repeat(30_000 / 38);
    let non_visible: Vec<u8> = (0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let request = SignRequest::new(ip(), visible.clone()).user_non_visible_data(non_visible.clone());
    let start = client.send(&request).unwrap();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        if let Event::QrChanged(content) = event {
            sim.scan_qr(content).unwrap();
            sim.approve(&start.order_ref).unwrap();
        }
        ControlFlow::Continue(())
    });
    let data = completed(end);
    assert_eq!(signed(&data, "usrVisibleData"), visible.as_bytes());
    assert_eq!(signed(&data, "usrNonVisibleData"), non_visible);
    assert!(data.signature.len() > 250_000 && data.signature.len() < MAX_RESPONSE_BODY / 2);
}

/// Identification over the phone: the user opens the app, confirms the call, approves.
fn phone_auth_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&PhoneAuthRequest::new(PNR, CallInitiator::Rp)).unwrap();
    let mut hints = Vec::new();
    let end = client.wait(phone_order(&start), &mut |event| {
        match event {
            Event::QrChanged(_) => panic!("no QR code for phone orders"),
            Event::Progress { hint_code, .. } if *hint_code == PendingHintCode::OutstandingTransaction => {
                hints.push(hint_code.clone());
                assert_eq!(sim.open_app(&start.order_ref).unwrap(), "userCallConfirm");
            }
            Event::Progress { hint_code, .. } => {
                hints.push(hint_code.clone());
                sim.approve(&start.order_ref).unwrap();
            }
            _ => {}
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    assert_eq!(hints, [PendingHintCode::OutstandingTransaction, PendingHintCode::UserCallConfirm]);
}

/// Signing over the phone: the signature carries the texts.
fn phone_sign_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let request =
        PhoneSignRequest::new(PNR, CallInitiator::User, "Approve the new terms").user_non_visible_data(*b"case-4711");
    let start = client.send(&request).unwrap();
    sim.approve(&start.order_ref).unwrap();
    let data = completed(client.wait(phone_order(&start), &mut |_| ControlFlow::Continue(())));
    assert_eq!(data.user.personal_number, PNR);
    assert_eq!(signed(&data, "usrVisibleData"), b"Approve the new terms");
    assert_eq!(signed(&data, "usrNonVisibleData"), b"case-4711");
}

fn transaction() -> UserVisibleTransaction {
    UserVisibleTransaction::new(TransactionType::Card, "Example Shop").money(Money::new("100,00", "SEK"))
}

/// A payment shown as a QR code; the server got the transaction as sent.
fn payment_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&PaymentRequest::new(ip(), transaction())).unwrap();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        if let Event::QrChanged(content) = event {
            sim.scan_qr(content).unwrap();
            sim.approve(&start.order_ref).unwrap();
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    let sent = sim.order(&start.order_ref).expect("order").request;
    assert_eq!(sent["userVisibleTransaction"]["recipient"]["name"], "Example Shop");
    assert_eq!(sent["userVisibleTransaction"]["money"]["amount"], "100,00");
}

/// A payment approved on another device.
fn other_payment_completes<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&OtherPaymentRequest::new(PNR, transaction())).unwrap();
    let end = client.wait(phone_order(&start), &mut |event| {
        if let Event::Progress { .. } = event {
            sim.approve(&start.order_ref).unwrap();
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    assert_eq!(sim.order(&start.order_ref).expect("order").request["personalNumber"], PNR);
}

// ---- endings ----

/// The caller stops waiting: the order is cancelled at the server.
fn caller_cancels_mid_flow<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| match event {
        Event::Progress { .. } => ControlFlow::Break(()),
        _ => ControlFlow::Continue(()),
    });
    assert!(matches!(end, Event::Cancelled { reason: CancelReason::Caller, error: None }), "{end:?}");
    assert!(sim.order(&start.order_ref).is_none(), "the order is gone at the server");
    assert_eq!(api_error(client.send(&CollectRequest::new(&start.order_ref))).code, ErrorCode::InvalidParameters);
}

/// The user cancels in the app.
fn user_cancels<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        if let Event::QrChanged(content) = event {
            sim.scan_qr(content).unwrap();
            sim.user_cancel(&start.order_ref).unwrap();
        }
        ControlFlow::Continue(())
    });
    assert!(matches!(end, Event::Failed { hint_code: FailedHintCode::UserCancel, message: Rfa::Rfa6 }), "{end:?}");
}

/// Nobody scans the QR code for 30 s (on the simulator's clock).
fn start_failed<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.advance_clock(Duration::from_secs(31));
    let end = client.wait(order(&start, StartMode::Qr), &mut |_| ControlFlow::Continue(()));
    assert!(matches!(end, Event::Failed { hint_code: FailedHintCode::StartFailed, message: Rfa::Rfa17B }), "{end:?}");
}

/// The user picks the order up and never finishes it.
fn expired_transaction<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        if let Event::QrChanged(content) = event {
            sim.scan_qr(content).unwrap();
            sim.advance_clock(Duration::from_secs(181));
        }
        ControlFlow::Continue(())
    });
    assert!(
        matches!(end, Event::Failed { hint_code: FailedHintCode::ExpiredTransaction, message: Rfa::Rfa8 }),
        "{end:?}"
    );
}

// ---- BankID's error answers ----

/// A second order for the same person: `alreadyInProgress`, and the first one is cancelled.
fn already_in_progress<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let first = client.send(&PhoneAuthRequest::new(PNR, CallInitiator::User)).unwrap();
    let error = api_error(client.send(&PhoneAuthRequest::new(PNR, CallInitiator::User)));
    assert_eq!((&error.code, error.status.as_u16()), (&ErrorCode::AlreadyInProgress, 400));
    assert_eq!(Error::Api(error).user_message(), Rfa::Rfa4);
    let collect = client.send(&CollectRequest::new(&first.order_ref)).unwrap();
    assert_eq!(collect.status, CollectStatus::Failed { hint_code: FailedHintCode::Cancelled });
}

/// An order reference the server does not know.
fn invalid_parameters<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let unknown = "131daac9-16c6-4618-beb0-365768f37288";
    for error in [
        api_error(client.send(&CollectRequest::new(unknown))),
        api_error(client.send(&CancelRequest::new(unknown)).map(drop)),
    ] {
        assert_eq!((error.code, error.status.as_u16()), (ErrorCode::InvalidParameters, 400));
        assert!(!error.details.is_empty());
    }
}

/// An approved order whose next collects get `maintenance` twice: retried, the caller sees
/// success. A start request that gets `maintenance` is not retried by the transport.
fn maintenance_twice_then_success<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Maintenance).on(Endpoint::Auth).times(1));
    assert_eq!(api_error(client.send(&AuthRequest::new(ip()))).code, ErrorCode::Maintenance);
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.use_autostart(&start.auto_start_token).unwrap();
    sim.approve(&start.order_ref).unwrap();
    sim.inject_fault(&start.order_ref, Fault::Maintenance, 2).unwrap();
    let mut retries = Vec::new();
    let end = client.wait(order(&start, StartMode::AutoStart), &mut |event| {
        if let Event::Retrying { attempt, error, .. } = event {
            retries.push((*attempt, error.error_code().cloned()));
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    assert_eq!(retries, [(1, Some(ErrorCode::Maintenance)), (2, Some(ErrorCode::Maintenance))]);
}

/// `internalError` on collect ends the order at once, without a retry.
fn internal_error_not_retried<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.inject_fault(&start.order_ref, Fault::InternalError, 1).unwrap();
    let mut log = Vec::new();
    let end = client.wait(order(&start, StartMode::Qr), &mut all_events(&mut log));
    match end {
        Event::Error(Error::Api(error)) => {
            assert_eq!((error.code, error.status.as_u16()), (ErrorCode::InternalError, 500))
        }
        other => panic!("{other:?}"),
    }
    assert!(!log.iter().any(|event| event.starts_with("Retrying")), "{log:?}");
    assert!(matches!(
        client.send(&CollectRequest::new(&start.order_ref)).unwrap().status,
        CollectStatus::Pending { .. }
    ));
}

/// A dropped connection on collect is retried (collect only reads); the order completes.
fn collect_retries_after_dropped_connection<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.use_autostart(&start.auto_start_token).unwrap();
    sim.approve(&start.order_ref).unwrap();
    sim.inject_fault(&start.order_ref, Fault::Drop, 1).unwrap();
    let mut kinds = Vec::new();
    let end = client.wait(order(&start, StartMode::AutoStart), &mut |event| {
        if let Event::Retrying { error: Error::Transport(error), .. } = event {
            kinds.push(error.kind());
        }
        ControlFlow::Continue(())
    });
    assert_eq!(completed(end).user.personal_number, PNR);
    assert_eq!(kinds, [TransportErrorKind::Io]);
}

// ---- transport failures and odd answers ----

/// A server slower than the request timeout.
fn slow_server_times_out<T: Transport>() {
    let sim = Sim::start();
    let client = T::new(sim.config().with_request_timeout(Duration::from_millis(400))).unwrap();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_secs(3))).on(Endpoint::Auth).times(1));
    let started = Instant::now();
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Timeout);
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
}

/// A collect answered with another order's reference and another person: an error naming the
/// mismatch, never a completion (for an identification, the wrong person logged in). Both from
/// `wait` and from a single `collect`.
fn foreign_order_answer_is_an_error<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.inject_fault(&start.order_ref, Fault::ForeignOrderRef, 2).unwrap();
    let error = unexpected(client.send(&CollectRequest::new(&start.order_ref)));
    assert_eq!(error.kind, UnexpectedKind::ForeignOrder);
    let mut log = Vec::new();
    let end = client.wait(order(&start, StartMode::Qr), &mut all_events(&mut log));
    let Event::Error(Error::UnexpectedResponse(error)) = end else { panic!("{end:?}") };
    assert_eq!(error.kind, UnexpectedKind::ForeignOrder);
    assert!(!log.iter().any(|event| event.starts_with("Completed")), "{log:?}");
    // The order asked about is untouched at the simulator.
    assert!(matches!(
        client.send(&CollectRequest::new(&start.order_ref)).unwrap().status,
        CollectStatus::Pending { .. }
    ));
}

/// Each collect takes 2.5 s to answer: the QR code still changes every second, each at its own
/// second, while the collect is in flight (the old drivers showed one every 2.5 s).
fn qr_codes_keep_coming_while_a_collect_is_slow<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.add_fault(FaultRule::new(Fault::Delay(Duration::from_millis(2_500))).on(Endpoint::Collect));
    let t0 = Instant::now();
    let mut shown: Vec<(u64, Duration)> = Vec::new();
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        if let Event::QrChanged(content) = event {
            let second = content.split('.').nth(2).and_then(|s| s.parse().ok()).expect("seconds");
            shown.push((second, t0.elapsed()));
        }
        if shown.len() == 6 { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    });
    assert!(matches!(end, Event::Cancelled { reason: CancelReason::Caller, .. }), "{end:?}");
    let seconds: Vec<u64> = shown.iter().map(|(second, _)| *second).collect();
    assert_eq!(seconds, [0, 1, 2, 3, 4, 5]);
    for (second, at) in &shown {
        // At its second (the order started just before t0), with room for a busy machine.
        assert!(*at + Duration::from_millis(50) >= Duration::from_secs(*second), "{shown:?}");
        assert!(*at < Duration::from_secs(*second) + Duration::from_millis(900), "{shown:?}");
    }
}

/// The server's certificate chains to a root we do not trust: TLS error, no request sent.
fn untrusted_server_certificate<T: Transport>() {
    let sim = Sim::start();
    let client = T::new(sim.config().with_roots(Roots::test())).unwrap();
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Tls);
    assert_eq!(sim.order_count(), 0, "no order was created");
}

/// A client certificate from a CA the server does not trust: the handshake fails.
fn foreign_client_certificate<T: Transport>() {
    let sim = Sim::start();
    let foreign = sim.pki().foreign_identity();
    let identity =
        bankid_core::Identity::from_pem(foreign.cert_pem().as_bytes(), foreign.key_pem().as_bytes(), None).unwrap();
    let client = T::new(sim.config().with_identity(identity)).unwrap();
    // With TLS 1.3 the client's handshake is done before the server checks its certificate, so
    // the request is written before the alert arrives; bankid-sim reads and drops it before
    // closing (no TCP reset), so every transport reads the alert and reports a TLS error.
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Tls);
    assert_eq!(sim.order_count(), 0, "no order was created");
}

/// No client identity: BankID answers `unauthorized`.
fn no_client_identity<T: Transport>() {
    let sim = Sim::start();
    let client = T::new(sim.config().without_identity()).unwrap();
    let error = api_error(client.send(&AuthRequest::new(ip())));
    assert_eq!((error.code, error.status.as_u16()), (ErrorCode::Unauthorized, 401));
}

/// Identities from PKCS#12 work like PEM ones.
fn pkcs12_identity<T: Transport>() {
    let sim = Sim::start();
    let client = T::new(sim.config().with_identity(sim.identity(1))).unwrap();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    client.send(&CancelRequest::new(&start.order_ref)).map(drop).unwrap();
}

/// A load balancer's HTML 503 page: `maintenance` taken from the status, not retried.
fn html_503<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Html { status: 503 }).on(Endpoint::Auth).times(1));
    let error = api_error(client.send(&AuthRequest::new(ip())));
    assert_eq!((error.code, error.status.as_u16(), error.inferred_from_status), (ErrorCode::Maintenance, 503, true));
    assert_eq!(sim.order_count(), 0, "not retried (a retry would have been answered and created an order)");
}

/// A proxy's HTML 502 page (the simulator's `html` fault).
fn html_error_page<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Html { status: 502 }).on(Endpoint::Auth).times(1));
    let error = unexpected(client.send(&AuthRequest::new(ip())));
    assert_eq!((error.kind, error.status.as_u16()), (UnexpectedKind::Status, 502));
    assert!(error.content_type.as_deref().is_some_and(|ct| ct.starts_with("text/html")));
    assert!(error.excerpt.contains("Bad Gateway"));
}

/// A success status whose body is not JSON (the simulator's `malformedJson` fault).
fn malformed_body<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::MalformedJson).on(Endpoint::Auth).times(1));
    let error = unexpected(client.send(&AuthRequest::new(ip())));
    assert!(matches!(error.kind, UnexpectedKind::Body(_)), "{error:?}");
}

/// A success status with `text/plain` (the simulator's `wrongContentType` fault).
fn wrong_content_type<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::WrongContentType).on(Endpoint::Auth).times(1));
    assert_eq!(unexpected(client.send(&AuthRequest::new(ip()))).kind, UnexpectedKind::ContentType);
}

/// A redirect is handed to the core, not followed: its target sees no connection.
fn redirect_not_followed<T: Transport>() {
    let sim = Sim::start();
    let target = Sim::start();
    let client: T = sim.client();
    let location = format!("{}/rp/v6.0/auth", target.base_url());
    sim.add_fault(FaultRule::new(Fault::Redirect(location)).on(Endpoint::Auth).times(1));
    let error = unexpected(client.send(&AuthRequest::new(ip())));
    assert_eq!((error.kind, error.status.as_u16()), (UnexpectedKind::Status, 302));
    assert_eq!(target.connections_accepted(), 0);
}

/// The server closes the connection instead of answering.
fn dropped_connection<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Drop).on(Endpoint::Auth).times(1));
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Io);
}

/// The server stops halfway through the body.
fn truncated_body<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Truncate).on(Endpoint::Auth).times(1));
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Io);
}

/// An answer larger than the cap is not read to the end (the simulator's `oversized` fault).
fn body_too_large<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(Fault::Oversized(MAX_RESPONSE_BODY + 1)).on(Endpoint::Auth).times(1));
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::BodyTooLarge);
}

/// Nothing listens on the port.
fn connection_refused<T: Transport>() {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let client = T::new(Config::custom(&format!("https://127.0.0.1:{port}"), Roots::test()).unwrap()).unwrap();
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Connect);
}

/// A host name that does not resolve (`.invalid` never does) is a connect failure.
fn unknown_host<T: Transport>() {
    let client = T::new(Config::custom("https://bankid-sim.invalid", Roots::test()).unwrap()).unwrap();
    assert_eq!(transport_kind(client.send(&AuthRequest::new(ip()))), TransportErrorKind::Connect);
}

/// A whole flow and more over one connection: one TLS handshake.
fn connections_are_reused<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    for _ in 0..10 {
        client.send(&CollectRequest::new(&start.order_ref)).unwrap();
    }
    let end = client.wait(order(&start, StartMode::Qr), &mut |event| {
        match event {
            Event::QrChanged(content) => drop(sim.scan_qr(content).unwrap()),
            Event::Progress { hint_code: PendingHintCode::UserSign, .. } => sim.approve(&start.order_ref).unwrap(),
            _ => {}
        }
        ControlFlow::Continue(())
    });
    completed(end);
    let second = client.send(&SignRequest::new(ip(), "Second order")).unwrap();
    client.send(&CancelRequest::new(&second.order_ref)).map(drop).unwrap();
    assert_eq!(sim.connections_accepted(), 1);
}

/// `Debug` shows the configuration but no key material.
fn debug_shows_no_secrets<T: Transport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let text = client.debug();
    assert!(text.contains(sim.base_url()) && text.contains("[redacted]"), "{text}");
    let key_pem = sim.pki().client_identity(0).unwrap().key_pem();
    let key_line = key_pem.lines().nth(1).unwrap();
    assert!(!text.contains(key_line) && !text.contains("PRIVATE KEY"), "{text}");
}

// ---- async only: stop signal and drop ----

/// The stop future resolves mid-flow: the order is cancelled at the server.
fn stop_signal_cancels<T: AsyncTransport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    let end = client.wait_stopped_after(order(&start, StartMode::Qr), Duration::from_millis(300));
    assert!(matches!(end, Event::Cancelled { reason: CancelReason::Caller, error: None }), "{end:?}");
    assert!(sim.order(&start.order_ref).is_none());
}

/// The waiting future is dropped mid-flow: the cancel request is spawned and reaches the server.
fn dropping_wait_cancels<T: AsyncTransport>() {
    let sim = Sim::start();
    let client: T = sim.client();
    let start = client.send(&AuthRequest::new(ip())).unwrap();
    client.wait_dropped_after(order(&start, StartMode::Qr), Duration::from_millis(300), Duration::from_millis(500));
    assert!(sim.order(&start.order_ref).is_none(), "the order is gone at the server");
}

/// The simulator can be started from async code too (used by the async examples).
#[tokio::test]
async fn simulator_starts_in_async_code() {
    let sim = Simulator::builder().pki(bankid_conformance::pki()).start().await.unwrap();
    let roots = Roots::from_pem(sim.pki().ca_pem().as_bytes()).unwrap();
    let client = bankid_reqwest::Client::new(Config::custom(sim.base_url(), roots).unwrap()).unwrap();
    assert_eq!(api_error(client.collect("x").await).code, ErrorCode::Unauthorized);
}

/// Generates one `#[test]` per scenario per transport.
macro_rules! suite {
    (all: [$($all:ident),* $(,)?], async: [$($async:ident),* $(,)?] $(,)?) => {
        mod via_blocking {
            $( #[test] fn $all() { super::$all::<super::Blocking>() } )*
        }
        mod via_reqwest {
            $( #[test] fn $all() { super::$all::<super::Reqwest>() } )*
            $( #[test] fn $async() { super::$async::<super::Reqwest>() } )*
        }
        mod via_hyper {
            $( #[test] fn $all() { super::$all::<super::Hyper>() } )*
            $( #[test] fn $async() { super::$async::<super::Hyper>() } )*
        }
    };
}

suite! {
    all: [
        auth_qr_scanned_by_phone_completes,
        autostart_flow_completes,
        sign_carries_visible_and_non_visible_data,
        phone_auth_completes,
        phone_sign_completes,
        payment_completes,
        other_payment_completes,
        caller_cancels_mid_flow,
        user_cancels,
        start_failed,
        expired_transaction,
        already_in_progress,
        invalid_parameters,
        maintenance_twice_then_success,
        internal_error_not_retried,
        collect_retries_after_dropped_connection,
        slow_server_times_out,
        foreign_order_answer_is_an_error,
        qr_codes_keep_coming_while_a_collect_is_slow,
        untrusted_server_certificate,
        foreign_client_certificate,
        no_client_identity,
        pkcs12_identity,
        html_503,
        html_error_page,
        malformed_body,
        wrong_content_type,
        redirect_not_followed,
        dropped_connection,
        truncated_body,
        body_too_large,
        connection_refused,
        unknown_host,
        connections_are_reused,
        debug_shows_no_secrets,
    ],
    async: [stop_signal_cancels, dropping_wait_cancels],
}

// ---- the fault matrix of the README ----

/// What the caller gets, in a short form for the README.
fn outcome(error: &Error) -> String {
    match error {
        Error::Api(api) => format!("`Api({})`", api.code),
        Error::UnexpectedResponse(unexpected) => match &unexpected.kind {
            UnexpectedKind::Body(_) => "`UnexpectedResponse(Body)`".to_owned(),
            kind => format!("`UnexpectedResponse({kind:?})`"),
        },
        Error::Transport(transport) => format!("`Transport({:?})`", transport.kind()),
        other => format!("`{other:?}`"),
    }
}

/// One fault: what a start request hit by it returns, and how an order whose first collect is
/// hit by it ends in `wait`.
fn fault_cells<T: Transport>(fault: &Fault) -> (String, String) {
    let sim = Sim::with(Simulator::builder().auto_approve(Some(Duration::from_millis(300))));
    let client: T = sim.client();
    sim.add_fault(FaultRule::new(fault.clone()).on(Endpoint::Auth).times(1));
    let start = match client.send(&AuthRequest::new(ip())) {
        Ok(_) => "answered normally".to_owned(),
        Err(error) => outcome(&error),
    };
    sim.clear_faults();
    let order_start = client.send(&AuthRequest::new(ip())).unwrap();
    sim.inject_fault(&order_start.order_ref, fault.clone(), 1).unwrap();
    let mut retried = None;
    let end = client.wait(order(&order_start, StartMode::Qr), &mut |event| {
        if let Event::Retrying { error, .. } = event {
            retried.get_or_insert_with(|| outcome(error));
        }
        ControlFlow::Continue(())
    });
    let collect = match (end, retried) {
        (Event::Completed(_), Some(error)) => format!("{error}, retried, completed"),
        (Event::Completed(_), None) => "completed".to_owned(),
        (Event::Error(error), None) => format!("{}, order ends", outcome(&error)),
        (other, _) => format!("{other:?}"),
    };
    (start, collect)
}

/// Every fault the simulator injects × the three transports, run for real and compared with the
/// table in the README (`BLESS_README=1` writes it).
#[test]
fn fault_matrix_matches_the_readme() {
    let faults = [
        ("`maintenance` (503)", Fault::Maintenance),
        ("`internalError` (500)", Fault::InternalError),
        ("`requestTimeout` (408)", Fault::RequestTimeout),
        ("HTML error page (502)", Fault::Html { status: 502 }),
        ("delay past the request timeout", Fault::Delay(REQUEST_TIMEOUT + Duration::from_millis(500))),
        ("dropped connection", Fault::Drop),
        ("truncated body", Fault::Truncate),
        ("wrong content type", Fault::WrongContentType),
        ("redirect (302)", Fault::Redirect("https://example.com/".to_owned())),
        ("malformed JSON", Fault::MalformedJson),
        ("body over 1 MiB", Fault::Oversized(MAX_RESPONSE_BODY + 1)),
        ("another order's answer", Fault::ForeignOrderRef),
    ];
    let cells: Vec<[(String, String); 3]> = std::thread::scope(|scope| {
        let rows: Vec<_> = faults
            .iter()
            .map(|(_, fault)| {
                let blocking = scope.spawn(|| fault_cells::<Blocking>(fault));
                let reqwest = scope.spawn(|| fault_cells::<Reqwest>(fault));
                let hyper = scope.spawn(|| fault_cells::<Hyper>(fault));
                [blocking, reqwest, hyper]
            })
            .collect();
        rows.into_iter().map(|row| row.map(|cell| cell.join().expect("fault cell"))).collect()
    });
    // One cell when the three transports agree (they must: a difference fails below).
    let mut table = String::from(
        "| fault | a start request (`authenticate`, ...) gets | an order whose collect gets it, in `wait` |\n|---|---|---|\n",
    );
    for ((name, _), row) in faults.iter().zip(&cells) {
        assert!(row.iter().all(|cell| *cell == row[0]), "the transports disagree on {name}: {row:?}");
        table.push_str(&format!("| {name} | {} | {} |\n", row[0].0, row[0].1));
    }
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");
    let readme = std::fs::read_to_string(path).unwrap();
    let (begin, end) = ("<!-- fault-matrix:begin -->\n", "<!-- fault-matrix:end -->");
    let (head, rest) = readme.split_once(begin).expect("the README has a fault matrix section");
    let (current, tail) = rest.split_once(end).expect("the fault matrix section ends");
    if current != table {
        if std::env::var_os("BLESS_README").is_some() {
            std::fs::write(path, format!("{head}{begin}{table}{end}{tail}")).unwrap();
        } else {
            panic!("the README's fault matrix is out of date (BLESS_README=1 rewrites it):\n{table}");
        }
    }
}
