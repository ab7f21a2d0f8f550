//! The completion signatures and OCSP responses of every kind of order verify with bankid-verify
//! (an independent implementation) against the simulator's signature root, and they are shaped
//! like BankID's.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bankid_core::{
    AuthRequest, CallInitiator, CollectRequest, CollectStatus, CompletionData, Money, OtherPaymentRequest,
    PaymentRequest, PhoneAuthRequest, PhoneSignRequest, SignRequest, TransactionType, UserVisibleTransaction,
};
use bankid_sim::{Pki, SignatureKeyType, Simulator};
use bankid_verify::{CertStatus, Expectations, SignatureAlgorithm, TrustAnchors, VerifyError, verify};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;

async fn completion(conn: &mut Conn, cfg: &bankid_core::Config, order_ref: &str) -> CompletionData {
    for _ in 0..100 {
        match conn.call(cfg, &CollectRequest::new(order_ref)).await.expect("collect").status {
            CollectStatus::Complete(d) => return *d,
            CollectStatus::Pending { .. } => tokio::time::sleep(Duration::from_millis(20)).await,
            other => panic!("order failed: {other:?}"),
        }
    }
    panic!("order did not complete");
}

fn anchors(pki: &Pki) -> TrustAnchors {
    TrustAnchors::from_pem(pki.signature_root_pem()).expect("root")
}

#[tokio::test]
async fn every_kind_of_order_verifies_against_the_simulators_root() {
    let sim = builder().auto_approve(Some(Duration::ZERO)).start().await.expect("starts");
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let ip = "192.0.2.1".parse().expect("ip");
    let tx = || UserVisibleTransaction::new(TransactionType::Card, "Shop").money(Money::new("100,50", "SEK"));
    let orders = vec![
        (
            "auth",
            conn.call(&cfg, &AuthRequest::new(ip).user_visible_data("Log in")).await.expect("auth").order_ref,
            "Identification",
        ),
        (
            "sign",
            conn.call(&cfg, &SignRequest::new(ip, "Jag godkänner").user_non_visible_data(b"\x00\x01".to_vec()))
                .await
                .expect("sign")
                .order_ref,
            "Signing",
        ),
        (
            "payment",
            conn.call(&cfg, &PaymentRequest::new(ip, tx()).user_visible_data("Pay")).await.expect("payment").order_ref,
            "Signing",
        ),
        (
            "phone/auth",
            conn.call(&cfg, &PhoneAuthRequest::new(PNR2, CallInitiator::User)).await.expect("phone auth").order_ref,
            "Identification",
        ),
        (
            "phone/sign",
            conn.call(&cfg, &PhoneSignRequest::new(PNR, CallInitiator::Rp, "Sign on the phone"))
                .await
                .expect("phone sign")
                .order_ref,
            "Signing",
        ),
        (
            "other/payment",
            conn.call(&cfg, &OtherPaymentRequest::new("190001012384", tx())).await.expect("other payment").order_ref,
            "Signing",
        ),
    ];
    let rp = sim.pki().client_identity(0).expect("rp");
    for (kind, order_ref, func_id) in orders {
        let data = completion(&mut conn, &cfg, &order_ref).await;
        let request = sim.order(&order_ref).expect("order").request;
        let mut expect =
            Expectations::new(anchors(sim.pki())).personal_number(data.user.personal_number.clone()).func_id(func_id);
        if let Some(v) = request["userVisibleData"].as_str() {
            expect = expect.user_visible_data(v);
        }
        if let Some(v) = request["userNonVisibleData"].as_str() {
            expect = expect.user_non_visible_data(v);
        }
        let v = verify(&data.signature, Some(&data.ocsp_response), &expect).unwrap_or_else(|e| panic!("{kind}: {e}"));
        assert_eq!(v.algorithm(), SignatureAlgorithm::RsaSha256, "{kind}");
        assert_eq!(v.ocsp().map(|o| o.status), Some(CertStatus::Good), "{kind}");
        assert_eq!(v.chain().len(), 4, "{kind}: leaf, customer CA, bank CA, root");
        assert_eq!(v.given_name(), Some(data.user.given_name.as_str()), "{kind}");
        assert_eq!(v.surname(), Some(data.user.surname.as_str()), "{kind}");
        assert_eq!(v.name(), Some(data.user.name.as_str()), "{kind}");
        assert_eq!(v.rp_display_name(), Some(rp.display_name()), "{kind}");
        assert_eq!(
            v.rp_name().expect("srvInfo/name"),
            format!(
                "cn=bankid-sim RP 1,name={},serialNumber=5566304928,o=Testbank Sim AB (publ),c=SE",
                rp.display_name()
            ),
            "{kind}: srvInfo/name is the RP certificate's subject as BankID writes it"
        );
        // Another root (BankID's) does not verify it.
        let bankid = Expectations::new(TrustAnchors::bankid(bankid_verify::Environment::Production));
        assert_eq!(
            verify(&data.signature, Some(&data.ocsp_response), &bankid).unwrap_err(),
            VerifyError::UntrustedRoot
        );
    }
}

/// The XML has the genuine samples' element order, namespaces, Ids and canonical form, and the
/// OCSP response their shape.
#[tokio::test]
async fn signatures_are_shaped_like_bankids() {
    let sim = builder().auto_approve(Some(Duration::ZERO)).start().await.expect("starts");
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &SignRequest::new("192.0.2.1".parse().expect("ip"), "Text")).await.expect("sign");
    let data = completion(&mut conn, &cfg, &start.order_ref).await;
    let xml = String::from_utf8(B64.decode(&data.signature).expect("b64")).expect("utf8");
    let order = [
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><SignedInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"></CanonicalizationMethod><SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"></SignatureMethod><Reference Type=\"http://www.bankid.com/signature/v1.0.0/types\" URI=\"#bidSignedData\"><Transforms><Transform Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"></Transform></Transforms><DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"></DigestMethod><DigestValue>",
        "<Reference URI=\"#bidKeyInfo\">",
        "</SignedInfo><SignatureValue>",
        "</SignatureValue><KeyInfo xmlns=\"http://www.w3.org/2000/09/xmldsig#\" Id=\"bidKeyInfo\"><X509Data><X509Certificate>",
        "</X509Certificate></X509Data></KeyInfo><Object><bankIdSignedData xmlns=\"http://www.bankid.com/signature/v1.0.0/types\" Id=\"bidSignedData\"><usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">",
        "</usrVisibleData><srvInfo><name>",
        "</name><nonce>",
        "</nonce><displayName>",
        "</displayName></srvInfo><clientInfo><funcId>Signing</funcId><version>",
        "</clientInfo></bankIdSignedData></Object></Signature>",
    ];
    let mut at = 0;
    for part in order {
        let i = xml[at..].find(part).unwrap_or_else(|| panic!("missing or out of order: {part}"));
        at += i + part.len();
    }
    assert_eq!(at, xml.len());
    assert_eq!(xml.matches("<X509Certificate>").count(), 3, "leaf, customer CA, bank CA; no root");
    // RSA-2048 signature.
    let sv = &xml[xml.find("<SignatureValue>").expect("sv") + 16..xml.find("</SignatureValue>").expect("sv")];
    assert_eq!(B64.decode(sv).expect("b64").len(), 256);
    // OCSP: the responder's name and the nonce as BankID writes them (critical, 32 raw bytes).
    let ocsp = B64.decode(&data.ocsp_response).expect("b64");
    let contains = |needle: &[u8]| ocsp.windows(needle.len()).any(|w| w == needle);
    assert!(contains(b"Testbank Sim Customer CA1 v1 for BankID Test OCSP Signing"));
    let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data.signature.as_bytes());
    let mut nonce_ext =
        vec![0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02, 0x01, 0x01, 0xff, 0x04, 0x20];
    nonce_ext.extend_from_slice(sha1.as_ref());
    assert!(contains(&nonce_ext), "nonce = SHA-1(signature string) + 12 bytes, critical");
}

/// Like a real BankID, a person signs every order with the same certificate: so the OCSP
/// response of another order is about the right certificate, and only its nonce tells it apart.
#[tokio::test]
async fn a_person_keeps_their_certificate_and_the_nonce_binds_each_ocsp_response() {
    let sim = builder().auto_approve(Some(Duration::ZERO)).start().await.expect("starts");
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let ip = "192.0.2.1".parse().expect("ip");
    let first = conn.call(&cfg, &SignRequest::new(ip, "One")).await.expect("sign").order_ref;
    let first = completion(&mut conn, &cfg, &first).await;
    let second = conn.call(&cfg, &SignRequest::new(ip, "Two")).await.expect("sign").order_ref;
    let second = completion(&mut conn, &cfg, &second).await;
    let expect = Expectations::new(anchors(sim.pki()));
    let (a, b) = (
        verify(&first.signature, Some(&first.ocsp_response), &expect).expect("first"),
        verify(&second.signature, Some(&second.ocsp_response), &expect).expect("second"),
    );
    assert_eq!(a.chain()[0].der(), b.chain()[0].der(), "the same user certificate");
    assert_eq!(
        verify(&second.signature, Some(&first.ocsp_response), &expect).unwrap_err(),
        VerifyError::OcspNonceMismatch
    );
}

/// The largest texts BankID accepts: the signature (about 330 000 base64 characters) verifies.
#[tokio::test]
async fn the_largest_signatures_verify() {
    let sim = builder().auto_approve(Some(Duration::ZERO)).start().await.expect("starts");
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let visible = "I agree to the terms of the contract. ".repeat(30_000 / 38);
    let non_visible: Vec<u8> = (0..150_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect();
    let request =
        SignRequest::new("192.0.2.1".parse().expect("ip"), visible.clone()).user_non_visible_data(non_visible.clone());
    let start = conn.call(&cfg, &request).await.expect("sign");
    let data = completion(&mut conn, &cfg, &start.order_ref).await;
    assert!(data.signature.len() > 250_000);
    let expect = Expectations::new(anchors(sim.pki()))
        .user_visible_data(B64.encode(&visible))
        .user_non_visible_data(B64.encode(&non_visible));
    let v = verify(&data.signature, Some(&data.ocsp_response), &expect).expect("verifies");
    assert_eq!(v.user_visible_data(), Some(visible.as_str()));
    assert_eq!(v.user_non_visible_data(), Some(&non_visible[..]));
}

#[tokio::test]
async fn ecdsa_is_an_option() {
    let pki = Arc::new(Pki::generate_with(1, "pw", SignatureKeyType::EcdsaP256).expect("pki"));
    let sim = Simulator::builder().pki(pki.clone()).auto_approve(Some(Duration::ZERO)).start().await.expect("starts");
    let cfg = config(&sim);
    let mut conn = connect(&sim, Some(0)).await;
    let start = conn.call(&cfg, &AuthRequest::new("192.0.2.1".parse().expect("ip"))).await.expect("auth");
    let data = completion(&mut conn, &cfg, &start.order_ref).await;
    let v = verify(&data.signature, Some(&data.ocsp_response), &Expectations::new(anchors(&pki)).personal_number(PNR))
        .expect("verifies");
    assert_eq!(v.algorithm(), SignatureAlgorithm::EcdsaSha256);
    assert_eq!(v.func_id(), "Identification");
}
