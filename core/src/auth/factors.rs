//! TOTP enrollment with recovery codes (R3), and checking a TOTP or recovery code at login
//! or recovery. The TOTP secret is sealed under a system key, bound to its account row.

use sqlx::Row;

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
    sqlx::query("UPDATE accounts SET totp_pending = $1 WHERE id = $2")
        .bind(sealed)
        .bind(account_id)
        .execute(cab.store().pool())
        .await?;
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
    let pending: Option<Vec<u8>> = sqlx::query_scalar("SELECT totp_pending FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let pending = pending.ok_or(AuthError::CodeExpired)?;
    let secret = cab.credentials().open(&aad(account_id, "totp_pending"), &pending)?;
    let step = totp::verify(&secret, code, unix, None).ok_or(AuthError::InvalidCode)?;
    let sealed = cab.credentials().seal(&aad(account_id, "totp_secret"), &secret)?;
    sqlx::query(
        "UPDATE accounts SET totp_secret = $1, totp_pending = NULL, totp_last_step = $2, second_factor = 'totp' WHERE id = $3",
    )
    .bind(sealed)
    .bind(i64::try_from(step).unwrap_or(i64::MAX))
    .bind(account_id)
    .execute(&mut *tx)
    .await
    ?;
    sqlx::query("DELETE FROM recovery_codes WHERE account_id = $1").bind(account_id).execute(&mut *tx).await?;
    let mut out = Vec::with_capacity(RECOVERY_CODES);
    for _ in 0..RECOVERY_CODES {
        let code = recovery_code();
        sqlx::query("INSERT INTO recovery_codes (digest, account_id, created_at) VALUES ($1, $2, $3)")
            .bind(cab.codes().digest("recovery_code", account_id, &code))
            .bind(account_id)
            .bind(now)
            .execute(&mut *tx)
            .await?;
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
    let row = sqlx::query("SELECT totp_secret, totp_last_step FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let sealed: Option<Vec<u8>> = row.try_get("totp_secret")?;
    let last: Option<i64> = row.try_get("totp_last_step")?;
    let trimmed = code.trim();
    if trimmed.len() == 6 {
        let sealed = sealed.ok_or(AuthError::SecondFactor)?;
        let secret = cab.credentials().open(&aad(account_id, "totp_secret"), &sealed)?;
        let last = last.and_then(|l| u64::try_from(l).ok());
        let step = totp::verify(&secret, trimmed, unix, last).ok_or(AuthError::SecondFactor)?;
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        // The database decides: a step not after the stored one is a replay, also when two
        // processes see the same code at once.
        let moved = sqlx::query(
            "UPDATE accounts SET totp_last_step = $1 WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(step)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Err(AuthError::SecondFactor.into());
        }
    } else {
        let digest = cab.codes().digest("recovery_code", account_id, &normalize_recovery(trimmed));
        let used = sqlx::query(
            "UPDATE recovery_codes SET used_at = $1 WHERE digest = $2 AND account_id = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(digest)
        .bind(account_id)
        .execute(&mut *tx)
        .await?;
        if used.rows_affected() != 1 {
            return Err(AuthError::SecondFactor.into());
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Whether the account has TOTP enrolled.
pub(crate) async fn has_totp(cab: &Cabinet, account_id: &str) -> Result<bool> {
    let secret: Option<Vec<u8>> = sqlx::query_scalar("SELECT totp_secret FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(cab.store().pool())
        .await?;
    Ok(secret.is_some())
}
