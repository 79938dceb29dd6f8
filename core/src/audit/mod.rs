//! The signed, tamper-evident journal (S4, S6) and the patient's access history (R5).
//!
//! Every read and write of personal or medical data passes through [`Journal::record`] (it
//! appends an entry in the caller's transaction) or, for an access that changes nothing,
//! through the group commit (`record_grouped`: the entry committed first); either returns a
//! [`Receipt`], and a patient's
//! data key — without which nothing personal can be encrypted or decrypted — is only handed
//! out against a receipt for that patient. The unaudited path does not compile.
//!
//! Entries are leaves of an RFC 6962 Merkle tree; after each batch of appends (a
//! transaction's, or a group commit's) a new tree head (size, root, time) is signed with
//! Ed25519. Anyone with the public key can verify the
//! journal, an inclusion proof or a consistency proof without the database.

mod entry;
mod error;
mod fhir;
mod group;
mod history;
mod journal;
pub mod merkle;
mod proofs;
mod ranges;
mod signing;
mod store;
mod subtrees;
mod verify;

pub use entry::{Action, Actor, ActorKind, AuditEntry, Outcome};
pub use error::AuditError;
pub use history::AccessEntry;
pub use proofs::{ConsistencyProof, InclusionProof, verify_consistency_proof, verify_inclusion_proof};
pub use signing::SignedTreeHead;
pub(crate) use subtrees::keep_complete as keep_subtrees;
pub use verify::AuditReport;

pub(crate) use group::record as record_grouped;
pub(crate) use journal::{Access, Journal, PlannedEntries};
pub(crate) use signing::HeadSigner;

mod api;
pub use api::AccessPage;
pub use api::Audit;
pub(crate) use api::access_history_as;

/// Proof that a journal entry about one patient was appended in the current transaction.
/// Only [`Journal::record`] (or a [`PlannedEntries`] promise, appended with the rows it
/// seals) creates one; the keyring hands out that patient's data key
/// only against it.
#[derive(Debug)]
pub(crate) struct Receipt {
    patient_id: String,
    seq: u64,
}

impl Receipt {
    /// The patient the entry concerns.
    pub(crate) fn patient_id(&self) -> &str {
        &self.patient_id
    }

    /// The entry's sequence number.
    #[allow(dead_code)]
    pub(crate) fn seq(&self) -> u64 {
        self.seq
    }
}

/// Who is acting and from where: taken from the session (or the operator context) and
/// written into every entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditContext {
    /// The actor.
    pub actor: Actor,
    /// Client IP address, if known.
    pub ip: Option<String>,
    /// Client device id, if known.
    pub device_id: Option<String>,
}

impl AuditContext {
    /// The operator (trusted host code).
    pub fn system() -> Self {
        AuditContext { actor: Actor::system(), ip: None, device_id: None }
    }
}

#[cfg(test)]
mod merkle_tests;
