//! Medical records (R12), corrections, lab results (R9), requests (R13), proxies (R20) and
//! completeness (R19) for Python: each class wraps the core type; no rule lives here.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::{
    Allergy, CorrectionRequest, HealthCertificate, Immunization, LabReport, LabResult, LabResultInput, MedicalItem,
    Medication, MissingItem, ProxyGrant, Request, RequestDocument, RequestMessage, Screening, Visit,
};

delegate! {
    /// Medical records: the patient's (or ward's) reading and correction requests, and the
    /// staff's `add_*` and `of_patient` (each side refuses the other role in the core).
    class Records(kabinet::Me) via |me, _l| me.records();
    /// Immunizations, newest first.
    fn immunizations() -> Vec<MedicalItem>;
    /// Screenings and check-ups, newest first.
    fn screenings() -> Vec<MedicalItem>;
    /// Visits, newest first.
    fn visits() -> Vec<MedicalItem>;
    /// Medications, newest first.
    fn medications() -> Vec<MedicalItem>;
    /// Allergies, newest first.
    fn allergies() -> Vec<MedicalItem>;
    /// Health certificates, newest first.
    fn certificates() -> Vec<MedicalItem>;
    /// The whole record as a FHIR R4 Bundle (JSON text).
    fn export_fhir() -> String;
    /// Asks for a correction of an item.
    fn request_correction(item_id: String, wanted_change: String) -> CorrectionRequest;
    /// Correction requests with their status, newest first.
    fn corrections() -> Vec<CorrectionRequest>;
    extra {
    /// Staff: adds any record object (`Immunization`, `Visit`, …).
    fn add(&self, py: Python<'_>, patient_id: String, record: kabinet::ItemData) -> PyResult<MedicalItem> {
        self.add_item(py, patient_id, record)
    }

    /// Adds an immunization.
    #[pyo3(signature = (patient_id, vaccine, date, dose = None, lot = None, performer = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_immunization(
        &self,
        py: Python<'_>,
        patient_id: String,
        vaccine: String,
        date: time::Date,
        dose: Option<String>,
        lot: Option<String>,
        performer: Option<String>,
    ) -> PyResult<MedicalItem> {
        let x = Immunization { vaccine, date, dose, lot, performer, next_due: None };
        self.add_item(py, patient_id, kabinet::ItemData::Immunization(x))
    }

    /// Adds a visit with `(icd10, text)` diagnoses.
    #[pyo3(signature = (patient_id, date, institution, diagnoses, procedures = Vec::new()))]
    fn add_visit(
        &self,
        py: Python<'_>,
        patient_id: String,
        date: time::Date,
        institution: String,
        diagnoses: Vec<kabinet::Diagnosis>,
        procedures: Vec<String>,
    ) -> PyResult<MedicalItem> {
        let x = Visit { date, institution, diagnoses, procedures };
        self.add_item(py, patient_id, kabinet::ItemData::Visit(x))
    }

    /// Adds a medication.
    #[pyo3(signature = (patient_id, name, dosage, schedule, start, prescriber, end = None))]
    #[allow(clippy::too_many_arguments)]
    fn add_medication(
        &self,
        py: Python<'_>,
        patient_id: String,
        name: String,
        dosage: String,
        schedule: String,
        start: time::Date,
        prescriber: String,
        end: Option<time::Date>,
    ) -> PyResult<MedicalItem> {
        let x = Medication { name, dosage, schedule, start, end, prescriber };
        self.add_item(py, patient_id, kabinet::ItemData::Medication(x))
    }

    /// Adds an allergy.
    #[pyo3(signature = (patient_id, substance, reaction, noted_on, severity = None))]
    fn add_allergy(
        &self,
        py: Python<'_>,
        patient_id: String,
        substance: String,
        reaction: String,
        noted_on: time::Date,
        severity: Option<kabinet::Severity>,
    ) -> PyResult<MedicalItem> {
        let x = Allergy { substance, reaction, severity, noted_on };
        self.add_item(py, patient_id, kabinet::ItemData::Allergy(x))
    }

    /// A patient's items of every kind.
    fn of_patient(&self, py: Python<'_>, patient_id: String) -> PyResult<Vec<MedicalItem>> {
        let r = self.staff()?;
        block_on(py, self.locale, async move { r.of_patient(&patient_id).await })
    }
    }
}

impl Records {
    fn staff(&self) -> PyResult<kabinet::StaffRecords> {
        self.inner.staff().map(|s| s.records()).map_err(|e| crate::errors::to_py(e, self.locale))
    }

    fn add_item(&self, py: Python<'_>, patient_id: String, data: kabinet::ItemData) -> PyResult<MedicalItem> {
        let r = self.staff()?;
        block_on(py, self.locale, async move { r.add(&patient_id, data).await })
    }
}

delegate! {
    /// Staff: correction requests.
    class StaffCorrections(kabinet::StaffCorrections) via |c, _l| c.clone();
    /// Pending requests about the clinic's records.
    fn inbox() -> Vec<CorrectionRequest>;
    /// Pending correction requests past their deadline (the end of the next working day).
    fn overdue() -> Vec<CorrectionRequest>;
    /// One page of `inbox`: at most `limit` requests after `cursor`.
    #[pyo3(signature = (limit = None, cursor = None))]
    fn inbox_page(limit: Option<u32>, cursor: Option<String>) -> kabinet::CorrectionPage;
    /// Accepts (with the `corrected` record) or rejects, with a comment.
    #[pyo3(signature = (correction_id, accepted, comment, corrected = None))]
    fn resolve(
        correction_id: String,
        accepted: bool,
        comment: String,
        corrected: Option<kabinet::ItemData>,
    ) -> CorrectionRequest;
}

delegate! {
    /// Lab results: the patient's (or ward's) `results`, and the staff's `publish`.
    class Labs(kabinet::Me) via |me, _l| me.labs();
    /// Results sampled at or after `since`, newest first.
    #[pyo3(signature = (since = None))]
    fn results(since: Option<time::OffsetDateTime>) -> Vec<LabResult>;
    /// One page of `results`: at most `limit` results after `cursor` (the previous page's
    /// `next_cursor`).
    #[pyo3(signature = (since = None, limit = None, cursor = None))]
    fn results_page(
        since: Option<time::OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::LabResultPage;
    extra {
    /// The report of a result as a PDF, with every result, range and flag.
    fn report_pdf<'py>(&self, py: Python<'py>, result_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let l = self.inner.labs();
        let bytes = block_on(py, self.locale, async move { l.report_pdf(&result_id).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Staff: publishes a report for a patient of the clinic; returns the results with flags.
    fn publish(&self, py: Python<'_>, patient_id: String, report: &Bound<'_, LabReport>) -> PyResult<Vec<LabResult>> {
        let report = report.get().clone();
        let l = self.inner.staff().map(|s| s.labs()).map_err(|e| crate::errors::to_py(e, self.locale))?;
        block_on(py, self.locale, async move { l.publish(&patient_id, report).await })
    }
    }
}

delegate! {
    /// Requests: the patient's (or ward's) side, and the staff's `inbox` and `reply(…, status)`.
    class Requests(kabinet::Me) via |me, _l| me.requests();
    /// Opens a request to a clinic.
    fn create(clinic_id: String, subject: String, text: String) -> Request;
    /// Every request, newest first.
    fn list() -> Vec<Request>;
    /// One request.
    fn get(request_id: String) -> Request;
    /// Closes the request.
    fn mark_completed(request_id: String) -> Request;
    extra {
    /// Writes to the other side. Patients leave `status` out; staff give the new status
    /// (`in_processing`, `clarification_needed`, `completed`).
    #[pyo3(signature = (request_id, text, status = None))]
    fn reply(
        &self,
        py: Python<'_>,
        request_id: String,
        text: String,
        status: Option<kabinet::RequestStatus>,
    ) -> PyResult<Request> {
        match status {
            None => {
                let r = self.inner.requests();
                block_on(py, self.locale, async move { r.reply(&request_id, &text).await })
            }
            Some(status) => {
                let r = self.inner.staff().map(|s| s.requests()).map_err(|e| crate::errors::to_py(e, self.locale))?;
                block_on(py, self.locale, async move { r.reply(&request_id, &text, status).await })
            }
        }
    }

    /// Staff: open requests to the clinic.
    fn inbox(&self, py: Python<'_>) -> PyResult<Vec<Request>> {
        let r = self.inner.staff().map(|s| s.requests()).map_err(|e| crate::errors::to_py(e, self.locale))?;
        block_on(py, self.locale, async move { r.inbox().await })
    }
    /// Staff: one page of `inbox`: at most `limit` requests after `cursor`.
    #[pyo3(signature = (limit = None, cursor = None))]
    fn inbox_page(&self, py: Python<'_>, limit: Option<u32>, cursor: Option<String>) -> PyResult<kabinet::RequestPage> {
        let r = self.inner.staff().map(|s| s.requests()).map_err(|e| crate::errors::to_py(e, self.locale))?;
        block_on(py, self.locale, async move { r.inbox_page(limit, cursor.as_deref()).await })
    }
    /// Adds a document to an open request.
    fn add_document(
        &self,
        py: Python<'_>,
        request_id: String,
        filename: String,
        content: &Bound<'_, PyBytes>,
    ) -> PyResult<RequestDocument> {
        let bytes = content.as_bytes().to_vec();
        let r = self.inner.requests();
        block_on(py, self.locale, async move { r.add_document(&request_id, &filename, &bytes).await })
    }
    /// The correspondence as a PDF.
    fn export_pdf<'py>(&self, py: Python<'py>, request_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let r = self.inner.requests();
        let bytes = block_on(py, self.locale, async move { r.export_pdf(&request_id).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    }
}

delegate! {
    /// Proxy grants (R20). A patient (adult) asks with `grant(scopes, proxy_snils=…, until=…)`
    /// and confirms with the SMS code (`confirm`); staff register a proxy for a minor or a ward
    /// under guardianship with `grant(scopes, proxy_snils=… or proxy_patient_id=…,
    /// ward_patient_id=…, basis=…, guardianship=False, until=…)`.
    class Proxies(kabinet::Me) via |me, _l| me.proxies();
    /// Makes the grant asked for with `grant`, with the code from the SMS.
    fn confirm(pending_id: String, code: String) -> ProxyGrant;
    /// Live grants where I am the ward or the proxy.
    fn list() -> Vec<ProxyGrant>;
    /// Ends a grant.
    fn revoke(grant_id: String) -> ();
    extra {
    /// Patient: returns a `PendingConfirmation` (an SMS code goes to your phone). Staff
    /// (with `ward_patient_id` and `basis`): returns the `ProxyGrant`.
    #[pyo3(signature = (scopes, proxy_snils = None, until = None, proxy_patient_id = None, *, ward_patient_id = None, basis = None, guardianship = false))]
    #[allow(clippy::too_many_arguments)] // one keyword argument each, as in the Python API
    fn grant<'py>(
        &self,
        py: Python<'py>,
        scopes: Vec<String>,
        proxy_snils: Option<String>,
        until: Option<time::Date>,
        proxy_patient_id: Option<String>,
        ward_patient_id: Option<String>,
        basis: Option<String>,
        guardianship: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        match ward_patient_id {
            None if proxy_patient_id.is_none() => {
                let snils =
                    proxy_snils.ok_or_else(|| crate::errors::validation("proxy_snils", kabinet::Reason::Empty))?;
                let p = self.inner.proxies();
                let pending = block_on(py, self.locale, async move { p.grant(&snils, &scopes, until).await })?;
                Ok(Bound::new(py, pending)?.into_any())
            }
            None => Err(crate::errors::validation("ward_patient_id", kabinet::Reason::Empty)),
            Some(ward) => {
                let p = self.inner.staff().map(|s| s.proxies()).map_err(|e| crate::errors::to_py(e, self.locale))?;
                let g = kabinet::WardGrant {
                    proxy_snils,
                    proxy_patient_id,
                    ward_patient_id: ward,
                    scopes,
                    basis: basis.unwrap_or_default(),
                    until,
                    guardianship,
                };
                let out = block_on(py, self.locale, async move { p.grant(g).await })?;
                Ok(Bound::new(py, out)?.into_any())
            }
        }
    }
    /// Staff: registers a proxy for a minor or a ward under guardianship of the clinic (the
    /// same as `grant(..., ward_patient_id=..., basis=...)`).
    fn grant_for_ward(&self, py: Python<'_>, grant: kabinet::WardGrant) -> PyResult<ProxyGrant> {
        let p = self.inner.staff().map(|s| s.proxies()).map_err(|e| crate::errors::to_py(e, self.locale))?;
        block_on(py, self.locale, async move { p.grant(grant).await })
    }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        Immunization, Screening, Visit, Medication, Allergy, HealthCertificate, MedicalItem, CorrectionRequest,
        Records, StaffCorrections, LabResultInput, LabReport, LabResult, kabinet::LabResultPage,
        kabinet::DocumentPage, kabinet::AccessPage, kabinet::RequestPage, kabinet::CorrectionPage,
        kabinet::PatientRefPage, Labs, RequestMessage, RequestDocument, Request, Requests, ProxyGrant,
        kabinet::WardGrant, Proxies, MissingItem,
    }
    Ok(())
}
