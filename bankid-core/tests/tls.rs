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

// --- key-derivation limits of encrypted keys ---------------------------------------------------

/// Crafted `EncryptedPrivateKeyInfo` PEM blocks: PBES2 with the given KDF and AES-256-CBC.
mod crafted {
    use pkcs8::der::Encode as _;
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::pkcs5::{self, pbes2};

    pub(crate) fn scrypt(n: u64, r: u16, p: u16) -> pbes2::Kdf {
        let salt = pbes2::Salt::new([0x5a; 16]).unwrap();
        pbes2::ScryptParams { salt, cost_parameter: n, block_size: r, parallelization: p, key_length: None }.into()
    }

    pub(crate) fn pbkdf2(iterations: u32) -> pbes2::Kdf {
        let salt = pbes2::Salt::new([0xa5; 16]).unwrap();
        let prf = pbes2::Pbkdf2Prf::HmacWithSha256;
        pbes2::Pbkdf2Params { salt, iteration_count: iterations, key_length: None, prf }.into()
    }

    fn parameters(kdf: pbes2::Kdf) -> pbes2::Parameters {
        pbes2::Parameters { kdf, encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [0x17; 16] } }
    }

    /// `kdf` around 48 bytes that are no key (never decrypted when the KDF is refused).
    pub(crate) fn key_pem(kdf: pbes2::Kdf) -> Vec<u8> {
        pem(&info_der(kdf, &[0x42; 48]))
    }

    /// Credential B's key, really encrypted with `kdf` and `password`.
    pub(crate) fn real_key_pem(kdf: pbes2::Kdf, password: &str) -> Vec<u8> {
        let key = bankid_core::tls::Identity::test().private_key().secret_der().to_vec();
        let params = parameters(kdf.clone());
        let ciphertext = params.encrypt(password, &key).unwrap();
        pem(&info_der(kdf, &ciphertext))
    }

    fn info_der(kdf: pbes2::Kdf, encrypted: &[u8]) -> Vec<u8> {
        pkcs8::EncryptedPrivateKeyInfoRef {
            encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(parameters(kdf)),
            encrypted_data: OctetStringRef::new(encrypted).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn pem(der: &[u8]) -> Vec<u8> {
        use base64::Engine as _;
        let body = base64::engine::general_purpose::STANDARD.encode(der);
        let mut pem = String::from("-----BEGIN ENCRYPTED PRIVATE KEY-----\n");
        for line in body.as_bytes().chunks(64) {
            pem.push_str(std::str::from_utf8(line).unwrap());
            pem.push('\n');
        }
        pem.push_str("-----END ENCRYPTED PRIVATE KEY-----\n");
        pem.into_bytes()
    }
}

fn load_crafted(key_pem: &[u8]) -> Result<Identity, IdentityError> {
    Identity::from_pem(&read("FPTestcert5_20240610_cert.pem"), key_pem, Some(PASSWORD))
}

fn assert_limit(result: Result<Identity, IdentityError>, name: &str, expected_value: u64, expected_limit: u64) {
    match result {
        Err(IdentityError::KdfLimitExceeded { parameter, value, limit }) => {
            assert_eq!((parameter, value, limit), (name, expected_value, expected_limit));
        }
        other => panic!("expected the {name} limit, got {other:?}"),
    }
}

/// Without the caps, N = 2^40 aborts the process on a 128 PiB allocation and N = 2^22 allocates
/// 4 GiB and computes for seconds; both are refused before the KDF runs.
#[test]
fn scrypt_cost_beyond_the_cap_is_refused() {
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 40, 8, 1))), "scrypt N", 1 << 40, 1 << 16);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 22, 8, 1))), "scrypt N", 1 << 22, 1 << 16);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 17, 1, 1))), "scrypt N", 1 << 17, 1 << 16);
    assert_limit(
        load_crafted(&crafted::key_pem(crafted::scrypt(u64::MAX, u16::MAX, u16::MAX))),
        "scrypt N",
        u64::MAX,
        1 << 16,
    );
}

#[test]
fn scrypt_block_size_parallelism_and_memory_beyond_the_caps_are_refused() {
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 10, 33, 1))), "scrypt r", 33, 32);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 10, u16::MAX, 1))), "scrypt r", 65_535, 32);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 10, 8, 5))), "scrypt p", 5, 4);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 10, 8, u16::MAX))), "scrypt p", 65_535, 4);
    // N and r each within their caps, but together 72 MiB and 128 MiB.
    let memory = "scrypt memory (128*N*r bytes)";
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 16, 9, 1))), memory, 72 << 20, 64 << 20);
    assert_limit(load_crafted(&crafted::key_pem(crafted::scrypt(1 << 16, 16, 1))), memory, 128 << 20, 64 << 20);
}

/// Zero parameters reach a panic in the scrypt parameter conversion without the check (a zero N
/// underflows its log2); a non-power-of-two N is not scrypt.
#[test]
fn scrypt_zero_and_non_power_of_two_parameters_are_unsupported() {
    for (n, r, p, named) in [
        (0, 8, 1, "scrypt N"),
        (1 << 10, 0, 1, "scrypt r"),
        (1 << 10, 8, 0, "scrypt p"),
        (3, 8, 1, "scrypt N"),
        (1, 8, 1, "scrypt N"),
    ] {
        let err = load_crafted(&crafted::key_pem(crafted::scrypt(n, r, p))).unwrap_err();
        assert!(
            matches!(&err, IdentityError::UnsupportedKey(message) if message.contains(named)),
            "{n} {r} {p}: {err:?}"
        );
    }
}

/// Without the cap, 2^32 - 1 PBKDF2 iterations are minutes of CPU.
#[test]
fn pbkdf2_iterations_beyond_the_cap_are_refused() {
    let limit = 10_000_000;
    assert_limit(
        load_crafted(&crafted::key_pem(crafted::pbkdf2(u32::MAX))),
        "PBKDF2 iteration count",
        u32::MAX.into(),
        limit,
    );
    assert_limit(
        load_crafted(&crafted::key_pem(crafted::pbkdf2(10_000_001))),
        "PBKDF2 iteration count",
        10_000_001,
        limit,
    );
    // HMAC-SHA-512 iterations cost about 5 times more: their cap is 2,000,000.
    let mut sha512 = crafted::pbkdf2(2_000_001);
    if let pkcs8::pkcs5::pbes2::Kdf::Pbkdf2(params) = &mut sha512 {
        params.prf = pkcs8::pkcs5::pbes2::Pbkdf2Prf::HmacWithSha512;
    }
    assert_limit(load_crafted(&crafted::key_pem(sha512)), "PBKDF2 iteration count", 2_000_001, 2_000_000);
    let err = load_crafted(&crafted::key_pem(crafted::pbkdf2(0))).unwrap_err();
    assert!(matches!(&err, IdentityError::UnsupportedKey(message) if message.contains("PBKDF2")), "{err:?}");
}

#[test]
fn kdf_limit_error_names_the_parameter_and_the_cap() {
    let err = load_crafted(&crafted::key_pem(crafted::scrypt(1 << 40, 8, 1))).unwrap_err();
    assert_eq!(err.to_string(), "the encrypted private key's scrypt N is 1099511627776, above the limit of 65536");
    let err = load_crafted(&crafted::key_pem(crafted::pbkdf2(u32::MAX))).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the encrypted private key's PBKDF2 iteration count is 4294967295, above the limit of 10000000"
    );
    // Through every PEM entry point, the bundle included.
    let key = crafted::key_pem(crafted::scrypt(1 << 22, 8, 1));
    let bundle = [read("FPTestcert5_20240610_cert.pem"), b"\n".to_vec(), key.clone()].concat();
    assert!(matches!(Identity::from_pem_bundle(&bundle, Some(PASSWORD)), Err(IdentityError::KdfLimitExceeded { .. })));
    let dir = std::env::temp_dir().join(format!("bankid-core-kdf-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key_path = dir.join("crafted_key.pem");
    std::fs::write(&key_path, &key).unwrap();
    let from_files = Identity::from_pem_files(cert_path("FPTestcert5_20240610_cert.pem"), &key_path, Some(PASSWORD));
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(matches!(from_files, Err(IdentityError::KdfLimitExceeded { .. })), "{from_files:?}");
}

/// Keys within the caps still load: r and p at their caps, and scrypt and PBKDF2 as tools write
/// them.
#[test]
fn keys_within_the_caps_load() {
    for kdf in [
        crafted::scrypt(1 << 10, 8, 1),
        crafted::scrypt(1 << 10, 32, 1),
        crafted::scrypt(1 << 8, 8, 4),
        crafted::pbkdf2(2048),
    ] {
        let identity = load_crafted(&crafted::real_key_pem(kdf.clone(), PASSWORD))
            .unwrap_or_else(|err| panic!("{kdf:?}: {err:?}"));
        assert_credential_b(&identity);
        let err = Identity::from_pem(
            &read("FPTestcert5_20240610_cert.pem"),
            &crafted::real_key_pem(kdf, PASSWORD),
            Some("wrong"),
        )
        .unwrap_err();
        assert!(matches!(err, IdentityError::WrongPassword), "{err:?}");
    }
}

/// The PKCS#12 path is capped by p12-keystore (1,000,000 iterations for the MAC and for the
/// key and certificate bags): crafted counts beyond it are an invalid file, not minutes of CPU.
#[test]
fn pkcs12_iteration_counts_stay_capped() {
    // Distinctive three-byte counts to patch: 0x012345 for the MAC, 0x012346 for the bags.
    let b = Identity::test();
    let key = p12_keystore::PrivateKey::from_der(b.private_key().secret_der()).unwrap();
    let cert = p12_keystore::Certificate::from_der(b.certificate()).unwrap();
    let mut store = p12_keystore::KeyStore::new();
    let chain = p12_keystore::PrivateKeyChain::new(vec![1, 2, 3, 4], key, [cert]);
    store.add_entry("rp", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let der = store.writer(PASSWORD).mac_iterations(0x01_2345).encryption_iterations(0x01_2346).write().unwrap();
    assert_credential_b(&Identity::from_pkcs12(&der, PASSWORD).unwrap());

    let mac_count = [0x02, 0x03, 0x01, 0x23, 0x45];
    let bag_count = [0x02, 0x03, 0x01, 0x23, 0x46];
    let huge = [0x02, 0x03, 0x7f, 0xff, 0xff]; // 8,388,607

    let patched = replace_all(&der, &mac_count, &huge);
    let err = Identity::from_pkcs12(&patched, PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::InvalidPkcs12(_)), "{err:?}");

    // The bags' count is under the MAC, so the MAC goes too (PKCS#12 allows files without one).
    let patched = replace_all(&without_mac(&der), &bag_count, &huge);
    assert_ne!(patched, without_mac(&der), "the bag iteration count was found");
    let err = Identity::from_pkcs12(&patched, PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::InvalidPkcs12(_)), "{err:?}");
}

/// scrypt in a PKCS#12 file is checked against the same caps as in PEM. p12-keystore alone
/// lets a zero N through to the pkcs5 crate, which panics on it, and allows 1 GiB of memory.
#[test]
fn pkcs12_scrypt_parameters_are_capped() {
    use pkcs8::der::Encode as _;

    let b = Identity::test();
    let key = p12_keystore::PrivateKey::from_der(b.private_key().secret_der()).unwrap();
    let cert = p12_keystore::Certificate::from_der(b.certificate()).unwrap();
    let mut store = p12_keystore::KeyStore::new();
    let chain = p12_keystore::PrivateKeyChain::new(vec![1, 2, 3, 4], key, [cert]);
    store.add_entry("rp", p12_keystore::KeyStoreEntry::PrivateKeyChain(chain));
    let der = without_mac(&store.writer(PASSWORD).encryption_iterations(0x01_2346).write().unwrap());

    // Every PBKDF2 KDF of the file becomes scrypt with the given parameters.
    let with_scrypt = |n: u64, r: u16, p: u16| -> Vec<u8> {
        let salt = pkcs8::pkcs5::pbes2::Salt::new([0x5a; 16]).unwrap();
        let scrypt: pkcs8::pkcs5::pbes2::Kdf = pkcs8::pkcs5::pbes2::ScryptParams {
            salt,
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: None,
        }
        .into();
        let scrypt = scrypt.to_der().unwrap();
        let pbkdf2_oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x05, 0x0c];
        let mut replaced = 0;
        let patched = rewrite_der(&der, &mut |node| {
            let is_pbkdf2 = node.first() == Some(&0x30) && node.get(2..2 + pbkdf2_oid.len()) == Some(&pbkdf2_oid[..]);
            is_pbkdf2.then(|| {
                replaced += 1;
                scrypt.clone()
            })
        });
        assert!(replaced >= 2, "the key bag and the certificate bag are both encrypted, {replaced} replaced");
        patched
    };

    let err = Identity::from_pkcs12(&with_scrypt(0, 8, 1), PASSWORD).unwrap_err();
    assert!(matches!(&err, IdentityError::UnsupportedKey(message) if message.contains("scrypt N")), "{err:?}");
    assert_limit(Identity::from_pkcs12(&with_scrypt(1 << 40, 8, 1), PASSWORD), "scrypt N", 1 << 40, 1 << 16);
    // Within p12-keystore's own caps (1 GiB, p <= 16), beyond ours.
    assert_limit(Identity::from_pkcs12(&with_scrypt(1 << 16, 64, 1), PASSWORD), "scrypt r", 64, 32);
    assert_limit(Identity::from_pkcs12(&with_scrypt(1 << 10, 8, 16), PASSWORD), "scrypt p", 16, 4);
    // A valid scrypt file would decrypt; these parameters are fine but the key was encrypted
    // with PBKDF2, so the password no longer fits: a wrong password, not a limit.
    let err = Identity::from_pkcs12(&with_scrypt(1 << 4, 8, 1), PASSWORD).unwrap_err();
    assert!(matches!(err, IdentityError::WrongPassword | IdentityError::InvalidPkcs12(_)), "{err:?}");
}

/// Re-encodes DER, swapping each element for which `replace` returns new bytes and fixing every
/// length around it. Descends into constructed elements and into OCTET STRINGs that hold DER
/// (as PKCS#12 nests its contents).
fn rewrite_der(der: &[u8], replace: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) -> Vec<u8> {
    /// (tag, the whole element, its content).
    type Element<'a> = (u8, &'a [u8], &'a [u8]);
    fn elements(mut der: &[u8]) -> Option<Vec<Element<'_>>> {
        let mut out = Vec::new();
        while !der.is_empty() {
            let tag = *der.first()?;
            let first = usize::from(*der.get(1)?);
            let (header, len) = match first {
                0..=0x7f => (2, first),
                0x81..=0x83 => {
                    let count = first & 0x7f;
                    (2 + count, der.get(2..2 + count)?.iter().fold(0, |len, byte| len << 8 | usize::from(*byte)))
                }
                _ => return None,
            };
            let whole = der.get(..header + len)?;
            out.push((tag, whole, &whole[header..]));
            der = &der[header + len..];
        }
        Some(out)
    }
    fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut out = vec![tag];
        match content.len() {
            len @ 0..=0x7f => out.push(u8::try_from(len).unwrap()),
            len => {
                let bytes = u32::try_from(len).unwrap().to_be_bytes();
                let skip = bytes.iter().take_while(|byte| **byte == 0).count();
                out.push(0x80 | u8::try_from(4 - skip).unwrap());
                out.extend_from_slice(&bytes[skip..]);
            }
        }
        out.extend_from_slice(content);
        out
    }
    fn walk(der: &[u8], replace: &mut dyn FnMut(&[u8]) -> Option<Vec<u8>>) -> Option<Vec<u8>> {
        let mut out = Vec::new();
        for (tag, whole, content) in elements(der)? {
            if let Some(replacement) = replace(whole) {
                out.extend(replacement);
            } else if tag & 0x20 != 0 || tag == 0x04 {
                let inner = if content.is_empty() { None } else { walk(content, replace) };
                out.extend(encode(tag, inner.as_deref().unwrap_or(content)));
            } else {
                out.extend_from_slice(whole);
            }
        }
        Some(out)
    }
    walk(der, replace).expect("well-formed DER")
}

fn replace_all(haystack: &[u8], needle: &[u8], replacement: &[u8]) -> Vec<u8> {
    assert_eq!(needle.len(), replacement.len());
    let mut out = haystack.to_vec();
    let mut found = false;
    for start in 0..=out.len() - needle.len() {
        if out[start..start + needle.len()] == *needle {
            out[start..start + needle.len()].copy_from_slice(replacement);
            found = true;
        }
    }
    assert!(found, "pattern not found");
    out
}

/// A PFX (`SEQUENCE { version, authSafe, macData }`) without its `macData`.
fn without_mac(pfx: &[u8]) -> Vec<u8> {
    /// (header length, content length) of the TLV at the start of `der`.
    fn header(der: &[u8]) -> (usize, usize) {
        match der[1] {
            short @ 0..=0x7f => (2, usize::from(short)),
            long => {
                let count = usize::from(long & 0x7f);
                (2 + count, der[2..2 + count].iter().fold(0, |len, byte| len << 8 | usize::from(*byte)))
            }
        }
    }
    let (outer_header, _) = header(pfx);
    let content = &pfx[outer_header..];
    let (h, l) = header(content);
    let version_len = h + l;
    let (h, l) = header(&content[version_len..]);
    let kept = &content[..version_len + h + l];
    let mut out = vec![0x30, 0x83];
    out.extend_from_slice(&u32::try_from(kept.len()).unwrap().to_be_bytes()[1..]);
    out.extend_from_slice(kept);
    out
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
