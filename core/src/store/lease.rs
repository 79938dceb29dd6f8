//! Named leases in the database: one holder at a time across processes, for work that spans
//! several transactions (key rotation). A lease expires at its `until`, so a holder that was
//! killed never blocks the others for longer than the lease's length.

use std::time::Duration;

use super::{StorageError, Store};
use crate::error::{Error, Result};

/// A held lease; [`Lease::release`] gives it back (an unreleased one expires by itself).
#[derive(Debug)]
pub(crate) struct Lease {
    name: &'static str,
    holder: String,
}

impl Lease {
    /// Takes the lease `name` for `length_us`, waiting up to `wait` for another holder to
    /// finish; after that a `Conflict` with `busy_code`.
    pub(crate) async fn acquire(
        store: &Store,
        name: &'static str,
        now: impl Fn() -> i64,
        length_us: i64,
        wait: Duration,
        busy_code: &'static str,
    ) -> Result<Lease> {
        let holder = uuid::Uuid::new_v4().to_string();
        let started = std::time::Instant::now();
        loop {
            let at = now();
            let mut tx = store.begin().await?;
            sqlx::query("DELETE FROM leases WHERE name = $1 AND until < $2")
                .bind(name)
                .bind(at)
                .execute(&mut *tx)
                .await
                .map_err(StorageError::from_sqlx)?;
            let taken = sqlx::query("INSERT INTO leases (name, holder, until) VALUES ($1, $2, $3)")
                .bind(name)
                .bind(&holder)
                .bind(at.saturating_add(length_us))
                .execute(&mut *tx)
                .await
                .map_err(StorageError::from_sqlx);
            match taken {
                Ok(_) => {
                    tx.commit().await.map_err(StorageError::from_sqlx)?;
                    return Ok(Lease { name, holder });
                }
                Err(e) if e.unique_violation() => {
                    drop(tx);
                    if started.elapsed() >= wait {
                        return Err(Error::Conflict { code: busy_code });
                    }
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Extends the lease to `until`; `false` if it was lost (expired and taken by another).
    pub(crate) async fn renew(&self, store: &Store, until: i64) -> Result<bool> {
        let done = sqlx::query("UPDATE leases SET until = $1 WHERE name = $2 AND holder = $3")
            .bind(until)
            .bind(self.name)
            .bind(&self.holder)
            .execute(store.pool())
            .await
            .map_err(StorageError::from_sqlx)?;
        Ok(done.rows_affected() == 1)
    }

    /// Gives the lease back.
    pub(crate) async fn release(self, store: &Store) -> Result<()> {
        sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
            .bind(self.name)
            .bind(&self.holder)
            .execute(store.pool())
            .await
            .map_err(StorageError::from_sqlx)?;
        Ok(())
    }
}
