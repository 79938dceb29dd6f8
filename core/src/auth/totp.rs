//! TOTP second factor (RFC 6238) through `totp-rs`: SHA-1, 6 digits, 30-second steps by
//! default, one step of clock skew either way. `totp-rs` returns the matched time step and
//! leaves replay protection to the caller (RFC 6238 §5.2): a code is accepted here only for
//! a step later than the last one accepted, so no code works twice.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Length of a generated TOTP secret in bytes (160 bits, as RFC 4226 recommends).
pub const SECRET_LEN: usize = 20;
/// Step length in seconds.
pub const STEP: u64 = 30;

fn build(secret: &[u8], algorithm: Algorithm, digits: u8, issuer: Option<&str>, account: &str) -> Option<Totp> {
    Builder::new()
        .with_algorithm(algorithm)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::from(secret.to_vec()))
        .with_account_name(account)
        .with_issuer(issuer)
        .build()
        .ok()
}

/// A fresh random secret.
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; SECRET_LEN];
    crate::crypto::random_bytes(&mut s);
    s
}

/// The secret in base32 (what authenticator apps accept typed in).
pub fn secret_base32(secret: &[u8]) -> String {
    Secret::from(secret.to_vec()).to_base32()
}

/// The `otpauth://` provisioning URI (for a QR code).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    build(secret, Algorithm::SHA1, 6, Some(issuer), account).and_then(|t| t.to_url().ok()).unwrap_or_default()
}

/// The 6-digit code for `unix_time`.
pub fn code_at(secret: &[u8], unix_time: u64) -> String {
    build(secret, Algorithm::SHA1, 6, None, "").map(|t| t.generate(unix_time).to_string()).unwrap_or_default()
}

/// The 6-digit code for `unix_time` from a base32 secret (what an authenticator app does
/// with the `TotpSetup` or `StaffAccount` secret); `None` for a malformed secret.
pub fn code_at_base32(secret_base32: &str, unix_time: u64) -> Option<String> {
    let secret = Secret::try_from_base32(secret_base32).ok()?;
    Some(code_at(secret.as_ref(), unix_time))
}

/// Checks a 6-digit code at `unix_time` with ±1 step of skew. Returns the accepted time
/// step, which the caller stores; a step not after `last_step` is refused (replay).
pub fn verify(secret: &[u8], code: &str, unix_time: u64, last_step: Option<u64>) -> Option<u64> {
    let code = code.trim();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let step = build(secret, Algorithm::SHA1, 6, None, "")?.check(code, unix_time)?;
    match last_step {
        Some(last) if step <= last => None,
        _ => Some(step),
    }
}

/// RFC 6238 generation with any algorithm and length, for the test vectors.
pub fn rfc_code(secret: &[u8], algorithm: &str, digits: u8, unix_time: u64) -> Option<String> {
    let alg = match algorithm {
        "SHA1" => Algorithm::SHA1,
        "SHA256" => Algorithm::SHA256,
        "SHA512" => Algorithm::SHA512,
        _ => return None,
    };
    build(secret, alg, digits, None, "").map(|t| t.generate(unix_time).to_string())
}
