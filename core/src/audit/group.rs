//! Group commit of journal entries for accesses that change nothing (issue 15, goal 3).
//!
//! A read, a search or an export has no change of its own to commit with its entry, so its
//! entry need not have a transaction to itself: accesses arriving together are appended in
//! one transaction under one signed tree head. The first caller to find the journal idle
//! leads: it takes every entry waiting (its own included), appends them, commits and hands
//! each caller its sequence number; callers arriving meanwhile wait for the next batch,
//! which one of them leads. Nobody waits on a timer: a lone caller is its own batch, so a
//! quiet system signs a head per access as before, and a busy one signs one per batch.
//!
//! The guarantees stay those of [`super::Journal::record`]: an entry is committed before
//! its caller gets the receipt that opens a patient's key; order is the database's (the
//! `audit_state` lock on PostgreSQL, the write lock on SQLite), gap-free across processes;
//! every batch ends with a signed head. If a leader's batch fails (the database is busy,
//! the connection drops) or the leader is cancelled mid-way, each caller of that batch
//! appends its own entry in a transaction of its own and gets that result — an access is
//! never left unjournaled; at worst, after a cancellation at the commit, it is journaled
//! twice. A caller cancelled while its entry waits still has it appended by the next
//! leader: an entry's time is when the access was asked for, so times need not grow with
//! sequence numbers.

use std::sync::{Mutex, PoisonError};

use tokio::sync::oneshot;

use super::journal::{Access, Pending};
use super::{Action, AuditContext, Outcome, Receipt};
use crate::cabinet::Cabinet;
use crate::error::{ErrorCode, Result};

/// At most this many entries share one transaction: one batch stays a short transaction
/// however many callers pile up behind a slow commit.
const MAX_BATCH: usize = 512;

/// An access waiting for the next batch, owned (it outlives its caller's borrows).
#[derive(Debug)]
struct Waiting {
    ctx: AuditContext,
    patient_id: Option<String>,
    action: Action,
    resource_type: &'static str,
    resource_id: Option<String>,
    outcome: Outcome,
    at_us: i64,
    done: oneshot::Sender<Option<u64>>,
}

impl Waiting {
    fn pending(&self) -> Pending<'_> {
        Pending {
            ctx: &self.ctx,
            access: Access {
                patient_id: self.patient_id.as_deref(),
                action: self.action,
                resource_type: self.resource_type,
                resource_id: self.resource_id.as_deref(),
            },
            outcome: self.outcome,
            at_us: self.at_us,
        }
    }
}

/// The queue of one cabinet's waiting accesses and the lock its leaders take turns on.
#[derive(Debug, Default)]
pub(crate) struct GroupCommit {
    waiting: Mutex<Vec<Waiting>>,
    leader: tokio::sync::Mutex<()>,
}

impl GroupCommit {
    /// The oldest waiting entries, at most [`MAX_BATCH`].
    fn take(&self) -> Vec<Waiting> {
        let mut waiting = self.waiting.lock().unwrap_or_else(PoisonError::into_inner);
        let n = waiting.len().min(MAX_BATCH);
        waiting.drain(..n).collect()
    }
}

/// Journals `access` by `ctx` in a group commit (see the module) and returns once the entry
/// is committed. The caller must hold no connection of the pool while it waits (an
/// in-memory database has only one).
pub(crate) async fn record(
    cab: &Cabinet,
    ctx: &AuditContext,
    access: Access<'_>,
    outcome: Outcome,
    at_us: i64,
) -> Result<Receipt> {
    let group = cab.journal().group();
    let (done, mut result) = oneshot::channel();
    group.waiting.lock().unwrap_or_else(PoisonError::into_inner).push(Waiting {
        ctx: ctx.clone(),
        patient_id: access.patient_id.map(str::to_owned),
        action: access.action,
        resource_type: access.resource_type,
        resource_id: access.resource_id.map(str::to_owned),
        outcome,
        at_us,
        done,
    });
    let receipt = |seq| Receipt { patient_id: access.patient_id.unwrap_or_default().to_owned(), seq };
    loop {
        tokio::select! {
            biased;
            seq = &mut result => {
                return match seq {
                    Ok(Some(seq)) => Ok(receipt(seq)),
                    // The batch failed or its leader was cancelled: journal alone.
                    Ok(None) | Err(_) => alone(cab, access, ctx, outcome, at_us).await.map(receipt),
                };
            }
            turn = group.leader.lock() => {
                lead(cab).await;
                drop(turn);
            }
        }
    }
}

/// One leader's turn: appends every waiting entry (up to [`MAX_BATCH`]) in one transaction
/// and tells each caller its sequence number, or `None` if the batch did not commit.
async fn lead(cab: &Cabinet) {
    let batch = cab.journal().group().take();
    if batch.is_empty() {
        return;
    }
    let committed = async {
        let mut tx = cab.store().begin().await?;
        let pending: Vec<Pending<'_>> = batch.iter().map(Waiting::pending).collect();
        let first = cab.journal().append(&mut tx, &pending).await?;
        tx.commit().await.map_err(crate::store::StorageError::from_sqlx)?;
        Ok::<_, crate::Error>(first)
    }
    .await;
    if let Err(e) = &committed {
        tracing::warn!(target: "kabinet::journal", code = e.code(), entries = batch.len(), "group commit failed; each entry is appended alone");
    }
    for (n, waiting) in batch.into_iter().enumerate() {
        let seq = committed.as_ref().ok().map(|first| first + n as u64);
        // A caller that has gone away (cancelled) needs no answer: its entry is committed.
        let _ = waiting.done.send(seq);
    }
}

/// Journals one access in a transaction of its own (the fallback of a failed batch).
async fn alone(cab: &Cabinet, access: Access<'_>, ctx: &AuditContext, outcome: Outcome, at_us: i64) -> Result<u64> {
    let mut tx = cab.store().begin().await?;
    let seq = cab.journal().append(&mut tx, &[Pending { ctx, access, outcome, at_us }]).await?;
    tx.commit().await.map_err(crate::store::StorageError::from_sqlx)?;
    Ok(seq)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    async fn wait_for_queue(cab: &Cabinet, n: usize) {
        for _ in 0..500 {
            if cab.journal().group().waiting.lock().unwrap().len() == n {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{n} callers never queued");
    }

    async fn search(cab: &Cabinet) -> tokio::task::JoinHandle<Result<Option<String>>> {
        let cab = cab.clone();
        tokio::spawn(async move { cab.system().patients().find_by_snils("112-233-445 95").await })
    }

    async fn counts(cab: &Cabinet) -> (i64, i64) {
        let pool = cab.store().pool();
        let entries = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries").fetch_one(pool).await.unwrap();
        let heads = sqlx::query_scalar("SELECT COUNT(*) FROM audit_heads").fetch_one(pool).await.unwrap();
        (entries, heads)
    }

    /// Callers queued while a leader works go in one transaction under one head.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn s4_queued_accesses_are_one_batch_with_one_head() {
        let cab = Cabinet::open_in_memory().await.unwrap();
        let turn = cab.journal().group().leader.lock().await;
        let mut tasks = Vec::new();
        for _ in 0..5 {
            tasks.push(search(&cab).await);
        }
        wait_for_queue(&cab, 5).await;
        assert_eq!(counts(&cab).await, (0, 0));
        drop(turn);
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), None);
        }
        assert_eq!(counts(&cab).await, (5, 1));
        let report = cab.system().audit().verify().await.unwrap();
        assert!(report.ok && report.entries == 5, "{report:?}");
    }

    /// A batch that never reports back (its leader cancelled, or its transaction failed):
    /// each caller journals its own access alone — answered, and never without its entry.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn s4_a_lost_batch_falls_back_to_one_entry_each() {
        let cab = Cabinet::open_in_memory().await.unwrap();
        let turn = cab.journal().group().leader.lock().await;
        let mut tasks = Vec::new();
        for _ in 0..3 {
            tasks.push(search(&cab).await);
        }
        wait_for_queue(&cab, 3).await;
        // A leader that took the batch and vanished: the callers' answers are dropped.
        drop(cab.journal().group().take());
        drop(turn);
        for t in tasks {
            assert_eq!(t.await.unwrap().unwrap(), None);
        }
        assert_eq!(counts(&cab).await, (3, 3));
        assert!(cab.system().audit().verify().await.unwrap().ok);
    }

    /// A batch is at most `MAX_BATCH` entries; the rest wait for the next leader.
    #[test]
    fn take_is_bounded_and_oldest_first() {
        let group = GroupCommit::default();
        let mut answers = Vec::new();
        for n in 0..(MAX_BATCH + 3) {
            let (done, rx) = oneshot::channel();
            answers.push(rx);
            group.waiting.lock().unwrap().push(Waiting {
                ctx: AuditContext::system(),
                patient_id: None,
                action: Action::Read,
                resource_type: "patients",
                resource_id: Some(n.to_string()),
                outcome: Outcome::Success,
                at_us: 0,
                done,
            });
        }
        let first = group.take();
        assert_eq!(first.len(), MAX_BATCH);
        assert_eq!(first[0].resource_id.as_deref(), Some("0"));
        let rest = group.take();
        assert_eq!(rest.len(), 3);
        assert_eq!(rest[0].resource_id.as_deref(), Some(MAX_BATCH.to_string().as_str()));
        assert!(group.take().is_empty());
    }
}
