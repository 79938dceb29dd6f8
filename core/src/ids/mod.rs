//! Russian identifiers (R21): SNILS, INN, ENP (OMS policy), passport, mobile phone.
//!
//! Each function accepts the formats people type ("112-233-445 95", "8 (916) 123-45-67"),
//! checks length and check digits, and returns the normalized form or a
//! [`ValidationError`] naming the field and the reason. Pure functions: no cabinet needed.

mod error;
mod person;

pub use error::{Reason, ValidationError};
pub use person::{Sex, email, person_name};

/// Keeps the digits of `input`, allowing only the separators people type between them.
fn digits_of(field: &'static str, input: &str, allowed: &[char]) -> Result<Vec<u8>, ValidationError> {
    let trimmed = input.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, Reason::Empty));
    }
    let mut digits = Vec::with_capacity(trimmed.len());
    for c in trimmed.chars() {
        if let Some(d) = c.to_digit(10) {
            if !c.is_ascii_digit() {
                return Err(ValidationError::new(field, Reason::NotDigits));
            }
            digits.push(d as u8);
        } else if !(c.is_whitespace() || allowed.contains(&c)) {
            return Err(ValidationError::new(field, Reason::NotDigits));
        }
    }
    Ok(digits)
}

fn to_string(digits: &[u8]) -> String {
    digits.iter().map(|d| char::from(b'0' + d)).collect()
}

fn weighted_sum(digits: &[u8], weights: &[u32]) -> u32 {
    digits.iter().zip(weights).map(|(d, w)| u32::from(*d) * w).sum()
}

/// SNILS (insurance number of an individual account): 11 digits, the last two a checksum.
///
/// Numbers up to 001-001-998 were issued before checksums and carry none.
pub fn snils(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "snils";
    let d = digits_of(FIELD, input, &['-'])?;
    if d.len() != 11 {
        return Err(ValidationError::new(FIELD, Reason::Length));
    }
    let number: u32 = d[..9].iter().fold(0, |acc, x| acc * 10 + u32::from(*x));
    if number > 1_001_998 {
        let sum = weighted_sum(&d[..9], &[9, 8, 7, 6, 5, 4, 3, 2, 1]);
        let expected = match sum {
            s if s < 100 => s,
            100 | 101 => 0,
            s => (s % 101) % 100,
        };
        let given = u32::from(d[9]) * 10 + u32::from(d[10]);
        if expected != given {
            return Err(ValidationError::new(FIELD, Reason::Checksum));
        }
    }
    Ok(to_string(&d))
}

/// INN (taxpayer number): 10 digits for organizations, 12 for individuals, with check digits.
pub fn inn(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "inn";
    const W10: [u32; 9] = [2, 4, 10, 3, 5, 9, 4, 6, 8];
    const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    let d = digits_of(FIELD, input, &['-'])?;
    let check = |digits: &[u8], weights: &[u32]| (weighted_sum(digits, weights) % 11 % 10) as u8;
    let ok = match d.len() {
        10 => check(&d[..9], &W10) == d[9],
        12 => check(&d[..10], &W11) == d[10] && check(&d[..11], &W12) == d[11],
        _ => return Err(ValidationError::new(FIELD, Reason::Length)),
    };
    if !ok {
        return Err(ValidationError::new(FIELD, Reason::Checksum));
    }
    Ok(to_string(&d))
}

/// ENP, the single OMS policy number: 16 digits, the last a mod-10 (Luhn) check digit
/// as in the FOMS rule (ISO/HL7 27931).
pub fn enp(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "enp";
    let d = digits_of(FIELD, input, &['-'])?;
    if d.len() != 16 {
        return Err(ValidationError::new(FIELD, Reason::Length));
    }
    // Luhn over the first 15 digits: from the right, every odd position is doubled.
    let sum: u32 = d[..15]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &x)| {
            let x = u32::from(x);
            if i % 2 == 0 {
                let doubled = x * 2;
                doubled / 10 + doubled % 10
            } else {
                x
            }
        })
        .sum();
    let expected = ((10 - sum % 10) % 10) as u8;
    if expected != d[15] {
        return Err(ValidationError::new(FIELD, Reason::Checksum));
    }
    Ok(to_string(&d))
}

/// Russian internal passport: 4-digit series and 6-digit number, e.g. "45 08 123456" →
/// "4508123456".
pub fn passport(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "passport";
    let d = digits_of(FIELD, input, &['-', '№', 'N'])?;
    if d.len() != 10 {
        return Err(ValidationError::new(FIELD, Reason::Length));
    }
    // Series "00" regions and number "000000" are never issued.
    if d[..2] == [0, 0] || d[4..].iter().all(|x| *x == 0) {
        return Err(ValidationError::new(FIELD, Reason::Format));
    }
    Ok(to_string(&d))
}

/// Russian mobile number in E.164: "8 (916) 123-45-67", "+7 916 1234567", "9161234567" →
/// "+79161234567".
pub fn phone(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "phone";
    let trimmed = input.trim();
    let international = trimmed.starts_with('+');
    let rest = trimmed.strip_prefix('+').unwrap_or(trimmed);
    let d = digits_of(FIELD, rest, &['-', '(', ')', '.'])?;
    let national: &[u8] = match (international, d.len(), d.first()) {
        (true, 11, Some(7)) => &d[1..],
        (true, _, Some(7)) => return Err(ValidationError::new(FIELD, Reason::Length)),
        (true, _, _) => return Err(ValidationError::new(FIELD, Reason::Country)),
        (false, 11, Some(7 | 8)) => &d[1..],
        (false, 10, _) => &d[..],
        _ => return Err(ValidationError::new(FIELD, Reason::Length)),
    };
    if national.first() != Some(&9) {
        return Err(ValidationError::new(FIELD, Reason::NotMobile));
    }
    Ok(format!("+7{}", to_string(national)))
}

#[cfg(test)]
mod tests;

/// A normalized SNILS in its usual written form, `112-233-445 95` (other input unchanged).
pub fn format_snils(normalized: &str) -> String {
    if normalized.len() == 11 && normalized.bytes().all(|b| b.is_ascii_digit()) {
        format!("{}-{}-{} {}", &normalized[..3], &normalized[3..6], &normalized[6..9], &normalized[9..])
    } else {
        normalized.to_owned()
    }
}

/// Unicode bidirectional controls (embeddings, overrides, isolates and marks): in names and
/// file names they make text read differently from what it is (`"txt.exe"` shown as `"exe.txt"`).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}
