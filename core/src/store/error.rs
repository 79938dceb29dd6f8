//! Storage errors: the sqlx error stays a `#[source]` and is never formatted into the
//! message, so SQL text and values do not reach users.

use crate::error::{ErrorCode, ErrorKind};

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
    /// A stored value does not have the shape Kabinet wrote.
    #[error("stored data is malformed: {0}")]
    Corrupt(&'static str),
}

impl StorageError {
    /// Classifies a sqlx error.
    pub(crate) fn from_sqlx(e: sqlx::Error) -> Self {
        match e {
            sqlx::Error::Io(_) | sqlx::Error::Tls(_) | sqlx::Error::PoolTimedOut | sqlx::Error::PoolClosed => {
                StorageError::Unavailable(e)
            }
            other => StorageError::Query(other),
        }
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
            StorageError::Corrupt(_) => "storage.corrupt",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Storage
    }
}
