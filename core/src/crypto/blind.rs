//! Keyed blind indexes: HMAC-SHA-256 of a normalized identifier under a secret key, so
//! equality lookups work on encrypted columns without storing the identifier in clear.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::SecretKey;

/// Which identifier a blind index is over; part of the MAC input, so equal values of
/// different kinds never collide.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BlindIndexKind {
    /// SNILS (normalized digits).
    Snils,
    /// INN.
    Inn,
    /// ENP / OMS policy.
    Enp,
    /// Phone in E.164.
    Phone,
    /// E-mail (domain lower-cased, local part as given, then lower-cased for lookup).
    Email,
    /// Passport series and number.
    Passport,
    /// A person: folded surname, given name and birth date (`иванова|анна|1990-03-14`).
    Person,
}

impl BlindIndexKind {
    fn tag(self) -> &'static [u8] {
        match self {
            BlindIndexKind::Snils => b"snils",
            BlindIndexKind::Inn => b"inn",
            BlindIndexKind::Enp => b"enp",
            BlindIndexKind::Phone => b"phone",
            BlindIndexKind::Email => b"email",
            BlindIndexKind::Passport => b"passport",
            BlindIndexKind::Person => b"person",
        }
    }
}

/// Computes blind indexes with the deployment's index key.
#[derive(Clone)]
pub struct BlindIndexer {
    key: SecretKey,
}

impl std::fmt::Debug for BlindIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlindIndexer(<redacted>)")
    }
}

impl BlindIndexer {
    /// An indexer over `key`.
    pub fn new(key: SecretKey) -> Self {
        BlindIndexer { key }
    }

    /// The 32-byte index of an already normalized `value`.
    pub fn index(&self, kind: BlindIndexKind, value: &str) -> Vec<u8> {
        // new_from_slice accepts any key length for HMAC; 32 bytes never fails.
        let Ok(mut mac) = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose()) else {
            return Vec::new();
        };
        mac.update(b"kabinet/bidx/v1\0");
        mac.update(kind.tag());
        mac.update(b"\0");
        mac.update(value.to_lowercase().as_bytes());
        mac.finalize().into_bytes().to_vec()
    }
}
