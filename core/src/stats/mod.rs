//! Counts of what a deployment holds, for operators (`kabinet stats`). Counts only: no
//! personal data, nothing decrypted, so reading them is not a personal-data access.

use self::store::Counted;
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::timeutil::to_micros;

mod store;

/// What a deployment holds, by kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
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

/// How many of `what` there are.
async fn count(cab: &Cabinet, what: Counted, now: i64) -> Result<u64> {
    let n = store::count(cab.store().pool(), what, now).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

/// The counts, each from one `SELECT COUNT(*)`.
pub(crate) async fn collect(cab: &Cabinet) -> Result<Stats> {
    let now = to_micros(cab.now());
    Ok(Stats {
        patients: count(cab, Counted::Patients, now).await?,
        accounts: count(cab, Counted::Accounts, now).await?,
        clinics: count(cab, Counted::Clinics, now).await?,
        practitioners: count(cab, Counted::Practitioners, now).await?,
        free_slots: count(cab, Counted::FreeSlots, now).await?,
        upcoming_appointments: count(cab, Counted::UpcomingAppointments, now).await?,
        record_items: count(cab, Counted::RecordItems, now).await?,
        lab_results: count(cab, Counted::LabResults, now).await?,
        documents: count(cab, Counted::Documents, now).await?,
        journal_entries: count(cab, Counted::JournalEntries, now).await?,
        outbox_pending: count(cab, Counted::OutboxPending, now).await?,
    })
}
