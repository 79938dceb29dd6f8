//! Medical records (R12), corrections, lab results (R9), requests (R13) and proxies (R20)
//! for Kotlin and Swift. Dates are calendar dates (Kotlin `java.time.LocalDate`), times
//! `SystemTime`; each object serves the patient side and the staff side, and the core
//! refuses the wrong role.

use std::time::SystemTime;

use kabinet::Locale;

pub use kabinet::{
    Allergy, CorrectionRequest, Diagnosis, HealthCertificate, Immunization, ItemData, LabReport, LabResult,
    LabResultInput, MedicalItem, Medication, MissingItem, ProxyGrant, Request, RequestDocument, RequestMessage,
    Screening, Visit, WardGrant,
};

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    crate::booking::staff(me, locale)
}

delegate! {
    /// Medical records: reading and asking for corrections for patients (and proxies), adding
    /// for staff (staff resolve corrections with `Me.corrections()`).
    class Records(me: kabinet::Me) via |h| h.records();
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
    /// Correction requests, newest first.
    fn corrections() -> Vec<CorrectionRequest>;
    extra {
    /// Staff: adds an item for a patient of the clinic.
    pub async fn add(&self, patient_id: String, record: ItemData) -> Result<MedicalItem, KabinetError> {
        staff(&self.me, self.locale)?.records().add(&patient_id, record).await.ffi(self.locale)
    }

    /// Staff: a patient's items of every kind.
    pub async fn of_patient(&self, patient_id: String) -> Result<Vec<MedicalItem>, KabinetError> {
        staff(&self.me, self.locale)?.records().of_patient(&patient_id).await.ffi(self.locale)
    }

    /// Staff: adds an immunization for a patient of the clinic.
    pub async fn add_immunization(
        &self,
        patient_id: String,
        immunization: Immunization,
    ) -> Result<MedicalItem, KabinetError> {
        let r = staff(&self.me, self.locale)?.records();
        r.add(&patient_id, ItemData::Immunization(immunization)).await.ffi(self.locale)
    }

    /// Staff: adds a visit for a patient of the clinic.
    pub async fn add_visit(&self, patient_id: String, visit: Visit) -> Result<MedicalItem, KabinetError> {
        let r = staff(&self.me, self.locale)?.records();
        r.add(&patient_id, ItemData::Visit(visit)).await.ffi(self.locale)
    }

    /// Staff: adds a medication for a patient of the clinic.
    pub async fn add_medication(
        &self,
        patient_id: String,
        medication: Medication,
    ) -> Result<MedicalItem, KabinetError> {
        let r = staff(&self.me, self.locale)?.records();
        r.add(&patient_id, ItemData::Medication(medication)).await.ffi(self.locale)
    }

    /// Staff: adds an allergy for a patient of the clinic.
    pub async fn add_allergy(&self, patient_id: String, allergy: Allergy) -> Result<MedicalItem, KabinetError> {
        let r = staff(&self.me, self.locale)?.records();
        r.add(&patient_id, ItemData::Allergy(allergy)).await.ffi(self.locale)
    }
    }
}

delegate! {
    /// Staff: correction requests about the clinic's records.
    class StaffCorrections(inner: kabinet::StaffCorrections) via |h| h;
    /// Pending requests about the clinic's records.
    fn inbox() -> Vec<CorrectionRequest>;
    /// Pending correction requests past their deadline (the end of the next working day).
    fn overdue() -> Vec<CorrectionRequest>;
    /// One page of `inbox`: at most `limit` requests (default 100) after `cursor`.
    #[uniffi::method(default(limit = None, cursor = None))]
    fn inbox_page(limit: Option<u32>, cursor: Option<String>) -> kabinet::CorrectionPage;
    /// Accepts (with the `corrected` record) or rejects, with a comment.
    #[uniffi::method(default(corrected = None))]
    fn resolve(correction_id: String, accepted: bool, comment: String, corrected: Option<ItemData>) -> CorrectionRequest;
}

delegate! {
    /// Lab results: reading for patients (and proxies), publishing for staff.
    class Labs(me: kabinet::Me) via |h| h.labs();
    /// Results sampled at or after `since`, newest first.
    fn results(since: Option<SystemTime>) -> Vec<LabResult>;
    /// One page of `results`: at most `limit` results (default 100) after `cursor` (the
    /// previous page's `next_cursor`).
    #[uniffi::method(default(since = None, limit = None, cursor = None))]
    fn results_page(since: Option<SystemTime>, limit: Option<u32>, cursor: Option<String>) -> kabinet::LabResultPage;
    /// The report of a result as a PDF, with every result, range and flag.
    fn report_pdf(result_id: String) -> Vec<u8>;
    extra {
    /// Staff: publishes a report; returns the results with flags.
    pub async fn publish(&self, patient_id: String, report: LabReport) -> Result<Vec<LabResult>, KabinetError> {
        staff(&self.me, self.locale)?.labs().publish(&patient_id, report).await.ffi(self.locale)
    }
    }
}

delegate! {
    /// Requests: the patient's side, and the staff's inbox and replies with a status.
    class Requests(me: kabinet::Me) via |h| h.requests();
    /// Opens a request to a clinic.
    fn create(clinic_id: String, subject: String, text: String) -> Request;
    /// Every request, newest first.
    fn list() -> Vec<Request>;
    /// One request.
    fn get(request_id: String) -> Request;
    /// Adds a document to an open request.
    fn add_document(request_id: String, filename: String, content: Vec<u8>) -> RequestDocument;
    /// The correspondence as a PDF.
    fn export_pdf(request_id: String) -> Vec<u8>;
    /// Closes the request.
    fn mark_completed(request_id: String) -> Request;
    extra {
    /// Writes to the other side. Patients leave `status` out; staff give the new status
    /// (`IN_PROCESSING`, `CLARIFICATION_NEEDED`, `COMPLETED`).
    #[uniffi::method(default(status = None))]
    pub async fn reply(
        &self,
        request_id: String,
        text: String,
        status: Option<kabinet::RequestStatus>,
    ) -> Result<Request, KabinetError> {
        match status {
            None => self.me.requests().reply(&request_id, &text).await.ffi(self.locale),
            Some(status) => {
                let r = staff(&self.me, self.locale)?.requests();
                r.reply(&request_id, &text, status).await.ffi(self.locale)
            }
        }
    }

    /// Staff: open requests to the clinic.
    pub async fn inbox(&self) -> Result<Vec<Request>, KabinetError> {
        staff(&self.me, self.locale)?.requests().inbox().await.ffi(self.locale)
    }

    /// Staff: one page of `inbox`: at most `limit` requests (default 100) after `cursor`.
    #[uniffi::method(default(limit = None, cursor = None))]
    pub async fn inbox_page(
        &self,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::RequestPage, KabinetError> {
        staff(&self.me, self.locale)?.requests().inbox_page(limit, cursor.as_deref()).await.ffi(self.locale)
    }
    }
}

delegate! {
    /// Proxy grants.
    class Proxies(me: kabinet::Me) via |h| h.proxies();
    /// Patient (adult): asks to let the person with `proxy_snils` act for me within
    /// `scopes` until the end of `until` (`YYYY-MM-DD`, default a year); an SMS code goes to
    /// my phone and `confirm` makes the grant.
    fn grant(proxy_snils: String, scopes: Vec<String>, until: Option<time::Date>) -> crate::booking::PendingConfirmation;
    /// Patient: makes the grant asked for with `grant`, with the code from the SMS.
    fn confirm(pending_id: String, code: String) -> ProxyGrant;
    /// Live grants where I am the ward or the proxy.
    fn list() -> Vec<ProxyGrant>;
    /// Ends a grant.
    fn revoke(grant_id: String) -> ();
    extra {
    /// Staff: registers a proxy for a minor or a ward under guardianship of the clinic.
    pub async fn grant_for_ward(&self, grant: WardGrant) -> Result<ProxyGrant, KabinetError> {
        let p = staff(&self.me, self.locale)?.proxies();
        p.grant(grant).await.ffi(self.locale)
    }
    }
}
