//! Input checks that run before anything is sent (spec §2).
//!
//! Each check names the field as BankID does and never echoes a personal number back.
//!
//! Requests refuse what BankID refuses and nothing more: [`personal_number`] checks the form
//! BankID checks (twelve digits). [`personal_number_strict`] adds the date and the check digit,
//! for forms where a typo should be caught; requests never apply it.
//!
//! Every limit has a source in `../shared/spec/bankid-rp-api-v6.md`, or says next to it that it
//! has none. Without a documented limit the core takes the widest plausible one, so that it never
//! refuses what BankID accepts: the `app` members (1-256 characters, like `web.userAgent`), the
//! length of `riskWarning` (1-256), the payment texts (the sign limits), and no limit on the
//! number of certificate policies.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

use crate::input::InvalidInput;

/// Checks a `personalNumber` the way BankID does: twelve ASCII digits (`YYYYMMDDNNNN`).
///
/// This is the check every request runs (`requirement.personalNumber`, and the `personalNumber`
/// of phone and other/payment orders). It refuses exactly what BankID refuses with
/// "Incorrect personalNumber" (a wrong length, anything but digits) and lets through what it
/// accepts: BankID does **not** check the date or the check digit - bankid-cpp's test suite,
/// run against BankID's test service, sends `200003121145` and `200001010101`, whose check
/// digits are wrong, and gets HTTP 200 (spec §2.3, §2.6). Refusing such a number here would
/// lock out a user BankID would let in.
///
/// Where a typo should be caught before anything is sent - a form where a person types their
/// number - use [`personal_number_strict`] instead.
///
/// ```
/// use bankid_core::validate::personal_number;
///
/// assert!(personal_number("requirement.personalNumber", "199001011239").is_ok());
/// assert!(personal_number("requirement.personalNumber", "200003121145").is_ok()); // check digit: BankID accepts it
/// assert!(personal_number("requirement.personalNumber", "9001011239").is_err()); // 10 digits
/// assert!(personal_number("requirement.personalNumber", "19900101-1239").is_err());
/// ```
///
/// # Errors
/// [`InvalidInput`] naming `field` and what is wrong (never the number itself).
pub fn personal_number(field: &'static str, pnr: &str) -> Result<(), InvalidInput> {
    let bytes = pnr.as_bytes();
    if bytes.len() != 12 || !bytes.iter().all(u8::is_ascii_digit) {
        return Err(InvalidInput::new(field, "must be 12 digits (YYYYMMDDNNNN)"));
    }
    Ok(())
}

/// Checks that a personal identity number (personnummer) or coordination number
/// (samordningsnummer, day + 60) is a real one: twelve ASCII digits `YYYYMMDDNNNC`, a real
/// calendar date and a valid Luhn check digit over the last ten digits.
///
/// Stricter than BankID (see [`personal_number`], which requests use): meant for forms, where
/// a person types their number and a typo should be caught before an order is started for the
/// wrong number. Requests never call it; call it yourself before building one.
///
/// ```
/// use bankid_core::validate::personal_number_strict;
///
/// assert!(personal_number_strict("personalNumber", "199001011239").is_ok());
/// assert!(personal_number_strict("personalNumber", "199001611236").is_ok()); // samordningsnummer
/// assert!(personal_number_strict("personalNumber", "199001011234").is_err()); // check digit
/// assert!(personal_number_strict("personalNumber", "199013011235").is_err()); // month 13
/// ```
///
/// # Errors
/// [`InvalidInput`] naming `field` and what is wrong (never the number itself).
pub fn personal_number_strict(field: &'static str, pnr: &str) -> Result<(), InvalidInput> {
    personal_number(field, pnr)?;
    let bytes = pnr.as_bytes();
    let digit = |i: usize| u32::from(bytes[i] - b'0');
    let number = |from: usize, len: usize| (from..from + len).fold(0, |acc, i| acc * 10 + digit(i));
    let (year, month, mut day) = (number(0, 4), number(4, 2), number(6, 2));
    if day > 60 {
        day -= 60; // samordningsnummer
    }
    if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(InvalidInput::new(field, "does not hold a valid date"));
    }
    // Luhn over the ten digits YYMMDDNNNC.
    let sum: u32 = (2..12)
        .map(|i| {
            let d = digit(i);
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    if !sum.is_multiple_of(10) {
        return Err(InvalidInput::new(field, "has an invalid check digit"));
    }
    Ok(())
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        _ => 31,
    }
}

/// The length of `len` bytes after standard base64 encoding with padding.
#[must_use]
pub const fn base64_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

/// Base64-encodes `data` for `field` after checking that the encoded form is `1..=max` long.
pub(crate) fn base64_field(field: &'static str, data: &[u8], max: usize) -> Result<String, InvalidInput> {
    let encoded_len = base64_len(data.len());
    if data.is_empty() {
        return Err(InvalidInput::new(field, "must not be empty (omit it instead)"));
    }
    if encoded_len > max {
        return Err(InvalidInput::new(
            field,
            format!("is {encoded_len} characters after base64, at most {max} are allowed"),
        ));
    }
    Ok(BASE64.encode(data))
}

/// Checks that a text field is `min..=max` characters long.
pub(crate) fn text_len(field: &'static str, text: &str, min: usize, max: usize) -> Result<(), InvalidInput> {
    let len = text.chars().count();
    if len < min || len > max {
        return Err(InvalidInput::new(field, format!("must be {min} to {max} characters long, is {len}")));
    }
    Ok(())
}

/// Checks a payment amount: digits with at most one decimal separator, which must be a comma.
pub(crate) fn amount(field: &'static str, amount: &str) -> Result<(), InvalidInput> {
    let mut parts = amount.splitn(2, ',');
    let whole = parts.next().unwrap_or_default();
    let fraction = parts.next();
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if amount.contains('.') {
        return Err(InvalidInput::new(field, "the decimal separator must be a comma (e.g. \"100,00\")"));
    }
    if !digits(whole) || fraction.is_some_and(|f| !digits(f)) {
        return Err(InvalidInput::new(field, "must be digits with an optional comma decimal part (e.g. \"1000,00\")"));
    }
    text_len(field, amount, 1, 48)
}

/// Checks an ISO 4217 alphabetic currency code.
pub(crate) fn currency(field: &'static str, code: &str) -> Result<(), InvalidInput> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(InvalidInput::new(field, "must be an ISO 4217 code of three capital letters (e.g. \"SEK\")"))
    }
}

/// Checks a certificate policy OID, with an optional trailing `*` wildcard from the fifth
/// position (e.g. `1.2.752.78.*`).
pub(crate) fn certificate_policy(field: &'static str, oid: &str) -> Result<(), InvalidInput> {
    let arcs: Vec<&str> = oid.split('.').collect();
    let numeric = |arc: &&str| !arc.is_empty() && arc.bytes().all(|b| b.is_ascii_digit());
    let ok = match arcs.split_last() {
        Some((&"*", head)) => head.len() >= 4 && head.iter().all(numeric),
        Some(_) => arcs.len() >= 2 && arcs.iter().all(numeric),
        None => false,
    };
    if ok {
        Ok(())
    } else {
        Err(InvalidInput::new(
            field,
            format!("{oid:?} is not a dotted OID (a final `*` is allowed from the fifth arc)"),
        ))
    }
}

/// Checks `web.referringDomain`: 3-253 characters of `0-9 a-z . -` (punycode for IDNs).
pub(crate) fn referring_domain(field: &'static str, domain: &str) -> Result<(), InvalidInput> {
    text_len(field, domain, 3, 253)?;
    if domain.bytes().all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'.' || b == b'-') {
        Ok(())
    } else {
        Err(InvalidInput::new(field, "may hold only 0-9, a-z, '.' and '-' (punycode-encode international names)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn personal_numbers_as_bankid_accepts_them() {
        // bankid-cpp's numbers (wrong check digits) that BankID's test service accepts.
        for ok in ["200003121145", "200001010101", "199001011239", "000000000000", "199913329999"] {
            personal_number("pnr", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in ["", "19900101123", "1990010112390", "19900101123x", "19900101-1239", " 199001011239", "１９９０"]
        {
            let err = personal_number("personalNumber", bad).unwrap_err();
            assert_eq!(err.field, "personalNumber");
            assert!(bad.is_empty() || !err.to_string().contains(bad), "{bad}");
        }
    }

    #[test]
    fn personal_numbers_strict() {
        for ok in ["199001011239", "200002292381", "199001611236", "190001010107"] {
            personal_number_strict("pnr", ok).unwrap_or_else(|e| panic!("{ok}: {e}"));
        }
        for bad in [
            "",
            "19900101123",
            "1990010112390",
            "19900101123x",
            "199013011235",
            "199002301234",
            "190002290000",
            "199001011234",
            "199001921231",
            "200003121145",
            "200001010101",
        ] {
            assert!(personal_number_strict("pnr", bad).is_err(), "{bad}");
        }
        let err = personal_number_strict("personalNumber", "199001011234").unwrap_err();
        assert_eq!(err.field, "personalNumber");
        assert!(!err.to_string().contains("199001011234"));
    }

    #[test]
    fn base64_lengths() {
        assert_eq!(base64_len(0), 0);
        assert_eq!(base64_len(1), 4);
        assert_eq!(base64_len(3), 4);
        assert_eq!(base64_len(4), 8);
        assert_eq!(base64_field("f", b"hello", 8).unwrap(), "aGVsbG8=");
        assert!(base64_field("f", b"hello", 7).is_err());
        assert!(base64_field("f", b"", 7).is_err());
        // 1125 bytes encode to exactly 1500 characters.
        assert!(base64_field("f", &[b'a'; 1125], 1500).is_ok());
        assert!(base64_field("f", &[b'a'; 1126], 1500).is_err());
    }

    #[test]
    fn amounts_and_currencies() {
        for ok in ["1000,00", "100,000", "100", "0"] {
            amount("a", ok).unwrap();
        }
        for bad in ["100.00", "", ",5", "5,", "1,2,3", "-1", "1 000"] {
            assert!(amount("a", bad).is_err(), "{bad}");
        }
        currency("c", "SEK").unwrap();
        assert!(currency("c", "sek").is_err());
        assert!(currency("c", "SEKK").is_err());
    }

    #[test]
    fn policies_and_domains() {
        for ok in ["1.2.752.78.1.5", "1.2.3.4.5", "1.2.752.78.*"] {
            certificate_policy("p", ok).unwrap();
        }
        for bad in ["", "1", "1.2.*", "a.b.c", "1..2", "1.2.752.78.*.1"] {
            assert!(certificate_policy("p", bad).is_err(), "{bad}");
        }
        referring_domain("d", "example.com").unwrap();
        assert!(referring_domain("d", "Example.com").is_err());
        assert!(referring_domain("d", "ex").is_err());
    }
}
