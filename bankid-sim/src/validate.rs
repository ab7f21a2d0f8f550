//! Server-side validation of v6 requests, with BankID's error codes and `details` strings
//! (spec §2 and §4.1). Independent of any client library on purpose.
//!
//! `details` strings marked `[observed]` are BankID's own (spec §4.1, seen on its test service);
//! every other one is invented in BankID's style. Limits without a source in the spec say so
//! where they are set.

use std::net::IpAddr;

use base64::Engine;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use serde_json::{Map, Value};

use crate::endpoint::Endpoint;
use crate::pnr::is_accepted_personal_number;

/// Standard alphabet; padding accepted but not required (like Java's basic decoder).
const B64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// An error answer: HTTP status, `errorCode`, `details`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub(crate) status: u16,
    pub(crate) code: &'static str,
    pub(crate) details: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, code: &'static str, details: impl Into<String>) -> Self {
        Self { status, code, details: details.into() }
    }

    pub(crate) fn invalid(details: impl Into<String>) -> Self {
        Self::new(400, "invalidParameters", details)
    }

    /// An order this server does not know (never created, cancelled, purged after its
    /// window, or another RP's). BankID's own text [CPP observed].
    pub(crate) fn no_such_order() -> Self {
        Self::invalid("No such order")
    }

    /// A collect after the one that delivered the final status. BankID documents the cause
    /// ("the order cannot be collected twice") but not its `details` text: this one is
    /// invented, modelled on the observed "No such order".
    pub(crate) fn collected_twice() -> Self {
        Self::invalid("No such order (its final status has already been collected)")
    }
}

/// A validated start request.
#[derive(Debug, Clone)]
pub(crate) struct StartRequest {
    pub(crate) endpoint: Endpoint,
    pub(crate) end_user_ip: Option<IpAddr>,
    /// The personal number the order is bound to (`requirement.personalNumber`, or the
    /// top-level `personalNumber` of phone and other/payment orders).
    pub(crate) personal_number: Option<String>,
    pub(crate) visible: Option<String>,
    pub(crate) non_visible: Option<String>,
    pub(crate) mrtd: bool,
    pub(crate) return_risk: bool,
    pub(crate) policies: Vec<String>,
    /// The body as received.
    pub(crate) raw: Value,
}

/// (max userVisibleData, max userNonVisibleData, userVisibleData required) after base64.
fn data_limits(ep: Endpoint) -> (usize, usize, bool) {
    match ep {
        Endpoint::Auth | Endpoint::PhoneAuth => (1_500, 1_500, false),
        Endpoint::Sign | Endpoint::PhoneSign => (40_000, 200_000, true),
        // Not documented (spec §2.4, §2.5 [U]): the sign limits, so a valid request is never refused.
        _ => (40_000, 200_000, false),
    }
}

fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str, err: &str) -> Result<Option<&'a str>, ApiError> {
    match get(obj, key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(ApiError::invalid(err)),
    }
}

fn opt_bool(obj: &Map<String, Value>, key: &str, err: &str) -> Result<bool, ApiError> {
    match get(obj, key) {
        None => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid(err)),
    }
}

fn base64_field(obj: &Map<String, Value>, key: &str, max: usize, utf8: bool) -> Result<Option<String>, ApiError> {
    let err = format!("Invalid {key}");
    let Some(s) = opt_str(obj, key, &err)? else {
        return Ok(None);
    };
    if s.is_empty() || s.len() > max {
        return Err(ApiError::invalid(err));
    }
    let bytes = B64.decode(s).map_err(|_| ApiError::invalid(err.clone()))?;
    if utf8 && std::str::from_utf8(&bytes).is_err() {
        return Err(ApiError::invalid(err));
    }
    Ok(Some(s.to_owned()))
}

fn personal_number(v: Option<&Value>) -> Result<Option<String>, ApiError> {
    match v {
        None => Ok(None),
        Some(Value::String(s)) if is_accepted_personal_number(s) => Ok(Some(s.clone())),
        Some(_) => Err(ApiError::invalid("Incorrect personalNumber")), // [observed]
    }
}

fn is_policy(p: &str) -> bool {
    let mut parts = p.split('.').peekable();
    let mut n = 0;
    while let Some(part) = parts.next() {
        n += 1;
        let last = parts.peek().is_none();
        let ok = (!part.is_empty() && part.bytes().all(|b| b.is_ascii_digit())) || (last && part == "*" && n >= 5);
        if !ok {
            return false;
        }
    }
    // No documented limit on the length of an arc or of a policy (spec §2.6): none here; the
    // 512 KiB cap on the body bounds them.
    n >= 2
}

struct Requirement {
    personal_number: Option<String>,
    mrtd: bool,
    policies: Vec<String>,
}

fn requirement(v: Option<&Value>, phone: bool) -> Result<Requirement, ApiError> {
    let mut r = Requirement { personal_number: None, mrtd: false, policies: Vec::new() };
    let Some(v) = v else { return Ok(r) };
    let bad = || ApiError::invalid("Invalid requirement"); // [observed]
    let obj = v.as_object().ok_or_else(bad)?;
    for (key, value) in obj {
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "pinCode" => {
                value.as_bool().ok_or_else(bad)?;
            }
            "mrtd" => r.mrtd = value.as_bool().ok_or_else(bad)?,
            "cardReader" => match value.as_str() {
                Some("class1" | "class2") => {}
                _ => return Err(bad()),
            },
            "certificatePolicies" => {
                // No documented limit on how many (spec §2.6): none here (the body cap bounds it).
                let list = value.as_array().filter(|a| !a.is_empty());
                for p in list.ok_or_else(bad)? {
                    match p.as_str() {
                        Some(p) if is_policy(p) => r.policies.push(p.to_owned()),
                        _ => return Err(bad()),
                    }
                }
            }
            "personalNumber" if !phone => r.personal_number = personal_number(Some(value))?,
            // Unknown members, the v5 leftovers (`allowFingerprint`, `tokenStartRequired`, ...)
            // and the withdrawn `risk` included.
            _ => return Err(bad()),
        }
    }
    Ok(r)
}

fn device_data(obj: &Map<String, Value>) -> Result<(), ApiError> {
    if get(obj, "web").is_some() && get(obj, "app").is_some() {
        return Err(ApiError::invalid("Invalid parameters: web and app are mutually exclusive"));
    }
    if let Some(web) = get(obj, "web") {
        let bad = || ApiError::invalid("Invalid web");
        let web = web.as_object().filter(|w| !w.is_empty()).ok_or_else(bad)?;
        for (k, v) in web {
            let s = v.as_str().ok_or_else(bad)?;
            let ok = match k.as_str() {
                "referringDomain" => {
                    (3..=253).contains(&s.len())
                        && s.bytes().all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-'))
                }
                "userAgent" => (1..=256).contains(&s.chars().count()),
                "deviceIdentifier" => (1..=64).contains(&s.chars().count()),
                _ => false,
            };
            if !ok {
                return Err(bad());
            }
        }
    }
    if let Some(app) = get(obj, "app") {
        let bad = || ApiError::invalid("Invalid app");
        let app = app.as_object().filter(|a| !a.is_empty()).ok_or_else(bad)?;
        for (k, v) in app {
            let s = v.as_str().ok_or_else(bad)?;
            let known = matches!(k.as_str(), "appIdentifier" | "deviceOS" | "deviceModelName" | "deviceIdentifier");
            // 1-256 characters: not documented (spec §2.7 [U]), as for web.userAgent.
            if !known || s.is_empty() || s.chars().count() > 256 {
                return Err(bad());
            }
        }
    }
    Ok(())
}

const RISK_FLAGS: [&str; 12] = [
    "newCard",
    "newCustomer",
    "newRecipient",
    "highRiskRecipient",
    "largeAmount",
    "foreignCurrency",
    "cryptoCurrencyPurchase",
    "moneyTransfer",
    "overseasTransaction",
    "recurringPayment",
    "suspiciousPaymentPattern",
    "other",
];

fn is_amount(s: &str) -> bool {
    let mut parts = s.split(',');
    let int = parts.next().unwrap_or("");
    let frac = parts.next();
    s.len() <= 48
        && parts.next().is_none()
        && !int.is_empty()
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| !f.is_empty() && f.bytes().all(|b| b.is_ascii_digit()))
}

fn transaction(obj: &Map<String, Value>) -> Result<(), ApiError> {
    let tx = get(obj, "userVisibleTransaction")
        .and_then(Value::as_object)
        .ok_or_else(|| ApiError::invalid("Invalid userVisibleTransaction"))?;
    let Some(kind @ ("card" | "npa")) = get(tx, "transactionType").and_then(Value::as_str) else {
        return Err(ApiError::invalid("transactionType is not a valid transaction type")); // [observed]
    };
    let name = get(tx, "recipient").and_then(Value::as_object).and_then(|r| get(r, "name")).and_then(Value::as_str);
    if name.is_none_or(|n| n.trim().is_empty()) {
        return Err(ApiError::invalid("Recipient name is invalid")); // [observed]
    }
    if let Some(money) = get(tx, "money") {
        if kind == "npa" {
            return Err(ApiError::invalid("money is not allowed with transactionType npa"));
        }
        let money = money.as_object();
        let amount = money.and_then(|m| get(m, "amount")).and_then(Value::as_str);
        let currency = money.and_then(|m| get(m, "currency")).and_then(Value::as_str);
        let ok = amount.is_some_and(is_amount)
            && currency.is_some_and(|c| c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase()));
        if !ok {
            return Err(ApiError::invalid("money has invalid amount or currency")); // [observed]
        }
    }
    // Any non-empty text: its length and values are not documented (spec §2.4 [U]).
    if let Some(w) = get(tx, "riskWarning")
        && w.as_str().is_none_or(str::is_empty)
    {
        return Err(ApiError::invalid("Invalid riskWarning"));
    }
    if let Some(flags) = get(obj, "riskFlags") {
        let ok =
            flags.as_array().is_some_and(|a| a.iter().all(|f| f.as_str().is_some_and(|f| RISK_FLAGS.contains(&f))));
        if !ok {
            return Err(ApiError::invalid("Invalid riskFlags"));
        }
    }
    Ok(())
}

/// Validates the body of a start request (auth, sign, payment, phone/*, other/payment).
pub(crate) fn start_request(ep: Endpoint, body: Value) -> Result<StartRequest, ApiError> {
    let obj = body.as_object().ok_or_else(|| ApiError::invalid("Invalid JSON: expected an object"))?;
    let phone = matches!(ep, Endpoint::PhoneAuth | Endpoint::PhoneSign);
    let pushed = phone || ep == Endpoint::OtherPayment;

    let end_user_ip = match (get(obj, "endUserIp"), pushed) {
        (None, true) => None,
        // [observed]
        (Some(Value::String(s)), _) => Some(s.parse::<IpAddr>().map_err(|_| ApiError::invalid("Invalid endUserIp"))?),
        _ => return Err(ApiError::invalid("Invalid endUserIp")), // [observed]
    };

    let mut personal = None;
    if pushed {
        personal = personal_number(get(obj, "personalNumber"))?;
        if personal.is_none() {
            return Err(ApiError::invalid("Incorrect personalNumber")); // [observed]
        }
    }
    if phone {
        match get(obj, "callInitiator").and_then(Value::as_str) {
            Some("user" | "RP") => {}
            _ => return Err(ApiError::invalid("Incorrect callInitiator")), // [observed]
        }
    }
    let req = requirement(get(obj, "requirement"), pushed)?;
    if !pushed {
        personal = req.personal_number.clone();
    }

    let (max_visible, max_non_visible, visible_required) = data_limits(ep);
    let visible = base64_field(obj, "userVisibleData", max_visible, true)?;
    let non_visible = base64_field(obj, "userNonVisibleData", max_non_visible, false)?;
    if visible.is_none() && visible_required {
        return Err(ApiError::invalid("Invalid userVisibleData")); // [observed]
    }
    let payment = matches!(ep, Endpoint::Payment | Endpoint::OtherPayment);
    if payment && non_visible.is_some() && visible.is_none() {
        return Err(ApiError::invalid("userNonVisible data requires userVisibleData")); // [observed]
    }
    match opt_str(obj, "userVisibleDataFormat", "Invalid userVisibleDataFormat")? {
        None | Some("simpleMarkdownV1" | "plaintext") => {}
        Some(_) => return Err(ApiError::invalid("Invalid userVisibleDataFormat")),
    }

    let mut return_risk = false;
    if !phone {
        if let Some(url) = opt_str(obj, "returnUrl", "Invalid returnUrl")?
            && (url.is_empty() || url.chars().count() > 512)
        {
            return Err(ApiError::invalid("Invalid returnUrl"));
        }
        return_risk = opt_bool(obj, "returnRisk", "Invalid returnRisk")?;
        device_data(obj)?;
    }
    if payment {
        transaction(obj)?;
    }

    Ok(StartRequest {
        endpoint: ep,
        end_user_ip,
        personal_number: personal,
        visible,
        non_visible,
        mrtd: req.mrtd,
        return_risk,
        policies: req.policies,
        raw: body,
    })
}

/// Parses a request body: a JSON value, or `Invalid JSON`.
pub(crate) fn parse_body(bytes: &[u8]) -> Result<Value, ApiError> {
    serde_json::from_slice::<Value>(bytes).map_err(|_| ApiError::invalid("Invalid JSON"))
}

/// What the simulator answers when it refuses a request ([`validate_request`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("HTTP {status} {error_code}: {details}")]
#[non_exhaustive]
pub struct Refusal {
    /// The HTTP status (400).
    pub status: u16,
    /// The `errorCode`, e.g. `invalidParameters`.
    pub error_code: &'static str,
    /// The `details` (see the crate docs for which are BankID's own).
    pub details: String,
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Self { status: e.status, error_code: e.code, details: e.details }
    }
}

/// The simulator's own validation of a request body to `endpoint`, as a function: exactly what
/// the server runs after its HTTP checks (client certificate, path, method, content type, size)
/// and before it looks at its orders. A start request gets every field rule, with BankID's
/// error codes and `details`; a collect or cancel body must name an `orderRef` (whether the
/// order exists is the server's business). For differential tests against a client library.
///
/// ```
/// use bankid_sim::{Endpoint, validate_request};
///
/// assert!(validate_request(Endpoint::Auth, br#"{"endUserIp":"192.0.2.1"}"#).is_ok());
/// let refused = validate_request(Endpoint::Auth, br#"{"endUserIp":"x"}"#).unwrap_err();
/// assert_eq!((refused.error_code, refused.details.as_str()), ("invalidParameters", "Invalid endUserIp"));
/// ```
///
/// # Errors
/// The [`Refusal`] the server would answer.
pub fn validate_request(endpoint: Endpoint, body: &[u8]) -> Result<(), Refusal> {
    let body = parse_body(body)?;
    if endpoint.starts_order() {
        start_request(endpoint, body)?;
    } else {
        order_ref(&body)?;
    }
    Ok(())
}

/// The `orderRef` of a collect or cancel body.
pub(crate) fn order_ref(body: &Value) -> Result<&str, ApiError> {
    let obj = body.as_object().ok_or_else(|| ApiError::invalid("Invalid JSON: expected an object"))?;
    match get(obj, "orderRef") {
        Some(Value::String(s)) => Ok(s),
        _ => Err(ApiError::invalid("Invalid orderRef")),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const PNR: &str = "198001019994";

    fn details(ep: Endpoint, body: Value) -> String {
        start_request(ep, body).map(|_| String::new()).unwrap_or_else(|e| e.details)
    }

    #[test]
    fn auth_rules() {
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "127.0.0.1"})), "");
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "::1"})), "");
        assert_eq!(details(Endpoint::Auth, json!({})), "Invalid endUserIp");
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "1.2.3"})), "Invalid endUserIp");
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": 1})), "Invalid endUserIp");
        assert_eq!(details(Endpoint::Auth, json!([1])), "Invalid JSON: expected an object");
        let ok = json!({"endUserIp": "1.2.3.4", "requirement": {"personalNumber": PNR, "pinCode": true, "mrtd": false, "cardReader": "class2", "certificatePolicies": ["1.2.3.4.5", "1.2.752.78.*"]}});
        let r = start_request(Endpoint::Auth, ok).expect("valid");
        assert_eq!(r.personal_number.as_deref(), Some(PNR));
        assert_eq!(r.policies.len(), 2);
        for bad in [
            json!({"cardReader": "class3"}),
            json!({"pinCode": "yes"}),
            json!({"mrtd": 1}),
            json!({"certificatePolicies": "1.2.3"}),
            json!({"certificatePolicies": []}),
            json!({"certificatePolicies": [5]}),
            json!({"certificatePolicies": ["1.*"]}),
            json!({"allowFingerprint": true}),
            json!({"risk": "low"}),
            json!("x"),
        ] {
            assert_eq!(
                details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "requirement": bad})),
                "Invalid requirement"
            );
        }
        // BankID checks the form (12 digits), not the date or the check digit.
        for accepted in ["198001019990", "200003121145", "200001010101", "199013329999"] {
            let body = json!({"endUserIp": "1.2.3.4", "requirement": {"personalNumber": accepted}});
            assert_eq!(details(Endpoint::Auth, body), "", "{accepted}");
        }
        for refused in [json!("19800101999"), json!("19800101-9994"), json!(198001019994u64), json!("")] {
            let body = json!({"endUserIp": "1.2.3.4", "requirement": {"personalNumber": refused}});
            assert_eq!(details(Endpoint::Auth, body), "Incorrect personalNumber", "{refused}");
        }
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userVisibleData": "not base64!"})),
            "Invalid userVisibleData"
        );
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userVisibleData": "/w=="})),
            "Invalid userVisibleData"
        );
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userVisibleData": "A".repeat(1504)})),
            "Invalid userVisibleData"
        );
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userVisibleData": ""})),
            "Invalid userVisibleData"
        );
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userNonVisibleData": "%%"})),
            "Invalid userNonVisibleData"
        );
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userNonVisibleData": "/w"})), "");
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "userVisibleDataFormat": "html"})),
            "Invalid userVisibleDataFormat"
        );
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "returnRisk": "yes"})), "Invalid returnRisk");
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "returnUrl": ""})), "Invalid returnUrl");
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "web": {"referringDomain": "Ex.com"}})),
            "Invalid web"
        );
        assert_eq!(
            details(
                Endpoint::Auth,
                json!({"endUserIp": "1.2.3.4", "web": {"referringDomain": "example.com", "userAgent": "x", "deviceIdentifier": "y"}})
            ),
            ""
        );
        assert_eq!(details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "web": {}})), "Invalid web");
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "app": {"appIdentifier": "a", "deviceOS": "b"}})),
            ""
        );
        assert_eq!(
            details(Endpoint::Auth, json!({"endUserIp": "1.2.3.4", "app": {"appIdentifier": 1}})),
            "Invalid app"
        );
        assert!(
            details(
                Endpoint::Auth,
                json!({"endUserIp": "1.2.3.4", "app": {"appIdentifier": "a"}, "web": {"userAgent": "b"}})
            )
            .contains("mutually exclusive")
        );
    }

    #[test]
    fn sign_and_phone_rules() {
        assert_eq!(details(Endpoint::Sign, json!({"endUserIp": "1.2.3.4"})), "Invalid userVisibleData");
        assert_eq!(
            details(
                Endpoint::Sign,
                json!({"endUserIp": "1.2.3.4", "userVisibleData": "SGVq", "userNonVisibleData": "AAAA"})
            ),
            ""
        );
        assert_eq!(details(Endpoint::PhoneAuth, json!({"personalNumber": PNR, "callInitiator": "user"})), "");
        assert_eq!(
            details(Endpoint::PhoneAuth, json!({"personalNumber": PNR, "callInitiator": "rp"})),
            "Incorrect callInitiator"
        );
        assert_eq!(details(Endpoint::PhoneAuth, json!({"personalNumber": PNR})), "Incorrect callInitiator");
        assert_eq!(details(Endpoint::PhoneAuth, json!({"callInitiator": "RP"})), "Incorrect personalNumber");
        assert_eq!(
            details(Endpoint::PhoneAuth, json!({"personalNumber": "123", "callInitiator": "RP"})),
            "Incorrect personalNumber"
        );
        assert_eq!(
            details(Endpoint::PhoneSign, json!({"personalNumber": PNR, "callInitiator": "RP"})),
            "Invalid userVisibleData"
        );
        assert_eq!(
            details(
                Endpoint::PhoneAuth,
                json!({"personalNumber": PNR, "callInitiator": "RP", "requirement": {"personalNumber": PNR}})
            ),
            "Invalid requirement"
        );
        assert_eq!(
            details(Endpoint::PhoneAuth, json!({"personalNumber": PNR, "callInitiator": "RP", "endUserIp": "x"})),
            "Invalid endUserIp"
        );
    }

    #[test]
    fn payment_rules() {
        let tx = json!({"transactionType": "card", "recipient": {"name": "Shop"}, "money": {"amount": "100,00", "currency": "SEK"}});
        assert_eq!(
            details(
                Endpoint::Payment,
                json!({"endUserIp": "1.2.3.4", "userVisibleTransaction": tx, "riskFlags": ["newCard"]})
            ),
            ""
        );
        assert_eq!(details(Endpoint::Payment, json!({"endUserIp": "1.2.3.4"})), "Invalid userVisibleTransaction");
        let d = |tx: Value| details(Endpoint::Payment, json!({"endUserIp": "1.2.3.4", "userVisibleTransaction": tx}));
        assert_eq!(
            d(json!({"transactionType": "cash", "recipient": {"name": "x"}})),
            "transactionType is not a valid transaction type"
        );
        assert_eq!(d(json!({"transactionType": "card", "recipient": {"name": ""}})), "Recipient name is invalid");
        assert_eq!(d(json!({"transactionType": "card"})), "Recipient name is invalid");
        assert_eq!(
            d(
                json!({"transactionType": "card", "recipient": {"name": "x"}, "money": {"amount": "100.00", "currency": "SEK"}})
            ),
            "money has invalid amount or currency"
        );
        assert_eq!(
            d(
                json!({"transactionType": "card", "recipient": {"name": "x"}, "money": {"amount": "100", "currency": "sek"}})
            ),
            "money has invalid amount or currency"
        );
        assert_eq!(
            d(
                json!({"transactionType": "npa", "recipient": {"name": "x"}, "money": {"amount": "1", "currency": "SEK"}})
            ),
            "money is not allowed with transactionType npa"
        );
        assert_eq!(d(json!({"transactionType": "npa", "recipient": {"name": "x"}})), "");
        assert_eq!(
            details(
                Endpoint::Payment,
                json!({"endUserIp": "1.2.3.4", "userNonVisibleData": "AAAA", "userVisibleTransaction": tx})
            ),
            "userNonVisible data requires userVisibleData"
        );
        assert_eq!(
            details(
                Endpoint::Payment,
                json!({"endUserIp": "1.2.3.4", "userVisibleTransaction": tx, "riskFlags": ["bogus"]})
            ),
            "Invalid riskFlags"
        );
        assert_eq!(details(Endpoint::OtherPayment, json!({"personalNumber": PNR, "userVisibleTransaction": tx})), "");
        assert_eq!(details(Endpoint::OtherPayment, json!({"userVisibleTransaction": tx})), "Incorrect personalNumber");
        for a in ["1000,00", "100,000", "100", "0"] {
            assert!(is_amount(a), "{a}");
        }
        for a in ["", ",5", "1,", "1,2,3", "1.0", "-1", "1 000"] {
            assert!(!is_amount(a), "{a}");
        }
    }

    #[test]
    fn order_refs() {
        assert_eq!(order_ref(&json!({"orderRef": "x"})), Ok("x"));
        assert!(order_ref(&json!({"orderRef": 1})).is_err());
        assert!(order_ref(&json!([])).is_err());
    }
}
