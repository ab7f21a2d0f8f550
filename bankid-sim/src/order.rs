//! One order and its life on the server's clock: the phases, the time rules, what the
//! simulated phone may do to it, what a collect answers, and its completion data. The orders
//! themselves are kept by [`crate::store`].

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::clock::Clock;
use crate::config::{TestPerson, Timings};
use crate::endpoint::Endpoint;
use crate::fault::Fault;
use crate::pki::Pki;
use crate::qr::{self, ScannedQr};
use crate::signature::{self, SignInput};
use crate::validate::{ApiError, StartRequest};

/// At most this many queued per-order faults.
const MAX_ORDER_FAULTS: usize = 1_000;

/// Everything the order logic needs besides the orders.
#[derive(Debug)]
pub(crate) struct Ctx {
    pub(crate) clock: Clock,
    pub(crate) timings: Timings,
    pub(crate) person: TestPerson,
    pub(crate) pki: Arc<Pki>,
    pub(crate) auto: Option<Duration>,
}

/// Why a simulated-phone action was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PhoneError {
    /// The string is not `bankid.<token>.<seconds>.<64 hex digits>`.
    #[error("not a BankID QR code")]
    InvalidQr,
    /// No order has this QR start token or autostart token.
    #[error("unknown token")]
    UnknownToken,
    /// The QR code's HMAC does not match the order's secret for the claimed time.
    #[error("the QR code's auth code is wrong")]
    WrongCode,
    /// The QR code's time is too old (or in the future) for the server's clock.
    #[error("the QR code is for second {claimed} but the order is {elapsed} s old")]
    QrTime {
        /// Seconds claimed by the QR code.
        claimed: u64,
        /// Whole seconds since the order was created, on the server's clock.
        elapsed: u64,
    },
    /// No such order (never existed, cancelled, or purged).
    #[error("no such order")]
    NoSuchOrder,
    /// The order is not waiting to be picked up (already picked up).
    #[error("the order has already been picked up")]
    AlreadyPickedUp,
    /// The order has not been picked up (scan the QR or use the autostart token first).
    #[error("the order has not been picked up yet")]
    NotPickedUp,
    /// The order is complete or failed.
    #[error("the order is no longer pending")]
    NotPending,
    /// The action does not fit this kind of order (e.g. opening a QR order as a pushed one).
    #[error("not possible for a {0} order")]
    WrongKind(Endpoint),
    /// The order is at its last pending step; approve it instead.
    #[error("the order is at its last step (userSign): approve, cancel or fail it")]
    LastStep,
    /// A hint code must be 1-64 ASCII letters or digits.
    #[error("invalid hint code")]
    InvalidHint,
}

/// A snapshot of one order, for tests and `/sim/order`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct OrderInfo {
    /// The order reference.
    pub order_ref: String,
    /// The endpoint that started it.
    pub endpoint: Endpoint,
    /// The start request's JSON body, as the RP sent it.
    pub request: Value,
    /// `pending`, `complete` or `failed`.
    pub status: &'static str,
    /// The hint code (pending and failed orders).
    pub hint_code: Option<String>,
    /// The completion data (complete orders, until a collect has delivered it: it is dropped
    /// then, as it can never be collected again).
    pub completion_data: Option<Value>,
    /// The personal number the order is bound to, if any.
    pub personal_number: Option<String>,
    /// SHA-256 (hex) of the certificate of the RP that created the order.
    pub rp_fingerprint: String,
    /// `qrStartToken` (auth, sign, payment).
    pub qr_start_token: Option<String>,
    /// `qrStartSecret` (auth, sign, payment).
    pub qr_start_secret: Option<String>,
    /// `autoStartToken` (auth, sign, payment).
    pub auto_start_token: Option<String>,
    /// A collect has already delivered the final status (`complete` or `failed`); further
    /// collects are refused.
    pub final_status_collected: bool,
}

impl OrderInfo {
    /// As JSON (camelCase).
    pub fn to_json(&self) -> Value {
        json!({
            "orderRef": self.order_ref,
            "endpoint": self.endpoint.name(),
            "request": self.request,
            "status": self.status,
            "hintCode": self.hint_code,
            "completionData": self.completion_data,
            "personalNumber": self.personal_number,
            "rpFingerprint": self.rp_fingerprint,
            "qrStartToken": self.qr_start_token,
            "qrStartSecret": self.qr_start_secret,
            "autoStartToken": self.auto_start_token,
            "finalStatusCollected": self.final_status_collected,
        })
    }
}

/// The start tokens of an auth, sign or payment order.
#[derive(Debug, Clone)]
pub(crate) struct Tokens {
    pub(crate) qr_start_token: String,
    pub(crate) qr_start_secret: String,
    pub(crate) auto_start_token: String,
}

impl Tokens {
    pub(crate) fn new() -> Self {
        Self {
            qr_start_token: Uuid::new_v4().to_string(),
            qr_start_secret: Uuid::new_v4().to_string(),
            auto_start_token: Uuid::new_v4().to_string(),
        }
    }
}

/// Pending steps after pickup.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Started,
    CallConfirm,
    Mrtd,
    UserSign,
}

impl Step {
    fn hint(self) -> &'static str {
        match self {
            Self::Started => "started",
            Self::CallConfirm => "userCallConfirm",
            Self::Mrtd => "userMrtd",
            Self::UserSign => "userSign",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pickup {
    Qr,
    Autostart,
    App,
}

#[derive(Debug)]
enum Phase {
    Outstanding,
    Pending { steps: Vec<Step>, idx: usize },
    Complete(Arc<Value>),
    Failed(String),
}

/// One order.
#[derive(Debug)]
pub(crate) struct Order {
    order_ref: Uuid,
    rp: [u8; 32],
    created: Instant,
    /// When the current phase (or pending step) began.
    since: Instant,
    req: StartRequest,
    tokens: Option<Tokens>,
    phase: Phase,
    /// Picked up (QR scanned, autostart token used, pushed order opened) at some point.
    picked_up: bool,
    /// A collect has delivered the final status (`complete` or `failed`): the next one is
    /// refused, as BankID refuses to collect an order twice.
    final_delivered: bool,
    faults: VecDeque<Fault>,
    auto: Option<Duration>,
}

/// `i + d`, saturating at a century instead of overflowing.
fn later(i: Instant, d: Duration) -> Instant {
    i.checked_add(d).or_else(|| i.checked_add(Duration::from_secs(100 * 365 * 86_400))).unwrap_or(i)
}

/// What collect shows for one order.
#[derive(Debug)]
pub(crate) struct CollectView {
    pub(crate) status: &'static str,
    pub(crate) hint: Option<String>,
    pub(crate) data: Option<Arc<Value>>,
}

/// The collect response body.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CollectBody<'a> {
    pub(crate) order_ref: &'a str,
    pub(crate) status: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) hint_code: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) completion_data: Option<&'a Value>,
}

impl Order {
    pub(crate) fn new(rp: [u8; 32], now: Instant, req: StartRequest, auto: Option<Duration>) -> Self {
        let tokens = req.endpoint.has_tokens().then(Tokens::new);
        Self {
            order_ref: Uuid::new_v4(),
            rp,
            created: now,
            since: now,
            req,
            tokens,
            phase: Phase::Outstanding,
            picked_up: false,
            final_delivered: false,
            faults: VecDeque::new(),
            auto,
        }
    }

    pub(crate) fn order_ref(&self) -> Uuid {
        self.order_ref
    }

    pub(crate) fn tokens(&self) -> Option<&Tokens> {
        self.tokens.as_ref()
    }

    /// Takes the tokens out (when the order is purged: the store forgets them).
    pub(crate) fn take_tokens(&mut self) -> Option<Tokens> {
        self.tokens.take()
    }

    /// The personal number the order is bound to, if any.
    pub(crate) fn personal_number(&self) -> Option<&str> {
        self.req.personal_number.as_deref()
    }

    /// `true` if the RP with certificate hash `rp` created the order.
    pub(crate) fn belongs_to(&self, rp: &[u8; 32]) -> bool {
        self.rp == *rp
    }

    pub(crate) fn is_pending(&self) -> bool {
        matches!(self.phase, Phase::Outstanding | Phase::Pending { .. })
    }

    fn is_pushed(&self) -> bool {
        !self.req.endpoint.has_tokens()
    }

    /// Applies every time rule up to `now`; `false` if the order is gone (past its window).
    pub(crate) fn settle(&mut self, now: Instant, ctx: &Ctx) -> bool {
        let t = &ctx.timings;
        loop {
            let auto_at = self.auto.map(|d| later(self.since, d));
            match self.phase {
                Phase::Outstanding => {
                    // A QR or autostart order that nobody starts fails with `startFailed`; a
                    // pushed order has nothing to start and waits in the user's app until it
                    // expires.
                    let (fail_at, hint) = if self.is_pushed() {
                        (later(self.created, t.order_lifetime), "expiredTransaction")
                    } else {
                        (later(self.created, t.start_failed), "startFailed")
                    };
                    if let Some(at) = auto_at.filter(|at| *at < fail_at && now >= *at) {
                        self.auto_pickup(at, ctx);
                        continue;
                    }
                    if now >= fail_at {
                        self.fail(fail_at, hint);
                        continue;
                    }
                    return true;
                }
                Phase::Pending { .. } => {
                    let expire_at = later(self.created, t.order_lifetime);
                    if let Some(at) = auto_at.filter(|at| *at < expire_at && now >= *at) {
                        if self.advance(at).is_err() {
                            self.complete(at, ctx);
                        }
                        continue;
                    }
                    if now >= expire_at {
                        self.fail(expire_at, "expiredTransaction");
                        continue;
                    }
                    return true;
                }
                Phase::Complete(_) => return now < later(self.since, t.complete_ttl),
                Phase::Failed(ref hint)
                    if !self.picked_up && matches!(hint.as_str(), "startFailed" | "expiredTransaction") =>
                {
                    return now < later(self.since, t.unpicked_ttl);
                }
                Phase::Failed(_) => return now < later(self.since, t.failed_ttl),
            }
        }
    }

    /// Auto mode: a QR order is scanned with the QR content of the current second (through the
    /// same check as a real scan); a pushed order is opened in the app.
    fn auto_pickup(&mut self, at: Instant, ctx: &Ctx) {
        let result = match &self.tokens {
            Some(t) => {
                let secs = at.saturating_duration_since(self.created).as_secs();
                let content = qr::qr_content(&t.qr_start_token, &t.qr_start_secret, secs);
                match qr::parse(&content) {
                    Some(scanned) => self.check_qr(&scanned, at, ctx),
                    None => Err(PhoneError::InvalidQr),
                }
                .map(|()| Pickup::Qr)
            }
            None => Ok(Pickup::App),
        };
        match result {
            Ok(how) => self.pick_up(how, at),
            // Cannot happen with a consistent secret; stop auto mode rather than loop.
            Err(_) => self.auto = None,
        }
    }

    fn check_qr(&self, scanned: &ScannedQr<'_>, now: Instant, ctx: &Ctx) -> Result<(), PhoneError> {
        let t = self.tokens.as_ref().ok_or(PhoneError::WrongKind(self.req.endpoint))?;
        if scanned.token != t.qr_start_token {
            return Err(PhoneError::UnknownToken);
        }
        if !qr::verify(&t.qr_start_secret, scanned.seconds, scanned.code) {
            return Err(PhoneError::WrongCode);
        }
        let elapsed = now.saturating_duration_since(self.created).as_secs();
        // One second of slack forwards for clocks that tick a little differently.
        let too_new = scanned.seconds > elapsed.saturating_add(1);
        let too_old = elapsed.saturating_sub(scanned.seconds) > ctx.timings.qr_max_age;
        if too_new || too_old {
            return Err(PhoneError::QrTime { claimed: scanned.seconds, elapsed });
        }
        Ok(())
    }

    fn pick_up(&mut self, how: Pickup, at: Instant) {
        let mut steps = Vec::with_capacity(3);
        match how {
            Pickup::Autostart => steps.push(Step::Started),
            Pickup::App if matches!(self.req.endpoint, Endpoint::PhoneAuth | Endpoint::PhoneSign) => {
                steps.push(Step::CallConfirm);
            }
            _ => {}
        }
        if self.req.mrtd {
            steps.push(Step::Mrtd);
        }
        steps.push(Step::UserSign);
        self.phase = Phase::Pending { steps, idx: 0 };
        self.picked_up = true;
        self.since = at;
    }

    fn require_outstanding(&self) -> Result<(), PhoneError> {
        match self.phase {
            Phase::Outstanding => Ok(()),
            Phase::Pending { .. } => Err(PhoneError::AlreadyPickedUp),
            _ => Err(PhoneError::NotPending),
        }
    }

    /// The next pending step; `Err(LastStep)` at `userSign`.
    fn advance(&mut self, at: Instant) -> Result<&'static str, PhoneError> {
        match &mut self.phase {
            Phase::Outstanding => Err(PhoneError::NotPickedUp),
            Phase::Pending { steps, idx } => {
                if *idx + 1 >= steps.len() {
                    return Err(PhoneError::LastStep);
                }
                *idx += 1;
                let hint = steps[*idx].hint();
                self.since = at;
                Ok(hint)
            }
            _ => Err(PhoneError::NotPending),
        }
    }

    fn fail(&mut self, at: Instant, hint: &str) {
        self.phase = Phase::Failed(hint.to_owned());
        self.since = at;
    }

    fn complete(&mut self, at: Instant, ctx: &Ctx) {
        match completion_data(self, ctx, &ctx.person) {
            Ok(data) => {
                self.phase = Phase::Complete(Arc::new(data));
                self.since = at;
            }
            Err(e) => {
                tracing::error!(order_ref = %self.order_ref, "signing failed: {e}");
                self.fail(at, "certificateErr");
            }
        }
    }

    /// What a collect answers: the current view; a final status only once.
    pub(crate) fn collect(&mut self) -> Result<CollectView, ApiError> {
        if self.is_pending() {
            return Ok(self.view());
        }
        if std::mem::replace(&mut self.final_delivered, true) {
            return Err(ApiError::collected_twice());
        }
        let view = self.view();
        if let Phase::Complete(data) = &mut self.phase {
            // It can never be collected again: keep the order's status, drop its signed data
            // (about 15 KB), so that many completed orders cost little until they are purged.
            *data = Arc::new(Value::Null);
        }
        Ok(view)
    }

    /// A new order for the same personal number arrived while this one is pending: it fails
    /// with `cancelled` (BankID: "the system received a new order for the user"). `false` if
    /// it was not pending.
    pub(crate) fn cancel_for_new_order(&mut self, now: Instant) -> bool {
        let pending = self.is_pending();
        if pending {
            self.fail(now, "cancelled");
        }
        pending
    }

    /// The phone scans a QR code of this order.
    pub(crate) fn scan(&mut self, scanned: &ScannedQr<'_>, now: Instant, ctx: &Ctx) -> Result<String, PhoneError> {
        self.check_qr(scanned, now, ctx)?;
        self.require_outstanding()?;
        self.pick_up(Pickup::Qr, now);
        Ok(self.order_ref.to_string())
    }

    /// The app is started with `token`.
    pub(crate) fn use_autostart(&mut self, token: &str, now: Instant) -> Result<String, PhoneError> {
        if self.tokens.as_ref().is_none_or(|t| t.auto_start_token != token) {
            return Err(PhoneError::UnknownToken);
        }
        self.require_outstanding()?;
        self.pick_up(Pickup::Autostart, now);
        Ok(self.order_ref.to_string())
    }

    /// The user opens a pushed order in the app; the new hint code.
    pub(crate) fn open_app(&mut self, now: Instant) -> Result<String, PhoneError> {
        if !self.is_pushed() {
            return Err(PhoneError::WrongKind(self.req.endpoint));
        }
        self.require_outstanding()?;
        self.pick_up(Pickup::App, now);
        Ok(self.view().hint.unwrap_or_default())
    }

    /// The next pending step; the new hint code.
    pub(crate) fn next_step(&mut self, now: Instant) -> Result<String, PhoneError> {
        self.advance(now).map(str::to_owned)
    }

    /// The user approves (a pushed order is opened implicitly).
    pub(crate) fn approve(&mut self, now: Instant, ctx: &Ctx) -> Result<(), PhoneError> {
        match self.phase {
            Phase::Outstanding if self.is_pushed() => self.pick_up(Pickup::App, now),
            Phase::Outstanding => return Err(PhoneError::NotPickedUp),
            Phase::Pending { .. } => {}
            _ => return Err(PhoneError::NotPending),
        }
        self.complete(now, ctx);
        Ok(())
    }

    /// The order fails with `hint` (the user cancels, or a test says so).
    pub(crate) fn fail_with(&mut self, now: Instant, hint: &str) -> Result<(), PhoneError> {
        if !valid_hint(hint) {
            return Err(PhoneError::InvalidHint);
        }
        if !self.is_pending() {
            return Err(PhoneError::NotPending);
        }
        self.fail(now, hint);
        Ok(())
    }

    /// What the RP's screen shows now for a QR order.
    pub(crate) fn current_qr(&self, now: Instant) -> Result<String, PhoneError> {
        let t = self.tokens.as_ref().ok_or(PhoneError::WrongKind(self.req.endpoint))?;
        let secs = now.saturating_duration_since(self.created).as_secs();
        Ok(qr::qr_content(&t.qr_start_token, &t.qr_start_secret, secs))
    }

    /// Queues `fault` for the next `times` collect/cancel requests (at most
    /// [`MAX_ORDER_FAULTS`] queued).
    pub(crate) fn inject_fault(&mut self, fault: Fault, times: u32) {
        let room = MAX_ORDER_FAULTS.saturating_sub(self.faults.len());
        let n = usize::try_from(times).unwrap_or(usize::MAX).min(room);
        self.faults.extend(std::iter::repeat_n(fault, n));
    }

    /// The next queued fault.
    pub(crate) fn take_fault(&mut self) -> Option<Fault> {
        self.faults.pop_front()
    }

    fn view(&self) -> CollectView {
        match &self.phase {
            Phase::Outstanding => {
                CollectView { status: "pending", hint: Some("outstandingTransaction".to_owned()), data: None }
            }
            Phase::Pending { steps, idx } => {
                CollectView { status: "pending", hint: steps.get(*idx).map(|s| s.hint().to_owned()), data: None }
            }
            Phase::Complete(data) => {
                CollectView { status: "complete", hint: None, data: (!data.is_null()).then(|| data.clone()) }
            }
            Phase::Failed(hint) => CollectView { status: "failed", hint: Some(hint.clone()), data: None },
        }
    }

    pub(crate) fn info(&self) -> OrderInfo {
        let view = self.view();
        OrderInfo {
            order_ref: self.order_ref.to_string(),
            endpoint: self.req.endpoint,
            request: self.req.raw.clone(),
            status: view.status,
            hint_code: view.hint,
            completion_data: view.data.map(|d| (*d).clone()),
            personal_number: self.req.personal_number.clone(),
            rp_fingerprint: hex::encode(self.rp),
            qr_start_token: self.tokens.as_ref().map(|t| t.qr_start_token.clone()),
            qr_start_secret: self.tokens.as_ref().map(|t| t.qr_start_secret.clone()),
            auto_start_token: self.tokens.as_ref().map(|t| t.auto_start_token.clone()),
            final_status_collected: self.final_delivered,
        }
    }
}

/// `uhi`: a stable 28-character base64 device id per personal number.
fn uhi(pnr: &str) -> String {
    let d = Sha256::digest(format!("bankid-sim uhi {pnr}").as_bytes());
    base64::engine::general_purpose::STANDARD.encode(&d[..21])
}

fn completion_data(order: &Order, ctx: &Ctx, p: &TestPerson) -> Result<Value, String> {
    let pnr = order.req.personal_number.as_deref().unwrap_or(&p.personal_number);
    let uhi = uhi(pnr);
    let rp_name = ctx.pki.rp_display_name(&order.rp).unwrap_or("Unknown RP");
    let func_id = match order.req.endpoint {
        Endpoint::Auth | Endpoint::PhoneAuth => "Identification",
        _ => "Signing",
    };
    let policies =
        if order.req.policies.is_empty() { vec!["1.2.3.4.25".to_owned()] } else { order.req.policies.clone() };
    let signed = signature::sign(
        &ctx.pki,
        &SignInput {
            func_id,
            visible: order.req.visible.as_deref(),
            non_visible: order.req.non_visible.as_deref(),
            rp_name,
            policies: &policies,
            uhi: &uhi,
            personal_number: pnr,
            given_name: &p.given_name,
            surname: &p.surname,
            now: ctx.clock.system_now(),
        },
    )?;
    let ip = order.req.end_user_ip.unwrap_or(p.phone_ip);
    let mut data = json!({
        "user": {
            "personalNumber": pnr,
            "name": p.name(),
            "givenName": p.given_name,
            "surname": p.surname,
        },
        "device": { "ipAddress": ip.to_string(), "uhi": uhi },
        "bankIdIssueDate": p.bank_id_issue_date,
        "signature": signed.signature,
        "ocspResponse": signed.ocsp_response,
    });
    if let Some(obj) = data.as_object_mut() {
        if order.req.mrtd {
            obj.insert("stepUp".into(), json!({ "mrtd": true }));
        }
        if order.req.return_risk {
            obj.insert("risk".into(), json!("low"));
        }
    }
    Ok(data)
}

/// The answer of [`Fault::ForeignOrderRef`]: a complete collect answer of an order that is
/// not the one asked about (a fresh reference, never stored), for [`TestPerson::foreign`],
/// signed for the RP `rp` like any completion.
pub(crate) fn foreign_answer(ctx: &Ctx, rp: [u8; 32]) -> Result<(String, Value), String> {
    let person = TestPerson::foreign();
    let body = json!({
        "endUserIp": person.phone_ip.to_string(),
        "requirement": { "personalNumber": person.personal_number },
    });
    let req = crate::validate::start_request(Endpoint::Auth, body).map_err(|e| e.details)?;
    let order = Order::new(rp, ctx.clock.now(), req, None);
    let data = completion_data(&order, ctx, &person)?;
    Ok((order.order_ref.to_string(), data))
}

fn valid_hint(hint: &str) -> bool {
    (1..=64).contains(&hint.len()) && hint.bytes().all(|b| b.is_ascii_alphanumeric())
}
