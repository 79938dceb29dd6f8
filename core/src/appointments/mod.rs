//! Appointments (R8): book a free slot, reschedule, cancel until a deadline, the history of
//! visits, notifications and the reminder a day before.
//!
//! One patient per slot is the database's job: a unique index allows one live appointment
//! per slot, so two processes racing for a slot cannot both win. A patient's own bookings are
//! serialized by locking their patient row (PostgreSQL) or by SQLite's single writer, so two
//! overlapping visits of one patient cannot slip in side by side either.

use time::OffsetDateTime;

mod store;

use crate::audit::{Access, Action, AuditContext, Outcome};
use crate::cabinet::Cabinet;
use crate::error::{Error, Result};
use crate::me::Me;
use crate::notify;
use crate::patients::Patients;
use crate::store::{Backend, Conn, StorageError};
use crate::timeutil::{from_micros, to_micros};

/// A visit card (R8).
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Appointment {
    /// Id.
    pub id: String,
    /// The patient.
    pub patient_id: String,
    /// Slot id.
    pub slot_id: String,
    /// Practitioner id.
    pub practitioner_id: String,
    /// Practitioner's full name.
    pub practitioner_name: String,
    /// Practitioner's specialization.
    pub specialization: String,
    /// Clinic id.
    pub clinic_id: String,
    /// Clinic name.
    pub clinic_name: String,
    /// Clinic address.
    pub clinic_address: String,
    /// The clinic's IANA time zone: what the visit card and messages show times in.
    pub clinic_time_zone: String,
    /// Start.
    pub starts_at: OffsetDateTime,
    /// End.
    pub ends_at: OffsetDateTime,
    /// Visit type.
    pub visit_type: String,
    /// Code to show at the front desk.
    pub confirmation_code: String,
    /// Documents to bring (`oms_policy`, `passport`, `test_results`, …).
    pub required_documents: Vec<String>,
    /// Booked, cancelled, or past (a booked visit whose time has gone).
    pub status: AppointmentStatus,
}

crate::sets::closed_set! {
    /// Where an appointment stands.
    pub enum AppointmentStatus in "status" {
        /// Booked and still ahead.
        Booked = "booked",
        /// Cancelled (by the patient, the clinic or a reschedule).
        Cancelled = "cancelled",
        /// Booked, and its time has gone.
        Past = "past",
    }
}

/// Everything but the confirmation code (a code, like a message's).
impl std::fmt::Debug for Appointment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appointment")
            .field("id", &self.id)
            .field("patient_id", &self.patient_id)
            .field("slot_id", &self.slot_id)
            .field("practitioner_id", &self.practitioner_id)
            .field("practitioner_name", &self.practitioner_name)
            .field("specialization", &self.specialization)
            .field("clinic_id", &self.clinic_id)
            .field("clinic_name", &self.clinic_name)
            .field("clinic_address", &self.clinic_address)
            .field("starts_at", &self.starts_at)
            .field("ends_at", &self.ends_at)
            .field("visit_type", &self.visit_type)
            .field("required_documents", &self.required_documents)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

async fn from_row(conn: &mut Conn, r: store::AppointmentRow, now: i64) -> Result<Appointment> {
    let status = AppointmentStatus::stored(&r.status)?;
    Ok(Appointment {
        required_documents: crate::directory::required_documents(&mut *conn, &r.visit_type).await?,
        starts_at: from_micros(r.starts_at)?,
        ends_at: from_micros(r.ends_at)?,
        status: if status == AppointmentStatus::Booked && r.ends_at <= now { AppointmentStatus::Past } else { status },
        id: r.id,
        patient_id: r.patient_id,
        slot_id: r.slot_id,
        practitioner_id: r.practitioner_id,
        practitioner_name: r.practitioner_name,
        specialization: r.specialization,
        clinic_id: r.clinic_id,
        clinic_name: r.clinic_name,
        clinic_address: r.clinic_address,
        clinic_time_zone: r.clinic_time_zone,
        visit_type: r.visit_type,
        confirmation_code: r.confirmation_code,
    })
}

async fn from_rows(conn: &mut Conn, rows: Vec<store::AppointmentRow>, now: i64) -> Result<Vec<Appointment>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        out.push(from_row(conn, r, now).await?);
    }
    Ok(out)
}

/// A confirmation code: 8 characters of Crockford base32 (no I, L, O, U), e.g. `K7M2-9QXD`.
fn confirmation_code() -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    let mut raw = [0u8; 8];
    crate::crypto::random_bytes(&mut raw);
    let chars: String = raw.iter().map(|b| char::from(ALPHABET[usize::from(b & 31)])).collect();
    format!("{}-{}", &chars[..4], &chars[4..])
}

/// Inserts a visit on a slot with a fresh confirmation code; a second booked visit on one
/// slot is `slot.taken` (the database's partial unique index decides).
async fn insert(
    tx: &mut Conn,
    slot_id: &str,
    patient_id: &str,
    s: &SlotRow,
    status: AppointmentStatus,
    now: i64,
) -> Result<String> {
    let id = uuid::Uuid::new_v4().to_string();
    store::insert(&mut *tx, &id, slot_id, patient_id, status.as_str(), &confirmation_code(), s, now)
        .await
        .map_err(slot_taken)?;
    Ok(id)
}

/// Every visit of a patient, booked or cancelled, oldest first (for export).
pub(crate) async fn load_all(tx: &mut Conn, patient_id: &str, now: i64) -> Result<Vec<Appointment>> {
    let rows = store::appointments(&mut *tx, store::Which::AllOf(patient_id)).await?;
    from_rows(tx, rows, now).await
}

/// Stores a visit taken from another system (FHIR import) on a slot, booked or cancelled,
/// journaled for the patient. A second booked visit on one slot is `slot.taken`.
pub(crate) async fn insert_imported(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &AuditContext,
    patient_id: &str,
    slot_id: &str,
    booked: bool,
    now: i64,
) -> Result<String> {
    let s = slot(tx, slot_id).await?;
    let id = insert(
        tx,
        slot_id,
        patient_id,
        &s,
        if booked { AppointmentStatus::Booked } else { AppointmentStatus::Cancelled },
        now,
    )
    .await?;
    let what = Access {
        patient_id: Some(patient_id),
        action: Action::Create,
        resource_type: "appointment",
        resource_id: Some(&id),
    };
    cab.journal().record(tx, ctx, what, Outcome::Success, now).await?;
    Ok(id)
}

/// The visit's start as its patient reads it: the clinic's local time, the zone named.
fn when(a: &Appointment) -> String {
    crate::localtime::local(a.starts_at, &a.clinic_time_zone).text()
}

/// Queues an appointment message (`appointment_booked`, `_changed`, `_cancelled`,
/// `reminder`) to the patient on a channel their preferences allow; returns the outbox id.
async fn enqueue_message(
    cab: &Cabinet,
    tx: &mut Conn,
    ctx: &AuditContext,
    kind: &'static str,
    a: &Appointment,
    now: i64,
) -> Result<Vec<String>> {
    let args = [("doctor", a.practitioner_name.clone()), ("clinic", a.clinic_name.clone()), ("when", when(a))];
    notify::for_patient(cab, tx, ctx, &a.patient_id, kind, Some(&a.confirmation_code), &args, now).await
}

/// Locks the patient's row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already excludes every other writer).
async fn lock_patient(cab: &Cabinet, tx: &mut Conn, patient_id: &str) -> Result<()> {
    if cab.backend() == Backend::Postgres {
        store::lock_patient(&mut *tx, patient_id).await?;
    }
    Ok(())
}

use store::SlotTimes as SlotRow;

async fn slot(tx: &mut Conn, slot_id: &str) -> Result<SlotRow> {
    store::slot(&mut *tx, slot_id).await?.ok_or(Error::NotFound { entity: "slot" })
}

async fn check_no_overlap(tx: &mut Conn, patient_id: &str, s: &SlotRow, except: &str) -> Result<()> {
    let clash = store::overlapping(&mut *tx, patient_id, s, except).await?;
    if clash.is_some() { Err(Error::Conflict { code: "appointment.overlap" }) } else { Ok(()) }
}

fn slot_taken(e: StorageError) -> Error {
    if e.unique_violation() { Error::Conflict { code: "slot.taken" } } else { e.into() }
}

/// The signed-in patient's appointments.
#[derive(Debug, Clone)]
pub struct Appointments {
    me: Me,
}

impl Appointments {
    pub(crate) fn new(me: Me) -> Self {
        Appointments { me }
    }

    fn cab(&self) -> &Cabinet {
        self.me.cabinet()
    }

    /// Free slots of a practitioner starting in `[since, until)`.
    pub async fn free_slots(
        &self,
        practitioner_id: &str,
        since: OffsetDateTime,
        until: OffsetDateTime,
    ) -> Result<Vec<crate::directory::Slot>> {
        self.me.patient_for("appointments").await?;
        self.me.directory().free_slots(practitioner_id, since, until).await
    }

    async fn load(&self, tx: &mut Conn, appointment_id: &str, patient_id: &str, now: i64) -> Result<Appointment> {
        let which = store::Which::OfPatient { id: appointment_id, patient_id };
        let row = store::appointments(&mut *tx, which).await?.pop().ok_or(Error::NotFound { entity: "appointment" })?;
        from_row(tx, row, now).await
    }

    async fn finish(
        &self,
        mut tx: crate::store::Tx,
        a: &Appointment,
        action: Action,
        kind: &'static str,
    ) -> Result<()> {
        let cab = self.cab();
        let now = to_micros(cab.now());
        let what =
            Access { patient_id: Some(&a.patient_id), action, resource_type: "appointment", resource_id: Some(&a.id) };
        cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
        let out = enqueue_message(cab, &mut tx, self.me.audit_context(), kind, a, now).await?;
        tx.commit().await?;
        notify::deliver_all(cab, out).await?;
        Ok(())
    }

    /// Books a free slot: atomically, one patient per slot (`slot.taken` if someone was
    /// faster), no two overlapping visits of one patient (`appointment.overlap`). Needs a
    /// confirmed identity where the deployment says so (R2). The patient gets an SMS with
    /// the visit and its confirmation code.
    pub async fn book(&self, slot_id: &str) -> Result<Appointment> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        lock_patient(cab, &mut tx, &patient_id).await?;
        let s = slot(&mut tx, slot_id).await?;
        if s.starts <= now {
            return Err(Error::Conflict { code: "slot.past" });
        }
        check_no_overlap(&mut tx, &patient_id, &s, "").await?;
        let id = insert(&mut tx, slot_id, &patient_id, &s, AppointmentStatus::Booked, now).await?;
        let a = self.load(&mut tx, &id, &patient_id, now).await?;
        self.finish(tx, &a, Action::Create, "appointment_booked").await?;
        Ok(a)
    }

    fn check_deadline(&self, a: &Appointment, now: OffsetDateTime) -> Result<()> {
        if a.status != AppointmentStatus::Booked {
            return Err(Error::Conflict { code: "appointment.not_active" });
        }
        let deadline = a.starts_at.checked_sub(self.cab().appointment_policy().change_deadline);
        if deadline.is_none_or(|d| d <= now) {
            return Err(Error::Conflict { code: "deadline.passed" });
        }
        Ok(())
    }

    /// Moves a visit to another free slot in one step: the old slot is freed only if the new
    /// one is taken. Allowed until the change deadline (default 2 h before the visit).
    pub async fn reschedule(&self, appointment_id: &str, new_slot_id: &str) -> Result<Appointment> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now_t = cab.now();
        let now = to_micros(now_t);
        let mut tx = cab.store().begin().await?;
        lock_patient(cab, &mut tx, &patient_id).await?;
        let old = self.load(&mut tx, appointment_id, &patient_id, now).await?;
        self.check_deadline(&old, now_t)?;
        let s = slot(&mut tx, new_slot_id).await?;
        if s.starts <= now {
            return Err(Error::Conflict { code: "slot.past" });
        }
        check_no_overlap(&mut tx, &patient_id, &s, appointment_id).await?;
        store::move_to(&mut *tx, appointment_id, new_slot_id, &s, now).await.map_err(slot_taken)?;
        let a = self.load(&mut tx, appointment_id, &patient_id, now).await?;
        self.finish(tx, &a, Action::Update, "appointment_changed").await?;
        Ok(a)
    }

    /// Cancels a visit until the change deadline; the slot becomes free again.
    pub async fn cancel(&self, appointment_id: &str) -> Result<Appointment> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now_t = cab.now();
        let now = to_micros(now_t);
        let mut tx = cab.store().begin().await?;
        let old = self.load(&mut tx, appointment_id, &patient_id, now).await?;
        self.check_deadline(&old, now_t)?;
        store::cancel(&mut *tx, appointment_id, now).await?;
        let a = self.load(&mut tx, appointment_id, &patient_id, now).await?;
        self.finish(tx, &a, Action::Update, "appointment_cancelled").await?;
        Ok(a)
    }

    /// The visit card as a PDF: doctor, clinic, time, code, documents to bring.
    pub async fn card_pdf(&self, appointment_id: &str) -> Result<Vec<u8>> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let a = self.load(&mut tx, appointment_id, &patient_id, now).await?;
        let what = Access {
            patient_id: Some(&patient_id),
            action: Action::Export,
            resource_type: "appointment",
            resource_id: Some(&a.id),
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
        let person =
            Patients::new(cab.clone(), self.me.audit_context().clone()).read_in(&mut tx, &patient_id, now).await?;
        let locale = crate::notify::locale_of(cab, &mut tx, &patient_id).await?;
        tx.commit().await?;
        crate::certificates::visit_card_pdf(locale, &person, &a)
    }

    /// Planned visits (`upcoming`, earliest first) or the history of past and cancelled
    /// ones (newest first).
    pub async fn list(&self, upcoming: bool) -> Result<Vec<Appointment>> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now = to_micros(cab.now());
        let which = if upcoming {
            store::Which::Upcoming { patient_id: &patient_id, now }
        } else {
            store::Which::History { patient_id: &patient_id, now }
        };
        let mut tx = cab.store().begin().await?;
        let rows = store::appointments(&mut *tx, which).await?;
        let out = from_rows(&mut tx, rows, now).await?;
        let what = Access {
            patient_id: Some(&patient_id),
            action: Action::Read,
            resource_type: "appointment",
            resource_id: None,
        };
        cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
        tx.commit().await?;
        Ok(out)
    }
}

/// The appointments of a staff member's clinic.
#[derive(Debug, Clone)]
pub struct ClinicAppointments {
    me: Me,
}

impl ClinicAppointments {
    pub(crate) fn new(me: Me) -> Self {
        ClinicAppointments { me }
    }

    /// Booked visits at the clinic starting in `[since, until)`, earliest first. Each
    /// patient shown is journaled as read by the staff member.
    pub async fn list(&self, since: OffsetDateTime, until: OffsetDateTime) -> Result<Vec<Appointment>> {
        let clinic = self.me.live_staff().await?.clinic_id.clone();
        let cab = self.me.cabinet();
        let now = to_micros(cab.now());
        let mut tx = cab.store().begin().await?;
        let which = store::Which::Clinic { clinic_id: &clinic, since: to_micros(since), until: to_micros(until) };
        let rows = store::appointments(&mut *tx, which).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let a = from_row(&mut tx, r, now).await?;
            let what = Access {
                patient_id: Some(&a.patient_id),
                action: Action::Read,
                resource_type: "appointment",
                resource_id: Some(&a.id),
            };
            cab.journal().record(&mut tx, self.me.audit_context(), what, Outcome::Success, now).await?;
            out.push(a);
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// Queues the reminder for visits starting within the reminder lead time (default 24 h)
/// that have none yet. Each visit is claimed by one process (`reminder_at` is set with a
/// guarded update), so many processes running jobs send one reminder. Returns how many.
pub(crate) async fn queue_reminders(cab: &Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let horizon = now.saturating_add(to_micros_duration(cab.appointment_policy().reminder_before));
    let ids = store::due_reminders(cab.store().pool(), now, horizon, 500).await?;
    let ctx = AuditContext::system();
    let mut queued = 0;
    for id in ids {
        let done = remind(cab, &ctx, &id, now).await;
        let settle = async |tx: &mut Conn| store::settle_reminder(tx, &id, now).await;
        queued += crate::cabinet::tally(cab, done, "appointment_reminder", &id, settle, now).await?;
    }
    Ok(queued)
}

/// Queues the reminder of one visit; `false` if another process claimed it first.
async fn remind(cab: &Cabinet, ctx: &AuditContext, id: &str, now: i64) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    if !store::claim_reminder(&mut *tx, id, now).await? {
        return Ok(false);
    }
    let row =
        store::appointments(&mut *tx, store::Which::Id(id)).await?.pop().ok_or(StorageError::Corrupt("appointment"))?;
    let a = from_row(&mut tx, row, now).await?;
    enqueue_message(cab, &mut tx, ctx, "reminder", &a, now).await?;
    tx.commit().await?;
    Ok(true)
}

fn to_micros_duration(d: time::Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(i64::MAX)
}
