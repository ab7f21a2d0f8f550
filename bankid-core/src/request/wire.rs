//! The JSON body every request shares, and the rules of the text fields per endpoint.

use std::fmt;

use serde::Serialize;

use super::values::{AppData, DeviceData, Requirement, UserVisibleTransaction, WebData};
use crate::codes::{CallInitiator, RiskFlag, UserVisibleDataFormat};
use crate::error::InvalidInput;
use crate::validate;

/// Limits after base64 (spec §2).
pub(super) const VISIBLE_AUTH_MAX: usize = 1_500;
pub(super) const NON_VISIBLE_AUTH_MAX: usize = 1_500;
pub(super) const VISIBLE_SIGN_MAX: usize = 40_000;
pub(super) const NON_VISIBLE_SIGN_MAX: usize = 200_000;
pub(super) const RETURN_URL_MAX: usize = 512;

/// The JSON body of every request: every field of every endpoint, each omitted when unset.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct WireBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) end_user_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) personal_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) call_initiator: Option<CallInitiator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) requirement: Option<&'a Requirement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_non_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_visible_data_format: Option<UserVisibleDataFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) return_url: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub(super) return_risk: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) web: Option<&'a WebData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) app: Option<&'a AppData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) user_visible_transaction: Option<&'a UserVisibleTransaction>,
    #[serde(skip_serializing_if = "<[RiskFlag]>::is_empty")]
    pub(super) risk_flags: &'a [RiskFlag],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) order_ref: Option<&'a str>,
}

impl WireBody<'_> {
    pub(super) fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings, bools and enums into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The fields auth, sign, payment, phone orders and other/payment share.
#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct Texts {
    pub(super) requirement: Option<Requirement>,
    pub(super) user_visible_data: Option<String>,
    pub(super) user_non_visible_data: Option<Vec<u8>>,
    pub(super) user_visible_data_format: Option<UserVisibleDataFormat>,
}

/// The limits and rules of one endpoint's text fields.
pub(super) struct TextRules {
    pub(super) visible_max: usize,
    pub(super) non_visible_max: usize,
    pub(super) visible_required: bool,
    pub(super) non_visible_needs_visible: bool,
    pub(super) personal_number_in_requirement: bool,
}

impl Texts {
    pub(super) fn fill<'a>(&'a self, body: &mut WireBody<'a>, rules: &TextRules) -> Result<(), InvalidInput> {
        if let Some(requirement) = &self.requirement {
            requirement.validate(rules.personal_number_in_requirement)?;
            body.requirement = (!requirement.is_empty()).then_some(requirement);
        }
        body.user_visible_data = self
            .user_visible_data
            .as_deref()
            .map(|text| validate::base64_field("userVisibleData", text.as_bytes(), rules.visible_max))
            .transpose()?;
        if rules.visible_required && body.user_visible_data.is_none() {
            return Err(InvalidInput::new("userVisibleData", "is required"));
        }
        body.user_non_visible_data = self
            .user_non_visible_data
            .as_deref()
            .map(|data| validate::base64_field("userNonVisibleData", data, rules.non_visible_max))
            .transpose()?;
        if rules.non_visible_needs_visible && body.user_non_visible_data.is_some() && body.user_visible_data.is_none() {
            return Err(InvalidInput::new("userNonVisibleData", "requires userVisibleData"));
        }
        if self.user_visible_data_format.is_some() && body.user_visible_data.is_none() {
            return Err(InvalidInput::new("userVisibleDataFormat", "requires userVisibleData"));
        }
        body.user_visible_data_format = self.user_visible_data_format;
        Ok(())
    }
}

impl fmt::Debug for Texts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Texts")
            .field("requirement", &self.requirement)
            .field("user_visible_data", &self.user_visible_data.as_ref().map(String::len))
            .field("user_non_visible_data", &self.user_non_visible_data.as_ref().map(Vec::len))
            .field("user_visible_data_format", &self.user_visible_data_format)
            .finish()
    }
}

/// The fields of orders started from the user's device (auth, sign, payment, other/payment).
#[derive(Clone, Default, PartialEq, Eq)]
pub(super) struct Launch {
    pub(super) return_url: Option<String>,
    pub(super) return_risk: bool,
    pub(super) device: Option<DeviceData>,
}

impl Launch {
    pub(super) fn fill<'a>(&'a self, body: &mut WireBody<'a>) -> Result<(), InvalidInput> {
        if let Some(url) = &self.return_url {
            validate::text_len("returnUrl", url, 1, RETURN_URL_MAX)?;
            body.return_url = Some(url);
        }
        body.return_risk = self.return_risk;
        match &self.device {
            Some(DeviceData::Web(web)) => {
                web.validate()?;
                body.web = Some(web);
            }
            Some(DeviceData::App(app)) => {
                app.validate()?;
                body.app = Some(app);
            }
            None => {}
        }
        Ok(())
    }
}

impl fmt::Debug for Launch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Launch")
            .field("return_url", &self.return_url.as_ref().map(|_| "[redacted]"))
            .field("return_risk", &self.return_risk)
            .field("device", &self.device)
            .finish()
    }
}

pub(super) const AUTH_RULES: TextRules = TextRules {
    visible_max: VISIBLE_AUTH_MAX,
    non_visible_max: NON_VISIBLE_AUTH_MAX,
    visible_required: false,
    // BankID refuses userNonVisibleData without userVisibleData on payment and other/payment
    // only (spec §2.1, §2.4: "userNonVisible data requires userVisibleData", observed there).
    non_visible_needs_visible: false,
    personal_number_in_requirement: true,
};

pub(super) const SIGN_RULES: TextRules = TextRules {
    visible_max: VISIBLE_SIGN_MAX,
    non_visible_max: NON_VISIBLE_SIGN_MAX,
    visible_required: true,
    non_visible_needs_visible: true,
    personal_number_in_requirement: true,
};

// Payment limits are not published; BankID's sign limits are the widest that can be right.
pub(super) const PAYMENT_RULES: TextRules = TextRules { visible_required: false, ..SIGN_RULES };

pub(super) const OTHER_PAYMENT_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..PAYMENT_RULES };

pub(super) const PHONE_AUTH_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..AUTH_RULES };

pub(super) const PHONE_SIGN_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..SIGN_RULES };
