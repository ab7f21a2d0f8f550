//! The order state machine on a virtual clock: whole flows of 30+ simulated seconds that run in
//! microseconds.
#![allow(clippy::disallowed_methods)] // tests take one real Instant as the virtual clock's origin

use std::time::{Duration, Instant, SystemTime};

use bankid_core::{
    CancelReason, Config, DeviceKind, Endpoint, Error, ErrorCode, Event, FailedHintCode, Input, InputError, Order,
    OrderOptions, OrderResponse, OrderState, Output, PendingHintCode, PhoneOrderResponse, RequestId, Rfa, StartMode,
    TransportError, TransportErrorKind, UnexpectedKind,
};

fn start() -> OrderResponse {
    serde_json::from_str(
        r#"{"orderRef":"ref-1","autoStartToken":"auto","qrStartToken":"qrtoken","qrStartSecret":"S3CR3T"}"#,
    )
    .unwrap()
}

fn json(status: u16, body: &str) -> http::Response<Vec<u8>> {
    http::Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(body.as_bytes().to_vec())
        .unwrap()
}

fn pending(hint: &str) -> http::Response<Vec<u8>> {
    json(200, &format!(r#"{{"orderRef":"ref-1","status":"pending","hintCode":"{hint}"}}"#))
}

fn failed(hint: &str) -> http::Response<Vec<u8>> {
    json(200, &format!(r#"{{"orderRef":"ref-1","status":"failed","hintCode":"{hint}"}}"#))
}

fn complete() -> http::Response<Vec<u8>> {
    json(
        200,
        r#"{"orderRef":"ref-1","status":"complete","completionData":{
        "user":{"personalNumber":"199001011239","name":"A B","givenName":"A","surname":"B"},
        "device":{"ipAddress":"192.0.2.1"},"bankIdIssueDate":"2023-11-29Z","signature":"c2ln","ocspResponse":"b2NzcA=="}}"#,
    )
}

fn error(status: u16, code: &str) -> http::Response<Vec<u8>> {
    json(status, &format!(r#"{{"errorCode":"{code}","details":"d"}}"#))
}

/// A virtual-clock driver: answers each request with the next scripted answer after
/// `latency`, and records what was sent, when, every event with its time, and every refused
/// input. It checks the contract as it goes: wake-ups never in the past, each QR code for
/// second s handed out at a time in [s, s+1), nothing after `Done`.
struct Run {
    t0: Instant,
    now: Instant,
    order: Order,
    latency: Duration,
    in_flight: Option<(RequestId, Instant, Answer)>,
    sent: Vec<(Duration, &'static str)>,
    events: Vec<(Duration, Event)>,
    refused: Vec<InputError>,
    done: bool,
}

enum Answer {
    Http(http::Response<Vec<u8>>),
    Transport(TransportErrorKind),
}

impl Run {
    fn new(order: impl FnOnce(Instant) -> Order) -> Self {
        let t0 = Instant::now();
        let order = order(t0);
        Self {
            t0,
            now: t0,
            order,
            latency: Duration::ZERO,
            in_flight: None,
            sent: vec![],
            events: vec![],
            refused: vec![],
            done: false,
        }
    }

    fn with_latency(mut self, latency: Duration) -> Self {
        self.latency = latency;
        self
    }

    /// Runs until the order is done or `limit` passes, answering requests with `answer`.
    fn drive(&mut self, limit: Duration, mut answer: impl FnMut(Duration, Endpoint) -> Answer) {
        let config = Config::test();
        while !self.done && self.now - self.t0 <= limit {
            let at = self.now - self.t0;
            match self.order.poll_output(self.now, &config) {
                Output::Event(event) => {
                    if let Event::QrChanged(content) = &event {
                        let second: u64 = content.split('.').nth(2).unwrap().parse().unwrap();
                        assert_eq!(at.as_secs(), second, "QR code for second {second} handed out at {at:?}");
                    }
                    self.events.push((at, event));
                }
                Output::Send { id, request, endpoint, abandonable } => {
                    assert!(request.uri().path().ends_with(endpoint.name()));
                    assert_eq!(abandonable, endpoint == Endpoint::Collect);
                    self.sent.push((at, endpoint.name()));
                    let answer = answer(at, endpoint);
                    if let Some((stale, ..)) = self.in_flight.replace((id, self.now + self.latency, answer)) {
                        // The order abandoned that request: its answer must be refused.
                        self.hand_in(stale, Answer::Http(pending("userSign")));
                    }
                }
                Output::Wait(until) => {
                    assert!(until >= self.now, "a wake-up in the past");
                    match self.in_flight.take() {
                        Some((id, arrives, answer)) if arrives <= until => {
                            self.now = arrives;
                            self.hand_in(id, answer);
                        }
                        other => {
                            self.in_flight = other;
                            self.now = until;
                        }
                    }
                }
                Output::Done => self.done = true,
            }
        }
    }

    fn hand_in(&mut self, id: RequestId, answer: Answer) {
        let input = match answer {
            Answer::Http(response) => Input::Response(id, response),
            Answer::Transport(kind) => Input::Failure(id, TransportError::from_kind(kind)),
        };
        if let Err(refused) = self.order.handle_input(self.now, input) {
            self.refused.push(refused);
        }
    }

    fn collects(&self) -> Vec<Duration> {
        self.sent.iter().filter(|(_, e)| *e == "collect").map(|(at, _)| *at).collect()
    }

    fn qr_codes(&self) -> Vec<&str> {
        self.events
            .iter()
            .filter_map(|(_, e)| if let Event::QrChanged(c) = e { Some(c.as_str()) } else { None })
            .collect()
    }

    fn last(&self) -> &Event {
        &self.events.last().expect("no events").1
    }

    /// Every event but the QR codes, with its time, in a short form.
    fn timeline(&self) -> Vec<(Duration, String)> {
        self.events
            .iter()
            .filter(|(_, e)| !matches!(e, Event::QrChanged(_)))
            .map(|(at, e)| {
                let name = match e {
                    Event::Progress { hint_code, .. } => format!("progress {hint_code}"),
                    Event::Retrying { attempt, .. } => format!("retrying {attempt}"),
                    Event::Completed(_) => "completed".to_owned(),
                    Event::Failed { hint_code, .. } => format!("failed {hint_code}"),
                    Event::Cancelled { reason, .. } => format!("cancelled {reason:?}"),
                    other => format!("{other:?}"),
                };
                (*at, name)
            })
            .collect()
    }
}

fn ms(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

#[test]
fn qr_flow_over_thirty_seconds() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(60), |at, _| {
        Answer::Http(match at.as_secs() {
            0..20 => pending("outstandingTransaction"),
            20..26 => pending("userSign"),
            _ => complete(),
        })
    });
    // Collect every 2 s, starting at once.
    let collects = run.collects();
    assert_eq!(collects.first(), Some(&Duration::ZERO));
    assert!(collects.windows(2).all(|w| w[1] - w[0] == secs(2)), "{collects:?}");
    assert_eq!(*collects.last().unwrap(), secs(26));
    // A new QR code each whole second while outstandingTransaction (0..=20 s), then none.
    let codes = run.qr_codes();
    assert_eq!(codes.len(), 21, "{codes:?}");
    for (second, code) in codes.iter().enumerate() {
        assert_eq!(*code, bankid_core::qr::content("qrtoken", "S3CR3T", second as u64));
    }
    let progress: Vec<_> = run
        .events
        .iter()
        .filter_map(|(_, e)| {
            if let Event::Progress { hint_code, message } = e { Some((hint_code.clone(), *message)) } else { None }
        })
        .collect();
    assert_eq!(
        progress,
        [(PendingHintCode::OutstandingTransaction, Rfa::Rfa1), (PendingHintCode::UserSign, Rfa::Rfa9)]
    );
    let Event::Completed(data) = run.last() else { panic!("{:?}", run.last()) };
    assert_eq!(data.user.given_name, "A");
    assert_eq!(
        run.timeline(),
        [
            (secs(0), "progress outstandingTransaction".to_owned()),
            (secs(20), "progress userSign".to_owned()),
            (secs(26), "completed".to_owned()),
        ]
    );
    assert!(run.done);
    let config = Config::test();
    assert!(matches!(run.order.poll_output(run.now + secs(10), &config), Output::Done), "nothing after the end");
}

#[test]
fn autostart_flow_messages_and_no_qr() {
    let options = OrderOptions::default().device(DeviceKind::Mobile);
    let mut run = Run::new(|t0| Order::with_options(&start(), StartMode::AutoStart, t0, options));
    run.drive(secs(60), |at, _| {
        Answer::Http(match at.as_secs() {
            0..2 => pending("outstandingTransaction"),
            2..4 => pending("started"),
            4..6 => pending("userSign"),
            _ => failed("userCancel"),
        })
    });
    assert!(run.qr_codes().is_empty());
    let messages: Vec<Rfa> = run
        .events
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Progress { message, .. } | Event::Failed { message, .. } => Some(*message),
            _ => None,
        })
        .collect();
    assert_eq!(messages, [Rfa::Rfa13, Rfa::Rfa15B, Rfa::Rfa9, Rfa::Rfa6]);
    assert!(matches!(run.last(), Event::Failed { hint_code: FailedHintCode::UserCancel, .. }));
}

#[test]
fn start_failed_in_qr_mode_is_rfa17b_and_unknown_codes_are_handled() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(60), |at, _| {
        Answer::Http(if at < secs(4) { pending("somethingNew") } else { failed("startFailed") })
    });
    assert!(run.events.iter().any(|(_, e)| matches!(e, Event::Progress { hint_code: PendingHintCode::Unknown(c), message: Rfa::Rfa21 } if c == "somethingNew")));
    assert!(matches!(run.last(), Event::Failed { hint_code: FailedHintCode::StartFailed, message: Rfa::Rfa17B }));

    let mut run = Run::new(|t0| Order::new(&start(), StartMode::AutoStart, t0));
    run.drive(secs(60), |_, _| Answer::Http(failed("neverSeenBefore")));
    assert!(matches!(run.last(), Event::Failed { hint_code: FailedHintCode::Unknown(_), message: Rfa::Rfa22 }));
    assert_eq!(run.collects().len(), 1);
}

#[test]
fn maintenance_is_retried_with_backoff_then_succeeds() {
    let mut calls = 0;
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::AutoStart, t0));
    run.drive(secs(120), |_, _| {
        calls += 1;
        Answer::Http(if calls <= 3 { error(503, "maintenance") } else { complete() })
    });
    let collects = run.collects();
    assert_eq!(collects, [secs(0), secs(2), secs(6), secs(14)], "backoff 2, 4, 8 s");
    let retries: Vec<u32> = run
        .events
        .iter()
        .filter_map(|(_, e)| if let Event::Retrying { attempt, .. } = e { Some(*attempt) } else { None })
        .collect();
    assert_eq!(retries, [1, 2, 3]);
    assert!(matches!(run.last(), Event::Completed(_)));
}

#[test]
fn maintenance_retries_are_bounded() {
    let options = OrderOptions::default().max_maintenance_retries(2);
    let mut run = Run::new(|t0| Order::with_options(&start(), StartMode::Qr, t0, options));
    run.drive(secs(600), |_, _| Answer::Http(error(503, "maintenance")));
    assert_eq!(run.collects().len(), 3);
    let Event::Error(err) = run.last() else { panic!("{:?}", run.last()) };
    assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance));
    assert_eq!(err.user_message(), Rfa::Rfa5);
}

#[test]
fn internal_error_request_timeout_and_4xx_are_not_retried() {
    for (status, code) in
        [(500, "internalError"), (408, "requestTimeout"), (400, "invalidParameters"), (401, "unauthorized")]
    {
        let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
        run.drive(secs(60), |_, _| Answer::Http(error(status, code)));
        assert_eq!(run.collects().len(), 1, "{code}");
        assert!(matches!(run.last(), Event::Error(Error::Api(_))), "{code}");
    }
}

#[test]
fn transport_failures_of_collect_are_retried_a_bounded_number_of_times() {
    let mut calls = 0;
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(120), |_, _| {
        calls += 1;
        if calls <= 2 { Answer::Transport(TransportErrorKind::Timeout) } else { Answer::Http(complete()) }
    });
    assert!(matches!(run.last(), Event::Completed(_)));

    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(120), |_, _| Answer::Transport(TransportErrorKind::Connect));
    assert_eq!(run.collects().len(), 4, "one try and three retries");
    let Event::Error(Error::Transport(err)) = run.last() else { panic!("{:?}", run.last()) };
    assert_eq!(err.kind(), TransportErrorKind::Connect);
}

#[test]
fn caller_cancel_sends_cancel_and_ends() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(5), |_, _| Answer::Http(pending("outstandingTransaction")));
    run.order.cancel();
    run.drive(secs(60), |_, endpoint| {
        assert_eq!(endpoint, Endpoint::Cancel);
        Answer::Http(json(200, "{}"))
    });
    assert_eq!(run.sent.last().unwrap().1, "cancel");
    assert!(matches!(run.last(), Event::Cancelled { reason: CancelReason::Caller, error: None }));
    assert!(run.order.is_finished());
    // Cancelling a finished order does nothing.
    run.order.cancel();
    assert!(matches!(run.order.poll_output(run.now, &Config::test()), Output::Done));
}

#[test]
fn deadline_cancels_the_order_at_bankid() {
    let options = OrderOptions::default().deadline(secs(30));
    let mut run = Run::new(|t0| Order::with_options(&start(), StartMode::Qr, t0, options));
    run.drive(secs(120), |_, endpoint| match endpoint {
        Endpoint::Collect => Answer::Http(pending("outstandingTransaction")),
        _ => Answer::Transport(TransportErrorKind::Io),
    });
    let (at, last) = run.sent.last().unwrap();
    assert_eq!((*at, *last), (secs(30), "cancel"));
    let Event::Cancelled { reason: CancelReason::Deadline, error: Some(Error::Transport(_)) } = run.last() else {
        panic!("{:?}", run.last())
    };
}

#[test]
fn phone_orders_have_no_qr() {
    let response: PhoneOrderResponse = serde_json::from_str(r#"{"orderRef":"ref-1"}"#).unwrap();
    let mut run = Run::new(|t0| Order::phone(&response, t0, OrderOptions::default()));
    run.drive(secs(60), |at, _| Answer::Http(if at < secs(4) { pending("userCallConfirm") } else { complete() }));
    assert!(run.qr_codes().is_empty());
    assert!(run.events.iter().any(|(_, e)| matches!(e, Event::Progress { message: Rfa::Rfa21, .. })));
    assert!(matches!(run.last(), Event::Completed(_)));
}

#[test]
fn state_round_trips_through_serde_and_resumes_with_its_cadence() {
    let t0 = Instant::now();
    let wall0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let config = Config::test();
    let mut order = Order::with_options(&start(), StartMode::Qr, t0, OrderOptions::default().collect_interval(secs(6)));
    let Output::Event(Event::QrChanged(_)) = order.poll_output(t0, &config) else { panic!() };
    let Output::Send { id, .. } = order.poll_output(t0, &config) else { panic!() };
    order.handle_input(t0, Input::Response(id, pending("outstandingTransaction"))).unwrap();
    let Output::Event(Event::Progress { .. }) = order.poll_output(t0, &config) else { panic!() };
    let Output::Event(Event::QrChanged(_)) = order.poll_output(t0 + secs(6), &config) else { panic!() };
    let Output::Send { id, .. } = order.poll_output(t0 + secs(6), &config) else { panic!() };
    order.handle_input(t0 + secs(6), Input::Response(id, pending("outstandingTransaction"))).unwrap();
    let state = order.state(t0 + secs(7), wall0 + secs(7));
    assert_eq!(state.last_collect_at, Some(wall0 + secs(6)));
    assert_eq!(state.hint_code, Some(PendingHintCode::OutstandingTransaction));
    let text = serde_json::to_string(&state).unwrap();
    assert!(!format!("{state:?}").contains("S3CR3T"));
    assert_eq!(state, serde_json::from_str::<OrderState>(&text).unwrap());

    // Another process, another monotonic clock: 1 s later on the wall clock. The collect sent
    // at 6 s makes the next one due at 8 s, not now.
    let t1 = Instant::now() + secs(1000);
    let mut resumed = Order::resume(serde_json::from_str(&text).unwrap(), t1, wall0 + secs(7), OrderOptions::default());
    assert_eq!(resumed.order_ref(), "ref-1");
    assert_eq!(resumed.auto_start_token(), Some("auto"));
    assert_eq!(resumed.qr_content(t1).unwrap(), bankid_core::qr::content("qrtoken", "S3CR3T", 7));
    let Output::Event(Event::QrChanged(code)) = resumed.poll_output(t1, &config) else { panic!() };
    assert_eq!(code, bankid_core::qr::content("qrtoken", "S3CR3T", 7));
    let Output::Wait(until) = resumed.poll_output(t1, &config) else { panic!() };
    assert_eq!(until, t1 + secs(1), "the next QR code, before the collect due at 8 s");
    let Output::Event(Event::QrChanged(_)) = resumed.poll_output(t1 + secs(1), &config) else { panic!() };
    assert!(matches!(resumed.poll_output(t1 + secs(1), &config), Output::Send { .. }));
    // A wall clock behind the start time never yields a negative QR time.
    let resumed = Order::resume(serde_json::from_str(&text).unwrap(), t1, wall0 - secs(5), OrderOptions::default());
    assert_eq!(resumed.qr_content(t1).unwrap(), bankid_core::qr::content("qrtoken", "S3CR3T", 0));
}

#[test]
fn qr_codes_keep_coming_while_a_slow_collect_is_in_flight() {
    // Each answer arrives 4 s after its collect was sent (bankid-sim --delay 4000).
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0)).with_latency(secs(4));
    run.drive(secs(30), |at, _| {
        Answer::Http(if at < secs(20) { pending("outstandingTransaction") } else { complete() })
    });
    // One QR code every second, each at its own second (the harness checks the times).
    assert_eq!(run.qr_codes().len(), 24, "{:?}", run.timeline());
    // Collects wait for their answers and keep the cadence.
    assert_eq!(run.collects(), [secs(0), secs(4), secs(8), secs(12), secs(16), secs(20)]);
    assert_eq!(run.timeline().last().unwrap(), &(secs(24), "completed".to_owned()));
    assert!(run.refused.is_empty());
}

#[test]
fn an_order_waiting_for_a_connection_builds_no_request_and_keeps_its_qr_codes() {
    // All the driver's connections are busy until 3.5 s after the start.
    let config = Config::test();
    let t0 = Instant::now();
    let free_at = t0 + ms(3_500);
    let mut order = Order::new(&start(), StartMode::Qr, t0);
    let (mut now, mut shown) = (t0, vec![]);
    loop {
        match order.poll_output_while_busy(now) {
            Output::Event(Event::QrChanged(content)) => shown.push((now - t0, content)),
            Output::Wait(until) => {
                assert!(until >= now, "a wake-up in the past");
                assert!(order.wants_to_send(), "the first collect is due from the start");
                if until >= free_at {
                    break;
                }
                now = until;
            }
            other => panic!("{other:?} while waiting for a connection"),
        }
    }
    let expected: Vec<_> = (0..4).map(|s| (secs(s), bankid_core::qr::content("qrtoken", "S3CR3T", s))).collect();
    assert_eq!(shown, expected);
    // With a connection, the collect goes out at once, and nothing else is due.
    let Output::Send { endpoint: Endpoint::Collect, .. } = order.poll_output(free_at, &config) else { panic!() };
    assert!(!order.wants_to_send());
    assert!(matches!(order.poll_output(free_at, &config), Output::Wait(_)));
}

#[test]
fn a_slow_collect_answer_still_keeps_one_second_between_collects() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::AutoStart, t0)).with_latency(ms(2_500));
    run.drive(secs(20), |_, _| Answer::Http(pending("userSign")));
    let sent = run.collects();
    assert!(sent.windows(2).all(|w| w[1] - w[0] == ms(2_500)), "{sent:?}");
}

#[test]
fn stale_and_foreign_results_are_refused_and_change_nothing() {
    let config = Config::test();
    let t0 = Instant::now();
    let mut order = Order::new(&start(), StartMode::AutoStart, t0);
    let mut other = Order::new(&start(), StartMode::AutoStart, t0);
    let Output::Send { id, .. } = order.poll_output(t0, &config) else { panic!() };
    let Output::Send { id: other_id, .. } = other.poll_output(t0, &config) else { panic!() };
    assert_ne!(id, other_id);

    // Another order's request id: refused, the order still waits for its own.
    assert_eq!(order.handle_input(t0, Input::Response(other_id, complete())), Err(InputError::Foreign(other_id)));
    assert!(matches!(order.poll_output(t0, &config), Output::Wait(_)));
    order.handle_input(t0, Input::Response(id, pending("userSign"))).unwrap();
    // The same id again: answered already.
    assert_eq!(order.handle_input(t0, Input::Response(id, complete())), Err(InputError::Stale(id)));
    assert!(matches!(order.poll_output(t0, &config), Output::Event(Event::Progress { .. })));

    // After cancel(), the collect in flight is abandoned: its answer is refused.
    let Output::Send { id, abandonable: true, .. } = order.poll_output(t0 + secs(2), &config) else { panic!() };
    order.cancel();
    let Output::Send { id: cancel, endpoint: Endpoint::Cancel, abandonable: false, .. } =
        order.poll_output(t0 + secs(2), &config)
    else {
        panic!()
    };
    assert_eq!(order.handle_input(t0 + secs(2), Input::Response(id, complete())), Err(InputError::Stale(id)));
    order.handle_input(t0 + secs(2), Input::Response(cancel, json(200, "{}"))).unwrap();
    assert!(matches!(order.poll_output(t0 + secs(2), &config), Output::Event(Event::Cancelled { error: None, .. })));
    assert!(matches!(order.poll_output(t0 + secs(2), &config), Output::Done));
    // Nothing is taken after the end.
    assert_eq!(order.handle_input(t0 + secs(3), Input::Response(cancel, complete())), Err(InputError::Stale(cancel)));
    assert!(matches!(order.poll_output(t0 + secs(3), &config), Output::Done));
}

#[test]
fn a_collect_answer_about_another_order_is_an_error_not_a_login() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    let foreign = String::from_utf8(complete().into_body()).unwrap().replace("ref-1", "ref-2");
    run.drive(secs(60), |_, _| Answer::Http(json(200, &foreign)));
    let Event::Error(Error::UnexpectedResponse(err)) = run.last() else { panic!("{:?}", run.last()) };
    assert_eq!(err.kind, UnexpectedKind::ForeignOrder);
    assert_eq!(run.collects().len(), 1, "not retried");
    assert!(!run.events.iter().any(|(_, e)| matches!(e, Event::Completed(_))));
}

#[test]
fn an_oversized_collect_answer_is_not_retried() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::Qr, t0));
    run.drive(secs(60), |_, _| Answer::Transport(TransportErrorKind::BodyTooLarge));
    assert_eq!(run.collects().len(), 1);
    let Event::Error(err) = run.last() else { panic!("{:?}", run.last()) };
    assert!(err.to_string().contains(&bankid_core::MAX_RESPONSE_BODY.to_string()), "{err}");
}

#[test]
fn a_result_never_handed_in_times_out_and_the_order_goes_on() {
    let config = Config::test().with_request_timeout(secs(3));
    let t0 = Instant::now();
    let mut order = Order::new(&start(), StartMode::AutoStart, t0);
    let Output::Send { id, .. } = order.poll_output(t0, &config) else { panic!() };
    let Output::Wait(until) = order.poll_output(t0, &config) else { panic!() };
    assert_eq!(until, t0 + secs(3) + bankid_core::order::RESPONSE_GRACE);
    let Output::Event(Event::Retrying { attempt: 1, error: Error::Transport(err), .. }) =
        order.poll_output(until, &config)
    else {
        panic!()
    };
    assert!(err.is_timeout());
    // The lost answer, if it ever comes, is stale.
    assert_eq!(order.handle_input(until, Input::Response(id, complete())), Err(InputError::Stale(id)));
    assert!(matches!(order.poll_output(until + secs(2), &config), Output::Send { .. }));
}

#[test]
fn retries_count_across_resumes() {
    let config = Config::test();
    let t0 = Instant::now();
    let wall0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let options = || OrderOptions::default().max_maintenance_retries(2);
    let mut state = OrderState::new(&start(), StartMode::AutoStart, wall0);
    // Each poll lands on a fresh instance: resume, collect, answer maintenance, save.
    let mut errors = 0;
    for poll in 0..3u64 {
        let (now, wall) = (t0 + secs(10 * poll), wall0 + secs(10 * poll));
        let mut order = Order::resume(state.clone(), now, wall, options());
        loop {
            match order.poll_output(now, &config) {
                Output::Send { id, .. } => {
                    order.handle_input(now, Input::Response(id, error(503, "maintenance"))).unwrap();
                }
                Output::Event(Event::Error(err)) => {
                    assert_eq!(err.error_code(), Some(&ErrorCode::Maintenance));
                    errors += 1;
                }
                Output::Event(_) => {}
                Output::Wait(_) | Output::Done => break,
            }
        }
        state = order.state(now, wall);
    }
    assert_eq!(errors, 1, "two retries across two resumes, then the third maintenance ends the order");
}
