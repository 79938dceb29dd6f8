//! Directory, schedules, appointments (R8), clinic attachment (R11) and staff for Kotlin and
//! Swift: type conversions only.

use kabinet_ffi_guard::guard;
use std::time::SystemTime;

use kabinet::Locale;

// The core's `AttachmentInfo`, named `Attachment` in Kotlin and Swift.
pub use kabinet::AttachmentInfo as Attachment;
pub use kabinet::{
    Appointment, AttachmentEvent, Clinic, PatientRef, PendingConfirmation, Practitioner, Region, Slot, StaffAccount,
    StaffMember,
};

use crate::KabinetError;
use crate::error::IntoFfi;

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
        self.inner.regions().await.ffi(self.locale)
    }

    /// Clinics of a region, by name.
    pub async fn clinics(&self, region_code: String) -> Result<Vec<Clinic>, KabinetError> {
        self.inner.clinics(&region_code).await.ffi(self.locale)
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
        self.inner
            .practitioners(specialization.as_deref(), clinic_id.as_deref(), visit_type.as_deref())
            .await
            .ffi(self.locale)
    }

    /// The documents to bring to a visit of `visit_type`.
    pub async fn required_documents(&self, visit_type: String) -> Result<Vec<String>, KabinetError> {
        self.inner.required_documents(&visit_type).await.ffi(self.locale)
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
        self.inner.add_region(&code, &name).await.ffi(self.locale)
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
        self.inner.add_clinic(&region_code, &code, &name, &address, &opening_hours).await.ffi(self.locale)
    }

    /// Adds a practitioner with the visit types they take.
    pub async fn add_practitioner(
        &self,
        clinic_id: String,
        full_name: String,
        specialization: String,
        visit_types: Vec<String>,
    ) -> Result<Practitioner, KabinetError> {
        self.inner.add_practitioner(&clinic_id, &full_name, &specialization, &visit_types).await.ffi(self.locale)
    }

    /// Sets the documents a visit type needs.
    pub async fn set_required_documents(&self, visit_type: String, documents: Vec<String>) -> Result<(), KabinetError> {
        self.inner.set_required_documents(&visit_type, &documents).await.ffi(self.locale)
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
        self.inner.open_slots(&practitioner_id, start.into(), end.into(), minutes, &visit_type).await.ffi(self.locale)
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
        self.inner.free_slots(&practitioner_id, since.into(), until.into()).await.ffi(self.locale)
    }

    /// Books a slot (one patient per slot: `Conflict` `slot.taken` if someone was faster).
    pub async fn book(&self, slot_id: String) -> Result<Appointment, KabinetError> {
        self.inner.book(&slot_id).await.ffi(self.locale)
    }

    /// Moves a visit to another slot, until the deadline.
    pub async fn reschedule(&self, appointment_id: String, new_slot_id: String) -> Result<Appointment, KabinetError> {
        self.inner.reschedule(&appointment_id, &new_slot_id).await.ffi(self.locale)
    }

    /// Cancels a visit, until the deadline.
    pub async fn cancel(&self, appointment_id: String) -> Result<Appointment, KabinetError> {
        self.inner.cancel(&appointment_id).await.ffi(self.locale)
    }

    /// The visit card as a PDF.
    pub async fn card_pdf(&self, appointment_id: String) -> Result<Vec<u8>, KabinetError> {
        self.inner.card_pdf(&appointment_id).await.ffi(self.locale)
    }

    /// Planned visits (`upcoming`) or past and cancelled ones.
    pub async fn list(&self, upcoming: bool) -> Result<Vec<Appointment>, KabinetError> {
        self.inner.list(upcoming).await.ffi(self.locale)
    }
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
        self.inner.current().await.ffi(self.locale)
    }

    /// Attachments and detachments with their times, newest first.
    pub async fn history(&self) -> Result<Vec<AttachmentEvent>, KabinetError> {
        self.inner.history().await.ffi(self.locale)
    }

    /// Asks to attach (by clinic code or name) with passport, SNILS and OMS policy.
    pub async fn attach(
        &self,
        clinic_code: String,
        passport: String,
        snils: String,
        oms_policy: String,
    ) -> Result<PendingConfirmation, KabinetError> {
        self.inner.attach(&clinic_code, &passport, &snils, &oms_policy).await.ffi(self.locale)
    }

    /// Asks to end the current attachment.
    pub async fn detach(&self) -> Result<PendingConfirmation, KabinetError> {
        self.inner.detach().await.ffi(self.locale)
    }

    /// Confirms an attach or detach with its SMS code.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<Attachment, KabinetError> {
        self.inner.confirm(&pending_id, &code).await.ffi(self.locale)
    }
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
        role: kabinet::StaffRole,
        full_name: String,
        phone: String,
        email: String,
        password: String,
    ) -> Result<StaffAccount, KabinetError> {
        let new = kabinet::NewStaff { clinic_id, role, full_name, phone, email, password };
        self.inner.create(new).await.ffi(self.locale)
    }
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
        self.inner.find(snils.as_deref(), oms_policy.as_deref()).await.ffi(self.locale)
    }

    /// Records the clinic's card (name, ISO birth date) of a patient; completeness flags differences.
    pub async fn record_card(
        &self,
        patient_id: String,
        surname: String,
        given_name: String,
        patronymic: Option<String>,
        birth_date: time::Date,
    ) -> Result<(), KabinetError> {
        self.inner
            .record_card(&patient_id, &surname, &given_name, patronymic.as_deref(), birth_date)
            .await
            .ffi(self.locale)
    }

    /// Patients attached to the clinic.
    pub async fn attached(&self) -> Result<Vec<PatientRef>, KabinetError> {
        self.inner.attached().await.ffi(self.locale)
    }

    /// One page of `attached`: at most `limit` patients (default 100) after `cursor`.
    #[uniffi::method(default(limit = None, cursor = None))]
    pub async fn attached_page(
        &self,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::PatientRefPage, KabinetError> {
        self.inner.attached_page(limit, cursor.as_deref()).await.ffi(self.locale)
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
        self.inner.list(since.into(), until.into()).await.ffi(self.locale)
    }
}

/// Staff features of a session; `PermissionDenied` (`role.staff_only`) for patients.
pub(crate) fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    me.staff().ffi(locale)
}
