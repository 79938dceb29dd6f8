//! Access tokens: compact JWS (RFC 7515) JWTs (RFC 7519) signed with EdDSA (Ed25519).
//!
//! Written here instead of using `jsonwebtoken`: version 11 needs a process-wide
//! `CryptoProvider` installed, and an SDK embedded in someone else's process must not
//! claim that global (the host may use jsonwebtoken with another backend); its RustCrypto
//! backend would also pull `rsa` 0.9 (RUSTSEC-2023-0071). The format is small: the header
//! must be exactly `{"alg":"EdDSA","typ":"JWT"}` (an allowlist of one; `none` and every other
//! algorithm are refused before any signature work), and `iss`, `aud`, `exp`, `nbf` are checked.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};

/// Issuer and audience of Kabinet's tokens.
pub const ISSUER: &str = "kabinet";
/// Audience of access tokens.
pub const AUDIENCE: &str = "kabinet-api";
const HEADER: &str = r#"{"alg":"EdDSA","typ":"JWT"}"#;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Claims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Account id.
    pub sub: String,
    /// Session id.
    pub sid: String,
    /// Issued at (seconds since the epoch).
    pub iat: i64,
    /// Not before.
    pub nbf: i64,
    /// Expires.
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// Why a token was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url parts, bad JSON, or a header other than the one allowed.
    Malformed,
    /// The signature does not verify.
    Signature,
    /// Wrong issuer or audience.
    Claims,
    /// Past `exp`.
    Expired,
    /// Before `nbf`.
    NotYetValid,
}

/// Signs `claims`.
pub fn sign(key: &SigningKey, claims: &Claims) -> String {
    let payload = serde_json::to_vec(claims).unwrap_or_default();
    let input = format!("{}.{}", B64.encode(HEADER), B64.encode(payload));
    let sig = key.sign(input.as_bytes());
    format!("{input}.{}", B64.encode(sig.to_bytes()))
}

/// Verifies a token at `now` (seconds since the epoch) and returns its claims.
pub fn verify(key: &VerifyingKey, token: &str, now: i64) -> Result<Claims, TokenError> {
    let claims = verify_signature(key, token)?;
    if now >= claims.exp {
        return Err(TokenError::Expired);
    }
    if now < claims.nbf {
        return Err(TokenError::NotYetValid);
    }
    Ok(claims)
}

/// Checks the header, the signature, the issuer and the audience, but not the times: for
/// logging out with a genuine token that has expired.
pub fn verify_signature(key: &VerifyingKey, token: &str) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) = (parts.next(), parts.next(), parts.next(), parts.next()) else {
        return Err(TokenError::Malformed);
    };
    let header = B64.decode(h).map_err(|_| TokenError::Malformed)?;
    if header != HEADER.as_bytes() {
        return Err(TokenError::Malformed);
    }
    let sig: [u8; 64] = B64.decode(s).ok().and_then(|b| b.try_into().ok()).ok_or(TokenError::Malformed)?;
    let input_len = h.len() + 1 + p.len();
    key.verify_strict(&token.as_bytes()[..input_len], &Signature::from_bytes(&sig))
        .map_err(|_| TokenError::Signature)?;
    let claims: Claims = serde_json::from_slice(&B64.decode(p).map_err(|_| TokenError::Malformed)?)
        .map_err(|_| TokenError::Malformed)?;
    if claims.iss != ISSUER || claims.aud != AUDIENCE {
        return Err(TokenError::Claims);
    }
    Ok(claims)
}

/// Signs and checks access tokens (the signing key stays inside).
pub(crate) struct TokenSigner {
    key: SigningKey,
}

impl TokenSigner {
    pub(crate) fn new(key: SigningKey) -> Self {
        TokenSigner { key }
    }

    /// A signed token for `claims`.
    pub(crate) fn sign(&self, claims: &Claims) -> String {
        sign(&self.key, claims)
    }

    /// The claims of a token signed here and valid at `now` (seconds).
    pub(crate) fn verify(&self, token: &str, now: i64) -> Result<Claims, TokenError> {
        verify(&self.key.verifying_key(), token, now)
    }

    /// The claims of a token signed here, whatever its expiry.
    pub(crate) fn verify_signature(&self, token: &str) -> Result<Claims, TokenError> {
        verify_signature(&self.key.verifying_key(), token)
    }
}
