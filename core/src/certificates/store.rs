//! The storage of certificate requests (R10): every SQL statement of the area, rows read by
//! column name; the rules and the PDFs stay in the area's module. Each function takes any
//! executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A certificate as stored.
pub(super) struct CertificateRow {
    pub id: String,
    pub kind: String,
    pub status: String,
    pub document_id: Option<String>,
    pub period_from: Option<i64>,
    pub period_until: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

fn certificate(r: &sqlx::any::AnyRow) -> Result<CertificateRow> {
    Ok(CertificateRow {
        id: r.try_get("id")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        document_id: r.try_get("document_id")?,
        period_from: r.try_get("period_from")?,
        period_until: r.try_get("period_until")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

const COLUMNS: &str = "id, kind, status, document_id, period_from, period_until, created_at, expires_at";

/// A new certificate request, pending until its code is confirmed.
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
    kind: &str,
    period_from: Option<i64>,
    period_until: Option<i64>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO certificates (id, patient_id, kind, period_from, period_until, status, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, 'pending', $6, $7)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(kind)
    .bind(period_from)
    .bind(period_until)
    .bind(now)
    .bind(expires_at)
    .execute(ex)
    .await?;
    Ok(())
}

/// A patient's certificate, if it exists.
pub(super) async fn find<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
) -> Result<Option<CertificateRow>> {
    let row = sqlx::query(crate::store::composed_sql!(
        "SELECT {COLUMNS} FROM certificates WHERE id = $1 AND patient_id = $2"
    ))
    .bind(id)
    .bind(patient_id)
    .fetch_optional(ex)
    .await?;
    row.as_ref().map(certificate).transpose()
}

/// A patient's certificates, newest first.
pub(super) async fn of_patient<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Vec<CertificateRow>> {
    let rows = sqlx::query(crate::store::composed_sql!(
        "SELECT {COLUMNS} FROM certificates WHERE patient_id = $1 ORDER BY created_at DESC, id DESC"
    ))
    .bind(patient_id)
    .fetch_all(ex)
    .await?;
    rows.iter().map(certificate).collect()
}

/// Marks a pending certificate ready with its PDF; whether this call did.
pub(super) async fn ready<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    document_id: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE certificates SET status = 'ready', document_id = $1, ready_at = $2 WHERE id = $3 AND status = 'pending'",
    )
    .bind(document_id)
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
