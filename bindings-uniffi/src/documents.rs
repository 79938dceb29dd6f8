//! Documents (R7, S3), sharing (S2), certificates (R10) and notification preferences (R14)
//! for Kotlin and Swift: conversions only.

use kabinet_ffi_guard::guard;

use kabinet::Locale;

pub use kabinet::{Certificate, DocumentInfo, DocumentMeta, Preferences};

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

delegate! {
    /// Documents: the patient's list, download and share; the staff's publish.
    class Documents(me: kabinet::Me) via |h| h.documents();
    /// Documents by kind and period (ISO dates), newest first.
    fn list(
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Vec<DocumentInfo>;
    /// One page of `list`: at most `limit` documents (default 100) after `cursor` (the
    /// previous page's `next_cursor`).
    #[uniffi::method(default(kind = None, since = None, until = None, limit = None, cursor = None))]
    fn list_page(
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::DocumentPage;
    /// The content, integrity-checked.
    fn download(document_id: String) -> Vec<u8>;
    /// A sealed package for the holder of an RSA-4096 key (SPKI PEM).
    fn share(document_id: String, recipient_public_key_pem: String) -> Vec<u8>;
    extra {
    /// Staff: puts a document into a patient's cabinet (type detected from the content).
    pub async fn publish(
        &self,
        patient_id: String,
        kind: kabinet::DocumentKind,
        filename: String,
        content: Vec<u8>,
        metadata: DocumentMeta,
    ) -> Result<DocumentInfo, KabinetError> {
        let meta = metadata;
        let staff = crate::booking::staff(&self.me, self.locale)?.documents();
        staff.publish(&patient_id, kind, &filename, &content, meta).await.ffi(self.locale)
    }

    /// Staff: the clinic's documents whose content failed its check, to upload again (S3).
    pub async fn reupload_tasks(&self) -> Result<Vec<kabinet::ReuploadTask>, KabinetError> {
        let staff = crate::booking::staff(&self.me, self.locale)?.documents();
        staff.reupload_tasks().await.ffi(self.locale)
    }

    /// Staff: uploads a quarantined document again (the issuing clinic only).
    pub async fn reupload(&self, document_id: String, content: Vec<u8>) -> Result<DocumentInfo, KabinetError> {
        let staff = crate::booking::staff(&self.me, self.locale)?.documents();
        staff.reupload(&document_id, &content).await.ffi(self.locale)
    }
    }
}

// No core type: the core returns the package's metadata and the content as a pair.
/// What a shared package says about its file, with the content.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct OpenedPackage {
    pub document_id: String,
    pub filename: String,
    pub kind: kabinet::DocumentKind,
    pub content_type: String,
    pub size: u64,
    pub sha256: String,
    pub created_on: String,
    pub institution: String,
    pub content: Vec<u8>,
}

/// Opens a shared package with the recipient's private key (PKCS#8 PEM), checking the
/// signature (against `expected_signer`, the cabinet's audit public key, if given).
#[guard]
#[uniffi::export]
pub fn open_shared_package(
    package: Vec<u8>,
    private_key_pem: String,
    expected_signer: Option<String>,
) -> Result<OpenedPackage, KabinetError> {
    let (m, content) = kabinet::documents::share::open_package(&package, &private_key_pem, expected_signer.as_deref())
        .ffi(Locale::En)?;
    Ok(OpenedPackage {
        document_id: m.document_id,
        filename: m.filename,
        kind: m.kind,
        content_type: m.content_type,
        size: m.size,
        sha256: m.sha256,
        created_on: m.created_on,
        institution: m.institution,
        content,
    })
}

delegate! {
    /// Certificates and extracts (R10).
    class Certificates(me: kabinet::Me) via |h| h.certificates();
    /// Asks for a certificate of a registered kind (a built-in `CertificateKind` value or any
    /// code from `kinds()`) for a period the kind allows; an SMS code is sent.
    #[uniffi::method(default(since = None, until = None))]
    fn request(kind: String, since: Option<time::Date>, until: Option<time::Date>) -> crate::PendingConfirmation;
    /// The kinds the patient may ask for, titled in the patient's language.
    fn kinds() -> Vec<kabinet::CertificateKindInfo>;
    /// Confirms with the SMS code; the certificate is ready.
    fn confirm(pending_id: String, code: String) -> Certificate;
    /// The certificate's PDF.
    fn download(certificate_id: String) -> Vec<u8>;
    /// Certificates, newest first.
    fn list() -> Vec<Certificate>;
}

delegate! {
    /// The operator's registry of certificate kinds (R10).
    class SystemCertificates(inner: kabinet::SystemCertificates) via |h| h;
    /// Registers a kind, or replaces the definition of the kind with its code (built-in ones
    /// included) and offers it again.
    fn register_kind(definition: kabinet::CertificateKindDefinition) -> kabinet::CertificateKindInfo;
    /// Stops offering a kind; its certificates stay readable.
    fn retire_kind(code: String) -> ();
    /// Every kind, retired ones too.
    fn kinds() -> Vec<kabinet::CertificateKindInfo>;
}

delegate! {
    /// Notification preferences (R14).
    class Notifications(me: kabinet::Me) via |h| h.notifications();
    /// Current channel choices.
    fn preferences() -> Preferences;
    /// Chooses channels for informational messages (security notices always go out).
    fn set_preferences(sms: bool, email: bool, push: bool) -> Preferences;
    /// Registers (or replaces) the push token of one of the person's devices (R14); removed
    /// when that device logs out or its session is revoked.
    fn register_push(device_id: String, platform: kabinet::PushPlatform, token: String) -> ();
    /// Removes one device's push token.
    fn unregister_push(device_id: String) -> ();
    /// The devices registered for push, newest first (tokens stay inside).
    fn push_devices() -> Vec<kabinet::PushDevice>;
}
