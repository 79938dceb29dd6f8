//! Suspicious activity (R6): a login from a device and IP never seen on the account, a
//! successful login right after failed attempts, or a new login while another device is
//! active raises an incident. The patient is notified (SMS and e-mail) with the details, a
//! request number and a one-time confirmation code. If not confirmed within 30 minutes,
//! `run_due_jobs` blocks every active session (driven by the `Clock`). Incidents stay in the
//! journal; confirming one sends an e-mail.

use sqlx::Row;
use time::OffsetDateTime;

use super::sessions::Device;
use super::{AuthError, codes};
use crate::audit::{Access, Action, Actor, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::integrations::Channel;
use crate::notify;
use crate::store::Conn;
use crate::timeutil::{from_micros, to_micros};

/// Reads of medical and personal data in the last hour that can count as unusual.
pub const UNUSUAL_READS_PER_HOUR: i64 = 100;
/// How many times the account's usual hourly rate (over the previous 30 days) is unusual.
pub const UNUSUAL_FACTOR: i64 = 10;

/// Time to confirm an incident before every session is blocked.
pub const CONFIRM_WITHIN_US: i64 = 30 * 60 * 1_000_000;
/// Another session used this recently counts as simultaneous.
const SIMULTANEOUS_US: i64 = 5 * 60 * 1_000_000;

/// A security incident as the patient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Incident {
    /// Id.
    pub id: String,
    /// Request number quoted in the notification (e.g. `INC-20261128-4F2A9C`).
    pub request_number: String,
    /// What looked suspicious.
    pub kind: IncidentKind,
    /// IP of the login that raised it.
    pub ip: Option<String>,
    /// Device name of that login.
    pub device: Option<String>,
    /// When.
    pub created_at: OffsetDateTime,
    /// Confirm before this, or every session is blocked.
    pub deadline: OffsetDateTime,
    /// Open, confirmed by the patient, or blocked.
    pub status: IncidentStatus,
}

crate::sets::closed_set! {
    /// What made a login or an access look suspicious (R5).
    pub enum IncidentKind in "kind" {
        /// A login from a device and address never seen for the account.
        NewDevice = "new_device",
        /// A successful login after failed attempts.
        SuccessAfterFailures = "success_after_failures",
        /// A login while another device's session is active.
        SimultaneousSessions = "simultaneous_sessions",
        /// Records read at an unusual rate.
        UnusualAccessRate = "unusual_access_rate",
        /// A password or second factor was changed.
        CredentialChange = "credential_change",
    }
}

crate::sets::closed_set! {
    /// Where an incident stands.
    pub enum IncidentStatus in "status" {
        /// Waiting for the patient's confirmation.
        Open = "open",
        /// The patient confirmed it was them.
        Confirmed = "confirmed",
        /// Not confirmed in time, or reported: sessions blocked.
        Blocked = "blocked",
    }
}

/// Decides, inside the login transaction, whether this login is suspicious; returns the
/// incident kind.
pub(crate) async fn assess(
    tx: &mut Conn,
    account_id: &str,
    device: &Device,
    had_failures: bool,
    now: i64,
) -> Result<Option<IncidentKind>> {
    let previous: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    if previous == 0 {
        // The first login after registration sets the baseline.
        return Ok(had_failures.then_some(IncidentKind::SuccessAfterFailures));
    }
    let known: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND (device_id = $2 OR ip = $3)")
            .bind(account_id)
            .bind(&device.id)
            .bind(&device.ip)
            .fetch_one(&mut *tx)
            .await?;
    if known == 0 {
        return Ok(Some(IncidentKind::NewDevice));
    }
    if had_failures {
        return Ok(Some(IncidentKind::SuccessAfterFailures));
    }
    let busy: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sessions WHERE account_id = $1 AND device_id <> $2 AND revoked_at IS NULL \
         AND blocked_at IS NULL AND last_used_at > $3",
    )
    .bind(account_id)
    .bind(&device.id)
    .bind(now - SIMULTANEOUS_US)
    .fetch_one(&mut *tx)
    .await?;
    Ok((busy > 0).then_some(IncidentKind::SimultaneousSessions))
}

/// Finds accounts whose reads in the last hour are far above their usual rate (at least
/// [`UNUSUAL_READS_PER_HOUR`] and [`UNUSUAL_FACTOR`] times their hourly average over the
/// previous 30 days) and raises an `unusual_access_rate` incident for each, at most one per
/// hour. Run by `run_due_jobs`; returns how many were raised.
pub(crate) async fn detect_unusual_access(cab: &Cabinet) -> Result<u64> {
    const HOUR_US: i64 = 3600 * 1_000_000;
    let now = to_micros(cab.now());
    let busy: Vec<(String, i64)> = sqlx::query_as(
        "SELECT actor_id, COUNT(*) FROM audit_entries WHERE at >= $1 AND action IN ('read', 'export', 'share') \
         AND actor_kind IN ('patient', 'proxy') AND actor_id IS NOT NULL GROUP BY actor_id HAVING COUNT(*) >= $2",
    )
    .bind(now - HOUR_US)
    .bind(UNUSUAL_READS_PER_HOUR)
    .fetch_all(cab.store().pool())
    .await?;
    let mut raised = 0;
    for (account_id, recent) in busy {
        let before: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entries WHERE actor_id = $1 AND at >= $2 AND at < $3 \
             AND action IN ('read', 'export', 'share')",
        )
        .bind(&account_id)
        .bind(now - 30 * 24 * HOUR_US)
        .bind(now - HOUR_US)
        .fetch_one(cab.store().pool())
        .await?;
        let usual_per_hour = (before / (30 * 24 - 1)).max(1);
        if recent < usual_per_hour * UNUSUAL_FACTOR {
            continue;
        }
        let mut tx = cab.store().begin().await?;
        let row: Option<(Option<String>, i64)> = sqlx::query_as(
            "SELECT a.patient_id, (SELECT COUNT(*) FROM incidents i WHERE i.account_id = a.id AND i.kind = 'unusual_access_rate' \
             AND i.created_at >= $2) FROM accounts a WHERE a.id = $1",
        )
        .bind(&account_id)
        .bind(now - HOUR_US)
        .fetch_optional(&mut *tx)
        .await
        ?;
        let Some((Some(patient_id), 0)) = row else { continue };
        let device = Device::default();
        let outbox =
            raise(cab, &mut tx, &account_id, &patient_id, IncidentKind::UnusualAccessRate, &device, now).await?;
        tx.commit().await?;
        for id in outbox {
            notify::deliver(cab, &id).await?;
        }
        raised += 1;
    }
    Ok(raised)
}

/// Raises an incident inside the caller's transaction: stores it with a confirmation code,
/// journals it and queues the notifications. Returns the outbox ids to deliver after commit.
pub(crate) async fn raise(
    cab: &Cabinet,
    tx: &mut Conn,
    account_id: &str,
    patient_id: &str,
    kind: IncidentKind,
    device: &Device,
    now: i64,
) -> Result<Vec<String>> {
    let id = uuid::Uuid::new_v4().to_string();
    let stamp = from_micros(now)?.date();
    let number = format!(
        "INC-{:04}{:02}{:02}-{}",
        stamp.year(),
        u8::from(stamp.month()),
        stamp.day(),
        &codes::token()[..6].to_uppercase()
    );
    sqlx::query(
        "INSERT INTO incidents (id, account_id, request_number, kind, ip, device_id, device_name, created_at, deadline) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&id)
    .bind(account_id)
    .bind(&number)
    .bind(kind.as_str())
    .bind(&device.ip)
    .bind(&device.id)
    .bind(&device.name)
    .bind(now)
    .bind(now + CONFIRM_WITHIN_US)
    .execute(&mut *tx)
    .await
    ?;
    let code = codes::generate(6);
    crate::accounts::store_code(cab, tx, "incident", &id, &code, now + CONFIRM_WITHIN_US).await?;
    let ctx = AuditContext { actor: Actor::system(), ip: Some(device.ip.clone()), device_id: Some(device.id.clone()) };
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Create,
        resource_type: "incident",
        resource_id: Some(&id),
    };
    cab.journal().record(tx, &ctx, what, Outcome::Success, now).await?;
    let person = crate::patients::Patients::new(cab.clone(), ctx).read_in(tx, patient_id, now).await?;
    let locale = cab.locale();
    let details = crate::i18n::text(locale, &format!("incident.{kind}"));
    let mut out = Vec::new();
    for (channel, to) in [(Channel::Sms, person.phone), (Channel::Email, person.email)] {
        let Some(to) = to else { continue };
        let args = [
            ("number", number.clone()),
            ("details", details.to_owned()),
            ("device", device.name.clone()),
            ("ip", device.ip.clone()),
        ];
        let msg = cab.message_with(Some(patient_id), "incident", channel, &to, Some(&code), &args);
        out.push(cab.outbox().enqueue(tx, &msg, now).await?);
    }
    Ok(out)
}

/// The account's incidents, newest first.
pub(crate) async fn list(cab: &Cabinet, account_id: &str) -> Result<Vec<Incident>> {
    let rows = sqlx::query(
        "SELECT id, request_number, kind, ip, device_name, created_at, deadline, confirmed_at, blocked_at FROM incidents \
         WHERE account_id = $1 ORDER BY created_at DESC",
    )
    .bind(account_id)
    .fetch_all(cab.store().pool())
    .await
    ?;
    rows.iter()
        .map(|r| {
            let confirmed: Option<i64> = r.try_get("confirmed_at")?;
            let blocked: Option<i64> = r.try_get("blocked_at")?;
            Ok(Incident {
                id: r.try_get("id")?,
                request_number: r.try_get("request_number")?,
                kind: IncidentKind::stored(r.try_get("kind")?)?,
                ip: r.try_get("ip")?,
                device: r.try_get("device_name")?,
                created_at: from_micros(r.try_get("created_at")?)?,
                deadline: from_micros(r.try_get("deadline")?)?,
                status: match (confirmed, blocked) {
                    (Some(_), _) => IncidentStatus::Confirmed,
                    (None, Some(_)) => IncidentStatus::Blocked,
                    _ => IncidentStatus::Open,
                },
            })
        })
        .collect()
}

/// The patient confirms an incident with the code from the notification ("it was me").
pub(crate) async fn confirm(
    cab: &Cabinet,
    ctx: &AuditContext,
    account_id: &str,
    patient_id: &str,
    incident_id: &str,
    code: &str,
) -> Result<()> {
    let now = to_micros(cab.now());
    let owner: Option<String> = sqlx::query_scalar(
        "SELECT account_id FROM incidents WHERE id = $1 AND confirmed_at IS NULL AND blocked_at IS NULL",
    )
    .bind(incident_id)
    .fetch_optional(cab.store().pool())
    .await?;
    if owner.as_deref() != Some(account_id) {
        return Err(Error::NotFound { entity: "incident" });
    }
    crate::accounts::check_code(cab, "incident", incident_id, code, now).await?;
    let mut tx = cab.store().begin().await?;
    let done = sqlx::query(
        "UPDATE incidents SET confirmed_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND blocked_at IS NULL",
    )
    .bind(now)
    .bind(incident_id)
    .execute(&mut *tx)
    .await?;
    if done.rows_affected() != 1 {
        return Err(AuthError::CodeExpired.into());
    }
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Update,
        resource_type: "incident",
        resource_id: Some(incident_id),
    };
    cab.journal().record(&mut tx, ctx, what, Outcome::Success, now).await?;
    let person = crate::patients::Patients::new(cab.clone(), ctx.clone()).read_in(&mut tx, patient_id, now).await?;
    let mut out = None;
    if let Some(email) = person.email {
        let msg = cab.message(Some(patient_id), "incident_resolved", Channel::Email, &email, None);
        out = Some(cab.outbox().enqueue(&mut tx, &msg, now).await?);
    }
    tx.commit().await?;
    if let Some(o) = out {
        notify::deliver(cab, &o).await?;
    }
    Ok(())
}

/// Blocks every active session of accounts whose incidents passed their deadline
/// unconfirmed. Returns how many incidents expired.
pub(crate) async fn expire(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let due = sqlx::query(
        "SELECT i.id, i.account_id, a.patient_id FROM incidents i JOIN accounts a ON a.id = i.account_id \
                           WHERE i.confirmed_at IS NULL AND i.blocked_at IS NULL AND i.deadline <= $1",
    )
    .bind(now)
    .fetch_all(cab.store().pool())
    .await?;
    let mut expired = 0;
    for row in due {
        let id: String = row.try_get("id")?;
        let account: String = row.try_get("account_id")?;
        let patient: Option<String> = row.try_get("patient_id")?;
        let mut tx = cab.store().begin().await?;
        // Claimed by the conditional update: one process blocks, the others skip.
        let claimed = sqlx::query(
            "UPDATE incidents SET blocked_at = $1 WHERE id = $2 AND confirmed_at IS NULL AND blocked_at IS NULL",
        )
        .bind(now)
        .bind(&id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            continue;
        }
        sqlx::query(
            "UPDATE sessions SET blocked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL AND blocked_at IS NULL",
        )
        .bind(now)
        .bind(&account)
        .execute(&mut *tx)
        .await?;
        let what = Access {
            patient_id: patient.as_deref(),
            action: Action::Update,
            resource_type: "session_block",
            resource_id: Some(&id),
        };
        cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        expired += 1;
    }
    Ok(expired)
}
