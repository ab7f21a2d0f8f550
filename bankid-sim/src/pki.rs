//! The throwaway PKI: a server CA and certificate, an RP CA with client identities (PEM and
//! PKCS#12), a foreign CA's client for negative tests, and a simulated BankID signature hierarchy
//! that signs completion data.

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use p12_keystore::{Certificate as P12Cert, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose, SanType, SerialNumber,
};
use rcgen::{CustomExtension, DnValue, PKCS_RSA_SHA256, PKCS_RSA_SHA512};
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RsaKeyPair};
use sha2::{Digest, Sha256};

use crate::Error;

/// OID of the X.520 `name` attribute (BankID puts the RP's display name there).
pub(crate) const OID_NAME: &[u64] = &[2, 5, 4, 41];
/// OID of the X.520 `serialNumber` attribute.
pub(crate) const OID_SERIAL_NUMBER: &[u64] = &[2, 5, 4, 5];
/// OID of the X.520 `givenName` attribute.
pub(crate) const OID_GIVEN_NAME: &[u64] = &[2, 5, 4, 42];
/// OID of the X.520 `surname` attribute.
pub(crate) const OID_SURNAME: &[u64] = &[2, 5, 4, 4];

/// PBKDF2 iterations of the generated PKCS#12 files (BankID's own test file uses 2048).
const P12_ITERATIONS: u32 = 2048;

/// An RP client identity: certificate and private key as PEM, DER and PKCS#12.
#[derive(Clone)]
pub struct ClientIdentity {
    display_name: String,
    /// The subject as BankID writes it in `srvInfo/name` (`cn=...,name=...,serialNumber=...`).
    srv_name: String,
    cert_pem: String,
    key_pem: String,
    cert_der: Vec<u8>,
    key_der: Vec<u8>,
    p12: Vec<u8>,
    p12_password: String,
    fingerprint: [u8; 32],
}

impl ClientIdentity {
    /// The RP's display name (the certificate's `name` attribute; `srvInfo/displayName` in
    /// signatures).
    pub fn display_name(&self) -> &str {
        &self.display_name
    }

    /// The certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The private key, PEM (unencrypted PKCS#8, `BEGIN PRIVATE KEY`, ECDSA P-256).
    pub fn key_pem(&self) -> &str {
        &self.key_pem
    }

    /// The certificate followed by the key, PEM (one file for clients that want that).
    pub fn combined_pem(&self) -> String {
        format!("{}{}", self.cert_pem, self.key_pem)
    }

    /// The certificate, DER.
    pub fn cert_der(&self) -> &[u8] {
        &self.cert_der
    }

    /// The private key, PKCS#8 DER.
    pub fn key_der(&self) -> &[u8] {
        &self.key_der
    }

    /// PKCS#12 (PBES2 / PBKDF2 / AES-256-CBC, HMAC-SHA-256 MAC) with the leaf certificate and key.
    pub fn p12(&self) -> &[u8] {
        &self.p12
    }

    /// The password of [`p12`](Self::p12).
    pub fn p12_password(&self) -> &str {
        &self.p12_password
    }

    /// SHA-256 of the certificate DER: how the simulator identifies the RP.
    pub fn fingerprint(&self) -> [u8; 32] {
        self.fingerprint
    }
}

impl fmt::Debug for ClientIdentity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientIdentity")
            .field("display_name", &self.display_name)
            .field("fingerprint", &hex::encode(self.fingerprint))
            .field("key", &"[redacted]")
            .finish_non_exhaustive()
    }
}

/// The key type of the simulated users' signing certificates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum SignatureKeyType {
    /// RSA-2048, `rsa-sha256` XML signatures: what BankID issues and signs with.
    #[default]
    Rsa2048,
    /// ECDSA P-256, `ecdsa-sha256` XML signatures (`r || s`), for verifiers that want to test it.
    EcdsaP256,
}

/// A simulated user's signing key.
pub(crate) enum UserKey {
    /// The fixed RSA-2048 key (`keys/user.key.pem`).
    Rsa { key: KeyPair, signer: RsaKeyPair },
    /// A P-256 key generated at start.
    Ecdsa { key: KeyPair, signer: EcdsaKeyPair },
}

impl UserKey {
    pub(crate) fn key_pair(&self) -> &KeyPair {
        match self {
            Self::Rsa { key, .. } | Self::Ecdsa { key, .. } => key,
        }
    }
}

/// The simulated BankID signature hierarchy, shaped like BankID's: root -> bank CA -> customer
/// CA -> user certificates, all RSA (keys fixed, see `keys/README.md`), plus an "OCSP Signing"
/// responder certificate issued by the customer CA.
pub(crate) struct SigningPki {
    pub(crate) bank_ca_der: Vec<u8>,
    pub(crate) customer_ca: Certificate,
    /// The customer CA's key, signing with sha256WithRSA (user and responder certificates).
    pub(crate) customer_ca_key: KeyPair,
    /// One key for all simulated users; each completion gets a certificate for its person.
    pub(crate) user: UserKey,
    pub(crate) ocsp_cert_der: Vec<u8>,
    /// The responder key (sha256WithRSA).
    pub(crate) ocsp_signer: RsaKeyPair,
    /// The responder's subject name DER (`ResponderID byName`).
    pub(crate) ocsp_name: Vec<u8>,
    /// SHA-1 of the customer CA's subject name DER (`CertID.issuerNameHash`).
    pub(crate) issuer_name_hash: [u8; 20],
    /// SHA-1 of the customer CA's public key (`CertID.issuerKeyHash`).
    pub(crate) issuer_key_hash: [u8; 20],
    /// The user certificates issued so far, by (personal number, given name, surname): like a
    /// real BankID, a person signs every order with the same certificate (and issuing one costs
    /// an RSA-4096 signature). At most [`MAX_CACHED_LEAVES`]; emptied when full.
    pub(crate) leaves: std::sync::Mutex<std::collections::HashMap<(String, String, String), Leaf>>,
}

/// A user certificate (DER) and its serial number (the content octets of the DER INTEGER).
#[derive(Clone)]
pub(crate) struct Leaf {
    pub(crate) der: Vec<u8>,
    pub(crate) serial: Vec<u8>,
}

/// How many user certificates [`SigningPki::leaves`] keeps.
pub(crate) const MAX_CACHED_LEAVES: usize = 1024;

const ROOT_KEY: &str = include_str!("../keys/signature-root.key.pem");
const BANK_CA_KEY: &str = include_str!("../keys/bank-ca.key.pem");
const CUSTOMER_CA_KEY: &str = include_str!("../keys/customer-ca.key.pem");
const OCSP_KEY: &str = include_str!("../keys/ocsp-responder.key.pem");
const USER_KEY: &str = include_str!("../keys/user.key.pem");

/// Organization of the simulated bank.
pub(crate) const SIM_BANK: &str = "Testbank Sim AB (publ)";
/// `serialNumber` of the simulated bank's CAs (BankID's test banks use twelve ones).
const SIM_BANK_SERIAL: &str = "111111111111";

/// OID of `id-pkix-ocsp-nocheck`.
const OID_OCSP_NOCHECK: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 48, 1, 5];
/// OID of `certificatePolicies`.
const OID_CERT_POLICIES: &[u64] = &[2, 5, 29, 32];
/// OID of `authorityInfoAccess`.
const OID_AIA: &[u64] = &[1, 3, 6, 1, 5, 5, 7, 1, 1];

/// `certificatePolicies` with BankID's test policy 1.2.3.4.5 (as in the genuine test certificates).
pub(crate) fn policies_extension() -> CustomExtension {
    CustomExtension::from_oid_content(
        OID_CERT_POLICIES,
        vec![0x30, 0x08, 0x30, 0x06, 0x06, 0x04, 0x2a, 0x03, 0x04, 0x05],
    )
}

/// `authorityInfoAccess` with an OCSP URL (`id-ad-ocsp`), like BankID's user certificates.
pub(crate) fn aia_extension() -> CustomExtension {
    const URL: &[u8] = b"http://ocsp.bankid-sim.invalid/";
    let ad =
        crate::der::seq(&[&[0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x01], &crate::der::tlv(0x86, URL)]);
    CustomExtension::from_oid_content(OID_AIA, crate::der::seq(&[&ad]))
}

/// Parameters of a certificate of the signature hierarchy (valid 2020..2049, like BankID's
/// long-lived CAs; users' certificates narrow it).
fn hierarchy_params(dn: DistinguishedName) -> CertificateParams {
    let mut p = base_params(dn);
    p.not_before = rcgen::date_time_ymd(2020, 1, 1);
    p
}

fn hierarchy_ca(dn: DistinguishedName) -> CertificateParams {
    let mut p = hierarchy_params(dn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    p.custom_extensions = vec![policies_extension()];
    p
}

/// `serialNumber` as BankID encodes it (PrintableString).
fn serial_number(s: &str) -> Result<DnValue, Error> {
    s.try_into().map(DnValue::PrintableString).map_err(pki_err)
}

fn bank_dn(cn: &str, serial: &str) -> Result<DistinguishedName, Error> {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CountryName, "SE");
    dn.push(DnType::OrganizationName, SIM_BANK);
    dn.push(DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()), serial_number(serial)?);
    dn.push(DnType::CommonName, cn);
    Ok(dn)
}

fn rsa_key(pem: &str, alg: &'static rcgen::SignatureAlgorithm) -> Result<KeyPair, Error> {
    KeyPair::from_pkcs8_pem_and_sign_algo(pem, alg).map_err(pki_err)
}

fn rsa_signer(pem: &str) -> Result<RsaKeyPair, Error> {
    let der = rustls_pki_types::pem::PemObject::from_pem_slice(pem.as_bytes())
        .map(|k: rustls_pki_types::PrivatePkcs8KeyDer<'static>| k.secret_pkcs8_der().to_vec())
        .map_err(pki_err)?;
    RsaKeyPair::from_pkcs8(&der).map_err(|e| pki_err(e.to_string()))
}

impl SigningPki {
    /// Issues the hierarchy: root, bank CA, customer CA and OCSP responder certificates.
    /// Returns it with the root certificate.
    fn generate(kind: SignatureKeyType) -> Result<(Self, Certificate), Error> {
        let root_key = rsa_key(ROOT_KEY, &PKCS_RSA_SHA512)?;
        let mut root_dn = DistinguishedName::new();
        root_dn.push(DnType::OrganizationName, "bankid-sim");
        root_dn.push(DnType::OrganizationalUnitName, "BankID Member Banks CA");
        root_dn.push(DnType::CommonName, "Simulated BankID Root CA v1 Test");
        let root = hierarchy_ca(root_dn).self_signed(&root_key).map_err(pki_err)?;

        let bank_key = rsa_key(BANK_CA_KEY, &PKCS_RSA_SHA512)?;
        let bank_ca = hierarchy_ca(bank_dn("Testbank Sim CA v1 for BankID Test", SIM_BANK_SERIAL)?)
            .signed_by(&bank_key, &root, &root_key)
            .map_err(pki_err)?;

        let customer_key_512 = rsa_key(CUSTOMER_CA_KEY, &PKCS_RSA_SHA512)?;
        let mut cp = hierarchy_ca(bank_dn("Testbank Sim Customer CA1 v1 for BankID Test", SIM_BANK_SERIAL)?);
        cp.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let customer_ca = cp.signed_by(&customer_key_512, &bank_ca, &bank_key).map_err(pki_err)?;
        let customer_ca_key = rsa_key(CUSTOMER_CA_KEY, &PKCS_RSA_SHA256)?;

        let ocsp_key = rsa_key(OCSP_KEY, &PKCS_RSA_SHA256)?;
        let mut op =
            hierarchy_params(bank_dn("Testbank Sim Customer CA1 v1 for BankID Test OCSP Signing", "1111111111")?);
        op.key_usages = vec![KeyUsagePurpose::ContentCommitment];
        op.extended_key_usages = vec![ExtendedKeyUsagePurpose::OcspSigning];
        op.custom_extensions =
            vec![policies_extension(), CustomExtension::from_oid_content(OID_OCSP_NOCHECK, vec![0x05, 0x00])];
        let ocsp_cert = op.signed_by(&ocsp_key, &customer_ca, &customer_ca_key).map_err(pki_err)?;

        let user = match kind {
            SignatureKeyType::Rsa2048 => {
                UserKey::Rsa { key: rsa_key(USER_KEY, &PKCS_RSA_SHA256)?, signer: rsa_signer(USER_KEY)? }
            }
            SignatureKeyType::EcdsaP256 => {
                let key = KeyPair::generate().map_err(pki_err)?;
                let signer = EcdsaKeyPair::from_pkcs8(
                    &ECDSA_P256_SHA256_FIXED_SIGNING,
                    &key.serialize_der(),
                    &ring::rand::SystemRandom::new(),
                )
                .map_err(|e| pki_err(e.to_string()))?;
                UserKey::Ecdsa { key, signer }
            }
        };
        let issuer_name = crate::der::subject_of(customer_ca.der())
            .ok_or_else(|| pki_err("cannot read the customer CA's subject"))?;
        let ocsp_name = crate::der::subject_of(ocsp_cert.der())
            .ok_or_else(|| pki_err("cannot read the OCSP responder's subject"))?
            .to_vec();
        let signing = Self {
            bank_ca_der: bank_ca.der().to_vec(),
            user,
            ocsp_cert_der: ocsp_cert.der().to_vec(),
            ocsp_signer: rsa_signer(OCSP_KEY)?,
            ocsp_name,
            issuer_name_hash: sha1(issuer_name),
            issuer_key_hash: sha1(customer_ca_key.public_key_raw()),
            leaves: std::sync::Mutex::default(),
            customer_ca,
            customer_ca_key,
        };
        Ok((signing, root))
    }
}

/// The simulator's certificates and keys. Generated fresh at every start unless one is passed in
/// [`crate::SimConfig::pki`].
pub struct Pki {
    ca_pem: String,
    ca_der: Vec<u8>,
    server_cert_der: Vec<u8>,
    server_key_der: Vec<u8>,
    rp_ca_pem: String,
    rp_ca_der: Vec<u8>,
    identities: Vec<ClientIdentity>,
    foreign_ca_pem: String,
    foreign: ClientIdentity,
    signature_root_pem: String,
    pub(crate) signing: SigningPki,
}

impl fmt::Debug for Pki {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pki")
            .field("identities", &self.identities)
            .field("foreign", &self.foreign)
            .finish_non_exhaustive()
    }
}

fn pki_err(e: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
    Error::Pki(e.into())
}

fn dn(entries: &[(DnType, &str)]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for (t, v) in entries {
        dn.push(t.clone(), *v);
    }
    dn
}

fn base_params(dn: DistinguishedName) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn;
    p.not_before = rcgen::date_time_ymd(2024, 1, 1);
    p.not_after = rcgen::date_time_ymd(2049, 12, 31);
    p.use_authority_key_identifier_extension = true;
    p.serial_number = Some(random_serial());
    p
}

/// 16 random bytes, positive as a DER INTEGER.
pub(crate) fn random_serial() -> SerialNumber {
    let mut b = [0u8; 16];
    crate::signature::fill_random(&mut b);
    b[0] = (b[0] & 0x7f) | 0x01;
    SerialNumber::from_slice(&b)
}

fn ca_params(dn: DistinguishedName) -> CertificateParams {
    let mut p = base_params(dn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    p
}

fn self_signed_ca(name: DistinguishedName) -> Result<(Certificate, KeyPair), Error> {
    let key = KeyPair::generate().map_err(pki_err)?;
    let cert = ca_params(name).self_signed(&key).map_err(pki_err)?;
    Ok((cert, key))
}

fn client_identity(
    index: usize,
    org: &str,
    ca: &Certificate,
    ca_key: &KeyPair,
    password: &str,
) -> Result<ClientIdentity, Error> {
    let display_name = format!("Test RP {index} av bankid-sim");
    let cn = format!("bankid-sim RP {index}");
    let key = KeyPair::generate().map_err(pki_err)?;
    let mut p = base_params(dn(&[
        (DnType::CountryName, "SE"),
        (DnType::OrganizationName, org),
        (DnType::CustomDnType(OID_SERIAL_NUMBER.to_vec()), "5566304928"),
        (DnType::CustomDnType(OID_NAME.to_vec()), &display_name),
        (DnType::CommonName, &cn),
    ]));
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    let cert = p.signed_by(&key, ca, ca_key).map_err(pki_err)?;
    let cert_der = cert.der().to_vec();
    let key_der = key.serialize_der();
    let p12 = write_p12(&cn, &cert_der, &key_der, password)?;
    Ok(ClientIdentity {
        srv_name: format!("cn={cn},name={display_name},serialNumber=5566304928,o={org},c=SE"),
        display_name,
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
        fingerprint: Sha256::digest(&cert_der).into(),
        cert_der,
        key_der,
        p12,
        p12_password: password.to_owned(),
    })
}

fn write_p12(alias: &str, cert_der: &[u8], key_der: &[u8], password: &str) -> Result<Vec<u8>, Error> {
    let cert = P12Cert::from_der(cert_der).map_err(pki_err)?;
    let key = PrivateKey::from_der(key_der).map_err(pki_err)?;
    let key_id: Vec<u8> = Sha256::digest(cert_der)[..20].to_vec();
    let chain = PrivateKeyChain::new(key_id, key, [cert]);
    let mut ks = KeyStore::new();
    ks.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    ks.writer(password).encryption_iterations(P12_ITERATIONS).mac_iterations(P12_ITERATIONS).write().map_err(pki_err)
}

fn sha1(data: &[u8]) -> [u8; 20] {
    let d = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data);
    let mut out = [0u8; 20];
    out.copy_from_slice(d.as_ref());
    out
}

impl Pki {
    /// Generates a fresh PKI with `identities` RP client identities (at least one) whose
    /// PKCS#12 files use `p12_password`.
    pub fn generate(identities: usize, p12_password: &str) -> Result<Self, Error> {
        Self::generate_with(identities, p12_password, SignatureKeyType::default())
    }

    /// Like [`generate`](Self::generate), with the users' signing keys of `kind` (RSA-2048 like
    /// BankID by default; ECDSA P-256 as an option).
    pub fn generate_with(identities: usize, p12_password: &str, kind: SignatureKeyType) -> Result<Self, Error> {
        if identities == 0 {
            return Err(Error::NoClientIdentities);
        }
        // Server side.
        let (server_ca, server_ca_key) = self_signed_ca(dn(&[
            (DnType::CountryName, "SE"),
            (DnType::OrganizationName, "bankid-sim"),
            (DnType::OrganizationalUnitName, "Infrastructure CA"),
            (DnType::CommonName, "bankid-sim SSL Root CA"),
        ]))?;
        let server_key = KeyPair::generate().map_err(pki_err)?;
        let mut sp = base_params(dn(&[(DnType::OrganizationName, "bankid-sim"), (DnType::CommonName, "localhost")]));
        sp.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().map_err(pki_err)?),
            SanType::IpAddress([127, 0, 0, 1].into()),
            SanType::IpAddress(std::net::Ipv6Addr::LOCALHOST.into()),
        ];
        sp.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        sp.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server_cert = sp.signed_by(&server_key, &server_ca, &server_ca_key).map_err(pki_err)?;

        // RP side.
        let (rp_ca, rp_ca_key) = self_signed_ca(dn(&[
            (DnType::CountryName, "SE"),
            (DnType::OrganizationName, "bankid-sim"),
            (DnType::CommonName, "bankid-sim RP CA v1 for BankID Test"),
        ]))?;
        let ids = (1..=identities)
            .map(|i| client_identity(i, "Testbank Sim AB (publ)", &rp_ca, &rp_ca_key, p12_password))
            .collect::<Result<Vec<_>, _>>()?;
        let (foreign_ca, foreign_ca_key) = self_signed_ca(dn(&[
            (DnType::OrganizationName, "Elsewhere"),
            (DnType::CommonName, "Foreign RP CA (not trusted by bankid-sim)"),
        ]))?;
        let foreign = client_identity(0, "Elsewhere AB", &foreign_ca, &foreign_ca_key, p12_password)?;

        // Signature hierarchy.
        let (signing, root) = SigningPki::generate(kind)?;

        Ok(Self {
            ca_pem: server_ca.pem(),
            ca_der: server_ca.der().to_vec(),
            server_cert_der: server_cert.der().to_vec(),
            server_key_der: server_key.serialize_der(),
            rp_ca_pem: rp_ca.pem(),
            rp_ca_der: rp_ca.der().to_vec(),
            identities: ids,
            foreign_ca_pem: foreign_ca.pem(),
            foreign,
            signature_root_pem: root.pem(),
            signing,
        })
    }

    /// The root certificate a client must trust for the simulator's server certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// [`ca_pem`](Self::ca_pem) as DER.
    pub fn ca_der(&self) -> &[u8] {
        &self.ca_der
    }

    /// The RP CA: the only issuer whose client certificates the simulator accepts (PEM).
    pub fn rp_ca_pem(&self) -> &str {
        &self.rp_ca_pem
    }

    /// The `i`-th RP client identity (0-based), if there is one.
    pub fn client_identity(&self, i: usize) -> Option<&ClientIdentity> {
        self.identities.get(i)
    }

    /// All RP client identities.
    pub fn client_identities(&self) -> &[ClientIdentity] {
        &self.identities
    }

    /// A client identity from a CA the simulator does not trust (its handshake must fail).
    pub fn foreign_identity(&self) -> &ClientIdentity {
        &self.foreign
    }

    /// The foreign CA (PEM), in case a test wants to trust it somewhere else.
    pub fn foreign_ca_pem(&self) -> &str {
        &self.foreign_ca_pem
    }

    /// The root of the simulated signature hierarchy (the issuer chain of the user certificates in
    /// completion signatures), PEM.
    pub fn signature_root_pem(&self) -> &str {
        &self.signature_root_pem
    }

    pub(crate) fn server_cert_der(&self) -> &[u8] {
        &self.server_cert_der
    }

    pub(crate) fn server_key_der(&self) -> &[u8] {
        &self.server_key_der
    }

    pub(crate) fn rp_ca_der(&self) -> &[u8] {
        &self.rp_ca_der
    }

    /// `srvInfo/name` for the RP with this display name: its certificate subject as BankID writes
    /// it (`cn=...,name=...,serialNumber=...,o=...,c=SE`).
    pub(crate) fn srv_info_name(&self, display_name: &str) -> Option<&str> {
        self.identities.iter().find(|i| i.display_name == display_name).map(|i| i.srv_name.as_str())
    }

    /// The display name of the RP with this certificate fingerprint.
    pub(crate) fn rp_display_name(&self, fingerprint: &[u8; 32]) -> Option<&str> {
        self.identities.iter().find(|i| &i.fingerprint == fingerprint).map(ClientIdentity::display_name)
    }

    /// Writes every file a client needs to `dir` (created if missing) and returns their paths:
    /// `ca.pem` (trust this), `rp-ca.pem`, `rp-N.cert.pem`, `rp-N.key.pem`, `rp-N.pem` (both),
    /// `rp-N.p12`, the same for `foreign-rp`, `signature-root.pem` and a `README.txt`.
    pub fn write_to(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        fs::create_dir_all(dir)?;
        let mut written = Vec::new();
        let mut put = |name: &str, data: &[u8], secret: bool| -> io::Result<()> {
            let path = dir.join(name);
            write_file(&path, data, secret)?;
            written.push(path);
            Ok(())
        };
        put("ca.pem", self.ca_pem.as_bytes(), false)?;
        put("rp-ca.pem", self.rp_ca_pem.as_bytes(), false)?;
        let named = self
            .identities
            .iter()
            .enumerate()
            .map(|(i, id)| (format!("rp-{}", i + 1), id))
            .chain([("foreign-rp".to_owned(), &self.foreign)]);
        for (stem, id) in named {
            put(&format!("{stem}.cert.pem"), id.cert_pem.as_bytes(), false)?;
            put(&format!("{stem}.key.pem"), id.key_pem.as_bytes(), true)?;
            put(&format!("{stem}.pem"), id.combined_pem().as_bytes(), true)?;
            put(&format!("{stem}.p12"), &id.p12, true)?;
        }
        put("signature-root.pem", self.signature_root_pem.as_bytes(), false)?;
        let readme = format!(
            "bankid-sim throwaway PKI\n\n\
             ca.pem              trust this (and only this) for the simulator's server certificate\n\
             rp-N.cert.pem/.key.pem, rp-N.pem, rp-N.p12\n\
             \x20                   RP client identities (PKCS#12 password: {})\n\
             foreign-rp.*        a client from a CA the simulator does not trust (handshake fails)\n\
             rp-ca.pem           the RP CA the simulator trusts for client certificates\n\
             signature-root.pem  root of the simulated BankID signature hierarchy\n",
            self.identities.first().map_or("", |i| i.p12_password.as_str())
        );
        put("README.txt", readme.as_bytes(), false)?;
        Ok(written)
    }
}

fn write_file(path: &Path, data: &[u8], secret: bool) -> io::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    io::Write::write_all(&mut opts.open(path)?, data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_and_writes() {
        let pki = Pki::generate(2, "pw").expect("pki");
        assert_eq!(pki.client_identities().len(), 2);
        assert!(pki.ca_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        let id = pki.client_identity(0).expect("id");
        assert!(id.key_pem().contains("BEGIN PRIVATE KEY"));
        assert_eq!(pki.rp_display_name(&id.fingerprint()), Some(id.display_name()));
        assert_ne!(id.fingerprint(), pki.client_identity(1).expect("id").fingerprint());
        // The PKCS#12 reads back with its password.
        let ks = KeyStore::from_pkcs12(id.p12(), "pw", p12_keystore::Pkcs12ImportPolicy::Strict).expect("p12 reads");
        let (_, chain) = ks.private_key_chain().expect("key chain");
        assert_eq!(chain.certs()[0].as_der(), id.cert_der());
        assert_eq!(chain.key().as_der(), id.key_der());
        assert!(KeyStore::from_pkcs12(id.p12(), "wrong", p12_keystore::Pkcs12ImportPolicy::Strict).is_err());

        let dir = std::env::temp_dir().join(format!("bankid-sim-pki-test-{}", std::process::id()));
        let files = pki.write_to(&dir).expect("write");
        assert!(files.iter().any(|f| f.ends_with("rp-2.p12")));
        assert!(files.iter().all(|f| f.exists()));
        let _ = fs::remove_dir_all(&dir);
        assert!(matches!(Pki::generate(0, "pw"), Err(Error::NoClientIdentities)));
    }
}
