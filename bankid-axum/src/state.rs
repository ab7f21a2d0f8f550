//! What the sealed cookie holds: the per-session order count and the running order.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::device::Platform;
use crate::flow::OrderSnapshot;
use crate::rp::OrderKind;

/// The plaintext of the order cookie.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Session {
    /// Unix seconds after which the cookie is refused.
    #[serde(rename = "x")]
    pub(crate) expires: u64,
    /// Unix seconds when the count of orders began.
    #[serde(rename = "w")]
    pub(crate) window_start: u64,
    /// Orders started since `window_start` (restarts not counted).
    #[serde(rename = "n")]
    pub(crate) orders: u32,
    /// The running order, if any.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub(crate) order: Option<Active>,
}

/// A running order.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Active {
    /// auth, sign or payment.
    #[serde(rename = "k")]
    pub(crate) kind: OrderKind,
    /// What the core needs to resume the order (with the QR secret: sealed, never in clear).
    #[serde(rename = "s")]
    pub(crate) order: OrderSnapshot,
    /// The user's platform, for the launch URL and the messages.
    #[serde(rename = "p")]
    pub(crate) platform: Platform,
    /// The return nonce: the page that `returnUrl` leads back to must present it.
    #[serde(rename = "r")]
    pub(crate) nonce: String,
    /// The `returnUrl` (with the nonce) when the order has one.
    #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
    pub(crate) return_url: Option<String>,
    /// Restarts after `startFailed` so far.
    #[serde(rename = "t")]
    pub(crate) restarts: u32,
    /// The RP's context from the start request.
    #[serde(rename = "c", default, skip_serializing_if = "Option::is_none")]
    pub(crate) context: Option<String>,
}

/// Unix seconds of `time` (0 before the epoch).
pub(crate) fn unix(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs()
}
