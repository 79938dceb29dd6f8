//! The storage of accounts and one-time codes (R1): every SQL statement of the area, rows
//! read by column name. Codes come in and go out as keyed digests; the rules stay in the
//! area's module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

/// Who holds a phone, an e-mail or an account id, and in what state.
pub(super) struct HolderRow {
    pub patient_id: Option<String>,
    /// `"pending"` or `"active"`.
    pub status: String,
}

fn holder(row: &sqlx::any::AnyRow) -> Result<HolderRow> {
    Ok(HolderRow { patient_id: row.try_get("patient_id")?, status: row.try_get("status")? })
}

/// The account that logs in with this phone's blind index, if any.
pub(super) async fn holder_of_phone<'e>(
    ex: impl Executor<'e, Database = Any>,
    index: &[u8],
) -> Result<Option<HolderRow>> {
    let row = sqlx::query("SELECT patient_id, status FROM accounts WHERE phone_bidx = $1")
        .bind(index.to_vec())
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(holder).transpose()
}

/// The account that logs in with this e-mail's blind index, if any.
pub(super) async fn holder_of_email<'e>(
    ex: impl Executor<'e, Database = Any>,
    index: &[u8],
) -> Result<Option<HolderRow>> {
    let row = sqlx::query("SELECT patient_id, status FROM accounts WHERE email_bidx = $1")
        .bind(index.to_vec())
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(holder).transpose()
}

/// The account `id`'s patient and state, if it exists.
pub(super) async fn account<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<HolderRow>> {
    let row = sqlx::query("SELECT patient_id, status FROM accounts WHERE id = $1").bind(id).fetch_optional(ex).await?;
    row.as_ref().map(holder).transpose()
}

/// A new account.
pub(super) struct NewAccount<'a> {
    pub id: &'a str,
    pub patient_id: &'a str,
    pub phone_bidx: Vec<u8>,
    pub email_bidx: Option<Vec<u8>>,
    pub snils_bidx: Option<Vec<u8>>,
    pub inn_bidx: Option<Vec<u8>>,
    pub password_hash: &'a str,
    /// The accepted terms' version (`"imported"` for a migrated account).
    pub terms_version: &'a str,
    pub locale: &'a str,
    pub now: i64,
}

/// Stores an account: a registration waiting for its phone code, or (`imported`) an active
/// account migrated from another system, its phone taken as confirmed. The storage error is
/// returned as is, so the caller can tell a unique violation (a phone or e-mail taken).
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    a: NewAccount<'_>,
    imported: bool,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO accounts (id, kind, patient_id, status, phone_bidx, email_bidx, snils_bidx, password_hash, \
         terms_version, terms_accepted_at, password_changed_at, locale, created_at, phone_confirmed_at, inn_bidx) \
         VALUES ($1, 'patient', $2, $3, $4, $5, $6, $7, $8, $9, $9, $10, $9, $11, $12)",
    )
    .bind(a.id)
    .bind(a.patient_id)
    .bind(if imported { "active" } else { "pending" })
    .bind(a.phone_bidx)
    .bind(a.email_bidx)
    .bind(a.snils_bidx)
    .bind(a.password_hash)
    .bind(a.terms_version)
    .bind(a.now)
    .bind(a.locale)
    .bind(imported.then_some(a.now))
    .bind(a.inn_bidx)
    .execute(ex)
    .await?;
    Ok(())
}

/// The patient of a registration still waiting for its phone code.
pub(super) async fn pending_patient<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<String>> {
    let row = sqlx::query("SELECT patient_id FROM accounts WHERE id = $1 AND status = 'pending'")
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| r.try_get("patient_id")).transpose().map_err(Into::into)
}

/// Activates an account whose phone was confirmed.
pub(super) async fn activate<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET status = 'active', phone_confirmed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Records the account's e-mail as confirmed.
pub(super) async fn confirm_email<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET email_confirmed_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

/// A registration left pending.
pub(super) struct StaleRow {
    pub id: String,
    pub patient_id: Option<String>,
}

/// Up to 100 registrations pending since before `before`.
pub(super) async fn stale_pending<'e>(ex: impl Executor<'e, Database = Any>, before: i64) -> Result<Vec<StaleRow>> {
    let rows =
        sqlx::query("SELECT id, patient_id FROM accounts WHERE status = 'pending' AND created_at < $1 LIMIT 100")
            .bind(before)
            .fetch_all(ex)
            .await?;
    rows.iter().map(|r| Ok(StaleRow { id: r.try_get("id")?, patient_id: r.try_get("patient_id")? })).collect()
}

/// Removes a registration still pending.
pub(super) async fn delete_pending<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<()> {
    sqlx::query("DELETE FROM accounts WHERE id = $1 AND status = 'pending'").bind(id).execute(ex).await?;
    Ok(())
}

// ---------------------------------------------------------------- one-time codes

/// Codes of `purpose` ever issued to `owner`.
pub(super) async fn codes_issued<'e>(ex: impl Executor<'e, Database = Any>, owner: &str, purpose: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM one_time_codes WHERE owner_id = $1 AND purpose = $2")
        .bind(owner)
        .bind(purpose)
        .fetch_one(ex)
        .await?)
}

/// Retires `owner`'s unused codes of `purpose` (a new one replaces them).
pub(super) async fn retire_codes<'e>(
    ex: impl Executor<'e, Database = Any>,
    owner: &str,
    purpose: &str,
    at: i64,
) -> Result<()> {
    sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE owner_id = $2 AND purpose = $3 AND used_at IS NULL")
        .bind(at)
        .bind(owner)
        .bind(purpose)
        .execute(ex)
        .await?;
    Ok(())
}

/// Stores a code's digest.
pub(super) async fn insert_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    purpose: &str,
    owner: &str,
    digest: Vec<u8>,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO one_time_codes (id, purpose, owner_id, digest, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(purpose)
        .bind(owner)
        .bind(digest)
        .bind(expires_at)
        .execute(ex)
        .await?;
    Ok(())
}

/// Deletes every code of `owner`.
pub(super) async fn delete_codes_of<'e>(ex: impl Executor<'e, Database = Any>, owner: &str) -> Result<()> {
    sqlx::query("DELETE FROM one_time_codes WHERE owner_id = $1").bind(owner).execute(ex).await?;
    Ok(())
}

/// A code as stored (keyed digest).
pub(super) struct CodeRow {
    pub id: String,
    pub digest: Vec<u8>,
    pub expires_at: i64,
    pub attempts: i32,
}

/// `owner`'s newest unused code of `purpose`.
pub(super) async fn latest_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    owner: &str,
    purpose: &str,
) -> Result<Option<CodeRow>> {
    let row = sqlx::query(
        "SELECT id, digest, expires_at, attempts FROM one_time_codes WHERE owner_id = $1 AND purpose = $2 AND used_at IS NULL \
         ORDER BY expires_at DESC LIMIT 1",
    )
    .bind(owner)
    .bind(purpose)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(CodeRow {
        id: row.try_get("id")?,
        digest: row.try_get("digest")?,
        expires_at: row.try_get("expires_at")?,
        attempts: row.try_get("attempts")?,
    }))
}

/// The owner and expiry of an unused e-mail activation token, by digest.
pub(super) struct TokenRow {
    pub owner_id: String,
    pub expires_at: i64,
}

/// The unused e-mail activation token with this digest.
pub(super) async fn email_token<'e>(ex: impl Executor<'e, Database = Any>, digest: &[u8]) -> Result<Option<TokenRow>> {
    let row = sqlx::query(
        "SELECT owner_id, expires_at FROM one_time_codes \
         WHERE digest = $1 AND purpose = 'email_confirmation' AND used_at IS NULL",
    )
    .bind(digest.to_vec())
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(TokenRow { owner_id: row.try_get("owner_id")?, expires_at: row.try_get("expires_at")? }))
}

/// Uses the code with this digest; false when it already was.
pub(super) async fn use_code_by_digest<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: &[u8],
    now: i64,
) -> Result<bool> {
    let done = sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
        .bind(now)
        .bind(digest.to_vec())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Uses the code `id`; false when it already was.
pub(super) async fn use_code<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE one_time_codes SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one wrong try of the code `id`.
pub(super) async fn count_code_try<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<()> {
    sqlx::query("UPDATE one_time_codes SET attempts = attempts + 1 WHERE id = $1").bind(id).execute(ex).await?;
    Ok(())
}

/// An account due a password-change reminder.
pub(super) struct DueReminderRow {
    pub account_id: String,
    pub patient_id: String,
}

/// Active patients' accounts whose password was last changed at or before `cutoff` and who
/// were not reminded since `cutoff` (once per period), oldest first.
pub(super) async fn password_reminders_due<'e>(
    ex: impl Executor<'e, Database = Any>,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<DueReminderRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id FROM accounts WHERE kind = 'patient' AND status = 'active' \
         AND patient_id IS NOT NULL AND password_changed_at <= $1 \
         AND (password_reminded_at IS NULL OR password_reminded_at <= $1) \
         ORDER BY password_changed_at, id LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| Ok(DueReminderRow { account_id: r.try_get("id")?, patient_id: r.try_get("patient_id")? }))
        .collect()
}

/// Claims one account's reminder for this period; false when it is not due any more (another
/// process sent it, or the password was changed meanwhile).
pub(super) async fn claim_password_reminder<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    cutoff: i64,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET password_reminded_at = $1 WHERE id = $2 AND password_changed_at <= $3 \
         AND (password_reminded_at IS NULL OR password_reminded_at <= $3)",
    )
    .bind(now)
    .bind(account_id)
    .bind(cutoff)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a reminder that could not be sent as done for this period (journaled by the caller).
pub(super) async fn settle_password_reminder<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_reminded_at = $1 WHERE id = $2")
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}
