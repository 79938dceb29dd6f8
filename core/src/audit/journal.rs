//! Appending entries: ordered and gap-free across processes, in the caller's transaction.

use super::entry::{Action, AuditEntry, Outcome};
use super::merkle::{Frontier, Hash};
use super::signing::{HeadSigner, SignedTreeHead};
use super::store::{self, EntryRow};
use super::{AuditContext, Receipt};
use crate::error::Result;
use crate::store::rows::{Row, Rows};
use crate::store::{Backend, Conn, StorageError};

/// What is being accessed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Access<'a> {
    /// The patient whose data it is, if any.
    pub patient_id: Option<&'a str>,
    /// The action.
    pub action: Action,
    /// Kind of data.
    pub resource_type: &'static str,
    /// Record id.
    pub resource_id: Option<&'a str>,
}

/// One entry to append: who, what, how it ended and when.
#[derive(Debug, Clone, Copy)]
pub(super) struct Pending<'a> {
    pub ctx: &'a AuditContext,
    pub access: Access<'a>,
    pub outcome: Outcome,
    pub at_us: i64,
}

/// The journal: appends entries and signs a tree head at the end of every batch (a
/// transaction's entries, or a group commit of accesses that change nothing).
#[derive(Debug)]
pub(crate) struct Journal {
    signer: HeadSigner,
    backend: Backend,
    group: super::group::GroupCommit,
}

impl Journal {
    pub(crate) fn new(signer: HeadSigner, backend: Backend) -> Self {
        Journal { signer, backend, group: super::group::GroupCommit::default() }
    }

    pub(super) fn group(&self) -> &super::group::GroupCommit {
        &self.group
    }

    pub(crate) fn signer(&self) -> &HeadSigner {
        &self.signer
    }

    /// Appends one entry inside the caller's transaction and returns the receipt that
    /// unlocks the patient's data key. The `audit_state` row is the lock that orders
    /// appends: `SELECT … FOR UPDATE` on PostgreSQL; on SQLite the transaction already holds
    /// the database write lock (`BEGIN IMMEDIATE`). The frontier lives in `audit_frontiers`,
    /// one row per size: the new one is inserted and the old one deleted, so no row is
    /// updated again and again inside one long transaction. If the transaction rolls back,
    /// the entry goes with the change: there is never a change without its entry, nor a gap.
    pub(crate) async fn record(
        &self,
        conn: &mut Conn,
        ctx: &AuditContext,
        access: Access<'_>,
        outcome: Outcome,
        at_us: i64,
    ) -> Result<Receipt> {
        let seq = self.append(conn, &[Pending { ctx, access, outcome, at_us }]).await?;
        Ok(Receipt { patient_id: access.patient_id.unwrap_or_default().to_owned(), seq })
    }

    /// Appends entries in order, as [`Journal::record`] does one, and signs one tree head
    /// over them all (a batch shares its head: the heads a verifier checks are the ones at
    /// the end of each committed batch). The rows go in a few multi-row statements. Returns
    /// the first entry's sequence number.
    pub(super) async fn append(&self, conn: &mut Conn, accesses: &[Pending<'_>]) -> Result<u64> {
        if self.backend == Backend::Postgres {
            store::lock_state(&mut *conn).await?;
        }
        let store::FrontierRow { size, frontier: bytes } = store::latest_frontier(&mut *conn).await?;
        let mut frontier = Frontier::from_bytes(&bytes).ok_or(StorageError::Corrupt("audit frontier"))?;
        let first = u64::try_from(size).map_err(|_| StorageError::Corrupt("audit size"))?;
        if frontier.size() != first {
            return Err(StorageError::Corrupt("audit frontier size").into());
        }
        let mut rows = Rows::default();
        let mut head_at = i64::MIN;
        for (n, Pending { ctx, access, outcome, at_us }) in accesses.iter().enumerate() {
            let (at_us, seq) = (*at_us, first + n as u64);
            head_at = head_at.max(at_us);
            let entry = AuditEntry {
                seq,
                at_us,
                actor_kind: ctx.actor.kind.as_str().to_owned(),
                actor_id: ctx.actor.id.clone(),
                on_behalf_of: ctx.actor.on_behalf_of.clone(),
                patient_id: access.patient_id.map(str::to_owned),
                action: access.action.as_str().to_owned(),
                resource_type: access.resource_type.to_owned(),
                resource_id: access.resource_id.map(str::to_owned),
                outcome: outcome.as_str().to_owned(),
                ip: ctx.ip.clone(),
                device_id: ctx.device_id.clone(),
            };
            // Logged without ids of people, addresses or devices: the kind of access only.
            tracing::info!(
                target: "kabinet::journal",
                seq,
                actor = entry.actor_kind,
                action = entry.action,
                resource = entry.resource_type,
                outcome = entry.outcome,
                "journal entry"
            );
            let leaf = entry.leaf_hash();
            frontier.push(leaf);
            let seq = i64::try_from(seq).map_err(|_| StorageError::Corrupt("audit size"))?;
            rows.push(Row::new(
                "audit_entries",
                &[
                    "seq",
                    "at",
                    "actor_kind",
                    "actor_id",
                    "on_behalf_of",
                    "patient_id",
                    "action",
                    "resource_type",
                    "resource_id",
                    "outcome",
                    "ip",
                    "device_id",
                    "leaf_hash",
                ],
                vec![
                    seq.into(),
                    at_us.into(),
                    entry.actor_kind.into(),
                    entry.actor_id.into(),
                    entry.on_behalf_of.into(),
                    entry.patient_id.into(),
                    entry.action.into(),
                    entry.resource_type.into(),
                    entry.resource_id.into(),
                    entry.outcome.into(),
                    entry.ip.into(),
                    entry.device_id.into(),
                    leaf.to_vec().into(),
                ],
            ));
        }
        if !accesses.is_empty() {
            rows.push(head_row(&self.signer.sign(frontier.size(), frontier.root(), head_at)));
        }
        rows.push(Row::new(
            "audit_frontiers",
            &["size", "frontier"],
            vec![(size + accesses.len() as i64).into(), frontier.to_bytes().into()],
        ));
        rows.write(conn).await?;
        store::delete_frontier(&mut *conn, size).await?;
        Ok(first)
    }
}

/// Journal entries promised before their transaction. A long import opens patients' keys
/// while it prepares its rows outside the write lock; the entries are appended by
/// [`PlannedEntries::append`] in the same short transaction that writes those rows, so if
/// it never commits neither the rows nor the entries exist. One entry per distinct access.
#[derive(Debug, Default)]
pub(crate) struct PlannedEntries {
    entries: Vec<(String, Action, &'static str, Option<String>)>,
    seen: std::collections::HashSet<(String, Action, &'static str, Option<String>)>,
}

impl PlannedEntries {
    /// Promises an entry for `access` (once, however often it is asked for) and returns the
    /// receipt that opens the patient's key for the rows written with it.
    pub(crate) fn promise(&mut self, patient_id: &str, access: Access<'_>) -> Receipt {
        let item = (patient_id.to_owned(), access.action, access.resource_type, access.resource_id.map(str::to_owned));
        if self.seen.insert(item.clone()) {
            self.entries.push(item);
        }
        Receipt { patient_id: patient_id.to_owned(), seq: u64::MAX }
    }

    /// Appends every promised entry inside the caller's (write) transaction.
    pub(crate) async fn append(self, journal: &Journal, conn: &mut Conn, ctx: &AuditContext, at_us: i64) -> Result<()> {
        let accesses: Vec<Pending<'_>> = self
            .entries
            .iter()
            .map(|(patient_id, action, resource_type, resource_id)| {
                let access = Access {
                    patient_id: Some(patient_id.as_str()),
                    action: *action,
                    resource_type,
                    resource_id: resource_id.as_deref(),
                };
                Pending { ctx, access, outcome: Outcome::Success, at_us }
            })
            .collect();
        if !accesses.is_empty() {
            journal.append(conn, &accesses).await?;
        }
        Ok(())
    }
}

/// The `audit_heads` row of a signed head.
fn head_row(head: &SignedTreeHead) -> Row {
    Row::new(
        "audit_heads",
        &["size", "root", "at", "signature"],
        vec![
            i64::try_from(head.size).unwrap_or(i64::MAX).into(),
            head.root.to_vec().into(),
            head.at_us.into(),
            head.signature.to_vec().into(),
        ],
    )
}

/// Reads entries `[from, to)` ordered by `seq`, with their stored leaf hashes.
pub(crate) async fn load_entries(conn: &mut Conn, from: u64, to: u64) -> Result<Vec<(AuditEntry, Vec<u8>)>> {
    let rows =
        store::entries(conn, i64::try_from(from).unwrap_or(i64::MAX), i64::try_from(to).unwrap_or(i64::MAX)).await?;
    rows.into_iter().map(entry_from_row).collect()
}

/// The entry of a stored row, with its stored leaf hash.
pub(super) fn entry_from_row(row: EntryRow) -> Result<(AuditEntry, Vec<u8>)> {
    Ok((
        AuditEntry {
            seq: u64::try_from(row.seq).map_err(|_| StorageError::Corrupt("audit seq"))?,
            at_us: row.at,
            actor_kind: row.actor_kind,
            actor_id: row.actor_id,
            on_behalf_of: row.on_behalf_of,
            patient_id: row.patient_id,
            action: row.action,
            resource_type: row.resource_type,
            resource_id: row.resource_id,
            outcome: row.outcome,
            ip: row.ip,
            device_id: row.device_id,
        },
        row.leaf_hash,
    ))
}

/// Reads signed heads with `from <= size < to`, ordered by size.
pub(crate) async fn load_heads(conn: &mut Conn, from: u64, to: u64) -> Result<Vec<SignedTreeHead>> {
    let rows =
        store::heads(conn, i64::try_from(from).unwrap_or(i64::MAX), i64::try_from(to).unwrap_or(i64::MAX)).await?;
    rows.into_iter()
        .map(|row| {
            Ok(SignedTreeHead {
                size: u64::try_from(row.size).map_err(|_| StorageError::Corrupt("head size"))?,
                root: Hash::try_from(row.root.as_slice()).map_err(|_| StorageError::Corrupt("head root"))?,
                at_us: row.at,
                signature: <[u8; 64]>::try_from(row.signature.as_slice())
                    .map_err(|_| StorageError::Corrupt("head signature"))?,
            })
        })
        .collect()
}

/// The journal's current size according to its frontier.
pub(crate) async fn current_size(conn: &mut Conn) -> Result<u64> {
    let size = store::size(conn).await?;
    u64::try_from(size).map_err(|_| StorageError::Corrupt("audit size").into())
}
