//! Every request: its URL, headers and exact JSON, and every rule checked before sending.

use std::net::IpAddr;

use bankid_core::{
    AppData, AuthRequest, CallInitiator, CancelRequest, CardReader, CollectRequest, Config, Error, Money, Operation,
    OtherPaymentRequest, PaymentRequest, PhoneAuthRequest, PhoneSignRequest, Requirement, RiskFlag, SignRequest,
    TransactionType, UserVisibleDataFormat, UserVisibleTransaction, WebData,
};
use serde_json::{Value, json};

const PNR: &str = "199001011239";

fn ip() -> IpAddr {
    "192.0.2.10".parse().unwrap()
}

fn body<O: Operation>(op: &O) -> Value {
    let request = op.to_http(&Config::test()).unwrap();
    serde_json::from_slice(request.body()).unwrap()
}

fn field_of<O: Operation>(op: &O) -> &'static str {
    match op.to_http(&Config::test()) {
        Err(Error::InvalidInput(invalid)) => invalid.field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn b64(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn url_method_and_headers_for_every_endpoint() {
    let config = Config::test();
    let card = || UserVisibleTransaction::new(TransactionType::Card, "Shop");
    let requests = [
        ("auth", AuthRequest::new(ip()).to_http(&config)),
        ("sign", SignRequest::new(ip(), "text").to_http(&config)),
        ("payment", PaymentRequest::new(ip(), card()).to_http(&config)),
        ("phone/auth", PhoneAuthRequest::new(PNR, CallInitiator::User).to_http(&config)),
        ("phone/sign", PhoneSignRequest::new(PNR, CallInitiator::Rp, "t").to_http(&config)),
        ("other/payment", OtherPaymentRequest::new(PNR, card()).to_http(&config)),
        ("collect", CollectRequest::new("o").to_http(&config)),
        ("cancel", CancelRequest::new("o").to_http(&config)),
    ];
    for (endpoint, request) in requests {
        let request = request.unwrap();
        assert_eq!(request.method(), http::Method::POST);
        assert_eq!(request.uri().to_string(), format!("https://appapi2.test.bankid.com/rp/v6.0/{endpoint}"));
        let headers = request.headers();
        assert_eq!(headers["content-type"], "application/json", "no charset parameter");
        assert_eq!(headers["accept"], "application/json");
        assert!(headers["user-agent"].to_str().unwrap().starts_with("bankid-rs/"));
        assert_eq!(headers.len(), 3);
    }
}

#[test]
fn minimal_bodies_omit_every_optional_field() {
    assert_eq!(body(&AuthRequest::new(ip())), json!({"endUserIp": "192.0.2.10"}));
    assert_eq!(body(&AuthRequest::new("2001:db8::1".parse().unwrap())), json!({"endUserIp": "2001:db8::1"}));
    assert_eq!(
        body(&SignRequest::new(ip(), "Sign this")),
        json!({"endUserIp": "192.0.2.10", "userVisibleData": b64("Sign this")})
    );
    assert_eq!(
        body(&PhoneAuthRequest::new(PNR, CallInitiator::User)),
        json!({"personalNumber": PNR, "callInitiator": "user"})
    );
    assert_eq!(
        body(&PhoneSignRequest::new(PNR, CallInitiator::Rp, "x")),
        json!({"personalNumber": PNR, "callInitiator": "RP", "userVisibleData": b64("x")})
    );
    assert_eq!(body(&CollectRequest::new("abc")), json!({"orderRef": "abc"}));
    assert_eq!(body(&CancelRequest::new("abc")), json!({"orderRef": "abc"}));
    // An empty requirement and returnRisk false are omitted too.
    assert_eq!(
        body(&AuthRequest::new(ip()).requirement(Requirement::new()).return_risk(false)),
        json!({"endUserIp": "192.0.2.10"})
    );
}

#[test]
fn auth_with_every_field() {
    let request = AuthRequest::new(ip())
        .requirement(
            Requirement::new()
                .pin_code(true)
                .mrtd(true)
                .card_reader(CardReader::Class1)
                .certificate_policy("1.2.752.78.1.5")
                .certificate_policy("1.2.3.4.*")
                .personal_number(PNR),
        )
        .user_visible_data("Logga in på *Exempel*")
        .user_non_visible_data(vec![0u8, 255, 1])
        .markdown()
        .return_url("https://example.com/return?nonce=abc")
        .return_risk(true)
        .device(WebData::new().referring_domain("example.com").user_agent("Mozilla/5.0").device_identifier("d-1"));
    assert_eq!(
        body(&request),
        json!({
            "endUserIp": "192.0.2.10",
            "requirement": {
                "pinCode": true, "mrtd": true, "cardReader": "class1",
                "certificatePolicies": ["1.2.752.78.1.5", "1.2.3.4.*"], "personalNumber": PNR
            },
            "userVisibleData": b64("Logga in på *Exempel*"),
            "userNonVisibleData": "AP8B",
            "userVisibleDataFormat": "simpleMarkdownV1",
            "returnUrl": "https://example.com/return?nonce=abc",
            "returnRisk": true,
            "web": {"referringDomain": "example.com", "userAgent": "Mozilla/5.0", "deviceIdentifier": "d-1"}
        })
    );
}

#[test]
fn sign_with_app_data_and_plaintext() {
    let request = SignRequest::new(ip(), "Agreement")
        .user_non_visible_data("hidden")
        .user_visible_data_format(UserVisibleDataFormat::Plaintext)
        .device(
            AppData::new()
                .app_identifier("com.example.app")
                .device_os("IOS 16.7.7")
                .device_model_name("Apple iPhone14,3")
                .device_identifier("x"),
        );
    assert_eq!(
        body(&request),
        json!({
            "endUserIp": "192.0.2.10",
            "userVisibleData": b64("Agreement"),
            "userNonVisibleData": b64("hidden"),
            "userVisibleDataFormat": "plaintext",
            "app": {"appIdentifier": "com.example.app", "deviceOS": "IOS 16.7.7", "deviceModelName": "Apple iPhone14,3", "deviceIdentifier": "x"}
        })
    );
}

#[test]
fn payment_and_other_payment_with_every_field() {
    let transaction = UserVisibleTransaction::new(TransactionType::Card, "Example Shop")
        .money(Money::new("1000,00", "SEK"))
        .risk_warning("newRecipient");
    let request = PaymentRequest::new(ip(), transaction.clone())
        .risk_flag(RiskFlag::NewRecipient)
        .risk_flag(RiskFlag::LargeAmount)
        .risk_flag(RiskFlag::NewRecipient)
        .user_visible_data("Pay")
        .return_risk(true);
    let expected_transaction = json!({
        "transactionType": "card",
        "recipient": {"name": "Example Shop"},
        "money": {"amount": "1000,00", "currency": "SEK"},
        "riskWarning": "newRecipient"
    });
    assert_eq!(
        body(&request),
        json!({
            "endUserIp": "192.0.2.10",
            "userVisibleTransaction": expected_transaction,
            "riskFlags": ["newRecipient", "largeAmount"],
            "userVisibleData": b64("Pay"),
            "returnRisk": true
        })
    );
    let other = OtherPaymentRequest::new(PNR, transaction).requirement(Requirement::new().pin_code(true));
    assert_eq!(
        body(&other),
        json!({"personalNumber": PNR, "userVisibleTransaction": expected_transaction, "requirement": {"pinCode": true}})
    );
    let npa = PaymentRequest::new(ip(), UserVisibleTransaction::new(TransactionType::Npa, "Bank"));
    assert_eq!(body(&npa)["userVisibleTransaction"], json!({"transactionType": "npa", "recipient": {"name": "Bank"}}));
}

#[test]
fn every_rule_names_its_field() {
    let card = || UserVisibleTransaction::new(TransactionType::Card, "Shop");
    // Personal numbers, in every place they go.
    assert_eq!(
        field_of(&AuthRequest::new(ip()).requirement(Requirement::new().personal_number("19900101123"))),
        "requirement.personalNumber"
    );
    assert_eq!(
        field_of(&AuthRequest::new(ip()).requirement(Requirement::new().personal_number("1990130112 9"))),
        "requirement.personalNumber"
    );
    assert_eq!(field_of(&PhoneAuthRequest::new("1990010112340", CallInitiator::User)), "personalNumber");
    assert_eq!(field_of(&PhoneSignRequest::new("abc", CallInitiator::User, "t")), "personalNumber");
    assert_eq!(field_of(&OtherPaymentRequest::new("", card())), "personalNumber");
    assert_eq!(
        field_of(&PhoneAuthRequest::new(PNR, CallInitiator::User).requirement(Requirement::new().personal_number(PNR))),
        "requirement.personalNumber"
    );
    // Lengths after base64.
    let at = |n: usize| "a".repeat(n);
    assert!(AuthRequest::new(ip()).user_visible_data(at(1125)).to_http(&Config::test()).is_ok());
    assert_eq!(field_of(&AuthRequest::new(ip()).user_visible_data(at(1126))), "userVisibleData");
    assert_eq!(field_of(&AuthRequest::new(ip()).user_visible_data("")), "userVisibleData");
    assert_eq!(
        field_of(&AuthRequest::new(ip()).user_visible_data("v").user_non_visible_data(at(1126))),
        "userNonVisibleData"
    );
    assert!(SignRequest::new(ip(), at(30_000)).to_http(&Config::test()).is_ok());
    assert_eq!(field_of(&SignRequest::new(ip(), at(30_001))), "userVisibleData");
    assert_eq!(field_of(&SignRequest::new(ip(), "")), "userVisibleData");
    assert!(SignRequest::new(ip(), "t").user_non_visible_data(at(150_000)).to_http(&Config::test()).is_ok());
    assert_eq!(field_of(&SignRequest::new(ip(), "t").user_non_visible_data(at(150_001))), "userNonVisibleData");
    assert_eq!(
        field_of(&PhoneAuthRequest::new(PNR, CallInitiator::User).user_visible_data(at(1126))),
        "userVisibleData"
    );
    // userNonVisibleData requires userVisibleData on payment and other/payment only, as BankID.
    assert_eq!(field_of(&PaymentRequest::new(ip(), card()).user_non_visible_data("x")), "userNonVisibleData");
    assert_eq!(field_of(&OtherPaymentRequest::new(PNR, card()).user_non_visible_data("x")), "userNonVisibleData");
    let body = |req: http::Request<Vec<u8>>| serde_json::from_slice::<Value>(req.body()).unwrap();
    let auth = AuthRequest::new(ip()).user_non_visible_data("x").to_http(&Config::test()).expect("auth takes it");
    assert_eq!(body(auth)["userNonVisibleData"], "eA==");
    let phone = PhoneAuthRequest::new(PNR, CallInitiator::User).user_non_visible_data("x");
    assert_eq!(body(phone.to_http(&Config::test()).expect("phone/auth takes it"))["userNonVisibleData"], "eA==");
    assert_eq!(field_of(&AuthRequest::new(ip()).markdown()), "userVisibleDataFormat");
    // returnUrl 1-512.
    assert_eq!(field_of(&AuthRequest::new(ip()).return_url("")), "returnUrl");
    assert_eq!(field_of(&AuthRequest::new(ip()).return_url(at(513))), "returnUrl");
    assert!(AuthRequest::new(ip()).return_url(at(512)).to_http(&Config::test()).is_ok());
    // web and app members.
    assert_eq!(field_of(&AuthRequest::new(ip()).device(WebData::new())), "web");
    assert_eq!(field_of(&AuthRequest::new(ip()).device(AppData::new())), "app");
    assert_eq!(
        field_of(&AuthRequest::new(ip()).device(WebData::new().referring_domain("EXAMPLE.com"))),
        "web.referringDomain"
    );
    assert_eq!(field_of(&AuthRequest::new(ip()).device(WebData::new().user_agent(at(257)))), "web.userAgent");
    assert_eq!(
        field_of(&AuthRequest::new(ip()).device(WebData::new().device_identifier(at(65)))),
        "web.deviceIdentifier"
    );
    assert_eq!(field_of(&AuthRequest::new(ip()).device(AppData::new().device_os(""))), "app.deviceOS");
    // Requirement.
    assert_eq!(
        field_of(&AuthRequest::new(ip()).requirement(Requirement::new().certificate_policy("not-an-oid"))),
        "requirement.certificatePolicies"
    );
    // Payments.
    let npa_money = UserVisibleTransaction::new(TransactionType::Npa, "Bank").money(Money::new("1", "SEK"));
    assert_eq!(field_of(&PaymentRequest::new(ip(), npa_money)), "userVisibleTransaction.money");
    assert_eq!(
        field_of(&PaymentRequest::new(ip(), card().money(Money::new("100.00", "SEK")))),
        "userVisibleTransaction.money.amount"
    );
    assert_eq!(
        field_of(&PaymentRequest::new(ip(), card().money(Money::new("100", "kr")))),
        "userVisibleTransaction.money.currency"
    );
    assert_eq!(
        field_of(&PaymentRequest::new(ip(), UserVisibleTransaction::new(TransactionType::Card, " "))),
        "userVisibleTransaction.recipient.name"
    );
    // orderRef.
    assert_eq!(field_of(&CollectRequest::new("")), "orderRef");
}

/// BankID checks a personal number's form, not its date or check digit: bankid-cpp's suite,
/// run against BankID's test service, sends these and gets HTTP 200. The core sends them too.
#[test]
fn personal_numbers_bankid_accepts_are_sent() {
    let card = || UserVisibleTransaction::new(TransactionType::Card, "Shop");
    let cfg = Config::test();
    PhoneAuthRequest::new("200003121145", CallInitiator::User).to_http(&cfg).expect("phone/auth");
    PhoneSignRequest::new("200003121145", CallInitiator::Rp, "t").to_http(&cfg).expect("phone/sign");
    SignRequest::new(ip(), "t")
        .requirement(Requirement::new().personal_number("200003121145"))
        .to_http(&cfg)
        .expect("sign");
    OtherPaymentRequest::new("200001010101", card()).to_http(&cfg).expect("other/payment");
    // The strict check, for forms, refuses them.
    assert!(bankid_core::validate::personal_number_strict("personalNumber", "200003121145").is_err());
}

#[test]
fn rejections_never_echo_personal_numbers() {
    let err = PhoneAuthRequest::new("19900101123a", CallInitiator::User).to_http(&Config::test()).unwrap_err();
    assert!(!err.to_string().contains("19900101123a"));
    assert!(!format!("{err:?}").contains("19900101123a"));
    let debug = format!("{:?}", PhoneSignRequest::new(PNR, CallInitiator::User, "t"));
    assert!(!debug.contains(PNR), "{debug}");
    let debug = format!("{:?}", AuthRequest::new(ip()).requirement(Requirement::new().personal_number(PNR)));
    assert!(!debug.contains(PNR) && !debug.contains("192.0.2.10"), "{debug}");
    let card = UserVisibleTransaction::new(TransactionType::Card, "Shop");
    for debug in [format!("{:?}", SignRequest::new(ip(), "t")), format!("{:?}", PaymentRequest::new(ip(), card))] {
        assert!(!debug.contains("192.0.2.10"), "{debug}");
    }
}
