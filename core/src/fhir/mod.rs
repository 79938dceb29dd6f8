//! HL7 FHIR R4 (issue 8, first part): export of a patient's record as a `Bundle` of type
//! `collection`, and import of bundles or single resources for the kinds Kabinet holds —
//! Patient, Immunization, AllergyIntolerance, Condition (ICD-10, as a visit),
//! MedicationStatement / MedicationRequest, Observation (with `referenceRange`, grouped by
//! its DiagnosticReport). Other resource types are counted as unsupported, never dropped
//! silently.
//!
//! The mapping is written against `serde_json::Value` rather than a FHIR model crate: the
//! subset is small, the full R4 models (fhir-sdk, fhirbolt) cost minutes of compile time on
//! this 2-core build and still need the same mapping code; see `docs/architecture.md`.
//!
//! Import is one transaction: the whole input is parsed and checked first, and the first
//! problem refuses everything with its JSON path (`fhir.invalid`). It is idempotent: every
//! source resource is remembered (`fhir_sources`), and resources whose id is a Kabinet id
//! (an export being re-imported) are recognised, so importing twice changes nothing. A
//! patient is matched by SNILS or OMS policy; a match whose name or birth date differ is a
//! `fhir.patient_mismatch` error — two people are never merged.
//!
//! Source ids belong to the system that sent them: they are remembered under the import's
//! source (an explicit `source`, else `Bundle.meta.source`), so `Patient/1` of one hospital is
//! not `Patient/1` of another. Even so, every match by a source id (or by a Kabinet id coming
//! back) must agree with what is on file — SNILS and ENP where both sides have them, else
//! surname, given name and birth date — and a record matched by id must belong to the same
//! patient; a disagreement refuses the whole file with `fhir.patient_mismatch`.

mod clinical;
mod directory;
mod documents;
mod export;
mod import;
mod read;
mod store;
mod synthetic;

use std::collections::BTreeMap;

use crate::audit::AuditContext;
use crate::cabinet::Cabinet;
use crate::error::{ErrorCode, ErrorKind, Result};

pub(crate) use export::export;
pub(crate) use import::purge_abandoned_imports;
pub use synthetic::{RESOURCES_PER_PATIENT, synthetic_bundle};

/// Identifier system of SNILS (Russian OID registry).
pub const SNILS_SYSTEM: &str = "urn:oid:1.2.643.100.3";
/// Identifier system of the OMS policy number (ENP).
pub const ENP_SYSTEM: &str = "urn:oid:1.2.643.5.1.13.2.7.100.5";
/// ICD-10 code system.
pub const ICD10_SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10";

/// A bundle or resource that cannot be imported, with the JSON path of the first problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid FHIR at {path}: {reason}")]
pub struct FhirError {
    /// `fhir.invalid` for input that is not importable FHIR; `fhir.patient_mismatch` when
    /// a patient or record matched by its source id disagrees with what is on file.
    pub code: &'static str,
    /// JSON path such as `entry[3].resource.birthDate`.
    pub path: String,
    /// What is wrong (`missing`, `format`, `reference`, `type`).
    pub reason: &'static str,
}

impl ErrorCode for FhirError {
    fn code(&self) -> &'static str {
        self.code
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Validation
    }
    fn message(&self, locale: crate::i18n::Locale) -> String {
        format!("{}: {} ({})", crate::i18n::text(locale, self.code), self.path, self.reason)
    }
}

/// What an import did, by resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportReport {
    /// Records created.
    pub created: BTreeMap<String, u64>,
    /// Resources already imported (or Kabinet's own), left as they were.
    pub unchanged: BTreeMap<String, u64>,
    /// Resources of types Kabinet does not hold.
    pub unsupported: BTreeMap<String, u64>,
    /// The local patients the input concerned.
    pub patient_ids: Vec<String>,
    /// One line per entry, in input order: what became of it and which local record it is —
    /// how a sending system maps its ids to Kabinet's.
    pub entries: Vec<ImportedEntry>,
}

/// What became of one entry of an import.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "uniffi", uniffi(name = "FhirImportedEntry"))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ImportedEntry {
    /// JSON path of the resource (`entry[3].resource`).
    pub path: String,
    /// Its resource type.
    pub resource_type: String,
    /// The name it is remembered by (`Type/id` or its `fullUrl`), if it has one.
    pub source: Option<String>,
    /// `created`, `unchanged` or `unsupported`.
    pub outcome: String,
    /// The Kabinet record it became or matched (a patient, visit, lab result, document,
    /// clinic, practitioner, slot or appointment id).
    pub local_id: Option<String>,
}

/// Operator FHIR access.
#[derive(Debug, Clone)]
pub struct SystemFhir {
    cab: Cabinet,
}

impl SystemFhir {
    pub(crate) fn new(cab: Cabinet) -> Self {
        SystemFhir { cab }
    }

    /// Imports a bundle (or single resource) as JSON text; see the module notes. Source ids
    /// are scoped to the sending system named by `Bundle.meta.source` (or unscoped when the
    /// bundle names none); use [`SystemFhir::import_bundle_from`] to name it explicitly.
    pub async fn import_bundle(&self, json: &str) -> Result<ImportReport> {
        import::import(&self.cab, json, None).await
    }

    /// Imports a bundle from the sending system `source` (a stable name or URI of the
    /// hospital system, e.g. `urn:oid:1.2.643.5.1.13.13.12.2.77.7813`): its resource ids are
    /// remembered under that system only, so two hospitals' `Patient/1` are never confused.
    /// `source` wins over `Bundle.meta.source`.
    pub async fn import_bundle_from(&self, json: &str, source: &str) -> Result<ImportReport> {
        import::import(&self.cab, json, Some(source)).await
    }

    /// Imports a bundle (or single resource) from a JSON file. A file that cannot be read
    /// as UTF-8 text is `fhir.invalid` with the file's path and reason `unreadable`.
    pub async fn import_file(&self, path: impl AsRef<std::path::Path>) -> Result<ImportReport> {
        self.import_file_from(path, None).await
    }

    /// [`SystemFhir::import_file`] with an explicit sending system (see
    /// [`SystemFhir::import_bundle_from`]).
    pub async fn import_file_from(
        &self,
        path: impl AsRef<std::path::Path>,
        source: Option<&str>,
    ) -> Result<ImportReport> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|_| {
            crate::Error::Fhir(FhirError {
                code: "fhir.invalid",
                path: path.display().to_string(),
                reason: "unreadable",
            })
        })?;
        import::import(&self.cab, &text, source).await
    }

    /// A patient's record as a FHIR R4 Bundle (JSON text).
    pub async fn export_patient(&self, patient_id: &str) -> Result<String> {
        export(&self.cab, &AuditContext::system(), patient_id).await
    }
}
