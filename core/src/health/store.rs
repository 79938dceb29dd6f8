//! The storage reads of the health checks: a round trip, the journal's size and the outbox
//! backlog. Each function takes any executor.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// One round trip to the database.
pub(super) async fn ping<'e>(ex: impl Executor<'e, Database = Any>) -> Result<()> {
    sqlx::query("SELECT 1 AS one").fetch_one(ex).await?;
    Ok(())
}

/// Entries in the journal.
pub(super) async fn journal_entries<'e>(ex: impl Executor<'e, Database = Any>) -> Result<u64> {
    let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM audit_entries").fetch_one(ex).await?.try_get("n")?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// Undelivered messages and when the oldest of them was queued.
pub(super) async fn outbox_backlog<'e>(ex: impl Executor<'e, Database = Any>) -> Result<(u64, Option<i64>)> {
    let row = sqlx::query("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE delivered_at IS NULL")
        .fetch_one(ex)
        .await?;
    let n: i64 = row.try_get("n")?;
    Ok((u64::try_from(n).unwrap_or(0), row.try_get("oldest")?))
}
