//! The completion `signature` (an enveloping XML-DSig document shaped like BankID's, see
//! bankid-verify's genuine samples) and the `ocspResponse` (an RFC 6960 `OCSPResponse` for the
//! user certificate, shaped like BankID's).
//!
//! The XML is emitted already in canonical (inclusive C14N 1.0) form, as BankID writes it: no
//! whitespace between elements, explicit end tags, `SignedInfo`, `KeyInfo` and
//! `bankIdSignedData` each re-declare their default namespace, attributes in canonical order,
//! and every text node is base64 or a fixed token (nothing to escape). So the References'
//! SHA-256 digests over the raw `<bankIdSignedData ...>` and `<KeyInfo ...>` substrings equal the
//! digests over their canonical forms, and `SignatureValue` (RSA PKCS#1 v1.5 SHA-256,
//! `xmldsig-more#rsa-sha256`, by default; ECDSA P-256 `r || s` as an option) is over the raw
//! `<SignedInfo ...>` bytes. bankid-verify checks all of it in bankid-sim's tests.
//!
//! The OCSP response: `successful`, responder by name ("... OCSP Signing", issued by the
//! customer CA, EKU OCSPSigning and ocsp-nocheck, included in `certs`), `producedAt` =
//! `thisUpdate`, no `nextUpdate`, CertID with SHA-1, status `good`, and BankID's critical nonce:
//! 32 raw bytes in `extnValue`, SHA-1 of the base64 signature string followed by 12 random bytes.
//! Unlike BankID (sha1WithRSA), it is signed with sha256WithRSA: ring cannot sign with SHA-1.

use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use rcgen::{CertificateParams, DnType, DnValue};
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};

use crate::der::{generalized_time, seq, tlv};
use crate::pki::{OID_GIVEN_NAME, OID_NAME, OID_SERIAL_NUMBER, OID_SURNAME, Pki, UserKey};

const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const BANKID_NS: &str = "http://www.bankid.com/signature/v1.0.0/types";
const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const SHA256_URI: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const RSA_SHA256_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const ECDSA_SHA256_URI: &str = "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256";

/// Fills `buf` from the system's secure random source.
pub(crate) fn fill_random(buf: &mut [u8]) {
    if SystemRandom::new().fill(buf).is_err() {
        // The OS RNG failing is not something a test server can recover from meaningfully;
        // fall back to UUID v4 randomness (a different OS source path) rather than panic.
        for chunk in buf.chunks_mut(16) {
            let r = uuid::Uuid::new_v4().into_bytes();
            chunk.copy_from_slice(&r[..chunk.len()]);
        }
    }
}

/// What goes into one completion signature.
#[derive(Debug)]
pub(crate) struct SignInput<'a> {
    /// `Identification` (auth) or `Signing` (sign, payment).
    pub(crate) func_id: &'a str,
    /// `userVisibleData` exactly as the RP sent it (base64).
    pub(crate) visible: Option<&'a str>,
    /// `userNonVisibleData` exactly as the RP sent it (base64).
    pub(crate) non_visible: Option<&'a str>,
    pub(crate) rp_name: &'a str,
    pub(crate) policies: &'a [String],
    pub(crate) uhi: &'a str,
    pub(crate) personal_number: &'a str,
    pub(crate) given_name: &'a str,
    pub(crate) surname: &'a str,
    pub(crate) now: SystemTime,
}

/// A signature and the matching OCSP response, both base64.
#[derive(Debug)]
pub(crate) struct Signed {
    pub(crate) signature: String,
    pub(crate) ocsp_response: String,
}

fn b64(s: &str) -> String {
    B64.encode(s.as_bytes())
}

fn digest_b64(data: &[u8]) -> String {
    B64.encode(Sha256::digest(data))
}

/// The user certificate for this person: issued at their first order, then reused like a real
/// BankID's. Like a BankID one, it is issued by the (simulated) customer CA with sha256WithRSA,
/// with the subject `C, O, surname, givenName, serialNumber=<personal number>, name="(yymmdd
/// hh.mm) Given Surname - Mobilt BankID", CN`, keyUsage nonRepudiation, an OCSP URL, the test
/// policy and key identifiers.
fn user_certificate(pki: &Pki, input: &SignInput<'_>) -> Result<(Vec<u8>, Vec<u8>), String> {
    let key = (input.personal_number.to_owned(), input.given_name.to_owned(), input.surname.to_owned());
    let lock = || pki.signing.leaves.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(leaf) = lock().get(&key) {
        return Ok((leaf.der.clone(), leaf.serial.clone()));
    }
    // Issued without the lock (RSA is slow); when two orders of the person raced here, the
    // first certificate stored is the person's and the other is dropped.
    let (der, serial) = issue_user_certificate(pki, input)?;
    let mut leaves = lock();
    if leaves.len() >= crate::pki::MAX_CACHED_LEAVES && !leaves.contains_key(&key) {
        leaves.clear();
    }
    let leaf = leaves.entry(key).or_insert(crate::pki::Leaf { der, serial });
    Ok((leaf.der.clone(), leaf.serial.clone()))
}

/// Issues a new user certificate (see [`user_certificate`]).
fn issue_user_certificate(pki: &Pki, input: &SignInput<'_>) -> Result<(Vec<u8>, Vec<u8>), String> {
    let full = format!("{} {}", input.given_name, input.surname);
    let secs = input.now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let (y, m, d) = crate::der::civil_from_days(i64::try_from(secs / 86_400).unwrap_or(0));
    let issued = format!(
        "({:02}{m:02}{d:02} {:02}.{:02}) {full} - Mobilt BankID",
        y.rem_euclid(100),
        (secs / 3600) % 24,
        (secs / 60) % 60
    );
    let mut p = CertificateParams::default();
    let mut dn = rcgen::DistinguishedName::new();
    dn.push(DnType::CountryName, "SE");
    dn.push(DnType::OrganizationName, crate::pki::SIM_BANK);
    dn.push(DnType::CustomDnType(OID_SURNAME.to_vec()), input.surname);
    dn.push(DnType::CustomDnType(OID_GIVEN_NAME.to_vec()), input.given_name);
    let pnr = input.personal_number.try_into().map_err(|_| "personal number is not printable".to_owned())?;
    dn.push(DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()), DnValue::PrintableString(pnr));
    dn.push(DnType::CustomDnType(OID_NAME.to_vec()), issued.as_str());
    dn.push(DnType::CommonName, full.as_str());
    p.distinguished_name = dn;
    p.not_before = rcgen::date_time_ymd(2023, 11, 29);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    p.use_authority_key_identifier_extension = true;
    p.key_usages = vec![rcgen::KeyUsagePurpose::ContentCommitment];
    p.custom_extensions = vec![crate::pki::aia_extension(), crate::pki::policies_extension()];
    let serial = crate::pki::random_serial();
    let serial_bytes = serial.to_bytes();
    p.serial_number = Some(serial);
    let s = &pki.signing;
    let cert = p.signed_by(s.user.key_pair(), &s.customer_ca, &s.customer_ca_key).map_err(|e| e.to_string())?;
    Ok((cert.der().to_vec(), serial_bytes))
}

/// Builds and signs the XML, then the OCSP response bound to it.
pub(crate) fn sign(pki: &Pki, input: &SignInput<'_>) -> Result<Signed, String> {
    let (user_cert, serial) = user_certificate(pki, input)?;
    let s = &pki.signing;
    let key_info = format!(
        "<KeyInfo xmlns=\"{DSIG_NS}\" Id=\"bidKeyInfo\"><X509Data>\
         <X509Certificate>{}</X509Certificate>\
         <X509Certificate>{}</X509Certificate>\
         <X509Certificate>{}</X509Certificate>\
         </X509Data></KeyInfo>",
        B64.encode(&user_cert),
        B64.encode(s.customer_ca.der()),
        B64.encode(&s.bank_ca_der),
    );
    let mut nonce = [0u8; 20];
    fill_random(&mut nonce);
    let mut signed_data = format!("<bankIdSignedData xmlns=\"{BANKID_NS}\" Id=\"bidSignedData\">");
    if let Some(v) = input.visible {
        signed_data.push_str(&format!("<usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">{v}</usrVisibleData>"));
    }
    if let Some(v) = input.non_visible {
        signed_data.push_str(&format!("<usrNonVisibleData>{v}</usrNonVisibleData>"));
    }
    let version = format!(
        "Personal=7.12.1.5&BankID_exe=7.12.1.5&BankID_sim={}&platform=simulator&os_version=1&uhi={}&best_before=1893456000&",
        env!("CARGO_PKG_VERSION"),
        input.uhi
    );
    let policies: String = input.policies.iter().map(|p| format!("<value>{p}</value>")).collect();
    signed_data.push_str(&format!(
        "<srvInfo><name>{}</name><nonce>{}</nonce><displayName>{}</displayName></srvInfo>\
         <clientInfo><funcId>{}</funcId><version>{}</version><env><ai><type>{}</type>\
         <deviceInfo>{}</deviceInfo><uhi>{}</uhi><fsib>0</fsib><utb>cs1</utb>\
         <requirement><condition><type>CertificatePolicies</type>{policies}</condition></requirement>\
         <uauth>pw</uauth></ai></env></clientInfo></bankIdSignedData>",
        b64(&pki.srv_info_name(input.rp_name).map_or_else(|| format!("cn={0},name={0}", input.rp_name), str::to_owned)),
        B64.encode(nonce),
        b64(input.rp_name),
        input.func_id,
        b64(&version),
        b64("SIMULATOR"),
        b64(concat!("bankid-sim ", env!("CARGO_PKG_VERSION"))),
        input.uhi,
    ));
    let method = match s.user {
        UserKey::Rsa { .. } => RSA_SHA256_URI,
        UserKey::Ecdsa { .. } => ECDSA_SHA256_URI,
    };
    let signed_info = format!(
        "<SignedInfo xmlns=\"{DSIG_NS}\">\
         <CanonicalizationMethod Algorithm=\"{C14N}\"></CanonicalizationMethod>\
         <SignatureMethod Algorithm=\"{method}\"></SignatureMethod>\
         <Reference Type=\"{BANKID_NS}\" URI=\"#bidSignedData\"><Transforms><Transform Algorithm=\"{C14N}\"></Transform></Transforms>\
         <DigestMethod Algorithm=\"{SHA256_URI}\"></DigestMethod><DigestValue>{}</DigestValue></Reference>\
         <Reference URI=\"#bidKeyInfo\"><Transforms><Transform Algorithm=\"{C14N}\"></Transform></Transforms>\
         <DigestMethod Algorithm=\"{SHA256_URI}\"></DigestMethod><DigestValue>{}</DigestValue></Reference>\
         </SignedInfo>",
        digest_b64(signed_data.as_bytes()),
        digest_b64(key_info.as_bytes()),
    );
    let rng = SystemRandom::new();
    let sig = match &s.user {
        UserKey::Rsa { signer, .. } => {
            let mut sig = vec![0u8; signer.public().modulus_len()];
            signer
                .sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signed_info.as_bytes(), &mut sig)
                .map_err(|e| e.to_string())?;
            sig
        }
        UserKey::Ecdsa { signer, .. } => {
            signer.sign(&rng, signed_info.as_bytes()).map_err(|e| e.to_string())?.as_ref().to_vec()
        }
    };
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\
         <Signature xmlns=\"{DSIG_NS}\">{signed_info}<SignatureValue>{}</SignatureValue>{key_info}\
         <Object>{signed_data}</Object></Signature>",
        B64.encode(&sig)
    );
    let signature = B64.encode(xml.as_bytes());
    let ocsp_response = B64.encode(ocsp_response(pki, &serial, &signature, input.now)?);
    Ok(Signed { signature, ocsp_response })
}

/// `OCSPResponse { successful, BasicOCSPResponse }` saying `good` for the user certificate, shaped
/// like BankID's (see the module docs), signed by the simulated responder.
fn ocsp_response(pki: &Pki, serial: &[u8], signature_b64: &str, now: SystemTime) -> Result<Vec<u8>, String> {
    const OID_SHA1: &[u8] = &[0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a];
    const OID_OCSP_BASIC: &[u8] = &[0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
    const OID_OCSP_NONCE: &[u8] = &[0x06, 0x09, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];
    const OID_SHA256_RSA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
    const NULL: &[u8] = &[0x05, 0x00];
    const CRITICAL: &[u8] = &[0x01, 0x01, 0xff];
    let s = &pki.signing;
    let secs = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let time = generalized_time(secs);
    let mut nonce =
        ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, signature_b64.as_bytes()).as_ref().to_vec();
    let mut tail = [0u8; 12];
    fill_random(&mut tail);
    nonce.extend_from_slice(&tail);

    let cert_id = seq(&[
        &seq(&[OID_SHA1, NULL]),
        &tlv(0x04, &s.issuer_name_hash),
        &tlv(0x04, &s.issuer_key_hash),
        &tlv(0x02, serial),
    ]);
    let single = seq(&[&cert_id, &[0x80, 0x00], &time]);
    let nonce_ext = seq(&[OID_OCSP_NONCE, CRITICAL, &tlv(0x04, &nonce)]);
    let tbs = seq(&[&tlv(0xa1, &s.ocsp_name), &time, &seq(&[&single]), &tlv(0xa1, &seq(&[&nonce_ext]))]);
    let mut sig = vec![0u8; s.ocsp_signer.public().modulus_len()];
    s.ocsp_signer
        .sign(&ring::signature::RSA_PKCS1_SHA256, &SystemRandom::new(), &tbs, &mut sig)
        .map_err(|e| e.to_string())?;
    let mut bits = vec![0u8];
    bits.extend_from_slice(&sig);
    let basic = seq(&[&tbs, &seq(&[OID_SHA256_RSA, NULL]), &tlv(0x03, &bits), &tlv(0xa0, &seq(&[&s.ocsp_cert_der]))]);
    Ok(seq(&[&[0x0a, 0x01, 0x00], &tlv(0xa0, &seq(&[OID_OCSP_BASIC, &tlv(0x04, &basic)]))]))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
        let i = s.find(start).expect("start");
        let j = s[i..].find(end).expect("end") + i + end.len();
        &s[i..j]
    }

    #[test]
    fn signature_verifies() {
        let pki = Pki::generate(1, "pw").expect("pki");
        let policies = vec!["1.2.3.4.25".to_owned()];
        let input = SignInput {
            func_id: "Signing",
            visible: Some("SGVsbG8="),
            non_visible: Some("AAEC"),
            rp_name: "Test RP 1 av bankid-sim",
            policies: &policies,
            uhi: "abc",
            personal_number: "198001019994",
            given_name: "Tessa",
            surname: "Testsson",
            now: SystemTime::now(),
        };
        let signed = sign(&pki, &input).expect("signs");
        let xml = String::from_utf8(B64.decode(&signed.signature).expect("b64")).expect("utf8");
        assert!(xml.contains("<usrVisibleData charset=\"UTF-8\" visible=\"wysiwys\">SGVsbG8=</usrVisibleData>"));
        assert!(xml.contains("<usrNonVisibleData>AAEC</usrNonVisibleData>"));
        assert!(xml.contains("<funcId>Signing</funcId>"));
        let data = between(&xml, "<bankIdSignedData", "</bankIdSignedData>");
        let key_info = between(&xml, "<KeyInfo", "</KeyInfo>");
        let signed_info = between(&xml, "<SignedInfo", "</SignedInfo>");
        assert!(signed_info.contains(&digest_b64(data.as_bytes())));
        assert!(signed_info.contains(&digest_b64(key_info.as_bytes())));
        let sig = B64
            .decode(
                between(&xml, "<SignatureValue>", "</SignatureValue>")
                    .trim_start_matches("<SignatureValue>")
                    .trim_end_matches("</SignatureValue>"),
            )
            .expect("b64");
        let pk = ring::signature::UnparsedPublicKey::new(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            pki.signing.user.key_pair().public_key_raw(),
        );
        pk.verify(signed_info.as_bytes(), &sig).expect("signature verifies");
        let srv =
            "cn=bankid-sim RP 1,name=Test RP 1 av bankid-sim,serialNumber=5566304928,o=Testbank Sim AB (publ),c=SE";
        assert!(xml.contains(&format!("<srvInfo><name>{}</name>", B64.encode(srv))), "srvInfo/name like BankID");
        let ocsp = B64.decode(&signed.ocsp_response).expect("b64");
        assert_eq!(ocsp[0], 0x30);
        let sha1 = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, signed.signature.as_bytes());
        assert!(ocsp.windows(20).any(|w| w == sha1.as_ref()), "nonce is bound to the signature");
    }
}
