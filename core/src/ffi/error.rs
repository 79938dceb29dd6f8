//! The small error enum Kotlin and Swift callers act on (`KabinetException` subclasses, Swift
//! `KabinetError` cases); converted from core errors in one place. It lives in the core so
//! that a value UniFFI cannot lift (a malformed date in Swift) is this error too: UniFFI
//! returns a lift failure as the function's error when it is of the function's error type.

use crate::{ErrorCode, ErrorKind, Locale};

/// An error from Kabinet: a stable `code` and a `message` in the cabinet's language.
#[derive(Debug, thiserror::Error, uniffi::Error)]
#[non_exhaustive]
#[allow(missing_docs)] // fields mirror the documented core type
pub enum KabinetError {
    /// A field failed validation.
    #[error("{detail}")]
    Validation { code: String, detail: String, field: String, reason: String },
    /// Wrong credentials or codes, or a locked account.
    #[error("{detail}")]
    Authentication { code: String, detail: String },
    /// Expired, revoked or blocked session.
    #[error("{detail}")]
    Session { code: String, detail: String },
    /// Not allowed.
    #[error("{detail}")]
    PermissionDenied { code: String, detail: String },
    /// Not found.
    #[error("{detail}")]
    NotFound { code: String, detail: String },
    /// Clashes with the current state.
    #[error("{detail}")]
    Conflict { code: String, detail: String },
    /// Tampered or damaged data.
    #[error("{detail}")]
    Integrity { code: String, detail: String },
    /// Database or key store failure; `retryable` when the same call may simply be tried
    /// again (`storage.busy`).
    #[error("{detail}")]
    Storage { code: String, detail: String, retryable: bool },
    /// Wrong configuration.
    #[error("{detail}")]
    Config { code: String, detail: String },
    /// A fault inside Kabinet (a bug): code `internal`. Nothing was changed by the call
    /// that a later call relies on; report it.
    #[error("{detail}")]
    Internal { code: String, detail: String },
}

impl KabinetError {
    /// The error a panic inside Kabinet becomes (see `guard`).
    pub fn internal() -> Self {
        KabinetError::Internal { code: "internal".into(), detail: "internal error in Kabinet".into() }
    }

    /// Converts a core error, with its message in `locale`.
    pub fn from_core(e: crate::Error, locale: Locale) -> Self {
        let code = e.code().to_owned();
        let message = e.message(locale);
        let retryable = e.retryable();
        match (e.kind(), &e) {
            (_, crate::Error::Validation(v)) => KabinetError::Validation {
                code,
                detail: message,
                field: v.field.to_owned(),
                reason: v.reason.as_str().to_owned(),
            },
            (ErrorKind::Validation, _) => {
                KabinetError::Validation { code, detail: message, field: String::new(), reason: String::new() }
            }
            (ErrorKind::Authentication, _) => KabinetError::Authentication { code, detail: message },
            (ErrorKind::Session, _) => KabinetError::Session { code, detail: message },
            (ErrorKind::PermissionDenied, _) => KabinetError::PermissionDenied { code, detail: message },
            (ErrorKind::NotFound, _) => KabinetError::NotFound { code, detail: message },
            (ErrorKind::Conflict, _) => KabinetError::Conflict { code, detail: message },
            (ErrorKind::Integrity, _) => KabinetError::Integrity { code, detail: message },
            (ErrorKind::Config, _) => KabinetError::Config { code, detail: message },
            _ => KabinetError::Storage { code, detail: message, retryable },
        }
    }

    /// A validation error (message in English: it is raised before a cabinet is known).
    pub fn validation(v: crate::ValidationError) -> Self {
        Self::from_core(v.into(), Locale::En)
    }
}

/// Converts a core result at the FFI boundary, with messages in `locale`.
pub trait IntoFfi<T> {
    /// The result with its error converted to [`KabinetError`].
    fn ffi(self, locale: Locale) -> Result<T, KabinetError>;
}

impl<T, E: Into<crate::Error>> IntoFfi<T> for Result<T, E> {
    fn ffi(self, locale: Locale) -> Result<T, KabinetError> {
        self.map_err(|e| KabinetError::from_core(e.into(), locale))
    }
}
