//! One status poll of a resumed order: resume the core's [`Order`] from its sealed state, let
//! it run at `now` - send the collect it asks for through the client and hand the response in
//! - read what happened, and keep the new state to seal again.
//!
//! The collect cadence is the core's: the state carries the wall-clock time of the last
//! collect, so a resumed order collects 2 s after it and never within 1 s of it, whichever
//! instance sent it.

use std::time::{Duration, Instant, SystemTime};

use bankid_core::{
    CompletionData, DeviceKind, Error, Event, FailedHintCode, Input, Order, OrderOptions, OrderResponse, OrderState,
    Output, PendingHintCode, Rfa, StartMode,
};
use bankid_tokio::{Client, HttpTransport};
use serde::{Deserialize, Serialize};

/// What the core needs to resume an order (with the QR secret: sealed, never in clear).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(transparent)]
pub(crate) struct OrderSnapshot(OrderState);

/// How a poll ended the order.
#[derive(Debug)]
pub(crate) enum End {
    /// Complete.
    Completed(Box<CompletionData>),
    /// Failed at BankID.
    Failed(FailedHintCode, Rfa),
    /// Cancelled at BankID (its deadline passed).
    Cancelled,
    /// An error that is not retried.
    Error(Error),
}

/// What one poll found.
#[derive(Debug)]
pub(crate) struct Polled {
    /// The latest pending hint.
    pub(crate) hint: Option<PendingHintCode>,
    /// The QR content for the current second, while one should be shown.
    pub(crate) qr: Option<String>,
    /// Set when the order ended.
    pub(crate) end: Option<End>,
}

impl OrderSnapshot {
    /// The state of an order whose start response arrived at `wall`.
    pub(crate) fn new(response: &OrderResponse, mode: StartMode, wall: SystemTime) -> Self {
        Self(OrderState::new(response, mode, wall))
    }

    pub(crate) fn order_ref(&self) -> &str {
        &self.0.order_ref
    }

    pub(crate) fn mode(&self) -> StartMode {
        self.0.mode
    }

    pub(crate) fn auto_start_token(&self) -> Option<&str> {
        self.0.auto_start_token.as_deref()
    }

    /// The QR content at `wall`, while the app has not picked the order up (QR mode).
    pub(crate) fn qr_content(&self, wall: SystemTime) -> Option<String> {
        let state = &self.0;
        let showing = matches!(state.hint_code, None | Some(PendingHintCode::OutstandingTransaction));
        match (&state.qr_start_token, &state.qr_start_secret) {
            (Some(token), Some(secret)) if showing && state.mode == StartMode::Qr => {
                Some(bankid_core::qr::content_at_system_time(token, secret, state.started_at, wall))
            }
            _ => None,
        }
    }

    /// The message for the current pending state.
    pub(crate) fn message(&self, device: DeviceKind) -> Rfa {
        let hint = self.0.hint_code.clone().unwrap_or(PendingHintCode::OutstandingTransaction);
        Rfa::for_pending(&hint, self.0.mode, device)
    }
}

/// Polls the order at `wall`: resumes it, sends what it asks for (a due collect, or the cancel
/// when its `deadline` has passed), and reports.
pub(crate) async fn poll<T: HttpTransport>(
    client: &Client<T>,
    snapshot: &mut OrderSnapshot,
    device: DeviceKind,
    deadline: Duration,
    wall: SystemTime,
) -> Polled {
    let start = Instant::now();
    let wall_at = |now: Instant| wall + now.saturating_duration_since(start);
    let options = OrderOptions::default().device(device).deadline(deadline);
    let mut order = Order::resume(snapshot.0.clone(), start, wall, options);
    let mut end = None;
    let mut now = start;
    loop {
        match order.poll_output(now, client.config()) {
            Output::Event(Event::Completed(data)) => end = Some(End::Completed(data)),
            Output::Event(Event::Failed { hint_code, message }) => end = Some(End::Failed(hint_code, message)),
            Output::Event(Event::Cancelled { .. }) => end = Some(End::Cancelled),
            Output::Event(Event::Error(error)) => end = Some(End::Error(error)),
            // QR codes are drawn for the moment of the answer, below; progress is in the state.
            Output::Event(_) => {}
            Output::Send { id, request, .. } => {
                let result = client.execute(request).await;
                now = Instant::now();
                // Only this order's awaited request is answered here: a refusal cannot happen.
                let _ = order.handle_input(now, Input::from_result(id, result));
            }
            Output::Wait(_) | Output::Done => break,
        }
    }
    snapshot.0 = order.state(now, wall_at(now));
    Polled {
        hint: order.hint_code().cloned(),
        qr: if end.is_none() { snapshot.qr_content(wall_at(now)) } else { None },
        end,
    }
}
