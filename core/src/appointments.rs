//! Appointments (R8): book a free slot, reschedule, cancel until a deadline, the history of
//! visits, notifications and the reminder a day before.
//!
//! One patient per slot is the database's job: a unique index allows one live appointment
//! per slot, so two processes racing for a slot cannot both win. A patient's own bookings are
//! serialized by locking their patient row (PostgreSQL) or by SQLite's single writer, so two
//! overlapping visits of one patient cannot slip in side by side either.

use sqlx::Row;
use time::OffsetDateTime;

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

const SELECT: &str = "SELECT a.id, a.patient_id, a.slot_id, p.id AS practitioner_id, p.full_name AS practitioner_name, p.specialization, \
    c.id AS clinic_id, c.name AS clinic_name, c.address AS clinic_address, \
    a.starts_at, a.ends_at, s.visit_type, a.confirmation_code, a.status FROM appointments a \
    JOIN slots s ON s.id = a.slot_id JOIN practitioners p ON p.id = s.practitioner_id JOIN clinics c ON c.id = p.clinic_id";

async fn from_row(conn: &mut Conn, r: &sqlx::any::AnyRow, now: i64) -> Result<Appointment> {
    let status = AppointmentStatus::stored(r.try_get("status")?)?;
    let ends: i64 = r.try_get("ends_at")?;
    let visit_type: String = r.try_get("visit_type")?;
    Ok(Appointment {
        id: r.try_get("id")?,
        patient_id: r.try_get("patient_id")?,
        slot_id: r.try_get("slot_id")?,
        practitioner_id: r.try_get("practitioner_id")?,
        practitioner_name: r.try_get("practitioner_name")?,
        specialization: r.try_get("specialization")?,
        clinic_id: r.try_get("clinic_id")?,
        clinic_name: r.try_get("clinic_name")?,
        clinic_address: r.try_get("clinic_address")?,
        starts_at: from_micros(r.try_get("starts_at")?)?,
        ends_at: from_micros(ends)?,
        required_documents: crate::directory::required_documents(&mut *conn, &visit_type).await?,
        visit_type,
        confirmation_code: r.try_get("confirmation_code")?,
        status: if status == AppointmentStatus::Booked && ends <= now { AppointmentStatus::Past } else { status },
    })
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
    sqlx::query(
        "INSERT INTO appointments (id, slot_id, patient_id, status, confirmation_code, starts_at, ends_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)",
    )
    .bind(&id)
    .bind(slot_id)
    .bind(patient_id)
    .bind(status.as_str())
    .bind(confirmation_code())
    .bind(s.starts)
    .bind(s.ends)
    .bind(now)
    .execute(&mut *tx)
    .await
    .map_err(|e| slot_taken(StorageError::from_sqlx(e)))?;
    Ok(id)
}

/// Every visit of a patient, booked or cancelled, oldest first (for export).
pub(crate) async fn load_all(tx: &mut Conn, patient_id: &str, now: i64) -> Result<Vec<Appointment>> {
    let rows = sqlx::query(crate::store::composed_sql!("{SELECT} WHERE a.patient_id = $1 ORDER BY a.starts_at, a.id"))
        .bind(patient_id)
        .fetch_all(&mut *tx)
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(from_row(tx, r, now).await?);
    }
    Ok(out)
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

fn when(t: OffsetDateTime) -> String {
    format!("{:02}.{:02}.{} {:02}:{:02} UTC", t.day(), u8::from(t.month()), t.year(), t.hour(), t.minute())
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
) -> Result<Option<String>> {
    let args =
        [("doctor", a.practitioner_name.clone()), ("clinic", a.clinic_name.clone()), ("when", when(a.starts_at))];
    notify::for_patient(cab, tx, ctx, &a.patient_id, kind, Some(&a.confirmation_code), &args, now).await
}

/// Locks the patient's row for the rest of the transaction (PostgreSQL; SQLite's write
/// transaction already excludes every other writer).
async fn lock_patient(cab: &Cabinet, tx: &mut Conn, patient_id: &str) -> Result<()> {
    if cab.backend() == Backend::Postgres {
        sqlx::query("SELECT id FROM patients WHERE id = $1 FOR UPDATE")
            .bind(patient_id)
            .fetch_optional(&mut *tx)
            .await?;
    }
    Ok(())
}

struct SlotRow {
    starts: i64,
    ends: i64,
}

async fn slot(tx: &mut Conn, slot_id: &str) -> Result<SlotRow> {
    let row = sqlx::query("SELECT starts_at, ends_at FROM slots WHERE id = $1")
        .bind(slot_id)
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(Error::NotFound { entity: "slot" })?;
    Ok(SlotRow { starts: row.try_get("starts_at")?, ends: row.try_get("ends_at")? })
}

async fn check_no_overlap(tx: &mut Conn, patient_id: &str, s: &SlotRow, except: &str) -> Result<()> {
    let clash: Option<String> = sqlx::query_scalar(
        "SELECT id FROM appointments WHERE patient_id = $1 AND status = 'booked' AND starts_at < $2 AND ends_at > $3 AND id <> $4",
    )
    .bind(patient_id)
    .bind(s.ends)
    .bind(s.starts)
    .bind(except)
    .fetch_optional(&mut *tx)
    .await
    ?;
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
        let row = sqlx::query(crate::store::composed_sql!("{SELECT} WHERE a.id = $1 AND a.patient_id = $2"))
            .bind(appointment_id)
            .bind(patient_id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or(Error::NotFound { entity: "appointment" })?;
        from_row(tx, &row, now).await
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
        sqlx::query(
            "UPDATE appointments SET slot_id = $1, starts_at = $2, ends_at = $3, updated_at = $4, reminder_at = NULL \
             WHERE id = $5 AND status = 'booked'",
        )
        .bind(new_slot_id)
        .bind(s.starts)
        .bind(s.ends)
        .bind(now)
        .bind(appointment_id)
        .execute(&mut *tx)
        .await
        .map_err(|e| slot_taken(StorageError::from_sqlx(e)))?;
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
        sqlx::query(
            "UPDATE appointments SET status = 'cancelled', updated_at = $1 WHERE id = $2 AND status = 'booked'",
        )
        .bind(now)
        .bind(appointment_id)
        .execute(&mut *tx)
        .await?;
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
        tx.commit().await?;
        crate::certificates::visit_card_pdf(cab.locale(), &person, &a)
    }

    /// Planned visits (`upcoming`, earliest first) or the history of past and cancelled
    /// ones (newest first).
    pub async fn list(&self, upcoming: bool) -> Result<Vec<Appointment>> {
        let patient_id = self.me.patient_for("appointments").await?;
        let cab = self.cab();
        let now = to_micros(cab.now());
        let filter = if upcoming {
            "WHERE a.patient_id = $1 AND a.status = 'booked' AND a.ends_at > $2 ORDER BY a.starts_at, a.id"
        } else {
            "WHERE a.patient_id = $1 AND (a.status <> 'booked' OR a.ends_at <= $2) ORDER BY a.starts_at DESC, a.id"
        };
        let mut tx = cab.store().begin().await?;
        let rows = sqlx::query(crate::store::composed_sql!("{SELECT} {filter}"))
            .bind(&patient_id)
            .bind(now)
            .fetch_all(&mut *tx)
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
            out.push(from_row(&mut tx, r, now).await?);
        }
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
        let rows = sqlx::query(crate::store::composed_sql!(
            "{SELECT} WHERE c.id = $1 AND a.status = 'booked' AND a.starts_at >= $2 AND a.starts_at < $3 ORDER BY a.starts_at, a.id"
        ))
        .bind(&clinic)
        .bind(to_micros(since))
        .bind(to_micros(until))
        .fetch_all(&mut *tx)
        .await
        ?;
        let mut out = Vec::with_capacity(rows.len());
        for r in &rows {
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
    let ids: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM appointments WHERE status = 'booked' AND reminder_at IS NULL AND starts_at > $1 AND starts_at <= $2 \
         AND patient_id IN (SELECT id FROM patients WHERE erased_at IS NULL) ORDER BY starts_at LIMIT 500",
    )
    .bind(now)
    .bind(horizon)
    .fetch_all(cab.store().pool())
    .await
    ?;
    let ctx = AuditContext::system();
    let mut queued = 0;
    for id in ids {
        let done = remind(cab, &ctx, &id, now).await;
        let settle = "UPDATE appointments SET reminder_at = $1 WHERE id = $2";
        queued += crate::cabinet::tally(cab, done, "appointment_reminder", &id, settle, now).await?;
    }
    Ok(queued)
}

/// Queues the reminder of one visit; `false` if another process claimed it first.
async fn remind(cab: &Cabinet, ctx: &AuditContext, id: &str, now: i64) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    let claimed = sqlx::query(
        "UPDATE appointments SET reminder_at = $1 WHERE id = $2 AND reminder_at IS NULL AND status = 'booked'",
    )
    .bind(now)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if claimed.rows_affected() != 1 {
        return Ok(false);
    }
    let row = sqlx::query(crate::store::composed_sql!("{SELECT} WHERE a.id = $1")).bind(id).fetch_one(&mut *tx).await?;
    let a = from_row(&mut tx, &row, now).await?;
    enqueue_message(cab, &mut tx, ctx, "reminder", &a, now).await?;
    tx.commit().await?;
    Ok(true)
}

fn to_micros_duration(d: time::Duration) -> i64 {
    i64::try_from(d.whole_microseconds()).unwrap_or(i64::MAX)
}
