//! Authentication and session errors. Messages never say whether an account exists.

use crate::error::code::{ErrorCode, ErrorKind};

/// Login, code and password failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Wrong identifier or password (the same error for both).
    #[error("invalid credentials")]
    InvalidCredentials,
    /// The password is blocked after 3 wrong attempts; recovery is required.
    #[error("account locked")]
    Locked,
    /// The second factor (SMS code, TOTP or recovery code) is wrong.
    #[error("second factor rejected")]
    SecondFactor,
    /// The code or token is wrong.
    #[error("invalid code")]
    InvalidCode,
    /// The code, token or login step expired or was already used.
    #[error("code expired")]
    CodeExpired,
    /// Too many wrong codes: ask for a new one.
    #[error("too many attempts")]
    TooManyAttempts,
    /// Sign in again before changing a login identifier.
    #[error("re-authentication required")]
    ReauthenticationRequired,
}

impl ErrorCode for AuthError {
    fn code(&self) -> &'static str {
        match self {
            AuthError::InvalidCredentials => "auth.invalid_credentials",
            AuthError::Locked => "auth.locked",
            AuthError::SecondFactor => "auth.second_factor",
            AuthError::InvalidCode => "auth.invalid_code",
            AuthError::CodeExpired => "auth.code_expired",
            AuthError::TooManyAttempts => "auth.too_many_attempts",
            AuthError::ReauthenticationRequired => "auth.reauthentication_required",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Authentication
    }
}

/// The session behind a token cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SessionError {
    /// The access token, idle time or session lifetime has expired.
    #[error("session expired")]
    Expired,
    /// Signed out, revoked, or its refresh token was reused.
    #[error("session revoked")]
    Revoked,
    /// Blocked after an unconfirmed security incident.
    #[error("session blocked")]
    Blocked,
    /// Not a token Kabinet issued.
    #[error("invalid token")]
    Invalid,
}

impl ErrorCode for SessionError {
    fn code(&self) -> &'static str {
        match self {
            SessionError::Expired => "session.expired",
            SessionError::Revoked => "session.revoked",
            SessionError::Blocked => "session.blocked",
            SessionError::Invalid => "session.invalid",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Session
    }
}
