//! Encryption at rest (S2): AES-256-GCM envelope encryption with per-patient data keys
//! wrapped by a key-encryption key (KEK) from a [`KeyProvider`], keyed blind indexes for
//! equality lookups on encrypted identifiers, and KEK rotation without re-encrypting data.

mod blind;
pub(crate) mod envelope;
mod error;
pub(crate) mod keyring;
mod provider;
mod secret;
mod store;

pub use blind::{BlindIndexKind, BlindIndexer};
pub(crate) use envelope::Sealer;
pub use envelope::{Aad, open, seal};
pub use error::CryptoError;
pub use keyring::KeyRotationReport;
pub use provider::{EphemeralKeyProvider, KeyProvider, LocalFileKeyProvider, PassphraseKeyProvider};
pub use secret::SecretKey;

/// Fills `buf` from the operating system's CSPRNG (through `rand`'s thread RNG, which is
/// a ChaCha CSPRNG reseeded from the OS).
pub fn random_bytes(buf: &mut [u8]) {
    rand::fill(buf);
}

#[cfg(test)]
mod tests;
