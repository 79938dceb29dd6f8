//! One-time codes sent by SMS or e-mail: random, stored only as keyed hashes (so a copy of
//! the database cannot be brute-forced over the small code space), compared in constant
//! time.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

use crate::crypto::SecretKey;

/// A fresh uniformly random code of `digits` decimal digits.
pub fn generate(digits: u32) -> String {
    let bound = 10u64.pow(digits.clamp(4, 10));
    // Rejection sampling: no modulo bias.
    let zone = u64::MAX - (u64::MAX % bound);
    loop {
        let mut b = [0u8; 8];
        crate::crypto::random_bytes(&mut b);
        let n = u64::from_be_bytes(b);
        if n < zone {
            return format!("{:0width$}", n % bound, width = digits.clamp(4, 10) as usize);
        }
    }
}

/// A URL-safe random token of 32 bytes (256 bits), for e-mail activation and refresh tokens.
pub fn token() -> String {
    use base64::Engine;
    let mut b = [0u8; 32];
    crate::crypto::random_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

/// HMAC-SHA-256 of `code` under the deployment's code key, bound to its `purpose` and
/// `owner` so a code for one thing never works for another.
pub fn digest(key: &SecretKey, purpose: &str, owner: &str, code: &str) -> Vec<u8> {
    let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(key.expose()) else { return Vec::new() };
    for part in ["kabinet/code/v1", purpose, owner, code.trim()] {
        mac.update(&(part.len() as u32).to_be_bytes());
        mac.update(part.as_bytes());
    }
    mac.finalize().into_bytes().to_vec()
}

/// Constant-time comparison of a presented code with a stored digest.
pub fn matches(key: &SecretKey, purpose: &str, owner: &str, presented: &str, stored: &[u8]) -> bool {
    let d = digest(key, purpose, owner, presented);
    !d.is_empty() && d.ct_eq(stored).into()
}

/// Keyed digests of one-time codes and tokens (the code key stays inside).
pub(crate) struct Codes {
    key: SecretKey,
}

impl Codes {
    pub(crate) fn new(key: SecretKey) -> Self {
        Codes { key }
    }

    /// The stored form of `code` for `purpose` and `owner`.
    pub(crate) fn digest(&self, purpose: &str, owner: &str, code: &str) -> Vec<u8> {
        digest(&self.key, purpose, owner, code)
    }

    /// Whether `presented` is the code `stored` was made from (constant time).
    pub(crate) fn matches(&self, purpose: &str, owner: &str, presented: &str, stored: &[u8]) -> bool {
        matches(&self.key, purpose, owner, presented, stored)
    }
}
