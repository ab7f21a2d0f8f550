//! The string codes BankID sends and accepts: error codes, hint codes, risk levels and the
//! enumerated request values.
//!
//! Every code that comes *from* the server has an `Unknown(String)` variant: BankID adds hint
//! codes and error codes without notice, and a client must keep working when it does.

use std::fmt;

/// The path prefix of every endpoint of the RP API v6.
pub const API_PREFIX: &str = "/rp/v6.0/";

/// Declares an enum of BankID string codes with a wire name per variant.
///
/// With `open`, the enum gets an `Unknown(String)` variant that keeps any value the server sends
/// that this version does not know; parsing is then infallible and case-insensitive.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        open $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
            /// A code this version of the library does not know, exactly as the server sent it.
            Unknown(String),
        }

        impl $name {
            /// The code as it appears on the wire.
            #[must_use]
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $wire, )+
                    Self::Unknown(other) => other,
                }
            }

            /// Parses a wire code; unknown codes are kept in [`Self::Unknown`]. Known codes
            /// match case-insensitively (some servers capitalise them).
            #[must_use]
            pub fn from_wire(code: &str) -> Self {
                $( if code.eq_ignore_ascii_case($wire) { return Self::$variant; } )+
                Self::Unknown(code.to_owned())
            }

            /// Every known code, in declaration order.
            pub const KNOWN: &'static [Self] = &[ $( Self::$variant, )+ ];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self {
                    Self::Unknown(code) => write!(f, "Unknown({code:?})"),
                    known => f.write_str(known.as_str()),
                }
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let code = std::borrow::Cow::<'de, str>::deserialize(deserializer)?;
                Ok(Self::from_wire(&code))
            }
        }
    };
    (
        $(#[$meta:meta])*
        closed $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $wire:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $wire)] $variant, )+
        }

        impl $name {
            /// The value as it appears on the wire.
            #[must_use]
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $wire, )+
                }
            }

            /// Every value, in declaration order.
            pub const ALL: &'static [Self] = &[ $( Self::$variant, )+ ];
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = crate::input::InvalidInput;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $( if s == $wire { return Ok(Self::$variant); } )+
                Err(crate::input::InvalidInput::new(
                    stringify!($name),
                    format!("unknown value {s:?}, expected one of: {}", [$($wire),+].join(", ")),
                ))
            }
        }
    };
}

wire_enum! {
    /// The `errorCode` of a BankID error response (spec §4.2).
    open ErrorCode {
        /// HTTP 400: an order for this personal number is already in progress (RFA4).
        AlreadyInProgress = "alreadyInProgress",
        /// HTTP 400: invalid parameter or invalid use of a method; never retry the same request.
        InvalidParameters = "invalidParameters",
        /// HTTP 401/403: the RP has no access (client certificate missing, wrong or for another environment).
        Unauthorized = "unauthorized",
        /// HTTP 404: an erroneous URL path was used.
        NotFound = "notFound",
        /// HTTP 405: only POST is allowed.
        MethodNotAllowed = "methodNotAllowed",
        /// HTTP 408: the request took too long to transmit; must not be retried automatically (RFA5).
        RequestTimeout = "requestTimeout",
        /// HTTP 415: the content type was missing or carried a parameter such as `charset`.
        UnsupportedMediaType = "unsupportedMediaType",
        /// HTTP 500: internal error at BankID; must not be retried automatically (RFA5).
        InternalError = "internalError",
        /// HTTP 503: the service is temporarily unavailable; may be retried (RFA5 if repeated).
        Maintenance = "maintenance",
    }
}

impl ErrorCode {
    /// The error code BankID documents for an HTTP status, used when an error response has no
    /// usable JSON body (an empty 405, an HTML 503 page from a load balancer).
    #[must_use]
    pub fn for_status(status: http::StatusCode) -> Option<Self> {
        Some(match status.as_u16() {
            400 => Self::InvalidParameters,
            401 | 403 => Self::Unauthorized,
            404 => Self::NotFound,
            405 => Self::MethodNotAllowed,
            408 => Self::RequestTimeout,
            415 => Self::UnsupportedMediaType,
            500 => Self::InternalError,
            503 => Self::Maintenance,
            _ => return None,
        })
    }
}

wire_enum! {
    /// The `hintCode` of a pending order (spec §3.2): what the user is doing right now.
    open PendingHintCode {
        /// The app has not yet received the order (show the QR code, or wait for the app to start).
        OutstandingTransaction = "outstandingTransaction",
        /// The app has not yet received the order.
        NoClient = "noClient",
        /// The app was started with the autostart token but has not found a usable BankID yet.
        Started = "started",
        /// The user must provide machine-readable travel document (passport / ID card) data.
        UserMrtd = "userMrtd",
        /// The user must confirm in the app that they are in a call with the RP (phone orders).
        UserCallConfirm = "userCallConfirm",
        /// The app has received the order; the user is asked to confirm.
        UserSign = "userSign",
        /// The user has signed; BankID is processing the signature.
        Processing = "processing",
        /// The user performs facial recognition in the app.
        UserFace = "userFace",
        /// The user chooses how to confirm their identity in the app.
        UserStepUp = "userStepUp",
    }
}

wire_enum! {
    /// The `hintCode` of a failed order (spec §3.2): why it ended.
    open FailedHintCode {
        /// The order expired: the app did not start, the user did not finish, or collect came too late.
        ExpiredTransaction = "expiredTransaction",
        /// The user's BankID is blocked, revoked or invalid.
        CertificateErr = "certificateErr",
        /// The user cancelled in the app.
        UserCancel = "userCancel",
        /// The order was cancelled because a new order for the same user arrived.
        Cancelled = "cancelled",
        /// The app did not start or the QR code was not scanned in time.
        StartFailed = "startFailed",
        /// The user said in the app that they are not in a call with the RP.
        UserDeclinedCall = "userDeclinedCall",
        /// The user's app does not support what the order requires; the app must be updated.
        NotSupportedByUserApp = "notSupportedByUserApp",
        /// The risk of the order was too high and BankID blocked it.
        TransactionRiskBlocked = "transactionRiskBlocked",
        /// The check of the user's ID document failed.
        MrtdVerificationFailed = "mrtdVerificationFailed",
        /// Facial recognition failed.
        FacialRecognitionFailed = "facialRecognitionFailed",
        /// The device lacks the NFC reader needed to read ID documents.
        NfcNotSupportedByDevice = "nfcNotSupportedByDevice",
        /// The device holds several BankIDs and the order needs exactly one.
        MultipleBankIdsOnDevice = "multipleBankIdsOnDevice",
        /// The step-up confirmation of the user's identity failed.
        StepUpFailed = "stepUpFailed",
    }
}

wire_enum! {
    /// BankID's risk assessment of a completed order (`completionData.risk`).
    open Risk {
        /// No or low risk identified.
        Low = "low",
        /// Might need further action or investigation by the RP.
        Moderate = "moderate",
        /// The order should be blocked or cancelled by the RP.
        High = "high",
    }
}

wire_enum! {
    /// Who called whom in a phone order (`callInitiator`).
    closed CallInitiator {
        /// The user called the RP.
        User = "user",
        /// The RP called the user.
        Rp = "RP",
    }
}

wire_enum! {
    /// The kind of card reader a smart-card BankID must use (`requirement.cardReader`).
    closed CardReader {
        /// The PIN is entered on the computer keyboard, or a card reader of a higher class.
        Class1 = "class1",
        /// The PIN is entered on the card reader itself.
        Class2 = "class2",
    }
}

wire_enum! {
    /// The format of `userVisibleData`.
    closed UserVisibleDataFormat {
        /// Simple Markdown v1 formatting.
        SimpleMarkdownV1 = "simpleMarkdownV1",
        /// Plain text (a subset of UTF-8 with CR, LF or CRLF line breaks).
        Plaintext = "plaintext",
    }
}

wire_enum! {
    /// The kind of transaction a payment order approves (`userVisibleTransaction.transactionType`).
    closed TransactionType {
        /// A card payment; the recipient is the merchant.
        Card = "card",
        /// A non-payment authentication; no money may be shown.
        Npa = "npa",
    }
}

wire_enum! {
    /// Signals to BankID's risk engine that a payment is unusual (`riskFlags`).
    closed RiskFlag {
        /// A card not used before.
        NewCard = "newCard",
        /// A new customer.
        NewCustomer = "newCustomer",
        /// A recipient not paid before.
        NewRecipient = "newRecipient",
        /// A recipient known to be of high risk.
        HighRiskRecipient = "highRiskRecipient",
        /// An unusually large amount.
        LargeAmount = "largeAmount",
        /// A currency other than the user's own.
        ForeignCurrency = "foreignCurrency",
        /// A purchase of crypto currency.
        CryptoCurrencyPurchase = "cryptoCurrencyPurchase",
        /// A transfer of money.
        MoneyTransfer = "moneyTransfer",
        /// A transaction abroad.
        OverseasTransaction = "overseasTransaction",
        /// A recurring payment.
        RecurringPayment = "recurringPayment",
        /// A suspicious pattern of payments.
        SuspiciousPaymentPattern = "suspiciousPaymentPattern",
        /// Another reason.
        Other = "other",
    }
}

/// How the user's BankID app gets the order; decides which user messages fit (spec §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum StartMode {
    /// The user scans an animated QR code with the app on another device.
    Qr,
    /// The RP launched the app on the same device with the autostart token.
    AutoStart,
    /// A phone order: BankID pushes it to the user's app by personal number.
    Phone,
}

/// The kind of device the user started the order from; decides between RFA15A and RFA15B.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub enum DeviceKind {
    /// A desktop or laptop computer.
    #[default]
    Computer,
    /// A phone or tablet.
    Mobile,
}

/// The BankID API endpoint a request goes to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Endpoint {
    /// `auth`: identification.
    Auth,
    /// `sign`: signature.
    Sign,
    /// `payment`: approval of a payment.
    Payment,
    /// `phone/auth`: identification during a phone call.
    PhoneAuth,
    /// `phone/sign`: signature during a phone call.
    PhoneSign,
    /// `other/payment`: a payment order pushed by personal number.
    OtherPayment,
    /// `collect`: the status of an order.
    Collect,
    /// `cancel`: cancels an order.
    Cancel,
}

impl Endpoint {
    /// Every endpoint.
    pub const ALL: [Self; 8] = [
        Self::Auth,
        Self::Sign,
        Self::Payment,
        Self::PhoneAuth,
        Self::PhoneSign,
        Self::OtherPayment,
        Self::Collect,
        Self::Cancel,
    ];

    /// The endpoint's path below `/rp/v6.0/`, e.g. `phone/auth`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Auth => "auth",
            Self::Sign => "sign",
            Self::Payment => "payment",
            Self::PhoneAuth => "phone/auth",
            Self::PhoneSign => "phone/sign",
            Self::OtherPayment => "other/payment",
            Self::Collect => "collect",
            Self::Cancel => "cancel",
        }
    }

    /// The full path of the endpoint, e.g. `/rp/v6.0/phone/auth`.
    #[must_use]
    pub fn path(self) -> String {
        format!("{API_PREFIX}{}", self.name())
    }

    /// Whether the endpoint only reads state, so that a request that may or may not have
    /// reached the server can be sent again safely (only `collect`).
    #[must_use]
    pub const fn is_idempotent_read(self) -> bool {
        matches!(self, Self::Collect)
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_codes_round_trip_and_keep_unknown_values() {
        for code in PendingHintCode::KNOWN {
            assert_eq!(&PendingHintCode::from_wire(code.as_str()), code);
        }
        assert_eq!(PendingHintCode::from_wire("userMrtd"), PendingHintCode::UserMrtd);
        assert_eq!(PendingHintCode::from_wire("somethingNew"), PendingHintCode::Unknown("somethingNew".into()));
        assert_eq!(ErrorCode::from_wire("Maintenance"), ErrorCode::Maintenance);
        let json = serde_json::to_string(&FailedHintCode::Unknown("x".into())).unwrap();
        assert_eq!(json, "\"x\"");
    }

    #[test]
    fn closed_codes_parse_exactly() {
        assert_eq!("RP".parse::<CallInitiator>().unwrap(), CallInitiator::Rp);
        assert!("rp".parse::<CallInitiator>().is_err());
        assert_eq!(serde_json::to_string(&CallInitiator::User).unwrap(), "\"user\"");
        assert_eq!(serde_json::to_string(&RiskFlag::CryptoCurrencyPurchase).unwrap(), "\"cryptoCurrencyPurchase\"");
    }
}
