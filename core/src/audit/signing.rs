//! Ed25519-signed tree heads.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePublicKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

use super::AuditError;
use super::merkle::Hash;
use crate::crypto::SecretKey;

/// A signed statement "the journal had `size` entries with Merkle root `root` at `at_us`".
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SignedTreeHead {
    /// Number of entries.
    pub size: u64,
    /// Merkle root (hex).
    #[serde(with = "hex_bytes")]
    pub root: Hash,
    /// Time of signing, microseconds since the Unix epoch (UTC).
    pub at_us: i64,
    /// Ed25519 signature over [`SignedTreeHead::message`] (hex).
    #[serde(with = "hex_sig")]
    pub signature: [u8; 64],
}

impl SignedTreeHead {
    /// The signed bytes: `"kabinet/sth/v1" ‖ size ‖ root ‖ at`.
    pub fn message(size: u64, root: &Hash, at_us: i64) -> Vec<u8> {
        let mut m = b"kabinet/sth/v1".to_vec();
        m.extend_from_slice(&size.to_be_bytes());
        m.extend_from_slice(root);
        m.extend_from_slice(&at_us.to_be_bytes());
        m
    }

    /// Checks the signature with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), AuditError> {
        let sig = Signature::from_bytes(&self.signature);
        key.verify_strict(&Self::message(self.size, &self.root, self.at_us), &sig).map_err(|_| AuditError::BadSignature)
    }
}

/// The journal's signing key (from a system key wrapped by the KEK).
pub(crate) struct HeadSigner {
    key: SigningKey,
}

impl HeadSigner {
    pub(crate) fn new(seed: &SecretKey) -> Self {
        HeadSigner { key: SigningKey::from_bytes(seed.expose()) }
    }

    pub(crate) fn sign(&self, size: u64, root: Hash, at_us: i64) -> SignedTreeHead {
        let signature = self.key.sign(&SignedTreeHead::message(size, &root, at_us)).to_bytes();
        SignedTreeHead { size, root, at_us, signature }
    }

    pub(crate) fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as PEM (SubjectPublicKeyInfo).
    pub(crate) fn public_key_pem(&self) -> String {
        self.verifying_key().to_public_key_pem(LineEnding::LF).unwrap_or_default()
    }
}

impl std::fmt::Debug for HeadSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HeadSigner(<redacted>)")
    }
}

/// Parses a PEM (SubjectPublicKeyInfo) Ed25519 public key.
pub(crate) fn parse_public_key(pem: &str) -> Result<VerifyingKey, AuditError> {
    VerifyingKey::from_public_key_pem(pem.trim()).map_err(|_| AuditError::Malformed("public key"))
}

pub(crate) mod hex_bytes {
    pub fn serialize<S: serde::Serializer>(v: &[u8; 32], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 32], D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        hex::decode(s)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom("expected 32 hex bytes"))
    }
}

mod hex_sig {
    pub fn serialize<S: serde::Serializer>(v: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(v))
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[u8; 64], D::Error> {
        let s: String = serde::Deserialize::deserialize(d)?;
        hex::decode(s)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| serde::de::Error::custom("expected 64 hex bytes"))
    }
}

pub(crate) use hex_bytes as hex32;
