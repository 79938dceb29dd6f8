//! Journal errors.

use crate::error::code::{ErrorCode, ErrorKind};

/// A journal or proof check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuditError {
    /// A signature over a tree head does not verify.
    #[error("tree head signature invalid")]
    BadSignature,
    /// A proof does not lead to the signed root.
    #[error("proof does not verify")]
    BadProof,
    /// The public key or proof could not be parsed.
    #[error("malformed {0}")]
    Malformed(&'static str),
    /// The requested entry or head is not in the journal.
    #[error("no such journal position")]
    OutOfRange,
}

impl ErrorCode for AuditError {
    fn code(&self) -> &'static str {
        match self {
            AuditError::BadSignature => "audit.bad_signature",
            AuditError::BadProof => "audit.bad_proof",
            AuditError::Malformed(_) => "audit.malformed",
            AuditError::OutOfRange => "audit.out_of_range",
        }
    }
    fn kind(&self) -> ErrorKind {
        match self {
            AuditError::BadSignature | AuditError::BadProof => ErrorKind::Integrity,
            AuditError::Malformed(_) => ErrorKind::Validation,
            AuditError::OutOfRange => ErrorKind::NotFound,
        }
    }
}
