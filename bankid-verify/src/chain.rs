//! The certificate chain of `KeyInfo` (leaf, customer CA, bank CA) up to a pinned root, and the
//! signature algorithms, verified with ring.

use ring::signature::{self as sig, UnparsedPublicKey, VerificationAlgorithm};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;
use x509_parser::prelude::FromDer;
use x509_parser::x509::SubjectPublicKeyInfo;

use crate::error::{ChainPosition, VerifyError};
use crate::time::Timestamp;

/// A signature algorithm of a certificate or OCSP response (by its OID).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SigAlg {
    RsaSha1,
    RsaSha256,
    RsaSha384,
    RsaSha512,
    EcdsaSha256,
    EcdsaSha384,
}

const RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];

impl SigAlg {
    /// From the content octets of an AlgorithmIdentifier's OID.
    pub(crate) fn from_oid(oid: &[u8]) -> Option<Self> {
        match oid {
            [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, last] => match last {
                0x05 => Some(Self::RsaSha1),
                0x0b => Some(Self::RsaSha256),
                0x0c => Some(Self::RsaSha384),
                0x0d => Some(Self::RsaSha512),
                _ => None,
            },
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02] => Some(Self::EcdsaSha256),
            [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03] => Some(Self::EcdsaSha384),
            _ => None,
        }
    }

    fn ring(self) -> &'static dyn VerificationAlgorithm {
        match self {
            Self::RsaSha1 => &sig::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
            Self::RsaSha256 => &sig::RSA_PKCS1_2048_8192_SHA256,
            Self::RsaSha384 => &sig::RSA_PKCS1_2048_8192_SHA384,
            Self::RsaSha512 => &sig::RSA_PKCS1_2048_8192_SHA512,
            Self::EcdsaSha256 => &sig::ECDSA_P256_SHA256_ASN1,
            Self::EcdsaSha384 => &sig::ECDSA_P384_SHA384_ASN1,
        }
    }

    fn is_rsa(self) -> bool {
        matches!(self, Self::RsaSha1 | Self::RsaSha256 | Self::RsaSha384 | Self::RsaSha512)
    }
}

/// Does `signature` over `message` verify with `spki` under `alg`? (The key type must match.)
pub(crate) fn verify_spki(spki: &SubjectPublicKeyInfo<'_>, alg: SigAlg, message: &[u8], signature: &[u8]) -> bool {
    let key_type = spki.algorithm.algorithm.as_bytes();
    let type_ok = if alg.is_rsa() { key_type == RSA_ENCRYPTION } else { key_type == EC_PUBLIC_KEY };
    type_ok && UnparsedPublicKey::new(alg.ring(), &spki.subject_public_key.data).verify(message, signature).is_ok()
}

/// Parses one DER certificate, with nothing after it.
pub(crate) fn parse_cert(der: &[u8], position: ChainPosition) -> Result<X509Certificate<'_>, VerifyError> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(VerifyError::CertificateMalformed { position }),
    }
}

fn key_id(cert: &X509Certificate<'_>, authority: bool) -> Option<Vec<u8>> {
    cert.iter_extensions().find_map(|e| match e.parsed_extension() {
        ParsedExtension::SubjectKeyIdentifier(k) if !authority => Some(k.0.to_vec()),
        ParsedExtension::AuthorityKeyIdentifier(a) if authority => a.key_identifier.as_ref().map(|k| k.0.to_vec()),
        _ => None,
    })
}

/// Checks that `child` (at `position`) was issued by `issuer`: names, key identifiers and
/// signature. `allow_sha1` lets `sha1WithRSAEncryption` through.
pub(crate) fn check_issued_by(
    child: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    position: ChainPosition,
    allow_sha1: bool,
) -> Result<(), VerifyError> {
    if child.issuer().as_raw() != issuer.subject().as_raw() {
        return Err(VerifyError::ChainBroken { position, what: "issuer name" });
    }
    if let (Some(aki), Some(ski)) = (key_id(child, true), key_id(issuer, false)) {
        if aki != ski {
            return Err(VerifyError::ChainBroken { position, what: "key identifier" });
        }
    }
    let oid = child.signature_algorithm.algorithm.as_bytes();
    let alg = SigAlg::from_oid(oid).filter(|a| allow_sha1 || *a != SigAlg::RsaSha1).ok_or_else(|| {
        VerifyError::UnsupportedAlgorithm {
            what: "certificate signature algorithm",
            uri: child.signature_algorithm.algorithm.to_id_string(),
        }
    })?;
    if !verify_spki(issuer.public_key(), alg, child.tbs_certificate.as_ref(), &child.signature_value.data) {
        return Err(VerifyError::ChainBroken { position, what: "signature" });
    }
    Ok(())
}

/// Is `cert` valid at `at`?
pub(crate) fn valid_at(cert: &X509Certificate<'_>, at: Timestamp, position: ChainPosition) -> Result<(), VerifyError> {
    let v = cert.validity();
    let t = at.unix_seconds();
    if v.not_before.timestamp() <= t && t <= v.not_after.timestamp() {
        Ok(())
    } else {
        Err(VerifyError::CertificateNotValid { position, at: at.to_string() })
    }
}

/// Checks that `cert` may issue certificates with `below` CA certificates under it.
fn check_ca(cert: &X509Certificate<'_>, position: ChainPosition, below: usize) -> Result<(), VerifyError> {
    let bc = cert
        .basic_constraints()
        .map_err(|_| VerifyError::CertificateMalformed { position })?
        .ok_or(VerifyError::CaConstraint { position, what: "no basic constraints" })?;
    if !bc.value.ca {
        return Err(VerifyError::CaConstraint { position, what: "not a CA" });
    }
    if let Some(len) = bc.value.path_len_constraint {
        if usize::try_from(len).unwrap_or(usize::MAX) < below {
            return Err(VerifyError::CaConstraint { position, what: "path length exceeded" });
        }
    }
    if let Some(ku) = cert.key_usage().map_err(|_| VerifyError::CertificateMalformed { position })? {
        if !ku.value.key_cert_sign() {
            return Err(VerifyError::CaConstraint { position, what: "key usage lacks keyCertSign" });
        }
    }
    Ok(())
}

/// Verifies `certs` (leaf first, each issued by the next) up to one of `anchors`, everything
/// valid at `at`. Returns the index of the anchor used.
pub(crate) fn verify_chain(
    certs: &[X509Certificate<'_>],
    anchors: &[X509Certificate<'_>],
    at: Timestamp,
    allow_sha1: bool,
) -> Result<usize, VerifyError> {
    let leaf = certs.first().ok_or(VerifyError::XmlStructure("KeyInfo holds no certificate"))?;
    if leaf
        .basic_constraints()
        .map_err(|_| VerifyError::CertificateMalformed { position: 0 })?
        .is_some_and(|b| b.value.ca)
    {
        return Err(VerifyError::CaConstraint { position: 0, what: "the leaf is a CA" });
    }
    if let Some(ku) = leaf.key_usage().map_err(|_| VerifyError::CertificateMalformed { position: 0 })? {
        if !ku.value.digital_signature() && !ku.value.non_repudiation() {
            return Err(VerifyError::CaConstraint { position: 0, what: "leaf key usage allows no signatures" });
        }
    }
    for (i, pair) in certs.windows(2).enumerate() {
        check_issued_by(&pair[0], &pair[1], i, allow_sha1)?;
        check_ca(&pair[1], i + 1, i)?;
    }
    for (i, c) in certs.iter().enumerate() {
        valid_at(c, at, i)?;
    }
    let top = certs.len() - 1;
    let last = &certs[top];
    let mut name_matched = None;
    for (a, anchor) in anchors.iter().enumerate() {
        if anchor.subject().as_raw() != last.issuer().as_raw() {
            continue;
        }
        name_matched = Some(check_issued_by(last, anchor, top, allow_sha1));
        if let Some(Ok(())) = name_matched {
            check_ca(anchor, top + 1, top)?;
            valid_at(anchor, at, top + 1)?;
            return Ok(a);
        }
    }
    match name_matched {
        // A root with the right name whose key did not sign: not the root we trust.
        Some(Err(VerifyError::ChainBroken { what: "signature" | "key identifier", .. })) | None => {
            Err(VerifyError::UntrustedRoot)
        }
        Some(Err(e)) => Err(e),
        Some(Ok(())) => Err(VerifyError::UntrustedRoot),
    }
}
