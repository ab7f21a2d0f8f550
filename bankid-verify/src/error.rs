//! What did not hold: one variant per check. Messages never carry personal data, signature
//! bytes or certificate contents.

/// The certificate status in an OCSP response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertStatus {
    /// `good`: the responder knew the certificate and it was not revoked.
    Good,
    /// `revoked`.
    Revoked,
    /// `unknown`.
    Unknown,
}

/// A link of the certificate chain, counted from the leaf (0) upwards; the trust anchor is
/// the position after the last certificate of `KeyInfo`.
pub type ChainPosition = usize;

/// Why a signature did not verify. Each variant is one check of the list in the crate docs;
/// [`code`](Self::code) names it in a stable, machine-readable way.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum VerifyError {
    /// The `signature` or `ocspResponse` is not standard base64 (`what` says which).
    #[error("{what} is not valid base64")]
    Base64 {
        /// `signature` or `ocspResponse`.
        what: &'static str,
    },
    /// An input is larger than this crate accepts.
    #[error("{what} is larger than {limit} bytes")]
    TooLarge {
        /// `signature` or `ocspResponse`.
        what: &'static str,
        /// The limit in bytes.
        limit: usize,
    },
    /// The decoded signature is not well-formed XML (or not UTF-8).
    #[error("the signature is not well-formed XML: {0}")]
    XmlMalformed(String),
    /// The XML has more nodes than this crate accepts.
    #[error("the signature XML has more than {limit} nodes")]
    XmlTooManyNodes {
        /// The node limit.
        limit: u32,
    },
    /// The XML nests deeper than this crate accepts.
    #[error("the signature XML nests deeper than {limit} elements")]
    XmlTooDeep {
        /// The depth limit.
        limit: usize,
    },
    /// The XML has a document type declaration (DTDs are refused: they bring entities and
    /// external references).
    #[error("the signature XML has a document type declaration")]
    XmlDtd,
    /// The XML references an entity that is not one of XML's five predefined ones.
    #[error("the signature XML references an undeclared entity")]
    XmlEntity,
    /// The document is well-formed XML but not a BankID XML-DSig signature of the expected shape.
    #[error("unexpected signature structure: {0}")]
    XmlStructure(&'static str),
    /// An algorithm this crate does not implement, or that was not allowed (`rsa-sha1` without
    /// [`crate::Expectations::allow_rsa_sha1`]).
    #[error("unsupported or disallowed {what}: {uri}")]
    UnsupportedAlgorithm {
        /// Which algorithm slot (`CanonicalizationMethod`, `SignatureMethod`, `Transform`,
        /// `DigestMethod`, certificate or OCSP signature algorithm).
        what: &'static str,
        /// The algorithm URI or OID.
        uri: String,
    },
    /// A Reference points outside the document (only same-document `#Id` references are
    /// followed).
    #[error("a Reference points outside the document: {uri}")]
    ExternalReference {
        /// The Reference's `URI`.
        uri: String,
    },
    /// Not exactly one element carries the Id a Reference names (zero, or a duplicate that
    /// could smuggle in other content).
    #[error("{count} elements carry the referenced Id {id} (exactly one must)")]
    ReferencedElement {
        /// The Id.
        id: String,
        /// How many elements carry it.
        count: usize,
    },
    /// `SignedInfo` does not cover both `bankIdSignedData` and `KeyInfo`.
    #[error("SignedInfo does not reference {0}")]
    UnsignedContent(&'static str),
    /// A Reference's digest does not match its canonicalized element: the signed content was
    /// changed (for `#bidSignedData`, the text, the personal data or the RP).
    #[error("the digest of Reference {uri} does not match")]
    DigestMismatch {
        /// The Reference's `URI`.
        uri: String,
    },
    /// `SignatureValue` does not verify over the canonical `SignedInfo` with the leaf
    /// certificate's key.
    #[error("SignatureValue does not verify with the leaf certificate's key")]
    SignatureInvalid,
    /// A certificate in `KeyInfo` (or a trust anchor) cannot be parsed.
    #[error("certificate {position} cannot be parsed")]
    CertificateMalformed {
        /// Its position.
        position: ChainPosition,
    },
    /// A link of the chain does not hold: the issuer name, the key identifiers or the
    /// signature (`what`).
    #[error("certificate {position} is not issued by the next one: {what}")]
    ChainBroken {
        /// The position of the issued certificate.
        position: ChainPosition,
        /// `issuer name`, `key identifier` or `signature`.
        what: &'static str,
    },
    /// The chain does not end at one of the trusted roots.
    #[error("the certificate chain does not end at a trusted root")]
    UntrustedRoot,
    /// A certificate (or the root) is not valid at the judged time.
    #[error("certificate {position} is not valid at {at}")]
    CertificateNotValid {
        /// Its position.
        position: ChainPosition,
        /// The judged time (RFC 3339).
        at: String,
    },
    /// An issuing certificate is not a CA (basic constraints, key usage or path length), or the
    /// leaf is one.
    #[error("certificate {position} violates CA constraints: {what}")]
    CaConstraint {
        /// Its position.
        position: ChainPosition,
        /// What did not hold.
        what: &'static str,
    },
    /// The leaf has no 12-character personal number (`serialNumber`, OID 2.5.4.5).
    #[error("the leaf certificate has no personal number")]
    NoPersonalNumber,
    /// No time to judge validity at: no OCSP response and no [`crate::Expectations::at`].
    #[error("no time to judge validity at: pass one or an OCSP response")]
    NoJudgedTime,
    /// The OCSP response is not a DER `OCSPResponse` with a `BasicOCSPResponse`.
    #[error("the OCSP response is malformed: {0}")]
    OcspMalformed(&'static str),
    /// The OCSP `responseStatus` is not `successful` (0).
    #[error("the OCSP response status is {0}, not successful")]
    OcspStatus(u8),
    /// The OCSP responder is not a certificate that the leaf's issuer issued for OCSP signing
    /// (or the issuer itself), valid at `producedAt`.
    #[error("the OCSP responder is not authorized: {0}")]
    OcspResponder(&'static str),
    /// The OCSP response's signature does not verify with the responder's key.
    #[error("the OCSP response's signature does not verify")]
    OcspSignatureInvalid,
    /// No `SingleResponse` has a `CertID` for the leaf and its issuer.
    #[error("the OCSP response is not about the leaf certificate")]
    OcspCertIdMismatch,
    /// The leaf's status is not `good`.
    #[error("the OCSP status of the leaf is {0:?}")]
    OcspNotGood(CertStatus),
    /// The OCSP response has no nonce extension.
    #[error("the OCSP response has no nonce")]
    OcspNonceMissing,
    /// The OCSP nonce is not bound to this signature string (it belongs to another order).
    #[error("the OCSP nonce does not match this signature")]
    OcspNonceMismatch,
    /// The personal number is not the expected one.
    #[error("the personal number is not the expected one")]
    PersonalNumberMismatch,
    /// `usrVisibleData` is not what was sent (or is missing).
    #[error("usrVisibleData is not the expected text")]
    UserVisibleDataMismatch,
    /// `usrNonVisibleData` is not what was sent (or is missing).
    #[error("usrNonVisibleData is not the expected data")]
    UserNonVisibleDataMismatch,
    /// `funcId` is not the expected one.
    #[error("funcId is not the expected one")]
    FuncIdMismatch,
}

impl VerifyError {
    /// A stable kebab-case name of the check that failed (for JSON output and logs).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Base64 { .. } => "base64",
            Self::TooLarge { .. } => "too-large",
            Self::XmlMalformed(_) => "xml-malformed",
            Self::XmlTooManyNodes { .. } => "xml-too-many-nodes",
            Self::XmlTooDeep { .. } => "xml-too-deep",
            Self::XmlDtd => "xml-dtd",
            Self::XmlEntity => "xml-entity",
            Self::XmlStructure(_) => "xml-structure",
            Self::UnsupportedAlgorithm { .. } => "unsupported-algorithm",
            Self::ExternalReference { .. } => "external-reference",
            Self::ReferencedElement { .. } => "referenced-element",
            Self::UnsignedContent(_) => "unsigned-content",
            Self::DigestMismatch { .. } => "digest-mismatch",
            Self::SignatureInvalid => "signature-invalid",
            Self::CertificateMalformed { .. } => "certificate-malformed",
            Self::ChainBroken { .. } => "chain-broken",
            Self::UntrustedRoot => "untrusted-root",
            Self::CertificateNotValid { .. } => "certificate-not-valid",
            Self::CaConstraint { .. } => "ca-constraint",
            Self::NoPersonalNumber => "no-personal-number",
            Self::NoJudgedTime => "no-judged-time",
            Self::OcspMalformed(_) => "ocsp-malformed",
            Self::OcspStatus(_) => "ocsp-status",
            Self::OcspResponder(_) => "ocsp-responder",
            Self::OcspSignatureInvalid => "ocsp-signature-invalid",
            Self::OcspCertIdMismatch => "ocsp-cert-id-mismatch",
            Self::OcspNotGood(_) => "ocsp-not-good",
            Self::OcspNonceMissing => "ocsp-nonce-missing",
            Self::OcspNonceMismatch => "ocsp-nonce-mismatch",
            Self::PersonalNumberMismatch => "personal-number-mismatch",
            Self::UserVisibleDataMismatch => "user-visible-data-mismatch",
            Self::UserNonVisibleDataMismatch => "user-non-visible-data-mismatch",
            Self::FuncIdMismatch => "func-id-mismatch",
        }
    }
}
