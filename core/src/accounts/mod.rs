//! Accounts (R1): registration with every field validated, phone confirmed by a 6-digit SMS
//! code, e-mail by an activation token, terms version and time recorded.

use time::Date;

use crate::audit::{Actor, ActorKind, AuditContext};
use crate::auth::{AuthError, codes, password};
use crate::cabinet::Cabinet;
use crate::crypto::BlindIndexKind;
use crate::error::{Error, Result};
use crate::ids::{self, Reason, ValidationError};
use crate::integrations::Channel;
use crate::notify;
use crate::patients::NewPatient;
use crate::store::StorageError;
use crate::timeutil::to_micros;

mod reminders;
mod store;

pub(crate) use reminders::queue_password_reminders;

/// Lifetime of SMS and e-mail codes (≤ 10 minutes).
pub(crate) const CODE_TTL_US: i64 = 10 * 60 * 1_000_000;
/// Lifetime of an e-mail activation token.
const EMAIL_TOKEN_TTL_US: i64 = 24 * 3600 * 1_000_000;
/// Phone codes one registration can be sent (the first and the resends).
pub const MAX_CODES_PER_REGISTRATION: i64 = 5;
/// Wrong tries allowed per code.
pub(crate) const MAX_CODE_ATTEMPTS: i32 = 5;
/// A registration whose phone is not confirmed within this time is removed, and its phone
/// and e-mail can be registered again (1 hour).
pub const PENDING_TTL_US: i64 = 3600 * 1_000_000;

/// What a person enters to register (R1).
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Registration {
    /// Mobile phone (confirmed by SMS).
    pub phone: String,
    /// E-mail (confirmed by an activation token).
    pub email: String,
    /// Password meeting the policy (R4).
    pub password: String,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Patronymic, if any.
    pub patronymic: Option<String>,
    /// Birth date.
    pub birth_date: Date,
    /// `"male"` or `"female"`.
    pub sex: crate::ids::Sex,
    /// SNILS.
    pub snils: String,
    /// Version of the terms of use the person accepted.
    pub accepted_terms_version: String,
    /// INN (12 digits), optional: a login identifier once the identity is confirmed (R3).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub inn: Option<String>,
}

impl std::fmt::Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Registration(<personal data>)")
    }
}

/// A registration waiting for the SMS code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingRegistration {
    /// Pass it to `confirm_phone` with the code.
    pub id: String,
}

/// Registration and account confirmation.
#[derive(Debug, Clone)]
pub struct Accounts {
    cab: Cabinet,
}

fn anonymous() -> AuditContext {
    AuditContext {
        actor: Actor { kind: ActorKind::Anonymous, id: None, on_behalf_of: None },
        ip: None,
        device_id: None,
    }
}

impl Accounts {
    pub(crate) fn new(cab: Cabinet) -> Self {
        Accounts { cab }
    }

    /// Validates every field, creates the person's own (provisional) patient record and a
    /// pending account, and sends a 6-digit confirmation code by SMS.
    ///
    /// Never reveals who is registered (issue 11, class 8): when the phone belongs to an
    /// account the answer looks the same (a registration id; its code goes nowhere, as the
    /// phone is not the registrant's); when only the e-mail does, the registration goes on as
    /// any other but does not claim the e-mail. Either way the owner gets a notice. A
    /// registration left unconfirmed for [`PENDING_TTL_US`] gives its phone and e-mail back.
    /// The SNILS entered is not looked up or claimed here: the record is joined to what the
    /// clinics hold only once the registry confirms the identity (R2, S5).
    pub async fn register(&self, r: Registration) -> Result<PendingRegistration> {
        let phone = ids::phone(&r.phone)?;
        let email = ids::email(&r.email)?;
        let snils = ids::snils(&r.snils)?;
        let inn = optional_inn(r.inn.as_deref())?;
        if r.accepted_terms_version.trim().is_empty() {
            return Err(ValidationError::new("terms", Reason::Empty).into());
        }
        let terms = crate::directory::text_field("terms", &r.accepted_terms_version, 64)?;
        let new = NewPatient {
            surname: r.surname.clone(),
            given_name: r.given_name.clone(),
            patronymic: r.patronymic.clone(),
            birth_date: r.birth_date,
            sex: r.sex,
            snils: Some(snils.clone()),
            inn: inn.clone(),
            oms_policy: None,
            phone: Some(phone.clone()),
            email: Some(email.clone()),
        };
        let now_dt = self.cab.now();
        crate::patients::check_new(&new, now_dt.date())?;
        let birth = r.birth_date.to_string();
        let personal = [
            r.surname.as_str(),
            r.given_name.as_str(),
            r.patronymic.as_deref().unwrap_or(""),
            &birth,
            &phone,
            &email,
            &snils,
            inn.as_deref().unwrap_or(""),
        ];
        password::check_policy(&r.password, &personal)?;
        let hash = self.cab.passwords().hash(r.password.clone()).await?;

        let now = to_micros(now_dt);
        let bidx = self.cab.blind_indexer();
        let (phone_idx, email_idx) =
            (bidx.index(BlindIndexKind::Phone, &phone), bidx.index(BlindIndexKind::Email, &email));
        let mut tx = self.cab.store().begin().await?;
        purge_stale_pending(&self.cab, &mut tx, now).await?;
        let phone_holder = store::holder_of_phone(&mut *tx, &phone_idx).await?;
        let email_holder = store::holder_of_email(&mut *tx, &email_idx).await?;
        // The owners of a taken phone or e-mail hear of the attempt; the answer never says.
        let mut outbox = Vec::new();
        for holder in [&phone_holder, &email_holder].into_iter().flatten() {
            if let (Some(patient), "active") = (&holder.patient_id, holder.status.as_str()) {
                outbox.extend(
                    notify::patient_event(&self.cab, &mut tx, patient, "registration_attempt", &[], now).await?,
                );
            }
        }
        if phone_holder.is_some() {
            // The phone is taken: a decoy registration whose code nobody receives (the phone
            // is not the registrant's; its owner gets the notice), so confirming it fails like
            // a wrong code.
            let decoy = uuid::Uuid::new_v4().to_string();
            store_code(&self.cab, &mut tx, "phone_confirmation", &decoy, &codes::generate(6), now + CODE_TTL_US)
                .await?;
            tx.commit().await.map_err(StorageError::from_sqlx)?;
            notify::deliver_all(&self.cab, outbox).await?;
            return Ok(PendingRegistration { id: decoy });
        }
        // Only the e-mail is taken: the registration goes on as any other (the code goes to the
        // phone), but does not claim the e-mail as a login identifier; its owner keeps it, and
        // the activation link goes to a mailbox the registrant does not hold.
        let email_idx = if email_holder.is_some() { None } else { Some(email_idx) };
        let patient_id = crate::patients::Patients::new(self.cab.clone(), anonymous())
            .insert_provisional(&mut tx, &new, now_dt)
            .await?;
        let account_id = uuid::Uuid::new_v4().to_string();
        let account = store::NewAccount {
            id: &account_id,
            patient_id: &patient_id,
            phone_bidx: phone_idx,
            email_bidx: email_idx,
            snils_bidx: None,
            inn_bidx: None,
            password_hash: &hash,
            terms_version: &terms,
            locale: self.cab.locale().tag(),
            now,
        };
        let inserted = store::insert(&mut *tx, account, false).await;
        if let Err(e) = &inserted
            && e.unique_violation()
        {
            // Another registration took the phone or e-mail a moment ago: the same answer.
            return Ok(PendingRegistration { id: uuid::Uuid::new_v4().to_string() });
        }
        inserted?;
        let code = codes::generate(6);
        store_code(&self.cab, &mut tx, "phone_confirmation", &account_id, &code, now + CODE_TTL_US).await?;
        let msg = self.cab.message(Some(&patient_id), "phone_confirmation", Channel::Sms, &phone, Some(&code));
        outbox.push(self.cab.outbox().enqueue(&mut tx, &msg, now).await?);
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        notify::deliver_all(&self.cab, outbox).await?;
        Ok(PendingRegistration { id: account_id })
    }

    /// Sends a new phone confirmation code for a pending registration (the old one stops
    /// working) — for a code that expired or never arrived. At most
    /// [`MAX_CODES_PER_REGISTRATION`] codes per registration (`code.limit` after that).
    pub async fn resend_phone_code(&self, registration_id: &str) -> Result<()> {
        let now = to_micros(self.cab.now());
        let mut tx = self.cab.store().begin().await?;
        let account = store::account(&mut *tx, registration_id).await?;
        let patient_id = match account {
            Some(a) if a.status == "pending" => Some(a.patient_id),
            Some(_) => return Err(Error::NotFound { entity: "registration" }),
            None => None,
        };
        let sent = store::codes_issued(&mut *tx, registration_id, "phone_confirmation").await?;
        let patient_id = match patient_id.flatten() {
            Some(p) => p,
            // A decoy registration (the phone was taken) resends like a real one.
            None if sent > 0 && sent < MAX_CODES_PER_REGISTRATION => {
                store_code(
                    &self.cab,
                    &mut tx,
                    "phone_confirmation",
                    registration_id,
                    &codes::generate(6),
                    now + CODE_TTL_US,
                )
                .await?;
                tx.commit().await.map_err(StorageError::from_sqlx)?;
                return Ok(());
            }
            None if sent > 0 => return Err(Error::Conflict { code: "code.limit" }),
            None => return Err(Error::NotFound { entity: "registration" }),
        };
        if sent >= MAX_CODES_PER_REGISTRATION {
            return Err(Error::Conflict { code: "code.limit" });
        }
        store::retire_codes(&mut *tx, registration_id, "phone_confirmation", now).await?;
        let ctx = AuditContext {
            actor: Actor { kind: ActorKind::Patient, id: Some(registration_id.to_owned()), on_behalf_of: None },
            ..anonymous()
        };
        let patient = crate::patients::Patients::new(self.cab.clone(), ctx).read_in(&mut tx, &patient_id, now).await?;
        let code = codes::generate(6);
        store_code(&self.cab, &mut tx, "phone_confirmation", registration_id, &code, now + CODE_TTL_US).await?;
        let phone = patient.phone.unwrap_or_default();
        let msg = self.cab.message(Some(&patient_id), "phone_confirmation", Channel::Sms, &phone, Some(&code));
        let out = self.cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        notify::deliver(&self.cab, &out).await?;
        Ok(())
    }

    /// Confirms the phone with the SMS code: the account becomes active and an e-mail
    /// activation token is sent. Returns the account id.
    pub async fn confirm_phone(&self, registration_id: &str, code: &str) -> Result<String> {
        let now = to_micros(self.cab.now());
        check_code(&self.cab, "phone_confirmation", registration_id, code, now).await?;
        let mut tx = self.cab.store().begin().await?;
        let patient_id = store::pending_patient(&mut *tx, registration_id).await?.ok_or(AuthError::CodeExpired)?;
        store::activate(&mut *tx, registration_id, now).await?;
        let ctx = AuditContext {
            actor: Actor { kind: ActorKind::Patient, id: Some(registration_id.to_owned()), on_behalf_of: None },
            ..anonymous()
        };
        let patient = crate::patients::Patients::new(self.cab.clone(), ctx).read_in(&mut tx, &patient_id, now).await?;
        let token = codes::token();
        store_code(&self.cab, &mut tx, "email_confirmation", registration_id, &token, now + EMAIL_TOKEN_TTL_US).await?;
        let email = patient.email.unwrap_or_default();
        let msg = self.cab.message(Some(&patient_id), "email_confirmation", Channel::Email, &email, Some(&token));
        let out = self.cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        notify::deliver(&self.cab, &out).await?;
        Ok(registration_id.to_owned())
    }

    /// Starts password recovery (R4): a code goes by `"sms"` or `"email"`. Returns a
    /// recovery id whether or not the identifier matched an account.
    pub async fn start_recovery(&self, identifier: &str, channel: Channel) -> Result<String> {
        crate::auth::recovery::start(&self.cab, identifier, channel).await
    }

    /// Completes recovery with the code and a new password; lifts the lock and signs out
    /// every session. With TOTP enrolled, `second_factor_code` (a TOTP or recovery code) is
    /// required too.
    pub async fn complete_recovery(
        &self,
        recovery_id: &str,
        code: &str,
        new_password: &str,
        second_factor_code: Option<&str>,
    ) -> Result<()> {
        crate::auth::recovery::complete(&self.cab, recovery_id, code, new_password, second_factor_code).await
    }

    /// Confirms the e-mail address with the activation token from the e-mail.
    pub async fn confirm_email(&self, token: &str) -> Result<()> {
        let now = to_micros(self.cab.now());
        let digest = self.cab.codes().digest("email_confirmation", "token", token);
        let mut tx = self.cab.store().begin().await?;
        let token = store::email_token(&mut *tx, &digest).await?.ok_or(AuthError::InvalidCode)?;
        if token.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
        if !store::use_code_by_digest(&mut *tx, &digest, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        store::confirm_email(&mut *tx, &token.owner_id, now).await?;
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }
}

/// Removes registrations left pending past [`PENDING_TTL_US`] (their provisional records
/// erased), in the caller's transaction: nobody can squat a phone or e-mail by starting a
/// registration they cannot finish. Also run by `run_due_jobs`. Returns how many.
pub(crate) async fn purge_stale_pending(cab: &Cabinet, tx: &mut crate::store::Conn, now: i64) -> Result<u64> {
    let stale = store::stale_pending(&mut *tx, now.saturating_sub(PENDING_TTL_US)).await?;
    let people = crate::patients::Patients::new(cab.clone(), AuditContext::system());
    for account in &stale {
        store::delete_codes_of(&mut *tx, &account.id).await?;
        store::delete_pending(&mut *tx, &account.id).await?;
        if let Some(patient_id) = &account.patient_id {
            people.erase_in(tx, patient_id, now).await?;
        }
    }
    Ok(stale.len() as u64)
}

/// The job form of [`purge_stale_pending`], in a transaction of its own.
pub(crate) async fn purge_pending(cab: &Cabinet) -> Result<u64> {
    let mut tx = cab.store().begin().await?;
    let purged = purge_stale_pending(cab, &mut tx, to_micros(cab.now())).await?;
    tx.commit().await.map_err(StorageError::from_sqlx)?;
    Ok(purged)
}

/// Stores a code's keyed digest. Tokens (long random strings) are digested with the owner
/// `"token"` so they can be looked up by value; short codes are bound to their owner.
pub(crate) async fn store_code(
    cab: &Cabinet,
    conn: &mut crate::store::Conn,
    purpose: &str,
    owner: &str,
    code: &str,
    expires: i64,
) -> Result<()> {
    let bound_owner = if code.len() > 12 { "token" } else { owner };
    // A new code replaces older unused ones for the same purpose.
    store::retire_codes(&mut *conn, owner, purpose, expires - CODE_TTL_US).await?;
    store::insert_code(conn, purpose, owner, cab.codes().digest(purpose, bound_owner, code), expires).await?;
    Ok(())
}

/// Checks a short code for `owner` in a transaction of its own, so that a wrong try is
/// counted (and a right one consumed) even if the caller's work then fails: expiry, at most
/// 5 tries, single use.
pub(crate) async fn check_code(cab: &Cabinet, purpose: &str, owner: &str, code: &str, now: i64) -> Result<()> {
    let mut tx = cab.store().begin().await?;
    let row = store::latest_code(&mut *tx, owner, purpose).await?.ok_or(AuthError::CodeExpired)?;
    if row.expires_at <= now {
        return Err(AuthError::CodeExpired.into());
    }
    if row.attempts >= MAX_CODE_ATTEMPTS {
        return Err(AuthError::TooManyAttempts.into());
    }
    let right = cab.codes().matches(purpose, owner, code, &row.digest);
    let used = if right {
        store::use_code(&mut *tx, &row.id, now).await?
    } else {
        store::count_code_try(&mut *tx, &row.id).await?;
        false
    };
    tx.commit().await.map_err(StorageError::from_sqlx)?;
    match (right, used) {
        (true, true) => Ok(()),
        (true, false) => Err(AuthError::CodeExpired.into()),
        (false, _) => Err(AuthError::InvalidCode.into()),
    }
}

/// An account migrated from an existing hospital system (API: `sys.accounts.import_account`).
#[derive(Clone, PartialEq)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct LegacyAccount {
    /// Mobile phone (taken as confirmed by the old system).
    pub phone: String,
    /// E-mail.
    pub email: Option<String>,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Patronymic.
    pub patronymic: Option<String>,
    /// Birth date.
    pub birth_date: Date,
    /// `"male"` or `"female"`.
    pub sex: crate::ids::Sex,
    /// SNILS.
    pub snils: String,
    /// The old system's hash: Argon2id PHC (`$argon2id$…`) or bcrypt `$2a$`/`$2b$`/`$2y$`
    /// (cost 4–31). Both are replaced by Argon2id with the cabinet's parameters on the next
    /// successful login.
    pub password_hash: String,
    /// INN (12 digits), optional: a login identifier from the start, as the SNILS (R3).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub inn: Option<String>,
}

impl std::fmt::Debug for LegacyAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LegacyAccount(<personal data>)")
    }
}

/// A person's INN when one is entered (blank is none).
fn optional_inn(inn: Option<&str>) -> Result<Option<String>> {
    match inn.map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => Ok(Some(crate::patients::person_inn(v)?)),
    }
}

/// What an operator learns about one imported account (R4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash, str))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportedAccount {
    /// The new account's id.
    pub account_id: String,
    /// `"bcrypt"` or `"argon2id"`.
    pub hash_algorithm: String,
    /// The old hash is below today's minimum (bcrypt cost under 10; Argon2id under OWASP's
    /// memory × passes): it still signs its owner in — and is replaced at that first login —
    /// but an operator may want to force a password reset before then.
    pub weak_hash: bool,
}

/// The account id, so code that used the id `import_account` returned keeps working.
impl std::fmt::Display for ImportedAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.account_id)
    }
}

/// bcrypt's cost bounds: every cost a bcrypt implementation can have made (4–31).
const BCRYPT_COSTS: std::ops::RangeInclusive<u32> = 4..=31;
/// Below this cost a bcrypt hash is weak (OWASP's minimum).
const BCRYPT_WEAK_BELOW: u32 = 10;
/// Argon2id bounds a verification must stay within (memory in KiB, passes, lanes): 256 MiB
/// × 10 passes is far above any deployed setting; a hash asking more would let each login
/// attempt take the server's memory and seconds of CPU.
const ARGON2_MAX_MEMORY_KIB: u32 = 256 * 1024;
const ARGON2_MAX_PASSES: u32 = 10;
const ARGON2_MAX_LANES: u32 = 8;
/// OWASP's Argon2id settings (19 MiB × 2 … 7 MiB × 5) all cost at least this memory × passes.
const ARGON2_WEAK_BELOW_COST: u64 = 7 * 1024 * 5;

/// Checks an imported hash's shape and bounds without trusting it further: `None` when it is
/// refused, else whether it is weak. bcrypt `$2a$`/`$2b$`/`$2y$` with any cost 4–31 and a
/// 53-character salt and digest; Argon2id v19 within the bounds above.
fn legacy_hash_strength(hash: &str) -> Option<(&'static str, bool)> {
    if hash.starts_with("$argon2id$") {
        let parsed = argon2::PasswordHash::new(hash).ok()?;
        let params = argon2::Params::try_from(&parsed).ok()?;
        let (m, t, p) = (params.m_cost(), params.t_cost(), params.p_cost());
        if parsed.version != Some(19) || parsed.hash.is_none() || parsed.salt.is_none() {
            return None;
        }
        if m > ARGON2_MAX_MEMORY_KIB || t > ARGON2_MAX_PASSES || p > ARGON2_MAX_LANES {
            return None;
        }
        return Some(("argon2id", u64::from(m) * u64::from(t) < ARGON2_WEAK_BELOW_COST));
    }
    let rest = hash.strip_prefix("$2a$").or_else(|| hash.strip_prefix("$2b$")).or_else(|| hash.strip_prefix("$2y$"))?;
    let cost = rest.get(..2).filter(|c| c.bytes().all(|b| b.is_ascii_digit()))?.parse::<u32>().ok()?;
    let body = rest.get(3..)?;
    let alphabet = |b: u8| b.is_ascii_alphanumeric() || b == b'.' || b == b'/';
    let shaped = hash.len() == 60 && rest.as_bytes().get(2) == Some(&b'$') && body.bytes().all(alphabet);
    (shaped && BCRYPT_COSTS.contains(&cost)).then_some(("bcrypt", cost < BCRYPT_WEAK_BELOW))
}

impl Accounts {
    /// Imports an account from an existing system: creates the patient record and an active
    /// account with the old password hash (operator only; journaled as the system).
    pub(crate) async fn import(&self, legacy: LegacyAccount) -> Result<ImportedAccount> {
        let Some((algorithm, weak)) = legacy_hash_strength(&legacy.password_hash) else {
            return Err(ValidationError::new("password_hash", Reason::Format).into());
        };
        let phone = ids::phone(&legacy.phone)?;
        let snils = ids::snils(&legacy.snils)?;
        let email = legacy.email.as_deref().map(ids::email).transpose()?;
        let inn = optional_inn(legacy.inn.as_deref())?;
        let new = NewPatient {
            surname: legacy.surname.clone(),
            given_name: legacy.given_name.clone(),
            patronymic: legacy.patronymic.clone(),
            birth_date: legacy.birth_date,
            sex: legacy.sex,
            snils: Some(snils.clone()),
            inn: inn.clone(),
            oms_policy: None,
            phone: Some(phone.clone()),
            email: email.clone(),
        };
        let now_dt = self.cab.now();
        crate::patients::check_new(&new, now_dt.date())?;
        let now = to_micros(now_dt);
        let bidx = self.cab.blind_indexer();
        let mut tx = self.cab.store().begin().await?;
        let patient_id = crate::patients::Patients::new(self.cab.clone(), AuditContext::system())
            .insert(&mut tx, &new, now_dt)
            .await?;
        let account_id = uuid::Uuid::new_v4().to_string();
        let account = store::NewAccount {
            id: &account_id,
            patient_id: &patient_id,
            phone_bidx: bidx.index(BlindIndexKind::Phone, &phone),
            email_bidx: email.as_deref().map(|e| bidx.index(BlindIndexKind::Email, e)),
            snils_bidx: Some(bidx.index(BlindIndexKind::Snils, &snils)),
            inn_bidx: inn.as_deref().map(|i| bidx.index(BlindIndexKind::Inn, i)),
            password_hash: &legacy.password_hash,
            terms_version: "imported",
            locale: self.cab.locale().tag(),
            now,
        };
        let inserted = store::insert(&mut *tx, account, true).await;
        match inserted {
            Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "account.exists" }),
            other => other?,
        };
        tx.commit().await.map_err(StorageError::from_sqlx)?;
        Ok(ImportedAccount { account_id, hash_algorithm: algorithm.to_owned(), weak_hash: weak })
    }
}
