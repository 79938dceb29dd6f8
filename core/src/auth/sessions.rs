//! Login with a second factor (R3), lockout after 3 wrong passwords (R4), sessions with
//! short-lived signed access tokens and rotating refresh tokens (R5), and the signed-in
//! context.

use sqlx::Row;
use time::OffsetDateTime;

use super::{AuthError, SessionError, codes, password, tokens};
use crate::audit::{Access, Action, Actor, ActorKind, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::crypto::BlindIndexKind;
use crate::error::{Error, Result};
use crate::ids;
use crate::integrations::Channel;
use crate::notify;
use crate::store::{Conn, StorageError};
use crate::timeutil::to_micros;

/// Wrong passwords before the password is blocked (R4).
pub const MAX_PASSWORD_ATTEMPTS: i32 = 3;
const STEP_TTL_US: i64 = 5 * 60 * 1_000_000;

/// The client a request comes from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Device {
    /// Stable device id chosen by the app.
    pub id: String,
    /// Human name ("Pixel 8").
    pub name: String,
    /// Client IP.
    pub ip: String,
    /// User agent.
    pub user_agent: String,
}

/// A login waiting for its second factor.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct LoginStep {
    /// Pass to `verify_second_factor`.
    pub id: String,
    /// `"sms"` or `"totp"`.
    pub second_factor: String,
}

/// Tokens of a session.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Tokens {
    /// Short-lived signed JWT (EdDSA).
    pub access_token: String,
    /// Opaque, single-use, 256-bit refresh token.
    pub refresh_token: String,
    /// When the access token expires.
    pub expires_at: OffsetDateTime,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokens").field("expires_at", &self.expires_at).finish_non_exhaustive()
    }
}

/// One of the account's sessions.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct SessionInfo {
    /// Session id.
    pub id: String,
    /// Device name.
    pub device: String,
    /// Device id.
    pub device_id: String,
    /// IP at login.
    pub ip: String,
    /// Start.
    pub started_at: OffsetDateTime,
    /// Last use.
    pub last_used_at: OffsetDateTime,
    /// Whether this is the session asking.
    pub current: bool,
}

pub(crate) fn device_ctx(kind: ActorKind, account: Option<&str>, device: &Device) -> AuditContext {
    AuditContext {
        actor: Actor { kind, id: account.map(str::to_owned), on_behalf_of: None },
        ip: Some(device.ip.clone()).filter(|s| !s.is_empty()),
        device_id: Some(device.id.clone()).filter(|s| !s.is_empty()),
    }
}

/// Login, second factor, refresh and logout.
#[derive(Debug, Clone)]
pub struct Auth {
    cab: Cabinet,
}

struct AccountRow {
    id: String,
    patient_id: Option<String>,
    password_hash: String,
    blocked: bool,
    second_factor: String,
}

impl Auth {
    pub(crate) fn new(cab: Cabinet) -> Self {
        Auth { cab }
    }

    /// Finds an active account by phone, e-mail, SNILS or INN through blind indexes.
    async fn find_account(&self, identifier: &str) -> Result<Option<AccountRow>> {
        let bidx = self.cab.blind_indexer();
        let mut candidates = Vec::new();
        if identifier.contains('@') {
            if let Ok(e) = ids::email(identifier) {
                candidates.push(("SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE email_bidx = $1 AND status = 'active'", bidx.index(BlindIndexKind::Email, &e)));
            }
        } else {
            if let Ok(p) = ids::phone(identifier) {
                candidates.push(("SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE phone_bidx = $1 AND status = 'active'", bidx.index(BlindIndexKind::Phone, &p)));
            }
            if let Ok(s) = ids::snils(identifier) {
                candidates.push(("SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE snils_bidx = $1 AND status = 'active'", bidx.index(BlindIndexKind::Snils, &s)));
            }
            if let Ok(i) = ids::inn(identifier) {
                candidates.push(("SELECT id, patient_id, password_hash, blocked_at, second_factor FROM accounts WHERE inn_bidx = $1 AND status = 'active'", bidx.index(BlindIndexKind::Inn, &i)));
            }
        }
        for (sql, idx) in candidates {
            let row = sqlx::query(sql).bind(idx).fetch_optional(self.cab.store().pool()).await?;
            if let Some(row) = row {
                let blocked: Option<i64> = row.try_get("blocked_at")?;
                return Ok(Some(AccountRow {
                    id: row.try_get("id")?,
                    patient_id: row.try_get("patient_id")?,
                    password_hash: row.try_get("password_hash")?,
                    blocked: blocked.is_some(),
                    second_factor: row.try_get("second_factor")?,
                }));
            }
        }
        Ok(None)
    }

    /// The account id and patient id behind an identifier, if any (for recovery).
    pub(crate) async fn find_any_account(&self, identifier: &str) -> Result<Option<(String, Option<String>)>> {
        Ok(self.find_account(identifier).await?.map(|a| (a.id, a.patient_id)))
    }

    /// First step of login: identifier (phone, e-mail, SNILS or INN) and password. A wrong
    /// identifier and a wrong password give the same error after the same work (one Argon2id
    /// verification). The 3rd wrong password in a row blocks the password (the counter is
    /// updated atomically in the database) and cancels half-finished logins.
    pub async fn login(&self, identifier: &str, password_text: &str, device: &Device) -> Result<LoginStep> {
        let account = self.find_account(identifier).await?;
        let Some(account) = account else {
            self.cab.passwords().dummy_verify(password_text.to_owned()).await;
            return Err(AuthError::InvalidCredentials.into());
        };
        let verdict = self.cab.passwords().verify(password_text.to_owned(), account.password_hash.clone()).await?;
        // Checked after the hash work, so a locked account answers in the time any other
        // refusal takes: the timing says nothing about which accounts are locked.
        if account.blocked {
            return Err(AuthError::Locked.into());
        }
        let now = to_micros(self.cab.now());
        let ctx = device_ctx(ActorKind::Anonymous, None, device);
        let patient = account.patient_id.as_deref();
        if verdict == password::Verified::No {
            count_failure(&self.cab, &account.id, patient, &ctx, Failure::Password, now).await?;
            return Err(AuthError::InvalidCredentials.into());
        }
        let mut tx = self.cab.store().begin().await?;
        let prior_failures: i32 = sqlx::query_scalar("SELECT failed_attempts FROM accounts WHERE id = $1")
            .bind(&account.id)
            .fetch_one(&mut *tx)
            .await?;
        let reset = sqlx::query("UPDATE accounts SET failed_attempts = 0 WHERE id = $1 AND blocked_at IS NULL")
            .bind(&account.id)
            .execute(&mut *tx)
            .await?;
        if reset.rows_affected() != 1 {
            return Err(AuthError::Locked.into());
        }
        if verdict == password::Verified::YesRehash {
            let fresh = self.cab.passwords().hash(password_text.to_owned()).await?;
            sqlx::query("UPDATE accounts SET password_hash = $1 WHERE id = $2")
                .bind(fresh)
                .bind(&account.id)
                .execute(&mut *tx)
                .await?;
        }
        let step_id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO login_steps (id, account_id, factor, device_id, device_name, ip, user_agent, created_at, expires_at, after_failures) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(&step_id)
        .bind(&account.id)
        .bind(&account.second_factor)
        .bind(&device.id)
        .bind(&device.name)
        .bind(&device.ip)
        .bind(&device.user_agent)
        .bind(now)
                .bind(now.saturating_add(STEP_TTL_US))
        .bind(i32::from(prior_failures > 0))
        .execute(&mut *tx)
        .await
        ?;
        let mut outbox_id = None;
        if account.second_factor == "sms" {
            let Some(pid) = patient else { return Err(AuthError::InvalidCredentials.into()) };
            let code = codes::generate(6);
            crate::accounts::store_code(
                &self.cab,
                &mut tx,
                "login_code",
                &step_id,
                &code,
                now + crate::accounts::CODE_TTL_US,
            )
            .await?;
            let who = device_ctx(ActorKind::Patient, Some(&account.id), device);
            let person = crate::patients::Patients::new(self.cab.clone(), who).read_in(&mut tx, pid, now).await?;
            let phone = person.phone.unwrap_or_default();
            let msg = self.cab.message(Some(pid), "login_code", Channel::Sms, &phone, Some(&code));
            outbox_id = Some(self.cab.outbox().enqueue(&mut tx, &msg, now).await?);
        }
        tx.commit().await?;
        if let Some(id) = outbox_id {
            notify::deliver(&self.cab, &id).await?;
        }
        Ok(LoginStep { id: step_id, second_factor: account.second_factor })
    }

    /// Second step: the SMS code (or TOTP code). Success opens a session and returns its
    /// tokens; the step is single-use, expires after 5 minutes and allows 5 tries.
    pub async fn verify_second_factor(&self, step_id: &str, code: &str) -> Result<Tokens> {
        let now = to_micros(self.cab.now());
        let row = sqlx::query(
            "SELECT s.account_id, s.factor, s.expires_at, s.used_at, s.cancelled_at, s.device_id, s.device_name, s.ip, s.user_agent, \
             a.blocked_at, a.patient_id, s.after_failures, a.kind FROM login_steps s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1",
        )
        .bind(step_id)
        .fetch_optional(self.cab.store().pool())
        .await
        ?
        .ok_or(AuthError::CodeExpired)?;
        let account_id: String = row.try_get("account_id")?;
        let factor: String = row.try_get("factor")?;
        let expires: i64 = row.try_get("expires_at")?;
        let used: Option<i64> = row.try_get("used_at")?;
        let cancelled: Option<i64> = row.try_get("cancelled_at")?;
        let blocked: Option<i64> = row.try_get("blocked_at")?;
        let patient_id: Option<String> = row.try_get("patient_id")?;
        let after_failures: i32 = row.try_get("after_failures")?;
        let actor_kind =
            if row.try_get::<String, _>("kind")? == "staff" { ActorKind::Staff } else { ActorKind::Patient };
        if blocked.is_some() {
            return Err(AuthError::Locked.into());
        }
        if used.is_some() || cancelled.is_some() || expires <= now {
            return Err(AuthError::CodeExpired.into());
        }
        let device = Device {
            id: row.try_get::<Option<String>, _>("device_id")?.unwrap_or_default(),
            name: row.try_get::<Option<String>, _>("device_name")?.unwrap_or_default(),
            ip: row.try_get::<Option<String>, _>("ip")?.unwrap_or_default(),
            user_agent: row.try_get::<Option<String>, _>("user_agent")?.unwrap_or_default(),
        };
        let checked = self.check_factor(&factor, step_id, &account_id, code, now).await;
        if let Err(Error::Auth(AuthError::SecondFactor)) = &checked {
            // Counted per account, across login steps: a fresh step does not reset it.
            let ctx = device_ctx(ActorKind::Anonymous, None, &device);
            if count_failure(&self.cab, &account_id, patient_id.as_deref(), &ctx, Failure::SecondFactor, now).await? {
                return Err(AuthError::Locked.into());
            }
        }
        checked?;

        let mut tx = self.cab.store().begin().await?;
        let claimed = sqlx::query(
            "UPDATE login_steps SET used_at = $1 WHERE id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
        )
        .bind(now)
        .bind(step_id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Err(AuthError::CodeExpired.into());
        }
        sqlx::query("UPDATE accounts SET factor_failures = 0 WHERE id = $1")
            .bind(&account_id)
            .execute(&mut *tx)
            .await?;
        let suspicious = super::incidents::assess(&mut tx, &account_id, &device, after_failures > 0, now).await?;
        let tokens = self.open_session(&mut tx, &account_id, &device, now).await?;
        let ctx = device_ctx(actor_kind, Some(&account_id), &device);
        let what = Access {
            patient_id: patient_id.as_deref(),
            action: Action::Login,
            resource_type: "session",
            resource_id: None,
        };
        self.cab.journal().record(&mut tx, &ctx, what, Outcome::Success, now).await?;
        let mut outbox = Vec::new();
        if let (Some(kind), Some(pid)) = (suspicious, patient_id.as_deref()) {
            outbox = super::incidents::raise(&self.cab, &mut tx, &account_id, pid, kind, &device, now).await?;
        }
        tx.commit().await?;
        for id in outbox {
            notify::deliver(&self.cab, &id).await?;
        }
        Ok(tokens)
    }

    /// Checks the step's second factor: the SMS code, or a TOTP or recovery code.
    async fn check_factor(&self, factor: &str, step_id: &str, account_id: &str, code: &str, now: i64) -> Result<()> {
        match factor {
            "sms" => {
                crate::accounts::check_code(&self.cab, "login_code", step_id, code, now).await.map_err(|e| match e {
                    Error::Auth(AuthError::InvalidCode) => Error::Auth(AuthError::SecondFactor),
                    other => other,
                })
            }
            "totp" => {
                // Count the try first (outside any transaction), then check.
                let counted =
                    sqlx::query("UPDATE login_steps SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2")
                        .bind(step_id)
                        .bind(crate::accounts::MAX_CODE_ATTEMPTS)
                        .execute(self.cab.store().pool())
                        .await?;
                if counted.rows_affected() != 1 {
                    return Err(AuthError::TooManyAttempts.into());
                }
                let unix = u64::try_from(now / 1_000_000).unwrap_or(0);
                super::factors::check_totp_or_recovery(&self.cab, account_id, code, unix, now).await
            }
            _ => Err(AuthError::SecondFactor.into()),
        }
    }

    async fn open_session(&self, tx: &mut Conn, account_id: &str, device: &Device, now: i64) -> Result<Tokens> {
        let policy = self.cab.session_policy();
        let session_id = uuid::Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO sessions (id, account_id, device_id, device_name, ip, user_agent, created_at, last_used_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8)",
        )
        .bind(&session_id)
        .bind(account_id)
        .bind(&device.id)
        .bind(&device.name)
        .bind(&device.ip)
        .bind(&device.user_agent)
        .bind(now)
        .bind(now.saturating_add(to_us(policy.absolute_timeout)))
        .execute(&mut *tx)
        .await
        ?;
        self.issue(tx, account_id, &session_id, now).await
    }

    /// New access token and a new refresh token for a session.
    async fn issue(&self, tx: &mut Conn, account_id: &str, session_id: &str, now: i64) -> Result<Tokens> {
        let policy = self.cab.session_policy();
        let refresh = codes::token();
        sqlx::query("INSERT INTO refresh_tokens (digest, session_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(self.cab.codes().digest("refresh", "token", &refresh))
            .bind(session_id)
            .bind(now)
            .bind(now.saturating_add(to_us(policy.absolute_timeout)))
            .execute(&mut *tx)
            .await?;
        let secs = now / 1_000_000;
        let exp = secs.saturating_add(policy.access_token_ttl.whole_seconds());
        let claims = tokens::Claims {
            iss: tokens::ISSUER.into(),
            aud: tokens::AUDIENCE.into(),
            sub: account_id.to_owned(),
            sid: session_id.to_owned(),
            iat: secs,
            nbf: secs,
            exp,
            jti: uuid::Uuid::new_v4().to_string(),
        };
        Ok(Tokens {
            access_token: self.cab.tokens().sign(&claims),
            refresh_token: refresh,
            expires_at: OffsetDateTime::from_unix_timestamp(exp).map_err(|_| StorageError::Corrupt("token expiry"))?,
        })
    }

    /// Exchanges a refresh token for new tokens. Each refresh token works once; presenting
    /// a used one again (a stolen copy) revokes the whole session.
    pub async fn refresh(&self, refresh_token: &str, device: &Device) -> Result<Tokens> {
        let now = to_micros(self.cab.now());
        let digest = self.cab.codes().digest("refresh", "token", refresh_token);
        let mut tx = self.cab.store().begin().await?;
        let row = sqlx::query(
            "SELECT r.session_id, r.used_at, r.expires_at, s.account_id, s.revoked_at, s.blocked_at, a.patient_id, \
             s.last_used_at, s.expires_at AS session_expires_at FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id JOIN accounts a ON a.id = s.account_id WHERE r.digest = $1",
        )
        .bind(&digest)
        .fetch_optional(&mut *tx)
        .await
        ?
        .ok_or(SessionError::Invalid)?;
        let session_id: String = row.try_get("session_id")?;
        let used: Option<i64> = row.try_get("used_at")?;
        let expires: i64 = row.try_get("expires_at")?;
        let account_id: String = row.try_get("account_id")?;
        let revoked: Option<i64> = row.try_get("revoked_at")?;
        let blocked: Option<i64> = row.try_get("blocked_at")?;
        let patient_id: Option<String> = row.try_get("patient_id")?;
        let last_used: i64 = row.try_get("last_used_at")?;
        let session_end: i64 = row.try_get("session_expires_at")?;
        if blocked.is_some() {
            return Err(SessionError::Blocked.into());
        }
        if revoked.is_some() {
            return Err(SessionError::Revoked.into());
        }
        // A refresh token cannot revive a session that idled out or reached its end.
        if session_end <= now || last_used.saturating_add(to_us(self.cab.session_policy().idle_timeout)) <= now {
            return Err(SessionError::Expired.into());
        }
        let claimed = sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
            .bind(now)
            .bind(&digest)
            .execute(&mut *tx)
            .await?;
        if used.is_some() || claimed.rows_affected() != 1 {
            // Reuse: someone holds an old copy. End the session for everyone.
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(&session_id)
                .execute(&mut *tx)
                .await?;
            let ctx = device_ctx(ActorKind::Anonymous, None, device);
            let what = Access {
                patient_id: patient_id.as_deref(),
                action: Action::Logout,
                resource_type: "session",
                resource_id: Some(&session_id),
            };
            self.cab.journal().record(&mut tx, &ctx, what, Outcome::Denied, now).await?;
            tx.commit().await?;
            return Err(SessionError::Revoked.into());
        }
        if expires <= now {
            return Err(SessionError::Expired.into());
        }
        sqlx::query("UPDATE sessions SET last_used_at = $1 WHERE id = $2")
            .bind(now)
            .bind(&session_id)
            .execute(&mut *tx)
            .await?;
        let tokens = self.issue(&mut tx, &account_id, &session_id, now).await?;
        tx.commit().await?;
        Ok(tokens)
    }

    /// Ends the session of `access_token`.
    pub async fn logout(&self, access_token: &str) -> Result<()> {
        let now = to_micros(self.cab.now());
        // Logging out with an expired (but genuine) token still ends the session.
        let claims = self.cab.tokens().verify_signature(access_token).map_err(|_| SessionError::Invalid)?;
        revoke_sessions(&self.cab, &claims.sub, Some(&claims.sid), now).await
    }
}

/// Wrong second factors (SMS, TOTP or recovery codes) an account may give, across login
/// steps, before it is blocked and recovery is required.
pub const MAX_FACTOR_FAILURES: i32 = 10;

/// What was wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Password,
    SecondFactor,
}

/// Counts a wrong password or second factor against the account, in the database (so the
/// limit holds across processes and login steps), blocks it at the limit — cancelling its
/// half-finished logins — and journals the attempt. Returns whether the account is now
/// blocked.
pub(crate) async fn count_failure(
    cab: &Cabinet,
    account_id: &str,
    patient: Option<&str>,
    ctx: &AuditContext,
    what: Failure,
    now: i64,
) -> Result<bool> {
    let (sql, limit) = match what {
        Failure::Password => (
            "UPDATE accounts SET failed_attempts = failed_attempts + 1, \
             blocked_at = CASE WHEN failed_attempts + 1 >= $1 THEN $2 ELSE blocked_at END \
             WHERE id = $3 AND blocked_at IS NULL",
            MAX_PASSWORD_ATTEMPTS,
        ),
        Failure::SecondFactor => (
            "UPDATE accounts SET factor_failures = factor_failures + 1, \
             blocked_at = CASE WHEN factor_failures + 1 >= $1 THEN $2 ELSE blocked_at END \
             WHERE id = $3 AND blocked_at IS NULL",
            MAX_FACTOR_FAILURES,
        ),
    };
    let mut tx = cab.store().begin().await?;
    sqlx::query(sql).bind(limit).bind(now).bind(account_id).execute(&mut *tx).await?;
    let blocked: Option<i64> = sqlx::query_scalar("SELECT blocked_at FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    if blocked.is_some() {
        sqlx::query(
            "UPDATE login_steps SET cancelled_at = $1 WHERE account_id = $2 AND used_at IS NULL AND cancelled_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .execute(&mut *tx)
        .await
        ?;
    }
    let resource_type = match what {
        Failure::Password => "account",
        Failure::SecondFactor => "second_factor",
    };
    let access =
        Access { patient_id: patient, action: Action::LoginFailed, resource_type, resource_id: Some(account_id) };
    cab.journal().record(&mut tx, ctx, access, Outcome::Failure, now).await?;
    tx.commit().await?;
    Ok(blocked.is_some())
}

pub(crate) fn to_us(d: time::Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(i64::MAX)
}

/// Revokes one session (or all of an account's) and journals it.
pub(crate) async fn revoke_sessions(cab: &Cabinet, account_id: &str, session_id: Option<&str>, now: i64) -> Result<()> {
    let mut tx = cab.store().begin().await?;
    let done = match session_id {
        Some(sid) => {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND account_id = $3 AND revoked_at IS NULL")
                .bind(now)
                .bind(sid)
                .bind(account_id)
                .execute(&mut *tx)
                .await
        }
        None => {
            sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(account_id)
                .execute(&mut *tx)
                .await
        }
    }?;
    if session_id.is_some() && done.rows_affected() == 0 {
        return Err(Error::NotFound { entity: "session" });
    }
    let patient: Option<String> = sqlx::query_scalar("SELECT patient_id FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let ctx = AuditContext {
        actor: Actor { kind: ActorKind::Patient, id: Some(account_id.to_owned()), on_behalf_of: None },
        ip: None,
        device_id: None,
    };
    let what = Access {
        patient_id: patient.as_deref(),
        action: Action::Logout,
        resource_type: "session",
        resource_id: session_id,
    };
    cab.journal().record(&mut tx, &ctx, what, Outcome::Success, now).await?;
    tx.commit().await?;
    Ok(())
}
