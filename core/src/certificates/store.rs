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
    pub valid_until: Option<i64>,
    pub kind_snapshot: Option<String>,
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
        valid_until: r.try_get("valid_until")?,
        kind_snapshot: r.try_get("kind_snapshot")?,
    })
}

const COLUMNS: &str =
    "id, kind, status, document_id, period_from, period_until, created_at, expires_at, valid_until, kind_snapshot";

/// A new certificate request, pending until its code is confirmed.
#[allow(clippy::too_many_arguments)] // one column each
pub(super) async fn insert<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    patient_id: &str,
    kind: &str,
    kind_snapshot: &str,
    period_from: Option<i64>,
    period_until: Option<i64>,
    now: i64,
    expires_at: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO certificates (id, patient_id, kind, kind_snapshot, period_from, period_until, status, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8)",
    )
    .bind(id)
    .bind(patient_id)
    .bind(kind)
    .bind(kind_snapshot)
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

/// Marks a pending certificate ready with its PDF and the date it is valid until; whether
/// this call did.
pub(super) async fn ready<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    document_id: &str,
    valid_until: Option<i64>,
    now: i64,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE certificates SET status = 'ready', document_id = $1, ready_at = $2, valid_until = $3 \
         WHERE id = $4 AND status = 'pending'",
    )
    .bind(document_id)
    .bind(now)
    .bind(valid_until)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A certificate kind as stored.
pub(super) struct KindRow {
    pub code: String,
    pub title_ru: String,
    pub title_en: String,
    pub sections: String,
    pub period: String,
    pub max_period_days: Option<i32>,
    pub default_period_days: Option<i32>,
    pub validity_days: Option<i32>,
    pub document_kind: String,
    pub builtin: bool,
    pub active: bool,
}

fn kind(r: &sqlx::any::AnyRow) -> Result<KindRow> {
    Ok(KindRow {
        code: r.try_get("code")?,
        title_ru: r.try_get("title_ru")?,
        title_en: r.try_get("title_en")?,
        sections: r.try_get("sections")?,
        period: r.try_get("period")?,
        max_period_days: r.try_get("max_period_days")?,
        default_period_days: r.try_get("default_period_days")?,
        validity_days: r.try_get("validity_days")?,
        document_kind: r.try_get("document_kind")?,
        builtin: r.try_get::<i32, _>("builtin")? != 0,
        active: r.try_get::<i32, _>("active")? != 0,
    })
}

const KIND_COLUMNS: &str = "code, title_ru, title_en, sections, period, max_period_days, default_period_days, \
                            validity_days, document_kind, builtin, active";

/// A kind by code, retired or not.
pub(super) async fn kind_by_code<'e>(ex: impl Executor<'e, Database = Any>, code: &str) -> Result<Option<KindRow>> {
    let row = sqlx::query(crate::store::composed_sql!("SELECT {KIND_COLUMNS} FROM certificate_kinds WHERE code = $1"))
        .bind(code)
        .fetch_optional(ex)
        .await?;
    row.as_ref().map(kind).transpose()
}

/// Every kind, built-in first, then by code.
pub(super) async fn kinds<'e>(ex: impl Executor<'e, Database = Any>) -> Result<Vec<KindRow>> {
    let rows = sqlx::query(crate::store::composed_sql!(
        "SELECT {KIND_COLUMNS} FROM certificate_kinds ORDER BY builtin DESC, code"
    ))
    .fetch_all(ex)
    .await?;
    rows.iter().map(kind).collect()
}

/// A kind's definition as the operator gives it.
pub(super) struct NewKind<'a> {
    pub code: &'a str,
    pub title_ru: &'a str,
    pub title_en: &'a str,
    pub sections: &'a str,
    pub period: &'a str,
    pub max_period_days: Option<i32>,
    pub default_period_days: Option<i32>,
    pub validity_days: Option<i32>,
    pub document_kind: &'a str,
}

/// Registers a kind, or replaces the definition of the one with its code (built-in or not)
/// and offers it again.
pub(super) async fn upsert_kind<'e>(ex: impl Executor<'e, Database = Any>, k: &NewKind<'_>, now: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO certificate_kinds (code, title_ru, title_en, sections, period, max_period_days, \
         default_period_days, validity_days, document_kind, builtin, active, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, 1, $10) \
         ON CONFLICT (code) DO UPDATE SET title_ru = excluded.title_ru, title_en = excluded.title_en, \
         sections = excluded.sections, period = excluded.period, max_period_days = excluded.max_period_days, \
         default_period_days = excluded.default_period_days, validity_days = excluded.validity_days, \
         document_kind = excluded.document_kind, active = 1, updated_at = excluded.updated_at",
    )
    .bind(k.code)
    .bind(k.title_ru)
    .bind(k.title_en)
    .bind(k.sections)
    .bind(k.period)
    .bind(k.max_period_days)
    .bind(k.default_period_days)
    .bind(k.validity_days)
    .bind(k.document_kind)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// Stops offering a kind; whether it existed.
pub(super) async fn retire_kind<'e>(ex: impl Executor<'e, Database = Any>, code: &str, now: i64) -> Result<bool> {
    let done = sqlx::query("UPDATE certificate_kinds SET active = 0, updated_at = $1 WHERE code = $2")
        .bind(now)
        .bind(code)
        .execute(ex)
        .await?;
    Ok(done.rows_affected() == 1)
}
