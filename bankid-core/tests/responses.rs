//! Fixture tests for every response BankID sends: every hint code, every field of the
//! completion data, every error code, and the answers BankID does not send.

use bankid_core::{
    AuthRequest, CancelRequest, CollectRequest, CollectStatus, Error, ErrorCode, FailedHintCode, Operation,
    PendingHintCode, PhoneAuthRequest, Rfa, Risk, UnexpectedKind,
};

fn response(status: u16, content_type: Option<&str>, body: &str) -> http::Response<Vec<u8>> {
    let mut builder = http::Response::builder().status(status);
    if let Some(content_type) = content_type {
        builder = builder.header("content-type", content_type);
    }
    builder.body(body.as_bytes().to_vec()).unwrap()
}

fn json(body: &str) -> http::Response<Vec<u8>> {
    response(200, Some("application/json"), body)
}

const COMPLETE: &str = r#"{
  "orderRef": "131daac9-16c6-4618-beb0-365768f37288",
  "status": "complete",
  "completionData": {
    "user": {"personalNumber": "199001011239", "name": "Karl Karlsson", "givenName": "Karl", "surname": "Karlsson", "newUserField": 1},
    "device": {"ipAddress": "192.0.2.10", "uhi": "giCsUsVYgZEg96P/l/7QIxWjusqW"},
    "bankIdIssueDate": "2023-11-29Z",
    "stepUp": {"mrtd": true},
    "signature": "PFNpZ25hdHVyZT48L1NpZ25hdHVyZT4=",
    "ocspResponse": "MIIHfgoBAKCCB3cwggdz",
    "risk": "low",
    "somethingNew": {"nested": [1, 2, 3]}
  },
  "anotherNewField": "ignored"
}"#;

#[test]
fn start_responses() {
    let order = AuthRequest::parse(json(
        r#"{"orderRef":"o","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s","extra":true}"#,
    ))
    .unwrap();
    assert_eq!(
        (&*order.order_ref, &*order.auto_start_token, &*order.qr_start_token, &*order.qr_start_secret),
        ("o", "a", "q", "s")
    );
    let phone = PhoneAuthRequest::parse(json(r#"{"orderRef":"p"}"#)).unwrap();
    assert_eq!(phone.order_ref, "p");
    // A start response missing a token is not what BankID sends.
    let err = AuthRequest::parse(json(r#"{"orderRef":"o"}"#)).unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(ref u) if matches!(u.kind, UnexpectedKind::Body(_))), "{err:?}");
}

#[test]
fn every_pending_hint_code_and_an_unknown_one() {
    let mut codes: Vec<String> = PendingHintCode::KNOWN.iter().map(|c| c.as_str().to_owned()).collect();
    codes.push("brandNewHint".to_owned());
    for code in codes {
        let body = format!(r#"{{"orderRef":"o","status":"pending","hintCode":"{code}"}}"#);
        let collect = CollectRequest::parse(json(&body)).unwrap();
        match collect.status {
            CollectStatus::Pending { hint_code } => assert_eq!(hint_code.as_str(), code),
            other => panic!("{code}: {other:?}"),
        }
    }
    // The wire value is userMrtd, not userMRTD (a bug of another Rust client).
    let collect = CollectRequest::parse(json(r#"{"orderRef":"o","status":"pending","hintCode":"userMrtd"}"#)).unwrap();
    assert_eq!(collect.status, CollectStatus::Pending { hint_code: PendingHintCode::UserMrtd });
}

#[test]
fn every_failed_hint_code_and_an_unknown_one() {
    let mut codes: Vec<String> = FailedHintCode::KNOWN.iter().map(|c| c.as_str().to_owned()).collect();
    codes.push("brandNewFailure".to_owned());
    for code in codes {
        let body = format!(r#"{{"orderRef":"o","status":"failed","hintCode":"{code}"}}"#);
        match CollectRequest::parse(json(&body)).unwrap().status {
            CollectStatus::Failed { hint_code } => assert_eq!(hint_code.as_str(), code),
            other => panic!("{code}: {other:?}"),
        }
    }
}

#[test]
fn complete_with_every_field() {
    let collect = CollectRequest::parse(json(COMPLETE)).unwrap();
    assert_eq!(collect.order_ref, "131daac9-16c6-4618-beb0-365768f37288");
    let CollectStatus::Complete(data) = collect.status else { panic!("not complete") };
    assert_eq!(data.user.personal_number, "199001011239");
    assert_eq!(data.user.name, "Karl Karlsson");
    assert_eq!(data.user.given_name, "Karl");
    assert_eq!(data.user.surname, "Karlsson");
    assert_eq!(data.device.ip_address, "192.0.2.10");
    assert_eq!(data.device.uhi.as_deref(), Some("giCsUsVYgZEg96P/l/7QIxWjusqW"));
    assert_eq!(data.bank_id_issue_date, "2023-11-29Z");
    assert_eq!(data.step_up.as_ref().and_then(|s| s.mrtd), Some(true));
    assert_eq!(data.signature_xml().unwrap(), b"<Signature></Signature>");
    assert_eq!(data.ocsp_response_der().unwrap().len(), 15);
    assert_eq!(data.risk, Some(Risk::Low));
}

#[test]
fn complete_with_only_required_fields_and_other_risks() {
    let minimal = r#"{"orderRef":"o","status":"complete","completionData":{
        "user":{"personalNumber":"199001011239","name":"A B","givenName":"A","surname":"B"},
        "device":{"ipAddress":"::1"},"bankIdIssueDate":"2020-02-01","signature":"","ocspResponse":""}}"#;
    let CollectStatus::Complete(data) = CollectRequest::parse(json(minimal)).unwrap().status else { panic!() };
    assert_eq!((data.device.uhi.clone(), data.step_up.clone(), data.risk.clone()), (None, None, None));
    for (wire, risk) in
        [("moderate", Risk::Moderate), ("high", Risk::High), ("extreme", Risk::Unknown("extreme".into()))]
    {
        let body = COMPLETE.replace(r#""risk": "low""#, &format!(r#""risk": "{wire}""#));
        let CollectStatus::Complete(data) = CollectRequest::parse(json(&body)).unwrap().status else { panic!() };
        assert_eq!(data.risk, Some(risk));
    }
    // stepUp is an object (a bool breaks another Rust client); one with mrtd false or absent.
    let body = COMPLETE.replace(r#""stepUp": {"mrtd": true}"#, r#""stepUp": {"mrtd": false}"#);
    let CollectStatus::Complete(data) = CollectRequest::parse(json(&body)).unwrap().status else { panic!() };
    assert_eq!(data.step_up.and_then(|s| s.mrtd), Some(false));
    let body = COMPLETE.replace(r#""stepUp": {"mrtd": true}"#, r#""stepUp": {}"#);
    let CollectStatus::Complete(data) = CollectRequest::parse(json(&body)).unwrap().status else { panic!() };
    assert_eq!(data.step_up.and_then(|s| s.mrtd), None);
}

#[test]
fn complete_without_completion_data_is_rejected() {
    let err = CollectRequest::parse(json(r#"{"orderRef":"o","status":"complete"}"#)).unwrap_err();
    assert!(matches!(err, Error::UnexpectedResponse(_)), "{err:?}");
}

#[test]
fn unknown_status_is_kept() {
    let collect = CollectRequest::parse(json(r#"{"orderRef":"o","status":"paused","hintCode":"x"}"#)).unwrap();
    assert_eq!(collect.status, CollectStatus::Unknown { status: "paused".into(), hint_code: Some("x".into()) });
}

#[test]
fn cancel_answers() {
    CancelRequest::parse(json("{}")).unwrap();
    CancelRequest::parse(json(" {}\n")).unwrap();
    CancelRequest::parse(response(200, None, "")).unwrap();
    // Anything else is not what BankID answers to cancel.
    for body in [r#"{"new":1}"#, r#"{"errorCode":"maintenance"}"#, "[]", "null", "1"] {
        let err = CancelRequest::parse(json(body)).unwrap_err();
        assert!(matches!(err, Error::UnexpectedResponse(ref u) if matches!(u.kind, UnexpectedKind::Body(_))), "{body}");
    }
}

/// What the hardening probe found parsing, and the shapes next to it: each is an
/// `UnexpectedResponse` that says why.
#[test]
fn only_what_bankid_sends_parses() {
    let body_error = |result: Result<(), Error>| match result.unwrap_err() {
        Error::UnexpectedResponse(u) => match u.kind {
            UnexpectedKind::Body(why) => why,
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    // Arrays where objects belong (serde's derived structs take those by default).
    let why = body_error(AuthRequest::parse(json(r#"["o","a","q","s"]"#)).map(drop));
    assert!(why.contains("a JSON object"), "{why}");
    body_error(PhoneAuthRequest::parse(json(r#"["o"]"#)).map(drop));
    body_error(CollectRequest::parse(json(r#"["o","pending","userSign",null]"#)).map(drop));
    let nested = COMPLETE.replace(r#"{"mrtd": true}"#, "[true]");
    body_error(CollectRequest::parse(json(&nested)).map(drop));
    let nested =
        COMPLETE.replace(r#"{"ipAddress": "192.0.2.10", "uhi": "giCsUsVYgZEg96P/l/7QIxWjusqW"}"#, r#"["192.0.2.10"]"#);
    body_error(CollectRequest::parse(json(&nested)).map(drop));
    // References and tokens: non-empty, bounded, no control or separator characters.
    for bad in ["", r"a\u0000b", "a.b", "a b", "%41", &"a".repeat(bankid_core::MAX_REFERENCE_LEN + 1)] {
        let start = format!(r#"{{"orderRef":"{bad}","autoStartToken":"a","qrStartToken":"q","qrStartSecret":"s"}}"#);
        let why = body_error(AuthRequest::parse(json(&start)).map(drop));
        assert!(why.contains("reference or token"), "{bad:?}: {why}");
        let start = format!(r#"{{"orderRef":"o","autoStartToken":"a","qrStartToken":"{bad}","qrStartSecret":"s"}}"#);
        body_error(AuthRequest::parse(json(&start)).map(drop));
        let collect = format!(r#"{{"orderRef":"{bad}","status":"pending","hintCode":"userSign"}}"#);
        body_error(CollectRequest::parse(json(&collect)).map(drop));
    }
    let uuid = "131daac9-16c6-4618-beb0-365768f37288";
    let start = format!(
        r#"{{"orderRef":"{uuid}","autoStartToken":"{uuid}","qrStartToken":"{uuid}","qrStartSecret":"{uuid}"}}"#
    );
    AuthRequest::parse(json(&start)).unwrap();
}

#[test]
fn a_collect_answer_is_checked_against_the_order_asked_about() {
    let asked = CollectRequest::new("131daac9-16c6-4618-beb0-365768f37288");
    asked.read_response(json(COMPLETE)).unwrap();
    let other = CollectRequest::new("2f5cd5a1-0000-4000-8000-000000000000");
    let Error::UnexpectedResponse(err) = other.read_response(json(COMPLETE)).unwrap_err() else { panic!() };
    assert_eq!(err.kind, UnexpectedKind::ForeignOrder);
    assert_eq!(err.to_string(), "unexpected response from bankid (http 200): the answer is about another order");
}

#[test]
fn every_error_code_with_its_status() {
    for (status, code, rfa, retry) in [
        (400, ErrorCode::AlreadyInProgress, Rfa::Rfa4, false),
        (400, ErrorCode::InvalidParameters, Rfa::Rfa22, false),
        (401, ErrorCode::Unauthorized, Rfa::Rfa22, false),
        (403, ErrorCode::Unauthorized, Rfa::Rfa22, false),
        (404, ErrorCode::NotFound, Rfa::Rfa22, false),
        (405, ErrorCode::MethodNotAllowed, Rfa::Rfa22, false),
        (408, ErrorCode::RequestTimeout, Rfa::Rfa5, false),
        (415, ErrorCode::UnsupportedMediaType, Rfa::Rfa22, false),
        (500, ErrorCode::InternalError, Rfa::Rfa5, false),
        (503, ErrorCode::Maintenance, Rfa::Rfa5, true),
        (400, ErrorCode::Unknown("tooManyCats".into()), Rfa::Rfa22, false),
    ] {
        let body = format!(r#"{{"errorCode":"{}","details":"Some details","new":1}}"#, code.as_str());
        let err = CollectRequest::parse(response(status, Some("application/json"), &body)).unwrap_err();
        let Error::Api(api) = &err else { panic!("{err:?}") };
        assert_eq!(api.code, code);
        assert_eq!(api.details, "Some details");
        assert_eq!(api.status.as_u16(), status);
        assert!(api.body.contains("Some details"));
        assert!(!api.inferred_from_status);
        assert_eq!(err.error_code(), Some(&code));
        assert_eq!(err.user_message(), rfa, "{code}");
        assert_eq!(err.is_retryable(bankid_core::Endpoint::Collect), retry, "{code}");
        assert_eq!(err.is_retryable(bankid_core::Endpoint::Auth), retry, "{code}");
    }
}

#[test]
fn error_bodies_that_are_not_json_fall_back_on_the_status() {
    let html = "<html><body><h1>503 Service Unavailable</h1></body></html>";
    let err = CollectRequest::parse(response(503, Some("text/html"), html)).unwrap_err();
    let Error::Api(api) = &err else { panic!("{err:?}") };
    assert_eq!((api.code.clone(), api.inferred_from_status, api.details.as_str()), (ErrorCode::Maintenance, true, ""));
    assert!(api.body.starts_with("<html>"));
    assert!(err.is_retryable(bankid_core::Endpoint::Collect));

    let err = AuthRequest::parse(response(405, None, "")).unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::MethodNotAllowed));

    // A JSON body without errorCode, on a documented status.
    let err = AuthRequest::parse(response(500, Some("application/json"), r#"{"message":"boom"}"#)).unwrap_err();
    assert_eq!(err.error_code(), Some(&ErrorCode::InternalError));
}

#[test]
fn answers_bankid_does_not_send() {
    let kind = |resp| match CollectRequest::parse(resp).unwrap_err() {
        Error::UnexpectedResponse(u) => (u.kind, u.status.as_u16()),
        other => panic!("{other:?}"),
    };
    assert_eq!(kind(response(302, None, "")), (UnexpectedKind::Status, 302));
    assert_eq!(kind(response(502, Some("text/html"), "<html>bad gateway</html>")), (UnexpectedKind::Status, 502));
    assert_eq!(kind(response(204, None, "")), (UnexpectedKind::Status, 204));
    assert_eq!(kind(response(200, Some("application/json"), "")), (UnexpectedKind::EmptyBody, 200));
    assert_eq!(kind(response(200, Some("text/html"), "<html></html>")), (UnexpectedKind::ContentType, 200));
    assert_eq!(kind(response(200, None, "{}")), (UnexpectedKind::ContentType, 200));
    assert!(matches!(kind(json("{\"orderRef\":")).0, UnexpectedKind::Body(_)));
    assert!(matches!(kind(json("[1,2]")).0, UnexpectedKind::Body(_)));
    // A charset parameter on the response is fine.
    CollectRequest::parse(response(
        200,
        Some("application/json; charset=UTF-8"),
        r#"{"orderRef":"o","status":"pending","hintCode":"started"}"#,
    ))
    .unwrap();
    // The excerpt is bounded.
    let big = "x".repeat(100_000);
    let Error::UnexpectedResponse(u) = CollectRequest::parse(response(502, None, &big)).unwrap_err() else { panic!() };
    assert_eq!(u.excerpt.len(), bankid_core::BODY_EXCERPT_LIMIT);
}

#[test]
fn debug_output_redacts_personal_data_and_secrets() {
    let collect = CollectRequest::parse(json(COMPLETE)).unwrap();
    let text = format!("{collect:?}");
    for secret in ["199001011239", "Karl", "Karlsson", "192.0.2.10", "giCsUs", "PFNpZ25h", "MIIHfg"] {
        assert!(!text.contains(secret), "{secret} leaked in {text}");
    }
    assert!(text.contains("[redacted]"));
    assert!(text.contains("131daac9"), "the order reference may be shown");

    let order = AuthRequest::parse(json(
        r#"{"orderRef":"o","autoStartToken":"AUTOSTART","qrStartToken":"q","qrStartSecret":"SECRET"}"#,
    ))
    .unwrap();
    let text = format!("{order:?}");
    assert!(!text.contains("SECRET") && !text.contains("AUTOSTART"), "{text}");

    // Also through the error path: a success body with personal data must not leak via Debug.
    let err = CollectRequest::parse(json(&COMPLETE.replace("\"status\": \"complete\"", "\"status\": 5"))).unwrap_err();
    assert!(!format!("{err:?}").contains("199001011239"));
}
