//! The storage the signed-in context reads and writes (R5): its session's state, the
//! account's sessions and its password. Every SQL statement of the module, rows read by
//! column name; the rules stay in `me`. Each function takes any executor.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A session with its account, as checked when a context opens.
pub(super) struct SessionRow {
    pub account_id: String,
    pub revoked_at: Option<i64>,
    pub blocked_at: Option<i64>,
    pub expires_at: i64,
    pub last_used_at: i64,
    pub patient_id: Option<String>,
    /// `"patient"` or `"staff"`.
    pub account_kind: String,
}

/// The session `session_id` and its account, if it exists.
pub(super) async fn session<'e>(ex: impl Executor<'e, Database = Any>, session_id: &str) -> Result<Option<SessionRow>> {
    let row = sqlx::query(
        "SELECT s.account_id, s.revoked_at, s.blocked_at, s.expires_at, s.last_used_at, a.patient_id, a.kind \
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1",
    )
    .bind(session_id)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(SessionRow {
        account_id: row.try_get("account_id")?,
        revoked_at: row.try_get("revoked_at")?,
        blocked_at: row.try_get("blocked_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        patient_id: row.try_get("patient_id")?,
        account_kind: row.try_get("kind")?,
    }))
}

/// A live session's state, its account's and (for a proxy) its grant's.
pub(super) struct LiveRow {
    pub revoked_at: Option<i64>,
    pub blocked_at: Option<i64>,
    pub expires_at: i64,
    pub last_used_at: i64,
    pub identity_confirmed_at: Option<i64>,
    pub erased_at: Option<i64>,
    pub patient_id: Option<String>,
    /// The proxy grant's scopes (comma-separated) when it is valid now.
    pub proxy_scopes: Option<String>,
}

/// The state of `account_id`'s session `session_id`; for a proxy (`proxy` acting for
/// `ward`), the scopes of the grant valid at `now`.
pub(super) async fn live<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
    account_id: &str,
    proxy: Option<&str>,
    ward: Option<&str>,
    now: i64,
) -> Result<Option<LiveRow>> {
    let row = sqlx::query(
        "SELECT s.revoked_at, s.blocked_at, s.expires_at, s.last_used_at, a.identity_confirmed_at, a.erased_at, a.patient_id, \
         (SELECT p.scopes FROM proxies p WHERE p.proxy_patient_id = $2 AND p.ward_patient_id = $3 AND p.revoked_at IS NULL \
         AND p.valid_until > $5) AS proxy_scopes \
         FROM sessions s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1 AND s.account_id = $4",
    )
    .bind(session_id)
    .bind(proxy)
    .bind(ward)
    .bind(account_id)
    .bind(now)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(LiveRow {
        revoked_at: row.try_get("revoked_at")?,
        blocked_at: row.try_get("blocked_at")?,
        expires_at: row.try_get("expires_at")?,
        last_used_at: row.try_get("last_used_at")?,
        identity_confirmed_at: row.try_get("identity_confirmed_at")?,
        erased_at: row.try_get("erased_at")?,
        patient_id: row.try_get("patient_id")?,
        proxy_scopes: row.try_get("proxy_scopes")?,
    }))
}

/// Records the session's use.
pub(super) async fn touch<'e>(ex: impl Executor<'e, Database = Any>, session_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2").bind(now).bind(session_id).execute(ex).await?;
    Ok(())
}

/// Records the session's use unless a later use already was.
pub(super) async fn touch_if_older<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2 AND last_used_at < $1")
        .bind(now)
        .bind(session_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// One of the account's sessions.
pub(super) struct SessionListRow {
    pub id: String,
    pub device_name: Option<String>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// The account's sessions still usable at `now`, newest first.
pub(super) async fn active_sessions<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<Vec<SessionListRow>> {
    let rows = sqlx::query(
        "SELECT id, device_name, device_id, ip, created_at, last_used_at FROM sessions \
         WHERE account_id = $1 AND revoked_at IS NULL AND blocked_at IS NULL AND expires_at > $2 ORDER BY created_at DESC",
    )
    .bind(account_id)
    .bind(now)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(SessionListRow {
                id: r.try_get("id")?,
                device_name: r.try_get("device_name")?,
                device_id: r.try_get("device_id")?,
                ip: r.try_get("ip")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// The account's password hash.
pub(super) async fn password_hash<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

/// Sets a changed password.
pub(super) async fn set_password<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    hash: String,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(hash)
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Revokes every session of the account but `keep`.
pub(super) async fn revoke_others<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    keep: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND id <> $3 AND revoked_at IS NULL")
        .bind(now)
        .bind(account_id)
        .bind(keep)
        .execute(ex)
        .await?;
    Ok(())
}

/// When the session began.
pub(super) async fn session_started<'e>(ex: impl Executor<'e, Database = Any>, session_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT created_at FROM sessions WHERE id = $1").bind(session_id).fetch_one(ex).await?)
}
