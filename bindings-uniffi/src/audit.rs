//! The signed journal for Kotlin and Swift (S4, R5).

use kabinet_ffi_guard::guard;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kabinet::Locale;

pub use kabinet::AccessEntry;

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

fn at(us: i64) -> SystemTime {
    if us >= 0 {
        UNIX_EPOCH + Duration::from_micros(us.unsigned_abs())
    } else {
        UNIX_EPOCH - Duration::from_micros(us.unsigned_abs())
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// A mirror by design: the core's head holds the root and signature as byte arrays and the
// time as microseconds; here they are hex text and an instant.
/// A signed statement of the journal's size and Merkle root (hex) at a time.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct SignedTreeHead {
    pub size: u64,
    pub root: String,
    pub at: SystemTime,
    pub signature: String,
}

impl From<kabinet::SignedTreeHead> for SignedTreeHead {
    fn from(h: kabinet::SignedTreeHead) -> Self {
        SignedTreeHead { size: h.size, root: hex(&h.root), at: at(h.at_us), signature: hex(&h.signature) }
    }
}

// A mirror because it carries the mirror `SignedTreeHead`.
/// The result of `verify()`.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct AuditReport {
    pub ok: bool,
    pub entries: u64,
    pub first_bad_entry: Option<u64>,
    pub problem: Option<String>,
    pub signed_head: Option<SignedTreeHead>,
}

delegate! {
    /// The signed journal, for operator code.
    class Audit(inner: kabinet::Audit) via |h| h;
    /// Entries as a FHIR R4 Bundle of AuditEvent resources (JSON).
    fn export_fhir(from_seq: u64, limit: u64) -> String;
    /// Who accessed the patient's data, newest first.
    fn access_history(patient_id: String, since: Option<SystemTime>) -> Vec<AccessEntry>;
    /// One page of `access_history`: at most `limit` entries (default 100) after `cursor`.
    #[uniffi::method(default(since = None, limit = None, cursor = None))]
    fn access_history_page(
        patient_id: String,
        since: Option<SystemTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::AccessPage;
    extra {
    /// Recomputes the tree and checks every signed head; names the first bad entry.
    pub async fn verify(&self) -> Result<AuditReport, KabinetError> {
        let r = self.inner.verify().await.ffi(self.locale)?;
        Ok(AuditReport {
            ok: r.ok,
            entries: r.entries,
            first_bad_entry: r.first_bad_entry,
            problem: r.problem,
            signed_head: r.signed_head.map(Into::into),
        })
    }

    /// The Ed25519 public key (PEM) that verifies the journal.
    pub fn public_key(&self) -> String {
        self.inner.public_key()
    }

    /// The latest signed tree head.
    pub async fn latest_head(&self) -> Result<Option<SignedTreeHead>, KabinetError> {
        Ok(self.inner.latest_head().await.ffi(self.locale)?.map(Into::into))
    }

    /// Inclusion proof of entry `seq` at the latest head (JSON).
    pub async fn inclusion_proof(&self, seq: u64) -> Result<String, KabinetError> {
        Ok(self.inner.inclusion_proof(seq).await.ffi(self.locale)?.to_json())
    }

    /// Consistency proof from `old_size` to the latest head (JSON).
    pub async fn consistency_proof(&self, old_size: u64) -> Result<String, KabinetError> {
        Ok(self.inner.consistency_proof(old_size).await.ffi(self.locale)?.to_json())
    }

    }
}

/// Verifies an inclusion proof (JSON) with only the journal's public key (PEM).
#[guard]
#[uniffi::export]
pub fn verify_inclusion_proof(public_key_pem: String, proof_json: String) -> Result<(), KabinetError> {
    let proof = kabinet::audit::InclusionProof::from_json(&proof_json)
        .map_err(|e| KabinetError::from_core(e.into(), Locale::En))?;
    kabinet::audit::verify_inclusion_proof(&public_key_pem, &proof)
        .map_err(|e| KabinetError::from_core(e.into(), Locale::En))
}

/// Verifies a consistency proof (JSON) with only the journal's public key (PEM).
#[guard]
#[uniffi::export]
pub fn verify_consistency_proof(public_key_pem: String, proof_json: String) -> Result<(), KabinetError> {
    let proof = kabinet::audit::ConsistencyProof::from_json(&proof_json)
        .map_err(|e| KabinetError::from_core(e.into(), Locale::En))?;
    kabinet::audit::verify_consistency_proof(&public_key_pem, &proof)
        .map_err(|e| KabinetError::from_core(e.into(), Locale::En))
}
