//! Verify what BankID signed: the `completionData.signature` (an XML-DSig document), its
//! certificate chain up to BankID's pinned signature root, and the `completionData.ocspResponse`
//! that proves the certificate was good when the order completed.
//!
//! Pure: no I/O, no clock. The time at which validity is judged is an argument, by default the
//! OCSP response's `producedAt` (when the order completed).
//!
//! ```
//! use bankid_verify::{verify, Environment, Expectations, TrustAnchors, VerifyError};
//!
//! let expect = Expectations::new(TrustAnchors::bankid(Environment::Production))
//!     .personal_number("190001019876")
//!     .user_visible_data("SGVsbG8=");
//! // `signature` and `ocspResponse` exactly as BankID returned them in completionData.
//! let err = verify("bm90IGEgc2lnbmF0dXJl", None, &expect).unwrap_err();
//! assert_eq!(err.code(), "xml-malformed");
//! ```
//!
//! # What is checked, in this order
//!
//! 1. **Input bounds.** The base64 `signature` is at most [`MAX_SIGNATURE_LEN`] characters, the
//!    `ocspResponse` at most [`MAX_OCSP_LEN`]; both are standard base64.
//! 2. **XML.** UTF-8, well-formed, at most 4096 nodes, 64 namespace declarations and 32 levels
//!    deep; a DTD is refused (and with it every entity other than the five predefined ones and
//!    every external reference). The root is `Signature` (XML-DSig namespace) with exactly one `SignedInfo`,
//!    `SignatureValue` and `KeyInfo`, and exactly one `bankIdSignedData` in its `Object`s.
//! 3. **Algorithms.** `CanonicalizationMethod` and every `Transform` are inclusive C14N 1.0
//!    without comments; `SignatureMethod` is `rsa-sha256` or `ecdsa-sha256` (`rsa-sha1` only
//!    with [`Expectations::allow_rsa_sha1`]); `DigestMethod` is SHA-256 (SHA-1 likewise).
//! 4. **References.** Each `URI` is a same-document `#Id` (anything else is an external
//!    reference and refused); exactly one element carries that Id (`Id`, `ID` or `id`); the
//!    SHA-256 of its inclusive C14N equals `DigestValue`. `SignedInfo` must cover both the
//!    `bankIdSignedData` element that is read below and `KeyInfo`.
//! 5. **SignatureValue** verifies over the canonical `SignedInfo` with the leaf certificate's key
//!    (RSA PKCS#1 v1.5 SHA-256, or ECDSA P-256 SHA-256 as `r || s`).
//! 6. **Chain.** `KeyInfo` lists leaf, customer CA, bank CA (one to six certificates). Each is
//!    issued by the next (issuer name, authority = subject key identifier, signature:
//!    sha256/384/512WithRSA or ECDSA; sha1WithRSA only with [`Expectations::allow_rsa_sha1`]),
//!    each issuer is a CA (basic constraints, keyCertSign, path length), the leaf is not a CA
//!    and may sign, the last one is issued by a pinned root ([`TrustAnchors`]), and every
//!    certificate and the root are valid at the judged time.
//! 7. **OCSP** (when a response is given), in this order: `successful` and
//!    `id-pkix-ocsp-basic`; a `SingleResponse` whose `CertID` (SHA-1 or SHA-256) names the
//!    leaf's serial and its issuer's name and key; the nonce extension's first 20 bytes are
//!    SHA-1 of the `signature` string exactly as given (this binds the response to this very
//!    signature: keep the string, not only the decoded XML); the responder is the leaf's issuer
//!    or a certificate in the response that the issuer signed, with EKU OCSPSigning, valid at
//!    `producedAt`; the response's signature verifies with it (BankID signs with sha1WithRSA:
//!    accepted unless [`Expectations::allow_sha1_ocsp`] is turned off); the status is `good`;
//!    the leaf was valid at `producedAt`.
//! 8. **Content.** `clientInfo/funcId` is present; the leaf has a 12-digit personal number
//!    (`serialNumber`); `usrVisibleData` decodes to UTF-8; then each expectation given holds:
//!    personal number, `usrVisibleData` and `usrNonVisibleData` exactly as sent (base64), and
//!    `funcId`.
//!
//! # What is not checked
//!
//! * Revocation **after** the order: the embedded OCSP response is the proof at signing time,
//!   and this crate makes no network calls. Without an OCSP response nothing is known about
//!   revocation at all.
//! * `srvInfo` against your RP certificate, `srvInfo/nonce`, `clientInfo/version` and `env`:
//!   they are signed and returned ([`Verified::rp_name`]), but compared with nothing.
//! * The policies (`certificatePolicies`) of the certificates, name constraints, CRLs.
//! * That the leaf is a BankID *for this person* beyond its `serialNumber`: pass
//!   [`Expectations::personal_number`].
//!
//! # Canonicalization
//!
//! Real signatures reference a document subset (one element with its descendants and in-scope
//! namespaces) under inclusive C14N 1.0. This crate has its own canonicalizer for exactly that
//! case: the tests check that it reproduces the genuine samples byte for byte, where slicing the
//! element out of a C14N of the whole document and libxml2's C14N of a non-root element both
//! give other bytes.
//!
//! # Dependencies and why
//!
//! * `roxmltree`: a read-only tree with byte ranges of every node and attribute (the prefixes as
//!   written, which C14N needs), no DTD unless asked, a node limit, no external entities ever,
//!   no unsafe code, no dependencies.
//! * `x509-parser`: already in the workspace (bankid-core); gives the raw TBS, names and
//!   extensions of certificates. The OCSP response is read with a small strict DER reader in
//!   this crate instead: x509-parser has no OCSP, and the RustCrypto `x509-ocsp` family would
//!   add a second ASN.1 stack.
//! * `ring`: already the workspace's only crypto provider; RSA PKCS#1 v1.5 (including the
//!   legacy SHA-1 that BankID's OCSP responses use), ECDSA, SHA-1 and SHA-256. No RustCrypto
//!   `rsa` (its constant-time history and a second crypto stack are not needed for verifying).

#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod c14n;
mod chain;
mod der;
mod error;
mod ocsp;
mod time;
mod xml;

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use roxmltree::Node;
use x509_parser::certificate::X509Certificate;

pub use error::{CertStatus, ChainPosition, VerifyError};
pub use time::Timestamp;

use crate::chain::{SigAlg, parse_cert};
use crate::xml::{BANKID_NS, DSIG_NS, is, only_child, optional_child, text_of};

/// The longest `signature` string accepted, in base64 characters. Genuine ones are about 12 000;
/// with the largest texts BankID accepts (40 000 characters of `userVisibleData` and 200 000 of
/// `userNonVisibleData`, both base64) one is about 330 000.
pub const MAX_SIGNATURE_LEN: usize = 512 * 1024;
/// The longest `ocspResponse` string accepted, in base64 characters (genuine ones are about 2 600).
pub const MAX_OCSP_LEN: usize = 64 * 1024;

const TEST_ROOT_PEM: &str = include_str!("../roots/test-bankid-root-ca-v1-test.pem");
const PROD_ROOT_PEM: &str = include_str!("../roots/bankid-root-ca-v1-prod.pem");

/// Which BankID the signature comes from: each has its own signature root.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Environment {
    /// BankID's test service: "Test BankID Root CA v1 Test".
    Test,
    /// BankID's production service: "BankID Root CA v1".
    Production,
}

/// A trust anchor could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("trust anchor {index} is not a DER or PEM X.509 certificate")]
pub struct AnchorError {
    /// Which certificate (0-based) of the input.
    pub index: usize,
}

/// The roots a chain must end at: BankID's (embedded, chosen by environment) or your own (for
/// the simulator: `bankid_sim::Pki::signature_root_pem`).
#[derive(Clone, PartialEq, Eq)]
pub struct TrustAnchors {
    ders: Vec<Vec<u8>>,
}

impl fmt::Debug for TrustAnchors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrustAnchors").field("roots", &self.ders.len()).finish()
    }
}

fn pem_ders(pem: &str) -> Result<Vec<Vec<u8>>, AnchorError> {
    let mut out = Vec::new();
    for (index, p) in x509_parser::pem::Pem::iter_from_buffer(pem.as_bytes()).enumerate() {
        let p = p.map_err(|_| AnchorError { index })?;
        if p.label != "CERTIFICATE" {
            continue;
        }
        parse_cert(&p.contents, index).map_err(|_| AnchorError { index })?;
        out.push(p.contents);
    }
    if out.is_empty() {
        return Err(AnchorError { index: 0 });
    }
    Ok(out)
}

impl TrustAnchors {
    /// BankID's signature root for `env` (embedded in this crate).
    pub fn bankid(env: Environment) -> Self {
        let pem = match env {
            Environment::Test => TEST_ROOT_PEM,
            Environment::Production => PROD_ROOT_PEM,
        };
        // The embedded PEMs are tested to parse; should one not, nothing verifies (no panic).
        Self { ders: pem_ders(pem).unwrap_or_default() }
    }

    /// Every `CERTIFICATE` in a PEM text (at least one).
    pub fn from_pem(pem: &str) -> Result<Self, AnchorError> {
        pem_ders(pem).map(|ders| Self { ders })
    }

    /// DER certificates (at least one).
    pub fn from_der<I: IntoIterator<Item = Vec<u8>>>(ders: I) -> Result<Self, AnchorError> {
        let ders: Vec<Vec<u8>> = ders.into_iter().collect();
        for (index, d) in ders.iter().enumerate() {
            parse_cert(d, index).map_err(|_| AnchorError { index })?;
        }
        if ders.is_empty() {
            return Err(AnchorError { index: 0 });
        }
        Ok(Self { ders })
    }

    /// The anchors, DER.
    pub fn certificates(&self) -> &[Vec<u8>] {
        &self.ders
    }
}

/// What the signature must show, and how strict to be.
#[derive(Clone)]
pub struct Expectations {
    anchors: TrustAnchors,
    personal_number: Option<String>,
    user_visible_data: Option<String>,
    user_non_visible_data: Option<String>,
    func_id: Option<String>,
    at: Option<Timestamp>,
    allow_rsa_sha1: bool,
    allow_sha1_ocsp: bool,
}

impl fmt::Debug for Expectations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let redacted = |o: &Option<String>| o.as_ref().map(|_| "[redacted]");
        f.debug_struct("Expectations")
            .field("anchors", &self.anchors)
            .field("personal_number", &redacted(&self.personal_number))
            .field("user_visible_data", &redacted(&self.user_visible_data))
            .field("user_non_visible_data", &redacted(&self.user_non_visible_data))
            .field("func_id", &self.func_id)
            .field("at", &self.at)
            .field("allow_rsa_sha1", &self.allow_rsa_sha1)
            .field("allow_sha1_ocsp", &self.allow_sha1_ocsp)
            .finish()
    }
}

impl Expectations {
    /// Trust `anchors`, expect nothing of the content, judge at the OCSP `producedAt`.
    pub fn new(anchors: TrustAnchors) -> Self {
        Self {
            anchors,
            personal_number: None,
            user_visible_data: None,
            user_non_visible_data: None,
            func_id: None,
            at: None,
            allow_rsa_sha1: false,
            allow_sha1_ocsp: true,
        }
    }

    /// The leaf certificate must carry this personal number (12 digits).
    pub fn personal_number(mut self, pnr: impl Into<String>) -> Self {
        self.personal_number = Some(pnr.into());
        self
    }

    /// `usrVisibleData` must be exactly this base64 (the `userVisibleData` that was sent).
    pub fn user_visible_data(mut self, base64: impl Into<String>) -> Self {
        self.user_visible_data = Some(base64.into());
        self
    }

    /// `usrNonVisibleData` must be exactly this base64 (the `userNonVisibleData` that was sent).
    pub fn user_non_visible_data(mut self, base64: impl Into<String>) -> Self {
        self.user_non_visible_data = Some(base64.into());
        self
    }

    /// `clientInfo/funcId` must be this (`Identification` for auth orders, `Signing` for sign
    /// and payment orders).
    pub fn func_id(mut self, func_id: impl Into<String>) -> Self {
        self.func_id = Some(func_id.into());
        self
    }

    /// Judge certificate validity at `at` instead of the OCSP `producedAt` (required when there
    /// is no OCSP response).
    pub fn at(mut self, at: Timestamp) -> Self {
        self.at = Some(at);
        self
    }

    /// Accept `rsa-sha1` signatures, SHA-1 reference digests and sha1WithRSA certificates (old
    /// captures; off by default).
    pub fn allow_rsa_sha1(mut self, allow: bool) -> Self {
        self.allow_rsa_sha1 = allow;
        self
    }

    /// Accept sha1WithRSA on the OCSP response (on by default: BankID signs its OCSP responses so).
    pub fn allow_sha1_ocsp(mut self, allow: bool) -> Self {
        self.allow_sha1_ocsp = allow;
        self
    }
}

/// The `SignatureMethod` of a verified signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum SignatureAlgorithm {
    /// `http://www.w3.org/2001/04/xmldsig-more#rsa-sha256` (what BankID uses).
    RsaSha256,
    /// `http://www.w3.org/2000/09/xmldsig#rsa-sha1` (old captures, only when allowed).
    RsaSha1,
    /// `http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256`.
    EcdsaSha256,
}

/// One certificate of the verified chain.
#[derive(Clone, PartialEq, Eq)]
pub struct ChainCertificate {
    subject: String,
    issuer: String,
    not_before: Timestamp,
    not_after: Timestamp,
    der: Vec<u8>,
}

impl ChainCertificate {
    fn new(c: &X509Certificate<'_>, der: &[u8]) -> Self {
        Self {
            subject: c.subject().to_string(),
            issuer: c.issuer().to_string(),
            not_before: Timestamp::from_unix_seconds(c.validity().not_before.timestamp()),
            not_after: Timestamp::from_unix_seconds(c.validity().not_after.timestamp()),
            der: der.to_vec(),
        }
    }

    /// The subject, RFC 4514 style (for the leaf, it holds the person's name and personal number).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The issuer, RFC 4514 style.
    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    /// Start of validity.
    pub fn not_before(&self) -> Timestamp {
        self.not_before
    }

    /// End of validity.
    pub fn not_after(&self) -> Timestamp {
        self.not_after
    }

    /// The certificate, DER.
    pub fn der(&self) -> &[u8] {
        &self.der
    }
}

impl fmt::Debug for ChainCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainCertificate")
            .field("subject", &"[redacted]")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// What the OCSP response said.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OcspOutcome {
    /// `producedAt`: when the order completed.
    pub produced_at: Timestamp,
    /// The leaf's status (always [`CertStatus::Good`] in a verified result).
    pub status: CertStatus,
}

/// A verified signature: who signed what, for whom, under which chain.
#[derive(Clone)]
pub struct Verified {
    personal_number: String,
    name: Option<String>,
    given_name: Option<String>,
    surname: Option<String>,
    func_id: String,
    user_visible_data: Option<String>,
    user_non_visible_data: Option<Vec<u8>>,
    rp_name: Option<String>,
    rp_display_name: Option<String>,
    chain: Vec<ChainCertificate>,
    ocsp: Option<OcspOutcome>,
    judged_at: Timestamp,
    algorithm: SignatureAlgorithm,
}

impl Verified {
    /// The personal number (the leaf's `serialNumber`, 12 digits).
    pub fn personal_number(&self) -> &str {
        &self.personal_number
    }

    /// The full name (the leaf's `CN`).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The given name (the leaf's `givenName`).
    pub fn given_name(&self) -> Option<&str> {
        self.given_name.as_deref()
    }

    /// The surname (the leaf's `surname`).
    pub fn surname(&self) -> Option<&str> {
        self.surname.as_deref()
    }

    /// `clientInfo/funcId`: `Identification` or `Signing`.
    pub fn func_id(&self) -> &str {
        &self.func_id
    }

    /// `usrVisibleData`, decoded: the text the user saw.
    pub fn user_visible_data(&self) -> Option<&str> {
        self.user_visible_data.as_deref()
    }

    /// `usrNonVisibleData`, decoded.
    pub fn user_non_visible_data(&self) -> Option<&[u8]> {
        self.user_non_visible_data.as_deref()
    }

    /// `srvInfo/name`, decoded: the RP certificate's subject as BankID writes it
    /// (`cn=...,name=...,serialNumber=...`).
    pub fn rp_name(&self) -> Option<&str> {
        self.rp_name.as_deref()
    }

    /// `srvInfo/displayName`, decoded.
    pub fn rp_display_name(&self) -> Option<&str> {
        self.rp_display_name.as_deref()
    }

    /// The chain, leaf first, then the root it ended at.
    pub fn chain(&self) -> &[ChainCertificate] {
        &self.chain
    }

    /// The OCSP outcome, if a response was given.
    pub fn ocsp(&self) -> Option<OcspOutcome> {
        self.ocsp
    }

    /// When validity was judged: [`Expectations::at`] or the OCSP `producedAt`. With an OCSP
    /// response and no explicit time, this is when the user signed.
    pub fn judged_at(&self) -> Timestamp {
        self.judged_at
    }

    /// The `SignatureMethod`.
    pub fn algorithm(&self) -> SignatureAlgorithm {
        self.algorithm
    }
}

impl fmt::Debug for Verified {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verified")
            .field("personal_number", &"[redacted]")
            .field("name", &"[redacted]")
            .field("func_id", &self.func_id)
            .field("user_visible_data", &self.user_visible_data.as_ref().map(|_| "[redacted]"))
            .field("user_non_visible_data", &self.user_non_visible_data.as_ref().map(|_| "[redacted]"))
            .field("chain", &self.chain.len())
            .field("ocsp", &self.ocsp)
            .field("judged_at", &self.judged_at)
            .field("algorithm", &self.algorithm)
            .finish_non_exhaustive()
    }
}

/// Verifies a BankID completion signature: `signature` and `ocsp_response` are the base64
/// strings of `completionData` exactly as BankID returned them. See the crate docs for every
/// check, in order; the first that does not hold is the error.
pub fn verify(signature: &str, ocsp_response: Option<&str>, expect: &Expectations) -> Result<Verified, VerifyError> {
    if signature.len() > MAX_SIGNATURE_LEN {
        return Err(VerifyError::TooLarge { what: "signature", limit: MAX_SIGNATURE_LEN });
    }
    if ocsp_response.is_some_and(|o| o.len() > MAX_OCSP_LEN) {
        return Err(VerifyError::TooLarge { what: "ocspResponse", limit: MAX_OCSP_LEN });
    }
    let xml_bytes = B64.decode(signature).map_err(|_| VerifyError::Base64 { what: "signature" })?;
    let ocsp_der = match ocsp_response {
        Some(o) => Some(B64.decode(o).map_err(|_| VerifyError::Base64 { what: "ocspResponse" })?),
        None => None,
    };
    let xml_text = std::str::from_utf8(&xml_bytes).map_err(|_| VerifyError::XmlMalformed("not UTF-8".into()))?;
    let doc = xml::parse(xml_text)?;
    let root = doc.root_element();
    if !is(root, DSIG_NS, "Signature") {
        return Err(VerifyError::XmlStructure("the root is not an XML-DSig Signature"));
    }
    let signed_info = only_child(root, DSIG_NS, "SignedInfo", "exactly one SignedInfo")?;
    let signature_value = only_child(root, DSIG_NS, "SignatureValue", "exactly one SignatureValue")?;
    let key_info = only_child(root, DSIG_NS, "KeyInfo", "exactly one KeyInfo")?;
    let mut signed_data = root
        .children()
        .filter(|c| is(*c, DSIG_NS, "Object"))
        .flat_map(|o| o.children())
        .filter(|c| is(*c, BANKID_NS, "bankIdSignedData"));
    let signed_data_node = signed_data.next().ok_or(VerifyError::XmlStructure("no bankIdSignedData"))?;
    if signed_data.next().is_some() {
        return Err(VerifyError::XmlStructure("more than one bankIdSignedData"));
    }

    // Algorithms.
    let c14n = only_child(signed_info, DSIG_NS, "CanonicalizationMethod", "exactly one CanonicalizationMethod")?;
    let c14n_alg = c14n.attribute("Algorithm").unwrap_or("");
    if c14n_alg != xml::C14N_10 {
        return Err(VerifyError::UnsupportedAlgorithm { what: "CanonicalizationMethod", uri: c14n_alg.into() });
    }
    let method = only_child(signed_info, DSIG_NS, "SignatureMethod", "exactly one SignatureMethod")?;
    let algorithm = match method.attribute("Algorithm").unwrap_or("") {
        xml::RSA_SHA256_URI => SignatureAlgorithm::RsaSha256,
        xml::ECDSA_SHA256_URI => SignatureAlgorithm::EcdsaSha256,
        xml::RSA_SHA1_URI if expect.allow_rsa_sha1 => SignatureAlgorithm::RsaSha1,
        other => return Err(VerifyError::UnsupportedAlgorithm { what: "SignatureMethod", uri: other.into() }),
    };

    // References.
    let mut covered = Vec::new();
    let mut canonical = Vec::with_capacity(xml_text.len());
    for (n, reference) in signed_info.children().filter(|c| is(*c, DSIG_NS, "Reference")).enumerate() {
        if n >= 8 {
            return Err(VerifyError::XmlStructure("more than 8 References"));
        }
        covered.push(check_reference(reference, &doc, xml_text, expect, &mut canonical)?);
    }
    if !covered.contains(&signed_data_node.id()) {
        return Err(VerifyError::UnsignedContent("bankIdSignedData"));
    }
    if !covered.contains(&key_info.id()) {
        return Err(VerifyError::UnsignedContent("KeyInfo"));
    }

    // Certificates.
    let x509_data = only_child(key_info, DSIG_NS, "X509Data", "exactly one X509Data in KeyInfo")?;
    let mut ders = Vec::new();
    for c in x509_data.children().filter(|c| is(*c, DSIG_NS, "X509Certificate")) {
        if ders.len() >= 6 {
            return Err(VerifyError::XmlStructure("more than 6 certificates in KeyInfo"));
        }
        let der = xml::b64_text(&text_of(c, "X509Certificate holds text")?)
            .ok_or(VerifyError::CertificateMalformed { position: ders.len() })?;
        ders.push(der);
    }
    let certs =
        ders.iter().enumerate().map(|(i, d)| parse_cert(d, i)).collect::<Result<Vec<X509Certificate<'_>>, _>>()?;
    let leaf = certs.first().ok_or(VerifyError::XmlStructure("KeyInfo holds no certificate"))?;

    // SignatureValue over the canonical SignedInfo.
    let sig_bytes =
        xml::b64_text(&text_of(signature_value, "SignatureValue holds text")?).ok_or(VerifyError::SignatureInvalid)?;
    canonical.clear();
    c14n::canonicalize(signed_info, xml_text, &mut canonical)?;
    let (sig_alg, raw_ecdsa) = match algorithm {
        SignatureAlgorithm::RsaSha256 => (SigAlg::RsaSha256, false),
        SignatureAlgorithm::RsaSha1 => (SigAlg::RsaSha1, false),
        SignatureAlgorithm::EcdsaSha256 => (SigAlg::EcdsaSha256, true),
    };
    let ok = if raw_ecdsa {
        let spki = leaf.public_key();
        spki.algorithm.algorithm.as_bytes() == [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01]
            && ring::signature::UnparsedPublicKey::new(
                &ring::signature::ECDSA_P256_SHA256_FIXED,
                &spki.subject_public_key.data,
            )
            .verify(&canonical, &sig_bytes)
            .is_ok()
    } else {
        chain::verify_spki(leaf.public_key(), sig_alg, &canonical, &sig_bytes)
    };
    if !ok {
        return Err(VerifyError::SignatureInvalid);
    }

    // The time to judge at, the chain, the OCSP response.
    let ocsp = ocsp_der.as_deref().map(ocsp::parse).transpose()?;
    let judged_at = expect.at.or_else(|| ocsp.as_ref().map(|o| o.produced_at)).ok_or(VerifyError::NoJudgedTime)?;
    let anchors = expect
        .anchors
        .ders
        .iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d, certs.len() + i))
        .collect::<Result<Vec<_>, _>>()?;
    let anchor = chain::verify_chain(&certs, &anchors, judged_at, expect.allow_rsa_sha1)?;
    let ocsp_outcome = match &ocsp {
        Some(parsed) => {
            let issuer = certs.get(1).unwrap_or(&anchors[anchor]);
            ocsp::check(parsed, leaf, issuer, signature, expect.allow_sha1_ocsp)?;
            chain::valid_at(leaf, parsed.produced_at, 0)?;
            Some(OcspOutcome { produced_at: parsed.produced_at, status: CertStatus::Good })
        }
        None => None,
    };

    // Content.
    let content = SignedContent::read(signed_data_node)?;
    let subject = leaf.subject();
    let attr = |oid: &[u8]| {
        subject
            .iter_attributes()
            .find(|a| a.attr_type().as_bytes() == oid)
            .and_then(|a| a.as_str().ok())
            .map(str::to_owned)
    };
    let personal_number = attr(&[0x55, 0x04, 0x05])
        .filter(|p| p.len() == 12 && p.bytes().all(|b| b.is_ascii_digit()))
        .ok_or(VerifyError::NoPersonalNumber)?;
    if expect.personal_number.as_ref().is_some_and(|p| *p != personal_number) {
        return Err(VerifyError::PersonalNumberMismatch);
    }
    if let Some(v) = &expect.user_visible_data {
        if content.visible_b64.as_deref() != Some(v.as_str()) {
            return Err(VerifyError::UserVisibleDataMismatch);
        }
    }
    if let Some(v) = &expect.user_non_visible_data {
        if content.non_visible_b64.as_deref() != Some(v.as_str()) {
            return Err(VerifyError::UserNonVisibleDataMismatch);
        }
    }
    if expect.func_id.as_ref().is_some_and(|f| *f != content.func_id) {
        return Err(VerifyError::FuncIdMismatch);
    }
    let mut chain: Vec<ChainCertificate> = certs.iter().zip(&ders).map(|(c, d)| ChainCertificate::new(c, d)).collect();
    chain.push(ChainCertificate::new(&anchors[anchor], &expect.anchors.ders[anchor]));
    Ok(Verified {
        personal_number,
        name: attr(&[0x55, 0x04, 0x03]),
        given_name: attr(&[0x55, 0x04, 0x2a]),
        surname: attr(&[0x55, 0x04, 0x04]),
        func_id: content.func_id,
        user_visible_data: content.visible,
        user_non_visible_data: content.non_visible,
        rp_name: content.rp_name,
        rp_display_name: content.rp_display_name,
        chain,
        ocsp: ocsp_outcome,
        judged_at,
        algorithm,
    })
}

/// Checks one `Reference` and returns the node it covers.
fn check_reference(
    reference: Node<'_, '_>,
    doc: &roxmltree::Document<'_>,
    source: &str,
    expect: &Expectations,
    buf: &mut Vec<u8>,
) -> Result<roxmltree::NodeId, VerifyError> {
    let uri = reference.attribute("URI").unwrap_or("");
    let id = match uri.strip_prefix('#') {
        Some(id) if !id.is_empty() && !id.contains(['(', ')', ' ', '#']) => id,
        _ => return Err(VerifyError::ExternalReference { uri: uri.into() }),
    };
    if let Some(transforms) = optional_child(reference, DSIG_NS, "Transforms", "at most one Transforms")? {
        for (i, t) in transforms.children().filter(Node::is_element).enumerate() {
            let alg = t.attribute("Algorithm").unwrap_or("");
            if !is(t, DSIG_NS, "Transform") || alg != xml::C14N_10 || i >= 2 {
                return Err(VerifyError::UnsupportedAlgorithm { what: "Transform", uri: alg.into() });
            }
        }
    }
    let digest_method = only_child(reference, DSIG_NS, "DigestMethod", "exactly one DigestMethod")?;
    let digest_alg = match digest_method.attribute("Algorithm").unwrap_or("") {
        xml::SHA256_URI => &ring::digest::SHA256,
        xml::SHA1_URI if expect.allow_rsa_sha1 => &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
        other => return Err(VerifyError::UnsupportedAlgorithm { what: "DigestMethod", uri: other.into() }),
    };
    let digest_value = only_child(reference, DSIG_NS, "DigestValue", "exactly one DigestValue")?;
    let expected = xml::b64_text(&text_of(digest_value, "DigestValue holds text")?)
        .ok_or_else(|| VerifyError::DigestMismatch { uri: uri.into() })?;
    let targets = xml::elements_with_id(doc, id);
    if targets.len() != 1 {
        return Err(VerifyError::ReferencedElement { id: id.into(), count: targets.len() });
    }
    buf.clear();
    c14n::canonicalize(targets[0], source, buf)?;
    if ring::digest::digest(digest_alg, buf).as_ref() != expected.as_slice() {
        return Err(VerifyError::DigestMismatch { uri: uri.into() });
    }
    Ok(targets[0].id())
}

/// What `bankIdSignedData` says.
struct SignedContent {
    visible_b64: Option<String>,
    visible: Option<String>,
    non_visible_b64: Option<String>,
    non_visible: Option<Vec<u8>>,
    rp_name: Option<String>,
    rp_display_name: Option<String>,
    func_id: String,
}

impl SignedContent {
    fn read(node: Node<'_, '_>) -> Result<Self, VerifyError> {
        let b64_child = |parent: Node<'_, '_>,
                         name: &'static str,
                         what: &'static str|
         -> Result<Option<(String, Vec<u8>)>, VerifyError> {
            match optional_child(parent, BANKID_NS, name, what)? {
                Some(n) => {
                    let text = text_of(n, what)?;
                    let bytes = xml::b64_text(&text).ok_or(VerifyError::XmlStructure(what))?;
                    Ok(Some((text, bytes)))
                }
                None => Ok(None),
            }
        };
        let visible = b64_child(node, "usrVisibleData", "usrVisibleData is not base64")?;
        let visible_text = match &visible {
            Some((_, bytes)) => Some(
                String::from_utf8(bytes.clone())
                    .map_err(|_| VerifyError::XmlStructure("usrVisibleData is not UTF-8"))?,
            ),
            None => None,
        };
        let non_visible = b64_child(node, "usrNonVisibleData", "usrNonVisibleData is not base64")?;
        let srv = optional_child(node, BANKID_NS, "srvInfo", "at most one srvInfo")?;
        let text = |b: Option<(String, Vec<u8>)>| b.map(|(_, bytes)| String::from_utf8_lossy(&bytes).into_owned());
        let (rp_name, rp_display_name) = match srv {
            Some(s) => (
                text(b64_child(s, "name", "srvInfo/name is not base64")?),
                text(b64_child(s, "displayName", "srvInfo/displayName is not base64")?),
            ),
            None => (None, None),
        };
        let client = only_child(node, BANKID_NS, "clientInfo", "exactly one clientInfo")?;
        let func_id = text_of(only_child(client, BANKID_NS, "funcId", "exactly one funcId")?, "funcId holds text")?;
        let (visible_b64, _) = visible.map_or((None, ()), |(t, _)| (Some(t), ()));
        let (non_visible_b64, non_visible) = non_visible.map_or((None, None), |(t, b)| (Some(t), Some(b)));
        Ok(Self { visible_b64, visible: visible_text, non_visible_b64, non_visible, rp_name, rp_display_name, func_id })
    }
}
