//! Crypto errors. None carries key material or plaintext.

use crate::error::code::{ErrorCode, ErrorKind};

/// Encryption, decryption and key-handling failures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CryptoError {
    /// Authentication of a ciphertext failed: it was altered, moved to another record, or
    /// the key is wrong.
    #[error("integrity check failed")]
    Integrity,
    /// The patient's data key was destroyed (crypto-shredding): the data is erased.
    #[error("data key destroyed")]
    KeyDestroyed,
    /// The key provider cannot supply the key-encryption key needed (wrong passphrase or key
    /// file, or a KEK that was removed).
    #[error("key-encryption key unavailable")]
    KeyUnavailable,
    /// The key file cannot be read, written, or has unsafe permissions.
    #[error("key file error: {reason}")]
    KeyFile {
        /// What is wrong, without key material.
        reason: &'static str,
        /// The I/O or parse error behind it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The key provider cannot rotate its KEK.
    #[error("key provider does not support rotation")]
    RotationUnsupported,
    /// A primitive failed in a way that should not happen (bad lengths from storage).
    #[error("internal crypto error: {0}")]
    Internal(&'static str),
}

impl ErrorCode for CryptoError {
    fn code(&self) -> &'static str {
        match self {
            CryptoError::Integrity => "crypto.integrity",
            CryptoError::KeyDestroyed => "crypto.key_destroyed",
            CryptoError::KeyUnavailable => "crypto.key_unavailable",
            CryptoError::KeyFile { .. } => "crypto.key_file",
            CryptoError::RotationUnsupported => "crypto.rotation_unsupported",
            CryptoError::Internal(_) => "crypto.internal",
        }
    }

    fn kind(&self) -> ErrorKind {
        match self {
            CryptoError::Integrity => ErrorKind::Integrity,
            CryptoError::KeyDestroyed => ErrorKind::NotFound,
            CryptoError::KeyUnavailable | CryptoError::KeyFile { .. } | CryptoError::RotationUnsupported => {
                ErrorKind::Config
            }
            CryptoError::Internal(_) => ErrorKind::Storage,
        }
    }
}
