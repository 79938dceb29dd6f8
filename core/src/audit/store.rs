//! The storage of the journal (S4, S6) and of the access history (R5): every SQL statement of
//! the area, rows read by column name (the rows an append writes go through `store::rows`).
//! Values come in and go out as stored; the hashing, the signing, the lock order and the
//! checks of what was read stay in the area's modules. Each function takes any executor: a
//! transaction or the pool.

use sqlx::any::AnyRow;
use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A journal entry as stored, with its stored leaf hash.
pub(super) struct EntryRow {
    pub seq: i64,
    pub at: i64,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub on_behalf_of: Option<String>,
    pub patient_id: Option<String>,
    pub action: String,
    pub resource_type: String,
    pub resource_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub device_id: Option<String>,
    pub leaf_hash: Vec<u8>,
}

/// A line of a patient's access history: the entry and, for staff, who they are.
pub(super) struct HistoryRow {
    pub entry: EntryRow,
    pub staff_role: Option<String>,
    pub staff_name: Option<String>,
    pub staff_clinic: Option<String>,
}

/// A signed tree head as stored.
pub(super) struct HeadRow {
    pub size: i64,
    pub root: Vec<u8>,
    pub at: i64,
    pub signature: Vec<u8>,
}

/// The latest frontier of the tree, with the size it is for.
pub(super) struct FrontierRow {
    pub size: i64,
    pub frontier: Vec<u8>,
}

/// The columns of an entry, from any statement that selects them all.
fn entry_row(row: &AnyRow) -> Result<EntryRow> {
    Ok(EntryRow {
        seq: row.try_get("seq")?,
        at: row.try_get("at")?,
        actor_kind: row.try_get("actor_kind")?,
        actor_id: row.try_get("actor_id")?,
        on_behalf_of: row.try_get("on_behalf_of")?,
        patient_id: row.try_get("patient_id")?,
        action: row.try_get("action")?,
        resource_type: row.try_get("resource_type")?,
        resource_id: row.try_get("resource_id")?,
        outcome: row.try_get("outcome")?,
        ip: row.try_get("ip")?,
        device_id: row.try_get("device_id")?,
        leaf_hash: row.try_get("leaf_hash")?,
    })
}

/// Locks the `audit_state` row, the lock that orders appends, until the transaction ends
/// (PostgreSQL only: on SQLite the transaction already holds the database write lock).
pub(super) async fn lock_state<'e>(ex: impl Executor<'e, Database = Any>) -> Result<()> {
    sqlx::query("SELECT id FROM audit_state WHERE id = 1 FOR UPDATE").execute(ex).await?;
    Ok(())
}

/// The latest frontier (the one of the largest size).
pub(super) async fn latest_frontier<'e>(ex: impl Executor<'e, Database = Any>) -> Result<FrontierRow> {
    let row =
        sqlx::query("SELECT size, frontier FROM audit_frontiers ORDER BY size DESC LIMIT 1").fetch_one(ex).await?;
    Ok(FrontierRow { size: row.try_get("size")?, frontier: row.try_get("frontier")? })
}

/// Deletes the frontier of `size` (replaced by a newer one).
pub(super) async fn delete_frontier<'e>(ex: impl Executor<'e, Database = Any>, size: i64) -> Result<()> {
    sqlx::query("DELETE FROM audit_frontiers WHERE size = $1").bind(size).execute(ex).await?;
    Ok(())
}

/// The size of the latest frontier: the journal's current size.
pub(super) async fn size<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT size FROM audit_frontiers ORDER BY size DESC LIMIT 1").fetch_one(ex).await?)
}

/// Entries with `from <= seq < to`, ordered by `seq`.
pub(super) async fn entries<'e>(ex: impl Executor<'e, Database = Any>, from: i64, to: i64) -> Result<Vec<EntryRow>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_kind, actor_id, on_behalf_of, patient_id, action, resource_type, resource_id, outcome, \
         ip, device_id, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq",
    )
    .bind(from)
    .bind(to)
    .fetch_all(ex)
    .await?;
    rows.iter().map(entry_row).collect()
}

/// Signed heads with `from <= size < to`, ordered by size.
pub(super) async fn heads<'e>(ex: impl Executor<'e, Database = Any>, from: i64, to: i64) -> Result<Vec<HeadRow>> {
    let rows =
        sqlx::query("SELECT size, root, at, signature FROM audit_heads WHERE size >= $1 AND size < $2 ORDER BY size")
            .bind(from)
            .bind(to)
            .fetch_all(ex)
            .await?;
    rows.iter()
        .map(|row| {
            Ok(HeadRow {
                size: row.try_get("size")?,
                root: row.try_get("root")?,
                at: row.try_get("at")?,
                signature: row.try_get("signature")?,
            })
        })
        .collect()
}

/// The largest entry sequence number, if any entry is stored.
pub(super) async fn max_seq<'e>(ex: impl Executor<'e, Database = Any>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MAX(seq) FROM audit_entries").fetch_one(ex).await?)
}

/// The largest signed head size, if any head is stored.
pub(super) async fn max_head_size<'e>(ex: impl Executor<'e, Database = Any>) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT MAX(size) FROM audit_heads").fetch_one(ex).await?)
}

/// Entries about `patient_id` at or after `since_us` and before `before_seq` (if given),
/// newest first, at most `limit`, each with its staff actor's role, name and clinic.
pub(super) async fn patient_entries<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    since_us: i64,
    before_seq: Option<i64>,
    limit: i64,
) -> Result<Vec<HistoryRow>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_kind, actor_id, on_behalf_of, patient_id, action, resource_type, resource_id, outcome, \
         ip, device_id, leaf_hash, sm.role AS staff_role, sm.full_name AS staff_name, c.name AS staff_clinic FROM audit_entries \
         LEFT JOIN staff_members sm ON sm.account_id = audit_entries.actor_id AND audit_entries.actor_kind = 'staff' \
         LEFT JOIN clinics c ON c.id = sm.clinic_id \
         WHERE patient_id = $1 AND at >= $2 AND seq < $3 ORDER BY seq DESC LIMIT $4",
    )
    .bind(patient_id)
    .bind(since_us)
    .bind(before_seq.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|row| {
            Ok(HistoryRow {
                entry: entry_row(row)?,
                staff_role: row.try_get("staff_role")?,
                staff_name: row.try_get("staff_name")?,
                staff_clinic: row.try_get("staff_clinic")?,
            })
        })
        .collect()
}

/// Leaf hashes of the entries with `from <= seq < to`, ordered by `seq`.
pub(super) async fn leaf_hashes<'e>(ex: impl Executor<'e, Database = Any>, from: i64, to: i64) -> Result<Vec<Vec<u8>>> {
    let rows = sqlx::query("SELECT leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq")
        .bind(from)
        .bind(to)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| Ok(r.try_get("leaf_hash")?)).collect()
}

/// A cached subtree root, if any.
pub(super) async fn node<'e>(ex: impl Executor<'e, Database = Any>, level: i32, idx: i64) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT hash FROM audit_nodes WHERE level = $1 AND idx = $2")
        .bind(level)
        .bind(idx)
        .fetch_optional(ex)
        .await?)
}

/// Keeps a subtree root (another process may have kept it first); `repair` overwrites one
/// found damaged.
pub(super) async fn keep_node<'e>(
    ex: impl Executor<'e, Database = Any>,
    level: i32,
    idx: i64,
    hash: &[u8],
    repair: bool,
) -> Result<()> {
    let sql = if repair {
        "INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3) \
         ON CONFLICT (level, idx) DO UPDATE SET hash = excluded.hash"
    } else {
        "INSERT INTO audit_nodes (level, idx, hash) VALUES ($1, $2, $3) ON CONFLICT (level, idx) DO NOTHING"
    };
    sqlx::query(sql).bind(level).bind(idx).bind(hash).execute(ex).await?;
    Ok(())
}

/// How many subtree roots are kept.
pub(super) async fn node_count<'e>(ex: impl Executor<'e, Database = Any>) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM audit_nodes").fetch_one(ex).await?)
}
