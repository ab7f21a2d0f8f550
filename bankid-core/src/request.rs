//! One typed request per endpoint (spec §2).
//!
//! Text goes in as Rust strings (or bytes for non-visible data); the core base64-encodes it and
//! checks every limit before anything is sent. Optional fields that are not set are omitted from
//! the JSON, never sent as `null` or `""`.

use std::fmt;
use std::net::IpAddr;

use serde::Serialize;

use crate::codes::{CallInitiator, CardReader, Endpoint, RiskFlag, TransactionType, UserVisibleDataFormat};
use crate::error::{Error, InvalidInput};
use crate::response::{CancelResponse, CollectResponse, OrderResponse, PhoneOrderResponse};
use crate::validate;

/// Limits after base64 (spec §2).
const VISIBLE_AUTH_MAX: usize = 1_500;
const NON_VISIBLE_AUTH_MAX: usize = 1_500;
const VISIBLE_SIGN_MAX: usize = 40_000;
const NON_VISIBLE_SIGN_MAX: usize = 200_000;
const RETURN_URL_MAX: usize = 512;

/// Requirements on how an order must be performed (`requirement`, spec §2.6).
///
/// ```
/// use bankid_core::{CardReader, Requirement};
///
/// let requirement = Requirement::new()
///     .pin_code(true)
///     .card_reader(CardReader::Class2)
///     .certificate_policy("1.2.752.78.1.2")
///     .personal_number("199001011239");
/// # let _ = requirement;
/// ```
#[derive(Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Requirement {
    /// The user must confirm with the security code even if biometrics are enabled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_code: Option<bool>,
    /// The user must provide machine-readable travel document data (Swedish passport or ID
    /// card); the result arrives in `completionData.stepUp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mrtd: Option<bool>,
    /// The card reader a smart-card BankID must use.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub card_reader: Option<CardReader>,
    /// OIDs the user's certificate must carry; setting any dismisses BankID's defaults.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub certificate_policies: Vec<String>,
    /// Only the BankID of this personal number may complete the order (not on phone orders,
    /// which carry the personal number at the top level).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
}

impl Requirement {
    /// No requirements.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `pinCode`.
    #[must_use]
    pub fn pin_code(mut self, pin_code: bool) -> Self {
        self.pin_code = Some(pin_code);
        self
    }

    /// Sets `mrtd`.
    #[must_use]
    pub fn mrtd(mut self, mrtd: bool) -> Self {
        self.mrtd = Some(mrtd);
        self
    }

    /// Sets `cardReader`.
    #[must_use]
    pub fn card_reader(mut self, card_reader: CardReader) -> Self {
        self.card_reader = Some(card_reader);
        self
    }

    /// Adds a certificate policy OID.
    #[must_use]
    pub fn certificate_policy(mut self, oid: impl Into<String>) -> Self {
        self.certificate_policies.push(oid.into());
        self
    }

    /// Sets `personalNumber` (12 digits, `YYYYMMDDNNNN`).
    #[must_use]
    pub fn personal_number(mut self, personal_number: impl Into<String>) -> Self {
        self.personal_number = Some(personal_number.into());
        self
    }

    fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    fn validate(&self, allow_personal_number: bool) -> Result<(), InvalidInput> {
        // No documented limit on how many (spec §2.6): none here.
        for oid in &self.certificate_policies {
            validate::certificate_policy("requirement.certificatePolicies", oid)?;
        }
        if let Some(pnr) = &self.personal_number {
            if !allow_personal_number {
                return Err(InvalidInput::new(
                    "requirement.personalNumber",
                    "is not allowed on phone and other/payment orders, which take personalNumber at the top level",
                ));
            }
            validate::personal_number("requirement.personalNumber", pnr)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Requirement")
            .field("pin_code", &self.pin_code)
            .field("mrtd", &self.mrtd)
            .field("card_reader", &self.card_reader)
            .field("certificate_policies", &self.certificate_policies)
            .field("personal_number", &self.personal_number.as_ref().map(|_| "[redacted]"))
            .finish()
    }
}

/// Data about the web browser that starts the order (`web`, spec §2.7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct WebData {
    /// Your domain name with its public suffix, e.g. `example.com` (3-253 characters of
    /// `0-9 a-z . -`; punycode for international names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub referring_domain: Option<String>,
    /// The user's browser `User-Agent` (1-256 characters; longer values are rejected, truncate
    /// them yourself).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// A persistent identifier of the user's browser, not a session cookie (1-64 characters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
}

impl WebData {
    /// Web data with no member set yet (at least one must be set before sending).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `referringDomain`.
    #[must_use]
    pub fn referring_domain(mut self, domain: impl Into<String>) -> Self {
        self.referring_domain = Some(domain.into());
        self
    }

    /// Sets `userAgent`.
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = Some(user_agent.into());
        self
    }

    /// Sets `deviceIdentifier`.
    #[must_use]
    pub fn device_identifier(mut self, id: impl Into<String>) -> Self {
        self.device_identifier = Some(id.into());
        self
    }

    fn validate(&self) -> Result<(), InvalidInput> {
        if *self == Self::default() {
            return Err(InvalidInput::new("web", "at least one member must be set"));
        }
        if let Some(domain) = &self.referring_domain {
            validate::referring_domain("web.referringDomain", domain)?;
        }
        if let Some(agent) = &self.user_agent {
            validate::text_len("web.userAgent", agent, 1, 256)?;
        }
        if let Some(id) = &self.device_identifier {
            validate::text_len("web.deviceIdentifier", id, 1, 64)?;
        }
        Ok(())
    }
}

/// Data about the native app that starts the order (`app`, spec §2.7).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AppData {
    /// The Android package name or iOS bundle identifier, e.g. `com.example.myapp`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_identifier: Option<String>,
    /// The operating system and version, e.g. `IOS 16.7.7`.
    #[serde(rename = "deviceOS", skip_serializing_if = "Option::is_none")]
    pub device_os: Option<String>,
    /// The device model, e.g. `Apple iPhone14,3`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_model_name: Option<String>,
    /// A stable identifier of the device, not tied to one user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_identifier: Option<String>,
}

impl AppData {
    /// App data with no member set yet (at least one must be set before sending).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `appIdentifier`.
    #[must_use]
    pub fn app_identifier(mut self, id: impl Into<String>) -> Self {
        self.app_identifier = Some(id.into());
        self
    }

    /// Sets `deviceOS`.
    #[must_use]
    pub fn device_os(mut self, os: impl Into<String>) -> Self {
        self.device_os = Some(os.into());
        self
    }

    /// Sets `deviceModelName`.
    #[must_use]
    pub fn device_model_name(mut self, model: impl Into<String>) -> Self {
        self.device_model_name = Some(model.into());
        self
    }

    /// Sets `deviceIdentifier`.
    #[must_use]
    pub fn device_identifier(mut self, id: impl Into<String>) -> Self {
        self.device_identifier = Some(id.into());
        self
    }

    fn validate(&self) -> Result<(), InvalidInput> {
        if *self == Self::default() {
            return Err(InvalidInput::new("app", "at least one member must be set"));
        }
        for (field, value) in [
            ("app.appIdentifier", &self.app_identifier),
            ("app.deviceOS", &self.device_os),
            ("app.deviceModelName", &self.device_model_name),
            ("app.deviceIdentifier", &self.device_identifier),
        ] {
            if let Some(value) = value {
                // No documented limit (spec §2.7 [U]): 256 as for web.userAgent.
                validate::text_len(field, value, 1, 256)?;
            }
        }
        Ok(())
    }
}

/// Where the order starts: a web page or a native app. BankID takes one or the other, never
/// both, which this type makes impossible.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DeviceData {
    /// Started from a web page.
    Web(WebData),
    /// Started from a native app.
    App(AppData),
}

impl From<WebData> for DeviceData {
    fn from(web: WebData) -> Self {
        Self::Web(web)
    }
}

impl From<AppData> for DeviceData {
    fn from(app: AppData) -> Self {
        Self::App(app)
    }
}

/// The recipient of a payment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Recipient {
    /// The recipient's name; for card payments, the merchant.
    pub name: String,
}

/// An amount of money shown in a payment order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Money {
    /// Digits with an optional comma decimal part, e.g. `"1000,00"`.
    pub amount: String,
    /// ISO 4217 code, e.g. `"SEK"`.
    pub currency: String,
}

impl Money {
    /// `amount` (e.g. `"99,50"`) in `currency` (e.g. `"SEK"`).
    pub fn new(amount: impl Into<String>, currency: impl Into<String>) -> Self {
        Self { amount: amount.into(), currency: currency.into() }
    }
}

/// The transaction a payment order shows and approves (`userVisibleTransaction`, spec §2.4).
///
/// ```
/// use bankid_core::{Money, TransactionType, UserVisibleTransaction};
///
/// let transaction = UserVisibleTransaction::new(TransactionType::Card, "Example Shop")
///     .money(Money::new("249,00", "SEK"));
/// # let _ = transaction;
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct UserVisibleTransaction {
    /// Card payment or non-payment authentication.
    pub transaction_type: TransactionType,
    /// Who is paid.
    pub recipient: Recipient,
    /// How much; not allowed with [`TransactionType::Npa`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub money: Option<Money>,
    /// Tells the user in the app that the payment is unusual or of higher risk.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub risk_warning: Option<String>,
}

impl UserVisibleTransaction {
    /// A transaction of `transaction_type` to `recipient_name`.
    pub fn new(transaction_type: TransactionType, recipient_name: impl Into<String>) -> Self {
        Self { transaction_type, recipient: Recipient { name: recipient_name.into() }, money: None, risk_warning: None }
    }

    /// Sets the amount.
    #[must_use]
    pub fn money(mut self, money: Money) -> Self {
        self.money = Some(money);
        self
    }

    /// Sets `riskWarning`.
    #[must_use]
    pub fn risk_warning(mut self, warning: impl Into<String>) -> Self {
        self.risk_warning = Some(warning.into());
        self
    }

    fn validate(&self) -> Result<(), InvalidInput> {
        if self.recipient.name.trim().is_empty() {
            return Err(InvalidInput::new("userVisibleTransaction.recipient.name", "must not be empty"));
        }
        if let Some(money) = &self.money {
            if self.transaction_type == TransactionType::Npa {
                return Err(InvalidInput::new(
                    "userVisibleTransaction.money",
                    "is not allowed when transactionType is npa",
                ));
            }
            validate::amount("userVisibleTransaction.money.amount", &money.amount)?;
            validate::currency("userVisibleTransaction.money.currency", &money.currency)?;
        }
        if let Some(warning) = &self.risk_warning {
            // No documented limit or value list (spec §2.4 [U]): 1-256 characters.
            validate::text_len("userVisibleTransaction.riskWarning", warning, 1, 256)?;
        }
        Ok(())
    }
}

/// The JSON body of every request: every field of every endpoint, each omitted when unset.
#[derive(Default, Serialize)]
#[serde(rename_all = "camelCase")]
struct WireBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    end_user_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    personal_number: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    call_initiator: Option<CallInitiator>,
    #[serde(skip_serializing_if = "Option::is_none")]
    requirement: Option<&'a Requirement>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_non_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_visible_data_format: Option<UserVisibleDataFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    return_url: Option<&'a str>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    return_risk: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    web: Option<&'a WebData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app: Option<&'a AppData>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_visible_transaction: Option<&'a UserVisibleTransaction>,
    #[serde(skip_serializing_if = "<[RiskFlag]>::is_empty")]
    risk_flags: &'a [RiskFlag],
    #[serde(skip_serializing_if = "Option::is_none")]
    order_ref: Option<&'a str>,
}

impl WireBody<'_> {
    fn to_json(&self) -> Vec<u8> {
        // Serialising plain strings, bools and enums into a Vec cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

/// The fields auth, sign, payment, phone orders and other/payment share.
#[derive(Clone, Default, PartialEq, Eq)]
struct Texts {
    requirement: Option<Requirement>,
    user_visible_data: Option<String>,
    user_non_visible_data: Option<Vec<u8>>,
    user_visible_data_format: Option<UserVisibleDataFormat>,
}

/// The limits and rules of one endpoint's text fields.
struct TextRules {
    visible_max: usize,
    non_visible_max: usize,
    visible_required: bool,
    non_visible_needs_visible: bool,
    personal_number_in_requirement: bool,
}

impl Texts {
    fn fill<'a>(&'a self, body: &mut WireBody<'a>, rules: &TextRules) -> Result<(), InvalidInput> {
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
struct Launch {
    return_url: Option<String>,
    return_risk: bool,
    device: Option<DeviceData>,
}

impl Launch {
    fn fill<'a>(&'a self, body: &mut WireBody<'a>) -> Result<(), InvalidInput> {
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

/// The status of an order (`POST /rp/v6.0/collect`). Call it every two seconds while the order
/// is pending; [`crate::Order`] does that for you.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectRequest {
    order_ref: String,
}

impl CollectRequest {
    /// Collects the order `order_ref`.
    pub fn new(order_ref: impl Into<String>) -> Self {
        Self { order_ref: order_ref.into() }
    }

    /// The order reference.
    #[must_use]
    pub fn order_ref(&self) -> &str {
        &self.order_ref
    }
}

/// Cancels an order (`POST /rp/v6.0/cancel`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRequest {
    order_ref: String,
}

impl CancelRequest {
    /// Cancels the order `order_ref`.
    pub fn new(order_ref: impl Into<String>) -> Self {
        Self { order_ref: order_ref.into() }
    }

    /// The order reference.
    #[must_use]
    pub fn order_ref(&self) -> &str {
        &self.order_ref
    }
}

fn order_ref_body(order_ref: &str) -> Result<Vec<u8>, InvalidInput> {
    validate::text_len("orderRef", order_ref, 1, 100)?;
    Ok(WireBody { order_ref: Some(order_ref), ..WireBody::default() }.to_json())
}

mod sealed {
    pub trait Sealed {}
}

/// One BankID endpoint: builds its request and reads its response.
///
/// This is the whole protocol surface a transport needs: call [`Operation::to_http`], send the
/// request, hand whatever comes back to [`Operation::parse`]. Status codes, content types and
/// JSON are interpreted here and nowhere else.
///
/// ```
/// use bankid_core::{CollectRequest, CollectStatus, Config, Operation, PendingHintCode};
///
/// let request = CollectRequest::new("131daac9-16c6-4618-beb0-365768f37288").to_http(&Config::test())?;
/// assert_eq!(request.method(), "POST");
/// assert_eq!(request.headers()["content-type"], "application/json");
///
/// let response = http::Response::builder()
///     .status(200)
///     .header("content-type", "application/json")
///     .body(r#"{"orderRef":"131daac9-16c6-4618-beb0-365768f37288","status":"pending","hintCode":"userSign"}"#)?;
/// let collect = CollectRequest::parse(response)?;
/// assert_eq!(collect.status, CollectStatus::Pending { hint_code: PendingHintCode::UserSign });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Operation: sealed::Sealed {
    /// What a successful response holds.
    type Output;

    /// The endpoint.
    const ENDPOINT: Endpoint;

    /// Validates the request and serialises its JSON body.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] naming the first field that breaks a rule of spec §2.
    fn body(&self) -> Result<Vec<u8>, Error>;

    /// Builds the HTTP request: `POST {base}/rp/v6.0/{endpoint}` with the JSON body and the
    /// headers BankID requires.
    ///
    /// # Errors
    /// [`Error::InvalidInput`] when the request breaks a rule; nothing should be sent then.
    fn to_http(&self, config: &crate::Config) -> Result<http::Request<Vec<u8>>, Error> {
        crate::pipeline::build_request(config, Self::ENDPOINT, self.body()?)
    }

    /// Reads the response to this request, whatever its status.
    ///
    /// # Errors
    /// [`Error::Api`] for BankID's error responses, [`Error::UnexpectedResponse`] for anything
    /// that is not what BankID sends.
    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error>;
}

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

const AUTH_RULES: TextRules = TextRules {
    visible_max: VISIBLE_AUTH_MAX,
    non_visible_max: NON_VISIBLE_AUTH_MAX,
    visible_required: false,
    // BankID refuses userNonVisibleData without userVisibleData on payment and other/payment
    // only (spec §2.1, §2.4: "userNonVisible data requires userVisibleData", observed there).
    non_visible_needs_visible: false,
    personal_number_in_requirement: true,
};

const SIGN_RULES: TextRules = TextRules {
    visible_max: VISIBLE_SIGN_MAX,
    non_visible_max: NON_VISIBLE_SIGN_MAX,
    visible_required: true,
    non_visible_needs_visible: true,
    personal_number_in_requirement: true,
};

// Payment limits are not published; BankID's sign limits are the widest that can be right.
const PAYMENT_RULES: TextRules = TextRules { visible_required: false, ..SIGN_RULES };

const OTHER_PAYMENT_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..PAYMENT_RULES };

const PHONE_AUTH_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..AUTH_RULES };

const PHONE_SIGN_RULES: TextRules = TextRules { personal_number_in_requirement: false, ..SIGN_RULES };

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

impl sealed::Sealed for CollectRequest {}

impl Operation for CollectRequest {
    type Output = CollectResponse;
    const ENDPOINT: Endpoint = Endpoint::Collect;

    fn body(&self) -> Result<Vec<u8>, Error> {
        Ok(order_ref_body(&self.order_ref)?)
    }

    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error> {
        crate::pipeline::parse_json(&response, false)
    }
}

impl sealed::Sealed for CancelRequest {}

impl Operation for CancelRequest {
    type Output = CancelResponse;
    const ENDPOINT: Endpoint = Endpoint::Cancel;

    fn body(&self) -> Result<Vec<u8>, Error> {
        Ok(order_ref_body(&self.order_ref)?)
    }

    fn parse<B: AsRef<[u8]>>(response: http::Response<B>) -> Result<Self::Output, Error> {
        // BankID answers `{}`; an empty body is accepted too (spec §3.3).
        crate::pipeline::parse_json(&response, true)
    }
}
