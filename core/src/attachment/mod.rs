//! Attachment to a clinic (R11): attach (or change clinic) with passport, SNILS and OMS
//! policy, detach, each confirmed by a one-time SMS code; the current attachment and the
//! history of changes with date and time.
//!
//! The structured confirmation (clinic, passport, SNILS, OMS policy, time) is stored sealed
//! with the patient's data key on the attachment row; the confirmation PDF is rendered from
//! it by the documents issue. At most one current attachment per patient is a unique index.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

mod store;

use crate::audit::{Access, Action, Outcome};
use crate::auth::confirm::Method;
use crate::auth::{AuthError, codes};
use crate::cabinet::Cabinet;
use crate::crypto::Aad;
use crate::error::{Error, Result};
use crate::ids::{self, Reason, ValidationError};
use crate::integrations::{Channel, ConfirmationRequest};
use crate::me::Me;
use crate::notify;
use crate::patients::Patients;
use crate::store::{Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

/// An attach, detach, certificate or proxy grant request waiting for its one-time code.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct PendingConfirmation {
    /// Pass to `confirm` with the code.
    pub id: String,
    /// `attach`, `detach`, `certificate` or `proxy_grant`.
    pub action: String,
}

crate::sets::closed_set! {
    /// Why a person attaches to a clinic (R11): voluntary changes are limited per year, a
    /// change of residence allows one more.
    pub enum AttachmentReason in "reason" {
        /// The person's choice (limited by `AttachmentPolicy`).
        Voluntary = "voluntary",
        /// A move: the registration or actual address in the profile changed since the last
        /// attachment.
        ResidenceChange = "residence_change",
    }
}

/// A year, for the voluntary-change limit.
const YEAR_US: i64 = 365 * 24 * 3600 * 1_000_000;

crate::sets::closed_set! {
    /// Whether an attachment is current.
    pub enum AttachmentStatus in "status" {
        /// Current: the patient is attached to the clinic.
        AttachmentCompleted = "attachment_completed",
        /// Ended.
        Detached = "detached",
    }
}

/// An attachment to a clinic.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi(name = "Attachment"))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", name = "Attachment", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct AttachmentInfo {
    /// Id.
    pub id: String,
    /// Clinic id.
    pub clinic_id: String,
    /// Clinic code.
    pub clinic_code: String,
    /// Clinic name.
    pub clinic_name: String,
    /// Clinic address.
    pub clinic_address: String,
    /// When it was confirmed.
    pub attached_at: OffsetDateTime,
    /// When it ended, if it did.
    pub detached_at: Option<OffsetDateTime>,
    /// Completed while current, detached after.
    pub status: AttachmentStatus,
    /// The confirmation PDF (a stored document), for the latest attach or detach.
    pub document_id: Option<String>,
}

/// One change in the attachment history.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct AttachmentEvent {
    /// `attached` or `detached`.
    pub action: String,
    /// Clinic id.
    pub clinic_id: String,
    /// Clinic code.
    pub clinic_code: String,
    /// Clinic name.
    pub clinic_name: String,
    /// When.
    pub at: OffsetDateTime,
}

/// The documents given with an attachment, sealed with the patient's key.
#[derive(Serialize, Deserialize)]
struct Confirmation {
    clinic_id: String,
    passport: String,
    snils: String,
    oms_policy: String,
}

/// The clinic a patient is attached to now, if any (the issuer of their certificates).
pub(crate) async fn current_clinic_in(tx: &mut Conn, patient_id: &str) -> Result<Option<crate::directory::Clinic>> {
    let rows = store::attachments(&mut *tx, store::Which::Current(patient_id)).await?;
    match rows.first() {
        Some(r) => Ok(Some(crate::directory::Directory::clinic_in(tx, &r.clinic_id).await?)),
        None => Ok(None),
    }
}

/// The clinic an attach request is for, and why.
struct Target<'a> {
    clinic_id: &'a str,
    clinic_code: &'a str,
    reason: AttachmentReason,
}

/// The request a host method confirms for an attach (subject: the clinic code) or a detach.
fn host_request(id: &str, method: &str, patient_id: &str, action: &str, subject: &str) -> ConfirmationRequest {
    ConfirmationRequest {
        id: id.to_owned(),
        method: method.to_owned(),
        patient_id: patient_id.to_owned(),
        purpose: "attachment".to_owned(),
        subject: subject.to_owned(),
        challenge: crate::auth::confirm::challenge(id, "attachment", subject, action),
    }
}

/// The yearly limit of voluntary changes (R11): a first attachment is not a change; a
/// change of residence needs an address change in the profile since the last attachment.
async fn check_change_allowed(
    cab: &Cabinet,
    tx: &mut Conn,
    patient_id: &str,
    reason: AttachmentReason,
    now: i64,
) -> Result<()> {
    let Some(last) = store::last_attached_at(&mut *tx, patient_id).await? else { return Ok(()) };
    match reason {
        AttachmentReason::ResidenceChange => {
            if Patients::moved_since(tx, patient_id, last).await? {
                Ok(())
            } else {
                Err(Error::Conflict { code: "attachment.residence_unchanged" })
            }
        }
        _ => {
            let allowed = i64::from(cab.attachment_policy().voluntary_changes_per_year);
            let made = store::voluntary_changes_since(&mut *tx, patient_id, now.saturating_sub(YEAR_US)).await?;
            if made < allowed { Ok(()) } else { Err(Error::Conflict { code: "attachment.limit" }) }
        }
    }
}

fn info_from(r: &store::AttachmentRow) -> Result<AttachmentInfo> {
    Ok(AttachmentInfo {
        id: r.id.clone(),
        clinic_id: r.clinic_id.clone(),
        clinic_code: r.clinic_code.clone(),
        clinic_name: r.clinic_name.clone(),
        clinic_address: r.clinic_address.clone(),
        attached_at: from_micros(r.attached_at)?,
        detached_at: r.detached_at.map(from_micros).transpose()?,
        status: if r.detached_at.is_some() {
            AttachmentStatus::Detached
        } else {
            AttachmentStatus::AttachmentCompleted
        },
        document_id: r.document_id.clone(),
    })
}

/// The signed-in patient's clinic attachment.
#[derive(Debug, Clone)]
pub struct Attachment {
    me: Me,
}

impl Attachment {
    pub(crate) fn new(me: Me) -> Self {
        Attachment { me }
    }

    fn cab(&self) -> &Cabinet {
        self.me.cabinet()
    }

    fn patients(&self) -> Patients {
        Patients::new(self.cab().clone(), self.me.audit_context().clone())
    }

    async fn journal(
        &self,
        tx: &mut Conn,
        patient_id: &str,
        action: Action,
        resource_type: &'static str,
        id: Option<&str>,
        now: i64,
    ) -> Result<crate::audit::Receipt> {
        // The caller re-validated the session before opening `tx` (an in-memory database
        // has one connection: no second read may wait for it here).
        let what = Access { patient_id: Some(patient_id), action, resource_type, resource_id: id };
        self.cab().journal().record(tx, self.me.audit_context(), what, Outcome::Success, now).await
    }

    async fn current_in(&self, tx: &mut Conn, patient_id: &str) -> Result<Option<AttachmentInfo>> {
        let rows = store::attachments(&mut *tx, store::Which::Current(patient_id)).await?;
        rows.first().map(info_from).transpose()
    }

    /// The current attachment, if any.
    pub async fn current(&self) -> Result<Option<AttachmentInfo>> {
        let patient_id = self.me.patient_for("attachment").await?;
        let now = to_micros(self.cab().now());
        let mut tx = self.cab().store().begin().await?;
        let current = self.current_in(&mut tx, &patient_id).await?;
        self.journal(&mut tx, &patient_id, Action::Read, "attachment", current.as_ref().map(|c| c.id.as_str()), now)
            .await?;
        tx.commit().await?;
        Ok(current)
    }

    /// Every attachment and detachment with its date and time, newest first.
    pub async fn history(&self) -> Result<Vec<AttachmentEvent>> {
        let patient_id = self.me.patient_for("attachment").await?;
        let now = to_micros(self.cab().now());
        let mut tx = self.cab().store().begin().await?;
        let rows = store::attachments(&mut *tx, store::Which::All(&patient_id)).await?;
        let mut events = Vec::new();
        for r in &rows {
            let a = info_from(r)?;
            let event = |action: &str, at| AttachmentEvent {
                action: action.into(),
                clinic_id: a.clinic_id.clone(),
                clinic_code: a.clinic_code.clone(),
                clinic_name: a.clinic_name.clone(),
                at,
            };
            events.push(event("attached", a.attached_at));
            if let Some(at) = a.detached_at {
                events.push(event("detached", at));
            }
        }
        // Newest first; a change of clinic ends the old attachment and starts the new one at
        // the same instant: the new attachment is the newer event.
        events.sort_by(|x, y| y.at.cmp(&x.at).then_with(|| (y.action == "attached").cmp(&(x.action == "attached"))));
        self.journal(&mut tx, &patient_id, Action::Read, "attachment", None, now).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Asks to attach to a clinic (by code or name) with passport, SNILS and OMS policy.
    /// The identifiers are validated and must match those on file. `reason` is `Voluntary`
    /// when `None`. Confirmed by `method`:
    /// `None`/`"sms"` sends a code by SMS; a host `Confirmer` method is started there.
    /// Attaching while attached elsewhere changes the clinic on confirmation — a voluntary
    /// change at most `AttachmentPolicy::voluntary_changes_per_year` times in 365 days
    /// (`Conflict("attachment.limit")`); `ResidenceChange` allows one more when the profile's
    /// address changed since the last attachment (`attachment.residence_unchanged` if not).
    /// The OMS policy given is saved to the profile when it has none.
    pub async fn attach(
        &self,
        clinic_code_or_name: &str,
        passport: &str,
        snils: &str,
        oms_policy: &str,
        reason: Option<AttachmentReason>,
        method: Option<&str>,
    ) -> Result<PendingConfirmation> {
        let reason = reason.unwrap_or(AttachmentReason::Voluntary);
        let patient_id = self.me.patient_for("attachment").await?;
        let details = Confirmation {
            clinic_id: String::new(),
            passport: ids::passport(passport)?,
            snils: ids::snils(snils)?,
            oms_policy: ids::enp(oms_policy).map_err(|e| ValidationError::new("oms_policy", e.reason))?,
        };
        let clinic = self.me.directory().find_clinic(clinic_code_or_name).await?;
        let person = self.patients().get(&patient_id).await?;
        if person.snils.as_ref().is_some_and(|s| *s != details.snils) {
            return Err(ValidationError::new("snils", Reason::Mismatch).into());
        }
        if person.oms_policy.as_ref().is_some_and(|p| *p != details.oms_policy) {
            return Err(ValidationError::new("oms_policy", Reason::Mismatch).into());
        }

        let details = Confirmation { clinic_id: clinic.id.clone(), ..details };
        let target = Target { clinic_id: &clinic.id, clinic_code: &clinic.code, reason };
        self.request("attach", Some(target), Some(&details), method).await
    }

    /// Asks to end the current attachment, confirmed by `method` as for [`Attachment::attach`].
    pub async fn detach(&self, method: Option<&str>) -> Result<PendingConfirmation> {
        self.request("detach", None, None, method).await
    }

    async fn request(
        &self,
        action: &'static str,
        target: Option<Target<'_>>,
        details: Option<&Confirmation>,
        method: Option<&str>,
    ) -> Result<PendingConfirmation> {
        let cab = self.cab();
        let patient_id = self.me.patient_for("attachment").await?;
        let method = crate::auth::confirm::choose(cab, method).await?;
        let now = to_micros(cab.now());
        let id = uuid::Uuid::new_v4().to_string();
        let clinic_id = target.as_ref().map(|t| t.clinic_id);
        let reason = target.as_ref().map_or(AttachmentReason::Voluntary, |t| t.reason);
        let mut tx = cab.store().begin().await?;
        let current = self.current_in(&mut tx, &patient_id).await?;
        match (action, &current) {
            ("detach", None) => return Err(Error::Conflict { code: "attachment.none" }),
            ("attach", Some(c)) if Some(c.clinic_id.as_str()) == clinic_id => {
                return Err(Error::Conflict { code: "attachment.already" });
            }
            _ => {}
        }
        if action == "attach" {
            // Told now, before any code is sent; checked again when confirmed.
            check_change_allowed(cab, &mut tx, &patient_id, reason, now).await?;
        }
        let receipt = self.journal(&mut tx, &patient_id, Action::Create, "attachment_request", Some(&id), now).await?;
        let sealed = match details {
            Some(d) => {
                let key = cab.keyring().patient_key(&mut tx, &receipt).await?;
                let json = serde_json::to_vec(d).map_err(|_| crate::CryptoError::Internal("attachment details"))?;
                let aad =
                    Aad { table: "attachment_requests", record_id: &id, field: "details", patient_id: &patient_id };
                Some(crate::crypto::seal(&key, &aad, &json)?)
            }
            None => None,
        };
        let expires = now + crate::accounts::CODE_TTL_US;
        let request = store::NewRequest {
            id: &id,
            patient_id: &patient_id,
            action,
            clinic_id,
            details: sealed,
            method: method.name(),
            reason: reason.as_str(),
            now,
            expires_at: expires,
        };
        store::insert_request(&mut *tx, request).await?;
        if let Method::Host(name) = &method {
            tx.commit().await?;
            let subject = target.as_ref().map_or("detach", |t| t.clinic_code);
            crate::auth::confirm::start(cab, host_request(&id, name, &patient_id, action, subject)).await?;
            return Ok(PendingConfirmation { id, action: action.into() });
        }
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "attachment", &id, &code, now + crate::accounts::CODE_TTL_US).await?;
        // The code goes to whoever acts (a proxy for a child).
        let person = self.patients().read_in(&mut tx, self.me.actor_patient_id()?, now).await?;
        let msg = cab.message(
            Some(&patient_id),
            "attachment_code",
            Channel::Sms,
            person.phone.as_deref().unwrap_or(""),
            Some(&code),
        );
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        notify::deliver(cab, &out).await?;
        Ok(PendingConfirmation { id, action: action.into() })
    }

    /// Confirms an attach or detach with its code. Returns the new attachment (status
    /// `attachment_completed`) or the one that ended (status `detached`).
    pub async fn confirm(&self, pending_id: &str, code: &str) -> Result<AttachmentInfo> {
        let cab = self.cab();
        let patient_id = self.me.patient_for("attachment").await?;
        let now = to_micros(cab.now());
        let row = store::request(cab.store().pool(), pending_id, &patient_id)
            .await?
            .ok_or(Error::NotFound { entity: "attachment_request" })?;
        let (action, clinic_id, sealed) = (row.action, row.clinic_id, row.details);
        if row.completed_at.is_some() || row.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
        let reason = AttachmentReason::stored(&row.reason)?;
        match Method::from_stored(&row.method) {
            Method::Sms => crate::accounts::check_code(cab, "attachment", pending_id, code, now).await?,
            Method::Host(name) => {
                if !store::take_proof_attempt(cab.store().pool(), pending_id, crate::accounts::MAX_CODE_ATTEMPTS)
                    .await?
                {
                    return Err(AuthError::CodeExpired.into());
                }
                let subject = match &clinic_id {
                    Some(id) => crate::directory::Directory::new(cab.clone()).clinic(id).await?.code,
                    None => "detach".to_owned(),
                };
                let request = host_request(pending_id, &name, &patient_id, &action, &subject);
                if !crate::auth::confirm::verify(cab, request, code.to_owned()).await? {
                    return Err(AuthError::InvalidCode.into());
                }
            }
        }
        let mut tx = cab.store().begin().await?;
        if !store::claim_request(&mut *tx, pending_id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        let ended = store::end_current(&mut *tx, &patient_id, now).await?;
        if action == "attach" {
            // After `end_current`, which another confirmation of the same patient waits on:
            // two requests confirmed at once cannot both pass the limit.
            check_change_allowed(cab, &mut tx, &patient_id, reason, now).await?;
        }
        let (result_id, kind) = if action == "attach" {
            let clinic_id = clinic_id.ok_or(StorageError::Corrupt("attachment request"))?;
            let sealed = sealed.ok_or(StorageError::Corrupt("attachment request"))?;
            let id = uuid::Uuid::new_v4().to_string();
            let receipt = self.journal(&mut tx, &patient_id, Action::Create, "attachment", Some(&id), now).await?;
            let key = cab.keyring().patient_key(&mut tx, &receipt).await?;
            let old_aad =
                Aad { table: "attachment_requests", record_id: pending_id, field: "details", patient_id: &patient_id };
            let plain = crate::crypto::open(&key, &old_aad, &sealed)?;
            let new_aad = Aad { table: "attachments", record_id: &id, field: "details", patient_id: &patient_id };
            let details = crate::crypto::seal(&key, &new_aad, &plain)?;
            store::insert(&mut *tx, &id, &patient_id, &clinic_id, details, reason.as_str(), now).await.map_err(
                |e| {
                    if e.unique_violation() { Error::Conflict { code: "attachment.changed" } } else { e.into() }
                },
            )?;
            // The OMS policy given is the person's (it matched any on file): a profile without
            // one gets it (R11, R19).
            let given: Confirmation =
                serde_json::from_slice(&plain).map_err(|_| StorageError::Corrupt("attachment details"))?;
            let on_file = self.patients().read_in(&mut tx, &patient_id, now).await?.oms_policy;
            if on_file.is_none() {
                // Saved, not indexed: a policy typed here proves nothing (the registry's check
                // at identity confirmation does), so it claims no one's record or lookup.
                let field = crate::patients::ProfileField::OmsPolicy;
                let oms = &given.oms_policy;
                self.patients().update_field(&mut tx, &patient_id, field, oms, "attachment", false, now).await?;
            }
            (id, "attachment_completed")
        } else {
            if ended != 1 {
                return Err(Error::Conflict { code: "attachment.none" });
            }
            let id = store::ended_at(&mut *tx, &patient_id, now).await?;
            self.journal(&mut tx, &patient_id, Action::Delete, "attachment", Some(&id), now).await?;
            (id, "detachment_completed")
        };
        let row = store::attachments(&mut *tx, store::Which::Id(&result_id))
            .await?
            .pop()
            .ok_or(StorageError::Corrupt("attachment"))?;
        let clinic = crate::directory::Directory::clinic_in(&mut tx, &info_from(&row)?.clinic_id).await?;
        let action_name = if kind == "attachment_completed" { "attached" } else { "detached" };
        let document = crate::certificates::attachment_confirmation(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            &clinic,
            action_name,
            now,
        )
        .await?;
        store::set_document(&mut *tx, &result_id, &document).await?;
        let info = AttachmentInfo { document_id: Some(document), ..info_from(&row)? };
        let args = [("clinic", info.clinic_name.clone())];
        let kind = if kind == "attachment_completed" { "attachment_completed" } else { "detachment_completed" };
        let out =
            notify::for_patient(cab, &mut tx, self.me.audit_context(), &patient_id, kind, None, &args, now).await?;
        tx.commit().await?;
        notify::deliver_all(cab, out).await?;
        Ok(info)
    }
}
