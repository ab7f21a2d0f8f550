//! TLS material: the BankID server roots, the relying party's client identity and, behind the
//! `rustls` feature, the one [`rustls::ClientConfig`] that the transports share.
//!
//! The BankID RP API is served over mutual TLS. The client trusts exactly one root (the BankID
//! "SSL Root CA" of the chosen environment, see [`Roots`]) and presents the relying party's
//! certificate and private key (see [`Identity`]).
//!
//! Parsing bytes is not I/O: every loader takes bytes, and the `*_file` helpers only read the
//! file and hand the bytes on.
//!
//! ```
//! use bankid_core::tls::{Identity, Roots};
//!
//! let roots = Roots::test();
//! let identity = Identity::test();
//! # #[cfg(feature = "rustls")]
//! let config = bankid_core::tls::client_config(&roots, Some(&identity))?;
//! # Ok::<(), bankid_core::tls::IdentityError>(())
//! ```

use std::fmt;
use std::path::{Path, PathBuf};
#[cfg(feature = "rustls")]
use std::sync::Arc;

use p12_keystore::Pkcs12Archive;
use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use x509_parser::certificate::X509Certificate;

/// The production server root, `CN=BankID SSL Root CA v1` (valid to 2034-12-31).
const PRODUCTION_ROOT_PEM: &[u8] = include_bytes!("../certs/appapi2.bankid.com.pem");
/// The test server root, `CN=Test BankID SSL Root CA v1 Test` (valid to 2034-12-31).
const TEST_ROOT_PEM: &[u8] = include_bytes!("../certs/appapi2.test.bankid.com.pem");
/// Certificate of the public test RP identity "FP Testcert 5" (credential B).
const TEST_IDENTITY_CERT_PEM: &[u8] = include_bytes!("../certs/FPTestcert5_20240610_cert.pem");
/// Unencrypted PKCS#8 key of the public test RP identity (credential B).
const TEST_IDENTITY_KEY_PEM: &[u8] = include_bytes!("../certs/FPTestcert5_20240610_key.pem");
/// `notAfter` of the test RP identity: 2029-05-28T21:59:59Z (checked against the file in a test).
const TEST_IDENTITY_NOT_AFTER: i64 = 1_874_699_999;

/// Returned by [`Identity::certificate`] for an identity without certificates, which the
/// constructors never produce (they fail with [`IdentityError::NoCertificate`] instead).
static EMPTY_CERTIFICATE: CertificateDer<'static> = CertificateDer::from_slice(&[]);

/// An error loading TLS material: roots, certificates, private keys, PKCS#12 files.
///
/// Messages never contain key material or passwords.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IdentityError {
    /// The password does not decrypt the PKCS#12 file or the encrypted private key (or the
    /// file was altered).
    #[error("wrong password")]
    WrongPassword,
    /// The private key is encrypted and no password was given.
    #[error("the private key is encrypted and no password was given")]
    PasswordRequired,
    /// The input holds no certificate.
    #[error("no certificate found")]
    NoCertificate,
    /// The input holds no private key.
    #[error("no private key found")]
    NoPrivateKey,
    /// No given certificate holds the public key of the given private key.
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    /// The private key is malformed, of an unsupported type, or encrypted with an unsupported
    /// scheme.
    #[error("unsupported private key: {0}")]
    UnsupportedKey(String),
    /// The encrypted private key asks its key-derivation function (PBKDF2 or scrypt) for more
    /// work or memory than this crate allows. Nothing in proportion to the parameter was
    /// allocated or computed.
    ///
    /// The caps (see [`Identity::from_pem`]) admit every key that OpenSSL, RustCrypto's `pkcs8`
    /// and BankID's own test credentials write; a file beyond them is crafted, not merely
    /// strong. Re-encrypt such a key with `openssl pkcs8 -topk8 -v2 aes-256-cbc`.
    #[error("the encrypted private key's {parameter} is {value}, above the limit of {limit}")]
    KdfLimitExceeded {
        /// The parameter, such as `PBKDF2 iteration count`, `scrypt N`, `scrypt r`, `scrypt p`
        /// or `scrypt memory (128*N*r bytes)`.
        parameter: &'static str,
        /// The value the key file asks for.
        value: u64,
        /// The largest value accepted.
        limit: u64,
    },
    /// The PEM text is malformed.
    #[error("invalid PEM: {0}")]
    InvalidPem(String),
    /// The PKCS#12 (`.p12`, `.pfx`) data is malformed or uses an unsupported algorithm.
    #[error("invalid PKCS#12 data: {0}")]
    InvalidPkcs12(String),
    /// A certificate is not a well-formed X.509 certificate.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// A file could not be read.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file that could not be read.
        path: PathBuf,
        /// Why it could not be read.
        #[source]
        source: std::io::Error,
    },
    /// rustls refused the configuration.
    #[cfg(feature = "rustls")]
    #[error("cannot build the TLS configuration")]
    Tls(#[source] rustls::Error),
}

/// Trust anchors for the BankID API server.
///
/// Only these roots are trusted, never the webpki or system roots: BankID's server
/// certificates chain to BankID's own "SSL Root CA".
#[derive(Clone)]
pub struct Roots {
    certs: Vec<CertificateDer<'static>>,
}

impl Roots {
    /// The production root `CN=BankID SSL Root CA v1` for `https://appapi2.bankid.com/`
    /// (embedded).
    pub fn production() -> Self {
        Self::embedded(PRODUCTION_ROOT_PEM)
    }

    /// The test root `CN=Test BankID SSL Root CA v1 Test` for `https://appapi2.test.bankid.com/`
    /// (embedded).
    pub fn test() -> Self {
        Self::embedded(TEST_ROOT_PEM)
    }

    /// Parses one embedded PEM constant. The constants are checked by unit tests, so nothing
    /// is dropped here in practice.
    fn embedded(pem: &[u8]) -> Self {
        Self { certs: CertificateDer::pem_slice_iter(pem).filter_map(Result::ok).collect() }
    }

    /// Roots from PEM text holding one or more `CERTIFICATE` blocks (text between blocks is
    /// ignored).
    ///
    /// # Errors
    /// [`IdentityError::NoCertificate`] if there is no certificate block,
    /// [`IdentityError::InvalidPem`] or [`IdentityError::InvalidCertificate`] if one is malformed.
    pub fn from_pem(pem: &[u8]) -> Result<Self, IdentityError> {
        let certs = parse_certificates(pem)?;
        if certs.is_empty() {
            return Err(IdentityError::NoCertificate);
        }
        Ok(Self { certs })
    }

    /// Reads a PEM file and calls [`Roots::from_pem`].
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file cannot be read, else as [`Roots::from_pem`].
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self, IdentityError> {
        Self::from_pem(&read_file(path.as_ref())?)
    }

    /// A single root from its DER encoding.
    ///
    /// # Errors
    /// [`IdentityError::InvalidCertificate`] if `der` is not an X.509 certificate.
    pub fn from_der(der: impl Into<Vec<u8>>) -> Result<Self, IdentityError> {
        let cert = CertificateDer::from(der.into());
        parse_certificate(&cert)?;
        Ok(Self { certs: vec![cert] })
    }

    /// The trusted certificates, DER-encoded.
    pub fn certificates(&self) -> &[CertificateDer<'static>] {
        &self.certs
    }
}

impl fmt::Debug for Roots {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let subjects: Vec<String> = self
            .certs
            .iter()
            .map(|cert| match parse_certificate(cert) {
                Ok(parsed) => parsed.subject().to_string(),
                Err(_) => "<unparsable>".to_owned(),
            })
            .collect();
        f.debug_struct("Roots").field("count", &self.certs.len()).field("subjects", &subjects).finish()
    }
}

/// A relying party's client identity: its certificate chain and private key.
///
/// Every constructor checks that the certificates are X.509 and, with the `rustls` feature,
/// that the private key can sign with *ring* and matches the leaf certificate
/// ([`IdentityError::KeyMismatch`] otherwise). Without the `rustls` feature the key is not
/// compared with the certificate.
///
/// `Debug` shows the leaf's subject, issuer and expiry, never key material.
pub struct Identity {
    /// The leaf first, then its issuers; never empty once constructed.
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    /// `notAfter` of the leaf, seconds since the Unix epoch.
    not_after: i64,
}

impl Identity {
    /// An identity from DER certificates and a private key (PKCS#8, PKCS#1 or SEC1).
    ///
    /// `certificates` holds the leaf and optionally its issuers. With the `rustls` feature the
    /// leaf is the certificate that matches `key`, wherever it is in the list; without it the
    /// first certificate is the leaf. The chain is the leaf followed by its issuers as found by
    /// name among `certificates`; certificates off that path are dropped.
    ///
    /// # Errors
    /// [`IdentityError::NoCertificate`] if `certificates` is empty,
    /// [`IdentityError::InvalidCertificate`] if one is malformed,
    /// [`IdentityError::UnsupportedKey`] if the key cannot be used,
    /// [`IdentityError::KeyMismatch`] if no certificate matches the key.
    pub fn new(certificates: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> Result<Self, IdentityError> {
        if certificates.is_empty() {
            return Err(IdentityError::NoCertificate);
        }
        let leaf = leaf_index(&certificates, &key)?;
        let (order, not_after) = {
            let parsed = certificates.iter().map(parse_certificate).collect::<Result<Vec<_>, _>>()?;
            let not_after = parsed.get(leaf).ok_or(IdentityError::NoCertificate)?.validity().not_after.timestamp();
            (chain_order(&parsed, leaf), not_after)
        };
        let mut slots: Vec<Option<CertificateDer<'static>>> = certificates.into_iter().map(Some).collect();
        let chain = order.into_iter().filter_map(|i| slots.get_mut(i).and_then(Option::take)).collect();
        Ok(Self { chain, key, not_after })
    }

    /// An identity from a PEM certificate file's contents and a PEM private key's contents.
    ///
    /// `cert_pem` holds one or more `CERTIFICATE` blocks. `key_pem` holds a `PRIVATE KEY`,
    /// `RSA PRIVATE KEY` or `EC PRIVATE KEY` block, or an `ENCRYPTED PRIVATE KEY` block
    /// (PKCS#8 with PBES2) that `password` decrypts. Text outside the blocks (such as OpenSSL's
    /// `Bag Attributes`) is ignored. A password given for an unencrypted key is ignored.
    ///
    /// # Key-derivation limits
    /// The key file chooses the work its password costs, so a crafted file could ask for
    /// terabytes of memory or hours of CPU. Before deriving anything, an encrypted key's
    /// parameters are checked against these caps:
    ///
    /// - PBKDF2 iteration count: 1 to 10,000,000 (2,000,000 with HMAC-SHA-384 or -512, whose
    ///   iterations cost about 5 times more). RFC 8018 §4.2 calls 10,000,000 appropriate "for
    ///   especially critical keys"; OpenSSL and BankID's test credentials use 2,048, OWASP
    ///   advises 600,000 (HMAC-SHA-256) and 210,000 (HMAC-SHA-512). Either cap costs about a
    ///   second of CPU.
    /// - scrypt N: a power of two from 2 to 65,536 (2^16). OpenSSL and RustCrypto write 2^14,
    ///   and OpenSSL writes and reads no more than 2^14 at r = 8 (its 32 MiB limit).
    /// - scrypt r: 1 to 32 (OpenSSL and RustCrypto write 8).
    /// - scrypt p: 1 to 4 (OpenSSL and RustCrypto write 1; each unit repeats the whole work).
    /// - scrypt memory, 128 * N * r bytes: at most 64 MiB, twice OpenSSL's limit. At all caps
    ///   (N = 2^16, r = 8, p = 4) scrypt takes about half a second.
    ///
    /// A key beyond a cap is refused with [`IdentityError::KdfLimitExceeded`] (which names the
    /// parameter and the cap) before any allocation or work in proportion to it; a zero or
    /// non-power-of-two parameter is [`IdentityError::UnsupportedKey`].
    ///
    /// # Errors
    /// [`IdentityError::PasswordRequired`] if the key is encrypted and `password` is `None`,
    /// [`IdentityError::WrongPassword`] if it does not decrypt the key,
    /// [`IdentityError::KdfLimitExceeded`] if its key derivation is beyond the caps above,
    /// otherwise as [`Identity::new`], plus [`IdentityError::NoPrivateKey`] and
    /// [`IdentityError::InvalidPem`].
    pub fn from_pem(cert_pem: &[u8], key_pem: &[u8], password: Option<&str>) -> Result<Self, IdentityError> {
        let certificates = parse_certificates(cert_pem)?;
        let key = parse_private_key(key_pem, password)?;
        Self::new(certificates, key)
    }

    /// An identity from one PEM document holding both the certificate(s) and the private key,
    /// such as the output of `openssl pkcs12 -in rp.p12` (the key may be encrypted).
    ///
    /// # Errors
    /// As [`Identity::from_pem`].
    pub fn from_pem_bundle(pem: &[u8], password: Option<&str>) -> Result<Self, IdentityError> {
        Self::from_pem(pem, pem, password)
    }

    /// Reads the two files and calls [`Identity::from_pem`]. For a single PEM file holding both
    /// certificate and key, pass the same path twice.
    ///
    /// # Errors
    /// [`IdentityError::Io`] if a file cannot be read, else as [`Identity::from_pem`].
    pub fn from_pem_files(
        cert: impl AsRef<Path>,
        key: impl AsRef<Path>,
        password: Option<&str>,
    ) -> Result<Self, IdentityError> {
        let cert_pem = read_file(cert.as_ref())?;
        let key_pem = read_file(key.as_ref())?;
        Self::from_pem(&cert_pem, &key_pem, password)
    }

    /// An identity from PKCS#12 (`.p12`, `.pfx`) data, modern (PBES2 with AES, HMAC-SHA-256
    /// MAC) or legacy (RC2-40 and 3DES, HMAC-SHA-1 MAC) alike.
    ///
    /// The private key is the one whose local key ID a certificate carries (else the first);
    /// that certificate comes first when the leaf is chosen (see [`Identity::new`]).
    ///
    /// Key derivation is capped before it runs: PBKDF2 and the MAC at 1,000,000 iterations (by
    /// p12-keystore), scrypt as for [`Identity::from_pem`].
    ///
    /// # Errors
    /// [`IdentityError::WrongPassword`] if the MAC or the decryption fails,
    /// [`IdentityError::KdfLimitExceeded`] if a scrypt parameter is beyond its cap,
    /// [`IdentityError::NoPrivateKey`] if the file holds certificates only,
    /// [`IdentityError::InvalidPkcs12`] if the file is malformed, otherwise as [`Identity::new`].
    pub fn from_pkcs12(der: &[u8], password: &str) -> Result<Self, IdentityError> {
        check_pkcs12_scrypt_limits(der)?;
        let Pkcs12Archive { keys, certs, .. } = Pkcs12Archive::from_pkcs12(der, password).map_err(pkcs12_error)?;
        let claimed = |id: &[u8]| certs.iter().any(|cert| cert.local_key_id.as_deref() == Some(id));
        let key = keys
            .iter()
            .find(|key| key.local_key_id.as_ref().is_some_and(|id| claimed(id.as_ref())))
            .or_else(|| keys.first())
            .ok_or(IdentityError::NoPrivateKey)?;
        let key_id = key.local_key_id.as_ref().map(AsRef::<[u8]>::as_ref);
        let (mut certificates, others): (Vec<_>, Vec<_>) =
            certs.iter().partition(|cert| key_id.is_some() && cert.local_key_id.as_deref() == key_id);
        certificates.extend(others);
        Self::new(
            certificates.into_iter().map(|bag| CertificateDer::from(bag.cert.as_der().to_vec())).collect(),
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.key.as_der().to_vec())),
        )
    }

    /// Reads the file and calls [`Identity::from_pkcs12`].
    ///
    /// # Errors
    /// [`IdentityError::Io`] if the file cannot be read, else as [`Identity::from_pkcs12`].
    pub fn from_pkcs12_file(path: impl AsRef<Path>, password: &str) -> Result<Self, IdentityError> {
        Self::from_pkcs12(&read_file(path.as_ref())?, password)
    }

    /// The public BankID test RP identity "FP Testcert 5" (credential B: issuer
    /// `Testbank A RP CA v1 for BankID Test`, valid to 2029-05-28), embedded.
    ///
    /// Accepted by the BankID test environment only. Its password-protected forms ship with
    /// BankID's documentation (password `qwerty123`).
    pub fn test() -> Self {
        // Parsed from embedded constants; a unit test checks that this equals the checked
        // `Identity::from_pem` of the same files, so the fallbacks are never taken.
        let chain = CertificateDer::pem_slice_iter(TEST_IDENTITY_CERT_PEM).filter_map(Result::ok).collect();
        let key = PrivateKeyDer::from_pem_slice(TEST_IDENTITY_KEY_PEM)
            .unwrap_or_else(|_| PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(Vec::new())));
        Self { chain, key, not_after: TEST_IDENTITY_NOT_AFTER }
    }

    /// The leaf (end-entity) certificate.
    pub fn certificate(&self) -> &CertificateDer<'static> {
        self.chain.first().unwrap_or(&EMPTY_CERTIFICATE)
    }

    /// The leaf followed by its issuers.
    pub fn certificate_chain(&self) -> &[CertificateDer<'static>] {
        &self.chain
    }

    /// The private key (use [`PrivateKeyDer::clone_key`] for an owned copy).
    pub fn private_key(&self) -> &PrivateKeyDer<'static> {
        &self.key
    }

    /// The private key as PEM (`PRIVATE KEY`, `RSA PRIVATE KEY` or `EC PRIVATE KEY`), for
    /// HTTP clients that take keys only in that form (ureq 3). Keep it in memory only.
    ///
    /// # Errors
    /// [`IdentityError::UnsupportedKey`] for a key type rustls does not name.
    pub fn private_key_pem(&self) -> Result<String, IdentityError> {
        use base64::Engine as _;
        let label = match &self.key {
            PrivateKeyDer::Pkcs8(_) => "PRIVATE KEY",
            PrivateKeyDer::Pkcs1(_) => "RSA PRIVATE KEY",
            PrivateKeyDer::Sec1(_) => "EC PRIVATE KEY",
            _ => return Err(IdentityError::UnsupportedKey("unknown private key type".to_owned())),
        };
        let base64 = base64::engine::general_purpose::STANDARD.encode(self.key.secret_der());
        let mut pem = format!("-----BEGIN {label}-----\n");
        for line in base64.as_bytes().chunks(64) {
            pem.extend(line.iter().map(|&b| char::from(b)));
            pem.push('\n');
        }
        pem.push_str(&format!("-----END {label}-----\n"));
        Ok(pem)
    }

    /// The leaf certificate's `notAfter`, in seconds since the Unix epoch.
    pub fn not_after_unix(&self) -> i64 {
        self.not_after
    }
}

impl Clone for Identity {
    fn clone(&self) -> Self {
        Self { chain: self.chain.clone(), key: self.key.clone_key(), not_after: self.not_after }
    }
}

impl fmt::Debug for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (subject, issuer) = match parse_certificate(self.certificate()) {
            Ok(leaf) => (leaf.subject().to_string(), leaf.issuer().to_string()),
            Err(_) => ("<unparsable>".to_owned(), "<unparsable>".to_owned()),
        };
        f.debug_struct("Identity")
            .field("subject", &subject)
            .field("issuer", &issuer)
            .field("not_after_unix", &self.not_after)
            .field("chain_len", &self.chain.len())
            .field("private_key", &format_args!("[redacted]"))
            .finish()
    }
}

/// A rustls client configuration that trusts exactly `roots` (never the webpki or system
/// roots), speaks TLS 1.3 and 1.2, presents `identity` for client authentication (if given),
/// and uses *ring* as its explicit crypto provider (no process-default provider is needed or
/// consulted).
///
/// No ALPN protocols are set; a transport that wants them clones the configuration.
///
/// # Errors
/// [`IdentityError::NoCertificate`] if `roots` is empty,
/// [`IdentityError::InvalidCertificate`] if a root cannot be a trust anchor,
/// [`IdentityError::KeyMismatch`] or [`IdentityError::Tls`] if rustls rejects the identity.
#[cfg(feature = "rustls")]
pub fn client_config(roots: &Roots, identity: Option<&Identity>) -> Result<Arc<rustls::ClientConfig>, IdentityError> {
    if roots.certs.is_empty() {
        return Err(IdentityError::NoCertificate);
    }
    let mut store = rustls::RootCertStore::empty();
    for root in &roots.certs {
        store
            .add(root.clone())
            .map_err(|err| IdentityError::InvalidCertificate(format!("not usable as a trust anchor: {err}")))?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(IdentityError::Tls)?
        .with_root_certificates(store);
    let config = match identity {
        Some(identity) => builder.with_client_auth_cert(identity.chain.clone(), identity.key.clone_key()).map_err(
            |err| match err {
                rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => IdentityError::KeyMismatch,
                other => IdentityError::Tls(other),
            },
        )?,
        None => builder.with_no_client_auth(),
    };
    Ok(Arc::new(config))
}

/// Reads a file, keeping its path in the error.
fn read_file(path: &Path) -> Result<Vec<u8>, IdentityError> {
    std::fs::read(path).map_err(|source| IdentityError::Io { path: path.to_owned(), source })
}

/// Parses one certificate, requiring well-formed X.509 DER without trailing bytes.
fn parse_certificate<'a>(cert: &'a CertificateDer<'_>) -> Result<X509Certificate<'a>, IdentityError> {
    match x509_parser::parse_x509_certificate(cert.as_ref()) {
        Ok(([], parsed)) => Ok(parsed),
        Ok(_) => Err(IdentityError::InvalidCertificate("trailing data after the certificate".to_owned())),
        Err(err) => Err(IdentityError::InvalidCertificate(err.to_string())),
    }
}

/// All `CERTIFICATE` blocks of a PEM text, each checked to be X.509. Other blocks and text
/// between blocks are skipped.
fn parse_certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, IdentityError> {
    let certs = CertificateDer::pem_slice_iter(pem).collect::<Result<Vec<_>, _>>().map_err(invalid_pem)?;
    for cert in &certs {
        parse_certificate(cert)?;
    }
    Ok(certs)
}

/// The first private key of a PEM text: plain PKCS#8, PKCS#1 or SEC1, or encrypted PKCS#8.
fn parse_private_key(pem: &[u8], password: Option<&str>) -> Result<PrivateKeyDer<'static>, IdentityError> {
    // OpenSSL's traditional encryption puts headers inside the block, which the PEM parser
    // would report as bad base64; name the problem instead.
    if pem.windows(PROC_TYPE_ENCRYPTED.len()).any(|window| window == PROC_TYPE_ENCRYPTED) {
        return Err(IdentityError::UnsupportedKey(
            "traditional OpenSSL key encryption (Proc-Type: 4,ENCRYPTED); \
             convert the key to PKCS#8 with `openssl pkcs8 -topk8`"
                .to_owned(),
        ));
    }
    match PrivateKeyDer::from_pem_slice(pem) {
        Ok(key) => return Ok(key),
        Err(pem::Error::NoItemsFound) => {}
        Err(err) => return Err(invalid_pem(err)),
    }
    let encrypted = encrypted_private_key(pem)?.ok_or(IdentityError::NoPrivateKey)?;
    let password = password.ok_or(IdentityError::PasswordRequired)?;
    decrypt_private_key(&encrypted, password)
}

const PROC_TYPE_ENCRYPTED: &[u8] = b"Proc-Type: 4,ENCRYPTED";
const ENCRYPTED_KEY_BEGIN: &[u8] = b"-----BEGIN ENCRYPTED PRIVATE KEY-----";
const ENCRYPTED_KEY_END: &[u8] = b"-----END ENCRYPTED PRIVATE KEY-----";

/// The DER of the first `ENCRYPTED PRIVATE KEY` block, which `rustls-pki-types` does not
/// recognise.
fn encrypted_private_key(pem: &[u8]) -> Result<Option<Vec<u8>>, IdentityError> {
    use base64::Engine as _;

    let mut body: Option<Vec<u8>> = None;
    for line in pem.split(|byte| *byte == b'\n' || *byte == b'\r') {
        let line = line.trim_ascii();
        match body.as_mut() {
            None if line == ENCRYPTED_KEY_BEGIN => body = Some(Vec::new()),
            None => {}
            Some(body) if line == ENCRYPTED_KEY_END => {
                return base64::engine::general_purpose::STANDARD.decode(body).map(Some).map_err(|_| {
                    IdentityError::InvalidPem("bad base64 in the ENCRYPTED PRIVATE KEY block".to_owned())
                });
            }
            Some(body) => body.extend_from_slice(line),
        }
    }
    match body {
        Some(_) => Err(IdentityError::InvalidPem("the ENCRYPTED PRIVATE KEY block has no end line".to_owned())),
        None => Ok(None),
    }
}

/// Decrypts a PKCS#8 `EncryptedPrivateKeyInfo` (PBES2), after checking its key derivation
/// against the caps.
fn decrypt_private_key(der: &[u8], password: &str) -> Result<PrivateKeyDer<'static>, IdentityError> {
    let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
        .map_err(|err| IdentityError::UnsupportedKey(format!("cannot read the encrypted private key: {err}")))?;
    check_kdf_limits(&info.encryption_algorithm)?;
    let document = info.decrypt(password).map_err(|err| match err {
        // A wrong key almost always breaks the padding, and otherwise the DER.
        pkcs8::Error::EncryptedPrivateKey(pkcs8::pkcs5::Error::DecryptFailed) | pkcs8::Error::Asn1(_) => {
            IdentityError::WrongPassword
        }
        other => IdentityError::UnsupportedKey(other.to_string()),
    })?;
    if pkcs8::PrivateKeyInfoRef::try_from(document.as_bytes()).is_err() {
        return Err(IdentityError::WrongPassword);
    }
    Ok(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(document.as_bytes().to_vec())))
}

/// The largest PBKDF2 iteration count accepted (RFC 8018 §4.2: "for especially critical keys
/// [...] an iteration count of 10,000,000 may be appropriate").
#[cfg(not(fuzzing))]
const MAX_PBKDF2_ITERATIONS: u64 = 10_000_000;
/// Under the fuzzer the same checks run with caps that keep one execution in milliseconds
/// (BankID's test credentials use 2,048 iterations).
#[cfg(fuzzing)]
const MAX_PBKDF2_ITERATIONS: u64 = 4_096;
/// The largest PBKDF2 iteration count accepted with HMAC-SHA-384 or HMAC-SHA-512, whose
/// iterations cost about 5 times those of HMAC-SHA-256: about the same second of CPU (OWASP
/// advises 210,000 for HMAC-SHA-512).
#[cfg(not(fuzzing))]
const MAX_PBKDF2_ITERATIONS_SHA512: u64 = 2_000_000;
/// Under the fuzzer, as [`MAX_PBKDF2_ITERATIONS`].
#[cfg(fuzzing)]
const MAX_PBKDF2_ITERATIONS_SHA512: u64 = MAX_PBKDF2_ITERATIONS;
/// The largest scrypt N accepted: 4 times the 2^14 that OpenSSL and RustCrypto write.
const MAX_SCRYPT_N: u64 = 1 << 16;
/// The largest scrypt r accepted: 4 times the 8 that every common tool writes.
const MAX_SCRYPT_R: u64 = 32;
/// The largest scrypt p accepted: common tools write 1, and each unit repeats the whole work.
const MAX_SCRYPT_P: u64 = 4;
/// The largest scrypt working memory accepted, 128 * N * r bytes: twice OpenSSL's 32 MiB.
#[cfg(not(fuzzing))]
const MAX_SCRYPT_MEMORY: u64 = 64 << 20;
/// Under the fuzzer: 1 MiB, so that one execution stays in milliseconds.
#[cfg(fuzzing)]
const MAX_SCRYPT_MEMORY: u64 = 1 << 20;

/// Refuses key-derivation parameters beyond the caps documented on [`Identity::from_pem`],
/// before the KDF allocates or computes anything. Also refuses the zero and non-power-of-two
/// values that the KDF implementations reject (or, for a zero scrypt N, panic on).
fn check_kdf_limits(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<(), IdentityError> {
    use pkcs8::pkcs5::pbes2::Kdf;

    // PBES1 derives nothing here: the pkcs5 crate refuses it outright.
    let Some(pbes2) = scheme.pbes2() else {
        return Ok(());
    };
    match &pbes2.kdf {
        Kdf::Pbkdf2(params) => {
            use pkcs8::pkcs5::pbes2::Pbkdf2Prf;
            let iterations = u64::from(params.iteration_count);
            positive("PBKDF2 iteration count", iterations)?;
            let limit = match params.prf {
                Pbkdf2Prf::HmacWithSha384 | Pbkdf2Prf::HmacWithSha512 => MAX_PBKDF2_ITERATIONS_SHA512,
                _ => MAX_PBKDF2_ITERATIONS,
            };
            at_most("PBKDF2 iteration count", iterations, limit)
        }
        Kdf::Scrypt(params) => check_scrypt_limits(params),
        // A KDF this crate does not know cannot be bounded, so it is not run.
        _ => Err(IdentityError::UnsupportedKey("unsupported key-derivation function".to_owned())),
    }
}

/// The scrypt part of [`check_kdf_limits`].
fn check_scrypt_limits(params: &pkcs8::pkcs5::pbes2::ScryptParams) -> Result<(), IdentityError> {
    let (n, r, p) = (params.cost_parameter, u64::from(params.block_size), u64::from(params.parallelization));
    positive("scrypt N", n)?;
    positive("scrypt r", r)?;
    positive("scrypt p", p)?;
    at_most("scrypt N", n, MAX_SCRYPT_N)?;
    if !n.is_power_of_two() || n < 2 {
        return Err(IdentityError::UnsupportedKey(format!(
            "the encrypted private key's scrypt N is {n}, not a power of two of at least 2"
        )));
    }
    at_most("scrypt r", r, MAX_SCRYPT_R)?;
    at_most("scrypt p", p, MAX_SCRYPT_P)?;
    // N <= 2^16 and r <= 32 keep the product far from overflowing.
    at_most("scrypt memory (128*N*r bytes)", 128 * n * r, MAX_SCRYPT_MEMORY)
}

fn at_most(parameter: &'static str, value: u64, limit: u64) -> Result<(), IdentityError> {
    if value > limit {
        return Err(IdentityError::KdfLimitExceeded { parameter, value, limit });
    }
    Ok(())
}

fn positive(parameter: &str, value: u64) -> Result<(), IdentityError> {
    if value == 0 {
        return Err(IdentityError::UnsupportedKey(format!("the encrypted private key's {parameter} is 0")));
    }
    Ok(())
}

/// The DER encoding (tag and length included) of `id-scrypt`, 1.3.6.1.4.1.11591.4.11.
const SCRYPT_OID_DER: &[u8] = &[0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0xda, 0x47, 0x04, 0x0b];

/// Applies the scrypt caps to every scrypt parameter set visible in PKCS#12 data.
///
/// p12-keystore caps scrypt itself, but more loosely (1 GiB of memory, p up to 16) and not
/// against a zero N, on which the pkcs5 crate panics. Each `id-scrypt` OID is followed, in an
/// `AlgorithmIdentifier`, by its parameters; bytes that merely look like the OID (inside a
/// certificate or ciphertext) are not followed by well-formed parameters and are skipped.
/// Bags nested inside encrypted content are not visible here; p12-keystore's own caps bound
/// those, and only a file whose password is known can reach them.
fn check_pkcs12_scrypt_limits(der: &[u8]) -> Result<(), IdentityError> {
    use pkcs8::der::{Decode as _, SliceReader};

    let mut offset = 0;
    while let Some(found) = der
        .get(offset..)
        .and_then(|rest| rest.windows(SCRYPT_OID_DER.len()).position(|window| window == SCRYPT_OID_DER))
    {
        offset += found + SCRYPT_OID_DER.len();
        let Some(rest) = der.get(offset..) else { break };
        let Ok(mut reader) = SliceReader::new(rest) else { break };
        if let Ok(params) = pkcs8::pkcs5::pbes2::ScryptParams::decode(&mut reader) {
            check_scrypt_limits(&params)?;
        }
    }
    Ok(())
}

/// Maps a PKCS#12 error, telling a wrong password from a bad file.
fn pkcs12_error(err: p12_keystore::error::Error) -> IdentityError {
    use p12_keystore::error::Error;
    match err {
        // The MAC is checked first; files without a MAC fail at decryption instead.
        Error::MacError(_) | Error::UnpadError => IdentityError::WrongPassword,
        Error::Pkcs5Error(message) if message.contains("decryption failed") => IdentityError::WrongPassword,
        other => IdentityError::InvalidPkcs12(other.to_string()),
    }
}

fn invalid_pem(err: pem::Error) -> IdentityError {
    IdentityError::InvalidPem(err.to_string())
}

/// The position of the leaf: the certificate whose public key matches `key`.
#[cfg(feature = "rustls")]
fn leaf_index(certificates: &[CertificateDer<'static>], key: &PrivateKeyDer<'static>) -> Result<usize, IdentityError> {
    use rustls::InconsistentKeys;
    use rustls::sign::CertifiedKey;

    let provider = rustls::crypto::ring::default_provider();
    let signing_key = provider
        .key_provider
        .load_private_key(key.clone_key())
        .map_err(|err| IdentityError::UnsupportedKey(err.to_string()))?;
    let mut first_error = None;
    for (index, cert) in certificates.iter().enumerate() {
        match CertifiedKey::new(vec![cert.clone()], Arc::clone(&signing_key)).keys_match() {
            Ok(()) => return Ok(index),
            // The key cannot name its public key, so nothing can be compared: keep the order.
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => return Ok(0),
            Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {}
            Err(err) if index == 0 => first_error = Some(err),
            Err(_) => {}
        }
    }
    Err(match first_error {
        Some(err) => IdentityError::InvalidCertificate(err.to_string()),
        None => IdentityError::KeyMismatch,
    })
}

/// Without rustls the key is not compared with the certificates: the first one is the leaf.
/// A PKCS#8 key is at least checked to be well-formed.
#[cfg(not(feature = "rustls"))]
fn leaf_index(_certificates: &[CertificateDer<'static>], key: &PrivateKeyDer<'static>) -> Result<usize, IdentityError> {
    if let PrivateKeyDer::Pkcs8(key) = key {
        pkcs8::PrivateKeyInfoRef::try_from(key.secret_pkcs8_der())
            .map_err(|err| IdentityError::UnsupportedKey(err.to_string()))?;
    }
    Ok(0)
}

/// Indices of the leaf and then each issuer found by name, stopping at a self-signed
/// certificate or when no issuer is among `parsed`.
fn chain_order(parsed: &[X509Certificate<'_>], leaf: usize) -> Vec<usize> {
    let mut order = vec![leaf];
    let mut current = leaf;
    while let Some(cert) = parsed.get(current) {
        let issuer = cert.issuer().as_raw();
        if cert.subject().as_raw() == issuer {
            break;
        }
        let next = (0..parsed.len()).find(|candidate| {
            !order.contains(candidate) && parsed.get(*candidate).is_some_and(|c| c.subject().as_raw() == issuer)
        });
        match next {
            Some(next) => {
                order.push(next);
                current = next;
            }
            None => break,
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_roots_parse() {
        for (roots, pem) in [(Roots::production(), PRODUCTION_ROOT_PEM), (Roots::test(), TEST_ROOT_PEM)] {
            assert_eq!(roots.certs.len(), 1);
            assert_eq!(Roots::from_pem(pem).expect("embedded root loads").certs, roots.certs);
        }
    }

    #[test]
    fn embedded_test_identity_equals_checked_load() {
        let checked = Identity::from_pem(TEST_IDENTITY_CERT_PEM, TEST_IDENTITY_KEY_PEM, None)
            .expect("embedded test identity loads");
        let embedded = Identity::test();
        assert_eq!(embedded.chain, checked.chain);
        assert_eq!(embedded.key.secret_der(), checked.key.secret_der(), "embedded key differs");
        assert_eq!(embedded.not_after, checked.not_after);
        assert_eq!(embedded.not_after_unix(), TEST_IDENTITY_NOT_AFTER);
    }

    #[test]
    fn chain_order_follows_issuers() {
        let leaf = Identity::test();
        let root = Roots::test();
        let certs = [root.certs[0].clone(), leaf.chain[0].clone()];
        let parsed: Vec<_> = certs.iter().map(|c| parse_certificate(c).unwrap()).collect();
        // The test root is not the issuer of the test RP certificate: the chain stops.
        assert_eq!(chain_order(&parsed, 1), vec![1]);
        // A self-signed root is its own chain.
        assert_eq!(chain_order(&parsed, 0), vec![0]);
    }

    #[test]
    fn encrypted_block_without_end_is_invalid_pem() {
        let pem = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n";
        assert!(matches!(encrypted_private_key(pem), Err(IdentityError::InvalidPem(_))));
    }

    #[test]
    fn traditional_openssl_encryption_is_named() {
        let pem = b"-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        assert!(matches!(
            parse_private_key(pem, Some("x")),
            Err(IdentityError::UnsupportedKey(msg)) if msg.contains("pkcs8")
        ));
    }
}
