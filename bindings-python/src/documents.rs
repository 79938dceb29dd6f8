//! Documents (R7, S3), sharing (S2), certificates (R10) and notification preferences (R14)
//! for Python: conversions only.

use pyo3::prelude::*;
use pyo3::types::PyBytes;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::documents::share::SharedMeta;
pub(crate) use kabinet::{
    Certificate, CertificateKindDefinition, CertificateKindInfo, DocumentInfo, DocumentMeta, ImportReport,
    ImportedEntry, Preferences, PushDevice, ReuploadTask,
};

fn err(e: kabinet::Error, locale: kabinet::Locale) -> PyErr {
    crate::errors::to_py(e, locale)
}

delegate! {
    /// Documents: the patient's list, download and share; the staff's publish.
    class Documents(kabinet::Me) via |me, _l| me.documents();
    /// Documents by kind and period (document date), newest first.
    #[pyo3(signature = (kind = None, since = None, until = None))]
    fn list(
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Vec<DocumentInfo>;
    /// One page of `list`: at most `limit` documents after `cursor` (the previous page's
    /// `next_cursor`).
    #[pyo3(signature = (kind = None, since = None, until = None, limit = None, cursor = None))]
    fn list_page(
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::DocumentPage;
    extra {
    /// The content, integrity-checked (`IntegrityError` if tampered).
    fn download<'py>(&self, py: Python<'py>, document_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let d = self.inner.documents();
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
        let d = self.inner.documents();
        let bytes = block_on(py, self.locale, async move { d.share(&document_id, &recipient_public_key_pem).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    /// Staff: puts a document into a patient's cabinet (type detected from the content).
    fn publish(
        &self,
        py: Python<'_>,
        patient_id: String,
        kind: kabinet::DocumentKind,
        filename: String,
        content: &Bound<'_, PyBytes>,
        metadata: &Bound<'_, DocumentMeta>,
    ) -> PyResult<DocumentInfo> {
        let staff = self.inner.staff().map_err(|e| err(e, self.locale))?.documents();
        // The bytes object is immutable and held by the caller: read in place, not copied.
        let (content, meta) = (content.as_bytes(), metadata.get().clone());
        block_on(py, self.locale, async move { staff.publish(&patient_id, kind, &filename, content, meta).await })
    }

    /// Staff: the clinic's documents whose content failed its check, to upload again (S3).
    fn reupload_tasks(&self, py: Python<'_>) -> PyResult<Vec<kabinet::ReuploadTask>> {
        let staff = self.inner.staff().map_err(|e| err(e, self.locale))?.documents();
        block_on(py, self.locale, async move { staff.reupload_tasks().await })
    }

    /// Staff: uploads a quarantined document again (the issuing clinic only).
    fn reupload(&self, py: Python<'_>, document_id: String, content: &Bound<'_, PyBytes>) -> PyResult<DocumentInfo> {
        let staff = self.inner.staff().map_err(|e| err(e, self.locale))?.documents();
        let content = content.as_bytes().to_vec();
        block_on(py, self.locale, async move { staff.reupload(&document_id, &content).await })
    }
    }
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
    let (meta, content) = py
        .detach(|| kabinet::documents::share::open_package(&bytes, &private_key_pem, expected_signer.as_deref()))
        .map_err(|e| err(e, kabinet::Locale::En))?;
    Ok((meta, PyBytes::new(py, &content)))
}

delegate! {
    /// Certificates and extracts (R10).
    class Certificates(kabinet::Me) via |me, _l| me.certificates();
    /// Asks for a certificate of a registered kind (a `CertificateKind` or any code from
    /// `kinds()`) for a period the kind allows; an SMS code is sent (`Conflict`
    /// `certificate.no_data` when the records hold nothing to state).
    #[pyo3(signature = (kind, since = None, until = None))]
    fn request(
        kind: String,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> kabinet::PendingConfirmation;
    /// The kinds the patient may ask for, titled in the patient's language.
    fn kinds() -> Vec<kabinet::CertificateKindInfo>;
    /// Confirms with the SMS code; the certificate is ready.
    fn confirm(pending_id: String, code: String) -> Certificate;
    /// Certificates, newest first.
    fn list() -> Vec<Certificate>;
    extra {
    /// The certificate's PDF.
    fn download<'py>(&self, py: Python<'py>, certificate_id: String) -> PyResult<Bound<'py, PyBytes>> {
        let c = self.inner.certificates();
        let bytes = block_on(py, self.locale, async move { c.download(&certificate_id).await })?;
        Ok(PyBytes::new(py, &bytes))
    }

    }
}

delegate! {
    /// The operator's registry of certificate kinds (R10).
    class SystemCertificates(kabinet::SystemCertificates) via |s, _l| s.clone();
    /// Registers a kind, or replaces the definition of the kind with its code (built-in
    /// ones included) and offers it again.
    fn register_kind(definition: &Bound<'_, kabinet::CertificateKindDefinition>) -> kabinet::CertificateKindInfo;
    /// Stops offering a kind; its certificates stay readable.
    fn retire_kind(code: String) -> ();
    /// Every kind, retired ones too.
    fn kinds() -> Vec<kabinet::CertificateKindInfo>;
}

delegate! {
    /// Notification preferences (R14).
    class Notifications(kabinet::Me) via |me, _l| me.notifications();
    /// Current channel choices.
    fn preferences() -> Preferences;
    /// Chooses channels for informational messages (security notices always go out).
    #[pyo3(signature = (sms = true, email = true, push = true))]
    fn set_preferences(sms: bool, email: bool, push: bool) -> Preferences;
    /// Registers (or replaces) the push token of one of the person's devices (R14).
    fn register_push(device_id: String, platform: kabinet::PushPlatform, token: String) -> ();
    /// Removes one device's push token.
    fn unregister_push(device_id: String) -> ();
    /// The devices registered for push, newest first (tokens stay inside).
    fn push_devices() -> Vec<kabinet::PushDevice>;
}

delegate! {
    /// FHIR R4 import and export for the operator.
    class SystemFhir(kabinet::SystemFhir) via |f, _l| f.clone();
    /// A patient's record as a FHIR R4 Bundle (JSON text).
    fn export_patient(patient_id: String) -> String;
    extra {
    /// Imports a Bundle (transaction, batch, collection) or a single resource, as JSON text.
    /// `source` names the sending system its ids belong to (default: `Bundle.meta.source`).
    #[pyo3(signature = (json, source = None))]
    fn import_bundle(&self, py: Python<'_>, json: String, source: Option<String>) -> PyResult<ImportReport> {
        let f = self.inner.clone();
        block_on(py, self.locale, async move {
            match source {
                Some(s) => f.import_bundle_from(&json, &s).await,
                None => f.import_bundle(&json).await,
            }
        })
    }

    /// Imports a Bundle or resource from a JSON file (`source` as for `import_bundle`).
    #[pyo3(signature = (path, source = None))]
    fn import_file(&self, py: Python<'_>, path: std::path::PathBuf, source: Option<String>) -> PyResult<ImportReport> {
        let f = self.inner.clone();
        block_on(py, self.locale, async move { f.import_file_from(&path, source.as_deref()).await })
    }

    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        ImportReport, ImportedEntry, SystemFhir, DocumentMeta, DocumentInfo, Documents, SharedMeta, Certificate,
        Certificates, Preferences, Notifications, PushDevice, ReuploadTask, SystemCertificates,
        CertificateKindDefinition, CertificateKindInfo,
    }
    m.add_function(wrap_pyfunction!(open_shared_package, m)?)?;
    Ok(())
}
