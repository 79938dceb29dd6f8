//! Storage: one sqlx `Any` pool over SQLite (embedded default) or PostgreSQL (deployments).
//!
//! SQL is written once in the subset both engines share (`$n` placeholders, `BIGINT` times
//! in microseconds since the Unix epoch, `TEXT` UUIDs, `BLOB`/`BYTEA` ciphertexts);
//! the schema lives in two migration sets, `migrations/sqlite` and `migrations/postgres`.
//! Invariants that must hold across processes are constraints and transactions here, not
//! process memory. SQLite write transactions start with `BEGIN IMMEDIATE` so that writers
//! queue on the database lock (with a busy timeout) instead of failing on upgrade.

mod backup;
mod error;
pub(crate) mod lease;
pub(crate) mod rows;
mod schema;
mod url;

use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor};

pub use error::StorageError;
pub use schema::SchemaStatus;
pub(crate) use url::{DatabaseUrl, parse as parse_url};

/// A write transaction.
pub(crate) type Tx = sqlx::Transaction<'static, Any>;
/// A connection (also what a transaction dereferences to).
pub(crate) type Conn = sqlx::AnyConnection;

/// The database engine behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite, embedded.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Backend {
    /// `"sqlite"` or `"postgres"`.
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The pool and what kind of database it talks to.
#[derive(Debug, Clone)]
pub(crate) struct Store {
    pool: AnyPool,
    backend: Backend,
}

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

impl Store {
    /// Connects, applies the engine's pragmas and, when `mode` allows, runs pending
    /// migrations. A schema newer than this SDK is refused in every mode, an outdated one in
    /// `Check` mode (`ConfigError` `schema.newer` / `schema.outdated`, naming both versions).
    pub(crate) async fn open(
        url: &DatabaseUrl,
        max_connections: u32,
        mode: crate::config::MigrationMode,
    ) -> crate::error::Result<Store> {
        sqlx::any::install_default_drivers();
        let options: AnyConnectOptions = url.connect_url().parse().map_err(StorageError::Unavailable)?;
        let backend = url.backend();
        let max = match (backend, url.is_memory()) {
            // Every connection to `:memory:` is a separate database: keep exactly one.
            (Backend::Sqlite, true) => 1,
            _ => max_connections.max(1),
        };
        // One direct attempt first: a wrong host, database or file fails at once with a
        // clear error instead of after the pool's retry window.
        if let Some(path) = url.sqlite_path() {
            create_private(path)?;
        }
        // PostgreSQL: sqlx holds an advisory lock while migrating. SQLite has no such lock, so
        // processes opening one file at once queue on a lock file beside it — from the first
        // connection on, since switching a new file to WAL needs the database to itself and
        // SQLite may refuse that at once rather than wait. The second opener then finds WAL
        // on and the schema current and has nothing to do.
        let _guard = match url.sqlite_path() {
            Some(path) if mode == crate::config::MigrationMode::Auto => Some(lock_beside(path, "migrate.lock").await?),
            _ => None,
        };
        let mut probe = AnyConnection::connect_with(&options).await.map_err(StorageError::Unavailable)?;
        Self::prepare_first(&mut probe, backend).await?;
        probe.close().await.map_err(StorageError::Unavailable)?;
        let pool = AnyPoolOptions::new()
            .max_connections(max)
            .min_connections(u32::from(url.is_memory()))
            .idle_timeout(if url.is_memory() { None } else { Some(Duration::from_secs(600)) })
            .max_lifetime(if url.is_memory() { None } else { Some(Duration::from_secs(1800)) })
            .acquire_timeout(Duration::from_secs(30))
            .after_connect(move |conn, _meta| Box::pin(Self::prepare(conn, backend)))
            .connect_with(options)
            .await
            .map_err(StorageError::Unavailable)?;
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        let status = schema::status(&pool, backend, migrator).await?;
        if let Some(refused) = status.refusal(mode == crate::config::MigrationMode::Auto) {
            pool.close().await;
            return Err(refused.into());
        }
        if status.pending == 0 && mode == crate::config::MigrationMode::Check {
            return Ok(Store { pool, backend });
        }
        if status.pending > 0 {
            tracing::info!(
                target: "kabinet::schema",
                from = status.database,
                to = status.sdk,
                pending = status.pending,
                "applying migrations"
            );
        }
        migrator.run(&pool).await.map_err(|e| match e {
            sqlx::migrate::MigrateError::Execute(inner) | sqlx::migrate::MigrateError::ExecuteMigration(inner, _)
                if StorageError::from_sqlx_ref_busy(&inner) =>
            {
                StorageError::Busy(inner)
            }
            other => StorageError::Migration(other),
        })?;
        Ok(Store { pool, backend })
    }

    /// The first connection's settings. Without the lock file (check mode) another process
    /// may be switching the file to WAL: SQLite then answers "locked" at once, so this waits
    /// and retries for as long as the busy timeout would.
    async fn prepare_first(conn: &mut AnyConnection, backend: Backend) -> Result<(), StorageError> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            match Self::prepare(conn, backend).await.map_err(StorageError::from_sqlx) {
                Err(StorageError::Busy(_)) if std::time::Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
                other => return other,
            }
        }
    }

    /// Per-connection settings: on SQLite foreign keys, a busy timeout for queued writers,
    /// WAL (readers never block the writer) and `synchronous = NORMAL` (durable in WAL mode
    /// except for the last transactions on power loss); on PostgreSQL a lock timeout.
    async fn prepare(conn: &mut AnyConnection, backend: Backend) -> Result<(), sqlx::Error> {
        match backend {
            Backend::Sqlite => {
                conn.execute(
                    "PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                     PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
                )
                .await?;
            }
            // The same patience as SQLite's busy timeout: a writer waiting longer for a lock
            // gets `storage.busy` (retryable) instead of waiting for ever.
            Backend::Postgres => {
                conn.execute("SET lock_timeout = '10s'").await?;
            }
        }
        Ok(())
    }

    /// The schema versions of the database and of this SDK.
    pub(crate) async fn schema(&self) -> crate::error::Result<SchemaStatus> {
        let migrator = match self.backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        schema::status(&self.pool, self.backend, migrator).await
    }

    /// The engine.
    pub(crate) fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool, for reads outside a transaction.
    pub(crate) fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction (`BEGIN IMMEDIATE` on SQLite).
    pub(crate) async fn begin(&self) -> Result<Tx, StorageError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        };
        tx.map_err(StorageError::from_sqlx)
    }

    /// A second connection for a caller that already holds one: an idle one, or a new one
    /// if the pool gets one within a second — never a long wait (callers each holding a
    /// connection and queueing for another would starve a full pool). `None`: go without.
    pub(crate) async fn spare_connection(&self) -> Option<sqlx::pool::PoolConnection<Any>> {
        if let Some(conn) = self.pool.try_acquire() {
            return Some(conn);
        }
        if self.pool.options().get_max_connections() < 2 {
            return None; // an in-memory database: its one connection is the database
        }
        tokio::time::timeout(Duration::from_secs(1), self.pool.acquire()).await.ok()?.ok()
    }

    /// Starts a write transaction on a connection the caller holds, as [`Store::begin`]
    /// does on a new one.
    pub(crate) async fn begin_on<'c>(&self, conn: &'c mut Conn) -> Result<sqlx::Transaction<'c, Any>, StorageError> {
        let tx = match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => conn.begin().await,
        };
        tx.map_err(StorageError::from_sqlx)
    }

    /// Starts a read-only transaction that sees one consistent snapshot of the database for
    /// its whole length, whatever other processes commit meanwhile: `REPEATABLE READ` on
    /// PostgreSQL; on SQLite (WAL) a deferred transaction, whose first read fixes the snapshot.
    pub(crate) async fn begin_snapshot(&self) -> Result<Tx, StorageError> {
        let tx = match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN DEFERRED").await,
            Backend::Postgres => self.pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").await,
        };
        tx.map_err(StorageError::from_sqlx)
    }

    /// Closes the pool, waiting for connections to finish.
    pub(crate) async fn close(&self) {
        self.pool.close().await;
    }
}

/// Creates a SQLite database file readable by its owner only (0600) if it does not exist.
/// SQLite gives its `-wal` and `-shm` files the database file's permissions, so those stay
/// private too. An existing file is left as the host made it.
fn create_private(path: &std::path::Path) -> Result<(), StorageError> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StorageError::Unavailable(sqlx::Error::Io(e))),
    }
}

/// How long an opener waits for another process's lock file before `storage.busy`.
const LOCK_PATIENCE: Duration = Duration::from_secs(300);

/// An exclusive lock on `<db>.<suffix>` (created 0600), held until the returned file is
/// dropped. Taken on a blocking thread so the executor keeps running meanwhile.
async fn lock_beside(db: &std::path::Path, suffix: &str) -> Result<std::fs::File, StorageError> {
    let mut path = db.as_os_str().to_owned();
    path.push(".");
    path.push(suffix);
    let path = std::path::PathBuf::from(path);
    let io = |e: std::io::Error| StorageError::Unavailable(sqlx::Error::Io(e));
    tokio::task::spawn_blocking(move || {
        let mut options = std::fs::OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let file = options.open(&path).map_err(io)?;
        // Waits for the holder, but not for ever: a holder stopped (not killed: the lock goes
        // with its process) must not hang every other opener. Long enough for a migration.
        let deadline = std::time::Instant::now() + LOCK_PATIENCE;
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(file),
                Err(std::fs::TryLockError::WouldBlock) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    let held = std::io::Error::new(std::io::ErrorKind::WouldBlock, "lock file held too long");
                    return Err(StorageError::Busy(sqlx::Error::Io(held)));
                }
                Err(std::fs::TryLockError::Error(e)) => return Err(io(e)),
            }
        }
    })
    .await
    .map_err(|_| StorageError::Corrupt("lock task"))?
}

/// SQL composed with `format!` from constant fragments and `$n` placeholders only — never
/// from input, which is always bound. Marks the result safe for sqlx.
macro_rules! composed_sql {
    ($($t:tt)*) => { sqlx::AssertSqlSafe(format!($($t)*)) };
}
pub(crate) use composed_sql;

#[cfg(test)]
mod tests {
    /// The two migration sets differ only in type names (`BLOB` → `BYTEA`) and the blob
    /// literal syntax; this keeps them from drifting apart.
    #[test]
    fn postgres_migrations_mirror_sqlite() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/migrations");
        let mut names: Vec<_> =
            std::fs::read_dir(format!("{dir}/sqlite")).unwrap().map(|e| e.unwrap().file_name()).collect();
        names.sort();
        assert!(names.len() >= 3);
        for name in names {
            let sqlite = std::fs::read_to_string(format!("{dir}/sqlite/{}", name.to_string_lossy())).unwrap();
            let postgres = std::fs::read_to_string(format!("{dir}/postgres/{}", name.to_string_lossy())).unwrap();
            let translated =
                sqlite.replace("BLOB", "BYTEA").replace("X'0000000000000000'", "'\\x0000000000000000'::bytea");
            assert_eq!(translated, postgres, "{name:?} differs beyond the type mapping");
        }
    }
}
