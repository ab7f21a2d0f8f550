//! Differential property tests: bankid-core and bankid-sim implement BankID's request rules
//! independently (the simulator does not depend on the core), so they must agree.
//!
//! * Every request the core builds from arbitrary valid input is accepted by the simulator's
//!   own validation ([`bankid_sim::validate_request`], the function its server runs), on the
//!   path the core sends it to.
//! * The core and the simulator agree on which personal numbers are valid: BankID's check
//!   (twelve digits) and the strict one (date and check digit), over arbitrary 12-digit strings
//!   and arbitrary strings.
#![allow(missing_docs)]

use std::net::IpAddr;

use bankid_core::validate::{personal_number, personal_number_strict};
use bankid_core::{
    AppData, AuthRequest, CallInitiator, CancelRequest, CardReader, CollectRequest, Config, Money, Operation,
    OtherPaymentRequest, PaymentRequest, PhoneAuthRequest, PhoneSignRequest, Requirement, RiskFlag, SignRequest,
    TransactionType, UserVisibleDataFormat, UserVisibleTransaction, WebData,
};
use bankid_sim::{Endpoint, is_accepted_personal_number, is_valid_personal_number, validate_request};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};

/// Builds `op` with the core (which must accept it: every input here is valid) and checks that
/// the simulator accepts the body on the path the core addressed.
fn simulator_accepts<O: Operation + std::fmt::Debug>(op: &O) -> Result<(), TestCaseError> {
    let request = op.to_http(&Config::test()).map_err(|e| TestCaseError::fail(format!("core refused: {e}")))?;
    let path = request.uri().path();
    let endpoint = Endpoint::from_path(path).ok_or_else(|| TestCaseError::fail(format!("unknown path {path}")))?;
    prop_assert_eq!(endpoint.name(), O::ENDPOINT.name());
    if let Err(refusal) = validate_request(endpoint, request.body()) {
        return Err(TestCaseError::fail(format!(
            "the simulator refuses what the core sends to {path}: {refusal}\nbody: {}",
            String::from_utf8_lossy(request.body())
        )));
    }
    Ok(())
}

fn personal_numbers() -> impl Strategy<Value = String> {
    "[0-9]{12}"
}

/// A certificate policy OID: dotted digits, or four or more arcs and a final `*`.
fn policy() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9]{1,12}(\\.[0-9]{1,12}){1,6}", "[0-9]{1,12}(\\.[0-9]{1,12}){3,6}\\.\\*",]
}

fn requirement(with_personal_number: bool) -> impl Strategy<Value = Requirement> {
    (
        proptest::option::of(any::<bool>()),
        proptest::option::of(any::<bool>()),
        proptest::option::of(select(CardReader::ALL)),
        proptest::collection::vec(policy(), 0..40),
        proptest::option::of(personal_numbers()),
    )
        .prop_map(move |(pin, mrtd, reader, policies, pnr)| {
            let mut r = Requirement::new();
            if let Some(pin) = pin {
                r = r.pin_code(pin);
            }
            if let Some(mrtd) = mrtd {
                r = r.mrtd(mrtd);
            }
            if let Some(reader) = reader {
                r = r.card_reader(reader);
            }
            for p in policies {
                r = r.certificate_policy(p);
            }
            match pnr {
                Some(pnr) if with_personal_number => r.personal_number(pnr),
                _ => r,
            }
        })
}

/// Device data: `web` or `app`, each with at least one member, within the documented limits.
#[derive(Debug, Clone)]
enum Device {
    Web(WebData),
    App(AppData),
}

fn device() -> impl Strategy<Value = Device> {
    let web = (
        proptest::option::of("[a-z0-9.-]{3,60}"),
        proptest::option::of("\\PC{1,256}"),
        proptest::option::of("\\PC{1,64}"),
    )
        .prop_filter("at least one member", |(a, b, c)| a.is_some() || b.is_some() || c.is_some())
        .prop_map(|(domain, agent, id)| {
            let mut w = WebData::new();
            if let Some(d) = domain {
                w = w.referring_domain(d);
            }
            if let Some(a) = agent {
                w = w.user_agent(a);
            }
            if let Some(i) = id {
                w = w.device_identifier(i);
            }
            Device::Web(w)
        });
    let member = || proptest::option::of("\\PC{1,256}");
    let app = (member(), member(), member(), member())
        .prop_filter("at least one member", |(a, b, c, d)| a.is_some() || b.is_some() || c.is_some() || d.is_some())
        .prop_map(|(app_id, os, model, id)| {
            let mut a = AppData::new();
            if let Some(v) = app_id {
                a = a.app_identifier(v);
            }
            if let Some(v) = os {
                a = a.device_os(v);
            }
            if let Some(v) = model {
                a = a.device_model_name(v);
            }
            if let Some(v) = id {
                a = a.device_identifier(v);
            }
            Device::App(a)
        });
    prop_oneof![web, app]
}

/// The optional fields every start request with texts has.
#[derive(Debug, Clone)]
struct Texts {
    /// Up to 200 characters: at most 800 bytes, under every limit after base64.
    visible: Option<String>,
    non_visible: Option<Vec<u8>>,
    format: Option<UserVisibleDataFormat>,
}

fn texts() -> impl Strategy<Value = Texts> {
    (
        proptest::option::of("\\PC{1,200}"),
        proptest::option::of(proptest::collection::vec(any::<u8>(), 1..1_000)),
        proptest::option::of(select(UserVisibleDataFormat::ALL)),
    )
        .prop_map(|(visible, non_visible, format)| Texts {
            // A format describes the visible text: only with one.
            format: format.filter(|_| visible.is_some()),
            visible,
            non_visible,
        })
}

/// `returnUrl`, `returnRisk` and device data.
#[derive(Debug, Clone)]
struct Launch {
    return_url: Option<String>,
    return_risk: bool,
    device: Option<Device>,
}

fn launch() -> impl Strategy<Value = Launch> {
    (proptest::option::of("\\PC{1,200}"), any::<bool>(), proptest::option::of(device()))
        .prop_map(|(return_url, return_risk, device)| Launch { return_url, return_risk, device })
}

fn transaction() -> impl Strategy<Value = UserVisibleTransaction> {
    (
        select(TransactionType::ALL),
        "\\PC{0,3}[^\\s]\\PC{0,36}",
        proptest::option::of(("[0-9]{1,20}(,[0-9]{1,20})?", "[A-Z]{3}")),
        proptest::option::of("\\PC{1,256}"),
    )
        .prop_map(|(kind, name, money, warning)| {
            let mut t = UserVisibleTransaction::new(kind, name);
            if let Some((amount, currency)) = money.filter(|_| kind == TransactionType::Card) {
                t = t.money(Money::new(amount, currency));
            }
            if let Some(w) = warning {
                t = t.risk_warning(w);
            }
            t
        })
}

/// Applies the optional setters shared by the start requests (a macro: they are inherent
/// methods of each request type, not a trait).
macro_rules! with_texts {
    ($req:expr, $texts:expr, visible) => {{
        let req = with_texts!($req, $texts);
        match &$texts.visible {
            Some(v) => req.user_visible_data(v.clone()),
            None => req,
        }
    }};
    ($req:expr, $texts:expr) => {{
        let mut req = $req;
        if let Some(n) = &$texts.non_visible {
            req = req.user_non_visible_data(n.clone());
        }
        if let Some(f) = $texts.format {
            req = req.user_visible_data_format(f);
        }
        req
    }};
}

macro_rules! with_launch {
    ($req:expr, $launch:expr) => {{
        let mut req = $req.return_risk($launch.return_risk);
        if let Some(url) = &$launch.return_url {
            req = req.return_url(url.clone());
        }
        match &$launch.device {
            Some(Device::Web(w)) => req.device(w.clone()),
            Some(Device::App(a)) => req.device(a.clone()),
            None => req,
        }
    }};
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn auth(ip in any::<IpAddr>(), req in proptest::option::of(requirement(true)), texts in texts(), launch in launch()) {
        let mut op = with_launch!(with_texts!(AuthRequest::new(ip), texts, visible), launch);
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn sign(ip in any::<IpAddr>(), visible in "\\PC{1,200}", req in proptest::option::of(requirement(true)), texts in texts(), launch in launch()) {
        let mut op = with_launch!(with_texts!(SignRequest::new(ip, visible), texts), launch);
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn payment(
        ip in any::<IpAddr>(),
        tx in transaction(),
        flags in subsequence(RiskFlag::ALL, 0..=RiskFlag::ALL.len()),
        req in proptest::option::of(requirement(true)),
        texts in texts(),
        launch in launch(),
    ) {
        // userNonVisibleData needs userVisibleData on payment (BankID's rule, both sides).
        let texts = Texts { non_visible: texts.non_visible.filter(|_| texts.visible.is_some()), ..texts };
        let mut op = with_launch!(with_texts!(PaymentRequest::new(ip, tx), texts, visible), launch);
        for f in flags {
            op = op.risk_flag(f);
        }
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn other_payment(
        pnr in personal_numbers(),
        tx in transaction(),
        flags in subsequence(RiskFlag::ALL, 0..=RiskFlag::ALL.len()),
        req in proptest::option::of(requirement(false)),
        texts in texts(),
        launch in launch(),
    ) {
        let texts = Texts { non_visible: texts.non_visible.filter(|_| texts.visible.is_some()), ..texts };
        let mut op = with_launch!(with_texts!(OtherPaymentRequest::new(pnr, tx), texts, visible), launch);
        for f in flags {
            op = op.risk_flag(f);
        }
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn phone_auth(pnr in personal_numbers(), who in select(CallInitiator::ALL), req in proptest::option::of(requirement(false)), texts in texts()) {
        let mut op = with_texts!(PhoneAuthRequest::new(pnr, who), texts, visible);
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn phone_sign(pnr in personal_numbers(), who in select(CallInitiator::ALL), visible in "\\PC{1,200}", req in proptest::option::of(requirement(false)), texts in texts()) {
        let mut op = with_texts!(PhoneSignRequest::new(pnr, who, visible), texts);
        if let Some(r) = req {
            op = op.requirement(r);
        }
        simulator_accepts(&op)?;
    }

    #[test]
    fn collect_and_cancel(order_ref in "\\PC{1,100}") {
        simulator_accepts(&CollectRequest::new(order_ref.clone()))?;
        simulator_accepts(&CancelRequest::new(order_ref))?;
    }

    /// BankID's check and the strict one agree over every 12-digit string.
    #[test]
    fn personal_numbers_agree_over_twelve_digits(pnr in personal_numbers()) {
        prop_assert!(personal_number("personalNumber", &pnr).is_ok());
        prop_assert!(is_accepted_personal_number(&pnr));
        prop_assert_eq!(personal_number_strict("personalNumber", &pnr).is_ok(), is_valid_personal_number(&pnr), "{}", pnr);
    }

    /// Real numbers (a valid date, any check digit; the right one computed): the strict checks
    /// agree where they matter most, near the valid ones.
    #[test]
    fn personal_numbers_agree_over_real_dates(year in 1800u32..2100, month in 1u32..=12, day in 1u32..=31, coordination in any::<bool>(), serial in 0u32..1000, check in 0u32..10) {
        let day = if coordination { day + 60 } else { day };
        let pnr = format!("{year:04}{month:02}{day:02}{serial:03}{check}");
        prop_assert_eq!(personal_number_strict("personalNumber", &pnr).is_ok(), is_valid_personal_number(&pnr), "{}", pnr);
    }

    /// Over arbitrary strings (wrong lengths, signs, spaces, non-ASCII digits) too.
    #[test]
    fn personal_numbers_agree_over_any_string(s in prop_oneof!["\\PC{0,14}", "[0-9 +-]{10,14}", "[0-9\u{0660}-\u{0669}\u{ff10}-\u{ff19}]{12}"]) {
        prop_assert_eq!(personal_number("personalNumber", &s).is_ok(), is_accepted_personal_number(&s), "{:?}", s);
        prop_assert_eq!(personal_number_strict("personalNumber", &s).is_ok(), is_valid_personal_number(&s), "{:?}", s);
    }
}

/// The two sides of each agreement are not trivially true: some inputs are refused by both.
#[test]
fn the_checks_are_not_vacuous() {
    for refused in ["19900101123", "19900101-1239", "１９９００１０１１２３９"] {
        assert!(personal_number("p", refused).is_err() && !is_accepted_personal_number(refused));
    }
    for (pnr, real) in [("199001011239", true), ("200003121145", false), ("199013011239", false)] {
        assert!(personal_number("p", pnr).is_ok() && is_accepted_personal_number(pnr), "{pnr}");
        assert_eq!(personal_number_strict("p", pnr).is_ok(), real, "{pnr}");
        assert_eq!(is_valid_personal_number(pnr), real, "{pnr}");
    }
    assert!(validate_request(Endpoint::Auth, br#"{"endUserIp":"nope"}"#).is_err());
    assert!(validate_request(Endpoint::Payment, br#"{"endUserIp":"192.0.2.1"}"#).is_err());
}
