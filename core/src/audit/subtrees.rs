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
    /// Whether kept roots are read (off: everything from the leaves, to repair damage).
    use_kept: bool,
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
        Subtrees { conn, use_kept: true, fresh: Vec::new() }
    }

    /// Reads no kept root: every root from the leaves (the repair path).
    pub(crate) fn from_leaves(conn: &'c mut Conn) -> Self {
        Subtrees { conn, use_kept: false, fresh: Vec::new() }
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
        if node.level >= KEPT_FROM_LEVEL && self.use_kept {
            let level = i32::try_from(node.level).map_err(|_| super::AuditError::OutOfRange)?;
            if let Some(kept) = store::node(&mut *self.conn, level, signed(node.index)?).await? {
                // A kept root of the wrong shape is damage like a wrong one: the proof check
                // catches the difference and the repair path rebuilds it.
                return Ok(Hash::try_from(kept.as_slice()).unwrap_or([0u8; 32]));
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

/// Keeps computed roots (checked by the caller against a signed head), in short transactions
/// of their own and in (level, index) order, so that two processes keeping overlapping roots
/// never wait on each other in a cycle. `repair` overwrites kept roots found damaged.
pub(crate) async fn keep(store_: &crate::store::Store, fresh: &mut Vec<(Node, Hash)>, repair: bool) -> Result<()> {
    fresh.sort_unstable_by_key(|(node, _)| *node);
    fresh.dedup_by_key(|(node, _)| *node);
    for chunk in fresh.chunks(512) {
        let mut tx = store_.begin().await?;
        for (node, hash) in chunk {
            let level = i32::try_from(node.level).map_err(|_| super::AuditError::OutOfRange)?;
            store::keep_node(&mut *tx, level, signed(node.index)?, hash, repair).await?;
        }
        tx.commit().await.map_err(StorageError::from_sqlx)?;
    }
    Ok(())
}

/// Roots of `ranges`, accepted only when `check` (the proof against its signed head) passes:
/// from kept roots first; if the check fails, once more from the leaves alone, and when that
/// passes the damaged kept roots are repaired (and the repair logged). Keeping is best effort:
/// a proof is never refused because its roots could not be kept.
pub(crate) async fn checked_roots(
    cab: &crate::cabinet::Cabinet,
    ranges: &[(u64, u64)],
    check: impl Fn(&[Hash]) -> bool,
) -> Result<Vec<Hash>> {
    for use_kept in [true, false] {
        let mut conn = cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        let mut subtrees = if use_kept { Subtrees::new(&mut conn) } else { Subtrees::from_leaves(&mut conn) };
        let mut roots = Vec::with_capacity(ranges.len());
        for (lo, hi) in ranges {
            roots.push(subtrees.range(*lo, *hi).await?);
        }
        let mut fresh = std::mem::take(&mut subtrees.fresh);
        drop(conn);
        if check(&roots) {
            if !use_kept {
                tracing::warn!(target: "kabinet::journal", "kept subtree roots were damaged: rebuilt from the leaves");
            }
            if let Err(e) = keep(cab.store(), &mut fresh, !use_kept).await {
                tracing::warn!(target: "kabinet::journal", code = crate::error::ErrorCode::code(&e), "subtree roots not kept");
            }
            return Ok(roots);
        }
    }
    Err(super::AuditError::BadProof.into())
}

/// The jobs' stage: keeps the roots of every complete subtree of 256 leaves or more of the
/// journal as it stands, so that even the first proof over old entries reads only kept roots.
/// The roots are checked against the signed head of that size first (damaged kept roots are
/// rebuilt and repaired as for a proof; a journal whose leaves disagree with its head keeps
/// nothing and reports `audit.bad_proof`). Returns how many roots the pass kept or repaired.
pub(crate) async fn keep_complete(cab: &crate::cabinet::Cabinet) -> Result<u64> {
    let mut conn = cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
    let size = super::journal::current_size(&mut conn).await?;
    let Some(head) = super::journal::load_heads(&mut conn, size, size + 1).await?.pop() else { return Ok(0) };
    drop(conn);
    let before = kept_count(cab).await?;
    // The whole journal as one range: its parts are the complete subtrees, its fold the root.
    checked_roots(cab, &[(0, size)], |roots| roots.first() == Some(&head.root)).await?;
    Ok(kept_count(cab).await?.saturating_sub(before))
}

async fn kept_count(cab: &crate::cabinet::Cabinet) -> Result<u64> {
    Ok(u64::try_from(store::node_count(cab.store().pool()).await?).unwrap_or(0))
}
