//! The storage of documents (R7): every SQL statement of the area, rows read by column name.
//! Metadata and content arrive and leave sealed; the checks, the authorization and the
//! sealing stay in the area's module. Each function takes any executor.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

const COLUMNS: &str = "id, patient_id, kind, created_on, content_type, size, sha256, meta, created_at, quarantined_at";

/// A document as stored (metadata sealed; content sealed, when read).
pub(super) struct DocumentRow {
    pub id: String,
    pub patient_id: String,
    pub kind: String,
    pub created_on: i64,
    pub content_type: String,
    pub size: i64,
    pub sha256: Vec<u8>,
    pub meta: Vec<u8>,
    pub created_at: i64,
    pub content: Option<Vec<u8>>,
    pub quarantined_at: Option<i64>,
}

/// A new document (metadata and content sealed).
pub(super) struct NewDocumentRow<'a> {
    pub id: &'a str,
    pub patient_id: &'a str,
    pub kind: &'a str,
    pub created_on: i64,
    pub content_type: &'a str,
    pub size: i64,
    pub sha256: &'a [u8],
    pub meta: Vec<u8>,
    pub content: Vec<u8>,
    pub clinic_id: Option<&'a str>,
    pub author_id: &'a str,
    pub now: i64,
}

/// Which documents to read.
pub(super) enum Which<'a> {
    /// One of a patient, with its content.
    One { id: &'a str, patient_id: &'a str },
    /// Every one of a patient, with content, oldest first.
    AllOf(&'a str),
    /// A patient's, of `kind` (or any) dated within `[since, until]`, newest first, after the
    /// sort key `after` (date, created, id), at most `limit`; without content.
    Page { patient_id: &'a str, kind: &'a str, since: i64, until: i64, after: Option<(i64, i64, &'a str)>, limit: i64 },
}

fn document(r: &sqlx::any::AnyRow, with_content: bool) -> Result<DocumentRow> {
    Ok(DocumentRow {
        id: r.try_get("id")?,
        patient_id: r.try_get("patient_id")?,
        kind: r.try_get("kind")?,
        created_on: r.try_get("created_on")?,
        content_type: r.try_get("content_type")?,
        size: r.try_get("size")?,
        sha256: r.try_get("sha256")?,
        meta: r.try_get("meta")?,
        created_at: r.try_get("created_at")?,
        content: if with_content { Some(r.try_get("content")?) } else { None },
        quarantined_at: r.try_get("quarantined_at")?,
    })
}

/// Documents.
pub(super) async fn documents<'e>(ex: impl Executor<'e, Database = Any>, which: Which<'_>) -> Result<Vec<DocumentRow>> {
    use crate::store::composed_sql;
    let (rows, with_content) = match which {
        Which::One { id, patient_id } => (
            sqlx::query(composed_sql!("SELECT {COLUMNS}, content FROM documents WHERE id = $1 AND patient_id = $2"))
                .bind(id)
                .bind(patient_id)
                .fetch_all(ex)
                .await?,
            true,
        ),
        Which::AllOf(patient_id) => (
            sqlx::query(composed_sql!(
                "SELECT {COLUMNS}, content FROM documents WHERE patient_id = $1 ORDER BY created_at, id"
            ))
            .bind(patient_id)
            .fetch_all(ex)
            .await?,
            true,
        ),
        Which::Page { patient_id, kind, since, until, after, limit } => (
            sqlx::query(composed_sql!(
                "SELECT {COLUMNS} FROM documents WHERE patient_id = $1 AND ($2 = '' OR kind = $2) AND created_on >= $3 \
                 AND created_on <= $4 \
                 AND ($5 = 0 OR created_on < $6 OR (created_on = $6 AND (created_at < $7 OR (created_at = $7 AND id < $8)))) \
                 ORDER BY created_on DESC, created_at DESC, id DESC LIMIT $9"
            ))
            .bind(patient_id)
            .bind(kind)
            .bind(since)
            .bind(until)
            .bind(i64::from(after.is_some()))
            .bind(after.map_or(0, |a| a.0))
            .bind(after.map_or(0, |a| a.1))
            .bind(after.map_or("", |a| a.2))
            .bind(limit)
            .fetch_all(ex)
            .await?,
            false,
        ),
    };
    rows.iter().map(|r| document(r, with_content)).collect()
}

/// A new document.
pub(super) async fn insert<'e>(ex: impl Executor<'e, Database = Any>, d: NewDocumentRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO documents (id, patient_id, kind, created_on, content_type, size, sha256, meta, content, clinic_id, author_id, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(d.id)
    .bind(d.patient_id)
    .bind(d.kind)
    .bind(d.created_on)
    .bind(d.content_type)
    .bind(d.size)
    .bind(d.sha256)
    .bind(d.meta)
    .bind(d.content)
    .bind(d.clinic_id)
    .bind(d.author_id)
    .bind(d.now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Quarantines a document whose content failed its check (once; later calls keep the time).
pub(super) async fn quarantine<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE documents SET quarantined_at = $1 WHERE id = $2 AND quarantined_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(ex)
        .await?;
    Ok(())
}

/// A quarantined document a clinic must upload again.
pub(super) struct ReuploadRow {
    pub id: String,
    pub patient_id: String,
    pub kind: String,
    pub created_on: i64,
    pub quarantined_at: i64,
}

/// The clinic's quarantined documents, oldest quarantine first.
pub(super) async fn quarantined_of_clinic<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
) -> Result<Vec<ReuploadRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id, kind, created_on, quarantined_at FROM documents WHERE clinic_id = $1 \
         AND quarantined_at IS NOT NULL AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) \
         ORDER BY quarantined_at, id",
    )
    .bind(clinic_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ReuploadRow {
                id: r.try_get("id")?,
                patient_id: r.try_get("patient_id")?,
                kind: r.try_get("kind")?,
                created_on: r.try_get("created_on")?,
                quarantined_at: r.try_get("quarantined_at")?,
            })
        })
        .collect()
}

/// The issuing clinic and patient of a quarantined document, if it is one.
pub(super) async fn quarantined<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
) -> Result<Option<(Option<String>, String)>> {
    let row = sqlx::query("SELECT clinic_id, patient_id FROM documents WHERE id = $1 AND quarantined_at IS NOT NULL")
        .bind(id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| Ok((r.try_get("clinic_id")?, r.try_get("patient_id")?))).transpose()
}

/// Replaces a quarantined document's content and lifts the quarantine; false when it was
/// restored meanwhile.
pub(super) async fn restore<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    content_type: &str,
    size: i64,
    sha256: &[u8],
    content: Vec<u8>,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE documents SET content = $1, content_type = $2, size = $3, sha256 = $4, quarantined_at = NULL \
         WHERE id = $5 AND quarantined_at IS NOT NULL",
    )
    .bind(content)
    .bind(content_type)
    .bind(size)
    .bind(sha256)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
