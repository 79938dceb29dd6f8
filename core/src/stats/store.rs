//! The storage of the deployment counts: every SQL statement of the area, each one
//! `SELECT COUNT(*)` that reads no personal data. Each function takes any executor: a
//! transaction or the pool.

use sqlx::{Any, Executor};

use crate::error::Result;

/// What is counted.
#[derive(Debug, Clone, Copy)]
pub(super) enum Counted {
    /// Patients.
    Patients,
    /// Accounts.
    Accounts,
    /// Clinics.
    Clinics,
    /// Practitioners.
    Practitioners,
    /// Slots that are free and start after the time given.
    FreeSlots,
    /// Booked visits that start after the time given.
    UpcomingAppointments,
    /// Medical record items.
    RecordItems,
    /// Lab results.
    LabResults,
    /// Stored documents.
    Documents,
    /// Journal entries.
    JournalEntries,
    /// Messages not yet delivered.
    OutboxPending,
}

/// How many of `what` there are; `now` is the time free slots and upcoming visits start after.
pub(super) async fn count<'e>(ex: impl Executor<'e, Database = Any>, what: Counted, now: i64) -> Result<i64> {
    let (sql, at_now) = match what {
        Counted::Patients => ("SELECT COUNT(*) FROM patients", false),
        Counted::Accounts => ("SELECT COUNT(*) FROM accounts", false),
        Counted::Clinics => ("SELECT COUNT(*) FROM clinics", false),
        Counted::Practitioners => ("SELECT COUNT(*) FROM practitioners", false),
        Counted::FreeSlots => (
            "SELECT COUNT(*) FROM slots s WHERE s.starts_at > $1 AND NOT EXISTS \
             (SELECT 1 FROM appointments a WHERE a.slot_id = s.id AND a.status = 'booked')",
            true,
        ),
        Counted::UpcomingAppointments => {
            ("SELECT COUNT(*) FROM appointments WHERE status = 'booked' AND starts_at > $1", true)
        }
        Counted::RecordItems => ("SELECT COUNT(*) FROM medical_items", false),
        Counted::LabResults => ("SELECT COUNT(*) FROM lab_results", false),
        Counted::Documents => ("SELECT COUNT(*) FROM documents", false),
        Counted::JournalEntries => ("SELECT COUNT(*) FROM audit_entries", false),
        Counted::OutboxPending => ("SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL", false),
    };
    let query = sqlx::query_scalar::<_, i64>(sql);
    let query = if at_now { query.bind(now) } else { query };
    Ok(query.fetch_one(ex).await?)
}
