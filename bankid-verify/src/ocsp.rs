//! The OCSP response (RFC 6960): parsed with the strict DER reader in [`crate::der`], checked
//! against the leaf, its issuer and the signature string.

use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::ParsedExtension;

use crate::chain::{SigAlg, parse_cert, valid_at, verify_spki};
use crate::der::{self, BIT_STRING, ENUMERATED, GENERALIZED_TIME, INTEGER, OCTET_STRING, OID, Reader, SEQUENCE};
use crate::error::{CertStatus, VerifyError};
use crate::time::Timestamp;

const OCSP_BASIC: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x01];
const OCSP_NONCE: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01, 0x02];
const SHA1: &[u8] = &[0x2b, 0x0e, 0x03, 0x02, 0x1a];
const SHA256: &[u8] = &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01];

/// The parts of an OCSP response the checks need, borrowed from its DER.
#[derive(Debug)]
pub(crate) struct Parsed<'a> {
    tbs: &'a [u8],
    sig_alg: &'a [u8],
    signature: &'a [u8],
    responder: Responder<'a>,
    pub(crate) produced_at: Timestamp,
    responses: Vec<Single<'a>>,
    nonce: Option<&'a [u8]>,
    certs: Vec<&'a [u8]>,
}

#[derive(Debug)]
enum Responder<'a> {
    ByName(&'a [u8]),
    ByKey(&'a [u8]),
}

#[derive(Debug)]
struct Single<'a> {
    hash_alg: &'a [u8],
    name_hash: &'a [u8],
    key_hash: &'a [u8],
    serial: &'a [u8],
    status: CertStatus,
}

fn m(what: &'static str) -> impl Fn(der::DerError) -> VerifyError {
    move |_| VerifyError::OcspMalformed(what)
}

/// Reads `AlgorithmIdentifier` and returns its OID's content.
fn algorithm<'a>(r: &mut Reader<'a>, what: &'static str) -> Result<&'a [u8], VerifyError> {
    let alg = r.expect(SEQUENCE).map_err(m(what))?;
    let mut a = Reader::new(alg.content);
    let oid = a.expect(OID).map_err(m(what))?;
    // Parameters: absent or NULL for every algorithm accepted here.
    if let Some(t) = a.optional(0x05).map_err(m(what))? {
        if !t.content.is_empty() {
            return Err(VerifyError::OcspMalformed(what));
        }
    }
    a.finish().map_err(m(what))?;
    Ok(oid.content)
}

fn time(r: &mut Reader<'_>, what: &'static str) -> Result<Timestamp, VerifyError> {
    let t = r.expect(GENERALIZED_TIME).map_err(m(what))?;
    Timestamp::parse_generalized_time(t.content).ok_or(VerifyError::OcspMalformed(what))
}

/// Parses a DER `OCSPResponse`; a status other than `successful` is [`VerifyError::OcspStatus`].
pub(crate) fn parse(data: &[u8]) -> Result<Parsed<'_>, VerifyError> {
    let resp = der::single(data, SEQUENCE).map_err(m("OCSPResponse"))?;
    let mut r = Reader::new(resp.content);
    let status = r.expect(ENUMERATED).map_err(m("responseStatus"))?;
    match status.content {
        [0] => {}
        [s] => return Err(VerifyError::OcspStatus(*s)),
        _ => return Err(VerifyError::OcspMalformed("responseStatus")),
    }
    let bytes = r.expect(0xa0).map_err(m("responseBytes"))?;
    r.finish().map_err(m("OCSPResponse"))?;
    let bytes = der::single(bytes.content, SEQUENCE).map_err(m("responseBytes"))?;
    let mut b = Reader::new(bytes.content);
    let rtype = b.expect(OID).map_err(m("responseType"))?;
    if rtype.content != OCSP_BASIC {
        return Err(VerifyError::OcspMalformed("responseType is not id-pkix-ocsp-basic"));
    }
    let basic = b.expect(OCTET_STRING).map_err(m("response"))?;
    b.finish().map_err(m("responseBytes"))?;

    let basic = der::single(basic.content, SEQUENCE).map_err(m("BasicOCSPResponse"))?;
    let mut b = Reader::new(basic.content);
    let tbs = b.expect(SEQUENCE).map_err(m("tbsResponseData"))?;
    let sig_alg = algorithm(&mut b, "signatureAlgorithm")?;
    let signature = b.expect(BIT_STRING).map_err(m("signature"))?;
    let [0, signature @ ..] = signature.content else {
        return Err(VerifyError::OcspMalformed("signature"));
    };
    let mut certs = Vec::new();
    if let Some(c) = b.optional(0xa0).map_err(m("certs"))? {
        let seq = der::single(c.content, SEQUENCE).map_err(m("certs"))?;
        let mut cr = Reader::new(seq.content);
        while !cr.is_empty() {
            certs.push(cr.expect(SEQUENCE).map_err(m("certs"))?.whole);
            if certs.len() > 8 {
                return Err(VerifyError::OcspMalformed("more than 8 certificates"));
            }
        }
    }
    b.finish().map_err(m("BasicOCSPResponse"))?;

    let mut t = Reader::new(tbs.content);
    if let Some(v) = t.optional(0xa0).map_err(m("version"))? {
        if v.content != [INTEGER, 1, 0] {
            return Err(VerifyError::OcspMalformed("version"));
        }
    }
    let responder = match t.peek_tag() {
        Some(0xa1) => Responder::ByName(
            der::single(t.read().map_err(m("responderID"))?.content, SEQUENCE).map_err(m("responderID"))?.whole,
        ),
        Some(0xa2) => Responder::ByKey(
            der::single(t.read().map_err(m("responderID"))?.content, OCTET_STRING).map_err(m("responderID"))?.content,
        ),
        _ => return Err(VerifyError::OcspMalformed("responderID")),
    };
    let produced_at = time(&mut t, "producedAt")?;
    let list = t.expect(SEQUENCE).map_err(m("responses"))?;
    let mut responses = Vec::new();
    let mut lr = Reader::new(list.content);
    while !lr.is_empty() {
        if responses.len() >= 16 {
            return Err(VerifyError::OcspMalformed("more than 16 responses"));
        }
        responses.push(single_response(lr.expect(SEQUENCE).map_err(m("SingleResponse"))?.content)?);
    }
    let mut nonce = None;
    if let Some(ext) = t.optional(0xa1).map_err(m("responseExtensions"))? {
        let exts = der::single(ext.content, SEQUENCE).map_err(m("responseExtensions"))?;
        let mut er = Reader::new(exts.content);
        while !er.is_empty() {
            let e = er.expect(SEQUENCE).map_err(m("Extension"))?;
            let mut x = Reader::new(e.content);
            let id = x.expect(OID).map_err(m("Extension"))?;
            x.optional(der::BOOLEAN).map_err(m("Extension"))?;
            let value = x.expect(OCTET_STRING).map_err(m("Extension"))?;
            x.finish().map_err(m("Extension"))?;
            if id.content == OCSP_NONCE {
                if nonce.is_some() {
                    return Err(VerifyError::OcspMalformed("two nonces"));
                }
                // BankID puts the raw nonce bytes in extnValue; RFC 8954 wraps them in an OCTET
                // STRING. Both readings are tried in `check`.
                nonce = Some(value.content);
            }
        }
    }
    t.finish().map_err(m("tbsResponseData"))?;
    Ok(Parsed { tbs: tbs.whole, sig_alg, signature, responder, produced_at, responses, nonce, certs })
}

fn single_response(data: &[u8]) -> Result<Single<'_>, VerifyError> {
    let mut r = Reader::new(data);
    let id = r.expect(SEQUENCE).map_err(m("CertID"))?;
    let mut c = Reader::new(id.content);
    let hash_alg = algorithm(&mut c, "CertID hashAlgorithm")?;
    let name_hash = c.expect(OCTET_STRING).map_err(m("issuerNameHash"))?.content;
    let key_hash = c.expect(OCTET_STRING).map_err(m("issuerKeyHash"))?.content;
    let serial = c.expect(INTEGER).map_err(m("serialNumber"))?.content;
    c.finish().map_err(m("CertID"))?;
    let status = match r.read().map_err(m("certStatus"))? {
        s if s.tag == 0x80 && s.content.is_empty() => CertStatus::Good,
        s if s.tag == 0xa1 => CertStatus::Revoked,
        s if s.tag == 0x82 && s.content.is_empty() => CertStatus::Unknown,
        _ => return Err(VerifyError::OcspMalformed("certStatus")),
    };
    time(&mut r, "thisUpdate")?;
    r.optional(0xa0).map_err(m("nextUpdate"))?;
    r.optional(0xa1).map_err(m("singleExtensions"))?;
    r.finish().map_err(m("SingleResponse"))?;
    Ok(Single { hash_alg, name_hash, key_hash, serial, status })
}

fn has_ocsp_signing(cert: &X509Certificate<'_>) -> bool {
    cert.iter_extensions()
        .any(|e| matches!(e.parsed_extension(), ParsedExtension::ExtendedKeyUsage(eku) if eku.ocsp_signing))
}

/// Runs the OCSP checks in this order: CertID names the leaf, nonce bound to `signature_b64`,
/// responder authorized by the leaf's issuer, signature, status `good`.
pub(crate) fn check(
    parsed: &Parsed<'_>,
    leaf: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    signature_b64: &str,
    allow_sha1: bool,
) -> Result<(), VerifyError> {
    let single = parsed
        .responses
        .iter()
        .find(|s| {
            let hash = |d: &[u8]| match s.hash_alg {
                SHA1 => Some(sha1(d)),
                SHA256 => Some(ring::digest::digest(&ring::digest::SHA256, d).as_ref().to_vec()),
                _ => None,
            };
            s.serial == leaf.raw_serial()
                && hash(issuer.subject().as_raw()).as_deref() == Some(s.name_hash)
                && hash(&issuer.public_key().subject_public_key.data).as_deref() == Some(s.key_hash)
        })
        .ok_or(VerifyError::OcspCertIdMismatch)?;
    let nonce = parsed.nonce.ok_or(VerifyError::OcspNonceMissing)?;
    let expected = sha1(signature_b64.as_bytes());
    let wrapped = der::single(nonce, OCTET_STRING).ok().map(|o| o.content);
    if ![Some(nonce), wrapped].into_iter().flatten().any(|n| n.get(..20) == Some(&expected[..])) {
        return Err(VerifyError::OcspNonceMismatch);
    }
    // The responder: the issuer itself, or a certificate in the response.
    let matches = |c: &X509Certificate<'_>| match parsed.responder {
        Responder::ByName(name) => c.subject().as_raw() == name,
        Responder::ByKey(hash) => sha1(&c.public_key().subject_public_key.data) == hash,
    };
    let parsed_certs: Vec<X509Certificate<'_>> = parsed
        .certs
        .iter()
        .map(|d| parse_cert(d, 0).map_err(|_| VerifyError::OcspMalformed("a certificate in the response")))
        .collect::<Result<_, _>>()?;
    let responder = if matches(issuer) {
        issuer
    } else {
        let r =
            parsed_certs.iter().find(|c| matches(c)).ok_or(VerifyError::OcspResponder("no responder certificate"))?;
        crate::chain::check_issued_by(r, issuer, 0, true)
            .map_err(|_| VerifyError::OcspResponder("not issued by the leaf's issuer"))?;
        if !has_ocsp_signing(r) {
            return Err(VerifyError::OcspResponder("no OCSPSigning extended key usage"));
        }
        valid_at(r, parsed.produced_at, 0).map_err(|_| VerifyError::OcspResponder("not valid at producedAt"))?;
        r
    };
    let alg = SigAlg::from_oid(parsed.sig_alg).ok_or_else(|| VerifyError::UnsupportedAlgorithm {
        what: "OCSP signature algorithm",
        uri: oid_string(parsed.sig_alg),
    })?;
    if alg == SigAlg::RsaSha1 && !allow_sha1 {
        return Err(VerifyError::UnsupportedAlgorithm {
            what: "OCSP signature algorithm",
            uri: oid_string(parsed.sig_alg),
        });
    }
    if !verify_spki(responder.public_key(), alg, parsed.tbs, parsed.signature) {
        return Err(VerifyError::OcspSignatureInvalid);
    }

    // Only a response whose signature holds can say the status.
    if single.status != CertStatus::Good {
        return Err(VerifyError::OcspNotGood(single.status));
    }
    Ok(())
}

fn sha1(data: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec()
}

/// Dotted form of an OID's content octets (for error messages).
fn oid_string(content: &[u8]) -> String {
    let mut parts = Vec::new();
    let mut acc: u64 = 0;
    for (i, b) in content.iter().enumerate() {
        acc = (acc << 7) | u64::from(b & 0x7f);
        if b & 0x80 == 0 {
            if parts.is_empty() {
                let first = acc.min(80) / 40;
                parts.push(first.min(2));
                parts.push(acc - 40 * first.min(2));
            } else {
                parts.push(acc);
            }
            acc = 0;
        }
        if i > 32 {
            break;
        }
    }
    parts.iter().map(u64::to_string).collect::<Vec<_>>().join(".")
}
