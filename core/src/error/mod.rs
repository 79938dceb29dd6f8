//! The public error type: one enum over the areas, each with a stable machine code
//! and a human message in Russian or English.
//!
//! Messages never contain personal data, SQL text or key material: low-level causes are
//! kept as `#[source]` for the host's diagnostics and are never formatted into the text.

use crate::audit::AuditError;
use crate::auth::identity::IdentityError;
use crate::auth::{AuthError, SessionError};
use crate::config::ConfigError;
use crate::crypto::CryptoError;
use crate::i18n::Locale;
use crate::ids::ValidationError;
use crate::store::StorageError;

pub mod code;

pub use code::{ErrorCode, ErrorKind};

/// Every error Kabinet returns.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Invalid input (R1, R21).
    #[error(transparent)]
    Validation(#[from] ValidationError),
    /// Encryption, decryption or key handling failed (S2).
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A journal or proof check failed (S4).
    #[error(transparent)]
    Audit(#[from] AuditError),
    /// Login, codes or passwords (R3, R4).
    #[error(transparent)]
    Auth(#[from] AuthError),
    /// The session cannot be used (R5).
    #[error(transparent)]
    Session(#[from] SessionError),
    /// Identity confirmation (R2).
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// A record does not exist or is not visible to the caller.
    #[error("not found: {entity}")]
    NotFound {
        /// Kind of record, e.g. `"patient"`; never an identifier value.
        entity: &'static str,
    },
    /// A FHIR input that cannot be imported, with the JSON path of the first problem.
    #[error(transparent)]
    Fhir(#[from] crate::fhir::FhirError),
    /// The caller's role or scope does not allow this.
    #[error("permission denied: {code}")]
    PermissionDenied {
        /// Stable code such as `"role.staff_only"`.
        code: &'static str,
    },
    /// The operation clashes with the current state.
    #[error("conflict: {code}")]
    Conflict {
        /// Stable code such as `"patient.exists"`.
        code: &'static str,
    },
}

/// A database error, classified once (busy, unavailable, query): every `?` on an `sqlx`
/// call goes through here.
impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        Error::Storage(StorageError::from_sqlx(e))
    }
}

impl ErrorCode for Error {
    fn code(&self) -> &'static str {
        match self {
            Error::Validation(e) => e.code(),
            Error::Crypto(e) => e.code(),
            Error::Storage(e) => e.code(),
            Error::Config(e) => e.code(),
            Error::Audit(e) => e.code(),
            Error::Auth(e) => e.code(),
            Error::Session(e) => e.code(),
            Error::Identity(e) => e.code(),
            Error::NotFound { .. } => "not_found",
            Error::Conflict { code } => code,
            Error::PermissionDenied { code } => code,
            Error::Fhir(e) => e.code(),
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            Error::Validation(e) => e.kind(),
            Error::Crypto(e) => e.kind(),
            Error::Storage(e) => e.kind(),
            Error::Config(e) => e.kind(),
            Error::Audit(e) => e.kind(),
            Error::Auth(e) => e.kind(),
            Error::Session(e) => e.kind(),
            Error::Identity(e) => e.kind(),
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Conflict { .. } => ErrorKind::Conflict,
            Error::PermissionDenied { .. } => ErrorKind::PermissionDenied,
            Error::Fhir(e) => e.kind(),
        }
    }

    fn message(&self, locale: Locale) -> String {
        match self {
            Error::Validation(e) => e.message(locale),
            Error::Fhir(e) => e.message(locale),
            Error::NotFound { entity } => {
                format!("{}: {}", crate::i18n::text(locale, "not_found"), crate::i18n::entity(locale, entity))
            }
            Error::Config(
                c @ (ConfigError::SchemaOutdated { database, sdk } | ConfigError::SchemaNewer { database, sdk }),
            ) => {
                let (db_word, sdk_word) = match locale {
                    Locale::En => ("database", "SDK"),
                    _ => ("база", "SDK"),
                };
                format!("{} ({db_word} {database}, {sdk_word} {sdk})", crate::i18n::text(locale, c.code()))
            }
            other => crate::i18n::text(locale, other.code()).to_owned(),
        }
    }
}

impl Error {
    /// Whether the same call may succeed if tried again unchanged: the database was busy
    /// (`storage.busy`). Everything else needs a different input or state.
    pub fn retryable(&self) -> bool {
        matches!(self, Error::Storage(e) if e.retryable())
    }
}

/// Result with Kabinet's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
