//! Chains and OCSP responses built here (ECDSA, rcgen) to reach the checks the genuine samples
//! cannot: CA constraints, a missing personal number, OCSP statuses and responders.

use bankid_verify::{CertStatus, Expectations, SignatureAlgorithm, Timestamp, TrustAnchors, VerifyError, verify};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair};

const PNR: &str = "198001019994";
/// 2030-01-01T00:00:00Z: inside every validity below.
const AT: i64 = 1_893_456_000;

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::CountryName, "SE");
    d.push(DnType::CommonName, cn);
    d
}

fn params(name: DistinguishedName, ca: Option<IsCa>) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = name;
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p.not_after = rcgen::date_time_ymd(2040, 1, 1);
    p.use_authority_key_identifier_extension = true;
    match ca {
        Some(is_ca) => {
            p.is_ca = is_ca;
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        }
        None => p.key_usages = vec![KeyUsagePurpose::ContentCommitment],
    }
    p
}

struct Ca {
    cert: Certificate,
    key: KeyPair,
}

fn ca(name: &str, issuer: Option<&Ca>, is_ca: IsCa) -> Ca {
    let key = KeyPair::generate().expect("key");
    let p = params(dn(name), Some(is_ca));
    let cert = match issuer {
        Some(i) => p.signed_by(&key, &i.cert, &i.key),
        None => p.self_signed(&key),
    }
    .expect("cert");
    Ca { cert, key }
}

fn leaf_params(pnr: Option<&str>) -> CertificateParams {
    let mut name = dn("Tessa Testsson");
    if let Some(pnr) = pnr {
        name.push(DnType::CustomDnType(vec![2, 5, 4, 5]), pnr);
    }
    name.push(DnType::CustomDnType(vec![2, 5, 4, 42]), "Tessa");
    name.push(DnType::CustomDnType(vec![2, 5, 4, 4]), "Testsson");
    let mut p = params(name, None);
    p.serial_number = Some(rcgen::SerialNumber::from_slice(&[0x11, 0x22, 0x33]));
    p
}

/// A world: root -> bank CA -> customer CA -> leaf, all ECDSA P-256.
struct World {
    root: Ca,
    bank: Ca,
    customer: Ca,
    leaf_key: KeyPair,
    leaf: Vec<u8>,
}

fn world() -> World {
    let root = ca("Root", None, IsCa::Ca(BasicConstraints::Unconstrained));
    let bank = ca("Bank CA", Some(&root), IsCa::Ca(BasicConstraints::Unconstrained));
    let customer = ca("Customer CA", Some(&bank), IsCa::Ca(BasicConstraints::Constrained(0)));
    let leaf_key = KeyPair::generate().expect("key");
    let leaf = leaf_params(Some(PNR)).signed_by(&leaf_key, &customer.cert, &customer.key).expect("leaf").der().to_vec();
    World { root, bank, customer, leaf_key, leaf }
}

fn digest(data: &[u8]) -> String {
    B64.encode(ring::digest::digest(&ring::digest::SHA256, data))
}

/// A BankID-shaped signature over `certs` (leaf first) made with `key`.
fn sign(key: &KeyPair, certs: &[&[u8]]) -> String {
    const DS: &str = "http://www.w3.org/2000/09/xmldsig#";
    const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
    let certs: String = certs.iter().map(|c| format!("<X509Certificate>{}</X509Certificate>", B64.encode(c))).collect();
    let key_info = format!("<KeyInfo xmlns=\"{DS}\" Id=\"bidKeyInfo\"><X509Data>{certs}</X509Data></KeyInfo>");
    let data = format!(
        "<bankIdSignedData xmlns=\"http://www.bankid.com/signature/v1.0.0/types\" Id=\"bidSignedData\">\
         <usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">{}</usrVisibleData><srvInfo><name>{}</name></srvInfo>\
         <clientInfo><funcId>Signing</funcId></clientInfo></bankIdSignedData>",
        B64.encode("Text"),
        B64.encode("cn=RP,name=RP")
    );
    let reference = |uri: &str, d: &str| {
        format!(
            "<Reference URI=\"{uri}\"><Transforms><Transform Algorithm=\"{C14N}\"></Transform></Transforms>\
             <DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"></DigestMethod>\
             <DigestValue>{d}</DigestValue></Reference>"
        )
    };
    let signed_info = format!(
        "<SignedInfo xmlns=\"{DS}\"><CanonicalizationMethod Algorithm=\"{C14N}\"></CanonicalizationMethod>\
         <SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256\"></SignatureMethod>{}{}</SignedInfo>",
        reference("#bidSignedData", &digest(data.as_bytes())),
        reference("#bidKeyInfo", &digest(key_info.as_bytes()))
    );
    let signer = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &key.serialize_der(), &SystemRandom::new())
        .expect("signer");
    let sig = signer.sign(&SystemRandom::new(), signed_info.as_bytes()).expect("signs");
    let xml = format!(
        "<Signature xmlns=\"{DS}\">{signed_info}<SignatureValue>{}</SignatureValue>{key_info}<Object>{data}</Object></Signature>",
        B64.encode(sig.as_ref())
    );
    B64.encode(xml)
}

fn anchors(w: &World) -> Expectations {
    Expectations::new(TrustAnchors::from_der([w.root.cert.der().to_vec()]).expect("root"))
        .at(Timestamp::from_unix_seconds(AT))
}

fn chain(w: &World) -> [&[u8]; 3] {
    [&w.leaf, w.customer.cert.der(), w.bank.cert.der()]
}

#[test]
fn an_ecdsa_chain_verifies() {
    let w = world();
    let v = verify(&sign(&w.leaf_key, &chain(&w)), None, &anchors(&w).personal_number(PNR)).expect("verifies");
    assert_eq!(v.algorithm(), SignatureAlgorithm::EcdsaSha256);
    assert_eq!((v.personal_number(), v.given_name(), v.surname()), (PNR, Some("Tessa"), Some("Testsson")));
    assert_eq!(v.user_visible_data(), Some("Text"));
    assert_eq!(v.rp_name(), Some("cn=RP,name=RP"));
    assert_eq!(v.chain().len(), 4);
    assert!(v.ocsp().is_none());
}

#[test]
fn chain_order_and_issuers_matter() {
    let w = world();
    let swapped = sign(&w.leaf_key, &[&w.leaf, w.bank.cert.der(), w.customer.cert.der()]);
    assert_eq!(
        verify(&swapped, None, &anchors(&w)).unwrap_err(),
        VerifyError::ChainBroken { position: 0, what: "issuer name" }
    );
    // Another root with the same name: its key did not sign the bank CA.
    let impostor = ca("Root", None, IsCa::Ca(BasicConstraints::Unconstrained));
    let expect = Expectations::new(TrustAnchors::from_der([impostor.cert.der().to_vec()]).expect("root"))
        .at(Timestamp::from_unix_seconds(AT));
    assert_eq!(verify(&sign(&w.leaf_key, &chain(&w)), None, &expect).unwrap_err(), VerifyError::UntrustedRoot);
    // The leaf signed by a key other than its certificate's.
    let other = KeyPair::generate().expect("key");
    assert_eq!(verify(&sign(&other, &chain(&w)), None, &anchors(&w)).unwrap_err(), VerifyError::SignatureInvalid);
}

#[test]
fn ca_constraints_hold() {
    let w = world();
    // A customer "CA" that is not a CA.
    let not_ca = ca("Customer CA", Some(&w.bank), IsCa::ExplicitNoCa);
    let leaf = leaf_params(Some(PNR)).signed_by(&w.leaf_key, &not_ca.cert, &not_ca.key).expect("leaf");
    let sig = sign(&w.leaf_key, &[leaf.der(), not_ca.cert.der(), w.bank.cert.der()]);
    assert_eq!(
        verify(&sig, None, &anchors(&w)).unwrap_err(),
        VerifyError::CaConstraint { position: 1, what: "not a CA" }
    );
    // A path length of 0 on the bank CA, with the customer CA below it.
    let short = ca("Bank CA", Some(&w.root), IsCa::Ca(BasicConstraints::Constrained(0)));
    let customer = ca("Customer CA", Some(&short), IsCa::Ca(BasicConstraints::Unconstrained));
    let leaf = leaf_params(Some(PNR)).signed_by(&w.leaf_key, &customer.cert, &customer.key).expect("leaf");
    let sig = sign(&w.leaf_key, &[leaf.der(), customer.cert.der(), short.cert.der()]);
    assert_eq!(
        verify(&sig, None, &anchors(&w)).unwrap_err(),
        VerifyError::CaConstraint { position: 2, what: "path length exceeded" }
    );
    // A leaf that is a CA.
    let mut p = leaf_params(Some(PNR));
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
    let leaf = p.signed_by(&w.leaf_key, &w.customer.cert, &w.customer.key).expect("leaf");
    let sig = sign(&w.leaf_key, &[leaf.der(), w.customer.cert.der(), w.bank.cert.der()]);
    assert_eq!(
        verify(&sig, None, &anchors(&w)).unwrap_err(),
        VerifyError::CaConstraint { position: 0, what: "the leaf is a CA" }
    );
    // A leaf without a personal number.
    let leaf = leaf_params(None).signed_by(&w.leaf_key, &w.customer.cert, &w.customer.key).expect("leaf");
    let sig = sign(&w.leaf_key, &[leaf.der(), w.customer.cert.der(), w.bank.cert.der()]);
    assert_eq!(verify(&sig, None, &anchors(&w)).unwrap_err(), VerifyError::NoPersonalNumber);
}

// ---- OCSP responses built here ----

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else if len < 0x100 {
        out.extend([0x81, len as u8]);
    } else {
        out.extend([0x82, (len >> 8) as u8, len as u8]);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn sha1(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec()
}

/// The DER of the subject name and the public key bits of a certificate (a small walk of its TBS).
fn name_and_key(cert: &[u8]) -> (Vec<u8>, Vec<u8>) {
    fn split(d: &[u8]) -> (usize, usize) {
        // (header length, content length) for definite lengths up to 2 bytes.
        match d[1] {
            l if l < 0x80 => (2, usize::from(l)),
            0x81 => (3, usize::from(d[2])),
            _ => (4, usize::from(d[2]) << 8 | usize::from(d[3])),
        }
    }
    let (h, _) = split(cert);
    let tbs = &cert[h..];
    let (h, _) = split(tbs);
    let mut fields = Vec::new();
    let mut rest = &tbs[h..];
    for _ in 0..7 {
        let (h, l) = split(rest);
        fields.push(&rest[..h + l]);
        rest = &rest[h + l..];
    }
    // [0] version, serial, signature, issuer, validity, subject, spki
    let spki = fields[6];
    let (h, _) = split(spki);
    let alg_len = {
        let (ah, al) = split(&spki[h..]);
        ah + al
    };
    let bits = &spki[h + alg_len..];
    let (bh, _) = split(bits);
    (fields[5].to_vec(), bits[bh + 1..].to_vec())
}

/// A signed OCSP response about `serial` (issued by `issuer`), with `status` (0x80 good, 0xa1
/// revoked, 0x82 unknown), nonce over `signature`, signed by `responder` (key and certificate).
fn ocsp(issuer: &[u8], serial: &[u8], status: u8, signature: &str, responder: (&KeyPair, &[u8])) -> String {
    let (name, key) = name_and_key(issuer);
    let time = tlv(0x18, b"20300101000000Z");
    let cert_id = seq(&[
        &seq(&[&[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a], &[0x05, 0x00]]),
        &tlv(0x04, &sha1(&name)),
        &tlv(0x04, &sha1(&key)),
        &tlv(0x02, serial),
    ]);
    let status = if status == 0xa1 { tlv(0xa1, &tlv(0x18, b"20290101000000Z")) } else { vec![status, 0] };
    let single = seq(&[&cert_id, &status, &time]);
    let mut nonce = sha1(signature.as_bytes());
    nonce.extend([7u8; 12]);
    let ext = seq(&[&[0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02], &tlv(0x04, &nonce)]);
    let (responder_name, _) = name_and_key(responder.1);
    let tbs = seq(&[&tlv(0xa1, &responder_name), &time, &seq(&[&single]), &tlv(0xa1, &seq(&[&ext]))]);
    let signer =
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &responder.0.serialize_der(), &SystemRandom::new())
            .expect("signer");
    let sig = signer.sign(&SystemRandom::new(), &tbs).expect("signs");
    let mut bits = vec![0u8];
    bits.extend_from_slice(sig.as_ref());
    let ecdsa_sha256 = [0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
    let basic = seq(&[&tbs, &seq(&[&ecdsa_sha256]), &tlv(0x03, &bits), &tlv(0xa0, &seq(&[responder.1]))]);
    let basic_oid = [0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
    B64.encode(seq(&[&[0x0a, 0x01, 0x00], &tlv(0xa0, &seq(&[&basic_oid, &tlv(0x04, &basic)]))]))
}

fn responder(issuer: &Ca, eku: bool) -> (KeyPair, Vec<u8>) {
    let key = KeyPair::generate().expect("key");
    let mut p = params(dn("Customer CA OCSP Signing"), None);
    if eku {
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
    }
    let cert = p.signed_by(&key, &issuer.cert, &issuer.key).expect("responder");
    (key, cert.der().to_vec())
}

#[test]
fn ocsp_statuses_and_responders() {
    let w = world();
    let sig = sign(&w.leaf_key, &chain(&w));
    let expect = anchors(&w);
    let (rkey, rcert) = responder(&w.customer, true);
    let issuer = w.customer.cert.der();
    let serial = [0x11, 0x22, 0x33];

    let good = ocsp(issuer, &serial, 0x80, &sig, (&rkey, &rcert));
    let v = verify(&sig, Some(&good), &expect).expect("good");
    assert_eq!(v.ocsp().map(|o| (o.status, o.produced_at)), Some((CertStatus::Good, Timestamp::from_unix_seconds(AT))));
    // Without an explicit time, validity is judged at producedAt.
    let no_time = Expectations::new(TrustAnchors::from_der([w.root.cert.der().to_vec()]).expect("root"));
    assert_eq!(verify(&sig, Some(&good), &no_time).expect("good").judged_at(), Timestamp::from_unix_seconds(AT));

    for (status, expected) in [(0xa1, CertStatus::Revoked), (0x82, CertStatus::Unknown)] {
        let resp = ocsp(issuer, &serial, status, &sig, (&rkey, &rcert));
        assert_eq!(verify(&sig, Some(&resp), &expect).unwrap_err(), VerifyError::OcspNotGood(expected));
    }
    // The issuer may sign its own responses.
    let by_issuer = ocsp(issuer, &serial, 0x80, &sig, (&w.customer.key, issuer));
    assert!(verify(&sig, Some(&by_issuer), &expect).is_ok());
    // A responder without OCSPSigning, or issued by another CA, is not authorized.
    let (k, c) = responder(&w.customer, false);
    let resp = ocsp(issuer, &serial, 0x80, &sig, (&k, &c));
    assert_eq!(
        verify(&sig, Some(&resp), &expect).unwrap_err(),
        VerifyError::OcspResponder("no OCSPSigning extended key usage")
    );
    let (k, c) = responder(&w.bank, true);
    let resp = ocsp(issuer, &serial, 0x80, &sig, (&k, &c));
    assert_eq!(
        verify(&sig, Some(&resp), &expect).unwrap_err(),
        VerifyError::OcspResponder("not issued by the leaf's issuer")
    );
    // Another serial: not about this leaf. Another signature string: the nonce does not bind.
    let resp = ocsp(issuer, &[0x44], 0x80, &sig, (&rkey, &rcert));
    assert_eq!(verify(&sig, Some(&resp), &expect).unwrap_err(), VerifyError::OcspCertIdMismatch);
    let resp = ocsp(issuer, &serial, 0x80, "another signature", (&rkey, &rcert));
    assert_eq!(verify(&sig, Some(&resp), &expect).unwrap_err(), VerifyError::OcspNonceMismatch);
    // Not successful; not DER.
    assert_eq!(
        verify(&sig, Some(&B64.encode([0x30, 0x03, 0x0a, 0x01, 0x03])), &expect).unwrap_err(),
        VerifyError::OcspStatus(3)
    );
    assert!(matches!(
        verify(&sig, Some(&B64.encode([0x30, 0x80])), &expect).unwrap_err(),
        VerifyError::OcspMalformed(_)
    ));
}
