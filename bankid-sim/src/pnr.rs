//! Swedish personal identity numbers (personnummer) and coordination numbers
//! (samordningsnummer, day + 60), 12 digits `YYYYMMDDNNNC`.

/// `true` if `pnr` is 12 ASCII digits `YYYYMMDDNNNC` with a real date (day + 60 allowed for a
/// samordningsnummer) and a valid Luhn check digit over the last ten digits.
///
/// ```
/// assert!(bankid_sim::is_valid_personal_number("198001019994"));
/// assert!(!bankid_sim::is_valid_personal_number("198001019990"));
/// ```
pub fn is_valid_personal_number(pnr: &str) -> bool {
    let b = pnr.as_bytes();
    if b.len() != 12 || !b.iter().all(u8::is_ascii_digit) {
        return false;
    }
    let num = |r: std::ops::Range<usize>| b[r].iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0'));
    let (year, month, mut day) = (num(0..4), num(4..6), num(6..8));
    if day > 60 {
        day -= 60;
    }
    if !(1800..=2199).contains(&year) || !(1..=12).contains(&month) || day == 0 {
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
