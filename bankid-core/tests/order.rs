//! The order state machine on a virtual clock: whole flows of 30+ simulated seconds that run in
//! microseconds.
#![allow(clippy::disallowed_methods)] // tests take one real Instant as the virtual clock's origin

use std::time::{Duration, Instant, SystemTime};

use bankid_core::{
    CancelReason, Config, DeviceKind, Error, ErrorCode, Event, FailedHintCode, Order, OrderOptions, OrderRequest,
    OrderResponse, PendingHintCode, PhoneOrderResponse, Rfa, StartMode, TransportError, TransportErrorKind,
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

/// A virtual-clock driver: answers each request with the next scripted answer and records
/// what was sent, when, and every event.
struct Run {
    t0: Instant,
    now: Instant,
    order: Order,
    sent: Vec<(Duration, &'static str)>,
    events: Vec<(Duration, Event)>,
}

enum Answer {
    Http(http::Response<Vec<u8>>),
    Transport(TransportErrorKind),
}

impl Run {
    fn new(order: impl FnOnce(Instant) -> Order) -> Self {
        let t0 = Instant::now();
        Self { t0, now: t0, order: order(t0), sent: vec![], events: vec![] }
    }

    /// Runs until the order ends or `limit` passes, answering requests with `answer`.
    fn drive(&mut self, limit: Duration, mut answer: impl FnMut(Duration, &OrderRequest) -> Answer) {
        let config = Config::test();
        while !self.order.is_finished() && self.now - self.t0 <= limit {
            self.drain();
            if let Some(request) = self.order.poll_request(self.now) {
                let at = self.now - self.t0;
                request.to_http(&config).unwrap();
                self.sent.push((at, request.endpoint().name()));
                match answer(at, &request) {
                    Answer::Http(response) => self.order.handle_response(self.now, response),
                    Answer::Transport(kind) => {
                        self.order.handle_transport_error(self.now, TransportError::from_kind(kind))
                    }
                }
                continue;
            }
            let next = self.order.poll_timeout().expect("an unfinished order always has a timeout");
            assert!(next >= self.now, "poll_timeout in the past");
            self.now = next;
        }
        self.drain();
    }

    fn drain(&mut self) {
        while let Some(event) = self.order.poll_event() {
            self.events.push((self.now - self.t0, event));
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
    assert!(run.order.poll_request(run.now + secs(10)).is_none(), "nothing after complete");
    assert!(run.order.poll_timeout().is_none());
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
    run.drive(secs(60), |_, request| {
        assert!(matches!(request, OrderRequest::Cancel(_)));
        Answer::Http(json(200, "{}"))
    });
    assert_eq!(run.sent.last().unwrap().1, "cancel");
    assert!(matches!(run.last(), Event::Cancelled { reason: CancelReason::Caller, error: None }));
    assert!(run.order.is_finished());
    // Cancelling a finished order does nothing.
    run.order.cancel();
    assert!(run.order.poll_request(run.now).is_none());
}

#[test]
fn deadline_cancels_the_order_at_bankid() {
    let options = OrderOptions::default().deadline(secs(30));
    let mut run = Run::new(|t0| Order::with_options(&start(), StartMode::Qr, t0, options));
    run.drive(secs(120), |_, request| match request {
        OrderRequest::Collect(_) => Answer::Http(pending("outstandingTransaction")),
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
fn start_state_round_trips_through_serde_and_resumes() {
    let t0 = Instant::now();
    let wall0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let order = Order::new(&start(), StartMode::Qr, t0);
    let state = order.start_state(t0 + secs(7), wall0 + secs(7));
    let text = serde_json::to_string(&state).unwrap();
    assert!(!format!("{state:?}").contains("S3CR3T"));

    // Another process, another monotonic clock: 3 s later on the wall clock.
    let t1 = Instant::now() + secs(1000);
    let resumed = Order::resume(serde_json::from_str(&text).unwrap(), t1, wall0 + secs(10), OrderOptions::default());
    assert_eq!(resumed.order_ref(), "ref-1");
    assert_eq!(resumed.auto_start_token(), Some("auto"));
    assert_eq!(resumed.qr_content(t1).unwrap(), bankid_core::qr::content("qrtoken", "S3CR3T", 10));
    // A wall clock behind the start time never yields a negative QR time.
    let resumed = Order::resume(serde_json::from_str(&text).unwrap(), t1, wall0 - secs(5), OrderOptions::default());
    assert_eq!(resumed.qr_content(t1).unwrap(), bankid_core::qr::content("qrtoken", "S3CR3T", 0));
}

#[test]
fn a_slow_collect_answer_still_keeps_one_second_between_collects() {
    let mut run = Run::new(|t0| Order::new(&start(), StartMode::AutoStart, t0));
    // The answer to each collect arrives 2.5 s after it was sent.
    let config = Config::test();
    let mut sent = vec![];
    while !run.order.is_finished() && run.now - run.t0 < secs(20) {
        if let Some(request) = run.order.poll_request(run.now) {
            request.to_http(&config).unwrap();
            sent.push(run.now - run.t0);
            run.now += Duration::from_millis(2_500);
            run.order.handle_response(run.now, pending("userSign"));
        } else {
            run.now = run.order.poll_timeout().unwrap();
        }
    }
    assert!(sent.windows(2).all(|w| w[1] - w[0] >= secs(1)), "{sent:?}");
    assert!(sent.windows(2).all(|w| w[1] - w[0] == Duration::from_millis(2_500)), "{sent:?}");
}

#[test]
fn drive_runs_a_whole_flow_and_reports_misuse_after_the_end() {
    use bankid_core::Action;
    let config = Config::test();
    let t0 = Instant::now();
    let mut now = t0;
    let mut order = Order::new(&start(), StartMode::Qr, t0);
    let (mut sends, mut events, mut qr_seen) = (0, 0, vec![]);
    let last = loop {
        match order.drive(now, &config) {
            Action::Event(event) => {
                events += 1;
                if let Event::QrChanged(_) = event {
                    qr_seen.push(now);
                }
            }
            Action::Send { request, endpoint } => {
                assert_eq!(endpoint, bankid_core::Endpoint::Collect);
                assert!(request.uri().path().ends_with("/collect"));
                sends += 1;
                let response = if sends < 3 { pending("outstandingTransaction") } else { complete() };
                order.handle_result(now, Ok(response));
            }
            Action::Sleep(until) => {
                assert!(until >= now);
                now = until;
            }
            Action::Done(event) => break event,
        }
    };
    assert!(matches!(last, Event::Completed(_)));
    assert_eq!(sends, 3);
    // Each QR change is handed out at its second, not a turn later.
    for (second, at) in qr_seen.iter().enumerate() {
        assert_eq!(*at, t0 + secs(second as u64), "QR {second}");
    }
    assert_eq!(qr_seen.len(), 5);
    assert!(events >= 5, "QR codes and progress");
    assert!(matches!(order.drive(now, &config), Action::Done(Event::Error(Error::InvalidInput(_)))));

    // A driver that stops waiting for a cancel's answer still gets a final event.
    let mut order = Order::new(&start(), StartMode::Qr, t0);
    order.cancel();
    while let Action::Event(_) = order.drive(t0, &config) {}
    assert!(matches!(order.drive(t0, &config), Action::Done(Event::Cancelled { error: Some(_), .. })));
}
