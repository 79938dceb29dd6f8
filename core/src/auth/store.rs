//! The storage of authentication (R3–R5, R18): accounts' login state, login steps, sessions
//! (also as the signed-in context `me` checks them), refresh tokens, TOTP and recovery codes,
//! password recoveries and pending profile changes.
//! Every SQL statement of the area, rows read by column name. Sealed values come in and go
//! out sealed; the rules, the authorization and the sealing stay in the area's modules. Each
//! function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use super::sessions::{Device, Failure};
use crate::error::Result;
use crate::store::StorageError;

// ---------------------------------------------------------------- accounts at login

/// The identifier an account is looked up by (each has its own blind index column).
#[derive(Debug, Clone, Copy)]
pub(crate) enum LoginIndex {
    Phone,
    Email,
    Snils,
    Inn,
}

/// An active account as login sees it.
pub(crate) struct LoginAccountRow {
    pub id: String,
    pub patient_id: Option<String>,
    pub password_hash: String,
    pub blocked_at: Option<i64>,
    pub second_factor: String,
}

/// The active account whose blind index of `index` is `value`.
pub(crate) async fn active_account_by<'e>(
    ex: impl Executor<'e, Database = Any>,
    index: LoginIndex,
    value: Vec<u8>,
) -> Result<Option<LoginAccountRow>> {
    let sql = match index {
        LoginIndex::Phone => {
            "SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE phone_bidx = $1 AND status = 'active'"
        }
        LoginIndex::Email => {
            "SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE email_bidx = $1 AND status = 'active'"
        }
        LoginIndex::Snils => {
            "SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE snils_bidx = $1 AND status = 'active'"
        }
        LoginIndex::Inn => {
            "SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE inn_bidx = $1 AND status = 'active'"
        }
    };
    let Some(row) = sqlx::query(sql).bind(value).fetch_optional(ex).await? else { return Ok(None) };
    Ok(Some(LoginAccountRow {
        id: row.try_get("id")?,
        patient_id: row.try_get("patient_id")?,
        password_hash: row.try_get("password_hash")?,
        blocked_at: row.try_get("blocked_at")?,
        second_factor: row.try_get("second_factor")?,
    }))
}

/// Wrong passwords in a row so far.
pub(crate) async fn failed_attempts<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<i32> {
    Ok(sqlx::query_scalar("SELECT failed_attempts FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

/// Clears the wrong-password counter of an account that is not blocked; false when it is.
pub(crate) async fn reset_failed_attempts<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<bool> {
    let done = sqlx::query("UPDATE accounts SET failed_attempts = 0 WHERE id = $1 AND blocked_at IS NULL")
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Replaces the password hash (a rehash with current parameters).
pub(crate) async fn set_password_hash<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    hash: String,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2").bind(hash).bind(account_id).execute(ex).await?;
    Ok(())
}

/// Counts one wrong password or second factor and blocks the account when the count reaches
/// `limit` — one statement, so the limit holds across processes.
pub(crate) async fn count_failure<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    what: Failure,
    limit: i32,
    now: i64,
) -> Result<()> {
    let sql = match what {
        Failure::Password => {
            "UPDATE accounts SET failed_attempts = failed_attempts + 1, \
             blocked_at = CASE WHEN failed_attempts + 1 >= $1 THEN $2 ELSE blocked_at END \
             WHERE id = $3 AND blocked_at IS NULL"
        }
        Failure::SecondFactor => {
            "UPDATE accounts SET factor_failures = factor_failures + 1, \
             blocked_at = CASE WHEN factor_failures + 1 >= $1 THEN $2 ELSE blocked_at END \
             WHERE id = $3 AND blocked_at IS NULL"
        }
    };
    sqlx::query(sql).bind(limit).bind(now).bind(account_id).execute(ex).await?;
    Ok(())
}

/// When the account was blocked, if it is.
pub(crate) async fn blocked_at<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT blocked_at FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

/// Clears the wrong-second-factor counter after a successful login.
pub(crate) async fn reset_factor_failures<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<()> {
    sqlx::query("UPDATE accounts SET factor_failures = 0 WHERE id = $1").bind(account_id).execute(ex).await?;
    Ok(())
}

/// The patient behind an account (none for staff).
pub(crate) async fn patient_of<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT patient_id FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

// ---------------------------------------------------------------- login steps

/// A new login step waiting for its second factor.
pub(crate) struct NewLoginStep<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub factor: &'a str,
    pub device: &'a Device,
    pub now: i64,
    pub expires_at: i64,
    pub after_failures: bool,
}

/// Stores a login step.
pub(crate) async fn insert_login_step<'e>(ex: impl Executor<'e, Database = Any>, s: &NewLoginStep<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO login_steps (id, account_id, factor, device_id, device_name, ip, user_agent, created_at, expires_at, after_failures) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(s.id)
    .bind(s.account_id)
    .bind(s.factor)
    .bind(&s.device.id)
    .bind(&s.device.name)
    .bind(&s.device.ip)
    .bind(&s.device.user_agent)
    .bind(s.now)
    .bind(s.expires_at)
    .bind(i32::from(s.after_failures))
    .execute(ex)
    .await?;
    Ok(())
}

/// A login step with its account's state.
pub(crate) struct LoginStepRow {
    pub account_id: String,
    pub factor: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub cancelled_at: Option<i64>,
    pub device: Device,
    pub blocked_at: Option<i64>,
    pub patient_id: Option<String>,
    pub after_failures: bool,
    /// `"patient"` or `"staff"`.
    pub account_kind: String,
}

/// The login step `step_id`, if it exists.
pub(crate) async fn login_step<'e>(
    ex: impl Executor<'e, Database = Any>,
    step_id: &str,
) -> Result<Option<LoginStepRow>> {
    let row = sqlx::query(
        "SELECT s.account_id, s.factor, s.expires_at, s.used_at, s.cancelled_at, s.device_id, s.device_name, s.ip, s.user_agent, \
         a.blocked_at, a.patient_id, s.after_failures, a.kind FROM login_steps s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1",
    )
    .bind(step_id)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(LoginStepRow {
        account_id: row.try_get("account_id")?,
        factor: row.try_get("factor")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        cancelled_at: row.try_get("cancelled_at")?,
        device: Device {
            id: row.try_get::<Option<String>, _>("device_id")?.unwrap_or_default(),
            name: row.try_get::<Option<String>, _>("device_name")?.unwrap_or_default(),
            ip: row.try_get::<Option<String>, _>("ip")?.unwrap_or_default(),
            user_agent: row.try_get::<Option<String>, _>("user_agent")?.unwrap_or_default(),
        },
        blocked_at: row.try_get("blocked_at")?,
        patient_id: row.try_get("patient_id")?,
        after_failures: row.try_get::<i32, _>("after_failures")? > 0,
        account_kind: row.try_get("kind")?,
    }))
}

/// Marks a step used; false when it was already used or cancelled.
pub(crate) async fn claim_login_step<'e>(
    ex: impl Executor<'e, Database = Any>,
    step_id: &str,
    now: i64,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE login_steps SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL")
            .bind(now)
            .bind(step_id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Counts one try of a step's code; false when `max` tries were already made.
pub(crate) async fn count_step_try<'e>(ex: impl Executor<'e, Database = Any>, step_id: &str, max: i32) -> Result<bool> {
    let done = sqlx::query("UPDATE login_steps SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2")
        .bind(step_id)
        .bind(max)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Cancels the account's half-finished logins.
pub(crate) async fn cancel_login_steps<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE login_steps SET cancelled_at = $1 WHERE account_id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
    )
    .bind(now)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- sessions and refresh tokens

/// Opens a session.
pub(crate) async fn insert_session<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
    account_id: &str,
    device: &Device,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO sessions (id, account_id, device_id, device_name, ip, user_agent, created_at, last_used_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
    )
    .bind(session_id)
    .bind(account_id)
    .bind(&device.id)
    .bind(&device.name)
    .bind(&device.ip)
    .bind(&device.user_agent)
    .bind(now)
    .bind(expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// When the session began.
pub(crate) async fn session_started<'e>(ex: impl Executor<'e, Database = Any>, session_id: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT created_at FROM sessions WHERE id = $1").bind(session_id).fetch_one(ex).await?)
}

/// Records a session's use.
pub(crate) async fn touch_session<'e>(ex: impl Executor<'e, Database = Any>, session_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2").bind(now).bind(session_id).execute(ex).await?;
    Ok(())
}

/// Revokes one session whoever owns it (a reused refresh token).
pub(crate) async fn revoke_session<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(session_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// The device a session was opened on.
pub(crate) async fn session_device<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
) -> Result<Option<String>> {
    let device: Option<Option<String>> =
        sqlx::query_scalar("SELECT device_id FROM sessions WHERE id = $1").bind(session_id).fetch_optional(ex).await?;
    Ok(device.flatten())
}

/// Revokes one of the account's sessions; the number revoked (0 or 1).
pub(crate) async fn revoke_account_session<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    session_id: &str,
    now: i64,
) -> Result<u64> {
    let done =
        sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(session_id)
            .bind(account_id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected())
}

/// Revokes every session of the account; the number revoked.
pub(crate) async fn revoke_all_sessions<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<u64> {
    let done = sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected())
}

/// Stores a refresh token's digest.
pub(crate) async fn insert_refresh_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: Vec<u8>,
    session_id: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO refresh_tokens (digest, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(digest)
        .bind(session_id)
        .bind(now)
        .bind(expires_at)
        .execute(ex)
        .await?;
    Ok(())
}

/// A refresh token with its session's and account's state.
pub(crate) struct RefreshRow {
    pub session_id: String,
    pub used_at: Option<i64>,
    pub expires_at: i64,
    pub account_id: String,
    pub revoked_at: Option<i64>,
    pub blocked_at: Option<i64>,
    pub patient_id: Option<String>,
    pub last_used_at: i64,
    pub session_expires_at: i64,
}

/// The refresh token with this digest, if any.
pub(crate) async fn refresh_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: &[u8],
) -> Result<Option<RefreshRow>> {
    let row = sqlx::query(
        "SELECT r.session_id, r.used_at, r.expires_at, s.account_id, s.revoked_at, s.blocked_at, a.patient_id, \
         s.last_used_at, s.expires_at AS session_expires_at FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id \
         JOIN accounts a ON a.id = s.account_id WHERE r.digest = $1",
    )
    .bind(digest.to_vec())
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(RefreshRow {
        session_id: row.try_get("session_id")?,
        used_at: row.try_get("used_at")?,
        expires_at: row.try_get("expires_at")?,
        account_id: row.try_get("account_id")?,
        revoked_at: row.try_get("revoked_at")?,
        blocked_at: row.try_get("blocked_at")?,
        patient_id: row.try_get("patient_id")?,
        last_used_at: row.try_get("last_used_at")?,
        session_expires_at: row.try_get("session_expires_at")?,
    }))
}

/// Marks a refresh token used; false when it already was.
pub(crate) async fn claim_refresh_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: &[u8],
    now: i64,
) -> Result<bool> {
    let done = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
        .bind(now)
        .bind(digest.to_vec())
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------- TOTP and recovery codes

/// Keeps a sealed TOTP secret waiting for its first code.
pub(crate) async fn set_totp_pending<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    sealed: Vec<u8>,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET totp_pending = $1 WHERE id = $2")
        .bind(sealed)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// The sealed TOTP secret waiting for its first code.
pub(crate) async fn totp_pending<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT totp_pending FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

/// Makes TOTP the second factor with this sealed secret, `step` already used.
pub(crate) async fn enable_totp<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    sealed: Vec<u8>,
    step: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET totp_secret = $1, totp_pending = NULL, totp_last_step = $2, second_factor = 'totp' WHERE id = $3",
    )
    .bind(sealed)
    .bind(step)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(())
}

/// The sealed TOTP secret and the last time step used.
pub(crate) struct TotpRow {
    pub secret: Option<Vec<u8>>,
    pub last_step: Option<i64>,
}

/// The account's TOTP state.
pub(crate) async fn totp<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<TotpRow> {
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(ex)
        .await?;
    Ok(TotpRow { secret: row.try_get("totp_secret")?, last_step: row.try_get("totp_last_step")? })
}

/// Moves the last used time step forward to `step`; false when `step` is not after it (a
/// replay), decided by the database.
pub(crate) async fn advance_totp_step<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    step: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
    )
    .bind(step)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Forgets the account's recovery codes.
pub(crate) async fn delete_recovery_codes<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<()> {
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account_id).execute(ex).await?;
    Ok(())
}

/// Stores one recovery code's digest.
pub(crate) async fn insert_recovery_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: Vec<u8>,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO recovery_codes (digest, account_id, created_at) VALUES ($1, $2, $3)")
        .bind(digest)
        .bind(account_id)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

/// Uses a recovery code; false when it does not exist or was used.
pub(crate) async fn use_recovery_code<'e>(
    ex: impl Executor<'e, Database = Any>,
    digest: Vec<u8>,
    account_id: &str,
    now: i64,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE recovery_codes SET used_at = $1 WHERE digest = $2 AND account_id = $3 AND used_at IS NULL")
            .bind(now)
            .bind(digest)
            .bind(account_id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

// ---------------------------------------------------------------- password recovery

/// Serialises recovery requests for one account until the transaction ends (PostgreSQL).
pub(crate) async fn lock_recoveries_of<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
        .bind(format!("recovery:{account_id}"))
        .execute(ex)
        .await?;
    Ok(())
}

/// Stores a recovery request (with no account when the identifier matched none).
pub(crate) async fn insert_recovery<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    account_id: Option<&str>,
    channel: &str,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO recoveries (id, account_id, channel, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(id)
        .bind(account_id)
        .bind(channel)
        .bind(now)
        .bind(expires_at)
        .execute(ex)
        .await?;
    Ok(())
}

/// Recovery requests for the account since `since`.
pub(crate) async fn recoveries_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    since: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM recoveries WHERE account_id = $1 AND created_at > $2")
        .bind(account_id)
        .bind(since)
        .fetch_one(ex)
        .await?)
}

/// A recovery request with its account's patient.
pub(crate) struct RecoveryRow {
    pub account_id: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    pub patient_id: Option<String>,
}

/// The recovery request `id`, if it exists.
pub(crate) async fn recovery<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<RecoveryRow>> {
    let row = sqlx::query(
        "SELECT r.account_id, r.expires_at, r.used_at, a.patient_id FROM recoveries r \
         LEFT JOIN accounts a ON a.id = r.account_id WHERE r.id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(RecoveryRow {
        account_id: row.try_get("account_id")?,
        expires_at: row.try_get("expires_at")?,
        used_at: row.try_get("used_at")?,
        patient_id: row.try_get("patient_id")?,
    }))
}

/// Marks a recovery used; false when it already was.
pub(crate) async fn claim_recovery<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE recoveries SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Sets a recovered password and lifts the lock and both failure counters.
pub(crate) async fn set_recovered_password<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    hash: String,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET password_hash = $1, failed_attempts = 0, factor_failures = 0, blocked_at = NULL, \
         password_changed_at = $2 WHERE id = $3",
    )
    .bind(hash)
    .bind(now)
    .bind(account_id)
    .execute(ex)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- profile changes

/// A new pending change of a personal detail (value sealed).
pub(crate) struct NewPendingChange<'a> {
    pub id: &'a str,
    pub account_id: &'a str,
    pub field: &'a str,
    pub value: Vec<u8>,
    pub method: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Stores a pending change.
pub(crate) async fn insert_pending_change<'e>(
    ex: impl Executor<'e, Database = Any>,
    c: NewPendingChange<'_>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO pending_changes (id, account_id, field, value, created_at, expires_at, method) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id)
    .bind(c.account_id)
    .bind(c.field)
    .bind(c.value)
    .bind(c.now)
    .bind(c.expires_at)
    .bind(c.method)
    .execute(ex)
    .await?;
    Ok(())
}

/// A pending change as stored (value sealed).
pub(crate) struct PendingChangeRow {
    pub field: String,
    pub value: Vec<u8>,
    pub expires_at: i64,
    pub applied_at: Option<i64>,
    pub method: String,
}

/// The account's pending change `id`, if it exists.
pub(crate) async fn pending_change<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    account_id: &str,
) -> Result<Option<PendingChangeRow>> {
    let row = sqlx::query(
        "SELECT field, value, expires_at, applied_at, method FROM pending_changes \
         WHERE id = $1 AND account_id = $2",
    )
    .bind(id)
    .bind(account_id)
    .fetch_optional(ex)
    .await?;
    let Some(row) = row else { return Ok(None) };
    Ok(Some(PendingChangeRow {
        field: row.try_get("field")?,
        value: row.try_get("value")?,
        expires_at: row.try_get("expires_at")?,
        applied_at: row.try_get("applied_at")?,
        method: row.try_get("method")?,
    }))
}

/// Takes one try at a pending change confirmed by a host method, before the host judges the
/// proof (so tries made at once cannot pass the limit together); false when none are left.
pub(crate) async fn take_proof_attempt<'e>(ex: impl Executor<'e, Database = Any>, id: &str, max: i32) -> Result<bool> {
    let done = sqlx::query("UPDATE pending_changes SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2")
        .bind(id)
        .bind(max)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a pending change applied and forgets its value; false when it already was.
pub(crate) async fn claim_pending_change<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<bool> {
    let done =
        sqlx::query("UPDATE pending_changes SET applied_at = $1, value = $2 WHERE id = $3 AND applied_at IS NULL")
            .bind(now)
            .bind(Vec::<u8>::new())
            .bind(id)
            .execute(ex)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// A contact a person logs in with.
#[derive(Debug, Clone, Copy)]
pub(crate) enum LoginContact {
    Phone,
    Email,
    /// Login by INN, for a confirmed identity.
    Inn,
    /// Login by SNILS, for a confirmed identity.
    Snils,
}

/// Points the account's login by phone, e-mail, INN or SNILS at a new blind index. The storage error is
/// returned as is, so the caller can tell a unique violation (someone else's contact).
pub(crate) async fn set_login_contact<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    contact: LoginContact,
    index: Vec<u8>,
) -> std::result::Result<(), StorageError> {
    let sql = match contact {
        LoginContact::Phone => "UPDATE accounts SET phone_bidx = $1 WHERE id = $2",
        LoginContact::Email => "UPDATE accounts SET email_bidx = $1 WHERE id = $2",
        LoginContact::Inn => "UPDATE accounts SET inn_bidx = $1 WHERE id = $2",
        LoginContact::Snils => "UPDATE accounts SET snils_bidx = $1 WHERE id = $2",
    };
    sqlx::query(sql).bind(index).bind(account_id).execute(ex).await.map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// Marks the account's e-mail confirmed (a code sent to it came back).
pub(crate) async fn mark_email_confirmed<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET email_confirmed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Whether the account logs in by SNILS (identity confirmed, or imported indexed).
pub(crate) async fn login_indexed<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE id = $1 AND snils_bidx IS NOT NULL")
        .bind(account_id)
        .fetch_one(ex)
        .await?;
    Ok(n > 0)
}

/// The account that logs in by the INN with blind index `index`, if any.
pub(crate) async fn inn_holder<'e>(ex: impl Executor<'e, Database = Any>, index: &[u8]) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM accounts WHERE inn_bidx = $1").bind(index).fetch_optional(ex).await?)
}

/// The record that holds the INN with blind index `index`, if any.
pub(crate) async fn inn_record<'e>(ex: impl Executor<'e, Database = Any>, index: &[u8]) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM patients WHERE inn_bidx = $1").bind(index).fetch_optional(ex).await?)
}

/// Whether the patient is attached to a clinic now.
pub(crate) async fn is_attached<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM attachments WHERE patient_id = $1 AND detached_at IS NULL")
        .bind(patient_id)
        .fetch_one(ex)
        .await?;
    Ok(n > 0)
}

/// Whether the patient has any lab result or visit loaded.
pub(crate) async fn has_results<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM lab_results WHERE patient_id = $1) + \
         (SELECT COUNT(*) FROM medical_items WHERE patient_id = $1 AND kind = 'visit')",
    )
    .bind(patient_id)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// When the account's identity and e-mail were confirmed.
pub(crate) struct ConfirmationsRow {
    pub identity_confirmed_at: Option<i64>,
    pub email_confirmed_at: Option<i64>,
}

/// The account's confirmations.
pub(crate) async fn confirmations<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> Result<ConfirmationsRow> {
    let row = sqlx::query("SELECT identity_confirmed_at, email_confirmed_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(ex)
        .await?;
    Ok(ConfirmationsRow {
        identity_confirmed_at: row.try_get("identity_confirmed_at")?,
        email_confirmed_at: row.try_get("email_confirmed_at")?,
    })
}

/// Sets the language of the account's notifications.
pub(crate) async fn set_locale<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str, tag: &str) -> Result<()> {
    sqlx::query("UPDATE accounts SET locale = $1 WHERE id = $2").bind(tag).bind(account_id).execute(ex).await?;
    Ok(())
}

// ---------------------------------------------------------------- the signed-in context (`me`)

/// A session with its account, as checked when a context opens.
pub(crate) struct SessionRow {
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
pub(crate) async fn session_of_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    session_id: &str,
) -> Result<Option<SessionRow>> {
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
pub(crate) struct LiveRow {
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
pub(crate) async fn live_session<'e>(
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

/// Records the session's use unless a later use already was.
pub(crate) async fn touch_session_if_older<'e>(
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
pub(crate) struct SessionListRow {
    pub id: String,
    pub device_name: Option<String>,
    pub device_id: Option<String>,
    pub ip: Option<String>,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// The account's sessions still usable at `now`, newest first.
pub(crate) async fn active_sessions<'e>(
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
pub(crate) async fn password_hash<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<String> {
    Ok(sqlx::query_scalar("SELECT password_hash FROM accounts WHERE id = $1").bind(account_id).fetch_one(ex).await?)
}

/// Sets a changed password.
pub(crate) async fn set_changed_password<'e>(
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
pub(crate) async fn revoke_other_sessions<'e>(
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
