//! Directory, schedules, appointments (R8), clinic attachment (R11) and staff for Kotlin and
//! Swift: type conversions only.

use kabinet_ffi_guard::guard;
use std::time::SystemTime;

use kabinet::Locale;

pub use kabinet::{Clinic, Practitioner, Region, Slot};

use crate::KabinetError;
use crate::error::IntoFfi;

/// A visit card.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Appointment {
    pub id: String,
    pub patient_id: String,
    pub slot_id: String,
    pub practitioner_id: String,
    pub practitioner_name: String,
    pub specialization: String,
    pub clinic_id: String,
    pub clinic_name: String,
    pub clinic_address: String,
    pub starts_at: SystemTime,
    pub ends_at: SystemTime,
    pub visit_type: String,
    pub confirmation_code: String,
    pub required_documents: Vec<String>,
    pub status: String,
}

impl From<kabinet::Appointment> for Appointment {
    fn from(a: kabinet::Appointment) -> Self {
        Appointment {
            id: a.id,
            patient_id: a.patient_id,
            slot_id: a.slot_id,
            practitioner_id: a.practitioner_id,
            practitioner_name: a.practitioner_name,
            specialization: a.specialization,
            clinic_id: a.clinic_id,
            clinic_name: a.clinic_name,
            clinic_address: a.clinic_address,
            starts_at: a.starts_at.into(),
            ends_at: a.ends_at.into(),
            visit_type: a.visit_type,
            confirmation_code: a.confirmation_code,
            required_documents: a.required_documents,
            status: a.status,
        }
    }
}

fn all<A, B: From<A>>(list: Vec<A>) -> Vec<B> {
    list.into_iter().map(B::from).collect()
}

/// Reading the directory.
#[derive(uniffi::Object)]
pub struct Directory {
    pub(crate) inner: kabinet::Directory,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Directory {
    /// Every region, by code.
    pub async fn regions(&self) -> Result<Vec<Region>, KabinetError> {
        let list = self.inner.regions().await.ffi(self.locale)?;
        Ok(list.into_iter().map(|r| Region { code: r.code, name: r.name }).collect())
    }

    /// Clinics of a region, by name.
    pub async fn clinics(&self, region_code: String) -> Result<Vec<Clinic>, KabinetError> {
        Ok(all(self.inner.clinics(&region_code).await.ffi(self.locale)?))
    }

    /// A clinic by code, or by name (case-, ё/е- and quote-insensitive).
    pub async fn find_clinic(&self, code_or_name: String) -> Result<Clinic, KabinetError> {
        self.inner.find_clinic(&code_or_name).await.ffi(self.locale)
    }

    /// Practitioners by specialization, clinic and visit type.
    pub async fn practitioners(
        &self,
        specialization: Option<String>,
        clinic_id: Option<String>,
        visit_type: Option<String>,
    ) -> Result<Vec<Practitioner>, KabinetError> {
        let list = self
            .inner
            .practitioners(specialization.as_deref(), clinic_id.as_deref(), visit_type.as_deref())
            .await
            .ffi(self.locale)?;
        Ok(all(list))
    }
}

/// Operator changes to the directory and schedules.
#[derive(uniffi::Object)]
pub struct DirectoryAdmin {
    pub(crate) inner: kabinet::DirectoryAdmin,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl DirectoryAdmin {
    /// Adds a region.
    pub async fn add_region(&self, code: String, name: String) -> Result<Region, KabinetError> {
        let r = self.inner.add_region(&code, &name).await.ffi(self.locale)?;
        Ok(Region { code: r.code, name: r.name })
    }

    /// Adds a clinic.
    pub async fn add_clinic(
        &self,
        region_code: String,
        code: String,
        name: String,
        address: String,
        opening_hours: String,
    ) -> Result<Clinic, KabinetError> {
        let c = self.inner.add_clinic(&region_code, &code, &name, &address, &opening_hours).await.ffi(self.locale)?;
        Ok(c)
    }

    /// Adds a practitioner with the visit types they take.
    pub async fn add_practitioner(
        &self,
        clinic_id: String,
        full_name: String,
        specialization: String,
        visit_types: Vec<String>,
    ) -> Result<Practitioner, KabinetError> {
        let p = self
            .inner
            .add_practitioner(&clinic_id, &full_name, &specialization, &visit_types)
            .await
            .ffi(self.locale)?;
        Ok(p)
    }

    /// Opens slots of `minutes` for a practitioner between `start` and `end`.
    pub async fn open_slots(
        &self,
        practitioner_id: String,
        start: SystemTime,
        end: SystemTime,
        minutes: i64,
        visit_type: String,
    ) -> Result<Vec<Slot>, KabinetError> {
        let list = self
            .inner
            .open_slots(&practitioner_id, start.into(), end.into(), minutes, &visit_type)
            .await
            .ffi(self.locale)?;
        Ok(all(list))
    }
}

/// The signed-in patient's appointments.
#[derive(uniffi::Object)]
pub struct Appointments {
    pub(crate) inner: kabinet::Appointments,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Appointments {
    /// Free slots of a practitioner starting in `[since, until)`.
    pub async fn free_slots(
        &self,
        practitioner_id: String,
        since: SystemTime,
        until: SystemTime,
    ) -> Result<Vec<Slot>, KabinetError> {
        Ok(all(self.inner.free_slots(&practitioner_id, since.into(), until.into()).await.ffi(self.locale)?))
    }

    /// Books a slot (one patient per slot: `Conflict` `slot.taken` if someone was faster).
    pub async fn book(&self, slot_id: String) -> Result<Appointment, KabinetError> {
        Ok(self.inner.book(&slot_id).await.ffi(self.locale)?.into())
    }

    /// Moves a visit to another slot, until the deadline.
    pub async fn reschedule(&self, appointment_id: String, new_slot_id: String) -> Result<Appointment, KabinetError> {
        Ok(self.inner.reschedule(&appointment_id, &new_slot_id).await.ffi(self.locale)?.into())
    }

    /// Cancels a visit, until the deadline.
    pub async fn cancel(&self, appointment_id: String) -> Result<Appointment, KabinetError> {
        Ok(self.inner.cancel(&appointment_id).await.ffi(self.locale)?.into())
    }

    /// The visit card as a PDF.
    pub async fn card_pdf(&self, appointment_id: String) -> Result<Vec<u8>, KabinetError> {
        self.inner.card_pdf(&appointment_id).await.ffi(self.locale)
    }

    /// Planned visits (`upcoming`) or past and cancelled ones.
    pub async fn list(&self, upcoming: bool) -> Result<Vec<Appointment>, KabinetError> {
        Ok(all(self.inner.list(upcoming).await.ffi(self.locale)?))
    }
}

/// An attach or detach waiting for its one-time code.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct PendingConfirmation {
    pub id: String,
    pub action: String,
}

/// An attachment to a clinic.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Attachment {
    pub id: String,
    pub clinic_id: String,
    pub clinic_code: String,
    pub clinic_name: String,
    pub clinic_address: String,
    pub attached_at: SystemTime,
    pub detached_at: Option<SystemTime>,
    pub status: String,
    pub document_id: Option<String>,
}

impl From<kabinet::AttachmentInfo> for Attachment {
    fn from(a: kabinet::AttachmentInfo) -> Self {
        Attachment {
            id: a.id,
            clinic_id: a.clinic_id,
            clinic_code: a.clinic_code,
            clinic_name: a.clinic_name,
            clinic_address: a.clinic_address,
            attached_at: a.attached_at.into(),
            detached_at: a.detached_at.map(Into::into),
            status: a.status,
            document_id: a.document_id,
        }
    }
}

/// One change in the attachment history.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct AttachmentEvent {
    pub action: String,
    pub clinic_id: String,
    pub clinic_code: String,
    pub clinic_name: String,
    pub at: SystemTime,
}

/// The signed-in patient's clinic attachment.
#[derive(uniffi::Object)]
pub struct ClinicAttachment {
    pub(crate) inner: kabinet::Attachment,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl ClinicAttachment {
    /// The current attachment, if any.
    pub async fn current(&self) -> Result<Option<Attachment>, KabinetError> {
        Ok(self.inner.current().await.ffi(self.locale)?.map(Into::into))
    }

    /// Attachments and detachments with their times, newest first.
    pub async fn history(&self) -> Result<Vec<AttachmentEvent>, KabinetError> {
        let list = self.inner.history().await.ffi(self.locale)?;
        Ok(list
            .into_iter()
            .map(|e| AttachmentEvent {
                action: e.action,
                clinic_id: e.clinic_id,
                clinic_code: e.clinic_code,
                clinic_name: e.clinic_name,
                at: e.at.into(),
            })
            .collect())
    }

    /// Asks to attach (by clinic code or name) with passport, SNILS and OMS policy.
    pub async fn attach(
        &self,
        clinic_code: String,
        passport: String,
        snils: String,
        oms_policy: String,
    ) -> Result<PendingConfirmation, KabinetError> {
        let p = self.inner.attach(&clinic_code, &passport, &snils, &oms_policy).await.ffi(self.locale)?;
        Ok(PendingConfirmation { id: p.id, action: p.action })
    }

    /// Asks to end the current attachment.
    pub async fn detach(&self) -> Result<PendingConfirmation, KabinetError> {
        let p = self.inner.detach().await.ffi(self.locale)?;
        Ok(PendingConfirmation { id: p.id, action: p.action })
    }

    /// Confirms an attach or detach with its SMS code.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<Attachment, KabinetError> {
        Ok(self.inner.confirm(&pending_id, &code).await.ffi(self.locale)?.into())
    }
}

/// A provisioned staff account with its TOTP secret (shown once).
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct StaffAccount {
    pub id: String,
    pub totp_secret_base32: String,
    pub otpauth_uri: String,
}

/// Operator management of staff accounts.
#[derive(uniffi::Object)]
pub struct SystemStaff {
    pub(crate) inner: kabinet::SystemStaff,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl SystemStaff {
    /// Creates a staff account (always with TOTP).
    pub async fn create(
        &self,
        clinic_id: String,
        role: String,
        full_name: String,
        phone: String,
        email: String,
        password: String,
    ) -> Result<StaffAccount, KabinetError> {
        let new = kabinet::NewStaff { clinic_id, role, full_name, phone, email, password };
        let a = self.inner.create(new).await.ffi(self.locale)?;
        Ok(StaffAccount { id: a.id, totp_secret_base32: a.totp_secret_base32, otpauth_uri: a.otpauth_uri })
    }
}

/// A member of a clinic's staff.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct StaffMember {
    pub account_id: String,
    pub clinic_id: String,
    pub role: String,
    pub full_name: String,
}

/// A patient as staff see them in lists.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct PatientRef {
    pub id: String,
    pub full_name: String,
    /// ISO date `YYYY-MM-DD`.
    pub birth_date: String,
}

fn refs(list: Vec<kabinet::PatientRef>) -> Vec<PatientRef> {
    list.into_iter()
        .map(|p| PatientRef { id: p.id, full_name: p.full_name, birth_date: p.birth_date.to_string() })
        .collect()
}

/// Patients of a staff member's clinic.
#[derive(uniffi::Object)]
pub struct StaffPatients {
    pub(crate) inner: kabinet::StaffPatients,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl StaffPatients {
    /// Finds a patient of the clinic by SNILS or OMS policy.
    pub async fn find(
        &self,
        snils: Option<String>,
        oms_policy: Option<String>,
    ) -> Result<Vec<PatientRef>, KabinetError> {
        Ok(refs(self.inner.find(snils.as_deref(), oms_policy.as_deref()).await.ffi(self.locale)?))
    }

    /// Records the clinic's card (name, ISO birth date) of a patient; completeness flags differences.
    pub async fn record_card(
        &self,
        patient_id: String,
        surname: String,
        given_name: String,
        patronymic: Option<String>,
        birth_date: String,
    ) -> Result<(), KabinetError> {
        let birth = crate::patients::parse_date(&birth_date)?;
        self.inner.record_card(&patient_id, &surname, &given_name, patronymic.as_deref(), birth).await.ffi(self.locale)
    }

    /// Patients attached to the clinic.
    pub async fn attached(&self) -> Result<Vec<PatientRef>, KabinetError> {
        Ok(refs(self.inner.attached().await.ffi(self.locale)?))
    }
}

/// Appointments at a staff member's clinic.
#[derive(uniffi::Object)]
pub struct ClinicAppointments {
    pub(crate) inner: kabinet::ClinicAppointments,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl ClinicAppointments {
    /// Booked visits starting in `[since, until)`.
    pub async fn list(&self, since: SystemTime, until: SystemTime) -> Result<Vec<Appointment>, KabinetError> {
        Ok(all(self.inner.list(since.into(), until.into()).await.ffi(self.locale)?))
    }
}

/// Staff features of a session; `PermissionDenied` (`role.staff_only`) for patients.
pub(crate) fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    me.staff().ffi(locale)
}
