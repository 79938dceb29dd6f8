//! My medical data (R12), modelled on FHIR R4 so the interop issue maps them one to one:
//! immunizations (Immunization), screenings and check-ups (Procedure/Observation), visits with
//! ICD-10 diagnoses and procedures (Encounter + Condition + Procedure), medications
//! (MedicationStatement), allergies (AllergyIntolerance) and health certificates.
//! Staff of the patient's clinic add items; the patient (or a proxy with the `records`
//! scope) reads them and asks for corrections, which staff accept — changing the item and
//! keeping the old version — or reject, with a comment.

use crate::staff::StaffRole;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};

mod store;

use crate::audit::Action;
use crate::error::{Error, Result};
use crate::ids::{Reason, ValidationError};
use crate::me::Me;
use crate::medical::{PatientWork, Vault, date_us, staff_for};
use crate::store::Conn;
use crate::timeutil::{from_micros, to_micros};

/// Roles that add and correct medical records.
pub const CLINICAL_ROLES: &[StaffRole] = &[StaffRole::Doctor, StaffRole::Nurse];

/// A vaccination (FHIR Immunization).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Immunization {
    /// Vaccine name ("Спутник V").
    pub vaccine: String,
    /// Date given.
    pub date: Date,
    /// Dose ("1 из 2").
    pub dose: Option<String>,
    /// Lot number.
    pub lot: Option<String>,
    /// Who gave it.
    pub performer: Option<String>,
    /// When the next dose is due (a reminder goes out a week before).
    #[serde(default)]
    pub next_due: Option<Date>,
}

/// A screening or preventive check-up.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Screening {
    /// What ("диспансеризация", "флюорография").
    pub name: String,
    /// When.
    pub date: Date,
    /// Result or conclusion.
    pub result: String,
}

/// A diagnosis with its ICD-10 code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Diagnosis {
    /// ICD-10 code, e.g. `J06.9`.
    pub icd10: String,
    /// Text.
    pub text: String,
}

/// A visit (FHIR Encounter with Conditions and Procedures).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Visit {
    /// Date.
    pub date: Date,
    /// Institution.
    pub institution: String,
    /// Diagnoses.
    pub diagnoses: Vec<Diagnosis>,
    /// Procedures done.
    pub procedures: Vec<String>,
}

/// A prescription or medication taken (FHIR MedicationStatement).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Medication {
    /// Drug name.
    pub name: String,
    /// Dosage ("500 мг").
    pub dosage: String,
    /// Schedule ("2 раза в день").
    pub schedule: String,
    /// Start.
    pub start: Date,
    /// End, if set (the duration).
    pub end: Option<Date>,
    /// Prescriber.
    pub prescriber: String,
}

/// An allergy or intolerance (FHIR AllergyIntolerance).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct Allergy {
    /// Substance.
    pub substance: String,
    /// Reaction.
    pub reaction: String,
    /// How severe, if known.
    pub severity: Option<Severity>,
    /// When noted.
    pub noted_on: Date,
}

crate::sets::closed_set! {
    /// How severe an allergic reaction is (FHIR `AllergyIntolerance.reaction.severity`).
    pub enum Severity in "severity" {
        /// Mild.
        Mild = "mild",
        /// Moderate.
        Moderate = "moderate",
        /// Severe.
        Severe = "severe",
    }
}

crate::paging::page_type! {
    /// One page of a clinic's pending correction requests.
    CorrectionPage of CorrectionRequest
}

crate::sets::closed_set! {
    /// Where a correction request stands (R12).
    pub enum CorrectionStatus in "status" {
        /// Waiting for the clinic.
        Pending = "pending",
        /// Accepted: the record was corrected.
        Accepted = "accepted",
        /// Rejected, with a comment.
        Rejected = "rejected",
    }
}

crate::sets::closed_set! {
    /// What a health certificate is for.
    pub enum CertificatePurpose in "purpose" {
        /// Work.
        Work = "work",
        /// Study.
        Study = "study",
        /// Travel.
        Travel = "travel",
        /// Sport.
        Sport = "sport",
        /// Anything else.
        Other = "other",
    }
}

/// A health certificate (for work, study, travel…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct HealthCertificate {
    /// Purpose (`work`, `study`, `travel`, `sport`, `other`).
    pub purpose: CertificatePurpose,
    /// Issued.
    pub issued_on: Date,
    /// Valid until.
    pub valid_until: Option<Date>,
    /// Conclusion.
    pub conclusion: String,
}

/// The content of a medical item.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum ItemData {
    /// Immunization.
    Immunization(Immunization),
    /// Screening.
    Screening(Screening),
    /// Visit.
    Visit(Visit),
    /// Medication.
    Medication(Medication),
    /// Allergy.
    Allergy(Allergy),
    /// Certificate.
    Certificate(HealthCertificate),
}

impl ItemData {
    /// The kind's stable name.
    pub fn kind(&self) -> &'static str {
        match self {
            ItemData::Immunization(_) => "immunization",
            ItemData::Screening(_) => "screening",
            ItemData::Visit(_) => "visit",
            ItemData::Medication(_) => "medication",
            ItemData::Allergy(_) => "allergy",
            ItemData::Certificate(_) => "certificate",
        }
    }

    /// The clinical date the item is ordered by.
    pub fn date(&self) -> Date {
        match self {
            ItemData::Immunization(x) => x.date,
            ItemData::Screening(x) => x.date,
            ItemData::Visit(x) => x.date,
            ItemData::Medication(x) => x.start,
            ItemData::Allergy(x) => x.noted_on,
            ItemData::Certificate(x) => x.issued_on,
        }
    }

    /// Checks every field: required texts present and bounded, ICD-10 codes well-formed,
    /// dates not in the future (except validity and end dates), known enumerations.
    pub fn validate(&self, today: Date) -> Result<ItemData> {
        let t = |f: &'static str, v: &str| crate::directory::text_field(f, v, 500);
        let opt = |f: &'static str, v: &Option<String>| v.as_deref().map(|v| t(f, v)).transpose();
        let past = |f: &'static str, d: Date| {
            if d > today { Err(Error::from(ValidationError::new(f, Reason::Future))) } else { Ok(d) }
        };
        Ok(match self {
            ItemData::Immunization(x) => ItemData::Immunization(Immunization {
                vaccine: t("vaccine", &x.vaccine)?,
                date: past("date", x.date)?,
                dose: opt("dose", &x.dose)?,
                lot: opt("lot", &x.lot)?,
                performer: opt("performer", &x.performer)?,
                next_due: x.next_due,
            }),
            ItemData::Screening(x) => ItemData::Screening(Screening {
                name: t("name", &x.name)?,
                date: past("date", x.date)?,
                result: t("result", &x.result)?,
            }),
            ItemData::Visit(x) => ItemData::Visit(Visit {
                date: past("date", x.date)?,
                institution: t("institution", &x.institution)?,
                diagnoses: x
                    .diagnoses
                    .iter()
                    .map(|d| Ok(Diagnosis { icd10: icd10(&d.icd10)?, text: t("diagnosis", &d.text)? }))
                    .collect::<Result<_>>()?,
                procedures: x.procedures.iter().map(|p| t("procedures", p)).collect::<Result<_>>()?,
            }),
            ItemData::Medication(x) => {
                if x.end.is_some_and(|e| e < x.start) {
                    return Err(ValidationError::new("end", Reason::Format).into());
                }
                ItemData::Medication(Medication {
                    name: t("name", &x.name)?,
                    dosage: t("dosage", &x.dosage)?,
                    schedule: t("schedule", &x.schedule)?,
                    start: x.start,
                    end: x.end,
                    prescriber: t("prescriber", &x.prescriber)?,
                })
            }
            ItemData::Allergy(x) => ItemData::Allergy(Allergy {
                substance: t("substance", &x.substance)?,
                reaction: t("reaction", &x.reaction)?,
                severity: x.severity,
                noted_on: past("noted_on", x.noted_on)?,
            }),
            ItemData::Certificate(x) => ItemData::Certificate(HealthCertificate {
                purpose: x.purpose,
                issued_on: past("issued_on", x.issued_on)?,
                valid_until: x.valid_until,
                conclusion: t("conclusion", &x.conclusion)?,
            }),
        })
    }
}

/// Checks the shape of an ICD-10 code: a letter, two digits, optionally a dot and one or
/// two more digits (`I10`, `J06.9`, `E11.65`); normalized to upper case.
pub fn icd10(code: &str) -> Result<String> {
    let c = code.trim().to_uppercase();
    let b = c.as_bytes();
    let head = b.len() >= 3 && b[0].is_ascii_uppercase() && b[1].is_ascii_digit() && b[2].is_ascii_digit();
    let tail = match &b[3.min(b.len())..] {
        [] => true,
        [b'.', rest @ ..] => (1..=2).contains(&rest.len()) && rest.iter().all(u8::is_ascii_digit),
        _ => false,
    };
    if head && tail { Ok(c) } else { Err(ValidationError::new("icd10", Reason::Format).into()) }
}

/// A medical item as read back.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct MedicalItem {
    /// Id (name it in a correction request).
    pub id: String,
    /// The patient.
    pub patient_id: String,
    /// The clinic that recorded it.
    pub clinic_id: Option<String>,
    /// Version: 1, then +1 for each accepted correction.
    pub version: i64,
    /// Last change.
    pub updated_at: OffsetDateTime,
    /// Content.
    pub data: ItemData,
}

/// Id, kind and version only: the content is medical data and stays out of logs.
impl std::fmt::Debug for MedicalItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MedicalItem")
            .field("id", &self.id)
            .field("kind", &self.data.kind())
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

/// A correction request (R12).
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct CorrectionRequest {
    /// Id.
    pub id: String,
    /// The item to correct.
    pub item_id: String,
    /// The patient.
    pub patient_id: String,
    /// What the patient wants changed.
    pub wanted_change: String,
    /// Pending, accepted or rejected.
    pub status: CorrectionStatus,
    /// Staff comment once resolved.
    pub comment: Option<String>,
    /// Created.
    pub created_at: OffsetDateTime,
    /// Resolved.
    pub resolved_at: Option<OffsetDateTime>,
    /// To be processed by then (R12): the end of the next working day after it was made, in
    /// the recording clinic's local time (UTC here).
    pub due_at: OffsetDateTime,
}

/// Leaves out the wanted change and the comment (sealed with the patient's key).
impl std::fmt::Debug for CorrectionRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CorrectionRequest")
            .field("id", &self.id)
            .field("item_id", &self.item_id)
            .field("patient_id", &self.patient_id)
            .field("status", &self.status)
            .field("created_at", &self.created_at)
            .field("resolved_at", &self.resolved_at)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
struct CorrectionBody {
    wanted_change: String,
    comment: Option<String>,
}

pub(crate) async fn load_items(
    tx: &mut Conn,
    vault: &Vault,
    patient_id: &str,
    kind: Option<&str>,
) -> Result<Vec<MedicalItem>> {
    store::items(&mut *tx, patient_id, kind)
        .await?
        .into_iter()
        .map(|r| {
            Ok(MedicalItem {
                data: vault.open_json("medical_items", &r.id, "body", &r.body)?,
                id: r.id,
                patient_id: patient_id.to_owned(),
                clinic_id: r.clinic_id,
                version: r.version,
                updated_at: from_micros(r.updated_at)?,
            })
        })
        .collect()
}

/// The signed-in patient's (or ward's) medical records.
#[derive(Debug, Clone)]
pub struct Records {
    me: Me,
}

impl Records {
    pub(crate) fn new(me: Me) -> Self {
        Records { me }
    }

    async fn list(&self, kind: &'static str) -> Result<Vec<MedicalItem>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("records").await?;
        let PatientWork { mut tx, vault, .. } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, kind, None).await?;
        let items = load_items(&mut tx, &vault, &patient_id, Some(kind)).await?;
        tx.commit().await?;
        Ok(items)
    }

    /// Immunizations, newest first.
    pub async fn immunizations(&self) -> Result<Vec<MedicalItem>> {
        self.list("immunization").await
    }

    /// Screenings and preventive check-ups, newest first.
    pub async fn screenings(&self) -> Result<Vec<MedicalItem>> {
        self.list("screening").await
    }

    /// Visits with diagnoses and procedures, newest first.
    pub async fn visits(&self) -> Result<Vec<MedicalItem>> {
        self.list("visit").await
    }

    /// Medications, newest first.
    pub async fn medications(&self) -> Result<Vec<MedicalItem>> {
        self.list("medication").await
    }

    /// Allergies and reactions, newest first.
    pub async fn allergies(&self) -> Result<Vec<MedicalItem>> {
        self.list("allergy").await
    }

    /// Health certificates, newest first.
    pub async fn certificates(&self) -> Result<Vec<MedicalItem>> {
        self.list("certificate").await
    }

    /// The whole record as a FHIR R4 Bundle (JSON text), journaled as an export.
    pub async fn export_fhir(&self) -> Result<String> {
        let patient_id = self.me.patient_for("records").await?;
        crate::fhir::export(self.me.cabinet(), self.me.audit_context(), &patient_id).await
    }

    /// Asks the clinic to correct an item: names the item and the wanted change.
    pub async fn request_correction(&self, item_id: &str, wanted_change: &str) -> Result<CorrectionRequest> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("records").await?;
        let wanted_change = crate::directory::text_field("wanted_change", wanted_change, 2000)?;
        let owner = store::item_owner(cab.store().pool(), item_id).await?;
        if owner.as_deref() != Some(patient_id.as_str()) {
            return Err(Error::NotFound { entity: "medical_item" });
        }
        let id = uuid::Uuid::now_v7().to_string();
        let zone = store::item_clinic_zone(cab.store().pool(), item_id)
            .await?
            .unwrap_or_else(|| crate::localtime::DEFAULT_TIME_ZONE.to_owned());
        let PatientWork { mut tx, vault, now } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Create, "correction", Some(&id))
                .await?;
        let body = CorrectionBody { wanted_change: wanted_change.clone(), comment: None };
        let sealed = vault.seal("corrections", &id, "body", &body)?;
        let holidays = &cab.deadline_policy().holidays;
        let due_at = crate::calendar::one_working_day_after(from_micros(now)?, &zone, holidays);
        store::insert_correction(&mut *tx, &id, &patient_id, item_id, sealed, now, to_micros(due_at)).await?;
        tx.commit().await?;
        Ok(CorrectionRequest {
            id,
            item_id: item_id.to_owned(),
            patient_id,
            wanted_change,
            status: CorrectionStatus::Pending,
            comment: None,
            created_at: from_micros(now)?,
            resolved_at: None,
            due_at,
        })
    }

    /// The patient's correction requests with their status, newest first.
    pub async fn corrections(&self) -> Result<Vec<CorrectionRequest>> {
        let cab = self.me.cabinet();
        let patient_id = self.me.patient_for("records").await?;
        let PatientWork { mut tx, vault, .. } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "correction", None).await?;
        let out = corrections_where(&mut tx, store::Corrections::Patient(&patient_id), |_| Ok(&vault)).await?;
        tx.commit().await?;
        Ok(out)
    }
}

async fn corrections_where<'v>(
    tx: &mut Conn,
    which: store::Corrections<'_>,
    vault_for: impl Fn(&str) -> Result<&'v Vault>,
) -> Result<Vec<CorrectionRequest>> {
    store::corrections(&mut *tx, which)
        .await?
        .into_iter()
        .map(|r| {
            let body: CorrectionBody = vault_for(&r.patient_id)?.open_json("corrections", &r.id, "body", &r.body)?;
            Ok(CorrectionRequest {
                item_id: r.item_id,
                status: CorrectionStatus::stored(&r.status)?,
                created_at: from_micros(r.created_at)?,
                resolved_at: r.resolved_at.map(from_micros).transpose()?,
                // Made before deadlines were recorded: a day after, as a floor.
                due_at: from_micros(r.due_at.unwrap_or(r.created_at.saturating_add(24 * 3600 * 1_000_000)))?,
                wanted_change: body.wanted_change,
                comment: body.comment,
                patient_id: r.patient_id,
                id: r.id,
            })
        })
        .collect()
}

/// Staff work on medical records of their clinic's patients.
#[derive(Debug, Clone)]
pub struct StaffRecords {
    me: Me,
}

impl StaffRecords {
    pub(crate) fn new(me: Me) -> Self {
        StaffRecords { me }
    }

    /// Adds an item (immunization, screening, visit, medication, allergy, certificate) for a
    /// patient of the staff member's clinic (doctors and nurses).
    pub async fn add(&self, patient_id: &str, data: ItemData) -> Result<MedicalItem> {
        let cab = self.me.cabinet();
        let member = staff_for(&self.me, patient_id, CLINICAL_ROLES).await?.clone();
        let now_t = cab.now();
        let data = data.validate(now_t.date())?;
        let now = to_micros(now_t);
        let mut tx = cab.store().begin().await?;
        let who = (Some(member.clinic_id.as_str()), member.account_id.as_str());
        let id = insert_item(cab, &mut tx, self.me.audit_context(), patient_id, &data, who, now).await?;
        tx.commit().await?;
        Ok(MedicalItem {
            id,
            patient_id: patient_id.to_owned(),
            clinic_id: Some(member.clinic_id),
            version: 1,
            updated_at: from_micros(now)?,
            data,
        })
    }

    /// A patient's items of every kind (journaled as read by the staff member).
    pub async fn of_patient(&self, patient_id: &str) -> Result<Vec<MedicalItem>> {
        let cab = self.me.cabinet();
        staff_for(&self.me, patient_id, CLINICAL_ROLES).await?;
        let PatientWork { mut tx, vault, .. } =
            PatientWork::begin(cab, self.me.audit_context(), patient_id, Action::Read, "medical_items", None).await?;
        let items = load_items(&mut tx, &vault, patient_id, None).await?;
        tx.commit().await?;
        Ok(items)
    }
}

/// Staff handling of correction requests.
#[derive(Debug, Clone)]
pub struct StaffCorrections {
    me: Me,
}

impl StaffCorrections {
    pub(crate) fn new(me: Me) -> Self {
        StaffCorrections { me }
    }

    /// Pending correction requests about the clinic's records, oldest first.
    pub async fn inbox(&self) -> Result<Vec<CorrectionRequest>> {
        Ok(self.select_inbox(None, i64::MAX - 1).await?.items)
    }

    /// One page of [`StaffCorrections::inbox`]: at most `limit` requests (default
    /// [`crate::paging::DEFAULT_LIMIT`]) after `cursor` (the previous page's `next_cursor`).
    pub async fn inbox_page(&self, limit: Option<u32>, cursor: Option<&str>) -> Result<CorrectionPage> {
        let limit = crate::paging::limit(limit)?;
        let after = cursor.map(|c| crate::paging::decode(c, 2, 1)).transpose()?;
        self.select_inbox(after.as_ref(), limit).await
    }

    async fn select_inbox(&self, after: Option<&crate::paging::Cursor>, limit: i64) -> Result<CorrectionPage> {
        let cab = self.me.cabinet();
        let member = self.me.live_staff().await?.clone();
        if !CLINICAL_ROLES.contains(&member.role) {
            return Err(Error::PermissionDenied { code: "role.not_allowed" });
        }
        let after = after.map(|c| (c.ints[0], c.texts[0].as_str()));
        let rows =
            store::pending_in_clinic(cab.store().pool(), &member.clinic_id, after, limit.saturating_add(1)).await?;
        let (rows, next_cursor) =
            crate::paging::split(rows, limit, |r| Ok::<_, Error>(vec![r.created_at.to_string(), r.id.clone()]))?;
        let mut items = Vec::with_capacity(rows.len());
        for store::PendingRow { id, patient_id, .. } in rows {
            let mut work =
                PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "correction", Some(&id))
                    .await?;
            let vault = &work.vault;
            items.extend(corrections_where(&mut work.tx, store::Corrections::Id(&id), |_| Ok(vault)).await?);
            work.commit().await?;
        }
        Ok(CorrectionPage { items, next_cursor })
    }

    /// Pending correction requests past their deadline (R12), oldest first.
    pub async fn overdue(&self) -> Result<Vec<CorrectionRequest>> {
        let now = self.me.cabinet().now();
        Ok(self.inbox().await?.into_iter().filter(|c| c.due_at <= now).collect())
    }

    /// Accepts or rejects a correction with a comment. Accepting with `corrected` replaces
    /// the item's content (same kind), keeping the old version; the patient is told.
    pub async fn resolve(
        &self,
        correction_id: &str,
        accepted: bool,
        comment: &str,
        corrected: Option<ItemData>,
    ) -> Result<CorrectionRequest> {
        let cab = self.me.cabinet();
        let row = store::correction_head(cab.store().pool(), correction_id).await?;
        let (patient_id, item_id, status) = row.ok_or(Error::NotFound { entity: "correction" })?;
        staff_for(&self.me, &patient_id, CLINICAL_ROLES).await?;
        if CorrectionStatus::stored(&status)? != CorrectionStatus::Pending {
            return Err(Error::Conflict { code: "correction.resolved" });
        }
        let comment = crate::directory::text_field("comment", comment, 2000)?;
        let now_t = cab.now();
        let corrected = corrected.map(|c| c.validate(now_t.date())).transpose()?;
        if accepted != corrected.is_some() {
            return Err(ValidationError::new("corrected", Reason::Empty).into());
        }
        let now = to_micros(now_t);
        let mut tx = cab.store().begin().await?;
        let vault = Vault::open(
            cab,
            &mut tx,
            self.me.audit_context(),
            &patient_id,
            Action::Update,
            "correction",
            Some(correction_id),
            now,
        )
        .await?;
        let sealed = store::correction_body(&mut *tx, correction_id).await?;
        let mut body: CorrectionBody = vault.open_json("corrections", correction_id, "body", &sealed)?;
        body.comment = Some(comment);
        let status = if accepted { CorrectionStatus::Accepted } else { CorrectionStatus::Rejected };
        let sealed = vault.seal("corrections", correction_id, "body", &body)?;
        if !store::resolve(&mut *tx, correction_id, status.as_str(), sealed, now, self.me.account_id()).await? {
            return Err(Error::Conflict { code: "correction.resolved" });
        }
        if let Some(new) = corrected {
            let (kind, version, old) = store::item_for_update(&mut *tx, &item_id).await?;
            if kind != new.kind() {
                return Err(ValidationError::new("corrected", Reason::UnknownValue).into());
            }
            store::archive_version(&mut *tx, &item_id, version, old, now).await?;
            let sealed = vault.seal("medical_items", &item_id, "body", &new)?;
            store::replace_item(&mut *tx, &item_id, sealed, version + 1, date_us(new.date()), now).await?;
        }
        let out = corrections_where(&mut tx, store::Corrections::Id(correction_id), |_| Ok(&vault)).await?;
        let message = crate::notify::patient_event(cab, &mut tx, &patient_id, "correction_resolved", &[], now).await?;
        tx.commit().await?;
        crate::notify::deliver_all(cab, message).await?;
        out.into_iter().next().ok_or(Error::NotFound { entity: "correction" })
    }

    /// Earlier versions of an item (oldest first), for the history of changes.
    pub async fn versions(&self, item_id: &str) -> Result<Vec<ItemData>> {
        let cab = self.me.cabinet();
        let patient_id =
            store::item_owner(cab.store().pool(), item_id).await?.ok_or(Error::NotFound { entity: "medical_item" })?;
        staff_for(&self.me, &patient_id, CLINICAL_ROLES).await?;
        let PatientWork { mut tx, vault, .. } =
            PatientWork::begin(cab, self.me.audit_context(), &patient_id, Action::Read, "medical_item", Some(item_id))
                .await?;
        let rows = store::versions(&mut *tx, item_id).await?;
        let out = rows.iter().map(|b| vault.open_json("medical_items", item_id, "body", b)).collect::<Result<_>>()?;
        tx.commit().await?;
        Ok(out)
    }
}

/// Tells each patient once when their correction request passed its deadline unprocessed
/// (R12); run by `run_due_jobs`. Returns how many were told.
pub(crate) async fn notify_overdue_corrections(cab: &crate::cabinet::Cabinet) -> Result<u64> {
    let now = to_micros(cab.now());
    let due = store::overdue_unnotified(cab.store().pool(), now, 500).await?;
    let mut told = 0;
    for store::PendingRow { id, patient_id, .. } in due {
        let done = notify_overdue(cab, &id, &patient_id, now).await;
        let settle = async |tx: &mut Conn| store::claim_overdue_notice(tx, &id, now).await.map(drop);
        told += crate::cabinet::tally(cab, done, "correction_overdue", &id, settle, now).await?;
    }
    Ok(told)
}

async fn notify_overdue(cab: &crate::cabinet::Cabinet, id: &str, patient_id: &str, now: i64) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    if !store::claim_overdue_notice(&mut *tx, id, now).await? {
        return Ok(false);
    }
    let what = crate::audit::Access {
        patient_id: Some(patient_id),
        action: Action::Update,
        resource_type: "correction_overdue",
        resource_id: Some(id),
    };
    cab.journal()
        .record(&mut tx, &crate::audit::AuditContext::system(), what, crate::audit::Outcome::Success, now)
        .await?;
    let outbox = crate::notify::patient_event(cab, &mut tx, patient_id, "correction_overdue", &[], now).await?;
    tx.commit().await?;
    crate::notify::deliver_all(cab, outbox).await?;
    Ok(true)
}

/// Queues a reminder for immunizations whose next dose is due within a week (R14), once per
/// item (claimed with a guarded UPDATE, so many processes send one). Returns how many.
pub(crate) async fn queue_vaccination_reminders(cab: &crate::cabinet::Cabinet) -> Result<u64> {
    let now_t = cab.now();
    let now = to_micros(now_t);
    let horizon = date_us(now_t.date() + time::Duration::days(7));
    let due = store::vaccinations_due(cab.store().pool(), horizon, 500).await?;
    let mut queued = 0;
    for store::DueVaccinationRow { id, patient_id, due_on } in due {
        let done = remind_vaccination(cab, &id, &patient_id, due_on, now).await;
        let settle = async |tx: &mut Conn| store::settle_reminder(tx, &id, now).await;
        queued += crate::cabinet::tally(cab, done, "vaccination_reminder", &id, settle, now).await?;
    }
    Ok(queued)
}

/// Queues one vaccination reminder; `false` if another process claimed it first.
async fn remind_vaccination(
    cab: &crate::cabinet::Cabinet,
    id: &str,
    patient_id: &str,
    due_on: i64,
    now: i64,
) -> Result<bool> {
    let mut tx = cab.store().begin().await?;
    if !store::claim_reminder(&mut *tx, id, now).await? {
        return Ok(false);
    }
    let args = [("date", from_micros(due_on)?.date().to_string())];
    crate::notify::patient_event(cab, &mut tx, patient_id, "vaccination_due", &args, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Stores a validated item in the caller's transaction (journaled as created by `ctx`);
/// `who` is the recording clinic and author. Returns the new id.
pub(crate) async fn insert_item(
    cab: &crate::cabinet::Cabinet,
    tx: &mut Conn,
    ctx: &crate::audit::AuditContext,
    patient_id: &str,
    data: &ItemData,
    who: (Option<&str>, &str),
    now: i64,
) -> Result<String> {
    let id = uuid::Uuid::now_v7().to_string();
    let vault = Vault::open(cab, tx, ctx, patient_id, Action::Create, data.kind(), Some(&id), now).await?;
    item_row(&vault, &id, patient_id, data, who, now)?.insert(tx).await?;
    Ok(id)
}

/// The `medical_items` row of a validated item, its body sealed in `vault`.
pub(crate) fn item_row(
    vault: &Vault,
    id: &str,
    patient_id: &str,
    data: &ItemData,
    who: (Option<&str>, &str),
    now: i64,
) -> Result<crate::store::rows::Row> {
    let due_on = match data {
        ItemData::Immunization(i) => i.next_due.map(date_us),
        _ => None,
    };
    Ok(crate::store::rows::Row::new(
        "medical_items",
        &[
            "id",
            "patient_id",
            "kind",
            "occurred_on",
            "clinic_id",
            "author_id",
            "body",
            "created_at",
            "updated_at",
            "due_on",
        ],
        vec![
            id.into(),
            patient_id.into(),
            data.kind().into(),
            date_us(data.date()).into(),
            who.0.into(),
            who.1.into(),
            vault.seal("medical_items", id, "body", data)?.into(),
            now.into(),
            now.into(),
            due_on.into(),
        ],
    ))
}
