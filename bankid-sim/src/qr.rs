//! The animated QR code (spec §6.1), computed and checked with the simulator's own HMAC-SHA256
//! so that it is an independent oracle for any client's QR generator.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &str, seconds: u64) -> HmacSha256 {
    // HMAC accepts keys of any length; this cannot fail.
    let Ok(mut mac) = HmacSha256::new_from_slice(secret.as_bytes()) else { unreachable_key() };
    mac.update(seconds.to_string().as_bytes());
    mac
}

#[cold]
fn unreachable_key() -> ! {
    // `Hmac::new_from_slice` only fails for fixed-size-key MACs; HMAC takes any key size.
    panic!("HMAC-SHA256 rejected a key")
}

/// `qrAuthCode`: lowercase hex of HMAC-SHA256(key = the `qrStartSecret` string's bytes,
/// message = `seconds` as a decimal string) - spec §6.1.
///
/// ```
/// assert_eq!(
///     bankid_sim::qr_auth_code("d28db9a7-4cde-429e-a983-359be676944c", 0),
///     "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
/// );
/// ```
pub fn qr_auth_code(qr_start_secret: &str, seconds: u64) -> String {
    hex::encode(mac(qr_start_secret, seconds).finalize().into_bytes())
}

/// The QR content `bankid.{qrStartToken}.{seconds}.{qrAuthCode}` for `seconds` whole seconds after
/// the start response.
pub fn qr_content(qr_start_token: &str, qr_start_secret: &str, seconds: u64) -> String {
    format!("bankid.{qr_start_token}.{seconds}.{}", qr_auth_code(qr_start_secret, seconds))
}

/// A QR content string taken apart (not yet verified).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ScannedQr<'a> {
    pub(crate) token: &'a str,
    pub(crate) seconds: u64,
    pub(crate) code: &'a str,
}

/// Splits `bankid.{token}.{seconds}.{code}`; `None` unless every part is well-formed
/// (seconds: plain decimal digits, code: 64 lowercase hex digits).
pub(crate) fn parse(content: &str) -> Option<ScannedQr<'_>> {
    let rest = content.strip_prefix("bankid.")?;
    let mut parts = rest.split('.');
    let (token, seconds, code) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || token.is_empty() || token.len() > 64 {
        return None;
    }
    if seconds.is_empty() || seconds.len() > 10 || !seconds.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if seconds.len() > 1 && seconds.starts_with('0') {
        return None;
    }
    if code.len() != 64 || !code.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    Some(ScannedQr { token, seconds: seconds.parse().ok()?, code })
}

/// Constant-time check of a scanned `qrAuthCode` against the secret.
pub(crate) fn verify(qr_start_secret: &str, seconds: u64, code_hex: &str) -> bool {
    let Ok(code) = hex::decode(code_hex) else {
        return false;
    };
    mac(qr_start_secret, seconds).verify_slice(&code).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "67df3917-fa0d-44e5-b327-edcc928297f8";
    const SECRET: &str = "d28db9a7-4cde-429e-a983-359be676944c";

    #[test]
    fn official_vectors() {
        let vectors = [
            (0, "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"),
            (1, "949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2"),
            (2, "a9e5ec59cb4eee4ef4117150abc58fad7a85439a6a96ccbecc3668b41795b3f3"),
            (3, "96077d77699971790b46ee1f04ff1e44fe96b0602c9c51e4ca9c6d031c7c3bb7"),
            (10, "2822ca616ce1e64a1c171df69154ebc5adef4011244c867d6ad88a02db178962"),
            (30, "814d7fd38e2276625b6815152e3554c663acca689260c092203b48ca4e5c09a3"),
        ];
        for (t, code) in vectors {
            assert_eq!(qr_auth_code(SECRET, t), code, "t={t}");
            assert!(verify(SECRET, t, code));
            assert!(!verify(SECRET, t + 1, code));
        }
        assert_eq!(
            qr_content(TOKEN, SECRET, 0),
            "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
        );
    }

    #[test]
    fn parses_and_rejects() {
        let c = qr_content(TOKEN, SECRET, 12);
        let p = parse(&c).expect("parses");
        assert_eq!(p.token, TOKEN);
        assert_eq!(p.seconds, 12);
        assert!(verify(SECRET, p.seconds, p.code));
        for bad in [
            "",
            "bankid.",
            "bankid.a.b.c",
            "bankid.tok.1",
            "bankid.tok.01.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8",
            "bankid.tok.-1.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8",
            "bankid.tok.1.DC69358E712458A66A7525BEEF148AE8526B1C71610EFF2C16CDFFB4CDAC9BF8",
            "bankid.tok.1.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8.x",
            "bankid.tok.99999999999.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8",
            "other.tok.1.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8",
        ] {
            assert!(parse(bad).is_none(), "{bad}");
        }
        assert!(!verify(SECRET, 0, "zz"));
    }
}
