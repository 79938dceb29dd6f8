//! The storage of security incidents (R6): every SQL statement of the area, rows read by
//! column name; the rules stay in the area's module. Each function takes any executor: a
//! transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// An incident as stored.
pub(super) struct IncidentRow {
    pub id: String,
    pub request_number: String,
    pub kind: String,
    pub ip: Option<String>,
    pub device_name: Option<String>,
    pub created_at: i64,
    pub deadline: i64,
    pub confirmed_at: Option<i64>,
    pub blocked_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

/// A new incident to be confirmed before `deadline`.
pub(super) struct NewIncident<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub request_number: &'a str,
    pub kind: &'a str,
    pub ip: &'a str,
    pub device_id: &'a str,
    pub device_name: &'a str,
    pub now: i64,
    pub deadline: i64,
}

/// How many sessions the account ever had.
pub(super) async fn sessions_ever<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1").bind(account_id).fetch_one(ex).await?)
}

/// How many of the account's sessions came from this device or address.
pub(super) async fn sessions_from_device<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    device_id: &str,
) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND device_id = $2")
        .bind(account_id)
        .bind(device_id)
        .fetch_one(ex)
        .await?)
}

/// The addresses the account's most recent sessions came from (at most `limit`).
pub(super) async fn recent_ips<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    limit: i64,
) -> Result<Vec<String>> {
    let rows = sqlx::query(
        "SELECT ip, MAX(created_at) AS last FROM sessions WHERE account_id = $1 GROUP BY ip ORDER BY last DESC LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok(r.try_get::<Option<String>, _>("ip")?.unwrap_or_default())).collect()
}

/// Locks the account (an incident left unconfirmed): new logins are refused until recovery.
pub(super) async fn lock_account<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET blocked_at = $1 WHERE id = $2 AND blocked_at IS NULL")
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Marks the account's blocked incidents resolved (a completed recovery); how many.
pub(crate) async fn resolve_blocked<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE incidents SET resolved_at = $1 WHERE account_id = $2 AND blocked_at IS NOT NULL AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected())
}

/// How many live sessions of the account on other devices were used after `since`.
pub(super) async fn busy_elsewhere<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    device_id: &str,
    since: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND device_id <> $2 AND revoked_at IS NULL \
         AND blocked_at IS NULL AND last_used_at > $3",
    )
    .bind(account_id)
    .bind(device_id)
    .bind(since)
    .fetch_one(ex)
    .await?)
}

/// An account that read a lot, with how many reads.
pub(super) struct HeavyReaderRow {
    pub account_id: String,
    pub reads: i64,
}

/// Patients and proxies with at least `threshold` reads since `since`.
pub(super) async fn heavy_readers<'e>(
    ex: impl Executor<'e, Database = Any>,
    since: i64,
    threshold: i64,
) -> Result<Vec<HeavyReaderRow>> {
    let rows = sqlx::query(
        "SELECT actor_id, COUNT(*) AS reads FROM audit_entries WHERE at >= $1 AND action IN ('read', 'export', 'share') \
         AND actor_kind IN ('patient', 'proxy') AND actor_id IS NOT NULL GROUP BY actor_id HAVING COUNT(*) >= $2",
    )
    .bind(since)
    .bind(threshold)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok(HeavyReaderRow { account_id: r.try_get("actor_id")?, reads: r.try_get("reads")? })).collect()
}

/// How many reads the account made in `[from, to)`.
pub(super) async fn reads_between<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    from: i64,
    to: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE actor_id = $1 AND at >= $2 AND at < $3 \
         AND action IN ('read', 'export', 'share')",
    )
    .bind(account_id)
    .bind(from)
    .bind(to)
    .fetch_one(ex)
    .await?)
}

/// The account's patient and how many unusual-rate incidents it had since `since`.
pub(super) async fn patient_and_rate_incidents<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    since: i64,
) -> Result<Option<(Option<String>, i64)>> {
    let row = sqlx::query(
        "SELECT a.patient_id, (SELECT COUNT(*) FROM incidents i WHERE i.account_id = a.id AND i.kind = 'unusual_access_rate' \
         AND i.created_at >= $2) AS raised FROM accounts a WHERE a.id = $1",
    )
    .bind(account_id)
    .bind(since)
    .fetch_optional(ex)
    .await?;
    row.map(|r| Ok((r.try_get("patient_id")?, r.try_get("raised")?))).transpose()
}

/// A new incident.
pub(super) async fn insert<'e>(ex: impl Executor<'e, Database = Any>, i: NewIncident<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO incidents (id, account_id, request_number, kind, ip, device_id, device_name, created_at, deadline) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(i.id)
    .bind(i.account_id)
    .bind(i.request_number)
    .bind(i.kind)
    .bind(i.ip)
    .bind(i.device_id)
    .bind(i.device_name)
    .bind(i.now)
    .bind(i.deadline)
    .execute(ex)
    .await?;
    Ok(())
}

/// The account's incidents, newest first.
pub(super) async fn of_account<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> Result<Vec<IncidentRow>> {
    let rows = sqlx::query(
        "SELECT id, request_number, kind, ip, device_name, created_at, deadline, confirmed_at, blocked_at, resolved_at \
         FROM incidents WHERE account_id = $1 ORDER BY created_at DESC",
    )
    .bind(account_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(IncidentRow {
                id: r.try_get("id")?,
                request_number: r.try_get("request_number")?,
                kind: r.try_get("kind")?,
                ip: r.try_get("ip")?,
                device_name: r.try_get("device_name")?,
                created_at: r.try_get("created_at")?,
                deadline: r.try_get("deadline")?,
                confirmed_at: r.try_get("confirmed_at")?,
                blocked_at: r.try_get("blocked_at")?,
                resolved_at: r.try_get("resolved_at")?,
            })
        })
        .collect()
}

/// The account an open incident belongs to, if it is open.
pub(super) async fn open_owner<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT account_id FROM incidents WHERE id = $1 AND confirmed_at IS NULL AND blocked_at IS NULL AND resolved_at IS NULL",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?)
}

/// Confirms an open incident; whether this call confirmed it.
pub(super) async fn confirm<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE incidents SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND blocked_at IS NULL \
         AND resolved_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Open incidents past their deadline at `now`: (id, account, the account's patient).
pub(super) async fn overdue<'e>(
    ex: impl Executor<'e, Database = Any>,
    now: i64,
) -> Result<Vec<(String, String, Option<String>)>> {
    let rows = sqlx::query(
        "SELECT i.id, i.account_id, a.patient_id FROM incidents i JOIN accounts a ON a.id = i.account_id \
         WHERE i.confirmed_at IS NULL AND i.blocked_at IS NULL AND i.resolved_at IS NULL AND i.deadline <= $1",
    )
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("account_id")?, r.try_get("patient_id")?))).collect()
}

/// Blocks an open incident; whether this call blocked it.
pub(super) async fn block<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE incidents SET blocked_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND blocked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Blocks every live session of the account.
pub(super) async fn block_sessions<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE sessions SET blocked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL AND blocked_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(())
}
