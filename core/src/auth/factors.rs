//! TOTP enrollment with recovery codes (R3), and checking a TOTP or recovery code at login
//! or recovery. The TOTP secret is sealed under a system key, bound to its account row.

use super::store;
use super::{AuthError, totp};
use crate::cabinet::Cabinet;
use crate::crypto::Aad;
use crate::error::Result;
use crate::store::Conn;

/// Number of recovery codes issued with a TOTP enrollment.
pub const RECOVERY_CODES: usize = 10;

fn aad<'a>(account_id: &'a str, field: &'a str) -> Aad<'a> {
    Aad { table: "accounts", record_id: account_id, field, patient_id: "" }
}

/// What the app shows to enroll an authenticator.
/// Not hashable: a hash would be a fixed fingerprint of the secret it carries.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct TotpSetup {
    /// The secret in base32, to type in.
    pub secret_base32: String,
    /// `otpauth://` URI, for a QR code.
    pub otpauth_uri: String,
}

impl std::fmt::Debug for TotpSetup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSetup(<redacted>)")
    }
}

/// A recovery code: 16 characters of Crockford base32 (80 bits) in four groups.
fn recovery_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut raw = [0u8; 16];
    crate::crypto::random_bytes(&mut raw);
    let chars: Vec<char> = raw.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

fn normalize_recovery(code: &str) -> String {
    let plain: String = code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect();
    plain.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join("-")
}

/// Starts TOTP enrollment: a fresh secret waits for its first code.
pub(crate) async fn begin_totp(cab: &Cabinet, account_id: &str, label: &str) -> Result<TotpSetup> {
    let secret = totp::new_secret();
    let sealed = cab.credentials().seal(&aad(account_id, "totp_pending"), &secret)?;
    store::set_totp_pending(cab.store().pool(), account_id, sealed).await?;
    Ok(TotpSetup {
        secret_base32: totp::secret_base32(&secret),
        otpauth_uri: totp::otpauth_uri(&secret, "Kabinet", label),
    })
}

/// Confirms enrollment with a first code: TOTP becomes the second factor and 10 single-use
/// recovery codes are returned (shown once; stored only as digests).
pub(crate) async fn confirm_totp(
    cab: &Cabinet,
    tx: &mut Conn,
    account_id: &str,
    code: &str,
    unix: u64,
    now: i64,
) -> Result<Vec<String>> {
    let pending = store::totp_pending(&mut *tx, account_id).await?;
    let pending = pending.ok_or(AuthError::CodeExpired)?;
    let secret = cab.credentials().open(&aad(account_id, "totp_pending"), &pending)?;
    let step = totp::verify(&secret, code, unix, None).ok_or(AuthError::InvalidCode)?;
    let sealed = cab.credentials().seal(&aad(account_id, "totp_secret"), &secret)?;
    store::enable_totp(&mut *tx, account_id, sealed, i64::try_from(step).unwrap_or(i64::MAX)).await?;
    store::delete_recovery_codes(&mut *tx, account_id).await?;
    let mut out = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = recovery_code();
        let digest = cab.codes().digest("recovery_code", account_id, &code);
        store::insert_recovery_code(&mut *tx, digest, account_id, now).await?;
        out.push(code);
    }
    Ok(out)
}

/// Checks a TOTP code (never the same time step twice) or, failing that, a recovery code
/// (each usable once). Runs in its own transaction.
pub(crate) async fn check_totp_or_recovery(
    cab: &Cabinet,
    account_id: &str,
    code: &str,
    unix: u64,
    now: i64,
) -> Result<()> {
    let mut tx = cab.store().begin().await?;
    let store::TotpRow { secret: sealed, last_step: last } = store::totp(&mut *tx, account_id).await?;
    let trimmed = code.trim();
    if trimmed.len() == 6 {
        let sealed = sealed.ok_or(AuthError::SecondFactor)?;
        let secret = cab.credentials().open(&aad(account_id, "totp_secret"), &sealed)?;
        let last = last.and_then(|l| u64::try_from(l).ok());
        let step = totp::verify(&secret, trimmed, unix, last).ok_or(AuthError::SecondFactor)?;
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        // The database decides: a step not after the stored one is a replay, also when two
        // processes see the same code at once.
        if !store::advance_totp_step(&mut *tx, account_id, step).await? {
            return Err(AuthError::SecondFactor.into());
        }
    } else {
        let digest = cab.codes().digest("recovery_code", account_id, &normalize_recovery(trimmed));
        if !store::use_recovery_code(&mut *tx, digest, account_id, now).await? {
            return Err(AuthError::SecondFactor.into());
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the account has TOTP enrolled.
pub(crate) async fn has_totp(cab: &Cabinet, account_id: &str) -> Result<bool> {
    let secret = store::totp(cab.store().pool(), account_id).await?.secret;
    Ok(secret.is_some())
}
