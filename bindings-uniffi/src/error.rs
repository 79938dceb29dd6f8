//! The small error enum foreign callers act on; converted from core errors in one place.

use kabinet::{ErrorCode, ErrorKind, Locale};

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
    pub(crate) fn internal() -> Self {
        KabinetError::Internal { code: "internal".into(), detail: "internal error in Kabinet".into() }
    }

    /// Converts a core error, with its message in `locale`.
    pub(crate) fn from_core(e: kabinet::Error, locale: Locale) -> Self {
        let code = e.code().to_owned();
        let message = e.message(locale);
        let retryable = e.retryable();
        match (e.kind(), &e) {
            (_, kabinet::Error::Validation(v)) => KabinetError::Validation {
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

    pub(crate) fn validation(v: kabinet::ValidationError) -> Self {
        Self::from_core(v.into(), Locale::En)
    }
}

/// Converts a core result at the FFI boundary, with messages in `locale`.
pub(crate) trait IntoFfi<T> {
    /// The result with its error converted to [`KabinetError`].
    fn ffi(self, locale: Locale) -> Result<T, KabinetError>;
}

impl<T, E: Into<kabinet::Error>> IntoFfi<T> for Result<T, E> {
    fn ffi(self, locale: Locale) -> Result<T, KabinetError> {
        self.map_err(|e| KabinetError::from_core(e.into(), locale))
    }
}
