//! Counts of what a deployment holds, for operators (`kabinet stats`). Counts only: no
//! personal data, nothing decrypted, so reading them is not a personal-data access.

use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::store::StorageError;
use crate::timeutil::to_micros;

/// What a deployment holds, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    /// Patients.
    pub patients: u64,
    /// Patient accounts.
    pub accounts: u64,
    /// Clinics.
    pub clinics: u64,
    /// Practitioners.
    pub practitioners: u64,
    /// Slots that are free and in the future.
    pub free_slots: u64,
    /// Booked visits in the future.
    pub upcoming_appointments: u64,
    /// Medical record items (visits, immunizations, medications, …).
    pub record_items: u64,
    /// Lab results.
    pub lab_results: u64,
    /// Stored documents.
    pub documents: u64,
    /// Journal entries.
    pub journal_entries: u64,
    /// Messages waiting in the outbox.
    pub outbox_pending: u64,
}

async fn count(cab: &Cabinet, sql: &'static str, now: Option<i64>) -> Result<u64> {
    let query = sqlx::query_scalar::<_, i64>(sql);
    let query = match now {
        Some(t) => query.bind(t),
        None => query,
    };
    let n = query.fetch_one(cab.store().pool()).await.map_err(StorageError::from_sqlx)?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The counts, each from one `SELECT COUNT(*)`.
pub(crate) async fn collect(cab: &Cabinet) -> Result<Stats> {
    let now = Some(to_micros(cab.now()));
    Ok(Stats {
        patients: count(cab, "SELECT COUNT(*) FROM patients", None).await?,
        accounts: count(cab, "SELECT COUNT(*) FROM accounts", None).await?,
        clinics: count(cab, "SELECT COUNT(*) FROM clinics", None).await?,
        practitioners: count(cab, "SELECT COUNT(*) FROM practitioners", None).await?,
        free_slots: count(
            cab,
            "SELECT COUNT(*) FROM slots s WHERE s.starts_at > $1 AND NOT EXISTS \
             (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status = 'booked')",
            now,
        )
        .await?,
        upcoming_appointments: count(
            cab,
            "SELECT COUNT(*) FROM appointments WHERE status = 'booked' AND starts_at > $1",
            now,
        )
        .await?,
        record_items: count(cab, "SELECT COUNT(*) FROM medical_items", None).await?,
        lab_results: count(cab, "SELECT COUNT(*) FROM lab_results", None).await?,
        documents: count(cab, "SELECT COUNT(*) FROM documents", None).await?,
        journal_entries: count(cab, "SELECT COUNT(*) FROM audit_entries", None).await?,
        outbox_pending: count(cab, "SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL", None).await?,
    })
}
