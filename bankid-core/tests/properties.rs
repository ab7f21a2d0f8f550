//! Property tests: the parsers never panic and never return a wrong `Ok`, the order state
//! machine keeps its invariants over arbitrary sequences of answers, errors and times, and
//! request bodies carry exactly the caller's text.
#![allow(clippy::disallowed_methods)] // tests take one real Instant as the virtual clock's origin

use std::time::{Duration, Instant};

use bankid_core::{
    AuthRequest, CancelRequest, CollectRequest, Config, Event, Operation, Order, OrderOptions, OrderRequest,
    PhoneAuthRequest, SignRequest, StartMode, TransportError, TransportErrorKind,
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
    Advance(u64),
    Poll,
    Answer(u8),
    Transport,
    Cancel,
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        prop_oneof![
            3 => (0u64..5_000).prop_map(Step::Advance),
            4 => Just(Step::Poll),
            4 => (0u8..10).prop_map(Step::Answer),
            1 => Just(Step::Transport),
            1 => Just(Step::Cancel),
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
        _ => (502, "<html>".to_owned()),
    };
    response(status, Some("application/json"), body.into_bytes())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1024, failure_persistence: Some(Box::new(FileFailurePersistence::WithSource("regressions"))), ..ProptestConfig::default() })]

    #[test]
    fn order_invariants(steps in steps(), qr in any::<bool>()) {
        let start: bankid_core::OrderResponse = serde_json::from_str(START).unwrap();
        let t0 = Instant::now();
        let mut now = t0;
        // The latest time handed to the order: poll_timeout must never be before it.
        let mut seen = t0;
        let options = OrderOptions::default().max_maintenance_retries(3).max_transport_retries(2);
        let mut order = Order::with_options(&start, if qr { StartMode::Qr } else { StartMode::AutoStart }, t0, options);
        let mut last_collect: Option<Instant> = None;
        let mut outstanding: Option<OrderRequest> = None;
        let mut finals = 0;
        let mut after_final = 0;
        let mut max_attempt = 0;
        let mut requests_after_final = 0;

        for step in steps {
            match step {
                Step::Advance(ms) => now += Duration::from_millis(ms),
                Step::Poll => {
                    seen = now;
                    if let Some(request) = order.poll_request(now) {
                        if finals > 0 { requests_after_final += 1; }
                        if let OrderRequest::Collect(_) = request {
                            if let Some(previous) = last_collect {
                                prop_assert!(now - previous >= Duration::from_secs(1), "two collects {:?} apart", now - previous);
                            }
                            last_collect = Some(now);
                        }
                        prop_assert!(outstanding.is_none() || matches!(request, OrderRequest::Cancel(_)), "two requests in flight");
                        outstanding = Some(request);
                    }
                }
                Step::Answer(kind) => {
                    if outstanding.take().is_some() {
                        seen = now;
                        order.handle_response(now, answer(kind));
                    }
                }
                Step::Transport => {
                    if outstanding.take().is_some() {
                        seen = now;
                        order.handle_transport_error(now, TransportError::from_kind(TransportErrorKind::Io));
                    }
                }
                Step::Cancel => {
                    // Cancelling abandons a collect in flight; a cancel in flight stays.
                    order.cancel();
                    if matches!(outstanding, Some(OrderRequest::Collect(_))) {
                        outstanding = None;
                    }
                }
            }
            if let Some(timeout) = order.poll_timeout() {
                prop_assert!(timeout >= seen, "poll_timeout in the past");
            } else {
                prop_assert!(order.is_finished() || outstanding.is_some(), "no timeout and nothing to wait for");
            }
            while let Some(event) = order.poll_event() {
                if finals > 0 { after_final += 1; }
                if let Event::Retrying { attempt, .. } = &event { max_attempt = max_attempt.max(*attempt); }
                if event.is_final() { finals += 1; }
            }
            prop_assert_eq!(order.is_finished(), finals == 1);
        }
        prop_assert!(finals <= 1);
        prop_assert_eq!(after_final, 0, "events after the final one");
        prop_assert_eq!(requests_after_final, 0, "requests after the final event");
        prop_assert!(max_attempt <= 3, "retries not bounded: {}", max_attempt);
    }
}
