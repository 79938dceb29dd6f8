//! The storage of clinic attachments (R11): every SQL statement of the area, rows read by
//! column name. Details arrive and leave sealed; the rules, the authorization and the sealing
//! stay in the area's module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

const ATTACHMENT_SELECT: &str = "SELECT t.id, c.id AS clinic_id, c.code AS clinic_code, c.name AS clinic_name, \
    c.address AS clinic_address, t.attached_at, t.detached_at, t.document_id \
    FROM attachments t JOIN clinics c ON c.id = t.clinic_id";

/// An attachment with its clinic, as stored.
pub(super) struct AttachmentRow {
    pub id: String,
    pub clinic_id: String,
    pub clinic_code: String,
    pub clinic_name: String,
    pub clinic_address: String,
    pub attached_at: i64,
    pub detached_at: Option<i64>,
    pub document_id: Option<String>,
}

/// A pending attach or detach, waiting for its code (details sealed).
pub(super) struct RequestRow {
    pub action: String,
    pub clinic_id: Option<String>,
    pub details: Option<Vec<u8>>,
    pub expires_at: i64,
    pub completed_at: Option<i64>,
    pub method: String,
    pub reason: String,
}

/// A new attach or detach request.
pub(super) struct NewRequest<'a> {
    pub id: &'a str,
    pub patient_id: &'a str,
    pub action: &'a str,
    pub clinic_id: Option<&'a str>,
    pub details: Option<Vec<u8>>,
    pub method: &'a str,
    pub reason: &'a str,
    pub now: i64,
    pub expires_at: i64,
}

/// Which attachments to read.
pub(super) enum Which<'a> {
    /// One, by id.
    Id(&'a str),
    /// A patient's current one.
    Current(&'a str),
    /// Every one of a patient.
    All(&'a str),
}

fn attachment(r: &sqlx::any::AnyRow) -> Result<AttachmentRow> {
    Ok(AttachmentRow {
        id: r.try_get("id")?,
        clinic_id: r.try_get("clinic_id")?,
        clinic_code: r.try_get("clinic_code")?,
        clinic_name: r.try_get("clinic_name")?,
        clinic_address: r.try_get("clinic_address")?,
        attached_at: r.try_get("attached_at")?,
        detached_at: r.try_get("detached_at")?,
        document_id: r.try_get("document_id")?,
    })
}

/// Attachments with their clinics.
pub(super) async fn attachments<'e>(
    ex: impl Executor<'e, Database = Any>,
    which: Which<'_>,
) -> Result<Vec<AttachmentRow>> {
    let (filter, value) = match which {
        Which::Id(id) => ("t.id = $1", id),
        Which::Current(patient) => ("t.patient_id = $1 AND t.detached_at IS NULL", patient),
        Which::All(patient) => ("t.patient_id = $1", patient),
    };
    let rows = sqlx::query(crate::store::composed_sql!("{ATTACHMENT_SELECT} WHERE {filter}"))
        .bind(value)
        .fetch_all(ex)
        .await?;
    rows.iter().map(attachment).collect()
}

/// A pending attach or detach waiting for its code.
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert_request<'e>(ex: impl Executor<'e, Database = Any>, r: NewRequest<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO attachment_requests (id, patient_id, action, clinic_id, details, created_at, expires_at, method, \
         reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(r.id)
    .bind(r.patient_id)
    .bind(r.action)
    .bind(r.clinic_id)
    .bind(r.details)
    .bind(r.now)
    .bind(r.expires_at)
    .bind(r.method)
    .bind(r.reason)
    .execute(ex)
    .await?;
    Ok(())
}

/// The pending request `id` of `patient_id`, if there is one.
pub(super) async fn request<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
) -> Result<Option<RequestRow>> {
    let row = sqlx::query(
        "SELECT action, clinic_id, details, expires_at, completed_at, method, reason FROM attachment_requests \
         WHERE id = $1 AND patient_id = $2",
    )
    .bind(id)
    .bind(patient_id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(RequestRow {
            action: r.try_get("action")?,
            clinic_id: r.try_get("clinic_id")?,
            details: r.try_get("details")?,
            expires_at: r.try_get("expires_at")?,
            completed_at: r.try_get("completed_at")?,
            method: r.try_get("method")?,
            reason: r.try_get("reason")?,
        })
    })
    .transpose()
}

/// Takes one try at a request confirmed by a host method, before the host judges the proof;
/// false when none are left.
pub(super) async fn take_proof_attempt<'e>(ex: impl Executor<'e, Database = Any>, id: &str, max: i32) -> Result<bool> {
    let done = sqlx::query("UPDATE attachment_requests SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2")
        .bind(id)
        .bind(max)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Voluntary changes of clinic after `since`: voluntary attachments started then, less the
/// person's very first attachment when that is one of them (a first attachment is not a
/// change). Counted, not compared by time, so attachments at the same instant still count.
pub(super) async fn voluntary_changes_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    since: i64,
) -> Result<i64> {
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM attachments WHERE patient_id = $1 AND reason = 'voluntary' AND attached_at > $2) \
         AS recent, (SELECT COUNT(*) FROM attachments WHERE patient_id = $1 AND attached_at <= $2) AS earlier, \
         (SELECT reason FROM attachments WHERE patient_id = $1 ORDER BY attached_at, id LIMIT 1) AS first_reason",
    )
    .bind(patient_id)
    .bind(since)
    .fetch_one(ex)
    .await?;
    let (recent, earlier): (i64, i64) = (row.try_get("recent")?, row.try_get("earlier")?);
    let first_reason: Option<String> = row.try_get("first_reason")?;
    let first_is_recent = earlier == 0 && first_reason.as_deref() == Some("voluntary");
    Ok(if first_is_recent { (recent - 1).max(0) } else { recent })
}

/// When the patient's latest attachment started, if they ever had one.
pub(super) async fn last_attached_at<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Option<i64>> {
    let at: Option<Option<i64>> = sqlx::query_scalar("SELECT MAX(attached_at) FROM attachments WHERE patient_id = $1")
        .bind(patient_id)
        .fetch_optional(ex)
        .await?;
    Ok(at.flatten())
}

/// Claims a pending request (its sealed details dropped); whether this call claimed it.
pub(super) async fn claim_request<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let claimed = sqlx::query(
        "UPDATE attachment_requests SET completed_at = $1, details = NULL WHERE id = $2 AND completed_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(claimed.rows_affected() == 1)
}

/// Ends the patient's current attachment, if any; how many ended.
pub(super) async fn end_current<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str, now: i64) -> Result<u64> {
    let ended = sqlx::query("UPDATE attachments SET detached_at = $1 WHERE patient_id = $2 AND detached_at IS NULL")
        .bind(now)
        .bind(patient_id)
        .execute(ex)
        .await?;
    Ok(ended.rows_affected())
}

/// A new attachment; the storage error keeps the database's word (another current one).
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
    clinic_id: &str,
    details: Vec<u8>,
    reason: &str,
    now: i64,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO attachments (id, patient_id, clinic_id, attached_at, details, reason) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(clinic_id)
    .bind(now)
    .bind(details)
    .bind(reason)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// The attachment of `patient_id` that ended at `now`.
pub(super) async fn ended_at<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str, now: i64) -> Result<String> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM attachments WHERE patient_id = $1 AND detached_at = $2 ORDER BY attached_at DESC LIMIT 1",
    )
    .bind(patient_id)
    .bind(now)
    .fetch_one(ex)
    .await?)
}

/// Links the confirmation PDF to an attachment.
pub(super) async fn set_document<'e>(ex: impl Executor<'e, Database = Any>, id: &str, document_id: &str) -> Result<()> {
    sqlx::query("UPDATE attachments SET document_id = $1 WHERE id = $2").bind(document_id).bind(id).execute(ex).await?;
    Ok(())
}
