//! Directory, schedules, appointments (R8), clinic attachment (R11) and staff: thin wrappers
//! that convert types; every rule lives in the core.

use pyo3::prelude::*;

use crate::convert::utc;
use crate::runtime::block_on;

pub(crate) use kabinet::{
    Appointment, AttachmentEvent, AttachmentInfo, Clinic, PatientRef, PendingConfirmation, Practitioner, Region, Slot,
    StaffAccount, StaffMember,
};

/// Reading the directory.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Directory {
    pub(crate) inner: kabinet::Directory,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Directory {
    /// Every region, by code.
    fn regions(&self, py: Python<'_>) -> PyResult<Vec<Region>> {
        let d = self.inner.clone();
        let list = block_on(py, self.locale, async move { d.regions().await })?;
        Ok(list)
    }

    /// Clinics of a region, by name.
    fn clinics(&self, py: Python<'_>, region_code: String) -> PyResult<Vec<Clinic>> {
        let d = self.inner.clone();
        let list = block_on(py, self.locale, async move { d.clinics(&region_code).await })?;
        Ok(list)
    }

    /// A clinic by code, or by name (case-, ё/е- and quote-insensitive).
    fn find_clinic(&self, py: Python<'_>, code_or_name: String) -> PyResult<Clinic> {
        let d = self.inner.clone();
        block_on(py, self.locale, async move { d.find_clinic(&code_or_name).await })
    }

    /// Practitioners by specialization, clinic and visit type.
    #[pyo3(signature = (specialization = None, clinic_id = None, visit_type = None))]
    fn practitioners(
        &self,
        py: Python<'_>,
        specialization: Option<String>,
        clinic_id: Option<String>,
        visit_type: Option<String>,
    ) -> PyResult<Vec<Practitioner>> {
        let d = self.inner.clone();
        let list = block_on(py, self.locale, async move {
            d.practitioners(specialization.as_deref(), clinic_id.as_deref(), visit_type.as_deref()).await
        })?;
        Ok(list)
    }

    /// Documents a visit type needs.
    fn required_documents(&self, py: Python<'_>, visit_type: String) -> PyResult<Vec<String>> {
        let d = self.inner.clone();
        block_on(py, self.locale, async move { d.required_documents(&visit_type).await })
    }
}

/// Operator changes to the directory and schedules.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct DirectoryAdmin {
    pub(crate) inner: kabinet::DirectoryAdmin,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl DirectoryAdmin {
    /// Adds a region.
    fn add_region(&self, py: Python<'_>, code: String, name: String) -> PyResult<Region> {
        let d = self.inner.clone();
        let r = block_on(py, self.locale, async move { d.add_region(&code, &name).await })?;
        Ok(r)
    }

    /// Adds a clinic.
    fn add_clinic(
        &self,
        py: Python<'_>,
        region_code: String,
        code: String,
        name: String,
        address: String,
        opening_hours: String,
    ) -> PyResult<Clinic> {
        let d = self.inner.clone();
        let c = block_on(py, self.locale, async move {
            d.add_clinic(&region_code, &code, &name, &address, &opening_hours).await
        })?;
        Ok(c)
    }

    /// Adds a practitioner with the visit types they take.
    fn add_practitioner(
        &self,
        py: Python<'_>,
        clinic_id: String,
        full_name: String,
        specialization: String,
        visit_types: Vec<String>,
    ) -> PyResult<Practitioner> {
        let d = self.inner.clone();
        let p = block_on(py, self.locale, async move {
            d.add_practitioner(&clinic_id, &full_name, &specialization, &visit_types).await
        })?;
        Ok(p)
    }

    /// Sets the documents a visit type needs.
    fn set_required_documents(&self, py: Python<'_>, visit_type: String, documents: Vec<String>) -> PyResult<()> {
        let d = self.inner.clone();
        block_on(py, self.locale, async move { d.set_required_documents(&visit_type, &documents).await })
    }

    /// Opens slots of `minutes` for a practitioner between `start` and `end`.
    fn open_slots(
        &self,
        py: Python<'_>,
        practitioner_id: String,
        start: time::OffsetDateTime,
        end: time::OffsetDateTime,
        minutes: i64,
        visit_type: String,
    ) -> PyResult<Vec<Slot>> {
        let (start, end) = (utc(start), utc(end));
        let d = self.inner.clone();
        let list = block_on(py, self.locale, async move {
            d.open_slots(&practitioner_id, start, end, minutes, &visit_type).await
        })?;
        Ok(list)
    }
}

/// The signed-in patient's appointments.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Appointments {
    pub(crate) inner: kabinet::Appointments,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Appointments {
    /// Free slots of a practitioner starting in `[since, until)`.
    fn free_slots(
        &self,
        py: Python<'_>,
        practitioner_id: String,
        since: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> PyResult<Vec<Slot>> {
        let (since, until) = (utc(since), utc(until));
        let a = self.inner.clone();
        let list = block_on(py, self.locale, async move { a.free_slots(&practitioner_id, since, until).await })?;
        Ok(list)
    }

    /// Books a slot (one patient per slot; `Conflict` `slot.taken` if someone was faster).
    fn book(&self, py: Python<'_>, slot_id: String) -> PyResult<Appointment> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.book(&slot_id).await })
    }

    /// Moves a visit to another slot, until the deadline.
    fn reschedule(&self, py: Python<'_>, appointment_id: String, new_slot_id: String) -> PyResult<Appointment> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.reschedule(&appointment_id, &new_slot_id).await })
    }

    /// Cancels a visit, until the deadline (`Conflict` `deadline.passed` after it).
    fn cancel(&self, py: Python<'_>, appointment_id: String) -> PyResult<Appointment> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.cancel(&appointment_id).await })
    }

    /// The visit card as a PDF.
    fn card_pdf<'py>(&self, py: Python<'py>, appointment_id: String) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let a = self.inner.clone();
        let bytes = block_on(py, self.locale, async move { a.card_pdf(&appointment_id).await })?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }

    /// Planned visits (`upcoming=True`) or past and cancelled ones.
    #[pyo3(signature = (upcoming = true))]
    fn list(&self, py: Python<'_>, upcoming: bool) -> PyResult<Vec<Appointment>> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.list(upcoming).await })
    }
}

/// The signed-in patient's clinic attachment.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct ClinicAttachment {
    pub(crate) inner: kabinet::Attachment,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl ClinicAttachment {
    /// The current attachment, or None.
    fn current(&self, py: Python<'_>) -> PyResult<Option<AttachmentInfo>> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.current().await })
    }

    /// Attachments and detachments with their times, newest first.
    fn history(&self, py: Python<'_>) -> PyResult<Vec<AttachmentEvent>> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.history().await })
    }

    /// Asks to attach (by clinic code or name) with passport, SNILS and OMS policy.
    fn attach(
        &self,
        py: Python<'_>,
        clinic_code: String,
        passport: String,
        snils: String,
        oms_policy: String,
    ) -> PyResult<PendingConfirmation> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.attach(&clinic_code, &passport, &snils, &oms_policy).await })
    }

    /// Asks to end the current attachment.
    fn detach(&self, py: Python<'_>) -> PyResult<PendingConfirmation> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.detach().await })
    }

    /// Confirms an attach or detach with its SMS code.
    fn confirm(&self, py: Python<'_>, pending_id: String, code: String) -> PyResult<AttachmentInfo> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.confirm(&pending_id, &code).await })
    }
}

/// Operator management of staff accounts.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct SystemStaff {
    pub(crate) inner: kabinet::SystemStaff,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl SystemStaff {
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

/// Patients of a staff member's clinic.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct StaffPatients {
    pub(crate) inner: kabinet::StaffPatients,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl StaffPatients {
    /// Finds a patient of the clinic by SNILS or OMS policy.
    #[pyo3(signature = (snils = None, oms_policy = None))]
    fn find(&self, py: Python<'_>, snils: Option<String>, oms_policy: Option<String>) -> PyResult<Vec<PatientRef>> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.find(snils.as_deref(), oms_policy.as_deref()).await })
    }

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
        let birth = birth_date;
        let s = self.inner.clone();
        block_on(py, self.locale, async move {
            s.record_card(&patient_id, &surname, &given_name, patronymic.as_deref(), birth).await
        })
    }

    /// Patients attached to the clinic.
    fn attached(&self, py: Python<'_>) -> PyResult<Vec<PatientRef>> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.attached().await })
    }

    /// One page of `attached`: at most `limit` patients after `cursor`.
    #[pyo3(signature = (limit = None, cursor = None))]
    fn attached_page(
        &self,
        py: Python<'_>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> PyResult<kabinet::PatientRefPage> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.attached_page(limit, cursor.as_deref()).await })
    }
}

/// Appointments at a staff member's clinic.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct ClinicAppointments {
    pub(crate) inner: kabinet::ClinicAppointments,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl ClinicAppointments {
    /// Booked visits starting in `[since, until)`.
    fn list(
        &self,
        py: Python<'_>,
        since: time::OffsetDateTime,
        until: time::OffsetDateTime,
    ) -> PyResult<Vec<Appointment>> {
        let (since, until) = (utc(since), utc(until));
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.list(since, until).await })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Region>()?;
    m.add_class::<Clinic>()?;
    m.add_class::<Practitioner>()?;
    m.add_class::<Slot>()?;
    m.add_class::<Appointment>()?;
    m.add_class::<Directory>()?;
    m.add_class::<DirectoryAdmin>()?;
    m.add_class::<Appointments>()?;
    m.add_class::<PendingConfirmation>()?;
    m.add_class::<AttachmentInfo>()?;
    m.add_class::<AttachmentEvent>()?;
    m.add_class::<ClinicAttachment>()?;
    m.add_class::<StaffAccount>()?;
    m.add_class::<SystemStaff>()?;
    m.add_class::<StaffMember>()?;
    m.add_class::<PatientRef>()?;
    m.add_class::<StaffPatients>()?;
    m.add_class::<ClinicAppointments>()?;
    Ok(())
}
