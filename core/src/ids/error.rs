//! The validation error: which field, and why.

use crate::error::code::{ErrorCode, ErrorKind};
use crate::i18n::{self, Locale};

/// Why a value was refused. Stable codes: `reason.<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Reason {
    /// Nothing was given.
    Empty,
    /// Wrong number of characters or digits.
    Length,
    /// Characters other than digits and the usual separators.
    NotDigits,
    /// Check digits do not match.
    Checksum,
    /// The shape is wrong.
    Format,
    /// A phone number that is not a Russian mobile number.
    NotMobile,
    /// A phone number of another country.
    Country,
    /// A date in the future.
    Future,
    /// Longer than allowed.
    TooLong,
    /// Not one of the allowed values.
    UnknownValue,
    /// A password without an upper-case letter.
    NoUppercase,
    /// A password without a lower-case letter.
    NoLowercase,
    /// A password without a digit.
    NoDigit,
    /// A password without a special character.
    NoSpecial,
    /// A common password.
    CommonPassword,
    /// A password built from the person's own data.
    PersonalData,
    /// A password with a keyboard run, alphabet run or repeated character.
    Sequence,
    /// A password that is easy to guess (zxcvbn score below 3).
    TooWeak,
    /// Differs from the data on file for the person.
    Mismatch,
}

impl Reason {
    /// Stable name, e.g. `"checksum"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Empty => "empty",
            Reason::Length => "length",
            Reason::NotDigits => "not_digits",
            Reason::Checksum => "checksum",
            Reason::Format => "format",
            Reason::NotMobile => "not_mobile",
            Reason::Country => "country",
            Reason::Future => "future",
            Reason::TooLong => "too_long",
            Reason::UnknownValue => "unknown_value",
            Reason::NoUppercase => "no_uppercase",
            Reason::NoLowercase => "no_lowercase",
            Reason::NoDigit => "no_digit",
            Reason::NoSpecial => "no_special",
            Reason::CommonPassword => "common_password",
            Reason::PersonalData => "personal_data",
            Reason::Sequence => "sequence",
            Reason::TooWeak => "too_weak",
            Reason::Mismatch => "mismatch",
        }
    }
}

/// A field failed validation. Carries the field name and the reason, never the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {field}: {}{}", reason.as_str(), allowed_suffix(allowed))]
pub struct ValidationError {
    /// The field, e.g. `"snils"`.
    pub field: &'static str,
    /// Why it was refused.
    pub reason: Reason,
    /// For a closed set, the values that would have been accepted (otherwise empty).
    pub allowed: &'static [&'static str],
}

impl ValidationError {
    /// A validation error for `field`.
    pub fn new(field: &'static str, reason: Reason) -> Self {
        ValidationError { field, reason, allowed: &[] }
    }

    /// A value outside a closed set (or none, when `empty`); the error lists `allowed`.
    pub fn one_of(field: &'static str, empty: bool, allowed: &'static [&'static str]) -> Self {
        let reason = if empty { Reason::Empty } else { Reason::UnknownValue };
        ValidationError { field, reason, allowed }
    }
}

fn allowed_suffix(allowed: &[&str]) -> String {
    if allowed.is_empty() { String::new() } else { format!(" (one of: {})", allowed.join(", ")) }
}

impl ErrorCode for ValidationError {
    fn code(&self) -> &'static str {
        "validation"
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Validation
    }
    fn message(&self, locale: Locale) -> String {
        let field = i18n::text(locale, &format!("field.{}", self.field));
        let reason = i18n::text(locale, &format!("reason.{}", self.reason.as_str()));
        let mut message = format!("{}: {field} — {reason}", i18n::text(locale, "validation"));
        if !self.allowed.is_empty() {
            message.push_str(&format!(" ({}: {})", i18n::text(locale, "allowed.values"), self.allowed.join(", ")));
        }
        message
    }
}
