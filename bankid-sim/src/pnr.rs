//! Swedish personal identity numbers (personnummer) and coordination numbers
//! (samordningsnummer, day + 60), 12 digits `YYYYMMDDNNNC`: what BankID accepts, and the
//! stricter check of a real number.

/// `true` if BankID accepts `pnr` as a `personalNumber`: exactly 12 ASCII digits. This is what
/// the simulator's request validation uses. BankID's test service accepts numbers whose date or
/// check digit is wrong (bankid-cpp's suite, run against it, sends `200003121145` and
/// `200001010101` and gets HTTP 200) and answers "Incorrect personalNumber" only for malformed
/// values (spec §2.3, §2.6).
///
/// ```
/// assert!(bankid_sim::is_accepted_personal_number("200003121145")); // wrong check digit
/// assert!(!bankid_sim::is_accepted_personal_number("20000312114"));
/// assert!(!bankid_sim::is_accepted_personal_number("2000-0312114"));
/// ```
pub fn is_accepted_personal_number(pnr: &str) -> bool {
    pnr.len() == 12 && pnr.bytes().all(|b| b.is_ascii_digit())
}

/// `true` if `pnr` is a real number: 12 ASCII digits `YYYYMMDDNNNC` with a real date (day + 60
/// allowed for a samordningsnummer, any year) and a valid Luhn check digit over the last
/// ten digits. Stricter than BankID ([`is_accepted_personal_number`]); the simulator uses it
/// only for its own test person.
///
/// ```
/// assert!(bankid_sim::is_valid_personal_number("198001019994"));
/// assert!(!bankid_sim::is_valid_personal_number("198001019990"));
/// ```
pub fn is_valid_personal_number(pnr: &str) -> bool {
    let b = pnr.as_bytes();
    if !is_accepted_personal_number(pnr) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let (year, month, mut day) = (num(0..4), num(4..6), num(6..8));
    if day > 60 {
        day -= 60;
    }
    if !(1..=12).contains(&month) || day == 0 {
        return false;
    }
    if day > days_in_month(year, month) {
        return false;
    }
    luhn_ok(&b[2..])
}

fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Luhn over ASCII digits; the last digit is the check digit.
fn luhn_ok(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 1 {
                let x = d * 2;
                if x > 9 { x - 9 } else { x }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid() {
        for p in ["198001019994", "190001012384", "200002292381", "198001619991", "199001012385"] {
            assert!(is_valid_personal_number(p), "{p}");
        }
    }

    #[test]
    fn bankid_accepts_any_twelve_digits() {
        for p in ["200003121145", "200001010101", "000000000000", "999999999999", "198001019990"] {
            assert!(is_accepted_personal_number(p), "{p}");
        }
        for p in [
            "",
            "20000312114",
            "2000031211450",
            "20000312114a",
            "20000312-1145",
            " 200003121145",
            "２００００３１２１１４５",
        ] {
            assert!(!is_accepted_personal_number(p), "{p}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for p in [
            "",
            "19800101999",
            "1980010199900",
            "19800101999a",
            "198013019994",
            "198000019990",
            "198002309990",
            "190002292381",
            "198001929994",
            "198001019990",
            "１９８００１０１９９９０",
            "179901019990",
        ] {
            assert!(!is_valid_personal_number(p), "{p}");
        }
    }
}
