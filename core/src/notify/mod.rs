//! The durable outbox (R14): messages are written in the same transaction as the event
//! that causes them, with recipient, text and code sealed under a system key; delivery
//! goes through the host `Notifier`. A message is claimed with a conditional UPDATE (only one
//! process wins it), delivered, then marked; a failure or a crash after the claim leaves it
//! to be retried after the claim expires, with exponential back-off.

use sqlx::Row;

use crate::cabinet::Cabinet;
use crate::crypto::{Aad, SecretKey};
use crate::error::Result;
use crate::integrations::{Channel, Message};
use crate::store::{Conn, StorageError};
use crate::timeutil::to_micros;

/// A message to enqueue.
#[derive(Clone)]
pub(crate) struct Outgoing {
    pub patient_id: Option<String>,
    pub kind: &'static str,
    pub channel: Channel,
    pub recipient: String,
    pub subject: String,
    pub text: String,
    pub code: Option<String>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    recipient: String,
    subject: String,
    text: String,
    code: Option<String>,
}

/// What one delivery pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Delivered now.
    pub delivered: u64,
    /// Failed now; will be retried.
    pub failed: u64,
}

const CLAIM_US: i64 = 60_000_000;
const BASE_BACKOFF_US: i64 = 30_000_000;
const MAX_BACKOFF_US: i64 = 3_600_000_000;

fn aad(id: &str) -> Aad<'_> {
    Aad { table: "outbox", record_id: id, field: "payload", patient_id: "" }
}

fn channel_name(c: Channel) -> &'static str {
    c.as_str()
}

fn parse_channel(s: &str) -> Channel {
    match s {
        "email" => Channel::Email,
        "push" => Channel::Push,
        _ => Channel::Sms,
    }
}

/// Writes `msg` to the outbox inside the caller's transaction; returns its id.
pub(crate) async fn enqueue(conn: &mut Conn, key: &SecretKey, msg: &Outgoing, now: i64) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    let payload = serde_json::to_vec(&Payload {
        recipient: msg.recipient.clone(),
        subject: msg.subject.clone(),
        text: msg.text.clone(),
        code: msg.code.clone(),
    })
    .map_err(|_| crate::CryptoError::Internal("outbox payload"))?;
    let sealed = crate::crypto::seal(key, &aad(&id), &payload)?;
    sqlx::query(
        "INSERT INTO outbox (id, patient_id, kind, channel, payload, created_at, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(&msg.patient_id)
    .bind(msg.kind)
    .bind(channel_name(msg.channel))
    .bind(sealed)
    .bind(now)
    .execute(conn)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(id)
}

/// Tries to deliver one message now (used right after the transaction that enqueued it, so
/// codes arrive at once). Returns whether it was delivered; failures stay queued.
pub(crate) async fn deliver(cab: &Cabinet, id: &str) -> Result<bool> {
    let Some(notifier) = cab.notifier() else { return Ok(false) };
    let now = to_micros(cab.now());
    let claimed = sqlx::query(
        "UPDATE outbox SET claimed_until = $1, attempts = attempts + 1 \
         WHERE id = $2 AND delivered_at IS NULL AND next_attempt_at <= $3 AND (claimed_until IS NULL OR claimed_until < $3)",
    )
    .bind(now + CLAIM_US)
    .bind(id)
    .bind(now)
    .execute(cab.store().pool())
    .await
    .map_err(StorageError::from_sqlx)?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    let row = sqlx::query("SELECT patient_id, kind, channel, payload, attempts FROM outbox WHERE id = $1")
        .bind(id)
        .fetch_one(cab.store().pool())
        .await
        .map_err(StorageError::from_sqlx)?;
    let payload: Vec<u8> = row.try_get(3).map_err(StorageError::from_sqlx)?;
    let plain = crate::crypto::open(cab.outbox_key(), &aad(id), &payload)?;
    let p: Payload = serde_json::from_slice(&plain).map_err(|_| StorageError::Corrupt("outbox payload"))?;
    let channel: String = row.try_get(2).map_err(StorageError::from_sqlx)?;
    let attempts: i32 = row.try_get(4).map_err(StorageError::from_sqlx)?;
    let message = Message {
        id: id.to_owned(),
        channel: parse_channel(&channel),
        recipient: p.recipient,
        kind: row.try_get(1).map_err(StorageError::from_sqlx)?,
        subject: p.subject,
        text: p.text,
        code: p.code,
        patient_id: row.try_get(0).map_err(StorageError::from_sqlx)?,
    };
    let result = notifier.deliver(&message);
    let now = to_micros(cab.now());
    match result {
        Ok(()) => {
            sqlx::query("UPDATE outbox SET delivered_at = $1, claimed_until = NULL, last_error = NULL WHERE id = $2")
                .bind(now)
                .bind(id)
                .execute(cab.store().pool())
                .await
                .map_err(StorageError::from_sqlx)?;
            Ok(true)
        }
        Err(e) => {
            let backoff = (BASE_BACKOFF_US << attempts.clamp(0, 16)).min(MAX_BACKOFF_US);
            let reason: String = e.0.chars().take(200).collect();
            sqlx::query("UPDATE outbox SET next_attempt_at = $1, claimed_until = NULL, last_error = $2 WHERE id = $3")
                .bind(now + backoff)
                .bind(reason)
                .bind(id)
                .execute(cab.store().pool())
                .await
                .map_err(StorageError::from_sqlx)?;
            Ok(false)
        }
    }
}

/// Delivers every message that is due.
pub(crate) async fn deliver_due(cab: &Cabinet, limit: i64) -> Result<DeliveryReport> {
    let now = to_micros(cab.now());
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY created_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(cab.store().pool())
    .await
    .map_err(StorageError::from_sqlx)?;
    let mut report = DeliveryReport::default();
    if cab.notifier().is_none() {
        return Ok(report);
    }
    for id in ids {
        if deliver(cab, &id).await? {
            report.delivered += 1;
        } else {
            report.failed += 1;
        }
    }
    Ok(report)
}

/// Queues an SMS about an event (`lab_result`, `request_status`, …) to a patient's phone,
/// with `{name}` placeholders of the text filled from `args`; returns the outbox id. The
/// phone is read under the system's name (journaled).
pub(crate) async fn patient_event(
    cab: &Cabinet,
    tx: &mut Conn,
    patient_id: &str,
    kind: &'static str,
    args: &[(&str, String)],
    now: i64,
) -> Result<String> {
    let person = crate::patients::Patients::new(cab.clone(), crate::audit::AuditContext::system())
        .read_in(&mut *tx, patient_id, now)
        .await?;
    let msg = cab.message_with(Some(patient_id), kind, Channel::Sms, person.phone.as_deref().unwrap_or(""), None, args);
    enqueue(tx, cab.outbox_key(), &msg, now).await
}
