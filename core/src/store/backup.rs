//! A consistent online copy of a SQLite database (`VACUUM INTO`): one read transaction, so
//! writers keep going and the copy is the database as of one moment. PostgreSQL deployments
//! use `pg_dump` or point-in-time recovery instead (`docs/operations.md`).

use std::path::Path;

use super::{Backend, StorageError, Store};
use crate::error::{Error, Result};

impl Store {
    /// Writes a copy of the database to `out`, which must not exist; the file is created
    /// readable by its owner only.
    pub(crate) async fn backup_into(&self, out: &Path) -> Result<u64> {
        if self.backend() != Backend::Sqlite {
            return Err(Error::Conflict { code: "backup.use_pg_dump" });
        }
        let Some(target) = out.to_str() else { return Err(Error::Conflict { code: "backup.path" }) };
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(out) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                return Err(Error::Conflict { code: "backup.exists" });
            }
            Err(e) => return Err(StorageError::Unavailable(sqlx::Error::Io(e)).into()),
        }
        let copied = sqlx::query("VACUUM INTO $1").bind(target).execute(self.pool()).await;
        if let Err(e) = copied {
            let _ = std::fs::remove_file(out);
            return Err(StorageError::from_sqlx(e).into());
        }
        let bytes = std::fs::metadata(out).map_err(|e| StorageError::Unavailable(sqlx::Error::Io(e)))?.len();
        Ok(bytes)
    }
}
