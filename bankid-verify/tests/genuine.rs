//! The three genuine BankID test-service signatures (see tests/data/PROVENANCE.md) verify end to
//! end, and each kind of tampering fails with its own error.

use bankid_verify::{
    CertStatus, Environment, Expectations, SignatureAlgorithm, Timestamp, TrustAnchors, VerifyError, verify,
};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde_json::Value;

struct Sample {
    signature: String,
    ocsp: Option<String>,
    expected: Value,
}

fn sample(name: &str) -> Sample {
    let path = format!("{}/tests/data/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("sample file")).expect("json");
    Sample {
        signature: v["signature"].as_str().expect("signature").to_owned(),
        ocsp: v["ocspResponse"].as_str().map(str::to_owned),
        expected: v["expected"].clone(),
    }
}

fn test_env() -> Expectations {
    Expectations::new(TrustAnchors::bankid(Environment::Test))
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

/// The base64 text of an element in the decoded XML.
fn element_text(sig: &str, tag: &str) -> String {
    let xml = String::from_utf8(B64.decode(sig).expect("b64")).expect("utf8");
    let start = xml.find(&format!("<{tag}")).expect("tag");
    let start = start + xml[start..].find('>').expect(">") + 1;
    let end = start + xml[start..].find('<').expect("<");
    xml[start..end].to_owned()
}

/// Re-encodes the signature after `f` changed its XML.
fn tamper(sig: &str, f: impl FnOnce(String) -> String) -> String {
    let xml = String::from_utf8(B64.decode(sig).expect("b64")).expect("utf8");
    B64.encode(f(xml))
}

#[test]
fn genuine_samples_verify_end_to_end() {
    for name in ["test-2016-t2v", "test-2017-signicat", "test-2018-annytab"] {
        let smp = sample(name);
        let e = &smp.expected;
        let mut expect = test_env()
            .personal_number(s(&e["personal_number"]))
            .user_visible_data(element_text(&smp.signature, "usrVisibleData"))
            .func_id(s(&e["funcId"]));
        if smp.ocsp.is_none() {
            // No OCSP response kept: judge at the date in the text (2018-09-13).
            expect = expect.at(Timestamp::parse_rfc3339("2018-09-13T12:00:00Z").expect("time"));
        }
        let v = verify(&smp.signature, smp.ocsp.as_deref(), &expect).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(v.personal_number(), s(&e["personal_number"]));
        assert_eq!(v.name(), Some(s(&e["name"])));
        assert_eq!(v.given_name(), Some(s(&e["given_name"])));
        assert_eq!(v.surname(), Some(s(&e["surname"])));
        assert_eq!(v.func_id(), "Signing");
        assert_eq!(v.user_visible_data(), Some(s(&e["usrVisibleData_decoded"])));
        assert_eq!(
            v.user_non_visible_data().map(|b| String::from_utf8_lossy(b).into_owned()),
            e["usrNonVisibleData_decoded"].as_str().map(str::to_owned)
        );
        assert_eq!(v.rp_name(), Some(s(&e["srvInfo_name_decoded"])));
        assert_eq!(v.rp_display_name(), Some("Test av BankID"));
        assert_eq!(v.algorithm(), SignatureAlgorithm::RsaSha256);
        assert_eq!(v.chain().len(), 4, "leaf, customer CA, bank CA, root");
        assert_eq!(
            v.chain()[3].subject(),
            "O=Finansiell ID-Teknik BID AB, OU=BankID Member Banks CA, CN=Test BankID Root CA v1 Test"
        );
        match (&smp.ocsp, v.ocsp()) {
            (Some(_), Some(o)) => {
                assert_eq!(o.status, CertStatus::Good);
                let produced = s(&e["ocsp"]["produced_at"]).replace("+00:00", "Z");
                assert_eq!(o.produced_at.to_string(), produced);
                assert_eq!(v.judged_at(), o.produced_at);
            }
            (None, None) => {}
            other => panic!("{name}: OCSP {other:?}"),
        }
        // Debug never shows the personal number or the text.
        let dbg = format!("{v:?}");
        assert!(!dbg.contains(s(&e["personal_number"])) && !dbg.contains(s(&e["surname"])), "{dbg}");
    }
}

fn t2v() -> Sample {
    sample("test-2016-t2v")
}

fn fails(sig: &str, ocsp: Option<&str>, expect: &Expectations) -> VerifyError {
    verify(sig, ocsp, expect).expect_err("must not verify")
}

#[test]
fn one_character_of_the_visible_text_breaks_the_signed_data_digest() {
    let smp = t2v();
    let text = element_text(&smp.signature, "usrVisibleData");
    let mut changed = text.clone().into_bytes();
    changed[5] = if changed[5] == b'A' { b'B' } else { b'A' };
    let changed = String::from_utf8(changed).expect("ascii");
    let sig = tamper(&smp.signature, |x| x.replacen(&text, &changed, 1));
    assert_eq!(
        fails(&sig, smp.ocsp.as_deref(), &test_env()),
        VerifyError::DigestMismatch { uri: "#bidSignedData".into() }
    );
}

#[test]
fn a_changed_signature_value_fails() {
    let smp = t2v();
    let value = element_text(&smp.signature, "SignatureValue");
    let mut bytes = B64.decode(&value).expect("b64");
    bytes[100] ^= 1;
    let sig = tamper(&smp.signature, |x| x.replacen(&value, &B64.encode(bytes), 1));
    assert_eq!(
        fails(&sig, None, &test_env().at(Timestamp::from_unix_seconds(1_470_388_874))),
        VerifyError::SignatureInvalid
    );
}

#[test]
fn a_swapped_certificate_fails() {
    // Another person's leaf in KeyInfo: the KeyInfo digest no longer matches.
    let smp = t2v();
    let other = sample("test-2018-annytab");
    let leaf = element_text(&smp.signature, "X509Certificate");
    let other_leaf = element_text(&other.signature, "X509Certificate");
    let sig = tamper(&smp.signature, |x| x.replacen(&leaf, &other_leaf, 1));
    assert_eq!(
        fails(&sig, smp.ocsp.as_deref(), &test_env()),
        VerifyError::DigestMismatch { uri: "#bidKeyInfo".into() }
    );
}

#[test]
fn the_ocsp_response_of_another_order_fails() {
    let smp = t2v();
    let other = sample("test-2017-signicat");
    assert_eq!(fails(&smp.signature, other.ocsp.as_deref(), &test_env()), VerifyError::OcspCertIdMismatch);
}

#[test]
fn an_ocsp_nonce_for_another_signature_string_fails() {
    // Same leaf, same response, but the nonce no longer is SHA-1 of this signature string.
    let smp = t2v();
    let mut der = B64.decode(smp.ocsp.as_deref().expect("ocsp")).expect("b64");
    let nonce = hex_nonce(&smp);
    let pos = der.windows(nonce.len()).position(|w| w == nonce.as_slice()).expect("nonce in DER");
    der[pos] ^= 0xff;
    assert_eq!(fails(&smp.signature, Some(&B64.encode(der)), &test_env()), VerifyError::OcspNonceMismatch);
}

fn hex_nonce(smp: &Sample) -> Vec<u8> {
    let h = s(&smp.expected["ocsp"]["nonce_hex"]);
    (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex")).collect()
}

#[test]
fn a_changed_ocsp_response_fails_its_signature() {
    let smp = t2v();
    let mut der = B64.decode(smp.ocsp.as_deref().expect("ocsp")).expect("b64");
    // producedAt "20160805092114Z": move it by a second.
    let pos = der.windows(15).position(|w| w == b"20160805092114Z").expect("producedAt");
    der[pos + 13] = b'5';
    assert_eq!(fails(&smp.signature, Some(&B64.encode(der)), &test_env()), VerifyError::OcspSignatureInvalid);
}

#[test]
fn another_root_fails() {
    let smp = t2v();
    let prod = Expectations::new(TrustAnchors::bankid(Environment::Production));
    assert_eq!(fails(&smp.signature, smp.ocsp.as_deref(), &prod), VerifyError::UntrustedRoot);
}

#[test]
fn a_judged_time_outside_the_validity_fails() {
    let smp = t2v();
    for at in ["2016-08-04T21:59:59Z", "2018-08-05T22:00:00Z", "2026-01-01T00:00:00Z"] {
        let expect = test_env().at(Timestamp::parse_rfc3339(at).expect("time"));
        assert!(
            matches!(fails(&smp.signature, None, &expect), VerifyError::CertificateNotValid { position: 0, .. }),
            "{at}"
        );
    }
    // Inside the validity it verifies, without OCSP.
    let at = Timestamp::parse_rfc3339("2017-01-01T00:00:00Z").expect("time");
    assert!(verify(&smp.signature, None, &test_env().at(at)).is_ok());
    // Without OCSP and without a time, there is nothing to judge at.
    assert_eq!(fails(&smp.signature, None, &test_env()), VerifyError::NoJudgedTime);
}

#[test]
fn unmet_expectations_fail_each_with_its_own_variant() {
    let smp = t2v();
    let ocsp = smp.ocsp.as_deref();
    assert_eq!(
        fails(&smp.signature, ocsp, &test_env().personal_number("199001011234")),
        VerifyError::PersonalNumberMismatch
    );
    assert_eq!(
        fails(&smp.signature, ocsp, &test_env().user_visible_data("SGVq")),
        VerifyError::UserVisibleDataMismatch
    );
    assert_eq!(
        fails(&smp.signature, ocsp, &test_env().user_non_visible_data("SGVq")),
        VerifyError::UserNonVisibleDataMismatch
    );
    assert_eq!(fails(&smp.signature, ocsp, &test_env().func_id("Identification")), VerifyError::FuncIdMismatch);
    // BankID's OCSP responses are sha1WithRSA: refusing that refuses them.
    assert!(matches!(
        fails(&smp.signature, ocsp, &test_env().allow_sha1_ocsp(false)),
        VerifyError::UnsupportedAlgorithm { what: "OCSP signature algorithm", .. }
    ));
}

#[test]
fn structural_attacks_fail() {
    let smp = t2v();
    let ocsp = smp.ocsp.as_deref();
    // A second element with the signed Id (signature wrapping).
    let sig = tamper(&smp.signature, |x| x.replacen("<Object>", "<Object><x Id=\"bidSignedData\"></x>", 1));
    assert_eq!(fails(&sig, ocsp, &test_env()), VerifyError::ReferencedElement { id: "bidSignedData".into(), count: 2 });
    // A DTD, an entity, an external reference.
    let sig =
        tamper(&smp.signature, |x| x.replacen("<Signature ", "<!DOCTYPE Signature [<!ENTITY e \"x\">]><Signature ", 1));
    assert_eq!(fails(&sig, ocsp, &test_env()), VerifyError::XmlDtd);
    let sig = tamper(&smp.signature, |x| x.replacen("<funcId>Signing", "<funcId>&e;Signing", 1));
    assert_eq!(fails(&sig, ocsp, &test_env()), VerifyError::XmlEntity);
    let sig = tamper(&smp.signature, |x| x.replacen("URI=\"#bidKeyInfo\"", "URI=\"http://example.com/k\"", 1));
    assert_eq!(fails(&sig, ocsp, &test_env()), VerifyError::ExternalReference { uri: "http://example.com/k".into() });
    // SHA-1 signature method without the option.
    let sig = tamper(&smp.signature, |x| x.replacen("xmldsig-more#rsa-sha256", "xmldsig#rsa-sha1\" x=\"", 1));
    assert!(matches!(
        fails(&sig, ocsp, &test_env()),
        VerifyError::UnsupportedAlgorithm { what: "SignatureMethod", .. }
    ));
    // Not base64, not XML, too deep.
    assert_eq!(fails("%%%", None, &test_env()), VerifyError::Base64 { what: "signature" });
    assert!(matches!(fails(&B64.encode("<a>"), None, &test_env()), VerifyError::XmlMalformed(_)));
    let deep = format!("{}{}", "<a>".repeat(40), "</a>".repeat(40));
    assert!(matches!(fails(&B64.encode(deep), None, &test_env()), VerifyError::XmlTooDeep { .. }));
    let many_ns: String = (0..65).map(|i| format!("<b xmlns:p{i}=\"urn:{i}\"/>")).collect();
    assert_eq!(
        fails(&B64.encode(format!("<a>{many_ns}</a>")), None, &test_env()),
        VerifyError::XmlStructure("more than 64 namespace declarations")
    );
    let wide = format!("<a>{}</a>", "<b/>".repeat(5000));
    assert!(matches!(fails(&B64.encode(wide), None, &test_env()), VerifyError::XmlTooManyNodes { .. }));
}

#[test]
fn anchors_read_pem_and_refuse_garbage() {
    let pem = include_str!("../roots/test-bankid-root-ca-v1-test.pem");
    assert_eq!(TrustAnchors::from_pem(pem).expect("pem"), TrustAnchors::bankid(Environment::Test));
    assert!(TrustAnchors::from_pem("nothing").is_err());
    assert!(TrustAnchors::from_der(vec![vec![0x30, 0x00]]).is_err());
    assert_eq!(TrustAnchors::bankid(Environment::Production).certificates().len(), 1);
}
