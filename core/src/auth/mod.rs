//! Authentication building blocks (R3, R4): password policy and hashing, TOTP second
//! factor with replay protection, and one-time codes. Accounts, login steps and sessions
//! are built on these (issue 4, in progress).

pub mod codes;
pub(crate) mod confirm;
mod error;
pub mod factors;
pub mod identity;
pub mod incidents;
pub mod profile;
pub mod recovery;
pub use error::{AuthError, SessionError};
pub mod password;
pub mod sessions;
pub(crate) mod store;
pub mod tokens;
pub mod totp;

#[cfg(test)]
mod tests;
