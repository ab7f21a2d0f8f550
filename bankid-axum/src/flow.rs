//! One status poll of a resumed order: collect when one is due, read what happened, keep the
//! state to seal again.
//!
//! The collect cadence is kept in the state itself (the wall-clock time of the last collect),
//! so that it holds when consecutive polls land on different instances: a collect is sent when
//! the last one is at least the collect interval (2 s) old, never within 1 s of it.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bankid_core::{
    CollectStatus, CompletionData, DeviceKind, Error, FailedHintCode, Order, OrderResponse, OrderStart,
    PendingHintCode, Rfa, StartMode,
};
use bankid_tokio::{Client, HttpTransport};
use serde::{Deserialize, Serialize};

/// The time between two collects (BankID asks for 2 s).
pub(crate) const COLLECT_INTERVAL: Duration = Duration::from_secs(2);

/// What the core needs to resume an order, plus the collect cadence and the latest hint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct OrderSnapshot {
    #[serde(rename = "o")]
    start: OrderStart,
    /// Unix milliseconds of the last collect sent.
    #[serde(rename = "l", default, skip_serializing_if = "Option::is_none")]
    last_collect_ms: Option<u64>,
    /// The latest pending hint code, as sent.
    #[serde(rename = "h", default, skip_serializing_if = "Option::is_none")]
    hint: Option<String>,
}

/// How a poll ended the order.
#[derive(Debug)]
pub(crate) enum End {
    /// Complete.
    Completed(Box<CompletionData>),
    /// Failed at BankID.
    Failed(FailedHintCode, Rfa),
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

fn millis(time: SystemTime) -> u64 {
    u64::try_from(time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_millis()).unwrap_or(u64::MAX)
}

impl OrderSnapshot {
    /// The state of an order whose start response arrived now.
    pub(crate) fn new(response: &OrderResponse, mode: StartMode, now: Instant, wall: SystemTime) -> Self {
        let order = Order::new(response, mode, now);
        Self { start: order.start_state(now, wall), last_collect_ms: None, hint: None }
    }

    pub(crate) fn order_ref(&self) -> &str {
        &self.start.order_ref
    }

    pub(crate) fn mode(&self) -> StartMode {
        self.start.mode
    }

    pub(crate) fn auto_start_token(&self) -> Option<&str> {
        self.start.auto_start_token.as_deref()
    }

    pub(crate) fn started_at(&self) -> SystemTime {
        self.start.started_at
    }

    fn hint(&self) -> Option<PendingHintCode> {
        self.hint.as_deref().map(PendingHintCode::from_wire)
    }

    /// The QR content at `wall`, while the app has not picked the order up (QR mode).
    pub(crate) fn qr_content(&self, wall: SystemTime) -> Option<String> {
        let showing = matches!(self.hint(), None | Some(PendingHintCode::OutstandingTransaction));
        match (&self.start.qr_start_token, &self.start.qr_start_secret) {
            (Some(token), Some(secret)) if showing && self.start.mode == StartMode::Qr => {
                Some(bankid_core::qr::content_at_system_time(token, secret, self.start.started_at, wall))
            }
            _ => None,
        }
    }

    /// The message for the current pending state.
    pub(crate) fn message(&self, device: DeviceKind) -> Rfa {
        let hint = self.hint().unwrap_or(PendingHintCode::OutstandingTransaction);
        Rfa::for_pending(&hint, self.start.mode, device)
    }
}

/// Polls the order at `wall`: collects it when a collect is due, and reports.
pub(crate) async fn poll<T: HttpTransport>(
    client: &Client<T>,
    snapshot: &mut OrderSnapshot,
    device: DeviceKind,
    wall: SystemTime,
) -> Polled {
    let now_ms = millis(wall);
    let due = snapshot
        .last_collect_ms
        .is_none_or(|last| now_ms.saturating_sub(last) >= u64::try_from(COLLECT_INTERVAL.as_millis()).unwrap_or(2000));
    let mut end = None;
    if due {
        snapshot.last_collect_ms = Some(now_ms);
        match client.collect(snapshot.order_ref()).await {
            Ok(response) => match response.status {
                CollectStatus::Pending { hint_code } => snapshot.hint = Some(hint_code.as_str().to_owned()),
                CollectStatus::Unknown { status, hint_code } => snapshot.hint = Some(hint_code.unwrap_or(status)),
                CollectStatus::Failed { hint_code } => {
                    let message = Rfa::for_failed(&hint_code, snapshot.mode(), device);
                    end = Some(End::Failed(hint_code, message));
                }
                CollectStatus::Complete(data) => end = Some(End::Completed(data)),
                _ => {}
            },
            Err(error) if error.is_retryable(bankid_core::Endpoint::Collect) => {}
            Err(error) => end = Some(End::Error(error)),
        }
    }
    Polled { hint: snapshot.hint(), qr: if end.is_none() { snapshot.qr_content(wall) } else { None }, end }
}
