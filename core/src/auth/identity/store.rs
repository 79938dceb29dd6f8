//! The storage of identity confirmation (R2): every SQL statement of the area. Identifiers
//! arrive as blind indexes; the rules (who may be joined to which record) stay in the area's
//! module. Each function takes any executor: a transaction or the pool.

use sqlx::{Any, Executor};

use crate::error::Result;
use crate::store::StorageError;

/// Marks the account's identity confirmed at `now`.
pub(super) async fn confirm<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str, now: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET identity_confirmed_at = $1 WHERE id = $2")
        .bind(now)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// When the account's identity was confirmed, if it was.
pub(super) async fn confirmed_at<'e>(ex: impl Executor<'e, Database = Any>, account_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT identity_confirmed_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(ex)
        .await?)
}

/// Claims a SNILS for the account; the storage error keeps the database's word (another
/// account holds it).
pub(super) async fn claim_snils<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    index: &[u8],
) -> std::result::Result<(), StorageError> {
    sqlx::query("UPDATE accounts SET snils_bidx = $1 WHERE id = $2")
        .bind(index)
        .bind(account_id)
        .execute(ex)
        .await
        .map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// The SNILS index on a patient record, if it has one.
pub(super) async fn record_snils<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
) -> Result<Option<Vec<u8>>> {
    Ok(sqlx::query_scalar("SELECT snils_bidx FROM patients WHERE id = $1").bind(patient_id).fetch_one(ex).await?)
}

/// A record with this SNILS that no account signs in with yet, if there is one.
pub(super) async fn unclaimed_record<'e>(
    ex: impl Executor<'e, Database = Any>,
    index: &[u8],
) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM patients WHERE snils_bidx = $1 AND erased_at IS NULL \
         AND id NOT IN (SELECT patient_id FROM accounts WHERE patient_id IS NOT NULL)",
    )
    .bind(index)
    .fetch_optional(ex)
    .await?)
}

/// Records the SNILS index on a patient record.
pub(super) async fn set_record_snils<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    index: &[u8],
) -> Result<()> {
    sqlx::query("UPDATE patients SET snils_bidx = $1 WHERE id = $2").bind(index).bind(patient_id).execute(ex).await?;
    Ok(())
}

/// Points the account at another patient record.
pub(super) async fn relink<'e>(
    ex: impl Executor<'e, Database = Any>,
    account_id: &str,
    patient_id: &str,
) -> Result<()> {
    sqlx::query("UPDATE accounts SET patient_id = $1 WHERE id = $2")
        .bind(patient_id)
        .bind(account_id)
        .execute(ex)
        .await?;
    Ok(())
}

/// Sets the INN index of the person's record.
pub(super) async fn set_record_inn<'e>(
    ex: impl Executor<'e, Database = Any>,
    patient_id: &str,
    index: &[u8],
) -> Result<()> {
    sqlx::query("UPDATE patients SET inn_bidx = $1 WHERE id = $2").bind(index).bind(patient_id).execute(ex).await?;
    Ok(())
}
