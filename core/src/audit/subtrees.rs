//! Subtree roots for proofs (issue 15, goal 5): a perfect subtree of 256 leaves or more is
//! read from `audit_nodes` when kept there, else computed — from its halves, down to level 8,
//! whose 256 leaves are read in one query — and kept for every later proof.

use super::merkle::{self, Hash};
use super::ranges::{Node, fold, parts};
use super::store;
use crate::error::Result;
use crate::store::{Conn, StorageError};

/// Subtrees from this level up are kept.
pub(crate) const KEPT_FROM_LEVEL: u32 = 8;

/// Roots read or computed for one proof, and the ones to keep afterwards.
pub(crate) struct Subtrees<'c> {
    conn: &'c mut Conn,
    /// Computed here, not yet kept.
    pub fresh: Vec<(Node, Hash)>,
}

fn hash_of(bytes: &[u8]) -> Result<Hash> {
    Ok(Hash::try_from(bytes).map_err(|_| StorageError::Corrupt("audit node hash"))?)
}

fn signed(v: u64) -> Result<i64> {
    Ok(i64::try_from(v).map_err(|_| super::AuditError::OutOfRange)?)
}

impl<'c> Subtrees<'c> {
    pub(crate) fn new(conn: &'c mut Conn) -> Self {
        Subtrees { conn, fresh: Vec::new() }
    }

    /// The root of leaves `[lo, hi)`, a range of the proof recursions.
    pub(crate) async fn range(&mut self, lo: u64, hi: u64) -> Result<Hash> {
        let mut roots = Vec::new();
        for part in parts(lo, hi) {
            roots.push(self.root(part).await?);
        }
        Ok(fold(&roots).ok_or(super::AuditError::OutOfRange)?)
    }

    /// The root of one perfect subtree.
    async fn root(&mut self, node: Node) -> Result<Hash> {
        if node.level >= KEPT_FROM_LEVEL {
            let level = i32::try_from(node.level).map_err(|_| super::AuditError::OutOfRange)?;
            if let Some(kept) = store::node(&mut *self.conn, level, signed(node.index)?).await? {
                return hash_of(&kept);
            }
        }
        let hash = if node.level <= KEPT_FROM_LEVEL {
            let (from, to) = node.span();
            let leaves = store::leaf_hashes(&mut *self.conn, signed(from)?, signed(to)?).await?;
            if leaves.len() as u64 != to - from {
                return Err(super::AuditError::OutOfRange.into());
            }
            let leaves = leaves.iter().map(|l| hash_of(l)).collect::<Result<Vec<_>>>()?;
            merkle::root(&leaves)
        } else {
            let (left, right) = node.children();
            let l = Box::pin(self.root(left)).await?;
            let r = Box::pin(self.root(right)).await?;
            merkle::node_hash(&l, &r)
        };
        if node.level >= KEPT_FROM_LEVEL {
            self.fresh.push((node, hash));
        }
        Ok(hash)
    }
}

/// Keeps computed roots, in a transaction of its own.
pub(crate) async fn keep(store_: &crate::store::Store, fresh: &[(Node, Hash)]) -> Result<()> {
    if fresh.is_empty() {
        return Ok(());
    }
    let mut tx = store_.begin().await?;
    for (node, hash) in fresh {
        let level = i32::try_from(node.level).map_err(|_| super::AuditError::OutOfRange)?;
        store::keep_node(&mut *tx, level, signed(node.index)?, hash).await?;
    }
    tx.commit().await.map_err(StorageError::from_sqlx)?;
    Ok(())
}

/// The jobs' stage: keeps the roots of every complete subtree of 256 leaves or more of the
/// journal as it stands, so that even the first proof over old entries reads only kept roots.
/// Returns how many were kept now (a pass over a journal already covered keeps none).
pub(crate) async fn keep_complete(cab: &crate::cabinet::Cabinet) -> Result<u64> {
    let mut conn = cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
    let size = super::journal::current_size(&mut conn).await?;
    let mut subtrees = Subtrees::new(&mut conn);
    for part in parts(0, size).into_iter().filter(|p| p.level >= KEPT_FROM_LEVEL) {
        subtrees.root(part).await?;
    }
    let fresh = std::mem::take(&mut subtrees.fresh);
    drop(conn);
    keep(cab.store(), &fresh).await?;
    Ok(fresh.len() as u64)
}
