//! The storage of staff accounts, clinic cards and a clinic's patients: every SQL statement
//! of the area, rows read by column name. Secrets and cards arrive sealed; the rules, the
//! authorization and the sealing stay in the area's module. Each function takes any executor.

use sqlx::{Any, Executor, Row};

use crate::error::Result;
use crate::store::StorageError;

/// A staff member as stored.
pub(super) struct MemberRow {
    pub clinic_id: String,
    pub role: String,
    pub full_name: String,
}

/// A new staff account (TOTP secret sealed, identifiers as blind indexes).
pub(super) struct NewStaffAccount<'a> {
    pub id: &'a str,
    pub phone_bidx: Vec<u8>,
    pub email_bidx: Vec<u8>,
    pub password_hash: &'a str,
    pub totp_secret: Vec<u8>,
    pub locale: &'a str,
    pub now: i64,
}

/// The staff record of an account, if it is one.
pub(super) async fn member<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<Option<MemberRow>> {
    let row = sqlx::query("SELECT clinic_id, role, full_name FROM staff_members WHERE account_id = $1")
        .bind(account_id)
        .fetch_optional(ex)
        .await?;
    row.map(|r| {
        Ok(MemberRow {
            clinic_id: r.try_get("clinic_id")?,
            role: r.try_get("role")?,
            full_name: r.try_get("full_name")?,
        })
    })
    .transpose()
}

/// Whether the clinic exists.
pub(super) async fn clinic_exists<'e>(ex: impl Executor<'e, Database = Any>, clinic_id: &str) -> Result<bool> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM clinics WHERE id = $1").bind(clinic_id).fetch_optional(ex).await?;
    Ok(found.is_some())
}

/// A new staff account, active, signing in with TOTP; the storage error keeps the
/// database's word (a phone or e-mail already taken).
pub(super) async fn insert_account<'e>(
    ex: impl Executor<'e, Database = Any>,
    a: NewStaffAccount<'_>,
) -> std::result::Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO accounts (id, kind, patient_id, status, phone_bidx, email_bidx, password_hash, second_factor, \
         totp_secret, terms_version, terms_accepted_at, password_changed_at, locale, created_at, phone_confirmed_at, \
         email_confirmed_at) VALUES ($1, 'staff', NULL, 'active', $2, $3, $4, 'totp', $5, 'staff', $6, $6, $7, $6, $6, $6)",
    )
    .bind(a.id)
    .bind(a.phone_bidx)
    .bind(a.email_bidx)
    .bind(a.password_hash)
    .bind(a.totp_secret)
    .bind(a.now)
    .bind(a.locale)
    .execute(ex)
    .await
    .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// The staff record of a new account.
pub(super) async fn insert_member<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    clinic_id: &str,
    role: &str,
    full_name: &str,
    now: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO staff_members (account_id, clinic_id, role, full_name, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(account_id)
    .bind(clinic_id)
    .bind(role)
    .bind(full_name)
    .bind(now)
    .execute(ex)
    .await?;
    Ok(())
}

/// The sealed clinic cards of a patient: (clinic, body).
pub(super) async fn cards<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Vec<(String, Vec<u8>)>> {
    let rows = sqlx::query("SELECT clinic_id, body FROM clinic_cards WHERE patient_id = $1")
        .bind(patient_id)
        .fetch_all(ex)
        .await?;
    rows.iter().map(|r| Ok((r.try_get("clinic_id")?, r.try_get("body")?))).collect()
}

/// Replaces the card a clinic keeps of a patient. Run it inside a transaction.
pub(super) async fn put_card(
    conn: &mut crate::store::Conn,
    patient_id: &str,
    clinic_id: &str,
    body: Vec<u8>,
    now: i64,
) -> Result<()> {
    sqlx::query("DELETE FROM clinic_cards WHERE patient_id = $1 AND clinic_id = $2")
        .bind(patient_id)
        .bind(clinic_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO clinic_cards (patient_id, clinic_id, body, updated_at) VALUES ($1, $2, $3, $4)")
        .bind(patient_id)
        .bind(clinic_id)
        .bind(body)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Whether a patient is attached to, or has a visit booked with, the clinic.
pub(super) async fn is_clinic_patient<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
    patient_id: &str,
) -> Result<bool> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM attachments WHERE patient_id = $1 AND clinic_id = $2 AND detached_at IS NULL \
         UNION SELECT 1 FROM appointments a JOIN slots s ON s.id = a.slot_id JOIN practitioners p ON p.id = s.practitioner_id \
         WHERE a.patient_id = $1 AND p.clinic_id = $2 AND a.status = 'booked'",
    )
    .bind(patient_id)
    .bind(clinic_id)
    .fetch_optional(ex)
    .await?;
    Ok(found.is_some())
}

/// Patients attached to the clinic now, most recent first, after the sort key `after`
/// (attached, attachment id), at most `limit`: (attachment id, patient, attached).
pub(super) async fn attached<'e>(
    ex: impl Executor<'e, Database = Any>,
    clinic_id: &str,
    after: Option<(i64, &str)>,
    limit: i64,
) -> Result<Vec<(String, String, i64)>> {
    let rows = sqlx::query(
        "SELECT id, patient_id, attached_at FROM attachments WHERE clinic_id = $1 AND detached_at IS NULL \
         AND ($2 = 0 OR attached_at < $3 OR (attached_at = $3 AND id > $4)) ORDER BY attached_at DESC, id LIMIT $5",
    )
    .bind(clinic_id)
    .bind(i64::from(after.is_some()))
    .bind(after.map_or(0, |a| a.0))
    .bind(after.map_or("", |a| a.1))
    .bind(limit)
    .fetch_all(ex)
    .await?;
    rows.iter().map(|r| Ok((r.try_get("id")?, r.try_get("patient_id")?, r.try_get("attached_at")?))).collect()
}
