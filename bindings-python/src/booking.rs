//! Directory, schedules, appointments (R8), clinic attachment (R11) and staff: thin wrappers
//! that convert types; every rule lives in the core.

use pyo3::prelude::*;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::{
    Appointment, AttachmentEvent, AttachmentInfo, Clinic, PatientRef, PendingConfirmation, Practitioner, Region, Slot,
    StaffAccount, StaffMember,
};

delegate! {
    /// Reading the directory.
    class Directory(kabinet::Directory) via |d, _l| d.clone();
    /// Every region, by code.
    fn regions() -> Vec<Region>;
    /// Clinics of a region, by name.
    fn clinics(region_code: String) -> Vec<Clinic>;
    /// A clinic by code, or by name (case-, ё/е- and quote-insensitive).
    fn find_clinic(code_or_name: String) -> Clinic;
    /// Practitioners by specialization, clinic and visit type.
    #[pyo3(signature = (specialization = None, clinic_id = None, visit_type = None))]
    fn practitioners(
        specialization: Option<String>,
        clinic_id: Option<String>,
        visit_type: Option<String>,
    ) -> Vec<Practitioner>;
    /// Documents a visit type needs.
    fn required_documents(visit_type: String) -> Vec<String>;
}

delegate! {
    /// Operator changes to the directory and schedules.
    class DirectoryAdmin(kabinet::DirectoryAdmin) via |d, _l| d.clone();
    /// Adds a region with its IANA time zone (default `"Europe/Moscow"`).
    #[pyo3(signature = (code, name, time_zone = None))]
    fn add_region(code: String, name: String, time_zone: Option<String>) -> Region;
    /// Gives a clinic its own IANA time zone, or (`None`) its region's again.
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
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
        minutes: i64,
        visit_type: String,
    ) -> Vec<Slot>;
}

delegate! {
    /// The signed-in patient's appointments.
    class Appointments(kabinet::Appointments) via |a, _l| a.clone();
    /// Free slots of a practitioner starting in `[since, until)`.
    fn free_slots(practitioner_id: String, since: time::OffsetDateTime, until: time::OffsetDateTime) -> Vec<Slot>;
    /// Books a slot (one patient per slot; `Conflict` `slot.taken` if someone was faster).
    fn book(slot_id: String) -> Appointment;
    /// Moves a visit to another slot, until the deadline.
    fn reschedule(appointment_id: String, new_slot_id: String) -> Appointment;
    /// Cancels a visit, until the deadline (`Conflict` `deadline.passed` after it).
    fn cancel(appointment_id: String) -> Appointment;
    /// Planned visits (`upcoming=True`) or past and cancelled ones.
    #[pyo3(signature = (upcoming = true))]
    fn list(upcoming: bool) -> Vec<Appointment>;
    extra {
    /// The visit card as a PDF.
    fn card_pdf<'py>(&self, py: Python<'py>, appointment_id: String) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let a = self.inner.clone();
        let bytes = block_on(py, self.locale, async move { a.card_pdf(&appointment_id).await })?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }
    }
}

delegate! {
    /// The signed-in patient's clinic attachment.
    class ClinicAttachment(kabinet::Attachment) via |a, _l| a.clone();
    /// The current attachment, or None.
    fn current() -> Option<AttachmentInfo>;
    /// Attachments and detachments with their times, newest first.
    fn history() -> Vec<AttachmentEvent>;
    /// Asks to attach (by clinic code or name) with passport, SNILS and OMS policy; `reason`
    /// `"voluntary"` (limited per year) or `"residence_change"`; `method` `"sms"` or a
    /// `confirmer` method.
    #[pyo3(signature = (clinic_code, passport, snils, oms_policy, reason = None, method = None))]
    fn attach(
        clinic_code: String,
        passport: String,
        snils: String,
        oms_policy: String,
        reason: Option<kabinet::AttachmentReason>,
        method: Option<String>,
    ) -> PendingConfirmation;
    /// Asks to end the current attachment.
    #[pyo3(signature = (method = None))]
    fn detach(method: Option<String>) -> PendingConfirmation;
    /// Confirms an attach or detach with its SMS code or the host method's proof.
    fn confirm(pending_id: String, code: String) -> AttachmentInfo;
}

delegate! {
    /// Operator management of staff accounts.
    class SystemStaff(kabinet::SystemStaff) via |s, _l| s.clone();
    extra {
    /// Creates a staff account (always with TOTP); the secret is returned once.
    #[allow(clippy::too_many_arguments)]
    fn create(
        &self,
        py: Python<'_>,
        clinic_id: String,
        role: kabinet::StaffRole,
        full_name: String,
        phone: String,
        email: String,
        password: String,
    ) -> PyResult<StaffAccount> {
        let s = self.inner.clone();
        let new = kabinet::NewStaff { clinic_id, role, full_name, phone, email, password };
        block_on(py, self.locale, async move { s.create(new).await })
    }
    }
}

delegate! {
    /// Patients of a staff member's clinic.
    class StaffPatients(kabinet::StaffPatients) via |s, _l| s.clone();
    /// Finds a patient of the clinic by SNILS or OMS policy.
    #[pyo3(signature = (snils = None, oms_policy = None))]
    fn find(snils: Option<String>, oms_policy: Option<String>) -> Vec<PatientRef>;
    /// Patients attached to the clinic.
    fn attached() -> Vec<PatientRef>;
    /// One page of `attached`: at most `limit` patients after `cursor`.
    #[pyo3(signature = (limit = None, cursor = None))]
    fn attached_page(limit: Option<u32>, cursor: Option<String>) -> kabinet::PatientRefPage;
    extra {
    /// Records the clinic's card (name, birth date) of a patient; completeness flags differences.
    #[pyo3(signature = (patient_id, surname, given_name, birth_date, patronymic = None))]
    fn record_card(
        &self,
        py: Python<'_>,
        patient_id: String,
        surname: String,
        given_name: String,
        birth_date: time::Date,
        patronymic: Option<String>,
    ) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move {
            s.record_card(&patient_id, &surname, &given_name, patronymic.as_deref(), birth_date).await
        })
    }
    }
}

delegate! {
    /// Appointments at a staff member's clinic.
    class ClinicAppointments(kabinet::ClinicAppointments) via |s, _l| s.clone();
    /// Booked visits starting in `[since, until)`.
    fn list(since: time::OffsetDateTime, until: time::OffsetDateTime) -> Vec<Appointment>;
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        Region, Clinic, Practitioner, Slot, Appointment, Directory, DirectoryAdmin, Appointments,
        PendingConfirmation, AttachmentInfo, AttachmentEvent, ClinicAttachment, StaffAccount, SystemStaff,
        StaffMember, PatientRef, StaffPatients, ClinicAppointments,
    }
    Ok(())
}
