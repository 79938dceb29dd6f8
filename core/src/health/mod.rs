//! `Cabinet::health()` (issue 13): whether a deployment can serve — the database answers,
//! the schema is this SDK's, the keys open, the journal's latest head covers every entry, and
//! the outbox is moving. Every failed check is named by a stable code in `problems`; the call
//! itself does not fail because a check did, so a monitor always gets an answer.

mod store;

use time::OffsetDateTime;

use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::timeutil::{from_micros, to_micros};

/// A message waiting longer than this makes the deployment unhealthy (`outbox.stale`).
pub const OUTBOX_STALE_AFTER: time::Duration = time::Duration::hours(1);

/// What [`Cabinet::health`] found. Counts and times only: no personal data.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Health {
    /// No check failed.
    pub healthy: bool,
    /// The failed checks, by stable code: `database.unreachable`, `schema.outdated`,
    /// `schema.newer`, `keys.unavailable`, `journal.unsigned`, `outbox.stale`.
    pub problems: Vec<String>,
    /// The database answered.
    pub database_reachable: bool,
    /// The newest migration the database has applied.
    pub schema_database: i64,
    /// The newest migration this SDK knows.
    pub schema_sdk: i64,
    /// The key provider opens the deployment's keys.
    pub keys_available: bool,
    /// Entries in the signed journal.
    pub journal_entries: u64,
    /// Entries the latest signed head covers (equal to `journal_entries` when healthy).
    pub journal_signed_size: u64,
    /// When the latest head was signed.
    pub journal_signed_at: Option<OffsetDateTime>,
    /// Messages not delivered yet.
    pub outbox_pending: u64,
    /// When the oldest of them was queued.
    pub outbox_oldest_pending_at: Option<OffsetDateTime>,
    /// When the checks ran.
    pub checked_at: OffsetDateTime,
}

/// Runs every check; a check that cannot run counts as failed.
pub(crate) async fn check(cab: &Cabinet) -> Result<Health> {
    let now = cab.now();
    let pool = cab.store().pool();
    let mut problems: Vec<&'static str> = Vec::new();
    let mut health = Health {
        healthy: false,
        problems: Vec::new(),
        database_reachable: store::ping(pool).await.is_ok(),
        schema_database: 0,
        schema_sdk: 0,
        keys_available: false,
        journal_entries: 0,
        journal_signed_size: 0,
        journal_signed_at: None,
        outbox_pending: 0,
        outbox_oldest_pending_at: None,
        checked_at: now,
    };
    if !health.database_reachable {
        health.problems = vec!["database.unreachable".to_owned()];
        return Ok(health);
    }
    match cab.store().schema().await {
        Ok(s) => {
            (health.schema_database, health.schema_sdk) = (s.database, s.sdk);
            if s.database > s.sdk {
                problems.push("schema.newer");
            } else if !s.current {
                problems.push("schema.outdated");
            }
        }
        Err(_) => problems.push("database.unreachable"),
    }
    health.keys_available = cab.keyring().check_available(cab.store()).await.is_ok();
    if !health.keys_available {
        problems.push("keys.unavailable");
    }
    let head = cab.system().audit().latest_head().await.ok().flatten();
    health.journal_entries = store::journal_entries(pool).await.unwrap_or(0);
    health.journal_signed_size = head.as_ref().map_or(0, |h| h.size);
    health.journal_signed_at = head.and_then(|h| from_micros(h.at_us).ok());
    if health.journal_signed_size < health.journal_entries {
        problems.push("journal.unsigned");
    }
    match store::outbox_backlog(pool).await {
        Ok((pending, oldest)) => {
            health.outbox_pending = pending;
            health.outbox_oldest_pending_at = oldest.and_then(|t| from_micros(t).ok());
            let stale_us = i64::try_from(OUTBOX_STALE_AFTER.whole_microseconds()).unwrap_or(i64::MAX);
            if oldest.is_some_and(|t| t.saturating_add(stale_us) < to_micros(now)) {
                problems.push("outbox.stale");
            }
        }
        Err(_) => problems.push("database.unreachable"),
    }
    problems.dedup();
    health.healthy = problems.is_empty();
    health.problems = problems.into_iter().map(str::to_owned).collect();
    Ok(health)
}
