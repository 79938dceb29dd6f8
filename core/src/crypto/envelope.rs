//! AES-256-GCM sealing of one field with associated data that binds the ciphertext to its
//! place: table, record id, field and patient. A ciphertext copied to another row, field or
//! patient fails to open.
//!
//! Layout of a sealed value: `0x01 ‖ nonce (12) ‖ ciphertext ‖ tag (16)`.
//! Nonces are random; with at most a few million encryptions per data key the collision
//! probability stays far below 2^-32 (NIST SP 800-38D §8.3).

use aes_gcm::aead::inout::InOutBuf;
use aes_gcm::aead::{AeadInOut, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use zeroize::Zeroizing;

use super::{CryptoError, SecretKey};

const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;

/// Where a ciphertext lives; becomes the AEAD associated data.
#[derive(Debug, Clone, Copy)]
pub struct Aad<'a> {
    /// Table name, e.g. `"patients"`.
    pub table: &'a str,
    /// Record id.
    pub record_id: &'a str,
    /// Column or field name.
    pub field: &'a str,
    /// The patient the data belongs to (or `""` for system data).
    pub patient_id: &'a str,
}

impl Aad<'_> {
    /// Canonical encoding: a domain tag, then each part with a 2-byte length prefix, so no
    /// two different tuples encode alike.
    fn encode(&self) -> Vec<u8> {
        let parts = [self.table, self.record_id, self.field, self.patient_id];
        let mut out = Vec::with_capacity(16 + parts.iter().map(|p| p.len() + 2).sum::<usize>());
        out.extend_from_slice(b"kabinet/aad/v1");
        for p in parts {
            let len = u16::try_from(p.len()).unwrap_or(u16::MAX);
            out.extend_from_slice(&len.to_be_bytes());
            out.extend_from_slice(&p.as_bytes()[..usize::from(len)]);
        }
        out
    }
}

fn cipher(key: &SecretKey) -> Result<Aes256Gcm, CryptoError> {
    Aes256Gcm::new_from_slice(key.expose()).map_err(|_| CryptoError::Internal("aes key length"))
}

/// Encrypts `plaintext` under `key`, bound to `aad`.
pub fn seal(key: &SecretKey, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    seal_raw(key, &aad.encode(), plaintext)
}

/// Decrypts a value sealed by [`seal`]; any change to the bytes or the place fails with
/// [`CryptoError::Integrity`].
pub fn open(key: &SecretKey, aad: &Aad<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    open_raw(key, &aad.encode(), sealed)
}

pub(crate) fn seal_raw(key: &SecretKey, aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let mut nonce = [0u8; NONCE_LEN];
    super::random_bytes(&mut nonce);
    // One pass, no intermediate buffer: the plaintext is encrypted straight into its place in
    // the sealed value (issue 15: a 10 MiB document was copied twice more on the way).
    let body = 1 + NONCE_LEN;
    let mut out = vec![0u8; body + plaintext.len() + TAG_LEN];
    out[0] = VERSION;
    out[1..body].copy_from_slice(&nonce);
    let (middle, tag_place) = out[body..].split_at_mut(plaintext.len());
    let buffer = InOutBuf::new(plaintext, middle).map_err(|_| CryptoError::Internal("encrypt"))?;
    let tag = cipher(key)?
        .encrypt_inout_detached(&Nonce::from(nonce), aad, buffer)
        .map_err(|_| CryptoError::Internal("encrypt"))?;
    tag_place.copy_from_slice(&tag);
    Ok(out)
}

pub(crate) fn open_raw(key: &SecretKey, aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if sealed.len() < 1 + NONCE_LEN + TAG_LEN || sealed[0] != VERSION {
        return Err(CryptoError::Integrity);
    }
    let nonce: [u8; NONCE_LEN] = sealed[1..1 + NONCE_LEN].try_into().map_err(|_| CryptoError::Integrity)?;
    let (body, tag) = sealed[1 + NONCE_LEN..].split_at(sealed.len() - 1 - NONCE_LEN - TAG_LEN);
    let tag = aes_gcm::Tag::try_from(tag).map_err(|_| CryptoError::Integrity)?;
    // Decrypted straight into the value returned (checked before anything is handed out).
    let mut plain = Zeroizing::new(vec![0u8; body.len()]);
    let buffer = InOutBuf::new(body, &mut plain[..]).map_err(|_| CryptoError::Integrity)?;
    cipher(key)?.decrypt_inout_detached(&Nonce::from(nonce), aad, buffer, &tag).map_err(|_| CryptoError::Integrity)?;
    Ok(plain)
}

/// Seals and opens values under one system key (credentials, the outbox): the component
/// holds the key, callers never see it.
pub(crate) struct Sealer {
    key: SecretKey,
}

impl Sealer {
    pub(crate) fn new(key: SecretKey) -> Self {
        Sealer { key }
    }

    /// Seals `plaintext` bound to `aad`.
    pub(crate) fn seal(&self, aad: &Aad<'_>, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        seal(&self.key, aad, plaintext)
    }

    /// Opens what [`Sealer::seal`] sealed with the same `aad`.
    pub(crate) fn open(&self, aad: &Aad<'_>, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        open(&self.key, aad, sealed)
    }
}
