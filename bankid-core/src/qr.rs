//! The animated QR code (spec §6).
//!
//! ```text
//! bankid.{qrStartToken}.{seconds}.{hex(HMAC-SHA256(key = qrStartSecret, msg = seconds))}
//! ```
//!
//! `seconds` is the number of whole seconds since the start response arrived. The content
//! changes every second; show it only while the order is pending with `outstandingTransaction`.
//! [`crate::Order`] does all of that; the functions here serve callers that keep the QR start
//! state elsewhere, e.g. a stateless web server with the start time in a session.

use std::fmt::Write as _;
use std::time::{Duration, Instant, SystemTime};

use hmac::{Hmac, KeyInit as _, Mac as _};
use sha2::Sha256;

/// The QR content for `seconds` whole seconds after the order started.
///
/// ```
/// let content = bankid_core::qr::content(
///     "67df3917-fa0d-44e5-b327-edcc928297f8",
///     "d28db9a7-4cde-429e-a983-359be676944c",
///     0,
/// );
/// assert_eq!(
///     content,
///     "bankid.67df3917-fa0d-44e5-b327-edcc928297f8.0.dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"
/// );
/// ```
#[must_use]
pub fn content(qr_start_token: &str, qr_start_secret: &str, seconds: u64) -> String {
    QrGenerator::new(qr_start_token, qr_start_secret).content(seconds)
}

/// Generates the QR contents of one order, with the HMAC key schedule computed once: each
/// content then costs half the hashing of a one-shot [`content`].
#[derive(Clone)]
pub struct QrGenerator {
    token: String,
    keyed: Hmac<Sha256>,
}

impl QrGenerator {
    /// A generator for the order with these QR start token and secret.
    #[must_use]
    pub fn new(qr_start_token: &str, qr_start_secret: &str) -> Self {
        // HMAC-SHA256 accepts keys of any length: `new_from_slice` cannot fail.
        let keyed = <Hmac<Sha256>>::new_from_slice(qr_start_secret.as_bytes()).unwrap_or_else(|_| unreachable!());
        Self { token: qr_start_token.to_owned(), keyed }
    }

    /// The QR start token.
    #[must_use]
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The QR content for `seconds` whole seconds after the order started.
    #[must_use]
    pub fn content(&self, seconds: u64) -> String {
        let mut out = String::with_capacity("bankid...".len() + self.token.len() + 20 + 64);
        out.push_str("bankid.");
        out.push_str(&self.token);
        out.push('.');
        let time_start = out.len();
        // Writing into a String cannot fail.
        let _ = write!(out, "{seconds}");
        let mut mac = self.keyed.clone();
        mac.update(&out.as_bytes()[time_start..]);
        out.push('.');
        let mut hex = [0u8; 64];
        // The buffer holds exactly the 32-byte digest in hex: this cannot fail.
        let _ = hex::encode_to_slice(mac.finalize().into_bytes(), &mut hex);
        out.extend(hex.iter().map(|&b| char::from(b)));
        out
    }

    /// The QR content at `now` for an order whose start response arrived at `started`; a `now`
    /// before `started` counts as zero seconds.
    #[must_use]
    pub fn content_at(&self, started: Instant, now: Instant) -> String {
        self.content(now.saturating_duration_since(started).as_secs())
    }
}

impl std::fmt::Debug for QrGenerator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QrGenerator").field("token", &self.token).field("secret", &"[redacted]").finish()
    }
}

/// The QR content at `now` for an order whose start response arrived at `started`
/// (monotonic clock). A `now` before `started` counts as zero seconds.
#[must_use]
pub fn content_at(qr_start_token: &str, qr_start_secret: &str, started: Instant, now: Instant) -> String {
    content(qr_start_token, qr_start_secret, now.saturating_duration_since(started).as_secs())
}

/// The QR content at wall-clock `now` for an order started at wall-clock `started`, for servers
/// that keep the start time in a session. A `now` before `started` (a clock step back) counts as
/// zero seconds, never as a negative time.
#[must_use]
pub fn content_at_system_time(
    qr_start_token: &str,
    qr_start_secret: &str,
    started: SystemTime,
    now: SystemTime,
) -> String {
    let elapsed = now.duration_since(started).unwrap_or(Duration::ZERO);
    content(qr_start_token, qr_start_secret, elapsed.as_secs())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "67df3917-fa0d-44e5-b327-edcc928297f8";
    const SECRET: &str = "d28db9a7-4cde-429e-a983-359be676944c";

    #[test]
    fn official_vectors() {
        for (seconds, code) in [
            (0, "dc69358e712458a66a7525beef148ae8526b1c71610eff2c16cdffb4cdac9bf8"),
            (1, "949d559bf23403952a94d103e67743126381eda00f0b3cbddbf7c96b1adcbce2"),
            (2, "a9e5ec59cb4eee4ef4117150abc58fad7a85439a6a96ccbecc3668b41795b3f3"),
            (3, "96077d77699971790b46ee1f04ff1e44fe96b0602c9c51e4ca9c6d031c7c3bb7"),
            (10, "2822ca616ce1e64a1c171df69154ebc5adef4011244c867d6ad88a02db178962"),
            (30, "814d7fd38e2276625b6815152e3554c663acca689260c092203b48ca4e5c09a3"),
        ] {
            assert_eq!(content(TOKEN, SECRET, seconds), format!("bankid.{TOKEN}.{seconds}.{code}"));
            assert_eq!(QrGenerator::new(TOKEN, SECRET).content(seconds), format!("bankid.{TOKEN}.{seconds}.{code}"));
        }
        assert!(!format!("{:?}", QrGenerator::new(TOKEN, SECRET)).contains(SECRET));
    }

    #[test]
    #[allow(clippy::disallowed_methods)] // a test may read the clock
    fn instant_and_wall_clock_forms_agree_and_never_go_negative() {
        let started = Instant::now();
        let at = |ms| content_at(TOKEN, SECRET, started, started + Duration::from_millis(ms));
        assert_eq!(at(0), content(TOKEN, SECRET, 0));
        assert_eq!(at(999), content(TOKEN, SECRET, 0));
        assert_eq!(at(1_000), content(TOKEN, SECRET, 1));
        assert_eq!(at(30_999), content(TOKEN, SECRET, 30));
        assert_eq!(content_at(TOKEN, SECRET, started + Duration::from_secs(5), started), content(TOKEN, SECRET, 0));

        let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(
            content_at_system_time(TOKEN, SECRET, wall, wall + Duration::from_millis(2_500)),
            content(TOKEN, SECRET, 2)
        );
        assert_eq!(
            content_at_system_time(TOKEN, SECRET, wall, wall - Duration::from_secs(3)),
            content(TOKEN, SECRET, 0)
        );
    }
}
