//! The value types of the start requests: requirements, device data, the payment transaction.

use std::fmt;

use serde::Serialize;

use crate::codes::{CardReader, TransactionType};
use crate::error::InvalidInput;
use crate::validate;

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

    pub(super) fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    pub(super) fn validate(&self, allow_personal_number: bool) -> Result<(), InvalidInput> {
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

    pub(super) fn validate(&self) -> Result<(), InvalidInput> {
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

    pub(super) fn validate(&self) -> Result<(), InvalidInput> {
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

    pub(super) fn validate(&self) -> Result<(), InvalidInput> {
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
