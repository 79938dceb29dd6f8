//! The storage of medical records and correction requests (R12): every SQL statement of the
//! area, rows read by column name. Contents arrive and leave sealed; the rules, the
//! authorization and the sealing stay in the area's module. Each function takes any
//! executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A medical item as stored (content sealed).
pub(super) struct ItemRow {
    pub id: String,
    pub clinic_id: Option<String>,
    pub version: i64,
    pub updated_at: i64,
    pub body: Vec<u8>,
}

/// A correction request as stored (the wanted change and the comment sealed).
pub(super) struct CorrectionRow {
    pub id: String,
    pub item_id: String,
    pub patient_id: String,
    pub status: String,
    pub body: Vec<u8>,
    pub created_at: i64,
    pub resolved_at: Option<i64>,
    pub due_at: Option<i64>,
}

/// A pending correction request in a clinic's inbox.
pub(super) struct PendingRow {
    pub id: String,
    pub patient_id: String,
    pub created_at: i64,
}

/// An immunization whose next dose is due.
pub(super) struct DueVaccinationRow {
    pub id: String,
    pub patient_id: String,
    pub due_on: i64,
}

/// Which correction requests to read.
pub(super) enum Corrections<'a> {
    /// One, by id.
    Id(&'a str),
    /// Every one of a patient.
    Patient(&'a str),
}

/// A patient's items (of one `kind`, or all), newest first.
pub(super) async fn items<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    kind: Option<&str>,
) -> Result<Vec<ItemRow>> {
    let rows = sqlx::query(
        "SELECT id, clinic_id, version, updated_at, body FROM medical_items WHERE patient_id = $1 \
         AND ($2 = '' OR kind = $2) ORDER BY occurred_on DESC, created_at DESC, id DESC",
    )
    .bind(patient_id)
    .bind(kind.unwrap_or(""))
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ItemRow {
                id: r.try_get("id")?,
                clinic_id: r.try_get("clinic_id")?,
                version: r.try_get("version")?,
                updated_at: r.try_get("updated_at")?,
                body: r.try_get("body")?,
            })
        })
        .collect()
}

/// The patient an item belongs to, if the item exists.
pub(super) async fn item_owner<'e>(ex: impl Executor<'e, Database = Any>, item_id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT patient_id FROM medical_items WHERE id = $1")
        .bind(item_id)
        .fetch_optional(ex)
        .await?)
}

/// An item's kind, version and content, to replace it.
pub(super) async fn item_for_update<'e>(
    ex: impl Executor<'e, Database = Any>,
    item_id: &str,
) -> Result<(String, i64, Vec<u8>)> {
    let r =
        sqlx::query("SELECT kind, version, body FROM medical_items WHERE id = $1").bind(item_id).fetch_one(ex).await?;
    Ok((r.try_get("kind")?, r.try_get("version")?, r.try_get("body")?))
}

/// Keeps a replaced version of an item.
pub(super) async fn archive_version<'e>(
    ex: impl Executor<'e, Database = Any>,
    item_id: &str,
    version: i64,
    body: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO medical_item_versions (item_id, version, body, replaced_at) VALUES ($1, $2, $3, $4)")
        .bind(item_id)
        .bind(version)
        .bind(body)
        .bind(now)
        .execute(ex)
        .await?;
    Ok(())
}

/// Replaces an item's content with its next version.
pub(super) async fn replace_item<'e>(
    ex: impl Executor<'e, Database = Any>,
    item_id: &str,
    body: Vec<u8>,
    version: i64,
    occurred_on: i64,
    now: i64,
) -> Result<()> {
    sqlx::query("UPDATE medical_items SET body = $1, version = $2, occurred_on = $3, updated_at = $4 WHERE id = $5")
        .bind(body)
        .bind(version)
        .bind(occurred_on)
        .bind(now)
        .bind(item_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// The earlier versions of an item, oldest first.
pub(super) async fn versions<'e>(ex: impl Executor<'e, Database = Any>, item_id: &str) -> Result<Vec<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT body FROM medical_item_versions WHERE item_id = $1 ORDER BY version")
        .bind(item_id)
        .fetch_all(ex)
        .await?)
}

/// A new correction request, pending.
pub(super) async fn insert_correction<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
    item_id: &str,
    body: Vec<u8>,
    now: i64,
    due_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO corrections (id, patient_id, item_id, status, body, created_at, due_at) \
         VALUES ($1, $2, $3, 'pending', $4, $5, $6)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(item_id)
    .bind(body)
    .bind(now)
    .bind(due_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// Correction requests, newest first.
pub(super) async fn corrections<'e>(
    ex: impl Executor<'e, Database = Any>,
    which: Corrections<'_>,
) -> Result<Vec<CorrectionRow>> {
    let (filter, value) = match which {
        Corrections::Id(id) => ("id = $1", id),
        Corrections::Patient(patient) => ("patient_id = $1", patient),
    };
    let rows = sqlx::query(crate::store::composed_sql!(
        "SELECT id, item_id, patient_id, status, body, created_at, resolved_at, due_at FROM corrections WHERE {filter} \
         ORDER BY created_at DESC, id DESC"
    ))
    .bind(value)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(CorrectionRow {
                id: r.try_get("id")?,
                item_id: r.try_get("item_id")?,
                patient_id: r.try_get("patient_id")?,
                status: r.try_get("status")?,
                body: r.try_get("body")?,
                created_at: r.try_get("created_at")?,
                resolved_at: r.try_get("resolved_at")?,
                due_at: r.try_get("due_at")?,
            })
        })
        .collect()
}

/// Pending correction requests about `clinic_id`'s records of patients not erased, oldest
/// first, after the key `after`, at most `limit`.
pub(super) async fn pending_in_clinic<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<PendingRow>> {
    let rows = sqlx::query(
        "SELECT c.id, c.patient_id, c.created_at FROM corrections c JOIN medical_items m ON m.id = c.item_id \
         WHERE c.status = 'pending' AND m.clinic_id = $1 \
         AND c.patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) \
         AND ($2 = 0 OR c.created_at > $3 OR (c.created_at = $3 AND c.id > $4)) ORDER BY c.created_at, c.id LIMIT $5",
    )
    .bind(clinic_id)
    .bind(i64::from(after.is_some()))
    .bind(after.map_or(0, |a| a.0))
    .bind(after.map_or("", |a| a.1))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingRow {
                id: r.try_get("id")?,
                patient_id: r.try_get("patient_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// The time zone of the clinic that recorded an item (its own, else its region's), if any.
pub(super) async fn item_clinic_zone<'e>(
    ex: impl Executor<'e, Database = Any>,
    item_id: &str,
) -> Result<Option<String>> {
    let zone: Option<Option<String>> = sqlx::query_scalar(
        "SELECT COALESCE(c.time_zone, (SELECT r.time_zone FROM regions r WHERE r.code = c.region_code)) \
         FROM medical_items m JOIN clinics c ON c.id = m.clinic_id WHERE m.id = $1",
    )
    .bind(item_id)
    .fetch_optional(ex)
    .await?;
    Ok(zone.flatten())
}

/// Pending corrections past their deadline whose patient was not told yet (at most `limit`).
pub(super) async fn overdue_unnotified<'e>(
    ex: impl Executor<'e, Database = Any>,
    now: i64,
    limit: i64,
) -> Result<Vec<PendingRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id, created_at FROM corrections WHERE status = 'pending' AND due_at IS NOT NULL \
         AND due_at <= $1 AND overdue_notified_at IS NULL \
         AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) ORDER BY due_at, id LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(PendingRow {
                id: r.try_get("id")?,
                patient_id: r.try_get("patient_id")?,
                created_at: r.try_get("created_at")?,
            })
        })
        .collect()
}

/// Claims the overdue notice of one correction; false when it was sent or resolved meanwhile.
pub(super) async fn claim_overdue_notice<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE corrections SET overdue_notified_at = $1 WHERE id = $2 AND status = 'pending' \
         AND overdue_notified_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The patient, item and status of a correction request, if it exists.
pub(super) async fn correction_head<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<(String, String, String)>> {
    let row = sqlx::query("SELECT patient_id, item_id, status FROM corrections WHERE id = $1")
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| Ok((r.try_get("patient_id")?, r.try_get("item_id")?, r.try_get("status")?))).transpose()
}

/// A correction request's sealed body.
pub(super) async fn correction_body<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Vec<u8>> {
    Ok(sqlx::query_scalar("SELECT body FROM corrections WHERE id = $1").bind(id).fetch_one(ex).await?)
}

/// Resolves a pending correction request; whether this call resolved it.
pub(super) async fn resolve<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    status: &str,
    body: Vec<u8>,
    now: i64,
    by: &str,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE corrections SET status = $1, body = $2, resolved_at = $3, resolved_by = $4 WHERE id = $5 AND status = 'pending'",
    )
    .bind(status)
    .bind(body)
    .bind(now)
    .bind(by)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Immunizations whose next dose is due by `horizon` and not yet reminded, of patients not
/// erased, at most `limit`.
pub(super) async fn vaccinations_due<'e>(
    ex: impl Executor<'e, Database = Any>,
    horizon: i64,
    limit: i64,
) -> Result<Vec<DueVaccinationRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id, due_on FROM medical_items WHERE kind = 'immunization' AND due_on IS NOT NULL \
         AND reminded_at IS NULL AND due_on <= $1 AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) \
         ORDER BY due_on LIMIT $2",
    )
    .bind(horizon)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(DueVaccinationRow {
                id: r.try_get("id")?,
                patient_id: r.try_get("patient_id")?,
                due_on: r.try_get("due_on")?,
            })
        })
        .collect()
}

/// Marks an item's vaccination reminder settled at `now` without sending it (a skipped job
/// item), so that it is not tried again.
pub(super) async fn settle_reminder<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE medical_items SET reminded_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

/// Claims an item's vaccination reminder; whether this call claimed it.
pub(super) async fn claim_reminder<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let claimed = sqlx::query("UPDATE medical_items SET reminded_at = $1 WHERE id = $2 AND reminded_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(claimed.rows_affected() == 1)
}
