//! Directory, schedules, appointments (R8), clinic attachment (R11) and staff for Kotlin and
//! Swift: type conversions only.

use std::time::SystemTime;

use kabinet::Locale;

// The core's `AttachmentInfo`, named `Attachment` in Kotlin and Swift.
pub use kabinet::AttachmentInfo as Attachment;
pub use kabinet::{
    Appointment, AttachmentEvent, Clinic, PatientRef, PendingConfirmation, Practitioner, Region, Slot, StaffAccount,
    StaffMember,
};

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

delegate! {
    /// Reading the directory.
    class Directory(inner: kabinet::Directory) via |h| h;
    /// Every region, by code.
    fn regions() -> Vec<Region>;
    /// Clinics of a region, by name.
    fn clinics(region_code: String) -> Vec<Clinic>;
    /// A clinic by code, or by name (case-, ё/е- and quote-insensitive).
    fn find_clinic(code_or_name: String) -> Clinic;
    /// Practitioners by specialization, clinic and visit type.
    fn practitioners(
        specialization: Option<String>,
        clinic_id: Option<String>,
        visit_type: Option<String>,
    ) -> Vec<Practitioner>;
    /// The documents to bring to a visit of `visit_type`.
    fn required_documents(visit_type: String) -> Vec<String>;
}

delegate! {
    /// Operator changes to the directory and schedules.
    class DirectoryAdmin(inner: kabinet::DirectoryAdmin) via |h| h;
    /// Adds a region with its IANA time zone (null: `"Europe/Moscow"`).
    #[uniffi::method(default(time_zone = None))]
    fn add_region(code: String, name: String, time_zone: Option<String>) -> Region;
    /// Gives a clinic its own IANA time zone, or (null) its region's again.
    fn set_clinic_time_zone(clinic_id: String, time_zone: Option<String>) -> Clinic;
    /// Adds a clinic.
    fn add_clinic(region_code: String, code: String, name: String, address: String, opening_hours: String) -> Clinic;
    /// Adds a practitioner with the visit types they take.
    fn add_practitioner(
        clinic_id: String,
        full_name: String,
        specialization: String,
        visit_types: Vec<String>,
    ) -> Practitioner;
    /// Sets the documents a visit type needs.
    fn set_required_documents(visit_type: String, documents: Vec<String>) -> ();
    /// Opens slots of `minutes` for a practitioner between `start` and `end`.
    fn open_slots(
        practitioner_id: String,
        start: SystemTime,
        end: SystemTime,
        minutes: i64,
        visit_type: String,
    ) -> Vec<Slot>;
}

delegate! {
    /// The signed-in patient's appointments.
    class Appointments(inner: kabinet::Appointments) via |h| h;
    /// Free slots of a practitioner starting in `[since, until)`.
    fn free_slots(practitioner_id: String, since: SystemTime, until: SystemTime) -> Vec<Slot>;
    /// Books a slot (one patient per slot: `Conflict` `slot.taken` if someone was faster).
    fn book(slot_id: String) -> Appointment;
    /// Moves a visit to another slot, until the deadline.
    fn reschedule(appointment_id: String, new_slot_id: String) -> Appointment;
    /// Cancels a visit, until the deadline.
    fn cancel(appointment_id: String) -> Appointment;
    /// The visit card as a PDF.
    fn card_pdf(appointment_id: String) -> Vec<u8>;
    /// Planned visits (`upcoming`) or past and cancelled ones.
    fn list(upcoming: bool) -> Vec<Appointment>;
}

delegate! {
    /// The signed-in patient's clinic attachment.
    class ClinicAttachment(inner: kabinet::Attachment) via |h| h;
    /// The current attachment, if any.
    fn current() -> Option<Attachment>;
    /// Attachments and detachments with their times, newest first.
    fn history() -> Vec<AttachmentEvent>;
    /// Asks to attach (by clinic code or name) with passport, SNILS and OMS policy; `reason`
    /// `VOLUNTARY` (null; limited per year) or `RESIDENCE_CHANGE`; `method` `"sms"` (null) or a
    /// `Confirmer` method.
    #[uniffi::method(default(reason = None, method = None))]
    fn attach(
        clinic_code: String,
        passport: String,
        snils: String,
        oms_policy: String,
        reason: Option<kabinet::AttachmentReason>,
        method: Option<String>,
    ) -> PendingConfirmation;
    /// Asks to end the current attachment.
    #[uniffi::method(default(method = None))]
    fn detach(method: Option<String>) -> PendingConfirmation;
    /// Confirms an attach or detach with its SMS code or the host method's proof.
    fn confirm(pending_id: String, code: String) -> Attachment;
}

delegate! {
    /// Operator management of staff accounts.
    class SystemStaff(inner: kabinet::SystemStaff) via |h| h;
    extra {
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
}

delegate! {
    /// Patients of a staff member's clinic.
    class StaffPatients(inner: kabinet::StaffPatients) via |h| h;
    /// Finds a patient of the clinic by SNILS or OMS policy.
    fn find(snils: Option<String>, oms_policy: Option<String>) -> Vec<PatientRef>;
    /// Records the clinic's card (name, ISO birth date) of a patient; completeness flags differences.
    fn record_card(
        patient_id: String,
        surname: String,
        given_name: String,
        patronymic: Option<String>,
        birth_date: time::Date,
    ) -> ();
    /// Patients attached to the clinic.
    fn attached() -> Vec<PatientRef>;
    /// One page of `attached`: at most `limit` patients (default 100) after `cursor`.
    #[uniffi::method(default(limit = None, cursor = None))]
    fn attached_page(limit: Option<u32>, cursor: Option<String>) -> kabinet::PatientRefPage;
}

delegate! {
    /// Appointments at a staff member's clinic.
    class ClinicAppointments(inner: kabinet::ClinicAppointments) via |h| h;
    /// Booked visits starting in `[since, until)`.
    fn list(since: SystemTime, until: SystemTime) -> Vec<Appointment>;
}

/// Staff features of a session; `PermissionDenied` (`role.staff_only`) for patients.
pub(crate) fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    me.staff().ffi(locale)
}
