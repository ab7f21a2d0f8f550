//! Loading TLS material: the embedded roots, the public BankID test credentials in every format
//! they ship in, and the rustls client configuration.

use std::path::PathBuf;

use bankid_core::tls::{Identity, IdentityError, Roots};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};

const PASSWORD: &str = "qwerty123";

/// Notafter of credential B ("Testbank A RP CA v1 for BankID Test"): 2029-05-28T21:59:59Z.
const CREDENTIAL_B_NOT_AFTER: i64 = 1_874_699_999;

fn cert_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("certs").join(name)
}

fn read(name: &str) -> Vec<u8> {
    std::fs::read(cert_path(name)).expect("test credential file is present")
}

fn sha256_fingerprint(cert: &CertificateDer<'_>) -> String {
    hex::encode_upper(Sha256::digest(cert.as_ref()))
}

/// Subject and issuer as x509-parser prints them, for asserting on who a certificate is.
fn subject_and_issuer(cert: &CertificateDer<'_>) -> (String, String) {
    let (_, parsed) = x509_parser::parse_x509_certificate(cert.as_ref()).expect("X.509");
    (parsed.subject().to_string(), parsed.issuer().to_string())
}

fn assert_credential_b(identity: &Identity) {
    let (subject, issuer) = subject_and_issuer(identity.certificate());
    assert!(subject.contains("CN=FP Testcert 5"), "{subject}");
    assert!(issuer.contains("CN=Testbank A RP CA v1 for BankID Test"), "{issuer}");
    assert_eq!(identity.not_after_unix(), CREDENTIAL_B_NOT_AFTER);
    assert_eq!(identity.certificate_chain().len(), 1);
    assert_eq!(identity.certificate_chain()[0], *identity.certificate());
    assert_eq!(identity.certificate(), Identity::test().certificate());
    assert_eq!(identity.private_key().secret_der(), Identity::test().private_key().secret_der());
}

// --- roots -------------------------------------------------------------------------------------

/// Fingerprints and subjects from the spec, §8.2.
#[test]
fn embedded_roots_have_expected_fingerprints_and_subjects() {
    let cases = [
        (
            Roots::production(),
            "E6A2D45C0A1051C959428649F86A09A9B2152CD551993CC2EB4CF094BDACBECB",
            "O=Finansiell ID-Teknik BID AB, OU=Infrastructure CA, CN=BankID SSL Root CA v1",
        ),
        (
            Roots::test(),
            "F3D0740EBFB3700E3B81AA791FEE451472698C84E199C2EB48A443FF1D5B405C",
            "O=Finansiell ID-Teknik BID AB, OU=Infrastructure CA, CN=Test BankID SSL Root CA v1 Test",
        ),
    ];
    for (roots, fingerprint, subject) in cases {
        let [root] = roots.certificates() else {
            panic!("expected exactly one root, got {roots:?}");
        };
        assert_eq!(sha256_fingerprint(root), fingerprint);
        let (actual_subject, actual_issuer) = subject_and_issuer(root);
        assert_eq!(actual_subject, subject);
        assert_eq!(actual_issuer, subject, "self-signed");
        assert!(format!("{roots:?}").contains(subject));
    }
}

#[test]
fn roots_load_from_pem_file_and_der() {
    let from_file = Roots::from_pem_file(cert_path("appapi2.test.bankid.com.pem")).unwrap();
    assert_eq!(from_file.certificates(), Roots::test().certificates());

    let der = Roots::production().certificates()[0].to_vec();
    let from_der = Roots::from_der(der).unwrap();
    assert_eq!(from_der.certificates(), Roots::production().certificates());

    let both = [read("appapi2.bankid.com.pem"), read("appapi2.test.bankid.com.pem")].concat();
    assert_eq!(Roots::from_pem(&both).unwrap().certificates().len(), 2);
}

#[test]
fn roots_reject_bad_input() {
    assert!(matches!(Roots::from_pem(b"no pem here"), Err(IdentityError::NoCertificate)));
    // A key is not a root.
    assert!(matches!(Roots::from_pem(&read("FPTestcert5_20240610_key.pem")), Err(IdentityError::NoCertificate)));
    assert!(matches!(Roots::from_der(vec![0x30, 0x03, 0x02, 0x01, 0x00]), Err(IdentityError::InvalidCertificate(_))));
    assert!(matches!(
        Roots::from_pem(b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n"),
        Err(IdentityError::InvalidPem(_))
    ));
    assert!(matches!(Roots::from_pem(b"-----BEGIN CERTIFICATE-----\nMIIB\n"), Err(IdentityError::InvalidPem(_))));
    let err = Roots::from_pem_file(cert_path("does-not-exist.pem")).unwrap_err();
    assert!(matches!(&err, IdentityError::Io { path, .. } if path.ends_with("does-not-exist.pem")), "{err:?}");
}

// --- identities: every shipped format ----------------------------------------------------------

#[test]
fn modern_pkcs12_loads_credential_a() {
    let identity = Identity::from_pkcs12_file(cert_path("FPTestcert5_20240610.p12"), PASSWORD).unwrap();
    let (subject, issuer) = subject_and_issuer(identity.certificate());
    assert!(subject.contains("CN=FP Testcert 5"), "{subject}");
    assert!(issuer.contains("CN=BankID RP CA v1 for BankID TEST"), "{issuer}");
    assert_eq!(identity.certificate_chain().len(), 1);
    // 2027-05-28, like credential B a few hours either side of midnight UTC.
    let may_28_2027 = 1_811_462_400;
    assert!((identity.not_after_unix() - may_28_2027).abs() < 86_400);
    assert!(matches!(identity.private_key(), PrivateKeyDer::Pkcs8(_)));
}

#[test]
fn legacy_pfx_loads_credential_b() {
    let identity = Identity::from_pkcs12(&read("FPTestcert5_20240610-legacy.pfx"), PASSWORD).unwrap();
    assert_credential_b(&identity);
}

#[test]
fn pem_bundle_with_encrypted_key_loads_credential_b() {
    let identity = Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), Some(PASSWORD)).unwrap();
    assert_credential_b(&identity);
}

#[test]
fn pem_pair_loads_credential_b() {
    let identity =
        Identity::from_pem(&read("FPTestcert5_20240610_cert.pem"), &read("FPTestcert5_20240610_key.pem"), None)
            .unwrap();
    assert_credential_b(&identity);

    let from_files = Identity::from_pem_files(
        cert_path("FPTestcert5_20240610_cert.pem"),
        cert_path("FPTestcert5_20240610_key.pem"),
        None,
    )
    .unwrap();
    assert_credential_b(&from_files);

    // A password for an unencrypted key is ignored.
    let with_password = Identity::from_pem(
        &read("FPTestcert5_20240610_cert.pem"),
        &read("FPTestcert5_20240610_key.pem"),
        Some(PASSWORD),
    )
    .unwrap();
    assert_credential_b(&with_password);
}

#[test]
fn one_bundle_file_passed_twice_to_from_pem_files() {
    let bundle = cert_path("FPTestcert5_20240610.pem");
    let identity = Identity::from_pem_files(&bundle, &bundle, Some(PASSWORD)).unwrap();
    assert_credential_b(&identity);
}

#[test]
fn embedded_test_identity_is_credential_b() {
    assert_credential_b(&Identity::test());
}

// --- identities: wrong passwords and missing parts ---------------------------------------------

#[test]
fn wrong_password_is_reported_as_such() {
    for file in ["FPTestcert5_20240610.p12", "FPTestcert5_20240610-legacy.pfx"] {
        let err = Identity::from_pkcs12(&read(file), "wrong").unwrap_err();
        assert!(matches!(err, IdentityError::WrongPassword), "{file}: {err:?}");
    }
    let err = Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), Some("wrong")).unwrap_err();
    assert!(matches!(err, IdentityError::WrongPassword), "{err:?}");
    let err = Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), Some("")).unwrap_err();
    assert!(matches!(err, IdentityError::WrongPassword), "{err:?}");
}

#[test]
fn encrypted_key_without_password_asks_for_one() {
    let err = Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), None).unwrap_err();
    assert!(matches!(err, IdentityError::PasswordRequired), "{err:?}");
    assert_eq!(err.to_string(), "the private key is encrypted and no password was given");
}

#[test]
fn certificate_without_key_and_key_without_certificate() {
    let err = Identity::from_pem_bundle(&read("FPTestcert5_20240610_cert.pem"), None).unwrap_err();
    assert!(matches!(err, IdentityError::NoPrivateKey), "{err:?}");

    let err = Identity::from_pem_bundle(&read("FPTestcert5_20240610_key.pem"), None).unwrap_err();
    assert!(matches!(err, IdentityError::NoCertificate), "{err:?}");

    // Arguments swapped: the "certificate" file holds only a key.
    let err = Identity::from_pem(&read("FPTestcert5_20240610_key.pem"), &read("FPTestcert5_20240610_cert.pem"), None)
        .unwrap_err();
    assert!(matches!(err, IdentityError::NoPrivateKey | IdentityError::NoCertificate), "{err:?}");

    let err = Identity::new(Vec::new(), Identity::test().private_key().clone_key()).unwrap_err();
    assert!(matches!(err, IdentityError::NoCertificate), "{err:?}");
}

#[test]
fn pkcs12_without_private_key() {
    // A PKCS#12 "trust store": certificates only, written with p12-keystore itself.
    let mut store = p12_keystore::KeyStore::new();
    let root = p12_keystore::Certificate::from_der(&Roots::test().certificates()[0]).unwrap();
    store.add_entry("root", p12_keystore::KeyStoreEntry::Certificate(root));
    let der = store.writer(PASSWORD).write().unwrap();

    let err = Identity::from_pkcs12(&der, PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::NoPrivateKey), "{err:?}");
}

#[test]
fn garbage_is_not_pkcs12() {
    let err = Identity::from_pkcs12(b"not a pkcs12 file", PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::InvalidPkcs12(_)), "{err:?}");
    let err = Identity::from_pkcs12(&read("FPTestcert5_20240610.pem"), PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::InvalidPkcs12(_)), "{err:?}");
}

#[test]
fn missing_files_name_their_path() {
    let err = Identity::from_pkcs12_file(cert_path("missing.p12"), PASSWORD).unwrap_err();
    assert!(matches!(&err, IdentityError::Io { path, .. } if path.ends_with("missing.p12")), "{err:?}");
    assert!(err.to_string().contains("missing.p12"), "{err}");
    assert!(std::error::Error::source(&err).is_some());

    let err = Identity::from_pem_files(cert_path("FPTestcert5_20240610_cert.pem"), cert_path("missing_key.pem"), None)
        .unwrap_err();
    assert!(matches!(&err, IdentityError::Io { path, .. } if path.ends_with("missing_key.pem")), "{err:?}");
}

// --- key/certificate mismatch ------------------------------------------------------------------

/// Credential A (the .p12) and credential B (everything else) have different keys.
#[cfg(feature = "rustls")]
#[test]
fn key_of_one_credential_with_certificate_of_another_is_a_mismatch() {
    let a = Identity::from_pkcs12(&read("FPTestcert5_20240610.p12"), PASSWORD).unwrap();
    let b = Identity::test();
    assert_ne!(a.private_key().secret_der(), b.private_key().secret_der());

    let err = Identity::new(vec![a.certificate().clone()], b.private_key().clone_key()).unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch), "{err:?}");

    let err = Identity::new(vec![b.certificate().clone()], a.private_key().clone_key()).unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch), "{err:?}");

    // The same through the PEM loader: credential B's key file with credential A's certificate.
    let a_cert_pem = pem_certificate(a.certificate());
    let err = Identity::from_pem(&a_cert_pem, &read("FPTestcert5_20240610_key.pem"), None).unwrap_err();
    assert!(matches!(err, IdentityError::KeyMismatch), "{err:?}");
    assert_eq!(err.to_string(), "the private key does not match the certificate");
}

/// With extra certificates around it, the leaf is found by its key, wherever it stands.
#[cfg(feature = "rustls")]
#[test]
fn leaf_is_the_certificate_that_matches_the_key() {
    let a = Identity::from_pkcs12(&read("FPTestcert5_20240610.p12"), PASSWORD).unwrap();
    let b = Identity::test();
    let identity = Identity::new(
        vec![a.certificate().clone(), Roots::test().certificates()[0].clone(), b.certificate().clone()],
        b.private_key().clone_key(),
    )
    .unwrap();
    assert_eq!(identity.certificate(), b.certificate());
    // Neither of the other two issued credential B's certificate: the chain is the leaf alone.
    assert_eq!(identity.certificate_chain(), [b.certificate().clone()]);
}

#[test]
fn malformed_key_is_rejected() {
    let key = PrivateKeyDer::Pkcs8(vec![0x30, 0x03, 0x02, 0x01, 0x00].into());
    let err = Identity::new(vec![Identity::test().certificate().clone()], key).unwrap_err();
    assert!(matches!(err, IdentityError::UnsupportedKey(_)), "{err:?}");
}

#[cfg(feature = "rustls")]
fn pem_certificate(cert: &CertificateDer<'_>) -> Vec<u8> {
    use base64::Engine as _;
    let body = base64::engine::general_purpose::STANDARD.encode(cert.as_ref());
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in body.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem.into_bytes()
}

// --- privacy -----------------------------------------------------------------------------------

#[test]
fn debug_never_shows_key_material() {
    let loaded = [
        Identity::test(),
        Identity::from_pkcs12(&read("FPTestcert5_20240610.p12"), PASSWORD).unwrap(),
        Identity::from_pkcs12(&read("FPTestcert5_20240610-legacy.pfx"), PASSWORD).unwrap(),
        Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), Some(PASSWORD)).unwrap(),
    ];
    for identity in &loaded {
        let debug = format!("{identity:?}");
        let pretty = format!("{identity:#?}");
        assert!(debug.contains("[redacted]"), "{debug}");
        assert!(debug.contains("FP Testcert 5"), "{debug}");
        let key = identity.private_key().secret_der();
        for text in [&debug, &pretty] {
            // Neither hex nor base64 nor a byte list of any 8-byte window of the key appears.
            for window in key.windows(8).step_by(8) {
                assert!(!text.contains(&hex::encode(window)));
                assert!(!text.contains(&hex::encode_upper(window)));
                assert!(!text.contains(format!("{window:?}").trim_matches(['[', ']'])));
            }
            use base64::Engine as _;
            let b64 = base64::engine::general_purpose::STANDARD.encode(key);
            for chunk in b64.as_bytes().chunks(16) {
                assert!(!text.contains(std::str::from_utf8(chunk).unwrap()));
            }
            assert!(!text.contains(PASSWORD));
        }
        // A clone is as redacted and holds the same key.
        let clone = identity.clone();
        assert_eq!(format!("{clone:?}"), debug);
        assert_eq!(clone.private_key().secret_der(), key);
    }
}

#[test]
fn error_messages_are_lowercase_and_unpunctuated() {
    let errors = [
        Identity::from_pkcs12(&read("FPTestcert5_20240610.p12"), "wrong").unwrap_err(),
        Identity::from_pem_bundle(&read("FPTestcert5_20240610.pem"), None).unwrap_err(),
        Identity::from_pem_bundle(&read("FPTestcert5_20240610_cert.pem"), None).unwrap_err(),
        Identity::from_pem_bundle(&read("FPTestcert5_20240610_key.pem"), None).unwrap_err(),
        Identity::from_pkcs12(b"junk", PASSWORD).unwrap_err(),
        Identity::from_pkcs12_file(cert_path("missing.p12"), PASSWORD).unwrap_err(),
    ];
    for err in errors {
        let message = err.to_string();
        let first = message.chars().next().unwrap();
        assert!(first.is_lowercase(), "{message}");
        assert!(!message.ends_with('.'), "{message}");
        assert!(!message.contains(PASSWORD), "{message}");
    }
}

// --- rustls ------------------------------------------------------------------------------------

#[cfg(feature = "rustls")]
#[test]
fn client_config_builds_for_both_environments() {
    use bankid_core::tls::client_config;

    for roots in [Roots::production(), Roots::test()] {
        let with_identity = client_config(&roots, Some(&Identity::test())).unwrap();
        assert!(with_identity.client_auth_cert_resolver.has_certs());
        let without = client_config(&roots, None).unwrap();
        assert!(!without.client_auth_cert_resolver.has_certs());
        assert!(with_identity.alpn_protocols.is_empty());
        assert!(!with_identity.crypto_provider().cipher_suites.is_empty());
    }
}

/// The configuration must not depend on a process-wide default provider being installed (none
/// is in this test binary).
#[cfg(feature = "rustls")]
#[test]
fn client_config_needs_no_process_default_provider() {
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    let config = bankid_core::tls::client_config(&Roots::test(), Some(&Identity::test())).unwrap();
    assert!(rustls::crypto::CryptoProvider::get_default().is_none());
    assert!(!config.crypto_provider().cipher_suites.is_empty());
}

// --- expiry ------------------------------------------------------------------------------------

/// Fails when the embedded test identity expires within 60 days: time to update it from
/// BankID's developer site (and `TEST_IDENTITY_NOT_AFTER` with it).
#[test]
#[allow(clippy::disallowed_methods)] // the one place that reads the real clock, on purpose
fn embedded_test_identity_not_expiring_soon() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("clock after 1970").as_secs();
    let now = i64::try_from(now).expect("time fits in i64");
    let sixty_days = 60 * 24 * 60 * 60;
    let not_after = Identity::test().not_after_unix();
    assert!(
        not_after - now > sixty_days,
        "the embedded BankID test identity expires at unix time {not_after}, within 60 days: \
         replace bankid-core/certs/FPTestcert5_20240610_*.pem with BankID's current test certificate"
    );
}
