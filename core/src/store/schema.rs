//! The schema version: what the database has applied against what this SDK knows, so that
//! an operator can refuse automatic migrations (`MigrationMode::Check`) and an older SDK
//! never touches a newer schema.

use sqlx::{AnyPool, Row};

use super::{Backend, StorageError};
use crate::config::ConfigError;
use crate::error::Result;

/// The schema versions a database and this SDK are at.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct SchemaStatus {
    /// The newest migration the database has applied (0: none).
    pub database: i64,
    /// The newest migration this SDK knows.
    pub sdk: i64,
    /// Migrations this SDK knows that the database has not applied.
    pub pending: u32,
    /// Whether the database is exactly at this SDK's schema (nothing pending, nothing newer).
    pub current: bool,
}

impl SchemaStatus {
    /// The error for a database this SDK must not use: a newer schema in any mode, an
    /// outdated one when migrating is not allowed.
    pub(crate) fn refusal(&self, may_migrate: bool) -> Option<ConfigError> {
        if self.database > self.sdk {
            return Some(ConfigError::SchemaNewer { database: self.database, sdk: self.sdk });
        }
        (self.pending > 0 && !may_migrate)
            .then_some(ConfigError::SchemaOutdated { database: self.database, sdk: self.sdk })
    }
}

/// Reads the applied migrations (none when the bookkeeping table does not exist yet) and
/// compares them with `migrator`.
pub(crate) async fn status(
    pool: &AnyPool,
    backend: Backend,
    migrator: &sqlx::migrate::Migrator,
) -> Result<SchemaStatus> {
    let exists_sql = match backend {
        Backend::Sqlite => "SELECT COUNT(*) AS n FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        Backend::Postgres => {
            "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'"
        }
    };
    let exists: i64 = sqlx::query(exists_sql).fetch_one(pool).await.map_err(StorageError::from_sqlx)?.try_get("n")?;
    let applied: Vec<i64> = if exists > 0 {
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_all(pool)
            .await
            .map_err(StorageError::from_sqlx)?;
        rows.iter().map(|r| r.try_get("version")).collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let known: Vec<i64> = migrator.iter().filter(|m| m.migration_type.is_up_migration()).map(|m| m.version).collect();
    let database = applied.iter().copied().max().unwrap_or(0);
    let sdk = known.iter().copied().max().unwrap_or(0);
    let pending = u32::try_from(known.iter().filter(|v| !applied.contains(v)).count()).unwrap_or(u32::MAX);
    Ok(SchemaStatus { database, sdk, pending, current: pending == 0 && database <= sdk })
}
