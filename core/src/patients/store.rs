//! The storage of patients' personal data (R1, R18): every SQL statement of the area, rows
//! read by column name (a new patient's row is written through `store::rows`, shared with
//! FHIR import). Fields and changes arrive and leave sealed, identifiers as blind indexes;
//! the rules, the journaling, the sealing and the indexing stay in the area's module. Each
//! function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor, Row};

use super::ProfileField;
use crate::error::Result;

/// A patient's fields as stored (sealed; a required field missing is the caller's
/// `storage.corrupt`).
pub(super) struct SealedPatientRow {
    pub surname: Option<Vec<u8>>,
    pub given_name: Option<Vec<u8>>,
    pub patronymic: Option<Vec<u8>>,
    pub birth_date: Option<Vec<u8>>,
    pub sex: Option<Vec<u8>>,
    pub snils: Option<Vec<u8>>,
    pub inn: Option<Vec<u8>>,
    pub enp: Option<Vec<u8>>,
    pub phone: Option<Vec<u8>>,
    pub email: Option<Vec<u8>>,
    pub insurer: Option<Vec<u8>>,
    pub passport: Option<Vec<u8>>,
    pub address: Option<Vec<u8>>,
    pub actual_address: Option<Vec<u8>>,
    pub created_at: i64,
}

/// A change of personal data as stored (values sealed).
pub(super) struct ChangeRow {
    pub id: String,
    pub field: String,
    pub old_value: Option<Vec<u8>>,
    pub new_value: Vec<u8>,
    pub changed_at: i64,
    pub confirmed_by: String,
}

/// A new change of personal data (values sealed).
pub(super) struct NewChangeRow<'a> {
    pub id: &'a str,
    pub patient_id: &'a str,
    pub field: &'a str,
    pub old_value: Option<Vec<u8>>,
    pub new_value: Vec<u8>,
    pub now: i64,
    pub confirmed_by: &'a str,
}

/// An identifier a patient is looked up by, through its blind index.
#[derive(Clone, Copy)]
pub(super) enum Identifier {
    /// SNILS.
    Snils,
    /// OMS policy (ENP).
    Enp,
    /// INN.
    Inn,
}

/// A patient's sealed fields, if there is such a patient.
pub(super) async fn sealed<'e>(ex: impl Executor<'e, Database = Any>, id: &str) -> Result<Option<SealedPatientRow>> {
    let row = sqlx::query(
        "SELECT surname, given_name, patronymic, birth_date, sex, snils, inn, enp, phone, email, insurer, passport, \
         address, actual_address, created_at FROM patients WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(ex)
    .await?;
    row.map(|r| {
        Ok(SealedPatientRow {
            surname: r.try_get("surname")?,
            given_name: r.try_get("given_name")?,
            patronymic: r.try_get("patronymic")?,
            birth_date: r.try_get("birth_date")?,
            sex: r.try_get("sex")?,
            snils: r.try_get("snils")?,
            inn: r.try_get("inn")?,
            enp: r.try_get("enp")?,
            phone: r.try_get("phone")?,
            email: r.try_get("email")?,
            insurer: r.try_get("insurer")?,
            passport: r.try_get("passport")?,
            address: r.try_get("address")?,
            actual_address: r.try_get("actual_address")?,
            created_at: r.try_get("created_at")?,
        })
    })
    .transpose()
}

/// The patient whose identifier has the blind index `index`, if any.
pub(super) async fn by_identifier<'e>(
    ex: impl Executor<'e, Database = Any>,
    which: Identifier,
    index: &[u8],
) -> Result<Option<String>> {
    let sql = match which {
        Identifier::Snils => "SELECT id FROM patients WHERE snils_bidx = $1",
        Identifier::Enp => "SELECT id FROM patients WHERE enp_bidx = $1",
        Identifier::Inn => "SELECT id FROM patients WHERE inn_bidx = $1",
    };
    Ok(sqlx::query_scalar(sql).bind(index).fetch_optional(ex).await?)
}

/// Replaces one sealed field at `now`, and the field's blind index when `index` is given
/// (phone, e-mail, the name index, an identifier of a confirmed identity). A unique index
/// already held by another record fails as a unique violation (the caller's conflict).
pub(super) async fn update_field<'e>(
    ex: impl Executor<'e, Database = Any>,
    id: &str,
    field: ProfileField,
    sealed: Vec<u8>,
    index: Option<Vec<u8>>,
    now: i64,
) -> std::result::Result<(), crate::store::StorageError> {
    // Both names come from the closed `ProfileField`, never from input.
    let column = field.column();
    let sql = match (field.index_column(), &index) {
        (Some(index_column), Some(_)) => crate::store::composed_sql!(
            "UPDATE patients SET {column} = $1, updated_at = $2, {index_column} = $4 WHERE id = $3"
        ),
        _ => crate::store::composed_sql!("UPDATE patients SET {column} = $1, updated_at = $2 WHERE id = $3"),
    };
    let mut q = sqlx::query(sql).bind(sealed).bind(now).bind(id);
    if let (Some(index), Some(_)) = (index, field.index_column()) {
        q = q.bind(index);
    }
    q.execute(ex).await.map_err(crate::store::StorageError::from_sqlx)?;
    Ok(())
}

/// A new change of personal data.
pub(super) async fn insert_change<'e>(ex: impl Executor<'e, Database = Any>, c: NewChangeRow<'_>) -> Result<()> {
    sqlx::query(
        "INSERT INTO profile_changes (id, patient_id, field, old_value, new_value, changed_at, confirmed_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(c.id)
    .bind(c.patient_id)
    .bind(c.field)
    .bind(c.old_value)
    .bind(c.new_value)
    .bind(c.now)
    .bind(c.confirmed_by)
    .execute(ex)
    .await?;
    Ok(())
}

/// A patient's changes of personal data, newest first.
pub(super) async fn changes<'e>(ex: impl Executor<'e, Database = Any>, patient_id: &str) -> Result<Vec<ChangeRow>> {
    let rows = sqlx::query(
        "SELECT id, field, old_value, new_value, changed_at, confirmed_by FROM profile_changes WHERE patient_id = $1 \
         ORDER BY changed_at DESC, id",
    )
    .bind(patient_id)
    .fetch_all(ex)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ChangeRow {
                id: r.try_get("id")?,
                field: r.try_get("field")?,
                old_value: r.try_get("old_value")?,
                new_value: r.try_get("new_value")?,
                changed_at: r.try_get("changed_at")?,
                confirmed_by: r.try_get("confirmed_by")?,
            })
        })
        .collect()
}

/// Marks a patient erased at `now` and clears their blind indexes; whether there was such a
/// patient.
pub(super) async fn mark_erased<'e>(ex: impl Executor<'e, Database = Any>, id: &str, now: i64) -> Result<bool> {
    let cleared = sqlx::query(
        "UPDATE patients SET snils_bidx = NULL, inn_bidx = NULL, enp_bidx = NULL, phone_bidx = NULL, \
         email_bidx = NULL, person_bidx = NULL, erased_at = $1, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(ex)
    .await?;
    Ok(cleared.rows_affected() != 0)
}

/// Removes or ends everything outside the sealed records that still points at an erased
/// patient: their account keeps no login identifiers, sessions, tokens, codes or pending
/// changes; queued messages are dropped; booked visits are cancelled (their slots free
/// again); current attachments and proxy grants end; pending vaccination reminders are
/// settled; rows an unfinished import staged for them are deleted. Run it inside the
/// erasure's transaction.
pub(super) async fn forget_everywhere(conn: &mut crate::store::Conn, patient_id: &str, now: i64) -> Result<()> {
    const STATEMENTS: &[&str] = &[
        "DELETE FROM outbox WHERE patient_id = $1 AND delivered_at IS NULL AND $2 = $2",
        "UPDATE appointments SET status = 'cancelled', updated_at = $2 WHERE patient_id = $1 AND status = 'booked'",
        "UPDATE attachments SET detached_at = $2 WHERE patient_id = $1 AND detached_at IS NULL",
        "UPDATE proxies SET revoked_at = $2 WHERE (ward_patient_id = $1 OR proxy_patient_id = $1) AND revoked_at IS NULL",
        "UPDATE medical_items SET reminded_at = $2 WHERE patient_id = $1 AND reminded_at IS NULL AND due_on IS NOT NULL",
        "UPDATE sessions SET revoked_at = $2 WHERE revoked_at IS NULL AND account_id IN (SELECT id FROM accounts WHERE patient_id = $1)",
        "UPDATE login_steps SET cancelled_at = $2 WHERE used_at IS NULL AND cancelled_at IS NULL \
         AND account_id IN (SELECT id FROM accounts WHERE patient_id = $1)",
        "UPDATE one_time_codes SET used_at = $2 WHERE used_at IS NULL AND owner_id IN (SELECT id FROM accounts WHERE patient_id = $1)",
        "DELETE FROM pending_changes WHERE account_id IN (SELECT id FROM accounts WHERE patient_id = $1) AND $2 = $2",
        "UPDATE recoveries SET used_at = $2 WHERE used_at IS NULL AND account_id IN (SELECT id FROM accounts WHERE patient_id = $1)",
        "UPDATE accounts SET phone_bidx = NULL, email_bidx = NULL, snils_bidx = NULL, inn_bidx = NULL, \
         password_hash = '!erased', totp_secret = NULL, totp_pending = NULL, blocked_at = COALESCE(blocked_at, $2), \
         erased_at = $2 WHERE patient_id = $1",
        // Rows an unfinished import staged for the person (sealed under the key erasure
        // destroys; deleted all the same).
        "DELETE FROM staged_patients WHERE id = $1 AND $2 = $2",
        "DELETE FROM staged_medical_items WHERE patient_id = $1 AND $2 = $2",
        "DELETE FROM staged_lab_results WHERE patient_id = $1 AND $2 = $2",
        "DELETE FROM staged_fhir_sources WHERE patient_id = $1 AND $2 = $2",
    ];
    for sql in STATEMENTS {
        sqlx::query(*sql).bind(patient_id).bind(now).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Whether the patient's `field` changed after `since`.
pub(super) async fn changed_since<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    field: &str,
    since: i64,
) -> Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM profile_changes WHERE patient_id = $1 AND field = $2 AND changed_at > $3",
    )
    .bind(patient_id)
    .bind(field)
    .bind(since)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}
