//! The storage of appointments (R8): every SQL statement of the area, rows read by column
//! name; the rules and the authorization stay in the area's module. Each function takes any
//! executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

const SELECT: &str = "SELECT a.id, a.patient_id, a.slot_id, p.id AS practitioner_id, p.full_name AS practitioner_name, p.specialization, \
    c.id AS clinic_id, c.name AS clinic_name, c.address AS clinic_address, \
    COALESCE(c.time_zone, (SELECT r.time_zone FROM regions r WHERE r.code = c.region_code)) AS clinic_time_zone, \
    a.starts_at, a.ends_at, s.visit_type, a.confirmation_code, a.status FROM appointments a \
    JOIN slots s ON s.id = a.slot_id JOIN practitioners p ON p.id = s.practitioner_id JOIN clinics c ON c.id = p.clinic_id";

/// An appointment with its practitioner and clinic, as stored.
pub(super) struct AppointmentRow {
    pub id: String,
    pub patient_id: String,
    pub slot_id: String,
    pub practitioner_id: String,
    pub practitioner_name: String,
    pub specialization: String,
    pub clinic_id: String,
    pub clinic_name: String,
    pub clinic_address: String,
    pub clinic_time_zone: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub visit_type: String,
    pub confirmation_code: String,
    pub status: String,
}

/// Which appointments to read, in which order.
pub(super) enum Which<'a> {
    /// One, by id.
    Id(&'a str),
    /// One of a patient, by id.
    OfPatient { id: &'a str, patient_id: &'a str },
    /// Every one of a patient, oldest first.
    AllOf(&'a str),
    /// A patient's booked ones not yet over at `now`, earliest first.
    Upcoming { patient_id: &'a str, now: i64 },
    /// A patient's past and cancelled ones at `now`, newest first.
    History { patient_id: &'a str, now: i64 },
    /// A clinic's booked ones starting in `[since, until)`, earliest first.
    Clinic { clinic_id: &'a str, since: i64, until: i64 },
}

/// A slot's start and end.
pub(super) struct SlotTimes {
    pub starts: i64,
    pub ends: i64,
}

fn row(r: &sqlx::any::AnyRow) -> Result<AppointmentRow> {
    Ok(AppointmentRow {
        id: r.try_get("id")?,
        patient_id: r.try_get("patient_id")?,
        slot_id: r.try_get("slot_id")?,
        practitioner_id: r.try_get("practitioner_id")?,
        practitioner_name: r.try_get("practitioner_name")?,
        specialization: r.try_get("specialization")?,
        clinic_id: r.try_get("clinic_id")?,
        clinic_name: r.try_get("clinic_name")?,
        clinic_address: r.try_get("clinic_address")?,
        clinic_time_zone: r.try_get("clinic_time_zone")?,
        starts_at: r.try_get("starts_at")?,
        ends_at: r.try_get("ends_at")?,
        visit_type: r.try_get("visit_type")?,
        confirmation_code: r.try_get("confirmation_code")?,
        status: r.try_get("status")?,
    })
}

/// Appointments with their practitioner and clinic.
pub(super) async fn appointments<'e>(
    ex: impl Executor<'e, Database = Any>,
    which: Which<'_>,
) -> Result<Vec<AppointmentRow>> {
    use crate::store::composed_sql;
    let rows = match which {
        Which::Id(id) => sqlx::query(composed_sql!("{SELECT} WHERE a.id = $1")).bind(id).fetch_all(ex).await?,
        Which::OfPatient { id, patient_id } => {
            sqlx::query(composed_sql!("{SELECT} WHERE a.id = $1 AND a.patient_id = $2"))
                .bind(id)
                .bind(patient_id)
                .fetch_all(ex)
                .await?
        }
        Which::AllOf(patient_id) => {
            sqlx::query(composed_sql!("{SELECT} WHERE a.patient_id = $1 ORDER BY a.starts_at, a.id"))
                .bind(patient_id)
                .fetch_all(ex)
                .await?
        }
        Which::Upcoming { patient_id, now } => sqlx::query(composed_sql!(
            "{SELECT} WHERE a.patient_id = $1 AND a.status = 'booked' AND a.ends_at > $2 ORDER BY a.starts_at, a.id"
        ))
        .bind(patient_id)
        .bind(now)
        .fetch_all(ex)
        .await?,
        Which::History { patient_id, now } => sqlx::query(composed_sql!(
            "{SELECT} WHERE a.patient_id = $1 AND (a.status <> 'booked' OR a.ends_at <= $2) ORDER BY a.starts_at DESC, a.id"
        ))
        .bind(patient_id)
        .bind(now)
        .fetch_all(ex)
        .await?,
        Which::Clinic { clinic_id, since, until } => sqlx::query(composed_sql!(
            "{SELECT} WHERE c.id = $1 AND a.status = 'booked' AND a.starts_at >= $2 AND a.starts_at < $3 ORDER BY a.starts_at, a.id"
        ))
        .bind(clinic_id)
        .bind(since)
        .bind(until)
        .fetch_all(ex)
        .await?,
    };
    rows.iter().map(row).collect()
}

/// A new visit on a slot; the storage error keeps the database's word (the slot taken).
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    slot_id: &str,
    patient_id: &str,
    status: &str,
    confirmation_code: &str,
    slot: &SlotTimes,
    now: i64,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO appointments (id, slot_id, patient_id, status, confirmation_code, starts_at, ends_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(id)
    .bind(slot_id)
    .bind(patient_id)
    .bind(status)
    .bind(confirmation_code)
    .bind(slot.starts)
    .bind(slot.ends)
    .bind(now)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// Locks a patient's row for the rest of the transaction (PostgreSQL).
pub(super) async fn lock_patient<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str) -> Result<()> {
    sqlx::query("SELECT id FROM patients WHERE id = $1 FOR UPDATE").bind(patient_id).fetch_optional(ex).await?;
    Ok(())
}

/// A slot's start and end, if the slot exists.
pub(super) async fn slot<'e>(ex: impl Executor<'e, Database = Any>, slot_id: &str) -> Result<Option<SlotTimes>> {
    let row =
        sqlx::query("SELECT starts_at, ends_at FROM slots WHERE id = $1").bind(slot_id).fetch_optional(ex).await?;
    row.map(|r| Ok(SlotTimes { starts: r.try_get("starts_at")?, ends: r.try_get("ends_at")? })).transpose()
}

/// A booked visit of the patient overlapping `slot`, other than `except`.
pub(super) async fn overlapping<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    slot: &SlotTimes,
    except: &str,
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM appointments WHERE patient_id = $1 AND status = 'booked' AND starts_at < $2 AND ends_at > $3 AND id <> $4",
    )
    .bind(patient_id)
    .bind(slot.ends)
    .bind(slot.starts)
    .bind(except)
    .fetch_optional(ex)
    .await?)
}

/// Moves a booked visit to another slot (its reminder to be sent again).
pub(super) async fn move_to<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    slot_id: &str,
    slot: &SlotTimes,
    now: i64,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "UPDATE appointments SET slot_id = $1, starts_at = $2, ends_at = $3, updated_at = $4, reminder_at = NULL \
         WHERE id = $5 AND status = 'booked'",
    )
    .bind(slot_id)
    .bind(slot.starts)
    .bind(slot.ends)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// Cancels a booked visit.
pub(super) async fn cancel<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE appointments SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status = 'booked'")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Booked visits starting in `(now, horizon]` with no reminder yet, of patients not erased,
/// at most `limit`.
pub(super) async fn due_reminders<'e>(
    ex: impl Executor<'e, Database = Any>,
    now: i64,
    horizon: i64,
    limit: i64,
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM appointments WHERE status = 'booked' AND reminder_at IS NULL AND starts_at > $1 AND starts_at <= $2 \
         AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) ORDER BY starts_at LIMIT $3",
    )
    .bind(now)
    .bind(horizon)
    .bind(limit)
    .fetch_all(ex)
    .await?)
}

/// Marks a visit's reminder settled at `now` without sending it (a skipped job item), so
/// that it is not tried again.
pub(super) async fn settle_reminder<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE appointments SET reminder_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

/// Claims a visit's reminder; whether this call claimed it.
pub(super) async fn claim_reminder<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE appointments SET reminder_at = $1 WHERE id = $2 AND reminder_at IS NULL AND status = 'booked'",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(claimed.rows_affected() == 1)
}
