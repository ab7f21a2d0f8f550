//! A minimal DER reader and writer: enough to read a certificate's subject name and to write
//! an OCSP response.

/// Splits one TLV off `input`: (tag, whole TLV, content, rest). Definite lengths only.
/// (tag, whole TLV, content, rest).
type Tlv<'a> = (u8, &'a [u8], &'a [u8], &'a [u8]);

fn split_tlv(input: &[u8]) -> Option<Tlv<'_>> {
    let (&tag, rest) = input.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (usize::from(first), rest)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    let header = input.len() - rest.len();
    Some((tag, &input[..header + len], &rest[..len], &rest[len..]))
}

/// The DER of a certificate's subject `Name`.
pub(crate) fn subject_of(cert_der: &[u8]) -> Option<&[u8]> {
    let (_, _, cert, _) = split_tlv(cert_der)?;
    let (_, _, mut tbs, _) = split_tlv(cert)?;
    let mut fields = Vec::new();
    while !tbs.is_empty() {
        let (tag, whole, _, rest) = split_tlv(tbs)?;
        fields.push((tag, whole));
        tbs = rest;
    }
    // [0] version (optional), serial, signature, issuer, validity, subject, ...
    let skip = usize::from(fields.first()?.0 == 0xa0);
    fields.get(skip + 4).map(|(_, whole)| *whole)
}

/// One TLV.
pub(crate) fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(content.len() + 6);
    out.push(tag);
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        out.push(0x80 | (bytes.len() - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// A SEQUENCE of already-encoded parts.
pub(crate) fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// `GeneralizedTime` (`YYYYMMDDHHMMSSZ`) for seconds since the Unix epoch.
pub(crate) fn generalized_time(unix_secs: u64) -> Vec<u8> {
    let days = i64::try_from(unix_secs / 86_400).unwrap_or(0);
    let secs = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let s = format!("{y:04}{m:02}{d:02}{:02}{:02}{:02}Z", secs / 3600, (secs / 60) % 60, secs % 60);
    tlv(0x18, s.as_bytes())
}

/// Days since 1970-01-01 to a proleptic Gregorian (year, month, day) (H. Hinnant's algorithm).
pub(crate) fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths() {
        assert_eq!(tlv(0x04, &[1, 2]), vec![0x04, 2, 1, 2]);
        let long = tlv(0x04, &[0u8; 300]);
        assert_eq!(&long[..4], &[0x04, 0x82, 0x01, 0x2c]);
        let (tag, whole, content, rest) = split_tlv(&long).expect("parses");
        assert_eq!((tag, whole.len(), content.len(), rest.len()), (0x04, 304, 300, 0));
        assert!(split_tlv(&[0x04, 0x85, 1, 1, 1, 1, 1]).is_none());
        assert!(split_tlv(&[0x04, 0x03, 1]).is_none());
    }

    #[test]
    fn times() {
        assert_eq!(generalized_time(0), tlv(0x18, b"19700101000000Z"));
        assert_eq!(generalized_time(951_782_400), tlv(0x18, b"20000229000000Z"));
        assert_eq!(generalized_time(1_701_216_000 + 3661), tlv(0x18, b"20231129010101Z"));
    }
}
