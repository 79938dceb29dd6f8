//! The storage of requests (R13): every SQL statement of the area, rows read by column name.
//! Sealed values come in and go out sealed; the rules, the authorization and the sealing stay
//! in the area's module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A request as stored (subject sealed).
pub(super) struct RequestRow {
    pub id: String,
    pub patient_id: String,
    pub clinic_id: String,
    pub subject: Vec<u8>,
    pub status: String,
    pub created_at: i64,
    pub updated_at: i64,
    pub completed_at: Option<i64>,
    pub expired_at: Option<i64>,
}

/// A message as stored (body sealed).
pub(super) struct MessageRow {
    pub id: String,
    pub body: Vec<u8>,
}

/// A document's metadata as stored (file name sealed).
pub(super) struct DocumentRow {
    pub id: String,
    pub filename: Vec<u8>,
    pub size: i64,
    pub sha256: Vec<u8>,
}

/// A new document (name and content sealed).
pub(super) struct NewDocumentRow<'a> {
    pub id: &'a str,
    pub request_id: &'a str,
    pub filename: Vec<u8>,
    pub content: Vec<u8>,
    pub sha256: &'a [u8],
    pub size: i64,
    pub now: i64,
}

/// A new request, *in processing*.
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
    clinic_id: &str,
    subject: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO requests (id, patient_id, clinic_id, status, subject, created_at, updated_at) \
         VALUES ($1, $2, $3, 'in_processing', $4, $5, $5)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(clinic_id)
    .bind(subject)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// A new message of a request.
pub(super) async fn insert_message<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    request_id: &str,
    author_kind: &str,
    author_id: &str,
    body: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_messages (id, request_id, author_kind, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(request_id)
    .bind(author_kind)
    .bind(author_id)
    .bind(body)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// A new document of a request.
pub(super) async fn insert_document<'e>(ex: impl Executor<'e, Database = Any>, d: NewDocumentRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO request_documents (id, request_id, filename, content, sha256, size, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(d.id)
    .bind(d.request_id)
    .bind(d.filename)
    .bind(d.content)
    .bind(d.sha256)
    .bind(d.size)
    .bind(d.now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The request `id`, if there is one.
pub(super) async fn find<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<RequestRow>> {
    let row = sqlx::query(
        "SELECT id, patient_id, clinic_id, subject, status, created_at, updated_at, completed_at, expired_at FROM requests \
         WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(RequestRow {
            id: r.try_get("id")?,
            patient_id: r.try_get("patient_id")?,
            clinic_id: r.try_get("clinic_id")?,
            subject: r.try_get("subject")?,
            status: r.try_get("status")?,
            created_at: r.try_get("created_at")?,
            updated_at: r.try_get("updated_at")?,
            completed_at: r.try_get("completed_at")?,
            expired_at: r.try_get("expired_at")?,
        })
    })
    .transpose()
}

/// The messages of a request, oldest first.
pub(super) async fn messages<'e>(ex: impl Executor<'e, Database = Any>, request_id: &str) -> Result<Vec<MessageRow>> {
    let rows = sqlx::query("SELECT id, body FROM request_messages WHERE request_id = $1 ORDER BY created_at, id")
        .bind(request_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|m| Ok(MessageRow { id: m.try_get("id")?, body: m.try_get("body")? })).collect()
}

/// The documents of a request, oldest first.
pub(super) async fn documents<'e>(ex: impl Executor<'e, Database = Any>, request_id: &str) -> Result<Vec<DocumentRow>> {
    let rows = sqlx::query(
        "SELECT id, filename, size, sha256 FROM request_documents WHERE request_id = $1 ORDER BY created_at, id",
    )
    .bind(request_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|d| {
            Ok(DocumentRow {
                id: d.try_get("id")?,
                filename: d.try_get("filename")?,
                size: d.try_get("size")?,
                sha256: d.try_get("sha256")?,
            })
        })
        .collect()
}

/// The ids of a patient's requests, newest first.
pub(super) async fn ids_of_patient<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM requests WHERE patient_id = $1 ORDER BY created_at DESC, id DESC")
        .bind(patient_id)
        .fetch_all(ex)
        .await?)
}

/// Moves a request from status `from` to `to` (stamping `completed_at` on completion);
/// whether it moved (another writer may have moved it first).
pub(super) async fn move_status<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    from: &str,
    to: &str,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE requests SET status = $1, updated_at = $2, completed_at = CASE WHEN $1 = 'completed' THEN $2 ELSE NULL END \
         WHERE id = $3 AND status = $4",
    )
    .bind(to)
    .bind(now)
    .bind(id)
    .bind(from)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Marks a request changed at `now`.
pub(super) async fn touch<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE requests SET updated_at = $1 WHERE id = $2").bind(now).bind(id).execute(ex).await?;
    Ok(())
}

/// An open request in a clinic's inbox.
pub(super) struct OpenRow {
    pub id: String,
    pub patient_id: String,
    pub updated_at: i64,
}

/// A request completed long enough ago to be purged.
pub(super) struct CompletedRow {
    pub id: String,
    pub patient_id: String,
}

/// Open requests to `clinic_id` of patients not erased, by last change then id, after the
/// key `after`, at most `limit`.
pub(super) async fn open_in_clinic<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<OpenRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id, updated_at FROM requests WHERE clinic_id = $1 AND status <> 'completed' \
         AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) \
         AND ($2 = 0 OR updated_at > $3 OR (updated_at = $3 AND id > $4)) ORDER BY updated_at, id LIMIT $5",
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
            Ok(OpenRow {
                id: r.try_get("id")?,
                patient_id: r.try_get("patient_id")?,
                updated_at: r.try_get("updated_at")?,
            })
        })
        .collect()
}

/// Requests completed before `cutoff`, oldest first, at most `limit`.
pub(super) async fn completed_before<'e>(
    ex: impl Executor<'e, Database = Any>,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<CompletedRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id FROM requests WHERE completed_at IS NOT NULL AND completed_at < $1 ORDER BY completed_at LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok(CompletedRow { id: r.try_get("id")?, patient_id: r.try_get("patient_id")? })).collect()
}

/// Deletes a request completed before `cutoff` with its messages and documents (children
/// first, for the foreign keys); whether it was deleted. Run it inside a transaction.
pub(super) async fn purge(conn: &mut crate::store::Conn, id: &str, cutoff: i64) -> Result<bool> {
    for statement in
        ["DELETE FROM request_messages WHERE request_id = $1", "DELETE FROM request_documents WHERE request_id = $1"]
    {
        sqlx::query(statement).bind(id).execute(&mut *conn).await?;
    }
    let deleted = sqlx::query("DELETE FROM requests WHERE id = $1 AND completed_at < $2")
        .bind(id)
        .bind(cutoff)
        .execute(&mut *conn)
        .await?;
    Ok(deleted.rows_affected() == 1)
}

/// Requests not completed and untouched since `cutoff` (at most `limit`).
pub(super) async fn unfinished_before<'e>(
    ex: impl Executor<'e, Database = Any>,
    cutoff: i64,
    limit: i64,
) -> Result<Vec<CompletedRow>> {
    let rows = sqlx::query(
        "SELECT id, patient_id FROM requests WHERE status <> 'completed' AND updated_at < $1 ORDER BY updated_at, id LIMIT $2",
    )
    .bind(cutoff)
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok(CompletedRow { id: r.try_get("id")?, patient_id: r.try_get("patient_id")? })).collect()
}

/// Closes an unfinished request as expired: stored completed at `now` (so the retention
/// applies) with its expiry marked; false when it was completed or touched meanwhile.
pub(super) async fn expire<'e>(ex: impl Executor<'e, Database = Any>, id: &str, cutoff: i64, now: i64) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE requests SET status = 'completed', completed_at = $1, updated_at = $1, expired_at = $1 \
         WHERE id = $2 AND status <> 'completed' AND updated_at < $3",
    )
    .bind(now)
    .bind(id)
    .bind(cutoff)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}
