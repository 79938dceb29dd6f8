//! The password-change reminder (R4): a person whose password is older than the
//! deployment's period (`AccountPolicy::password_reminder_after`, 180 days by default) is
//! reminded to change it — once per period, whichever process runs the jobs, journaled.

use super::store;
use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::store::Conn;
use crate::timeutil::to_micros;

/// At most this many reminders per run; the rest go on the next run.
const BATCH: i64 = 500;

/// Queues the reminders that are due; returns how many.
pub(crate) async fn queue_password_reminders(cab: &Cabinet) -> Result<u64> {
    let period = cab.account_policy().password_reminder_after;
    let now = to_micros(cab.now());
    let cutoff = now.saturating_sub(period.whole_microseconds().try_into().unwrap_or(i64::MAX));
    let due = store::password_reminders_due(cab.store().pool(), cutoff, BATCH).await?;
    let days = period.whole_days().to_string();
    let mut queued = 0;
    for store::DueReminderRow { account_id, patient_id } in due {
        let done = remind(cab, &account_id, &patient_id, cutoff, &days, now).await;
        let settle = async |tx: &mut Conn| store::settle_password_reminder(tx, &account_id, now).await;
        queued += crate::cabinet::tally(cab, done, "password_reminder", &account_id, settle, now).await?;
    }
    Ok(queued)
}

/// Claims and queues one reminder; `false` when another process claimed it first.
async fn remind(cab: &Cabinet, account_id: &str, patient_id: &str, cutoff: i64, days: &str, now: i64) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    if !store::claim_password_reminder(&mut *tx, account_id, cutoff, now).await? {
        return Ok(false);
    }
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Create,
        resource_type: "password_reminder",
        resource_id: Some(account_id),
    };
    cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
    crate::notify::patient_event(cab, &mut tx, patient_id, "password_reminder", &[("days", days.to_owned())], now)
        .await?;
    tx.commit().await?;
    Ok(true)
}
