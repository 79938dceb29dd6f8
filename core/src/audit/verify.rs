//! Full verification of the journal: recompute every leaf from the stored content, rebuild
//! the tree and check every signed head. Names the first bad entry.

use std::collections::BTreeMap;

use super::journal::{current_size, load_entries, load_heads};
use super::merkle::Frontier;
use super::signing::SignedTreeHead;
use super::store;
use crate::error::Result;
use crate::store::Conn;

/// The result of [`crate::cabinet::Audit::verify`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// True when every entry and every signed head checks out.
    pub ok: bool,
    /// Number of entries examined.
    pub entries: u64,
    /// The first entry (by sequence number) that is changed, missing, reordered, inserted or
    /// not covered by a valid signed head. A head is signed at the end of every batch of
    /// entries (a transaction's, or a group commit's), so an entry is covered by the first
    /// head at or after it; when that head does not match, the first entry after the last
    /// good head is named.
    pub first_bad_entry: Option<u64>,
    /// What is wrong: `entry_changed`, `entry_missing`, `head_mismatch`, `bad_signature`,
    /// `unsigned_entries`, `state_mismatch`.
    pub problem: Option<String>,
    /// The latest signed head that verified.
    pub signed_head: Option<SignedTreeHead>,
}

impl AuditReport {
    fn bad(entries: u64, at: u64, problem: &str, head: Option<SignedTreeHead>) -> Self {
        AuditReport {
            ok: false,
            entries,
            first_bad_entry: Some(at),
            problem: Some(problem.to_owned()),
            signed_head: head,
        }
    }
}

const BATCH: u64 = 10_000;

/// Verifies the whole journal with `key`.
pub(crate) async fn verify(conn: &mut Conn, key: &ed25519_dalek::VerifyingKey) -> Result<AuditReport> {
    let state_size = current_size(conn).await?;
    let max_seq = store::max_seq(&mut *conn).await?;
    let max_head = store::max_head_size(&mut *conn).await?;
    let upper = [state_size, max_seq.map_or(0, |s| s.max(0) as u64 + 1), max_head.map_or(0, |s| s.max(0) as u64)]
        .into_iter()
        .max()
        .unwrap_or(0);

    let mut frontier = Frontier::new();
    let mut last_good: Option<SignedTreeHead> = None;
    let mut expected = 0u64;
    let mut from = 0u64;
    while from < upper {
        let to = (from + BATCH).min(upper);
        let entries = load_entries(conn, from, to).await?;
        let heads: BTreeMap<u64, SignedTreeHead> =
            load_heads(conn, from + 1, to + 1).await?.into_iter().map(|h| (h.size, h)).collect();
        for (entry, stored_leaf) in entries {
            if entry.seq != expected {
                return Ok(AuditReport::bad(expected, expected, "entry_missing", last_good));
            }
            let leaf = entry.leaf_hash();
            if stored_leaf.as_slice() != leaf.as_slice() {
                return Ok(AuditReport::bad(expected, entry.seq, "entry_changed", last_good));
            }
            frontier.push(leaf);
            let size = entry.seq + 1;
            // Heads are signed at the end of each batch (a transaction or a group commit):
            // sizes inside a batch have none, and the next head covers them.
            if let Some(head) = heads.get(&size) {
                let uncovered = last_good.as_ref().map_or(0, |h| h.size);
                if head.verify(key).is_err() {
                    return Ok(AuditReport::bad(size, uncovered, "bad_signature", last_good));
                }
                if head.root != frontier.root() {
                    return Ok(AuditReport::bad(size, uncovered, "head_mismatch", last_good));
                }
                last_good = Some(head.clone());
            }
            expected = size;
        }
        if expected < to {
            // Entries end before the heads or the state say they should.
            return Ok(AuditReport::bad(expected, expected, "entry_missing", last_good));
        }
        from = to;
    }
    if expected != state_size {
        return Ok(AuditReport::bad(expected, expected.min(state_size), "state_mismatch", last_good));
    }
    let signed = last_good.as_ref().map_or(0, |h| h.size);
    if signed < expected {
        // Entries after the last signed head: every batch ends with one, so these were
        // appended without it (or its head was deleted).
        return Ok(AuditReport::bad(expected, signed, "unsigned_entries", last_good));
    }
    Ok(AuditReport { ok: true, entries: expected, first_bad_entry: None, problem: None, signed_head: last_good })
}
