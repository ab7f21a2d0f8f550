//! Typed, forward-compatible responses (spec §3).
//!
//! Unknown JSON fields are ignored everywhere; every code BankID may extend is an open enum.
//! Personal data, the QR secret, the signature and the OCSP response print as `[redacted]` in
//! `Debug`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::{Deserialize, Serialize};

use crate::codes::{FailedHintCode, PendingHintCode, Risk};
use crate::pipeline::{object, optional_object, reference};

/// The answer to auth, sign and payment.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OrderResponse {
    /// The reference to collect or cancel the order with.
    #[serde(deserialize_with = "reference")]
    pub order_ref: String,
    /// Launches the app on the same device (see [`crate::launch`]). Keep it away from logs.
    #[serde(deserialize_with = "reference")]
    pub auto_start_token: String,
    /// The public part of the animated QR code.
    #[serde(deserialize_with = "reference")]
    pub qr_start_token: String,
    /// The secret of the animated QR code: keep it on your server, never send it to a browser.
    #[serde(deserialize_with = "reference")]
    pub qr_start_secret: String,
}

impl fmt::Debug for OrderResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OrderResponse")
            .field("order_ref", &self.order_ref)
            .field("auto_start_token", &"[redacted]")
            .field("qr_start_token", &self.qr_start_token)
            .field("qr_start_secret", &"[redacted]")
            .finish()
    }
}

/// The answer to phone/auth, phone/sign and other/payment: the order reference alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PhoneOrderResponse {
    /// The reference to collect or cancel the order with.
    #[serde(deserialize_with = "reference")]
    pub order_ref: String,
}

/// The answer to cancel: `{}` (or an empty body), nothing else.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CancelResponse {}

/// Where an order stands.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CollectStatus {
    /// Still going: collect again in two seconds. The hint code says what the user is doing.
    Pending {
        /// What the user is doing.
        hint_code: PendingHintCode,
    },
    /// Ended without a result: never collect this order again.
    Failed {
        /// Why it ended.
        hint_code: FailedHintCode,
    },
    /// Ended with a result.
    Complete(Box<CompletionData>),
    /// A status this version does not know. Treated as pending: BankID documents only
    /// `failed` and `complete` as final.
    Unknown {
        /// The status as sent.
        status: String,
        /// The hint code as sent, if any.
        hint_code: Option<String>,
    },
}

/// The answer to collect.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "CollectWire")]
#[non_exhaustive]
pub struct CollectResponse {
    /// The order collected.
    pub order_ref: String,
    /// Its status.
    pub status: CollectStatus,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectWire {
    #[serde(deserialize_with = "reference")]
    order_ref: String,
    status: String,
    hint_code: Option<String>,
    #[serde(default, deserialize_with = "optional_object")]
    completion_data: Option<Box<CompletionData>>,
}

impl TryFrom<CollectWire> for CollectResponse {
    type Error = String;

    fn try_from(wire: CollectWire) -> Result<Self, Self::Error> {
        let status = match wire.status.as_str() {
            "pending" => CollectStatus::Pending {
                hint_code: PendingHintCode::from_wire(wire.hint_code.as_deref().unwrap_or_default()),
            },
            "failed" => CollectStatus::Failed {
                hint_code: FailedHintCode::from_wire(wire.hint_code.as_deref().unwrap_or_default()),
            },
            "complete" => {
                CollectStatus::Complete(wire.completion_data.ok_or("status is complete but completionData is missing")?)
            }
            _ => CollectStatus::Unknown { status: wire.status, hint_code: wire.hint_code },
        };
        Ok(Self { order_ref: wire.order_ref, status })
    }
}

/// The result of a completed order (spec §3.2). Keep all of it for audit.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct CompletionData {
    /// Who identified or signed.
    #[serde(deserialize_with = "object")]
    pub user: User,
    /// The device they used.
    #[serde(deserialize_with = "object")]
    pub device: Device,
    /// The date the BankID was issued, exactly as sent (it arrives as e.g. `2023-11-29Z`).
    pub bank_id_issue_date: String,
    /// The result of a step-up (MRTD) check, when one was required.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "optional_object")]
    pub step_up: Option<StepUp>,
    /// The base64 XML signature (XML-DSig, spec §9).
    pub signature: String,
    /// The base64 DER OCSP response for the user's certificate.
    pub ocsp_response: String,
    /// BankID's risk assessment, when asked for with `returnRisk` and when it could be made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<Risk>,
}

impl CompletionData {
    /// The signature XML, base64-decoded.
    ///
    /// # Errors
    /// When the signature is not valid base64.
    pub fn signature_xml(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(&self.signature)
    }

    /// The OCSP response, base64-decoded (DER).
    ///
    /// # Errors
    /// When the OCSP response is not valid base64.
    pub fn ocsp_response_der(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(&self.ocsp_response)
    }
}

impl fmt::Debug for CompletionData {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CompletionData")
            .field("user", &self.user)
            .field("device", &self.device)
            .field("bank_id_issue_date", &self.bank_id_issue_date)
            .field("step_up", &self.step_up)
            .field("signature", &"[redacted]")
            .field("ocsp_response", &"[redacted]")
            .field("risk", &self.risk)
            .finish()
    }
}

/// The person who identified or signed.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct User {
    /// Personal identity number, 12 digits.
    pub personal_number: String,
    /// Given name and surname.
    pub name: String,
    /// Given name.
    pub given_name: String,
    /// Surname.
    pub surname: String,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("personal_number", &"[redacted]")
            .field("name", &"[redacted]")
            .field("given_name", &"[redacted]")
            .field("surname", &"[redacted]")
            .finish()
    }
}

/// The user's device.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Device {
    /// The IP address BankID saw the app at. With autostart, compare it with the address your
    /// service saw to detect session fixation.
    pub ip_address: String,
    /// A unique identifier of the device's hardware.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uhi: Option<String>,
}

impl fmt::Debug for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Device")
            .field("ip_address", &"[redacted]")
            .field("uhi", &self.uhi.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// The result of a step-up check.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct StepUp {
    /// `Some(true)` when the MRTD check was performed and passed, `Some(false)` when performed
    /// and failed, `None` when not reported.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mrtd: Option<bool>,
}
