//! Property tests: the parsers never panic and never return a wrong `Ok`, the order state
//! machine keeps its invariants over arbitrary sequences of answers, errors and times, and
//! request bodies carry exactly the caller's text.
#![allow(clippy::disallowed_methods)] // tests take one real Instant as the virtual clock's origin

use std::time::{Duration, Instant};

use bankid_core::{
    AuthRequest, CancelRequest, CollectRequest, Config, Endpoint, Event, Input, InputError, Operation, Order,
    OrderOptions, Output, PhoneAuthRequest, RequestId, SignRequest, StartMode, TransportError, TransportErrorKind,
};
use base64::Engine as _;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;

const COMPLETE: &str = r#"{"orderRef":"o","status":"complete","completionData":{"user":{"personalNumber":"199001011239","name":"A B","givenName":"A","surname":"B"},"device":{"ipAddress":"192.0.2.1","uhi":"x"},"bankIdIssueDate":"2023-11-29Z","stepUp":{"mrtd":true},"signature":"c2ln","ocspResponse":"b2NzcA==","risk":"low"}}"#;
const PENDING: &str = r#"{"orderRef":"o","status":"pending","hintCode":"userSign"}"#;
const START: &str = r#"{"orderRef":"o","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s"}"#;
const ERROR: &str = r#"{"errorCode":"alreadyInProgress","details":"Order already in progress for pno"}"#;

fn response(status: u16, content_type: Option<&str>, body: Vec<u8>) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body).unwrap()
}

fn content_types() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some("application/json; charset=utf-8".to_owned())),
        Just(Some("text/html".to_owned())),
        "[ -~]{0,40}".prop_map(Some),
    ]
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "[{}\\[\\]\":,a-zA-Z0-9 ]{0,200}".prop_map(String::into_bytes),
        prop::sample::select(vec![COMPLETE, PENDING, START, ERROR, "{}", ""]).prop_map(|s| s.as_bytes().to_vec()),
    ]
}

fn parse_all(status: u16, content_type: Option<&str>, body: &[u8]) {
    let r = || response(status, content_type, body.to_vec());
    let _ = AuthRequest::parse(r());
    let _ = PhoneAuthRequest::parse(r());
    let _ = CollectRequest::parse(r());
    let _ = CancelRequest::parse(r());
}

/// Shapes that are JSON but not what BankID sends: arrays of plausible values where an object
/// belongs, objects with empty or odd references, cancel answers that are not `{}`.
fn malformed_json() -> impl Strategy<Value = String> {
    let value = prop_oneof![
        Just("\"o\"".to_owned()),
        Just("\"pending\"".to_owned()),
        Just("\"userSign\"".to_owned()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        "[a-z]{0,8}".prop_map(|s| format!("\"{s}\"")),
    ];
    let odd_reference =
        prop_oneof![Just(String::new()), Just("\\u0000".to_owned()), "[ .%/\\\\]{1,4}", "[a-z0-9]{129,140}",];
    prop_oneof![
        proptest::collection::vec(value, 0..6).prop_map(|values| format!("[{}]", values.join(","))),
        odd_reference.clone().prop_map(|r| format!(
            r#"{{"orderRef":"{r}","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s"}}"#
        )),
        odd_reference.prop_map(|r| format!(r#"{{"orderRef":"{r}","status":"pending","hintCode":"userSign"}}"#)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))), ..ProptestConfig::default() })]

    #[test]
    fn malformed_json_is_an_unexpected_response(body in malformed_json()) {
        let r = || response(200, Some("application/json"), body.clone().into_bytes());
        for result in [
            AuthRequest::parse(r()).map(drop),
            PhoneAuthRequest::parse(r()).map(drop),
            CollectRequest::parse(r()).map(drop),
        ] {
            let is_body_error = matches!(&result, Err(bankid_core::Error::UnexpectedResponse(u)) if matches!(u.kind, bankid_core::UnexpectedKind::Body(_)));
            prop_assert!(is_body_error, "{} parsed: {:?}", body, result);
        }
        if body != "{}" {
            prop_assert!(CancelRequest::parse(r()).is_err(), "cancel took {}", body);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))), ..ProptestConfig::default() })]

    #[test]
    fn parsers_never_panic(status in 100u16..600, content_type in content_types(), body in bodies()) {
        parse_all(status, content_type.as_deref(), &body);
    }

    #[test]
    fn success_needs_status_200(status in 100u16..600, body in prop::sample::select(vec![COMPLETE, PENDING])) {
        let parsed = CollectRequest::parse(response(status, Some("application/json"), body.as_bytes().to_vec()));
        prop_assert_eq!(parsed.is_ok(), status == 200);
    }

    #[test]
    fn error_responses_are_never_ok(status in 400u16..600, content_type in content_types(), body in bodies()) {
        prop_assert!(CollectRequest::parse(response(status, content_type.as_deref(), body.clone())).is_err());
        prop_assert!(AuthRequest::parse(response(status, content_type.as_deref(), body)).is_err());
    }

    #[test]
    fn request_bodies_carry_exactly_the_callers_text(text in "\\PC{1,300}", data in proptest::collection::vec(any::<u8>(), 1..300)) {
        let ip = "192.0.2.1".parse().unwrap();
        let request = SignRequest::new(ip, text.clone()).user_non_visible_data(data.clone()).to_http(&Config::test()).unwrap();
        let json: serde_json::Value = serde_json::from_slice(request.body()).unwrap();
        let decode = |field: &str| base64::engine::general_purpose::STANDARD.decode(json[field].as_str().unwrap()).unwrap();
        prop_assert_eq!(decode("userVisibleData"), text.into_bytes());
        prop_assert_eq!(decode("userNonVisibleData"), data);
    }
}

#[test]
fn truncated_fixtures_never_parse_to_a_different_value() {
    let full = CollectRequest::parse(response(200, Some("application/json"), COMPLETE.as_bytes().to_vec())).unwrap();
    for end in 0..COMPLETE.len() {
        let cut = COMPLETE.as_bytes()[..end].to_vec();
        if let Ok(parsed) = CollectRequest::parse(response(200, Some("application/json"), cut)) {
            assert_eq!(parsed, full, "prefix of {end} bytes parsed to another value");
        }
    }
    for fixture in [START, PENDING] {
        for end in 0..fixture.len() {
            let cut = || response(200, Some("application/json"), fixture.as_bytes()[..end].to_vec());
            assert!(AuthRequest::parse(cut()).is_err(), "{end}");
            assert!(CollectRequest::parse(cut()).is_err(), "{end}");
        }
    }
    // A truncated error body still yields the status's error, never a success.
    for end in 0..ERROR.len() {
        let err = CollectRequest::parse(response(400, Some("application/json"), ERROR.as_bytes()[..end].to_vec()));
        assert!(err.is_err());
    }
}

/// One step of an arbitrary run.
#[derive(Clone, Debug)]
enum Step {
    /// Time passes.
    Advance(u64),
    /// The driver wakes at the instant the order asked for.
    WakeUp,
    /// The driver calls `poll_output` until it says wait or done.
    Poll,
    /// The driver, all its connections busy, calls `poll_output_while_busy` until it says wait
    /// or done.
    BusyPoll,
    /// The request in flight is answered.
    Answer(u8),
    /// The request in flight fails.
    Transport,
    /// The caller cancels.
    Cancel,
    /// An answer to a request that is no longer in flight, or to another order's request.
    Stale,
    Foreign,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0u64..5_000).prop_map(Step::Advance),
            3 => Just(Step::WakeUp),
            4 => Just(Step::Poll),
            2 => Just(Step::BusyPoll),
            4 => (0u8..11).prop_map(Step::Answer),
            1 => Just(Step::Transport),
            1 => Just(Step::Cancel),
            1 => Just(Step::Stale),
            1 => Just(Step::Foreign),
        ],
        1..200,
    )
}

fn answer(kind: u8) -> http::Response<Vec<u8>> {
    let (status, body) = match kind {
        0..=3 => {
            (200, PENDING.replace("userSign", ["outstandingTransaction", "started", "userSign", "x"][kind as usize]))
        }
        4 => (200, COMPLETE.to_owned()),
        5 => (200, r#"{"orderRef":"o","status":"failed","hintCode":"userCancel"}"#.to_owned()),
        6 => (503, r#"{"errorCode":"maintenance","details":""}"#.to_owned()),
        7 => (500, r#"{"errorCode":"internalError","details":""}"#.to_owned()),
        8 => (200, "{}".to_owned()),
        9 => (200, COMPLETE.replace(r#""orderRef":"o""#, r#""orderRef":"another""#)),
        _ => (502, "<html>".to_owned()),
    };
    response(status, Some("application/json"), body.into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))), ..ProptestConfig::default() })]

    #[test]
    fn order_invariants(steps in steps(), qr in any::<bool>()) {
        let config = Config::test();
        let start: bankid_core::OrderResponse = serde_json::from_str(START).unwrap();
        let t0 = Instant::now();
        let mut now = t0;
        let options = OrderOptions::default().max_maintenance_retries(3).max_transport_retries(2);
        let mode = if qr { StartMode::Qr } else { StartMode::AutoStart };
        let mut order = Order::with_options(&start, mode, t0, options);
        let mut other = Order::new(&start, mode, t0);
        let Output::Send { id: foreign, .. } = (loop {
            match other.poll_output(t0, &config) { Output::Event(_) => {}, output => break output }
        }) else { panic!("the other order sends a collect first") };
        let mut wake_up = t0;
        let mut last_collect: Option<Instant> = None;
        let mut in_flight: Option<RequestId> = None;
        let mut answered: Vec<RequestId> = vec![];
        let (mut finals, mut after_final, mut max_attempt, mut sends_after_final) = (0, 0, 0, 0);

        for step in steps {
            match step {
                Step::Advance(ms) => now += Duration::from_millis(ms),
                Step::WakeUp => now = now.max(wake_up),
                Step::Poll | Step::BusyPoll => loop {
                    let busy = matches!(step, Step::BusyPoll);
                    let output = if busy { order.poll_output_while_busy(now) } else { order.poll_output(now, &config) };
                    match output {
                        Output::Event(event) => {
                            if finals > 0 { after_final += 1; }
                            if let Event::QrChanged(content) = &event {
                                // The QR code for second s comes out at a call in [s, s+1).
                                let second: u64 = content.split('.').nth(2).unwrap().parse().unwrap();
                                prop_assert_eq!((now - t0).as_secs(), second);
                            }
                            if let Event::Retrying { attempt, .. } = &event { max_attempt = max_attempt.max(*attempt); }
                            if event.is_final() { finals += 1; }
                        }
                        Output::Send { id, endpoint, abandonable, .. } => {
                            prop_assert!(!busy, "a request built while the driver is busy");
                            if finals > 0 { sends_after_final += 1; }
                            prop_assert_eq!(abandonable, endpoint == Endpoint::Collect);
                            if endpoint == Endpoint::Collect {
                                if let Some(previous) = last_collect {
                                    prop_assert!(now - previous >= Duration::from_secs(1), "two collects {:?} apart", now - previous);
                                }
                                last_collect = Some(now);
                            }
                            // A new request only when none is awaited (or the old one was abandoned).
                            if let Some(old) = in_flight.replace(id) { answered.push(old); }
                        }
                        Output::Wait(until) => {
                            prop_assert!(until >= now, "a wake-up in the past");
                            // Nothing is left to send when the order says wait to a driver that can send.
                            prop_assert!(busy || !order.wants_to_send(), "wait with a request due");
                            wake_up = until;
                            break;
                        }
                        Output::Done => {
                            prop_assert_eq!(finals, 1, "done without a final event");
                            break;
                        }
                    }
                },
                Step::Answer(kind) => if let Some(id) = in_flight.take() {
                    // Refused only when the order gave up on it (cancel, deadline, expiry).
                    let _ = order.handle_input(now, Input::Response(id, answer(kind)));
                    answered.push(id);
                },
                Step::Transport => if let Some(id) = in_flight.take() {
                    let _ = order.handle_input(now, Input::Failure(id, TransportError::from_kind(TransportErrorKind::Io)));
                    answered.push(id);
                },
                Step::Cancel => order.cancel(),
                Step::Stale => if let Some(&id) = answered.last() {
                    let before = format!("{order:?}");
                    prop_assert_eq!(order.handle_input(now, Input::Response(id, answer(4))), Err(InputError::Stale(id)));
                    prop_assert_eq!(before, format!("{order:?}"), "a refused input changed the order");
                },
                Step::Foreign => {
                    let before = format!("{order:?}");
                    prop_assert_eq!(order.handle_input(now, Input::Response(foreign, answer(4))), Err(InputError::Foreign(foreign)));
                    prop_assert_eq!(before, format!("{order:?}"), "a refused input changed the order");
                }
            }
        }
        prop_assert!(finals <= 1);
        prop_assert_eq!(after_final, 0, "events after the final one");
        prop_assert_eq!(sends_after_final, 0, "requests after the final event");
        prop_assert!(max_attempt <= 3, "retries not bounded: {}", max_attempt);
    }
}
