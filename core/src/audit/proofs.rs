//! Inclusion and consistency proofs that verify with only the public key and the proof.

use super::AuditError;
use super::entry::AuditEntry;
use super::merkle::{self, Hash};
use super::signing::{SignedTreeHead, hex32, parse_public_key};

/// Proof that `entry` is in the journal whose signed head is `head`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct InclusionProof {
    /// The entry (its canonical encoding is the leaf).
    pub entry: AuditEntry,
    /// Audit path from the leaf to the root, hex.
    pub path: Vec<HexHash>,
    /// The signed head the path leads to.
    pub head: SignedTreeHead,
}

/// Proof that the journal at `new` extends the journal at `old` (append-only).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ConsistencyProof {
    /// The older signed head.
    pub old: SignedTreeHead,
    /// The newer signed head.
    pub new: SignedTreeHead,
    /// RFC 9162 consistency proof, hex.
    pub path: Vec<HexHash>,
}

/// A 32-byte hash serialized as hex.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HexHash(#[serde(with = "hex32")] pub Hash);

fn hashes(path: &[HexHash]) -> Vec<Hash> {
    path.iter().map(|h| h.0).collect()
}

/// Verifies an inclusion proof against the journal's public key (PEM).
pub fn verify_inclusion_proof(public_key_pem: &str, proof: &InclusionProof) -> Result<(), AuditError> {
    let key = parse_public_key(public_key_pem)?;
    proof.head.verify(&key)?;
    let ok = merkle::verify_inclusion(
        &proof.entry.leaf_hash(),
        proof.entry.seq,
        proof.head.size,
        &hashes(&proof.path),
        &proof.head.root,
    );
    if ok { Ok(()) } else { Err(AuditError::BadProof) }
}

/// Verifies a consistency proof against the journal's public key (PEM).
pub fn verify_consistency_proof(public_key_pem: &str, proof: &ConsistencyProof) -> Result<(), AuditError> {
    let key = parse_public_key(public_key_pem)?;
    proof.old.verify(&key)?;
    proof.new.verify(&key)?;
    let ok = merkle::verify_consistency(
        proof.old.size,
        proof.new.size,
        &proof.old.root,
        &proof.new.root,
        &hashes(&proof.path),
    );
    if ok { Ok(()) } else { Err(AuditError::BadProof) }
}

pub(crate) fn to_hex_path(path: Vec<Hash>) -> Vec<HexHash> {
    path.into_iter().map(HexHash).collect()
}

macro_rules! json_io {
    ($t:ty, $what:literal) => {
        impl $t {
            /// Serializes to JSON, the form in which proofs travel to outside verifiers.
            pub fn to_json(&self) -> String {
                serde_json::to_string(self).unwrap_or_default()
            }
            /// Parses JSON made by `to_json`.
            pub fn from_json(json: &str) -> Result<Self, AuditError> {
                serde_json::from_str(json).map_err(|_| AuditError::Malformed($what))
            }
        }
    };
}
json_io!(InclusionProof, "inclusion proof");
json_io!(ConsistencyProof, "consistency proof");
