//! The storage of wrapped keys (S2): every SQL statement of the area, rows read by column
//! name (a new key's row goes through `store::rows`). Keys come in and go out wrapped; the
//! wrapping, the binding to the row id and the rotation's lease stay in `keyring`. Each
//! function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A key as stored: the KEK it is wrapped under and the wrapped bytes (`None` once destroyed).
pub(super) struct WrappedRow {
    pub kek_id: String,
    pub wrapped: Option<Vec<u8>>,
}

/// A live key still wrapped under an older KEK.
pub(super) struct StaleRow {
    pub id: String,
    pub kek_id: String,
    pub wrapped: Vec<u8>,
}

/// The key `id`, if there is one.
pub(super) async fn wrapped<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<WrappedRow>> {
    let row = sqlx::query("SELECT kek_id, wrapped FROM wrapped_keys WHERE id = $1").bind(id).fetch_optional(ex).await?;
    row.map(|r| Ok(WrappedRow { kek_id: r.try_get("kek_id")?, wrapped: r.try_get("wrapped")? })).transpose()
}

/// Deletes the wrapped bytes of the key `id` (crypto-shredding); whether a live key was destroyed.
pub(super) async fn destroy<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let done =
        sqlx::query("UPDATE wrapped_keys SET wrapped = NULL, destroyed_at = $1 WHERE id = $2 AND wrapped IS NOT NULL")
            .bind(now)
            .bind(id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Live keys not wrapped under `kek_id`, by id, at most 500.
pub(super) async fn stale<'e>(ex: impl Executor<'e, Database = Any>, kek_id: &str) -> Result<Vec<StaleRow>> {
    let rows = sqlx::query(
        "SELECT id, kek_id, wrapped FROM wrapped_keys WHERE kek_id <> $1 AND wrapped IS NOT NULL ORDER BY id LIMIT 500",
    )
    .bind(kek_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| Ok(StaleRow { id: r.try_get("id")?, kek_id: r.try_get("kek_id")?, wrapped: r.try_get("wrapped")? }))
        .collect()
}

/// Replaces the key `id` wrapped under `old_kek` by `wrapped` under `kek_id`, stamped `now`
/// (a key re-wrapped meanwhile is left alone).
pub(super) async fn rewrap<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    old_kek: &str,
    kek_id: &str,
    wrapped: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE wrapped_keys SET kek_id = $1, wrapped = $2, rotated_at = $3 WHERE id = $4 AND kek_id = $5")
        .bind(kek_id)
        .bind(wrapped)
        .bind(now)
        .bind(id)
        .bind(old_kek)
        .execute(ex)
        .await?;
    Ok(())
}

/// How many keys are destroyed.
pub(super) async fn count_destroyed<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM wrapped_keys WHERE wrapped IS NULL").fetch_one(ex).await?)
}
