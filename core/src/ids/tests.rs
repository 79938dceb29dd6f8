//! R21: identifier validation and normalization.

use super::*;
use proptest::prelude::*;

fn reason<T: std::fmt::Debug>(r: Result<T, ValidationError>) -> (&'static str, Reason) {
    let e = r.expect_err("must be refused");
    (e.field, e.reason)
}

#[test]
fn r21_snils_normalizes_human_formats() {
    assert_eq!(snils("112-233-445 95").unwrap(), "11223344595");
    assert_eq!(snils(" 11223344595 ").unwrap(), "11223344595");
    assert_eq!(snils("112 233 445 95").unwrap(), "11223344595");
}

#[test]
fn r21_snils_checksum_rules() {
    assert_eq!(reason(snils("112-233-445 96")), ("snils", Reason::Checksum));
    // Sum 100 and 101 give check number 00; above 101 the sum is taken mod 101.
    // 000-000-9xx family: 9*... verified by brute force against the rule below.
    for n in [1_001_999u32, 123_456_789, 999_999_999, 500_000_000] {
        let body = format!("{n:09}");
        let sum: u32 = body.bytes().zip((1..=9).rev()).map(|(b, w)| u32::from(b - b'0') * w).sum();
        let check = if sum < 100 {
            sum
        } else if sum <= 101 {
            0
        } else {
            sum % 101 % 100
        };
        let good = format!("{body}{check:02}");
        assert_eq!(snils(&good).unwrap(), good);
        let bad = format!("{body}{:02}", (check + 1) % 100);
        assert_eq!(reason(snils(&bad)), ("snils", Reason::Checksum));
    }
}

#[test]
fn r21_snils_old_numbers_carry_no_checksum() {
    assert_eq!(snils("001-001-998 00").unwrap(), "00100199800");
    assert_eq!(snils("000-000-001 57").unwrap(), "00000000157");
    // Just above the boundary the checksum applies again.
    assert_eq!(reason(snils("001-001-999 00")), ("snils", Reason::Checksum));
}

#[test]
fn r21_snils_length_and_characters() {
    assert_eq!(reason(snils("")), ("snils", Reason::Empty));
    assert_eq!(reason(snils("1122334459")), ("snils", Reason::Length));
    assert_eq!(reason(snils("112-233-445 9A")), ("snils", Reason::NotDigits));
    // Non-ASCII digits (Arabic-Indic) are not accepted as digits.
    assert_eq!(reason(snils("١١٢٢٣٣٤٤٥٩٥")), ("snils", Reason::NotDigits));
}

#[test]
fn r21_inn_10_and_12_digits() {
    assert_eq!(inn("7709442668").unwrap(), "7709442668");
    assert_eq!(inn("7707083893").unwrap(), "7707083893");
    assert_eq!(inn("5001 0073 2259").unwrap(), "500100732259");
    assert_eq!(reason(inn("7709442669")), ("inn", Reason::Checksum));
    assert_eq!(reason(inn("500100732258")), ("inn", Reason::Checksum));
    assert_eq!(reason(inn("500100732239")), ("inn", Reason::Checksum));
    assert_eq!(reason(inn("77094426")), ("inn", Reason::Length));
    assert_eq!(reason(inn("77094426681")), ("inn", Reason::Length));
}

#[test]
fn r21_enp_check_digit() {
    assert_eq!(enp("8451999122899990").unwrap(), "8451999122899990");
    assert_eq!(enp("8451 9991 2289 9990").unwrap(), "8451999122899990");
    assert_eq!(reason(enp("8451999122899991")), ("enp", Reason::Checksum));
    assert_eq!(reason(enp("845199912289999")), ("enp", Reason::Length));
}

#[test]
fn r21_passport_series_and_number() {
    assert_eq!(passport("45 08 123456").unwrap(), "4508123456");
    assert_eq!(passport("4508 № 123456").unwrap(), "4508123456");
    assert_eq!(reason(passport("45 08 12345")), ("passport", Reason::Length));
    assert_eq!(reason(passport("00 08 123456")), ("passport", Reason::Format));
    assert_eq!(reason(passport("45 08 000000")), ("passport", Reason::Format));
}

#[test]
fn r21_phone_to_e164() {
    for input in
        ["8 (916) 123-45-67", "+7 916 123 45 67", "+79161234567", "79161234567", "9161234567", "8-916-123-45-67"]
    {
        assert_eq!(phone(input).unwrap(), "+79161234567", "{input}");
    }
    assert_eq!(reason(phone("8 (495) 123-45-67")), ("phone", Reason::NotMobile));
    assert_eq!(reason(phone("+1 202 555 0143")), ("phone", Reason::Country));
    assert_eq!(reason(phone("+7 916 123 45")), ("phone", Reason::Length));
    assert_eq!(reason(phone("8 916 123 45 67 89")), ("phone", Reason::Length));
    assert_eq!(reason(phone("phone")), ("phone", Reason::NotDigits));
    assert_eq!(reason(phone("   ")), ("phone", Reason::Empty));
}

#[test]
fn r1_names_emails_and_sex() {
    assert_eq!(person_name("surname", "  Иванова-Петрова ").unwrap(), "Иванова-Петрова");
    assert_eq!(reason(person_name("surname", "Ivanov1")), ("surname", Reason::Format));
    assert_eq!(reason(person_name("given_name", "")), ("given_name", Reason::Empty));
    assert_eq!(email("Anna.Petrova@Example.RU").unwrap(), "Anna.Petrova@example.ru");
    assert_eq!(email("анна@почта.рф").unwrap(), "анна@почта.рф");
    for bad in ["anna", "anna@", "@example.ru", "anna@example", "an na@example.ru", "anna@-x.ru"] {
        assert_eq!(reason(email(bad)), ("email", Reason::Format), "{bad}");
    }
    assert_eq!(Sex::parse_known("Ж").unwrap(), Sex::Female);
    assert_eq!(reason(Sex::parse_known("x")), ("sex", Reason::UnknownValue));
    // R1: registration needs male or female; only records from other systems may say unknown.
    assert_eq!(reason(Sex::parse_known("unknown")), ("sex", Reason::UnknownValue));
    assert_eq!(Sex::parse("unknown").unwrap(), Sex::Unknown);
    assert_eq!(Sex::parse("ж").unwrap(), Sex::Female);
    assert_eq!(Sex::Unknown.as_str(), "unknown");
}

#[test]
fn r21_errors_never_echo_the_value() {
    let e = snils("112-233-445 96").unwrap_err();
    let shown = format!("{e} {e:?} {}", crate::error::ErrorCode::message(&e, crate::i18n::Locale::En));
    assert!(!shown.contains("112"), "{shown}");
    assert!(shown.contains("snils") && shown.contains("SNILS"));
    let ru = crate::error::ErrorCode::message(&e, crate::i18n::Locale::Ru);
    assert!(ru.contains("СНИЛС") && ru.contains("контрольное"), "{ru}");
}

proptest! {
    #[test]
    fn r21_parsers_never_panic(s in "\\PC{0,40}") {
        let _ = (snils(&s), inn(&s), enp(&s), passport(&s), phone(&s), email(&s));
    }

    #[test]
    fn r21_normalized_forms_are_fixed_points(n in 1_002_000u32..999_999_999) {
        let body = format!("{n:09}");
        let sum: u32 = body.bytes().zip((1..=9).rev()).map(|(b, w)| u32::from(b - b'0') * w).sum();
        let check = if sum < 100 { sum } else if sum <= 101 { 0 } else { sum % 101 % 100 };
        let spaced = format!("{}-{}-{} {check:02}", &body[..3], &body[3..6], &body[6..]);
        let once = snils(&spaced).unwrap();
        prop_assert_eq!(snils(&once).unwrap(), once.clone());
    }
}
