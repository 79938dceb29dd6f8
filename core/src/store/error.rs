//! Storage errors: the sqlx error stays a `#[source]` and is never formatted into the
//! message, so SQL text and values do not reach users.

use crate::error::code::{ErrorCode, ErrorKind};

/// The database failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StorageError {
    /// Cannot connect, or the database is not a usable database.
    #[error("database unavailable")]
    Unavailable(#[source] sqlx::Error),
    /// Migrations failed.
    #[error("database migration failed")]
    Migration(#[source] sqlx::migrate::MigrateError),
    /// A statement failed.
    #[error("database query failed")]
    Query(#[source] sqlx::Error),
    /// The database stayed locked by other writers past the busy timeout, or the
    /// transaction lost a serialization race: nothing was changed, and the same call can be
    /// retried ([`StorageError::retryable`]).
    #[error("database busy")]
    Busy(#[source] sqlx::Error),
    /// A stored value does not have the shape Kabinet wrote.
    #[error("stored data is malformed: {0}")]
    Corrupt(&'static str),
}

impl StorageError {
    /// Classifies a sqlx error.
    pub(crate) fn from_sqlx(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::PoolTimedOut => StorageError::Busy(e),
            sqlx::Error::Database(ref db) if is_busy(db.as_ref()) => StorageError::Busy(e),
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolClosed => StorageError::Unavailable(e),
            other => StorageError::Query(other),
        }
    }

    /// Whether a sqlx error is contention (see [`StorageError::Busy`]).
    pub(crate) fn from_sqlx_ref_busy(e: &sqlx::Error) -> bool {
        matches!(e, sqlx::Error::Database(db) if is_busy(db.as_ref()))
    }

    /// Whether the same call may succeed if simply tried again (`storage.busy`).
    pub fn retryable(&self) -> bool {
        matches!(self, StorageError::Busy(_))
    }

    /// The name of the violated unique constraint, if that is what failed.
    pub(crate) fn unique_violation(&self) -> bool {
        match self {
            StorageError::Query(sqlx::Error::Database(db)) => db.is_unique_violation(),
            _ => false,
        }
    }

    /// Whether a referenced row does not exist.
    pub(crate) fn foreign_key_violation(&self) -> bool {
        match self {
            StorageError::Query(sqlx::Error::Database(db)) => db.is_foreign_key_violation(),
            _ => false,
        }
    }
}

impl From<sqlx::Error> for StorageError {
    fn from(e: sqlx::Error) -> Self {
        StorageError::from_sqlx(e)
    }
}

impl ErrorCode for StorageError {
    fn code(&self) -> &'static str {
        match self {
            StorageError::Unavailable(_) => "storage.unavailable",
            StorageError::Migration(_) => "storage.migration",
            StorageError::Query(_) => "storage.query",
            StorageError::Busy(_) => "storage.busy",
            StorageError::Corrupt(_) => "storage.corrupt",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Storage
    }
}

/// SQLite `SQLITE_BUSY`/`SQLITE_LOCKED` (with their extended codes), PostgreSQL serialization
/// failures, deadlocks, lock and statement time-outs: conditions of contention, not of the data.
fn is_busy(db: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = db.code() else { return false };
    // PostgreSQL SQLSTATEs are five characters (some all digits); SQLite's result codes are
    // numbers below 2^16 (primary code in the low byte). Only SQLite is parsed as a number.
    if matches!(code.as_ref(), "40001" | "40P01" | "55P03" | "57014") {
        return true;
    }
    if db.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
        && let Ok(n) = code.parse::<i64>()
    {
        return matches!(n & 0xff, 5 | 6);
    }
    false
}
