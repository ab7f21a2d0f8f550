//! Never panics: arbitrary and mutated input on the XML path (the base64 `signature`) and on the
//! DER path (the `ocspResponse`, and certificates inside a signature).

use bankid_verify::{Environment, Expectations, Timestamp, TrustAnchors, verify};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;

fn field(key: &str) -> String {
    let text = include_str!("data/test-2016-t2v.json");
    let start = text.find(&format!("\"{key}\": \"")).expect("key") + key.len() + 5;
    let end = start + text[start..].find('"').expect("end");
    text[start..end].to_owned()
}

fn expect() -> Expectations {
    Expectations::new(TrustAnchors::bankid(Environment::Test))
}

fn genuine_xml() -> Vec<u8> {
    B64.decode(field("signature")).expect("b64")
}

fn genuine_ocsp() -> Vec<u8> {
    B64.decode(field("ocspResponse")).expect("b64")
}

/// Bits of XML to splice in: markup that stresses the parser and the canonicalizer.
fn xml_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("<!DOCTYPE x [<!ENTITY a \"b\">]>".to_owned()),
        Just("&a;".to_owned()),
        Just("<![CDATA[<x>]]>".to_owned()),
        Just("<?pi x?>".to_owned()),
        Just("<!-- c -->".to_owned()),
        Just("<x xmlns=\"\" Id=\"bidSignedData\"/>".to_owned()),
        Just("<p:x xmlns:p=\"urn:p\" p:a=\"1\" xml:lang=\"sv\"/>".to_owned()),
        Just("</Object>".to_owned()),
        Just("\r\n\t".to_owned()),
        Just("&#13;&#x10FFFF;".to_owned()),
        "[<>/=\"a-z:&;# ]{0,12}",
    ]
}

/// The body of the fuzz target proposed for `fuzz/fuzz_targets/verify.rs` (kept here so that it
/// compiles and runs in the test suite): the first two bytes (big-endian) say where the rest splits
/// into the decoded XML and the OCSP DER, both base64-encoded as BankID sends them. Returns whether
/// the signature with its OCSP response verified.
fn fuzz_one(data: &[u8]) -> bool {
    let (split, rest) = match data {
        [a, b, rest @ ..] => (usize::from(u16::from_be_bytes([*a, *b])).min(rest.len()), rest),
        _ => (0, data),
    };
    let (xml, der) = rest.split_at(split);
    let signature = B64.encode(xml);
    let ocsp = B64.encode(der);
    let expect = Expectations::new(TrustAnchors::bankid(Environment::Test));
    let verified = verify(&signature, Some(&ocsp), &expect).is_ok();
    let _ = verify(&signature, None, &expect.at(Timestamp::from_unix_seconds(1_470_388_874)));
    verified
}

/// The fuzz seed: the split, the genuine XML, the genuine OCSP DER.
fn seed() -> Vec<u8> {
    let (xml, der) = (genuine_xml(), genuine_ocsp());
    let mut data = u16::try_from(xml.len()).expect("fits").to_be_bytes().to_vec();
    data.extend_from_slice(&xml);
    data.extend_from_slice(&der);
    data
}

#[test]
fn the_fuzz_body_runs_on_its_seed_and_on_edges() {
    assert!(fuzz_one(&seed()), "the seed is a genuine signature that verifies");
    for edge in [&[][..], &[0], &[0, 0], &[255; 64]] {
        assert!(!fuzz_one(edge));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, .. ProptestConfig::default() })]

    #[test]
    fn mutated_fuzz_seed(pos in 0usize..15_000, val in any::<u8>()) {
        let mut data = seed();
        let pos = pos % data.len();
        data[pos] = val;
        fuzz_one(&data);
    }

    #[test]
    fn arbitrary_strings(s in "\\PC{0,200}", o in proptest::option::of("\\PC{0,64}")) {
        let _ = verify(&s, o.as_deref(), &expect());
    }

    #[test]
    fn arbitrary_xml_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = verify(&B64.encode(&bytes), None, &expect().at(Timestamp::from_unix_seconds(1_500_000_000)));
    }

    #[test]
    fn mutated_genuine_xml(pos in 0usize..12_000, cut in 0usize..40, piece in xml_piece()) {
        let xml = genuine_xml();
        let pos = pos % xml.len();
        let end = (pos + cut).min(xml.len());
        let mut m = xml[..pos].to_vec();
        m.extend_from_slice(piece.as_bytes());
        m.extend_from_slice(&xml[end..]);
        let _ = verify(&B64.encode(&m), Some(&field("ocspResponse")), &expect());
    }

    #[test]
    fn flipped_xml_byte(pos in 0usize..12_000, bit in 0u8..8) {
        let mut xml = genuine_xml();
        let pos = pos % xml.len();
        xml[pos] ^= 1 << bit;
        let _ = verify(&B64.encode(&xml), Some(&field("ocspResponse")), &expect());
    }

    #[test]
    fn arbitrary_ocsp_der(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = verify(&field("signature"), Some(&B64.encode(&bytes)), &expect());
    }

    #[test]
    fn mutated_genuine_ocsp(pos in 0usize..2_000, val in any::<u8>(), truncate in any::<bool>()) {
        let mut der = genuine_ocsp();
        let pos = pos % der.len();
        if truncate { der.truncate(pos) } else { der[pos] = val }
        let _ = verify(&field("signature"), Some(&B64.encode(&der)), &expect());
    }

    #[test]
    fn mutated_root_der(pos in 0usize..1_500, val in any::<u8>(), truncate in any::<bool>()) {
        // A mutated root as the trust anchor: if it still parses, the chain is checked against it.
        let mut der = TrustAnchors::bankid(Environment::Test).certificates()[0].clone();
        let pos = pos % der.len();
        if truncate { der.truncate(pos) } else { der[pos] = val }
        if let Ok(anchors) = TrustAnchors::from_der(vec![der]) {
            let _ = verify(&field("signature"), Some(&field("ocspResponse")), &Expectations::new(anchors));
        }
    }
}
