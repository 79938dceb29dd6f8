//! Medical records (R12), corrections, lab results (R9), requests (R13), proxies (R20) and
//! completeness (R19) for Kotlin and Swift. Dates are ISO `YYYY-MM-DD` strings, times
//! `SystemTime`; each object serves the patient side and the staff side, and the core
//! refuses the wrong role.

use kabinet_ffi_guard::guard;
use std::time::SystemTime;

use kabinet::Locale;

use crate::KabinetError;
use crate::error::IntoFfi;

fn date(s: &str, field: &'static str) -> Result<time::Date, KabinetError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| KabinetError::validation(kabinet::ValidationError::new(field, kabinet::Reason::Format)))
}

fn opt_date(s: Option<String>, field: &'static str) -> Result<Option<time::Date>, KabinetError> {
    s.map(|s| date(&s, field)).transpose()
}

/// A vaccination.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core types
pub struct Immunization {
    pub vaccine: String,
    pub date: String,
    pub dose: Option<String>,
    pub lot: Option<String>,
    pub performer: Option<String>,
    pub next_due: Option<String>,
}

/// A screening or check-up.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Screening {
    pub name: String,
    pub date: String,
    pub result: String,
}

/// A diagnosis with its ICD-10 code.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Diagnosis {
    pub icd10: String,
    pub text: String,
}

/// A visit.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Visit {
    pub date: String,
    pub institution: String,
    pub diagnoses: Vec<Diagnosis>,
    pub procedures: Vec<String>,
}

/// A medication.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Medication {
    pub name: String,
    pub dosage: String,
    pub schedule: String,
    pub start: String,
    pub end: Option<String>,
    pub prescriber: String,
}

/// An allergy.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Allergy {
    pub substance: String,
    pub reaction: String,
    pub severity: Option<String>,
    pub noted_on: String,
}

/// A health certificate.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct HealthCertificate {
    pub purpose: String,
    pub issued_on: String,
    pub valid_until: Option<String>,
    pub conclusion: String,
}

/// The content of a medical item.
#[derive(uniffi::Enum)]
#[allow(missing_docs)]
pub enum RecordData {
    Immunization { value: Immunization },
    Screening { value: Screening },
    Visit { value: Visit },
    Medication { value: Medication },
    Allergy { value: Allergy },
    Certificate { value: HealthCertificate },
}

impl RecordData {
    fn into_core(self) -> Result<kabinet::ItemData, KabinetError> {
        use kabinet::ItemData as D;
        Ok(match self {
            RecordData::Immunization { value: x } => D::Immunization(kabinet::Immunization {
                vaccine: x.vaccine,
                date: date(&x.date, "date")?,
                dose: x.dose,
                lot: x.lot,
                performer: x.performer,
                next_due: opt_date(x.next_due, "next_due")?,
            }),
            RecordData::Screening { value: x } => {
                D::Screening(kabinet::Screening { name: x.name, date: date(&x.date, "date")?, result: x.result })
            }
            RecordData::Visit { value: x } => D::Visit(kabinet::Visit {
                date: date(&x.date, "date")?,
                institution: x.institution,
                diagnoses: x
                    .diagnoses
                    .into_iter()
                    .map(|d| kabinet::Diagnosis { icd10: d.icd10, text: d.text })
                    .collect(),
                procedures: x.procedures,
            }),
            RecordData::Medication { value: x } => D::Medication(kabinet::Medication {
                name: x.name,
                dosage: x.dosage,
                schedule: x.schedule,
                start: date(&x.start, "start")?,
                end: opt_date(x.end, "end")?,
                prescriber: x.prescriber,
            }),
            RecordData::Allergy { value: x } => D::Allergy(kabinet::Allergy {
                substance: x.substance,
                reaction: x.reaction,
                severity: x.severity,
                noted_on: date(&x.noted_on, "noted_on")?,
            }),
            RecordData::Certificate { value: x } => D::Certificate(kabinet::HealthCertificate {
                purpose: x.purpose,
                issued_on: date(&x.issued_on, "issued_on")?,
                valid_until: opt_date(x.valid_until, "valid_until")?,
                conclusion: x.conclusion,
            }),
        })
    }
}

impl From<kabinet::ItemData> for RecordData {
    fn from(d: kabinet::ItemData) -> Self {
        use kabinet::ItemData as D;
        match d {
            D::Immunization(x) => RecordData::Immunization {
                value: Immunization {
                    vaccine: x.vaccine,
                    date: x.date.to_string(),
                    dose: x.dose,
                    lot: x.lot,
                    performer: x.performer,
                    next_due: x.next_due.map(|d| d.to_string()),
                },
            },
            D::Screening(x) => {
                RecordData::Screening { value: Screening { name: x.name, date: x.date.to_string(), result: x.result } }
            }
            D::Visit(x) => RecordData::Visit {
                value: Visit {
                    date: x.date.to_string(),
                    institution: x.institution,
                    diagnoses: x.diagnoses.into_iter().map(|d| Diagnosis { icd10: d.icd10, text: d.text }).collect(),
                    procedures: x.procedures,
                },
            },
            D::Medication(x) => RecordData::Medication {
                value: Medication {
                    name: x.name,
                    dosage: x.dosage,
                    schedule: x.schedule,
                    start: x.start.to_string(),
                    end: x.end.map(|d| d.to_string()),
                    prescriber: x.prescriber,
                },
            },
            D::Allergy(x) => RecordData::Allergy {
                value: Allergy {
                    substance: x.substance,
                    reaction: x.reaction,
                    severity: x.severity,
                    noted_on: x.noted_on.to_string(),
                },
            },
            D::Certificate(x) => RecordData::Certificate {
                value: HealthCertificate {
                    purpose: x.purpose,
                    issued_on: x.issued_on.to_string(),
                    valid_until: x.valid_until.map(|d| d.to_string()),
                    conclusion: x.conclusion,
                },
            },
        }
    }
}

/// A medical item.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct MedicalItem {
    pub id: String,
    pub kind: String,
    pub patient_id: String,
    pub clinic_id: Option<String>,
    pub version: i64,
    pub updated_at: SystemTime,
    pub data: RecordData,
}

impl From<kabinet::MedicalItem> for MedicalItem {
    fn from(i: kabinet::MedicalItem) -> Self {
        MedicalItem {
            kind: i.data.kind().to_owned(),
            id: i.id,
            patient_id: i.patient_id,
            clinic_id: i.clinic_id,
            version: i.version,
            updated_at: i.updated_at.into(),
            data: i.data.into(),
        }
    }
}

/// A correction request.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct CorrectionRequest {
    pub id: String,
    pub item_id: String,
    pub patient_id: String,
    pub wanted_change: String,
    pub status: String,
    pub comment: Option<String>,
    pub created_at: SystemTime,
    pub resolved_at: Option<SystemTime>,
}

impl From<kabinet::CorrectionRequest> for CorrectionRequest {
    fn from(c: kabinet::CorrectionRequest) -> Self {
        CorrectionRequest {
            id: c.id,
            item_id: c.item_id,
            patient_id: c.patient_id,
            wanted_change: c.wanted_change,
            status: c.status,
            comment: c.comment,
            created_at: c.created_at.into(),
            resolved_at: c.resolved_at.map(Into::into),
        }
    }
}

fn all<A, B: From<A>>(list: Vec<A>) -> Vec<B> {
    list.into_iter().map(B::from).collect()
}

fn staff(me: &kabinet::Me, locale: Locale) -> Result<kabinet::StaffContext, KabinetError> {
    crate::booking::staff(me, locale)
}

/// Medical records: reading and corrections for patients (and proxies), adding and
/// resolving corrections for staff.
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
        Ok(all(self.me.records().immunizations().await.ffi(self.locale)?))
    }
    /// Screenings and check-ups, newest first.
    pub async fn screenings(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(self.me.records().screenings().await.ffi(self.locale)?))
    }
    /// Visits, newest first.
    pub async fn visits(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(self.me.records().visits().await.ffi(self.locale)?))
    }
    /// Medications, newest first.
    pub async fn medications(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(self.me.records().medications().await.ffi(self.locale)?))
    }
    /// Allergies, newest first.
    pub async fn allergies(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(self.me.records().allergies().await.ffi(self.locale)?))
    }
    /// Health certificates, newest first.
    pub async fn certificates(&self) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(self.me.records().certificates().await.ffi(self.locale)?))
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
        Ok(self.me.records().request_correction(&item_id, &wanted_change).await.ffi(self.locale)?.into())
    }
    /// Correction requests, newest first.
    pub async fn corrections(&self) -> Result<Vec<CorrectionRequest>, KabinetError> {
        Ok(all(self.me.records().corrections().await.ffi(self.locale)?))
    }
    /// Staff: adds an item for a patient of the clinic.
    pub async fn add(&self, patient_id: String, record: RecordData) -> Result<MedicalItem, KabinetError> {
        let data = record.into_core()?;
        Ok(staff(&self.me, self.locale)?.records().add(&patient_id, data).await.ffi(self.locale)?.into())
    }
    /// Staff: a patient's items of every kind.
    pub async fn of_patient(&self, patient_id: String) -> Result<Vec<MedicalItem>, KabinetError> {
        Ok(all(staff(&self.me, self.locale)?.records().of_patient(&patient_id).await.ffi(self.locale)?))
    }
    /// Staff: pending correction requests.
    pub async fn correction_inbox(&self) -> Result<Vec<CorrectionRequest>, KabinetError> {
        Ok(all(staff(&self.me, self.locale)?.corrections().inbox().await.ffi(self.locale)?))
    }
    /// Staff: accepts (with the corrected item) or rejects a correction.
    pub async fn resolve_correction(
        &self,
        correction_id: String,
        accepted: bool,
        comment: String,
        corrected: Option<RecordData>,
    ) -> Result<CorrectionRequest, KabinetError> {
        let corrected = corrected.map(RecordData::into_core).transpose()?;
        let c = staff(&self.me, self.locale)?.corrections();
        Ok(c.resolve(&correction_id, accepted, &comment, corrected).await.ffi(self.locale)?.into())
    }
}

/// One result as the laboratory sends it.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct LabResultInput {
    pub test_name: String,
    pub code: String,
    pub value: Option<f64>,
    pub value_text: Option<String>,
    pub unit: Option<String>,
    pub range_low: Option<f64>,
    pub range_high: Option<f64>,
    pub range_text: Option<String>,
    pub sampled_at: SystemTime,
}

/// A lab report to publish.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct LabReport {
    pub title: String,
    pub laboratory: String,
    pub issued_at: SystemTime,
    pub results: Vec<LabResultInput>,
}

/// A lab result with its computed flag.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct LabResult {
    pub id: String,
    pub report_id: String,
    pub report_title: String,
    pub laboratory: String,
    pub test_name: String,
    pub code: String,
    pub value: Option<f64>,
    pub value_text: Option<String>,
    pub unit: Option<String>,
    pub reference_range: Option<String>,
    pub flag: Option<String>,
    pub sampled_at: SystemTime,
    pub issued_at: SystemTime,
}

impl From<kabinet::LabResult> for LabResult {
    fn from(r: kabinet::LabResult) -> Self {
        LabResult {
            id: r.id,
            report_id: r.report_id,
            report_title: r.report_title,
            laboratory: r.laboratory,
            test_name: r.input.test_name,
            code: r.input.code,
            value: r.input.value,
            value_text: r.input.value_text,
            unit: r.input.unit,
            reference_range: r.reference_range,
            flag: r.flag,
            sampled_at: r.input.sampled_at.into(),
            issued_at: r.issued_at.into(),
        }
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
        Ok(all(self.me.labs().results(since.map(Into::into)).await.ffi(self.locale)?))
    }
    /// The report of a result as a PDF, with every result, range and flag.
    pub async fn report_pdf(&self, result_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.labs().report_pdf(&result_id).await.ffi(self.locale)
    }

    /// Staff: publishes a report; returns the results with flags.
    pub async fn publish(&self, patient_id: String, report: LabReport) -> Result<Vec<LabResult>, KabinetError> {
        let report = kabinet::LabReport {
            title: report.title,
            laboratory: report.laboratory,
            issued_at: report.issued_at.into(),
            results: report
                .results
                .into_iter()
                .map(|r| kabinet::LabResultInput {
                    test_name: r.test_name,
                    code: r.code,
                    value: r.value,
                    value_text: r.value_text,
                    unit: r.unit,
                    range_low: r.range_low,
                    range_high: r.range_high,
                    range_text: r.range_text,
                    sampled_at: r.sampled_at.into(),
                })
                .collect(),
        };
        Ok(all(staff(&self.me, self.locale)?.labs().publish(&patient_id, report).await.ffi(self.locale)?))
    }
}

/// One message of a request.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct RequestMessage {
    pub author_kind: String,
    pub author_name: Option<String>,
    pub text: String,
    pub at: SystemTime,
}

/// A document of a request.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct RequestDocument {
    pub id: String,
    pub filename: String,
    pub size: u64,
    pub sha256: String,
}

impl From<kabinet::RequestDocument> for RequestDocument {
    fn from(d: kabinet::RequestDocument) -> Self {
        RequestDocument { id: d.id, filename: d.filename, size: d.size, sha256: d.sha256 }
    }
}

/// A request with its correspondence.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Request {
    pub id: String,
    pub patient_id: String,
    pub clinic_id: String,
    pub subject: String,
    pub status: String,
    pub created_at: SystemTime,
    pub updated_at: SystemTime,
    pub completed_at: Option<SystemTime>,
    pub messages: Vec<RequestMessage>,
    pub documents: Vec<RequestDocument>,
}

impl From<kabinet::Request> for Request {
    fn from(r: kabinet::Request) -> Self {
        Request {
            id: r.id,
            patient_id: r.patient_id,
            clinic_id: r.clinic_id,
            subject: r.subject,
            status: r.status,
            created_at: r.created_at.into(),
            updated_at: r.updated_at.into(),
            completed_at: r.completed_at.map(Into::into),
            messages: r
                .messages
                .into_iter()
                .map(|m| RequestMessage {
                    author_kind: m.author_kind,
                    author_name: m.author_name,
                    text: m.text,
                    at: m.at.into(),
                })
                .collect(),
            documents: all(r.documents),
        }
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
        Ok(self.me.requests().create(&clinic_id, &subject, &text).await.ffi(self.locale)?.into())
    }
    /// Every request, newest first.
    pub async fn list(&self) -> Result<Vec<Request>, KabinetError> {
        Ok(all(self.me.requests().list().await.ffi(self.locale)?))
    }
    /// One request.
    pub async fn get(&self, request_id: String) -> Result<Request, KabinetError> {
        Ok(self.me.requests().get(&request_id).await.ffi(self.locale)?.into())
    }
    /// Patient: writes to the clinic.
    pub async fn reply(&self, request_id: String, text: String) -> Result<Request, KabinetError> {
        Ok(self.me.requests().reply(&request_id, &text).await.ffi(self.locale)?.into())
    }
    /// Adds a document to an open request.
    pub async fn add_document(
        &self,
        request_id: String,
        filename: String,
        content: Vec<u8>,
    ) -> Result<RequestDocument, KabinetError> {
        Ok(self.me.requests().add_document(&request_id, &filename, &content).await.ffi(self.locale)?.into())
    }
    /// The correspondence as a PDF.
    pub async fn export_pdf(&self, request_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.requests().export_pdf(&request_id).await.ffi(self.locale)
    }

    /// Closes the request.
    pub async fn mark_completed(&self, request_id: String) -> Result<Request, KabinetError> {
        Ok(self.me.requests().mark_completed(&request_id).await.ffi(self.locale)?.into())
    }
    /// Staff: open requests to the clinic.
    pub async fn inbox(&self) -> Result<Vec<Request>, KabinetError> {
        Ok(all(staff(&self.me, self.locale)?.requests().inbox().await.ffi(self.locale)?))
    }
    /// Staff: answers and sets the status.
    pub async fn answer(&self, request_id: String, text: String, status: String) -> Result<Request, KabinetError> {
        let r = staff(&self.me, self.locale)?.requests();
        Ok(r.reply(&request_id, &text, &status).await.ffi(self.locale)?.into())
    }
}

/// A proxy grant.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct ProxyGrant {
    pub id: String,
    pub proxy_patient_id: String,
    pub ward_patient_id: String,
    pub scopes: Vec<String>,
    pub granted_by: String,
    pub granted_at: SystemTime,
    pub valid_until: SystemTime,
}

/// What clinic staff register for a minor, or for an adult under legal guardianship
/// (`guardianship`), of their clinic: the proxy by SNILS or patient id, the basis document,
/// and the last day (`YYYY-MM-DD`; default a year, never past a minor's 18th birthday).
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct WardGrant {
    pub proxy_snils: Option<String>,
    pub proxy_patient_id: Option<String>,
    pub ward_patient_id: String,
    pub scopes: Vec<String>,
    pub basis: String,
    pub until: Option<String>,
    pub guardianship: bool,
}

impl From<kabinet::ProxyGrant> for ProxyGrant {
    fn from(g: kabinet::ProxyGrant) -> Self {
        ProxyGrant {
            id: g.id,
            proxy_patient_id: g.proxy_patient_id,
            ward_patient_id: g.ward_patient_id,
            scopes: g.scopes,
            granted_by: g.granted_by,
            granted_at: g.granted_at.into(),
            valid_until: g.valid_until.into(),
        }
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
        until: Option<String>,
    ) -> Result<crate::booking::PendingConfirmation, KabinetError> {
        let until = opt_date(until, "until")?;
        let p = self.me.proxies().grant(&proxy_snils, &scopes, until).await.ffi(self.locale)?;
        Ok(crate::booking::PendingConfirmation { id: p.id, action: p.action })
    }
    /// Patient: makes the grant asked for with `grant`, with the code from the SMS.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<ProxyGrant, KabinetError> {
        Ok(self.me.proxies().confirm(&pending_id, &code).await.ffi(self.locale)?.into())
    }
    /// Staff: registers a proxy for a minor or a ward under guardianship of the clinic.
    pub async fn grant_for_ward(&self, grant: WardGrant) -> Result<ProxyGrant, KabinetError> {
        let p = staff(&self.me, self.locale)?.proxies();
        let g = kabinet::WardGrant {
            proxy_snils: grant.proxy_snils,
            proxy_patient_id: grant.proxy_patient_id,
            ward_patient_id: grant.ward_patient_id,
            scopes: grant.scopes,
            basis: grant.basis,
            until: opt_date(grant.until, "until")?,
            guardianship: grant.guardianship,
        };
        Ok(p.grant(g).await.ffi(self.locale)?.into())
    }
    /// Live grants where I am the ward or the proxy.
    pub async fn list(&self) -> Result<Vec<ProxyGrant>, KabinetError> {
        Ok(all(self.me.proxies().list().await.ffi(self.locale)?))
    }
    /// Ends a grant.
    pub async fn revoke(&self, grant_id: String) -> Result<(), KabinetError> {
        self.me.proxies().revoke(&grant_id).await.ffi(self.locale)
    }
}

/// Missing or inconsistent key data, with what to do (R19).
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct MissingItem {
    pub code: String,
    pub what_to_do: String,
}
