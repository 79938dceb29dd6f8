//! Appending entries: ordered and gap-free across processes, in the caller's transaction.

use sqlx::Row;

use super::entry::{Action, AuditEntry, Outcome};
use super::merkle::{Frontier, Hash};
use super::signing::{HeadSigner, SignedTreeHead};
use super::{AuditContext, Receipt};
use crate::error::Result;
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

/// The journal: signs a tree head after every append.
#[derive(Debug)]
pub(crate) struct Journal {
    signer: HeadSigner,
    backend: Backend,
}

impl Journal {
    pub(crate) fn new(signer: HeadSigner, backend: Backend) -> Self {
        Journal { signer, backend }
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
        if self.backend == Backend::Postgres {
            sqlx::query("SELECT id FROM audit_state WHERE id = 1 FOR UPDATE").execute(&mut *conn).await?;
        }
        let row = sqlx::query("SELECT size, frontier FROM audit_frontiers ORDER BY size DESC LIMIT 1")
            .fetch_one(&mut *conn)
            .await?;
        let size: i64 = row.try_get(0)?;
        let bytes: Vec<u8> = row.try_get(1)?;
        let mut frontier = Frontier::from_bytes(&bytes).ok_or(StorageError::Corrupt("audit frontier"))?;
        let seq = u64::try_from(size).map_err(|_| StorageError::Corrupt("audit size"))?;
        if frontier.size() != seq {
            return Err(StorageError::Corrupt("audit frontier size").into());
        }
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
        let leaf = entry.leaf_hash();
        frontier.push(leaf);
        let head = self.signer.sign(seq + 1, frontier.root(), at_us);
        sqlx::query(
            "INSERT INTO audit_entries (seq, at, actor_kind, actor_id, on_behalf_of, patient_id, action, resource_type, \
             resource_id, outcome, ip, device_id, leaf_hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(size)
        .bind(at_us)
        .bind(&entry.actor_kind)
        .bind(&entry.actor_id)
        .bind(&entry.on_behalf_of)
        .bind(&entry.patient_id)
        .bind(&entry.action)
        .bind(&entry.resource_type)
        .bind(&entry.resource_id)
        .bind(&entry.outcome)
        .bind(&entry.ip)
        .bind(&entry.device_id)
        .bind(leaf.to_vec())
        .execute(&mut *conn)
        .await
        ?;
        insert_head(conn, &head).await?;
        sqlx::query("INSERT INTO audit_frontiers (size, frontier) VALUES ($1, $2)")
            .bind(size + 1)
            .bind(frontier.to_bytes())
            .execute(&mut *conn)
            .await?;
        sqlx::query("DELETE FROM audit_frontiers WHERE size = $1").bind(size).execute(&mut *conn).await?;
        Ok(Receipt { patient_id: entry.patient_id.unwrap_or_default(), seq })
    }
}

async fn insert_head(conn: &mut Conn, head: &SignedTreeHead) -> Result<()> {
    sqlx::query("INSERT INTO audit_heads (size, root, at, signature) VALUES ($1, $2, $3, $4)")
        .bind(i64::try_from(head.size).unwrap_or(i64::MAX))
        .bind(head.root.to_vec())
        .bind(head.at_us)
        .bind(head.signature.to_vec())
        .execute(conn)
        .await?;
    Ok(())
}

/// Reads entries `[from, to)` ordered by `seq`, with their stored leaf hashes.
pub(crate) async fn load_entries(conn: &mut Conn, from: u64, to: u64) -> Result<Vec<(AuditEntry, Vec<u8>)>> {
    let rows = sqlx::query(
        "SELECT seq, at, actor_kind, actor_id, on_behalf_of, patient_id, action, resource_type, resource_id, outcome, \
         ip, device_id, leaf_hash FROM audit_entries WHERE seq >= $1 AND seq < $2 ORDER BY seq",
    )
    .bind(i64::try_from(from).unwrap_or(i64::MAX))
    .bind(i64::try_from(to).unwrap_or(i64::MAX))
    .fetch_all(conn)
    .await?;
    rows.iter().map(entry_from_row).collect()
}

pub(crate) fn entry_from_row(row: &sqlx::any::AnyRow) -> Result<(AuditEntry, Vec<u8>)> {
    let seq: i64 = row.try_get(0)?;
    Ok((
        AuditEntry {
            seq: u64::try_from(seq).map_err(|_| StorageError::Corrupt("audit seq"))?,
            at_us: row.try_get(1)?,
            actor_kind: row.try_get(2)?,
            actor_id: row.try_get(3)?,
            on_behalf_of: row.try_get(4)?,
            patient_id: row.try_get(5)?,
            action: row.try_get(6)?,
            resource_type: row.try_get(7)?,
            resource_id: row.try_get(8)?,
            outcome: row.try_get(9)?,
            ip: row.try_get(10)?,
            device_id: row.try_get(11)?,
        },
        row.try_get(12)?,
    ))
}

/// Reads signed heads with `from <= size < to`, ordered by size.
pub(crate) async fn load_heads(conn: &mut Conn, from: u64, to: u64) -> Result<Vec<SignedTreeHead>> {
    let rows =
        sqlx::query("SELECT size, root, at, signature FROM audit_heads WHERE size >= $1 AND size < $2 ORDER BY size")
            .bind(i64::try_from(from).unwrap_or(i64::MAX))
            .bind(i64::try_from(to).unwrap_or(i64::MAX))
            .fetch_all(conn)
            .await?;
    rows.iter()
        .map(|row| {
            let size: i64 = row.try_get(0)?;
            let root: Vec<u8> = row.try_get(1)?;
            let sig: Vec<u8> = row.try_get(3)?;
            Ok(SignedTreeHead {
                size: u64::try_from(size).map_err(|_| StorageError::Corrupt("head size"))?,
                root: Hash::try_from(root.as_slice()).map_err(|_| StorageError::Corrupt("head root"))?,
                at_us: row.try_get(2)?,
                signature: <[u8; 64]>::try_from(sig.as_slice()).map_err(|_| StorageError::Corrupt("head signature"))?,
            })
        })
        .collect()
}

/// The journal's current size according to its frontier.
pub(crate) async fn current_size(conn: &mut Conn) -> Result<u64> {
    let size: i64 =
        sqlx::query_scalar("SELECT size FROM audit_frontiers ORDER BY size DESC LIMIT 1").fetch_one(conn).await?;
    u64::try_from(size).map_err(|_| StorageError::Corrupt("audit size").into())
}
