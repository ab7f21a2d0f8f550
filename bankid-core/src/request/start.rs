//! The six requests that start an order: auth, sign, payment, other/payment, phone/auth and
//! phone/sign.

use std::fmt;
use std::net::IpAddr;

use super::operation::{Operation, sealed};
use super::values::{DeviceData, Requirement, UserVisibleTransaction};
use super::wire::{
    AUTH_RULES, Launch, OTHER_PAYMENT_RULES, PAYMENT_RULES, PHONE_AUTH_RULES, PHONE_SIGN_RULES, SIGN_RULES, Texts,
    WireBody,
};
use crate::codes::{CallInitiator, Endpoint, RiskFlag, UserVisibleDataFormat};
use crate::error::Error;
use crate::response::{OrderResponse, PhoneOrderResponse};
use crate::validate;

/// Generates the setters every start request shares.
macro_rules! text_setters {
    () => {
        /// Sets the requirements.
        #[must_use]
        pub fn requirement(mut self, requirement: Requirement) -> Self {
            self.texts.requirement = Some(requirement);
            self
        }

        /// Sets `userNonVisibleData`: data not shown to the user that ends up in the signature
        /// (any bytes; base64-encoded by the core).
        #[must_use]
        pub fn user_non_visible_data(mut self, data: impl Into<Vec<u8>>) -> Self {
            self.texts.user_non_visible_data = Some(data.into());
            self
        }

        /// Sets `userVisibleDataFormat`.
        #[must_use]
        pub fn user_visible_data_format(mut self, format: UserVisibleDataFormat) -> Self {
            self.texts.user_visible_data_format = Some(format);
            self
        }

        /// Marks `userVisibleData` as Simple Markdown v1.
        #[must_use]
        pub fn markdown(self) -> Self {
            self.user_visible_data_format(UserVisibleDataFormat::SimpleMarkdownV1)
        }
    };
}

/// Generates the setters of orders started on the user's device.
macro_rules! launch_setters {
    () => {
        /// Sets `returnUrl` (1-512 characters): where the app sends the user when the order
        /// completes on the same device. Include a nonce bound to the user's session.
        #[must_use]
        pub fn return_url(mut self, url: impl Into<String>) -> Self {
            self.launch.return_url = Some(url.into());
            self
        }

        /// Sets `returnRisk`: ask BankID for its risk assessment in the completion data.
        #[must_use]
        pub fn return_risk(mut self, return_risk: bool) -> Self {
            self.launch.return_risk = return_risk;
            self
        }

        /// Sets `web` or `app` data about where the order started.
        #[must_use]
        pub fn device(mut self, device: impl Into<DeviceData>) -> Self {
            self.launch.device = Some(device.into());
            self
        }
    };
}

/// An identification order (`POST /rp/v6.0/auth`).
///
/// ```
/// use bankid_core::{AuthRequest, Config, Operation};
///
/// let request = AuthRequest::new([192, 0, 2, 1].into())
///     .user_visible_data("Log in to Example")
///     .to_http(&Config::test())?;
/// assert_eq!(request.uri(), "https://appapi2.test.bankid.com/rp/v6.0/auth");
/// assert_eq!(request.body(), br#"{"endUserIp":"192.0.2.1","userVisibleData":"TG9nIGluIHRvIEV4YW1wbGU="}"#);
/// # Ok::<(), bankid_core::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct AuthRequest {
    end_user_ip: IpAddr,
    texts: Texts,
    launch: Launch,
}

impl AuthRequest {
    /// Identifies the user whose device has `end_user_ip` as your service sees it (not a proxy's).
    #[must_use]
    pub fn new(end_user_ip: IpAddr) -> Self {
        Self { end_user_ip, texts: Texts::default(), launch: Launch::default() }
    }

    /// Sets `userVisibleData`: text shown under "My intent" in the app (at most 1 500
    /// characters after base64).
    #[must_use]
    pub fn user_visible_data(mut self, text: impl Into<String>) -> Self {
        self.texts.user_visible_data = Some(text.into());
        self
    }

    text_setters!();
    launch_setters!();
}

/// A signature order (`POST /rp/v6.0/sign`).
#[derive(Clone, PartialEq, Eq)]
pub struct SignRequest {
    end_user_ip: IpAddr,
    texts: Texts,
    launch: Launch,
}

impl SignRequest {
    /// The user at `end_user_ip` signs `user_visible_data` (at most 40 000 characters after
    /// base64).
    pub fn new(end_user_ip: IpAddr, user_visible_data: impl Into<String>) -> Self {
        let texts = Texts { user_visible_data: Some(user_visible_data.into()), ..Texts::default() };
        Self { end_user_ip, texts, launch: Launch::default() }
    }

    text_setters!();
    launch_setters!();
}

/// A payment approval (`POST /rp/v6.0/payment`).
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentRequest {
    end_user_ip: IpAddr,
    transaction: UserVisibleTransaction,
    risk_flags: Vec<RiskFlag>,
    texts: Texts,
    launch: Launch,
}

impl PaymentRequest {
    /// The user at `end_user_ip` approves `transaction`.
    #[must_use]
    pub fn new(end_user_ip: IpAddr, transaction: UserVisibleTransaction) -> Self {
        Self { end_user_ip, transaction, risk_flags: Vec::new(), texts: Texts::default(), launch: Launch::default() }
    }

    /// Sets `userVisibleData`, shown besides the transaction.
    #[must_use]
    pub fn user_visible_data(mut self, text: impl Into<String>) -> Self {
        self.texts.user_visible_data = Some(text.into());
        self
    }

    /// Adds a risk flag.
    #[must_use]
    pub fn risk_flag(mut self, flag: RiskFlag) -> Self {
        if !self.risk_flags.contains(&flag) {
            self.risk_flags.push(flag);
        }
        self
    }

    text_setters!();
    launch_setters!();
}

/// A payment order pushed to the user's app by personal number (`POST /rp/v6.0/other/payment`).
///
/// BankID has not published this endpoint's field list; this follows what works against the
/// test environment (spec §2.5): no `endUserIp`, no `requirement.personalNumber`.
#[derive(Clone, PartialEq, Eq)]
pub struct OtherPaymentRequest {
    personal_number: String,
    transaction: UserVisibleTransaction,
    risk_flags: Vec<RiskFlag>,
    texts: Texts,
    launch: Launch,
}

impl OtherPaymentRequest {
    /// The user with `personal_number` approves `transaction`.
    pub fn new(personal_number: impl Into<String>, transaction: UserVisibleTransaction) -> Self {
        Self {
            personal_number: personal_number.into(),
            transaction,
            risk_flags: Vec::new(),
            texts: Texts::default(),
            launch: Launch::default(),
        }
    }

    /// Sets `userVisibleData`, shown besides the transaction.
    #[must_use]
    pub fn user_visible_data(mut self, text: impl Into<String>) -> Self {
        self.texts.user_visible_data = Some(text.into());
        self
    }

    /// Adds a risk flag.
    #[must_use]
    pub fn risk_flag(mut self, flag: RiskFlag) -> Self {
        if !self.risk_flags.contains(&flag) {
            self.risk_flags.push(flag);
        }
        self
    }

    text_setters!();
    launch_setters!();
}

/// An identification during a phone call (`POST /rp/v6.0/phone/auth`).
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneAuthRequest {
    personal_number: String,
    call_initiator: CallInitiator,
    texts: Texts,
}

impl PhoneAuthRequest {
    /// Identifies the user with `personal_number`, in a call started by `call_initiator`.
    pub fn new(personal_number: impl Into<String>, call_initiator: CallInitiator) -> Self {
        Self { personal_number: personal_number.into(), call_initiator, texts: Texts::default() }
    }

    /// Sets `userVisibleData` (at most 1 500 characters after base64).
    #[must_use]
    pub fn user_visible_data(mut self, text: impl Into<String>) -> Self {
        self.texts.user_visible_data = Some(text.into());
        self
    }

    text_setters!();
}

/// A signature during a phone call (`POST /rp/v6.0/phone/sign`).
#[derive(Clone, PartialEq, Eq)]
pub struct PhoneSignRequest {
    personal_number: String,
    call_initiator: CallInitiator,
    texts: Texts,
}

impl PhoneSignRequest {
    /// The user with `personal_number`, in a call started by `call_initiator`, signs
    /// `user_visible_data`.
    pub fn new(
        personal_number: impl Into<String>,
        call_initiator: CallInitiator,
        user_visible_data: impl Into<String>,
    ) -> Self {
        let texts = Texts { user_visible_data: Some(user_visible_data.into()), ..Texts::default() };
        Self { personal_number: personal_number.into(), call_initiator, texts }
    }

    text_setters!();
}

/// `Debug` for a request: the personal data fields print as `[redacted]`, the others as they are.
macro_rules! redacted_debug {
    ($name:ident { redacted: [$($secret:ident),*], shown: [$($field:ident),*] }) => {
        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    $(.field(stringify!($secret), &"[redacted]"))*
                    $(.field(stringify!($field), &self.$field))*
                    .finish()
            }
        }
    };
}
redacted_debug!(AuthRequest { redacted: [end_user_ip], shown: [texts, launch] });
redacted_debug!(SignRequest { redacted: [end_user_ip], shown: [texts, launch] });
redacted_debug!(PaymentRequest { redacted: [end_user_ip], shown: [transaction, risk_flags, texts, launch] });
redacted_debug!(OtherPaymentRequest { redacted: [personal_number], shown: [transaction, risk_flags, texts, launch] });
redacted_debug!(PhoneAuthRequest { redacted: [personal_number], shown: [call_initiator, texts] });
redacted_debug!(PhoneSignRequest { redacted: [personal_number], shown: [call_initiator, texts] });

macro_rules! start_operation {
    ($name:ident, $endpoint:ident, $output:ty, |$this:ident, $body:ident| $fill:block) => {
        impl sealed::Sealed for $name {}

        impl Operation for $name {
            type Output = $output;
            const ENDPOINT: Endpoint = Endpoint::$endpoint;

            fn body(&self) -> Result<Vec<u8>, Error> {
                let $this = self;
                let mut $body = WireBody::default();
                $fill
                Ok($body.to_json())
            }

            fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error> {
                crate::pipeline::parse_json(&response, false)
            }
        }
    };
}

start_operation!(AuthRequest, Auth, OrderResponse, |this, body| {
    body.end_user_ip = Some(this.end_user_ip.to_string());
    this.texts.fill(&mut body, &AUTH_RULES)?;
    this.launch.fill(&mut body)?;
});

start_operation!(SignRequest, Sign, OrderResponse, |this, body| {
    body.end_user_ip = Some(this.end_user_ip.to_string());
    this.texts.fill(&mut body, &SIGN_RULES)?;
    this.launch.fill(&mut body)?;
});

start_operation!(PaymentRequest, Payment, OrderResponse, |this, body| {
    body.end_user_ip = Some(this.end_user_ip.to_string());
    this.transaction.validate()?;
    body.user_visible_transaction = Some(&this.transaction);
    body.risk_flags = &this.risk_flags;
    this.texts.fill(&mut body, &PAYMENT_RULES)?;
    this.launch.fill(&mut body)?;
});

start_operation!(OtherPaymentRequest, OtherPayment, PhoneOrderResponse, |this, body| {
    validate::personal_number("personalNumber", &this.personal_number)?;
    body.personal_number = Some(&this.personal_number);
    this.transaction.validate()?;
    body.user_visible_transaction = Some(&this.transaction);
    body.risk_flags = &this.risk_flags;
    this.texts.fill(&mut body, &OTHER_PAYMENT_RULES)?;
    this.launch.fill(&mut body)?;
});

start_operation!(PhoneAuthRequest, PhoneAuth, PhoneOrderResponse, |this, body| {
    validate::personal_number("personalNumber", &this.personal_number)?;
    body.personal_number = Some(&this.personal_number);
    body.call_initiator = Some(this.call_initiator);
    this.texts.fill(&mut body, &PHONE_AUTH_RULES)?;
});

start_operation!(PhoneSignRequest, PhoneSign, PhoneOrderResponse, |this, body| {
    validate::personal_number("personalNumber", &this.personal_number)?;
    body.personal_number = Some(&this.personal_number);
    body.call_initiator = Some(this.call_initiator);
    this.texts.fill(&mut body, &PHONE_SIGN_RULES)?;
});
