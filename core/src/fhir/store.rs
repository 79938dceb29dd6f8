//! The storage of FHIR import: every SQL statement the import runs itself, rows read by
//! column name (the rows it writes go through `store::rows`, the directory's through
//! `crate::directory`). Identifiers arrive as blind indexes; the matching rules, the lock
//! order and the sealing stay in `import` and `directory`. Each function takes any executor:
//! a transaction or the pool.

use sqlx::{Any, Executor, Row};

use crate::error::Result;

/// A local record as remembered or found: its id and its patient.
pub(super) struct LocalRow {
    pub id: String,
    pub patient_id: Option<String>,
}

/// A blind index a patient is found by.
#[derive(Clone, Copy)]
pub(super) enum PatientIndex {
    /// SNILS.
    Snils,
    /// OMS policy (ENP).
    Enp,
    /// INN.
    Inn,
}

/// The local record remembered for a scoped source name, if any.
pub(super) async fn source<'e>(ex: impl Executor<'e, Database = Any>, source: &str) -> Result<Option<LocalRow>> {
    let row = sqlx::query("SELECT local_id, patient_id FROM fhir_sources WHERE source = $1")
        .bind(source)
        .fetch_optional(ex)
        .await?;
    row.map(|r| Ok(LocalRow { id: r.try_get("local_id")?, patient_id: r.try_get("patient_id")? })).transpose()
}

/// Kabinet's own record with this id — a medical record, lab result, document or
/// appointment — if any.
pub(super) async fn own_record<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<LocalRow>> {
    let row = sqlx::query(
        "SELECT id, patient_id FROM medical_items WHERE id = $1 UNION SELECT id, patient_id FROM lab_results WHERE id = $1 \
         UNION SELECT id, patient_id FROM documents WHERE id = $1 UNION SELECT id, patient_id FROM appointments WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| Ok(LocalRow { id: r.try_get("id")?, patient_id: r.try_get("patient_id")? })).transpose()
}

/// A kind of directory record an import can find again by id.
#[derive(Clone, Copy)]
pub(super) enum DirectoryRecord {
    /// A clinic.
    Clinic,
    /// A practitioner.
    Practitioner,
}

/// Kabinet's own directory record of this kind with this id — an export coming back — if any.
pub(super) async fn own_directory_record<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: DirectoryRecord,
    id: &str,
) -> Result<Option<String>> {
    let sql = match kind {
        DirectoryRecord::Clinic => "SELECT id FROM clinics WHERE id = $1",
        DirectoryRecord::Practitioner => "SELECT id FROM practitioners WHERE id = $1",
    };
    Ok(sqlx::query_scalar(sql).bind(id).fetch_optional(ex).await?)
}

/// The patient `id` if it is on file and not erased.
pub(super) async fn live_patient<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM patients WHERE id = $1 AND erased_at IS NULL")
        .bind(id)
        .fetch_optional(ex)
        .await?)
}

/// The patient holding a SNILS, policy or INN index, if any (erased or not).
pub(super) async fn patient_by_index<'e>(
    ex: impl Executor<'e, Database = Any>,
    kind: PatientIndex,
    index: &[u8],
) -> Result<Option<String>> {
    let sql = match kind {
        PatientIndex::Snils => "SELECT id FROM patients WHERE snils_bidx = $1",
        PatientIndex::Enp => "SELECT id FROM patients WHERE enp_bidx = $1",
        PatientIndex::Inn => "SELECT id FROM patients WHERE inn_bidx = $1",
    };
    Ok(sqlx::query_scalar(sql).bind(index).fetch_optional(ex).await?)
}

/// At most two patients not erased with a name index (folded name and birth date).
pub(super) async fn live_patients_by_person<'e>(
    ex: impl Executor<'e, Database = Any>,
    index: &[u8],
) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("SELECT id FROM patients WHERE person_bidx = $1 AND erased_at IS NULL LIMIT 2")
        .bind(index)
        .fetch_all(ex)
        .await?)
}

/// How many patients not erased have a name index.
pub(super) async fn count_live_by_person<'e>(ex: impl Executor<'e, Database = Any>, index: &[u8]) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) AS n FROM patients WHERE person_bidx = $1 AND erased_at IS NULL")
        .bind(index)
        .fetch_one(ex)
        .await?)
}

/// Whether the patient `id` is erased (`false` when there is no such patient). With
/// `for_share` (PostgreSQL only) the row is share-locked until the transaction ends.
pub(super) async fn patient_erased<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    for_share: bool,
) -> Result<bool> {
    let sql = if for_share {
        "SELECT erased_at FROM patients WHERE id = $1 FOR SHARE"
    } else {
        "SELECT erased_at FROM patients WHERE id = $1"
    };
    let erased: Option<Option<i64>> = sqlx::query_scalar(sql).bind(id).fetch_optional(ex).await?;
    Ok(erased.flatten().is_some())
}

/// Takes the PostgreSQL advisory lock `key` until the transaction ends (PostgreSQL only).
pub(super) async fn advisory_xact_lock<'e>(ex: impl Executor<'e, Database = Any>, key: i64) -> Result<()> {
    sqlx::query("SELECT pg_advisory_xact_lock($1)").bind(key).execute(ex).await?;
    Ok(())
}
