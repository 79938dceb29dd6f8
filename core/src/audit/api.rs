//! The operator's view of the journal: verify, public key, proofs, histories, FHIR export.

use time::OffsetDateTime;

use super::journal::{current_size, load_entries, load_heads};
use super::proofs::to_hex_path;
use super::{Access, SignedTreeHead};
use super::{
    AccessEntry, Action, AuditContext, AuditError, AuditReport, ConsistencyProof, InclusionProof, Outcome, merkle,
};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::store::StorageError;
use crate::timeutil::to_micros;

/// The signed journal (S4), for trusted operator code.
#[derive(Debug, Clone)]
pub struct Audit {
    cab: Cabinet,
}

impl Audit {
    pub(crate) fn new(cab: Cabinet) -> Self {
        Audit { cab }
    }

    /// Recomputes every leaf and the tree, and checks every signed head. Names the first
    /// bad entry if anything was changed, removed, reordered or inserted. Reads one
    /// consistent snapshot, so appends by other processes meanwhile never look like tampering.
    pub async fn verify(&self) -> Result<AuditReport> {
        let mut tx = self.cab.store().begin_snapshot().await?;
        let report = super::verify::verify(&mut tx, &self.cab.journal().signer().verifying_key()).await?;
        tx.rollback().await.map_err(StorageError::from_sqlx)?;
        Ok(report)
    }

    /// Checks this journal against a signed head kept elsewhere (say, with a backup): the head
    /// must carry this deployment's signature, and the journal must still hold exactly the
    /// entries that head covered, extended only by appends (an RFC 9162 consistency proof
    /// from the kept head to the latest). A journal restored from an older backup, or
    /// rewritten, fails with `audit.bad_proof`; one shorter than the head with
    /// `audit.out_of_range`. Run [`Audit::verify`] too: it checks every entry.
    pub async fn verify_against(&self, kept: &SignedTreeHead) -> Result<()> {
        kept.verify(&self.cab.journal().signer().verifying_key())?;
        let latest = self.latest_head().await?.ok_or(AuditError::OutOfRange)?;
        if kept.size == 0 || kept.size > latest.size {
            return Err(AuditError::OutOfRange.into());
        }
        if kept.size == latest.size {
            return if kept.root == latest.root { Ok(()) } else { Err(AuditError::BadProof.into()) };
        }
        let mut proof = self.consistency_proof(kept.size).await?;
        proof.old = kept.clone();
        super::proofs::verify_consistency_proof(&self.public_key(), &proof)?;
        Ok(())
    }

    /// The journal's Ed25519 public key (PEM, SubjectPublicKeyInfo), to verify it elsewhere.
    pub fn public_key(&self) -> String {
        self.cab.journal().signer().public_key_pem()
    }

    /// The latest signed tree head, if any entry exists.
    pub async fn latest_head(&self) -> Result<Option<SignedTreeHead>> {
        let mut conn = self.cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        let size = current_size(&mut conn).await?;
        Ok(load_heads(&mut conn, size, size + 1).await?.pop())
    }

    async fn head(&self, size: u64) -> Result<SignedTreeHead> {
        let mut conn = self.cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        load_heads(&mut conn, size, size + 1).await?.pop().ok_or_else(|| AuditError::OutOfRange.into())
    }

    /// Proof that entry `seq` is in the journal at its latest signed head: O(log n) stored
    /// subtree roots once they are kept (the first proof over a part of the journal computes
    /// and keeps them). Checked against the signed head before it is returned: a damaged kept
    /// root is rebuilt from the leaves (and repaired), never a wrong proof handed out; leaves
    /// that disagree with the head are `audit.bad_proof`.
    pub async fn inclusion_proof(&self, seq: u64) -> Result<InclusionProof> {
        let head = self.latest_head().await?.ok_or(AuditError::OutOfRange)?;
        if seq >= head.size {
            return Err(AuditError::OutOfRange.into());
        }
        let mut conn = self.cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        let (entry, leaf) = load_entries(&mut conn, seq, seq + 1).await?.pop().ok_or(AuditError::OutOfRange)?;
        drop(conn);
        let leaf = merkle::Hash::try_from(leaf.as_slice()).map_err(|_| StorageError::Corrupt("leaf hash"))?;
        let ranges = super::ranges::inclusion_ranges(seq, head.size);
        let check = |path: &[merkle::Hash]| merkle::verify_inclusion(&leaf, seq, head.size, path, &head.root);
        let path = super::subtrees::checked_roots(&self.cab, &ranges, check).await?;
        Ok(InclusionProof { entry, path: to_hex_path(path), head })
    }

    /// Proof that the journal at its latest head extends the journal of size `old_size`,
    /// from kept subtree roots as [`Audit::inclusion_proof`], and checked the same way.
    /// `old_size` must be the size of a signed head (heads are signed at the end of each
    /// batch of entries, so not every size has one): `audit.out_of_range` otherwise.
    pub async fn consistency_proof(&self, old_size: u64) -> Result<ConsistencyProof> {
        let new = self.latest_head().await?.ok_or(AuditError::OutOfRange)?;
        if old_size == 0 || old_size > new.size {
            return Err(AuditError::OutOfRange.into());
        }
        let old = self.head(old_size).await?;
        let ranges = super::ranges::consistency_ranges(old_size, new.size);
        let check = |path: &[merkle::Hash]| merkle::verify_consistency(old.size, new.size, &old.root, &new.root, path);
        let path = super::subtrees::checked_roots(&self.cab, &ranges, check).await?;
        Ok(ConsistencyProof { old, new, path: to_hex_path(path) })
    }

    /// Who accessed `patient_id`'s data, newest first (R5). Reading it is journaled too.
    pub async fn access_history(&self, patient_id: &str, since: Option<OffsetDateTime>) -> Result<Vec<AccessEntry>> {
        let system = AuditContext::system();
        let all = access_history_as(&self.cab, &system, patient_id, since, None, None, i64::MAX - 1).await?;
        Ok(all.items)
    }

    /// One page of [`Audit::access_history`]: at most `limit` entries (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn access_history_page(
        &self,
        patient_id: &str,
        since: Option<OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<&str>,
    ) -> Result<AccessPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 1, 1)).transpose()?;
        let system = AuditContext::system();
        access_history_as(&self.cab, &system, patient_id, since, None, after.as_ref(), limit).await
    }

    /// Entries `[from_seq, from_seq + limit)` as a FHIR R4 `Bundle` of `AuditEvent`s (JSON).
    pub async fn export_fhir(&self, from_seq: u64, limit: u64) -> Result<String> {
        let mut conn = self.cab.store().pool().acquire().await.map_err(StorageError::from_sqlx)?;
        let entries: Vec<_> = load_entries(&mut conn, from_seq, from_seq.saturating_add(limit.min(10_000)))
            .await?
            .into_iter()
            .map(|(e, _)| e)
            .collect();
        Ok(super::fhir::bundle(&entries).to_string())
    }
}

crate::paging::page_type! {
    /// One page of an access history.
    AccessPage of AccessEntry
}

/// The access history of `patient_id`, read by `ctx` (journaled as a read of the history).
pub(crate) async fn access_history_as(
    cab: &Cabinet,
    ctx: &AuditContext,
    patient_id: &str,
    since: Option<OffsetDateTime>,
    viewer: Option<&str>,
    after: Option<&crate::paging::Cursor>,
    limit: i64,
) -> Result<AccessPage> {
    let now = to_micros(cab.now());
    let mut tx = cab.store().begin().await?;
    let access = Access {
        patient_id: Some(patient_id),
        action: Action::Read,
        resource_type: "access_history",
        resource_id: None,
    };
    cab.journal().record(&mut tx, ctx, access, Outcome::Success, now).await?;
    let since_us = since.map_or(i64::MIN, to_micros);
    let before = after.map(|c| c.ints[0]);
    let fetch = limit.saturating_add(1);
    let items =
        super::history::access_history(&mut tx, patient_id, since_us, before, fetch, viewer, cab.locale()).await?;
    tx.commit().await.map_err(StorageError::from_sqlx)?;
    let (items, next_cursor) = crate::paging::split(items, limit, |e| Ok::<_, Error>(vec![e.seq.to_string()]))?;
    Ok(AccessPage { items, next_cursor })
}
