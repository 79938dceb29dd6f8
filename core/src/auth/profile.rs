//! The person's own personal data (R18): read it, change a detail confirmed by an SMS code
//! to the current phone, and see the history of changes. Changing the phone or e-mail (login
//! identifiers) needs a recent sign-in (ASVS 7.5.1: re-authentication) and notifies the old
//! contact.

use super::confirm::{self, Method};
use super::identity::IdentityError;
use super::store::{self, LoginContact};
use super::{AuthError, codes};
use crate::crypto::Aad;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::integrations::Channel;
use crate::integrations::ConfirmationRequest;
use crate::me::Me;
use crate::notify;
use crate::patients::{Patient, Patients, ProfileChange, ProfileField};
use crate::store::StorageError;
use crate::timeutil::to_micros;

/// A sign-in at most this old counts as recent for contact changes.
pub(crate) const REAUTH_WINDOW_US: i64 = 15 * 60 * 1_000_000;

fn aad(id: &str) -> Aad<'_> {
    Aad { table: "pending_changes", record_id: id, field: "value", patient_id: "" }
}

/// Key data that is missing or inconsistent (R19), with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct MissingItem {
    /// Stable code: `clinic_card_mismatch`, `oms_policy_missing`, `insurer_missing`,
    /// `attachment_missing`, `results_missing`, `identity_unconfirmed`, `email_unconfirmed`.
    pub code: String,
    /// What to do, in the cabinet's language.
    pub what_to_do: String,
    /// The call that fixes it, e.g. `me.profile.request_change("oms_policy")`.
    pub call: String,
}

/// A change waiting for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ChangeRequest {
    /// Pass to `confirm_change` with the code or proof.
    pub id: String,
    /// The field being changed (its stable name).
    pub field: String,
    /// How it is confirmed: `"sms"` (the code sent) or the host method chosen.
    pub method: String,
    /// When the request lapses unconfirmed (UTC).
    pub expires_at: time::OffsetDateTime,
}

/// The request a host method confirms for a profile change.
fn host_request(id: &str, method: &str, patient_id: &str, field: ProfileField, value: &str) -> ConfirmationRequest {
    ConfirmationRequest {
        id: id.to_owned(),
        method: method.to_owned(),
        patient_id: patient_id.to_owned(),
        purpose: "profile_change".to_owned(),
        subject: field.name().to_owned(),
        challenge: confirm::challenge(id, "profile_change", field.name(), value),
    }
}

/// The signed-in person's personal data.
#[derive(Debug, Clone)]
pub struct Profile {
    pub(crate) me: Me,
}

impl Profile {
    fn patients(&self) -> Patients {
        Patients::new(self.me.cabinet().clone(), self.me.audit_context().clone())
    }

    /// The person's own details (journaled as read by them).
    pub async fn get(&self) -> Result<Patient> {
        self.me.check_session().await?;
        self.patients().get(self.me.patient_id()?).await
    }

    /// Asks to change `field` to `value` (R18): `surname`, `given_name`, `patronymic`,
    /// `phone`, `email`, `inn`, `oms_policy`, `insurer`, `passport`, `address`,
    /// `actual_address`, `snils`, `birth_date` (see [`ProfileField`]).
    ///
    /// A new phone or e-mail is proved by a code sent to it, after a recent sign-in. Other
    /// fields are confirmed by `method`: `None` or `"sms"` sends a code to the current phone;
    /// a method the host's `Confirmer` offers (`"esignature"`, `"app_code"`) is started there.
    /// A new SNILS or birth date is first checked with the identity registry
    /// (`identity.mismatch` when it does not confirm; nothing is sent then).
    pub async fn request_change(&self, field: &str, value: &str, method: Option<&str>) -> Result<ChangeRequest> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let field = ProfileField::parse(field)?;
        let value = field.normalize(value, cab.now().date())?;
        let now = to_micros(cab.now());
        let method = if field.is_contact() {
            if !matches!(method.map(str::trim), None | Some("") | Some(confirm::SMS)) {
                // A contact proves itself: only a code sent to it shows the person holds it.
                return Err(ValidationError::new("method", Reason::UnknownValue).into());
            }
            let started = store::session_started(cab.store().pool(), self.me.session_id()).await?;
            if started + REAUTH_WINDOW_US < now {
                return Err(AuthError::ReauthenticationRequired.into());
            }
            Method::Sms
        } else {
            confirm::choose(cab, method).await?
        };
        let patient_id = self.me.patient_id()?.to_owned();
        if field.needs_registry() {
            self.check_with_registry(field, &value, now).await?;
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = cab.credentials().seal(&aad(&id), value.as_bytes())?;
        let mut tx = cab.store().begin().await?;
        let change = store::NewPendingChange {
            id: &id,
            account_id: self.me.account_id(),
            field: field.name(),
            value: sealed,
            method: method.name(),
            now,
            expires_at: now + crate::accounts::CODE_TTL_US,
        };
        store::insert_pending_change(&mut *tx, change).await?;
        let request = ChangeRequest {
            id: id.clone(),
            field: field.name().to_owned(),
            method: method.name().to_owned(),
            expires_at: crate::timeutil::from_micros(now + crate::accounts::CODE_TTL_US)?,
        };
        let Method::Host(method) = method else {
            let code = codes::generate(6);
            crate::accounts::store_code(cab, &mut tx, "profile_change", &id, &code, now + crate::accounts::CODE_TTL_US)
                .await?;
            let person = self.patients().read_in(&mut tx, &patient_id, now).await?;
            // A new phone or e-mail proves itself: the code goes to it (so nobody can take, or
            // probe, a contact they do not hold); other details are confirmed from the phone.
            let (channel, to) = match field {
                ProfileField::Phone => (Channel::Sms, value.clone()),
                ProfileField::Email => (Channel::Email, value.clone()),
                _ => (Channel::Sms, person.phone.clone().unwrap_or_default()),
            };
            let msg = cab.message(Some(&patient_id), "profile_change", channel, &to, Some(&code));
            let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
            tx.commit().await?;
            notify::deliver(cab, &out).await?;
            return Ok(request);
        };
        tx.commit().await?;
        confirm::start(cab, host_request(&id, &method, &patient_id, field, &value)).await?;
        Ok(request)
    }

    /// Checks a new SNILS or birth date with the identity registry, with the person's other
    /// details as they are; a "no" is journaled and refused with `identity.mismatch`.
    async fn check_with_registry(&self, field: ProfileField, value: &str, now: i64) -> Result<()> {
        let cab = self.me.cabinet();
        let registry = cab.identity_registry().ok_or(IdentityError::NoRegistry)?.clone();
        let person = self.get().await?;
        let mut request = crate::integrations::RegistryRequest {
            method: crate::integrations::IdentityMethod::Sms,
            surname: person.surname.clone(),
            given_name: person.given_name.clone(),
            patronymic: person.patronymic.clone(),
            birth_date: person.birth_date,
            snils: person.snils.clone(),
            oms_policy: person.oms_policy.clone(),
            phone: person.phone.clone(),
        };
        match field {
            ProfileField::Snils => request.snils = Some(value.to_owned()),
            _ => {
                request.birth_date =
                    time::Date::parse(value, time::macros::format_description!("[year]-[month]-[day]"))
                        .map_err(|_| ValidationError::new("birth_date", Reason::Format))?;
            }
        }
        let answer = tokio::task::spawn_blocking(move || registry.check(&request))
            .await
            .map_err(|_| IdentityError::RegistryUnavailable)?
            .map_err(|_| IdentityError::RegistryUnavailable)?;
        let mut tx = cab.store().begin().await?;
        let what = crate::audit::Access {
            patient_id: Some(&person.id),
            action: crate::audit::Action::Read,
            resource_type: "identity_registry",
            resource_id: Some(field.name()),
        };
        let outcome = if answer.matched { crate::audit::Outcome::Success } else { crate::audit::Outcome::Failure };
        cab.journal().record(&mut tx, self.me.audit_context(), what, outcome, now).await?;
        tx.commit().await?;
        if answer.matched { Ok(()) } else { Err(IdentityError::Mismatch.into()) }
    }

    /// Applies a requested change with its proof — the code for `"sms"`, or what the host's
    /// method asks for (a signature, an app code). The old value is kept in the history. A
    /// new INN or SNILS becomes a login identifier once the identity is confirmed; one that
    /// another account already holds is a `Conflict("identity.claimed")`.
    pub async fn confirm_change(&self, change_id: &str, code: &str) -> Result<()> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let now = to_micros(cab.now());
        let row = store::pending_change(cab.store().pool(), change_id, self.me.account_id())
            .await?
            .ok_or(Error::NotFound { entity: "change_request" })?;
        if row.applied_at.is_some() || row.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
        let field = ProfileField::parse(&row.field)?;
        let method = Method::from_stored(&row.method);
        let patient_id = self.me.patient_id()?.to_owned();
        let value = String::from_utf8(cab.credentials().open(&aad(change_id), &row.value)?.to_vec())
            .map_err(|_| StorageError::Corrupt("pending change"))?;
        match &method {
            Method::Sms => crate::accounts::check_code(cab, "profile_change", change_id, code, now).await?,
            Method::Host(name) => {
                let max = crate::accounts::MAX_CODE_ATTEMPTS;
                if !store::take_proof_attempt(cab.store().pool(), change_id, max).await? {
                    return Err(AuthError::CodeExpired.into());
                }
                let request = host_request(change_id, name, &patient_id, field, &value);
                if !confirm::verify(cab, request, code.to_owned()).await? {
                    return Err(AuthError::InvalidCode.into());
                }
            }
        }
        let confirmed_by =
            if field.needs_registry() { format!("registry+{}", method.name()) } else { method.name().to_owned() };
        // Identifiers are keys once the registry confirmed the person — or when the account
        // came indexed from the old system (imported): then the keys must follow the change.
        let pool = cab.store().pool();
        let indexed = store::confirmations(pool, self.me.account_id()).await?.identity_confirmed_at.is_some()
            || store::login_indexed(pool, self.me.account_id()).await?;
        let mut tx = cab.store().begin().await?;
        if !store::claim_pending_change(&mut *tx, change_id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        let old =
            self.patients().update_field(&mut tx, &patient_id, field, &value, &confirmed_by, indexed, now).await?;
        let bidx = cab.blind_indexer();
        use crate::crypto::BlindIndexKind as K;
        let login_update = match field {
            ProfileField::Phone => Some((LoginContact::Phone, bidx.index(K::Phone, &value))),
            ProfileField::Email => Some((LoginContact::Email, bidx.index(K::Email, &value))),
            ProfileField::Inn if indexed => Some((LoginContact::Inn, bidx.index(K::Inn, &value))),
            ProfileField::Snils if indexed => Some((LoginContact::Snils, bidx.index(K::Snils, &value))),
            _ => None,
        };
        if let Some((contact, index)) = login_update {
            let done = store::set_login_contact(&mut *tx, self.me.account_id(), contact, index).await;
            match done {
                Err(e) if e.unique_violation() && field.is_contact() => {
                    return Err(Error::Conflict { code: "account.exists" });
                }
                Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "identity.claimed" }),
                other => other?,
            };
        }
        let mut outbox = None;
        // The old contact hears about it: a hijacker cannot change it silently.
        let channel = match field {
            ProfileField::Phone => Some(Channel::Sms),
            ProfileField::Email => Some(Channel::Email),
            _ => None,
        };
        if field == ProfileField::Email {
            // The code reached the new address: it is confirmed.
            store::mark_email_confirmed(&mut *tx, self.me.account_id(), now).await?;
        }
        if let (Some(channel), Some(old)) = (channel, old) {
            let msg = cab.message(Some(&patient_id), "contact_changed", channel, &old, None);
            outbox = Some(cab.outbox().enqueue(&mut tx, &msg, now).await?);
        }
        tx.commit().await?;
        if let Some(o) = outbox {
            notify::deliver(cab, &o).await?;
        }
        Ok(())
    }

    /// What key data is missing or inconsistent, with the steps to fix it (R19): no OMS
    /// policy, no clinic attachment, no visits or results loaded, identity or e-mail not
    /// confirmed. An empty list means the cabinet is complete.
    pub async fn completeness(&self) -> Result<Vec<MissingItem>> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let person = self.get().await?;
        let patient_id = person.id.clone();
        let pool = cab.store().pool();
        let attached = store::is_attached(pool, &patient_id).await?;
        let results = store::has_results(pool, &patient_id).await?;
        let confirmed = store::confirmations(pool, self.me.account_id()).await?;
        let (identity, email) = (confirmed.identity_confirmed_at, confirmed.email_confirmed_at);
        let mut out = Vec::new();
        let card_differs = crate::staff::cards_differ(&self.me, &person).await?;
        let checks = [
            (card_differs, "clinic_card_mismatch", "me.requests.create"),
            (person.oms_policy.is_none(), "oms_policy_missing", "me.profile.request_change(\"oms_policy\")"),
            (
                person.oms_policy.is_some() && person.insurer.is_none(),
                "insurer_missing",
                "me.profile.request_change(\"insurer\")",
            ),
            (!attached, "attachment_missing", "me.attachment.attach"),
            (!results, "results_missing", "me.requests.create"),
            (identity.is_none(), "identity_unconfirmed", "me.identity.confirm"),
            (email.is_none() && person.email.is_some(), "email_unconfirmed", "me.profile.request_change(\"email\")"),
        ];
        for (missing, code, call) in checks {
            if missing {
                out.push(MissingItem {
                    code: code.to_owned(),
                    what_to_do: crate::i18n::text(cab.locale(), &format!("completeness.{code}")).to_owned(),
                    call: call.to_owned(),
                });
            }
        }
        Ok(out)
    }

    /// Sets the language of the person's notifications (`"ru"` or `"en"`; R17).
    pub async fn set_locale(&self, tag: &str) -> Result<()> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_id()?.to_owned();
        let locale = crate::i18n::Locale::parse(tag).ok_or(crate::config::ConfigError::Locale)?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        store::set_locale(&mut *tx, self.me.account_id(), locale.tag()).await?;
        let what = crate::audit::Access {
            patient_id: Some(&patient_id),
            action: crate::audit::Action::Update,
            resource_type: "account_locale",
            resource_id: Some(self.me.account_id()),
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, crate::audit::Outcome::Success, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Applied changes, newest first.
    pub async fn history(&self) -> Result<Vec<ProfileChange>> {
        self.me.check_session().await?;
        self.patients().change_history(self.me.patient_id()?).await
    }
}
