//! Medical records (R12), corrections, lab results (R9), requests (R13) and proxies (R20)
//! for Kotlin and Swift. Dates are calendar dates (Kotlin `java.time.LocalDate`), times
//! `SystemTime`; each object serves the patient side and the staff side, and the core
//! refuses the wrong role.

use kabinet_ffi_guard::guard;
use std::time::SystemTime;

use kabinet::Locale;

pub use kabinet::{
    Allergy, CorrectionRequest, Diagnosis, HealthCertificate, Immunization, ItemData, LabReport, LabResult,
    LabResultInput, MedicalItem, Medication, MissingItem, ProxyGrant, Request, RequestDocument, RequestMessage,
    Screening, Visit, WardGrant,
};

use crate::KabinetError;
use crate::error::IntoFfi;

fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    crate::booking::staff(me, locale)
}

/// Medical records: reading and asking for corrections for patients (and proxies), adding
/// for staff (staff resolve corrections with `Me.corrections()`).
#[derive(uniffi::Object)]
pub struct Records {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Records {
    /// Immunizations, newest first.
    pub async fn immunizations(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().immunizations().await.ffi(self.locale)
    }
    /// Screenings and check-ups, newest first.
    pub async fn screenings(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().screenings().await.ffi(self.locale)
    }
    /// Visits, newest first.
    pub async fn visits(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().visits().await.ffi(self.locale)
    }
    /// Medications, newest first.
    pub async fn medications(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().medications().await.ffi(self.locale)
    }
    /// Allergies, newest first.
    pub async fn allergies(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().allergies().await.ffi(self.locale)
    }
    /// Health certificates, newest first.
    pub async fn certificates(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        self.me.records().certificates().await.ffi(self.locale)
    }
    /// The whole record as a FHIR R4 Bundle (JSON text).
    pub async fn export_fhir(&self) -> Result<String, KabinetError> {
        self.me.records().export_fhir().await.ffi(self.locale)
    }

    /// Asks for a correction of an item.
    pub async fn request_correction(
        &self,
        item_id: String,
        wanted_change: String,
    ) -> Result<CorrectionRequest, KabinetError> {
        self.me.records().request_correction(&item_id, &wanted_change).await.ffi(self.locale)
    }
    /// Correction requests, newest first.
    pub async fn corrections(&self) -> Result<Vec<CorrectionRequest>, KabinetError> {
        self.me.records().corrections().await.ffi(self.locale)
    }
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

/// Staff: correction requests about the clinic's records.
#[derive(uniffi::Object)]
pub struct StaffCorrections {
    pub(crate) inner: kabinet::StaffCorrections,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl StaffCorrections {
    /// Pending requests about the clinic's records.
    pub async fn inbox(&self) -> Result<Vec<CorrectionRequest>, KabinetError> {
        self.inner.inbox().await.ffi(self.locale)
    }
    /// One page of `inbox`: at most `limit` requests (default 100) after `cursor`.
    #[uniffi::method(default(limit = None, cursor = None))]
    pub async fn inbox_page(
        &self,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::CorrectionPage, KabinetError> {
        self.inner.inbox_page(limit, cursor.as_deref()).await.ffi(self.locale)
    }
    /// Accepts (with the `corrected` record) or rejects, with a comment.
    #[uniffi::method(default(corrected = None))]
    pub async fn resolve(
        &self,
        correction_id: String,
        accepted: bool,
        comment: String,
        corrected: Option<ItemData>,
    ) -> Result<CorrectionRequest, KabinetError> {
        self.inner.resolve(&correction_id, accepted, &comment, corrected).await.ffi(self.locale)
    }
}

/// Lab results: reading for patients (and proxies), publishing for staff.
#[derive(uniffi::Object)]
pub struct Labs {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Labs {
    /// Results sampled at or after `since`, newest first.
    pub async fn results(&self, since: Option<SystemTime>) -> Result<Vec<LabResult>, KabinetError> {
        self.me.labs().results(since.map(Into::into)).await.ffi(self.locale)
    }
    /// One page of `results`: at most `limit` results (default 100) after `cursor` (the
    /// previous page's `next_cursor`).
    #[uniffi::method(default(since = None, limit = None, cursor = None))]
    pub async fn results_page(
        &self,
        since: Option<SystemTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::LabResultPage, KabinetError> {
        self.me.labs().results_page(since.map(Into::into), limit, cursor.as_deref()).await.ffi(self.locale)
    }
    /// The report of a result as a PDF, with every result, range and flag.
    pub async fn report_pdf(&self, result_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.labs().report_pdf(&result_id).await.ffi(self.locale)
    }

    /// Staff: publishes a report; returns the results with flags.
    pub async fn publish(&self, patient_id: String, report: LabReport) -> Result<Vec<LabResult>, KabinetError> {
        staff(&self.me, self.locale)?.labs().publish(&patient_id, report).await.ffi(self.locale)
    }
}

/// Requests: the patient's side, and the staff's inbox and replies with a status.
#[derive(uniffi::Object)]
pub struct Requests {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Requests {
    /// Opens a request to a clinic.
    pub async fn create(&self, clinic_id: String, subject: String, text: String) -> Result<Request, KabinetError> {
        self.me.requests().create(&clinic_id, &subject, &text).await.ffi(self.locale)
    }
    /// Every request, newest first.
    pub async fn list(&self) -> Result<Vec<Request>, KabinetError> {
        self.me.requests().list().await.ffi(self.locale)
    }
    /// One request.
    pub async fn get(&self, request_id: String) -> Result<Request, KabinetError> {
        self.me.requests().get(&request_id).await.ffi(self.locale)
    }
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
    /// Adds a document to an open request.
    pub async fn add_document(
        &self,
        request_id: String,
        filename: String,
        content: Vec<u8>,
    ) -> Result<RequestDocument, KabinetError> {
        self.me.requests().add_document(&request_id, &filename, &content).await.ffi(self.locale)
    }
    /// The correspondence as a PDF.
    pub async fn export_pdf(&self, request_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.requests().export_pdf(&request_id).await.ffi(self.locale)
    }

    /// Closes the request.
    pub async fn mark_completed(&self, request_id: String) -> Result<Request, KabinetError> {
        self.me.requests().mark_completed(&request_id).await.ffi(self.locale)
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

/// Proxy grants.
#[derive(uniffi::Object)]
pub struct Proxies {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Proxies {
    /// Patient (adult): asks to let the person with `proxy_snils` act for me within
    /// `scopes` until the end of `until` (`YYYY-MM-DD`, default a year); an SMS code goes to
    /// my phone and `confirm` makes the grant.
    pub async fn grant(
        &self,
        proxy_snils: String,
        scopes: Vec<String>,
        until: Option<time::Date>,
    ) -> Result<crate::booking::PendingConfirmation, KabinetError> {
        self.me.proxies().grant(&proxy_snils, &scopes, until).await.ffi(self.locale)
    }
    /// Patient: makes the grant asked for with `grant`, with the code from the SMS.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<ProxyGrant, KabinetError> {
        self.me.proxies().confirm(&pending_id, &code).await.ffi(self.locale)
    }
    /// Staff: registers a proxy for a minor or a ward under guardianship of the clinic.
    pub async fn grant_for_ward(&self, grant: WardGrant) -> Result<ProxyGrant, KabinetError> {
        let p = staff(&self.me, self.locale)?.proxies();
        p.grant(grant).await.ffi(self.locale)
    }
    /// Live grants where I am the ward or the proxy.
    pub async fn list(&self) -> Result<Vec<ProxyGrant>, KabinetError> {
        self.me.proxies().list().await.ffi(self.locale)
    }
    /// Ends a grant.
    pub async fn revoke(&self, grant_id: String) -> Result<(), KabinetError> {
        self.me.proxies().revoke(&grant_id).await.ffi(self.locale)
    }
}
