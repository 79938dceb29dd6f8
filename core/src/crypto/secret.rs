//! A 256-bit secret key that is zeroized on drop and never printed.

use zeroize::{Zeroize, ZeroizeOnDrop};

/// 32 bytes of key material. `Debug` shows no bytes; memory is wiped on drop.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct SecretKey([u8; 32]);

impl SecretKey {
    /// Key length in bytes.
    pub const LEN: usize = 32;

    /// A fresh random key.
    pub fn generate() -> Self {
        let mut k = [0u8; 32];
        super::random_bytes(&mut k);
        SecretKey(k)
    }

    /// Wraps existing bytes; `None` unless exactly 32 bytes.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; 32] = bytes.try_into().ok()?;
        Some(SecretKey(arr))
    }

    /// The key bytes. Keep the borrow short; never log it.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(<redacted>)")
    }
}
