//! Documents (R7, S3), sharing (S2), certificates (R10) and notification preferences (R14)
//! for Python: conversions only.

use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDate, PyDateTime};

use crate::convert::{date_from_py, date_to_py, datetime_to_py};
use crate::runtime::block_on;

fn err(e: kabinet::Error, locale: kabinet::Locale) -> PyErr {
    crate::errors::to_py(e, locale)
}

/// Descriptive metadata of a document.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct DocumentMeta {
    inner: kabinet::DocumentMeta,
}

#[pymethods]
impl DocumentMeta {
    #[new]
    #[pyo3(signature = (created_on, institution, study_type = None))]
    fn new(created_on: &Bound<'_, PyDate>, institution: String, study_type: Option<String>) -> PyResult<Self> {
        Ok(DocumentMeta {
            inner: kabinet::DocumentMeta {
                created_on: date_from_py(created_on, "created_on")?,
                institution,
                study_type,
            },
        })
    }
}

/// A document as listed.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct DocumentInfo {
    id: String,
    patient_id: String,
    kind: String,
    filename: String,
    content_type: String,
    size: u64,
    sha256: String,
    created_on: Py<PyDate>,
    institution: String,
    study_type: Option<String>,
    created_at: Py<PyDateTime>,
}

fn info(py: Python<'_>, d: kabinet::DocumentInfo) -> PyResult<DocumentInfo> {
    Ok(DocumentInfo {
        created_on: date_to_py(py, d.created_on)?.unbind(),
        created_at: datetime_to_py(py, d.created_at)?.unbind(),
        id: d.id,
        patient_id: d.patient_id,
        kind: d.kind,
        filename: d.filename,
        content_type: d.content_type,
        size: d.size,
        sha256: d.sha256,
        institution: d.institution,
        study_type: d.study_type,
    })
}

/// Documents: the patient's list, download and share; the staff's publish.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Documents {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Documents {
    /// Documents by kind and period (document date), newest first.
    #[pyo3(signature = (kind = None, since = None, until = None))]
    fn list(
        &self,
        py: Python<'_>,
        kind: Option<String>,
        since: Option<&Bound<'_, PyDate>>,
        until: Option<&Bound<'_, PyDate>>,
    ) -> PyResult<Vec<DocumentInfo>> {
        let since = since.map(|d| date_from_py(d, "since")).transpose()?;
        let until = until.map(|d| date_from_py(d, "until")).transpose()?;
        let d = self.me.documents();
        let list = block_on(py, self.locale, async move { d.list(kind.as_deref(), since, until).await })?;
        list.into_iter().map(|x| info(py, x)).collect()
    }

    /// The content, integrity-checked (`IntegrityError` if tampered).
    fn download<'py>(&self, py: Python<'py>, document_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let d = self.me.documents();
        let bytes = block_on(py, self.locale, async move { d.download(&document_id).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// A sealed package for the holder of an RSA-4096 key (SPKI PEM).
    fn share<'py>(
        &self,
        py: Python<'py>,
        document_id: String,
        recipient_public_key_pem: String,
    ) -> PyResult<Bound<'py, PyBytes>> {
        let d = self.me.documents();
        let bytes = block_on(py, self.locale, async move { d.share(&document_id, &recipient_public_key_pem).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Staff: puts a document into a patient's cabinet (type detected from the content).
    fn publish(
        &self,
        py: Python<'_>,
        patient_id: String,
        kind: String,
        filename: String,
        content: &Bound<'_, PyBytes>,
        metadata: &Bound<'_, DocumentMeta>,
    ) -> PyResult<DocumentInfo> {
        let staff = self.me.staff().map_err(|e| err(e, self.locale))?.documents();
        let (content, meta) = (content.as_bytes().to_vec(), metadata.get().inner.clone());
        let d =
            block_on(
                py,
                self.locale,
                async move { staff.publish(&patient_id, &kind, &filename, &content, meta).await },
            )?;
        info(py, d)
    }
}

/// What a shared package says about its file.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct SharedMeta {
    document_id: String,
    filename: String,
    kind: String,
    content_type: String,
    size: u64,
    sha256: String,
    created_on: String,
    institution: String,
}

/// Opens a shared package with the recipient's private key (PKCS#8 PEM); checks the
/// signature (against `expected_signer`, the cabinet's `audit.public_key()`, if given).
#[pyfunction]
#[pyo3(signature = (package, private_key_pem, expected_signer = None))]
fn open_shared_package<'py>(
    py: Python<'py>,
    package: &Bound<'_, PyBytes>,
    private_key_pem: String,
    expected_signer: Option<String>,
) -> PyResult<(SharedMeta, Bound<'py, PyBytes>)> {
    let bytes = package.as_bytes().to_vec();
    let (m, content) = py
        .detach(|| kabinet::documents::share::open_package(&bytes, &private_key_pem, expected_signer.as_deref()))
        .map_err(|e| err(e, kabinet::Locale::En))?;
    let meta = SharedMeta {
        document_id: m.document_id,
        filename: m.filename,
        kind: m.kind,
        content_type: m.content_type,
        size: m.size,
        sha256: m.sha256,
        created_on: m.created_on,
        institution: m.institution,
    };
    Ok((meta, PyBytes::new(py, &content)))
}

/// A certificate or extract.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct Certificate {
    id: String,
    kind: String,
    status: String,
    document_id: Option<String>,
    since: Option<Py<PyDate>>,
    until: Option<Py<PyDate>>,
    created_at: Py<PyDateTime>,
}

fn certificate(py: Python<'_>, c: kabinet::Certificate) -> PyResult<Certificate> {
    Ok(Certificate {
        since: c.since.map(|d| date_to_py(py, d).map(Bound::unbind)).transpose()?,
        until: c.until.map(|d| date_to_py(py, d).map(Bound::unbind)).transpose()?,
        created_at: datetime_to_py(py, c.created_at)?.unbind(),
        id: c.id,
        kind: c.kind,
        status: c.status,
        document_id: c.document_id,
    })
}

/// Certificates and extracts (R10).
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Certificates {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Certificates {
    /// Asks for `medical_history_extract`, `health_status` or `vaccination`; an SMS code
    /// is sent (`Conflict` `certificate.no_data` when the records hold nothing to state).
    #[pyo3(signature = (kind, since = None, until = None))]
    fn request(
        &self,
        py: Python<'_>,
        kind: String,
        since: Option<&Bound<'_, PyDate>>,
        until: Option<&Bound<'_, PyDate>>,
    ) -> PyResult<crate::booking::PendingConfirmation> {
        let since = since.map(|d| date_from_py(d, "since")).transpose()?;
        let until = until.map(|d| date_from_py(d, "until")).transpose()?;
        let c = self.me.certificates();
        let p = block_on(py, self.locale, async move { c.request(&kind, since, until).await })?;
        Ok(crate::booking::PendingConfirmation::new(p.id, p.action))
    }

    /// Confirms with the SMS code; the certificate is ready.
    fn confirm(&self, py: Python<'_>, pending_id: String, code: String) -> PyResult<Certificate> {
        let c = self.me.certificates();
        certificate(py, block_on(py, self.locale, async move { c.confirm(&pending_id, &code).await })?)
    }

    /// The certificate's PDF.
    fn download<'py>(&self, py: Python<'py>, certificate_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let c = self.me.certificates();
        let bytes = block_on(py, self.locale, async move { c.download(&certificate_id).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Certificates, newest first.
    fn list(&self, py: Python<'_>) -> PyResult<Vec<Certificate>> {
        let c = self.me.certificates();
        block_on(py, self.locale, async move { c.list().await })?.into_iter().map(|x| certificate(py, x)).collect()
    }
}

/// Channel preferences.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct Preferences {
    sms: bool,
    email: bool,
    push: bool,
}

/// Notification preferences (R14).
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Notifications {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Notifications {
    /// Current channel choices.
    fn preferences(&self, py: Python<'_>) -> PyResult<Preferences> {
        let n = self.me.notifications();
        let p = block_on(py, self.locale, async move { n.preferences().await })?;
        Ok(Preferences { sms: p.sms, email: p.email, push: p.push })
    }

    /// Chooses channels for informational messages (security notices always go out).
    #[pyo3(signature = (sms = true, email = true, push = true))]
    fn set_preferences(&self, py: Python<'_>, sms: bool, email: bool, push: bool) -> PyResult<Preferences> {
        let n = self.me.notifications();
        let p = block_on(py, self.locale, async move { n.set_preferences(sms, email, push).await })?;
        Ok(Preferences { sms: p.sms, email: p.email, push: p.push })
    }
}

/// What a FHIR import did, by resource type.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct ImportReport {
    created: std::collections::BTreeMap<String, u64>,
    unchanged: std::collections::BTreeMap<String, u64>,
    unsupported: std::collections::BTreeMap<String, u64>,
    patient_ids: Vec<String>,
    entries: Vec<ImportedEntry>,
}

/// What became of one entry of a FHIR import, and which Kabinet record it is.
#[pyclass(module = "kabinet", frozen, get_all)]
#[derive(Clone)]
pub(crate) struct ImportedEntry {
    path: String,
    resource_type: String,
    source: Option<String>,
    outcome: String,
    local_id: Option<String>,
}

/// FHIR R4 import and export for the operator.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct SystemFhir {
    pub(crate) inner: kabinet::SystemFhir,
    pub(crate) locale: kabinet::Locale,
}

impl From<kabinet::ImportReport> for ImportReport {
    fn from(r: kabinet::ImportReport) -> Self {
        ImportReport {
            created: r.created,
            unchanged: r.unchanged,
            unsupported: r.unsupported,
            patient_ids: r.patient_ids,
            entries: r
                .entries
                .into_iter()
                .map(|e| ImportedEntry {
                    path: e.path,
                    resource_type: e.resource_type,
                    source: e.source,
                    outcome: e.outcome,
                    local_id: e.local_id,
                })
                .collect(),
        }
    }
}

#[pymethods]
impl SystemFhir {
    /// Imports a Bundle (transaction, batch, collection) or a single resource, as JSON text.
    /// `source` names the sending system its ids belong to (default: `Bundle.meta.source`).
    #[pyo3(signature = (json, source = None))]
    fn import_bundle(&self, py: Python<'_>, json: String, source: Option<String>) -> PyResult<ImportReport> {
        let f = self.inner.clone();
        let r = block_on(py, self.locale, async move {
            match source {
                Some(s) => f.import_bundle_from(&json, &s).await,
                None => f.import_bundle(&json).await,
            }
        })?;
        Ok(r.into())
    }

    /// Imports a Bundle or resource from a JSON file (`source` as for `import_bundle`).
    #[pyo3(signature = (path, source = None))]
    fn import_file(&self, py: Python<'_>, path: std::path::PathBuf, source: Option<String>) -> PyResult<ImportReport> {
        let f = self.inner.clone();
        let r = block_on(py, self.locale, async move { f.import_file_from(&path, source.as_deref()).await })?;
        Ok(r.into())
    }

    /// A patient's record as a FHIR R4 Bundle (JSON text).
    fn export_patient(&self, py: Python<'_>, patient_id: String) -> PyResult<String> {
        let f = self.inner.clone();
        block_on(py, self.locale, async move { f.export_patient(&patient_id).await })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<ImportReport>()?;
    m.add_class::<ImportedEntry>()?;
    m.add_class::<SystemFhir>()?;
    m.add_class::<DocumentMeta>()?;
    m.add_class::<DocumentInfo>()?;
    m.add_class::<Documents>()?;
    m.add_class::<SharedMeta>()?;
    m.add_class::<Certificate>()?;
    m.add_class::<Certificates>()?;
    m.add_class::<Preferences>()?;
    m.add_class::<Notifications>()?;
    m.add_function(wrap_pyfunction!(open_shared_package, m)?)?;
    Ok(())
}
