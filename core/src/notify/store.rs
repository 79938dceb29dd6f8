//! The storage of the outbox and notification preferences (R14): every SQL statement of the
//! area, rows read by column name. Payloads arrive and leave sealed; the delivery rules and
//! the sealing stay in the area's module. Each function takes any executor.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A message as stored (payload sealed).
pub(super) struct MessageRow {
    pub patient_id: Option<String>,
    pub kind: String,
    pub channel: String,
    pub payload: Vec<u8>,
    pub attempts: i32,
}

/// A new message, due at once.
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: Option<&str>,
    kind: &str,
    channel: &str,
    payload: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO outbox (id, patient_id, kind, channel, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(kind)
    .bind(channel)
    .bind(payload)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Claims one due message until `until`; whether this call claimed it.
pub(super) async fn claim<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64, until: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Claims up to `limit` due messages until `until`, oldest first; their ids. On PostgreSQL
/// rows another process is claiming are skipped (`backend_lock` is its lock clause).
pub(super) async fn claim_due<'e>(
    ex: impl Executor<'e, Database = Any>,
    now: i64,
    until: i64,
    limit: i64,
    backend_lock: &str,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(crate::store::composed_sql!(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 WHERE id IN (\
         SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $2 \
         AND (claimed_until IS NULL OR claimed_until < $2) ORDER BY created_at LIMIT $3 {backend_lock}) RETURNING id"
    ))
    .bind(until)
    .bind(now)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// A message to send.
pub(super) async fn message<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<MessageRow> {
    let r = sqlx::query("SELECT patient_id, kind, channel, payload, attempts FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(ex)
        .await?;
    Ok(MessageRow {
        patient_id: r.try_get("patient_id")?,
        kind: r.try_get("kind")?,
        channel: r.try_get("channel")?,
        payload: r.try_get("payload")?,
        attempts: r.try_get("attempts")?,
    })
}

/// Records a delivery.
pub(super) async fn delivered<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET delivered_at = $1, claimed_until = NULL, error_sealed = NULL WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Records a failed attempt (the host's reason sealed) and when to try again.
pub(super) async fn failed<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    next: i64,
    reason: Vec<u8>,
) -> Result<()> {
    sqlx::query("UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, error_sealed = $2 WHERE id = $3")
        .bind(next)
        .bind(reason)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Releases a message that cannot be sent (a skipped job item) and puts its next attempt a
/// day after `now`.
pub(super) async fn postpone_a_day<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE outbox SET claimed_until = NULL, next_attempt_at = $1 + 86400000000 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// A patient's channel choices (sms, email, push), if they made any.
pub(super) async fn preferences<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Option<(bool, bool, bool)>> {
    let row = sqlx::query("SELECT sms, email, push FROM notification_preferences WHERE patient_id = $1")
        .bind(patient_id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        let flag = |c: &str| -> Result<bool> { Ok(r.try_get::<i32, _>(c)? != 0) };
        Ok((flag("sms")?, flag("email")?, flag("push")?))
    })
    .transpose()
}

/// Replaces a patient's channel choices. Run it inside a transaction.
pub(super) async fn set_preferences(
    conn: &mut crate::store::Conn,
    patient_id: &str,
    (sms, email, push): (bool, bool, bool),
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM notification_preferences WHERE patient_id = $1")
        .bind(patient_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO notification_preferences (patient_id, sms, email, push, updated_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(patient_id)
    .bind(i32::from(sms))
    .bind(i32::from(email))
    .bind(i32::from(push))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// The language the patient's account chose, if any.
pub(super) async fn account_locale<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT locale FROM accounts WHERE patient_id = $1")
        .bind(patient_id)
        .fetch_optional(ex)
        .await?)
}

/// Undelivered messages whose last attempt failed: how many, and how many of those failed on
/// their first and only attempt so far.
pub(super) async fn failures_waiting<'e>(ex: impl Executor<'e, Database = Any>) -> Result<(u64, u64)> {
    let row = sqlx::query(
        "SELECT COUNT(*) AS waiting, COALESCE(SUM(CASE WHEN attempts = 1 THEN 1 ELSE 0 END), 0) AS first \
         FROM outbox WHERE delivered_at IS NULL AND attempts > 0",
    )
    .fetch_one(ex)
    .await?;
    let waiting: i64 = row.try_get("waiting")?;
    let first: i64 = row.try_get("first")?;
    Ok((u64::try_from(waiting).unwrap_or(0), u64::try_from(first).unwrap_or(0)))
}

/// A push token as stored (sealed).
pub(super) struct PushTokenRow {
    pub account_id: String,
    pub device_id: String,
    pub platform: String,
    pub token: Vec<u8>,
}

/// The push tokens of the accounts whose own record is `patient_id`.
pub(super) async fn push_tokens_of_patient<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Vec<PushTokenRow>> {
    let rows = sqlx::query(
        "SELECT t.account_id, t.device_id, t.platform, t.token FROM push_tokens t \
         JOIN accounts a ON a.id = t.account_id WHERE a.patient_id = $1 AND a.status = 'active' \
         ORDER BY t.created_at, t.device_id",
    )
    .bind(patient_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PushTokenRow {
                account_id: r.try_get("account_id")?,
                device_id: r.try_get("device_id")?,
                platform: r.try_get("platform")?,
                token: r.try_get("token")?,
            })
        })
        .collect()
}

/// Registers or replaces one device's token.
pub(super) async fn upsert_push_token<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    device_id: &str,
    platform: &str,
    token: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO push_tokens (account_id, device_id, platform, token, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (account_id, device_id) DO UPDATE SET platform = $3, token = $4, created_at = $5",
    )
    .bind(account_id)
    .bind(device_id)
    .bind(platform)
    .bind(token)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Deletes one device's token, or all of the account's.
pub(super) async fn delete_push_tokens<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    device_id: Option<&str>,
) -> Result<()> {
    match device_id {
        Some(d) => {
            sqlx::query("DELETE FROM push_tokens WHERE account_id = $1 AND device_id = $2")
                .bind(account_id)
                .bind(d)
                .execute(ex)
                .await?
        }
        None => sqlx::query("DELETE FROM push_tokens WHERE account_id = $1").bind(account_id).execute(ex).await?,
    };
    Ok(())
}

/// A registered device, without its token.
pub(super) struct PushDeviceRow {
    pub device_id: String,
    pub platform: String,
    pub created_at: i64,
}

/// The account's registered devices, newest first.
pub(super) async fn push_devices<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
) -> Result<Vec<PushDeviceRow>> {
    let rows = sqlx::query(
        "SELECT device_id, platform, created_at FROM push_tokens WHERE account_id = $1 ORDER BY created_at DESC, device_id",
    )
    .bind(account_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PushDeviceRow {
                device_id: r.try_get("device_id")?,
                platform: r.try_get("platform")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}
