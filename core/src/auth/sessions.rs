//! Login with a second factor (R3), lockout after 3 wrong passwords (R4), sessions with
//! short-lived signed access tokens and rotating refresh tokens (R5), and the signed-in
//! context.

use time::OffsetDateTime;

use super::store::{self, LoginIndex};
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
/// Not hashable: a hash would be a fixed fingerprint of the secret it carries.
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
                candidates.push((LoginIndex::Email, bidx.index(BlindIndexKind::Email, &e)));
            }
        } else {
            if let Ok(p) = ids::phone(identifier) {
                candidates.push((LoginIndex::Phone, bidx.index(BlindIndexKind::Phone, &p)));
            }
            if let Ok(s) = ids::snils(identifier) {
                candidates.push((LoginIndex::Snils, bidx.index(BlindIndexKind::Snils, &s)));
            }
            if let Ok(i) = ids::inn(identifier) {
                candidates.push((LoginIndex::Inn, bidx.index(BlindIndexKind::Inn, &i)));
            }
        }
        for (index, value) in candidates {
            if let Some(row) = store::active_account_by(self.cab.store().pool(), index, value).await? {
                return Ok(Some(AccountRow {
                    id: row.id,
                    patient_id: row.patient_id,
                    password_hash: row.password_hash,
                    blocked: row.blocked_at.is_some(),
                    second_factor: row.second_factor,
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
        let prior_failures = store::failed_attempts(&mut *tx, &account.id).await?;
        if !store::reset_failed_attempts(&mut *tx, &account.id).await? {
            return Err(AuthError::Locked.into());
        }
        if verdict == password::Verified::YesRehash {
            let fresh = self.cab.passwords().hash(password_text.to_owned()).await?;
            store::set_password_hash(&mut *tx, &account.id, fresh).await?;
        }
        let step_id = uuid::Uuid::new_v4().to_string();
        let step = store::NewLoginStep {
            id: &step_id,
            account_id: &account.id,
            factor: &account.second_factor,
            device,
            now,
            expires_at: now.saturating_add(STEP_TTL_US),
            after_failures: prior_failures > 0,
        };
        store::insert_login_step(&mut *tx, &step).await?;
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
        let step = store::login_step(self.cab.store().pool(), step_id).await?.ok_or(AuthError::CodeExpired)?;
        let (account_id, factor, patient_id, device) = (step.account_id, step.factor, step.patient_id, step.device);
        let actor_kind = if step.account_kind == "staff" { ActorKind::Staff } else { ActorKind::Patient };
        if step.blocked_at.is_some() {
            return Err(AuthError::Locked.into());
        }
        if step.used_at.is_some() || step.cancelled_at.is_some() || step.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
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
        if !store::claim_login_step(&mut *tx, step_id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        store::reset_factor_failures(&mut *tx, &account_id).await?;
        let suspicious = super::incidents::assess(&mut tx, &account_id, &device, step.after_failures, now).await?;
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
                    store::count_step_try(self.cab.store().pool(), step_id, crate::accounts::MAX_CODE_ATTEMPTS).await?;
                if !counted {
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
        let expires_at = now.saturating_add(to_us(policy.absolute_timeout));
        store::insert_session(&mut *tx, &session_id, account_id, device, now, expires_at).await?;
        self.issue(tx, account_id, &session_id, now).await
    }

    /// New access token and a new refresh token for a session.
    async fn issue(&self, tx: &mut Conn, account_id: &str, session_id: &str, now: i64) -> Result<Tokens> {
        let policy = self.cab.session_policy();
        let refresh = codes::token();
        let digest = self.cab.codes().digest("refresh", "token", &refresh);
        store::insert_refresh_token(
            &mut *tx,
            digest,
            session_id,
            now,
            now.saturating_add(to_us(policy.absolute_timeout)),
        )
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
        let row = store::refresh_token(&mut *tx, &digest).await?.ok_or(SessionError::Invalid)?;
        let (session_id, account_id, patient_id) = (row.session_id, row.account_id, row.patient_id);
        let (used, expires, revoked, blocked) = (row.used_at, row.expires_at, row.revoked_at, row.blocked_at);
        let (last_used, session_end) = (row.last_used_at, row.session_expires_at);
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
        let claimed = store::claim_refresh_token(&mut *tx, &digest, now).await?;
        if used.is_some() || !claimed {
            // Reuse: someone holds an old copy. End the session for everyone.
            store::revoke_session(&mut *tx, &session_id, now).await?;
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
        store::touch_session(&mut *tx, &session_id, now).await?;
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
    let limit = match what {
        Failure::Password => MAX_PASSWORD_ATTEMPTS,
        Failure::SecondFactor => MAX_FACTOR_FAILURES,
    };
    let mut tx = cab.store().begin().await?;
    store::count_failure(&mut *tx, account_id, what, limit, now).await?;
    let blocked = store::blocked_at(&mut *tx, account_id).await?;
    if blocked.is_some() {
        store::cancel_login_steps(&mut *tx, account_id, now).await?;
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
        Some(sid) => store::revoke_account_session(&mut *tx, account_id, sid, now).await?,
        None => store::revoke_all_sessions(&mut *tx, account_id, now).await?,
    };
    if session_id.is_some() && done == 0 {
        return Err(Error::NotFound { entity: "session" });
    }
    // The device signed out no longer gets the person's push messages (R14).
    match session_id {
        Some(sid) => {
            if let Some(device) = store::session_device(&mut *tx, sid).await? {
                crate::notify::forget_push(&mut tx, account_id, Some(&device)).await?;
            }
        }
        None => crate::notify::forget_push(&mut tx, account_id, None).await?,
    }
    let patient = store::patient_of(&mut *tx, account_id).await?;
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
