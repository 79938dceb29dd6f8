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
use crate::auth::{AuthError, codes};
use crate::cabinet::Cabinet;
use crate::crypto::Aad;
use crate::error::{Error, Result};
use crate::ids::{self, Reason, ValidationError};
use crate::integrations::Channel;
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
        action: Action,
        resource_type: &'static str,
        id: Option<&str>,
        now: i64,
    ) -> Result<crate::audit::Receipt> {
        // The caller re-validated the session before opening `tx` (an in-memory database
        // has one connection: no second read may wait for it here).
        let patient_id = self.me.patient_id()?;
        let what = Access { patient_id: Some(patient_id), action, resource_type, resource_id: id };
        self.cab().journal().record(tx, self.me.audit_context(), what, Outcome::Success, now).await
    }

    async fn current_in(&self, tx: &mut Conn, patient_id: &str) -> Result<Option<AttachmentInfo>> {
        let rows = store::attachments(&mut *tx, store::Which::Current(patient_id)).await?;
        rows.first().map(info_from).transpose()
    }

    /// The current attachment, if any.
    pub async fn current(&self) -> Result<Option<AttachmentInfo>> {
        let patient_id = self.me.own_medical().await?;
        let now = to_micros(self.cab().now());
        let mut tx = self.cab().store().begin().await?;
        let current = self.current_in(&mut tx, &patient_id).await?;
        self.journal(&mut tx, Action::Read, "attachment", current.as_ref().map(|c| c.id.as_str()), now).await?;
        tx.commit().await?;
        Ok(current)
    }

    /// Every attachment and detachment with its date and time, newest first.
    pub async fn history(&self) -> Result<Vec<AttachmentEvent>> {
        let patient_id = self.me.own_medical().await?;
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
        self.journal(&mut tx, Action::Read, "attachment", None, now).await?;
        tx.commit().await?;
        Ok(events)
    }

    /// Asks to attach to a clinic (by code or name) with passport, SNILS and OMS policy.
    /// The identifiers are validated and must match those on file; an SMS code is sent.
    /// Attaching while attached elsewhere changes the clinic on confirmation.
    pub async fn attach(
        &self,
        clinic_code_or_name: &str,
        passport: &str,
        snils: &str,
        oms_policy: &str,
    ) -> Result<PendingConfirmation> {
        let patient_id = self.me.own_medical().await?;
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
        self.request("attach", Some(&clinic.id), Some(&details)).await
    }

    /// Asks to end the current attachment; an SMS code is sent.
    pub async fn detach(&self) -> Result<PendingConfirmation> {
        self.request("detach", None, None).await
    }

    async fn request(
        &self,
        action: &'static str,
        clinic_id: Option<&str>,
        details: Option<&Confirmation>,
    ) -> Result<PendingConfirmation> {
        let cab = self.cab();
        let patient_id = self.me.own_medical().await?;
        let now = to_micros(cab.now());
        let id = uuid::Uuid::new_v4().to_string();
        let mut tx = cab.store().begin().await?;
        let current = self.current_in(&mut tx, &patient_id).await?;
        match (action, &current) {
            ("detach", None) => return Err(Error::Conflict { code: "attachment.none" }),
            ("attach", Some(c)) if Some(c.clinic_id.as_str()) == clinic_id => {
                return Err(Error::Conflict { code: "attachment.already" });
            }
            _ => {}
        }
        let receipt = self.journal(&mut tx, Action::Create, "attachment_request", Some(&id), now).await?;
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
        store::insert_request(&mut *tx, &id, &patient_id, action, clinic_id, sealed, now, expires).await?;
        let code = codes::generate(6);
        crate::accounts::store_code(cab, &mut tx, "attachment", &id, &code, now + crate::accounts::CODE_TTL_US).await?;
        let person = self.patients().read_in(&mut tx, &patient_id, now).await?;
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
        let patient_id = self.me.own_medical().await?;
        let now = to_micros(cab.now());
        let row = store::request(cab.store().pool(), pending_id, &patient_id)
            .await?
            .ok_or(Error::NotFound { entity: "attachment_request" })?;
        let (action, clinic_id, sealed) = (row.action, row.clinic_id, row.details);
        if row.completed_at.is_some() || row.expires_at <= now {
            return Err(AuthError::CodeExpired.into());
        }
        crate::accounts::check_code(cab, "attachment", pending_id, code, now).await?;
        let mut tx = cab.store().begin().await?;
        if !store::claim_request(&mut *tx, pending_id, now).await? {
            return Err(AuthError::CodeExpired.into());
        }
        let ended = store::end_current(&mut *tx, &patient_id, now).await?;
        let (result_id, kind) = if action == "attach" {
            let clinic_id = clinic_id.ok_or(StorageError::Corrupt("attachment request"))?;
            let sealed = sealed.ok_or(StorageError::Corrupt("attachment request"))?;
            let id = uuid::Uuid::new_v4().to_string();
            let receipt = self.journal(&mut tx, Action::Create, "attachment", Some(&id), now).await?;
            let key = cab.keyring().patient_key(&mut tx, &receipt).await?;
            let old_aad =
                Aad { table: "attachment_requests", record_id: pending_id, field: "details", patient_id: &patient_id };
            let plain = crate::crypto::open(&key, &old_aad, &sealed)?;
            let new_aad = Aad { table: "attachments", record_id: &id, field: "details", patient_id: &patient_id };
            let details = crate::crypto::seal(&key, &new_aad, &plain)?;
            store::insert(&mut *tx, &id, &patient_id, &clinic_id, details, now).await.map_err(|e| {
                if e.unique_violation() { Error::Conflict { code: "attachment.changed" } } else { e.into() }
            })?;
            (id, "attachment_completed")
        } else {
            if ended != 1 {
                return Err(Error::Conflict { code: "attachment.none" });
            }
            let id = store::ended_at(&mut *tx, &patient_id, now).await?;
            self.journal(&mut tx, Action::Delete, "attachment", Some(&id), now).await?;
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
        let person = self.patients().read_in(&mut tx, &patient_id, now).await?;
        let args = [("clinic", info.clinic_name.clone())];
        let msg =
            cab.message_with(Some(&patient_id), kind, Channel::Sms, person.phone.as_deref().unwrap_or(""), None, &args);
        let out = cab.outbox().enqueue(&mut tx, &msg, now).await?;
        tx.commit().await?;
        notify::deliver(cab, &out).await?;
        Ok(info)
    }
}
