//! Error kinds and the stable code/message contract: a leaf module (it knows only the message
//! catalog), so every area's error type can implement it without depending on the others.

use crate::i18n::Locale;

/// What a caller can do about an error; bindings map these to exception classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Bad input: a field failed validation.
    Validation,
    /// Credentials, codes or second factors were wrong, expired or locked.
    Authentication,
    /// The session is expired, revoked or blocked.
    Session,
    /// The caller may not do this.
    PermissionDenied,
    /// The thing asked for does not exist (or is not visible to the caller).
    NotFound,
    /// The operation clashes with the current state (a taken slot, a passed deadline).
    Conflict,
    /// Stored data failed an integrity check (tampered ciphertext, checksum mismatch).
    Integrity,
    /// The database or the key store failed.
    Storage,
    /// The configuration (URL, keys, parameters) is wrong.
    Config,
}

/// Stable machine code and localized message of an error.
pub trait ErrorCode {
    /// Stable machine code such as `"validation"` or `"crypto.integrity"`.
    fn code(&self) -> &'static str;
    /// The category a caller acts on.
    fn kind(&self) -> ErrorKind;
    /// Human message in `locale`; free of personal data.
    fn message(&self, locale: Locale) -> String {
        crate::i18n::text(locale, self.code()).to_owned()
    }
}
