//! Instants as whole seconds since the Unix epoch, with the calendar arithmetic for ASN.1
//! `GeneralizedTime` and RFC 3339 (proleptic Gregorian, UTC). No clock is ever read here.

use std::fmt;

/// An instant, in whole seconds since 1970-01-01T00:00:00Z (negative before). The time at which
/// a signature is judged is always given by the caller or taken from the OCSP response: this
/// crate never reads the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// The instant `secs` seconds after the Unix epoch.
    pub const fn from_unix_seconds(secs: i64) -> Self {
        Self(secs)
    }

    /// Seconds since the Unix epoch.
    pub const fn unix_seconds(self) -> i64 {
        self.0
    }

    /// Parses RFC 3339 (`2016-08-05T09:21:14Z`, `2016-08-05T11:21:14.5+02:00`; fractions are
    /// dropped). `None` if it is not a valid date and time.
    ///
    /// ```
    /// use bankid_verify::Timestamp;
    /// assert_eq!(Timestamp::parse_rfc3339("1970-01-02T00:00:01Z"), Some(Timestamp::from_unix_seconds(86_401)));
    /// assert_eq!(Timestamp::parse_rfc3339("2016-08-05T11:21:14+02:00"), Timestamp::parse_rfc3339("2016-08-05T09:21:14Z"));
    /// assert_eq!(Timestamp::parse_rfc3339("2016-02-30T00:00:00Z"), None);
    /// ```
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = b.get(r)?;
            if part.iter().all(u8::is_ascii_digit) {
                Some(part.iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0')))
            } else {
                None
            }
        };
        let (y, mo, d, h, mi, se) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
        let mut rest = &b[19..];
        if rest.first() == Some(&b'.') {
            let digits = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if digits == 0 {
                return None;
            }
            rest = &rest[1 + digits..];
        }
        let offset = match rest {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
                let oh = std::str::from_utf8(&[*h1, *h2]).ok()?.parse::<i64>().ok()?;
                let om = std::str::from_utf8(&[*m1, *m2]).ok()?.parse::<i64>().ok()?;
                if oh > 23 || om > 59 {
                    return None;
                }
                let o = oh * 3600 + om * 60;
                if *sign == b'+' { o } else { -o }
            }
            _ => return None,
        };
        Self::from_civil(y, mo, d, h, mi, se).map(|t| Self(t.0 - offset))
    }

    /// The instant of a UTC calendar date and time, if it is a valid one (seconds up to 60 are
    /// accepted for leap seconds and counted as 59).
    pub(crate) fn from_civil(y: i64, mo: i64, d: i64, h: i64, mi: i64, s: i64) -> Option<Self> {
        if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60 {
            return None;
        }
        Some(Self(days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s.min(59)))
    }

    /// Parses the content of an ASN.1 `GeneralizedTime` as DER writes it (`YYYYMMDDHHMMSSZ`,
    /// optionally with a fraction of a second, which is dropped).
    pub(crate) fn parse_generalized_time(b: &[u8]) -> Option<Self> {
        if b.len() < 15 || b.last() != Some(&b'Z') {
            return None;
        }
        let digits = &b[..14];
        if !digits.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let frac = &b[14..b.len() - 1];
        if !frac.is_empty() && (frac[0] != b'.' || frac.len() < 2 || !frac[1..].iter().all(u8::is_ascii_digit)) {
            return None;
        }
        let n = |i: usize, len: usize| digits[i..i + len].iter().fold(0i64, |a, d| a * 10 + i64::from(d - b'0'));
        Self::from_civil(n(0, 4), n(4, 2), n(6, 2), n(8, 2), n(10, 2), n(12, 2))
    }
}

impl fmt::Display for Timestamp {
    /// RFC 3339 in UTC: `2016-08-05T09:21:14Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, m, d) = civil_from_days(days);
        write!(f, "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", secs / 3600, (secs / 60) % 60, secs % 60)
    }
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for s in ["1970-01-01T00:00:00Z", "2000-02-29T23:59:59Z", "2016-08-05T09:21:14Z", "1969-12-31T23:59:59Z"] {
            let t = Timestamp::parse_rfc3339(s).expect(s);
            assert_eq!(t.to_string(), s);
        }
        assert_eq!(
            Timestamp::parse_generalized_time(b"20160805092114Z"),
            Timestamp::parse_rfc3339("2016-08-05T09:21:14Z")
        );
        assert_eq!(
            Timestamp::parse_generalized_time(b"20160805092114.123Z").map(Timestamp::unix_seconds),
            Some(1_470_388_874)
        );
        for bad in
            [&b"20160805092114"[..], b"2016080509211Z", b"20161305092114Z", b"20160805092114.Z", b"2016080509211aZ"]
        {
            assert_eq!(Timestamp::parse_generalized_time(bad), None);
        }
        for bad in [
            "2016-08-05",
            "2016-08-05T09:21:14",
            "2016-08-05T25:21:14Z",
            "2016-08-05T09:21:14+2:00",
            "x016-08-05T09:21:14Z",
        ] {
            assert_eq!(Timestamp::parse_rfc3339(bad), None, "{bad}");
        }
    }
}
