//! The person's own personal data (R18): read it, change a detail confirmed by an SMS code
//! to the current phone, and see the history of changes. Changing the phone or e-mail (login
//! identifiers) needs a recent sign-in (ASVS 7.5.1: re-authentication) and notifies the old
//! contact.

use super::store::{self, LoginContact};
use super::{AuthError, codes};
use crate::crypto::Aad;
use crate::error::{Error, Result};
use crate::integrations::Channel;
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
    /// Stable code: `oms_policy_missing`, `attachment_missing`, `results_missing`,
    /// `identity_unconfirmed`, `email_unconfirmed`.
    pub code: String,
    /// What to do, in the cabinet's language.
    pub what_to_do: String,
}

/// A change waiting for its SMS code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ChangeRequest {
    /// Pass to `confirm_change` with the code.
    pub id: String,
    /// The field being changed.
    pub field: String,
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

    /// Asks to change `field` (`surname`, `given_name`, `patronymic`, `phone`, `email`) to
    /// `value`; the code goes to the new phone or e-mail for those, else by SMS to the
    /// current phone.
    pub async fn request_change(&self, field: &str, value: &str) -> Result<ChangeRequest> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let field = ProfileField::parse(field)?;
        let value = field.normalize(value)?;
        let now = to_micros(cab.now());
        if matches!(field, ProfileField::Phone | ProfileField::Email) {
            let started = store::session_started(cab.store().pool(), self.me.session_id()).await?;
            if started + REAUTH_WINDOW_US < now {
                return Err(AuthError::ReauthenticationRequired.into());
            }
        }
        let id = uuid::Uuid::new_v4().to_string();
        let sealed = cab.credentials().seal(&aad(&id), value.as_bytes())?;
        let mut tx = cab.store().begin().await?;
        let change = store::NewPendingChange {
            id: &id,
            account_id: self.me.account_id(),
            field: field.column(),
            value: sealed,
            now,
            expires_at: now + crate::accounts::CODE_TTL_US,
        };
        store::insert_pending_change(&mut *tx, change).await?;
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "profile_change", &id, &code, now + crate::accounts::CODE_TTL_US)
            .await?;
        let person = self.patients().read_in(&mut tx, self.me.patient_id()?, now).await?;
        // A new phone or e-mail proves itself: the code goes to it (so nobody can take, or
        // probe, a contact they do not hold); other details are confirmed from the phone.
        let (channel, to) = match field {
            ProfileField::Phone => (Channel::Sms, value.clone()),
            ProfileField::Email => (Channel::Email, value.clone()),
            _ => (Channel::Sms, person.phone.clone().unwrap_or_default()),
        };
        let msg = cab.message(Some(self.me.patient_id()?), "profile_change", channel, &to, Some(&code));
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        notify::deliver(cab, &out).await?;
        Ok(ChangeRequest { id, field: field.column().to_owned() })
    }

    /// Applies a requested change with its SMS code; the old value is kept in the history.
    pub async fn confirm_change(&self, change_id: &str, code: &str) -> Result<()> {
        self.me.check_session().await?;
        let cab = self.me.cabinet();
        let now = to_micros(cab.now());
        let row = store::pending_change(cab.store().pool(), change_id, self.me.account_id())
            .await?
            .ok_or(Error::NotFound { entity: "change_request" })?;
        let (field, sealed, expires, applied) = (row.field, row.value, row.expires_at, row.applied_at);
        if applied.is_some() || expires <= now {
            return Err(AuthError::CodeExpired.into());
        }
        crate::accounts::check_code(cab, "profile_change", change_id, code, now).await?;
        let field = ProfileField::parse(&field)?;
        let value = String::from_utf8(cab.credentials().open(&aad(change_id), &sealed)?.to_vec())
            .map_err(|_| StorageError::Corrupt("pending change"))?;
        let mut tx = cab.store().begin().await?;
        if !store::claim_pending_change(&mut *tx, change_id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        let old = self.patients().update_field(&mut tx, self.me.patient_id()?, field, &value, "sms", now).await?;
        let bidx = cab.blind_indexer();
        let login_update = match field {
            ProfileField::Phone => {
                Some((LoginContact::Phone, bidx.index(crate::crypto::BlindIndexKind::Phone, &value), Channel::Sms))
            }
            ProfileField::Email => {
                Some((LoginContact::Email, bidx.index(crate::crypto::BlindIndexKind::Email, &value), Channel::Email))
            }
            _ => None,
        };
        let mut outbox = None;
        if let Some((contact, index, channel)) = login_update {
            let done = store::set_login_contact(&mut *tx, self.me.account_id(), contact, index).await;
            match done {
                Err(e) if e.unique_violation() => return Err(Error::Conflict { code: "account.exists" }),
                other => other?,
            };
            // The old contact hears about it: a hijacker cannot change it silently.
            if let Some(old) = old {
                let msg = cab.message(Some(self.me.patient_id()?), "contact_changed", channel, &old, None);
                outbox = Some(cab.outbox().enqueue(&mut tx, &msg, now).await?);
            }
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
            (card_differs, "clinic_card_mismatch"),
            (person.oms_policy.is_none(), "oms_policy_missing"),
            (!attached, "attachment_missing"),
            (!results, "results_missing"),
            (identity.is_none(), "identity_unconfirmed"),
            (email.is_none() && person.email.is_some(), "email_unconfirmed"),
        ];
        for (missing, code) in checks {
            if missing {
                out.push(MissingItem {
                    code: code.to_owned(),
                    what_to_do: crate::i18n::text(cab.locale(), &format!("completeness.{code}")).to_owned(),
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
