//! Medical records (R12), corrections, lab results (R9), requests (R13), proxies (R20) and
//! completeness (R19) for Kotlin and Swift. Dates are ISO `YYYY-MM-DD` strings, times
//! `SystemTime`; each object serves the patient side and the staff side, and the core
//! refuses the wrong role.

use kabinet_ffi_guard::guard;
use std::time::SystemTime;

use kabinet::Locale;

pub use kabinet::{
    CorrectionRequest, Diagnosis, LabReport, LabResult, LabResultInput, MissingItem, ProxyGrant, Request,
    RequestDocument, RequestMessage,
};

use crate::KabinetError;
use crate::error::IntoFfi;

fn date(s: &str, field: &'static str) -> Result<time::Date, KabinetError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| KabinetError::validation(kabinet::ValidationError::new(field, kabinet::Reason::Format)))
}

fn opt_date(s: Option<String>, field: &'static str) -> Result<Option<time::Date>, KabinetError> {
    s.map(|s| date(&s, field)).transpose()
}

// Mirrors, the item records through `RecordData` and `MedicalItem`: staff send them in, and
// their dates are text parsed in the call, so a malformed date is a `Validation` error naming
// the field (a core `Date` would fail while lifting, as an internal error). `MedicalItem`
// also adds `kind`.
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

/// A visit.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct Visit {
    pub date: String,
    pub institution: String,
    pub diagnoses: Vec<kabinet::Diagnosis>,
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
    pub severity: Option<kabinet::Severity>,
    pub noted_on: String,
}

/// A health certificate.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct HealthCertificate {
    pub purpose: kabinet::CertificatePurpose,
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
                diagnoses: x.diagnoses,
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
                    diagnoses: x.diagnoses,
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
        self.me.records().request_correction(&item_id, &wanted_change).await.ffi(self.locale)
    }
    /// Correction requests, newest first.
    pub async fn corrections(&self) -> Result<Vec<CorrectionRequest>, KabinetError> {
        self.me.records().corrections().await.ffi(self.locale)
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
        staff(&self.me, self.locale)?.corrections().inbox().await.ffi(self.locale)
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
        c.resolve(&correction_id, accepted, &comment, corrected).await.ffi(self.locale)
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
    /// Patient: writes to the clinic.
    pub async fn reply(&self, request_id: String, text: String) -> Result<Request, KabinetError> {
        self.me.requests().reply(&request_id, &text).await.ffi(self.locale)
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
    /// Staff: answers and sets the status.
    pub async fn answer(
        &self,
        request_id: String,
        text: String,
        status: kabinet::RequestStatus,
    ) -> Result<Request, KabinetError> {
        let r = staff(&self.me, self.locale)?.requests();
        r.reply(&request_id, &text, status).await.ffi(self.locale)
    }
}

// A mirror: `until` is text parsed in the call (see the item records above).
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
        self.me.proxies().grant(&proxy_snils, &scopes, until).await.ffi(self.locale)
    }
    /// Patient: makes the grant asked for with `grant`, with the code from the SMS.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<ProxyGrant, KabinetError> {
        self.me.proxies().confirm(&pending_id, &code).await.ffi(self.locale)
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
        p.grant(g).await.ffi(self.locale)
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
