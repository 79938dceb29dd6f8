//! Patient requests and appeals to a clinic (R13), as FHIR Task + Communication: subject
//! and messages both ways, documents added to an open request, statuses *in processing*,
//! *clarification needed* and *completed* with only the allowed transitions (every status
//! UPDATE names the expected old status, so two writers cannot both move it), notifications
//! on status changes, and a retention job that purges requests 5 years after completion.

use crate::staff::StaffRole;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::OffsetDateTime;

use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::me::{Me, Principal};
use crate::medical::{PatientWork, Vault};
use crate::store::{Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

mod store;

/// Roles that answer requests.
pub const REQUEST_ROLES: &[StaffRole] = &[StaffRole::Registrar, StaffRole::Administrator, StaffRole::Doctor];
/// Requests are kept this long after completion, then purged (R13).
pub const RETENTION: time::Duration = time::Duration::days(5 * 365 + 1);
/// Largest document added to a request.
pub const MAX_DOCUMENT_BYTES: usize = 20 * 1024 * 1024;

crate::sets::closed_set! {
    /// Where a request stands.
    pub enum RequestStatus in "status" {
        /// The clinic is working on it.
        InProcessing = "in_processing",
        /// The clinic asked the patient for more.
        ClarificationNeeded = "clarification_needed",
        /// Closed.
        Completed = "completed",
        /// Closed unfinished after the deployment's period (`DeadlinePolicy::request_expiry`);
        /// kept five years like a completed one.
        Expired = "expired",
    }
}

crate::paging::page_type! {
    /// One page of a clinic's open requests.
    RequestPage of Request
}

/// Whether a request may move from `from` to `to`.
pub fn transition_allowed(from: RequestStatus, to: RequestStatus) -> bool {
    use RequestStatus::{ClarificationNeeded, Completed, InProcessing};
    matches!(
        (from, to),
        (InProcessing, ClarificationNeeded)
            | (InProcessing, Completed)
            | (ClarificationNeeded, InProcessing)
            | (ClarificationNeeded, Completed)
    )
}

/// One message of a request's correspondence.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
pub struct RequestMessage {
    /// `patient`, `proxy` or `staff`.
    pub author_kind: String,
    /// For staff: "role name"; for the patient: `None`.
    pub author_name: Option<String>,
    /// Text.
    pub text: String,
    /// When.
    pub at: OffsetDateTime,
}

/// Leaves out the author's name and the text (sealed with the patient's key).
impl std::fmt::Debug for RequestMessage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestMessage")
            .field("author_kind", &self.author_kind)
            .field("at", &self.at)
            .finish_non_exhaustive()
    }
}

/// A document added to a request.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct RequestDocument {
    /// Id.
    pub id: String,
    /// File name.
    pub filename: String,
    /// Size in bytes.
    pub size: u64,
    /// SHA-256 of the content, hex.
    pub sha256: String,
}

/// Leaves out the file name (sealed with the patient's key).
impl std::fmt::Debug for RequestDocument {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RequestDocument")
            .field("id", &self.id)
            .field("size", &self.size)
            .field("sha256", &self.sha256)
            .finish_non_exhaustive()
    }
}

/// A request with its correspondence.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Request {
    /// Id.
    pub id: String,
    /// The patient.
    pub patient_id: String,
    /// Clinic id.
    pub clinic_id: String,
    /// Subject.
    pub subject: String,
    /// `in_processing`, `clarification_needed` or `completed`.
    pub status: RequestStatus,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Completed.
    pub completed_at: Option<OffsetDateTime>,
    /// Messages, oldest first.
    pub messages: Vec<RequestMessage>,
    /// Documents.
    pub documents: Vec<RequestDocument>,
}

/// Leaves out the subject; messages and documents print redacted.
impl std::fmt::Debug for Request {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Request")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("clinic_id", &self.clinic_id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("updated_at", &self.updated_at)
            .field("completed_at", &self.completed_at)
            .field("messages", &self.messages)
            .field("documents", &self.documents)
            .finish_non_exhaustive()
    }
}

fn author(me: &Me) -> (String, Option<String>) {
    match me.principal() {
        Principal::Staff(m) => ("staff".into(), Some(format!("{} {}", m.role, m.full_name))),
        Principal::Proxy { .. } => ("proxy".into(), None),
        Principal::Patient { .. } => ("patient".into(), None),
    }
}

async fn add_message(tx: &mut Conn, vault: &Vault, me: &Me, request_id: &str, text: &str, now: i64) -> Result<()> {
    let (kind, name) = author(me);
    let id = uuid::Uuid::now_v7().to_string();
    let msg =
        RequestMessage { author_kind: kind.clone(), author_name: name, text: text.to_owned(), at: from_micros(now)? };
    let body = vault.seal("request_messages", &id, "body", &msg)?;
    store::insert_message(&mut *tx, &id, request_id, &kind, me.account_id(), body, now).await
}

async fn load(tx: &mut Conn, vault: &Vault, request_id: &str) -> Result<Request> {
    let r = store::find(&mut *tx, request_id).await?.ok_or(Error::NotFound { entity: "request" })?;
    let messages = store::messages(&mut *tx, request_id)
        .await?
        .iter()
        .map(|m| vault.open_json("request_messages", &m.id, "body", &m.body))
        .collect::<Result<Vec<RequestMessage>>>()?;
    let documents = store::documents(&mut *tx, request_id)
        .await?
        .into_iter()
        .map(|d| {
            Ok(RequestDocument {
                filename: String::from_utf8(vault.open_bytes("request_documents", &d.id, "filename", &d.filename)?)
                    .map_err(|_| StorageError::Corrupt("file name"))?,
                id: d.id,
                size: u64::try_from(d.size).unwrap_or(0),
                sha256: hex::encode(&d.sha256),
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Request {
        subject: vault.open_json("requests", request_id, "subject", &r.subject)?,
        status: if r.expired_at.is_some() { RequestStatus::Expired } else { RequestStatus::stored(&r.status)? },
        created_at: from_micros(r.created_at)?,
        updated_at: from_micros(r.updated_at)?,
        completed_at: r.completed_at.map(from_micros).transpose()?,
        id: r.id,
        patient_id: r.patient_id,
        clinic_id: r.clinic_id,
        messages,
        documents,
    })
}

/// Moves a request from `from` to `to` (guarded by the old status) and queues the patient's
/// notification; returns the outbox id.
async fn change_status(
    cab: &Cabinet,
    tx: &mut Conn,
    request_id: &str,
    patient_id: &str,
    from: RequestStatus,
    to: RequestStatus,
    now: i64,
) -> Result<Vec<String>> {
    if from == to {
        return Ok(Vec::new());
    }
    if !transition_allowed(from, to) {
        return Err(Error::Conflict { code: "request.transition" });
    }
    if !store::move_status(&mut *tx, request_id, from.as_str(), to.as_str(), now).await? {
        return Err(Error::Conflict { code: "request.transition" });
    }
    let status_text = crate::i18n::text(cab.locale(), &format!("request.status.{to}")).to_owned();
    let args = [("status", status_text)];
    crate::notify::patient_event(cab, tx, patient_id, "request_status", &args, now).await
}

/// The signed-in patient's (or ward's) requests.
#[derive(Debug, Clone)]
pub struct Requests {
    me: Me,
}

impl Requests {
    pub(crate) fn new(me: Me) -> Self {
        Requests { me }
    }

    async fn own(&self, tx: &mut Conn, request_id: &str, patient_id: &str) -> Result<RequestStatus> {
        match store::find(&mut *tx, request_id).await? {
            Some(r) if r.patient_id == patient_id => Ok(RequestStatus::stored(&r.status)?),
            _ => Err(Error::NotFound { entity: "request" }),
        }
    }

    /// Opens a request to a clinic with a subject and text; status *in processing*.
    pub async fn create(&self, clinic_id: &str, subject: &str, text: &str) -> Result<Request> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let subject = crate::directory::text_field("subject", subject, 300)?;
        let text = crate::directory::text_field("text", text, 10_000)?;
        let clinic = crate::directory::Directory::new(cab.clone()).clinic(clinic_id).await?;
        let id = uuid::Uuid::now_v7().to_string();
        let PatientWork { mut tx, vault, now } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Create, "request", Some(&id)).await?;
        let sealed = vault.seal("requests", &id, "subject", &subject)?;
        store::insert(&mut *tx, &id, &patient_id, &clinic.id, sealed, now).await?;
        add_message(&mut tx, &vault, &self.me, &id, &text, now).await?;
        let out = load(&mut tx, &vault, &id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Every request, current and finished, newest first.
    pub async fn list(&self) -> Result<Vec<Request>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let PatientWork { mut tx, vault, .. } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "request", None).await?;
        let ids = store::ids_of_patient(&mut *tx, &patient_id).await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load(&mut tx, &vault, &id).await?);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// One request with its correspondence.
    pub async fn get(&self, request_id: &str) -> Result<Request> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        self.own(&mut tx, request_id, &patient_id).await?;
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Read,
            "request",
            Some(request_id),
            now,
        )
        .await?;
        let out = load(&mut tx, &vault, request_id).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Writes to the clinic; answering a *clarification needed* request puts it back *in
    /// processing*. A completed request takes no more messages.
    pub async fn reply(&self, request_id: &str, text: &str) -> Result<Request> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let text = crate::directory::text_field("text", text, 10_000)?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let status = self.own(&mut tx, request_id, &patient_id).await?;
        if status == RequestStatus::Completed {
            return Err(Error::Conflict { code: "request.completed" });
        }
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Update,
            "request",
            Some(request_id),
            now,
        )
        .await?;
        add_message(&mut tx, &vault, &self.me, request_id, &text, now).await?;
        let message = if status == RequestStatus::ClarificationNeeded {
            change_status(cab, &mut tx, request_id, &patient_id, status, RequestStatus::InProcessing, now).await?
        } else {
            store::touch(&mut *tx, request_id, now).await?;
            Vec::new()
        };
        let out = load(&mut tx, &vault, request_id).await?;
        tx.commit().await?;
        crate::notify::deliver_all(cab, message).await?;
        Ok(out)
    }

    /// Adds a document to an open request (PDF, DOCX, JPEG or PNG, checked from its bytes as
    /// in the document store; sealed; SHA-256 kept).
    pub async fn add_document(&self, request_id: &str, filename: &str, content: &[u8]) -> Result<RequestDocument> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        // The same checks as the document store: type from the bytes, no active content, a
        // clean name that does not claim another format.
        let (format, content) =
            crate::documents::sniff::check(content, MAX_DOCUMENT_BYTES.min(cab.document_max_bytes()))?;
        let filename = crate::documents::sniff::safe_filename(filename, format);
        crate::documents::sniff::check_name(&filename, format)?;
        let content = content.as_slice();
        let now = to_micros(cab.now());
        let id = uuid::Uuid::now_v7().to_string();
        let mut tx = cab.store().begin().await?;
        if self.own(&mut tx, request_id, &patient_id).await? == "completed" {
            return Err(Error::Conflict { code: "request.completed" });
        }
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Create,
            "request_document",
            Some(&id),
            now,
        )
        .await?;
        let sha = sha2::Sha256::digest(content).to_vec();
        let document = store::NewDocumentRow {
            id: &id,
            request_id,
            filename: vault.seal_bytes("request_documents", &id, "filename", filename.as_bytes())?,
            content: vault.seal_bytes("request_documents", &id, "content", content)?,
            sha256: &sha,
            size: i64::try_from(content.len()).unwrap_or(i64::MAX),
            now,
        };
        store::insert_document(&mut *tx, document).await?;
        store::touch(&mut *tx, request_id, now).await?;
        tx.commit().await?;
        Ok(RequestDocument { id, filename, size: content.len() as u64, sha256: hex::encode(&sha) })
    }

    /// The correspondence as a PDF (journaled as an export).
    pub async fn export_pdf(&self, request_id: &str) -> Result<Vec<u8>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        self.own(&mut tx, request_id, &patient_id).await?;
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Export,
            "request",
            Some(request_id),
            now,
        )
        .await?;
        let request = load(&mut tx, &vault, request_id).await?;
        let person = crate::patients::Patients::new(cab.clone(), self.me.audit_context().clone())
            .read_in(&mut tx, &patient_id, now)
            .await?;
        // In the patient's language, times at the request's clinic (R17, R13).
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        let zone = crate::directory::Directory::clinic_in(&mut tx, &request.clinic_id).await?.time_zone;
        tx.commit().await?;
        crate::certificates::request_pdf(locale, &person, &request, &zone)
    }

    /// The patient closes the request: status *completed*.
    pub async fn mark_completed(&self, request_id: &str) -> Result<Request> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("requests").await?;
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let status = self.own(&mut tx, request_id, &patient_id).await?;
        if status == RequestStatus::Completed {
            return Err(Error::Conflict { code: "request.completed" });
        }
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Update,
            "request",
            Some(request_id),
            now,
        )
        .await?;
        let message =
            change_status(cab, &mut tx, request_id, &patient_id, status, RequestStatus::Completed, now).await?;
        let out = load(&mut tx, &vault, request_id).await?;
        tx.commit().await?;
        crate::notify::deliver_all(cab, message).await?;
        Ok(out)
    }
}

/// Staff work on the clinic's requests.
#[derive(Debug, Clone)]
pub struct StaffRequests {
    me: Me,
}

impl StaffRequests {
    pub(crate) fn new(me: Me) -> Self {
        StaffRequests { me }
    }

    /// Open requests to the staff member's clinic, oldest first (each read journaled).
    pub async fn inbox(&self) -> Result<Vec<Request>> {
        Ok(self.select_inbox(None, i64::MAX - 1).await?.items)
    }

    /// One page of [`StaffRequests::inbox`]: at most `limit` requests (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn inbox_page(&self, limit: Option<u32>, cursor: Option<&str>) -> Result<RequestPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 2, 1)).transpose()?;
        self.select_inbox(after.as_ref(), limit).await
    }

    async fn select_inbox(&self, after: Option<&crate::paging::Cursor>, limit: i64) -> Result<RequestPage> {
        let cab = self.me.cabinet();
        let member = self.me.live_staff().await?.clone();
        if !REQUEST_ROLES.contains(&member.role) {
            return Err(Error::PermissionDenied { code: "role.not_allowed" });
        }
        let after = after.map(|c| (c.ints[0], c.texts[0].as_str()));
        let rows = store::open_in_clinic(cab.store().pool(), &member.clinic_id, after, limit.saturating_add(1)).await?;
        let (rows, next_cursor) =
            crate::paging::split(rows, limit, |r| Ok::<_, Error>(vec![r.updated_at.to_string(), r.id.clone()]))?;
        let mut items = Vec::with_capacity(rows.len());
        for store::OpenRow { id, patient_id, .. } in rows {
            let mut work =
                PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "request", Some(&id))
                    .await?;
            items.push(load(&mut work.tx, &work.vault, &id).await?);
            work.commit().await?;
        }
        Ok(RequestPage { items, next_cursor })
    }

    /// Answers a request of the clinic and sets its status (only allowed transitions; the
    /// same status just adds the message). The patient is notified of a status change.
    pub async fn reply(&self, request_id: &str, text: &str, status: RequestStatus) -> Result<Request> {
        let cab = self.me.cabinet();
        let text = crate::directory::text_field("text", text, 10_000)?;
        let row = store::find(cab.store().pool(), request_id).await?.ok_or(Error::NotFound { entity: "request" })?;
        let (patient_id, clinic_id) = (row.patient_id, row.clinic_id);
        let current = RequestStatus::stored(&row.status)?;
        let member = self.me.live_staff().await?;
        if member.clinic_id != clinic_id {
            return Err(Error::NotFound { entity: "request" });
        }
        if !REQUEST_ROLES.contains(&member.role) {
            return Err(Error::PermissionDenied { code: "role.not_allowed" });
        }
        if current == RequestStatus::Completed {
            return Err(Error::Conflict { code: "request.completed" });
        }
        let PatientWork { mut tx, vault, now } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Update, "request", Some(request_id))
                .await?;
        add_message(&mut tx, &vault, &self.me, request_id, &text, now).await?;
        let message = change_status(cab, &mut tx, request_id, &patient_id, current, status, now).await?;
        store::touch(&mut *tx, request_id, now).await?;
        let out = load(&mut tx, &vault, request_id).await?;
        tx.commit().await?;
        crate::notify::deliver_all(cab, message).await?;
        Ok(out)
    }
}

/// Closes requests nobody completed within the deployment's period as expired (R13): their
/// patient is told, the closing journaled, and the five-year retention runs from then.
/// Run by `run_due_jobs`; returns how many expired.
pub(crate) async fn expire_unfinished(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let period = cab.deadline_policy().request_expiry;
    let cutoff = now.saturating_sub(i64::try_from(period.whole_microseconds()).unwrap_or(i64::MAX));
    let due = store::unfinished_before(cab.store().pool(), cutoff, 500).await?;
    let mut expired = 0;
    for store::CompletedRow { id, patient_id } in due {
        let done = expire_one(cab, &id, &patient_id, cutoff, now).await;
        // One request's trouble (say, a damaged record) must not stop the job for the rest.
        let settle = async |tx: &mut crate::store::Conn| store::expire(tx, &id, cutoff, now).await.map(drop);
        expired += crate::cabinet::tally(cab, done, "request_expired", &id, settle, now).await?;
    }
    Ok(expired)
}

/// Closes one unfinished request as expired and tells its patient; false when it was
/// completed or touched meanwhile.
async fn expire_one(cab: &Cabinet, id: &str, patient_id: &str, cutoff: i64, now: i64) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    if !store::expire(&mut *tx, id, cutoff, now).await? {
        return Ok(false);
    }
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Update,
        resource_type: "request_expired",
        resource_id: Some(id),
    };
    cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
    let args = [("status", crate::i18n::text(cab.locale(), "request.status.expired").to_owned())];
    let outbox = crate::notify::patient_event(cab, &mut tx, patient_id, "request_status", &args, now).await?;
    tx.commit().await?;
    crate::notify::deliver_all(cab, outbox).await?;
    Ok(true)
}

/// The retention job (R13): requests completed more than 5 years ago are deleted with their
/// messages and documents, each deletion journaled. Returns how many were purged.
pub(crate) async fn purge_expired(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let cutoff = now - i64::try_from(RETENTION.whole_microseconds()).unwrap_or(i64::MAX);
    let due = store::completed_before(cab.store().pool(), cutoff, 500).await?;
    let mut purged = 0;
    for store::CompletedRow { id, patient_id } in due {
        let mut tx = cab.store().begin().await?;
        if !store::purge(&mut tx, &id, cutoff).await? {
            continue;
        }
        let what = Access {
            patient_id: Some(&patient_id),
            action: Action::Delete,
            resource_type: "request",
            resource_id: Some(&id),
        };
        cab.journal().record(&mut tx, &AuditContext::system(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        purged += 1;
    }
    Ok(purged)
}
