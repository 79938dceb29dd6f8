//! Documents (R7, S3), sharing (S2), certificates (R10) and notification preferences (R14)
//! for Kotlin and Swift: conversions only.

use kabinet_ffi_guard::guard;

use kabinet::Locale;

pub use kabinet::{Certificate, DocumentInfo, DocumentMeta, Preferences};

use crate::KabinetError;
use crate::error::IntoFfi;

/// Documents: the patient's list, download and share; the staff's publish.
#[derive(uniffi::Object)]
pub struct Documents {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Documents {
    /// Documents by kind and period (ISO dates), newest first.
    pub async fn list(
        &self,
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Result<Vec<DocumentInfo>, KabinetError> {
        self.me.documents().list(kind, since, until).await.ffi(self.locale)
    }

    /// One page of `list`: at most `limit` documents (default 100) after `cursor` (the
    /// previous page's `next_cursor`).
    #[uniffi::method(default(kind = None, since = None, until = None, limit = None, cursor = None))]
    pub async fn list_page(
        &self,
        kind: Option<kabinet::DocumentKind>,
        since: Option<time::Date>,
        until: Option<time::Date>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::DocumentPage, KabinetError> {
        self.me.documents().list_page(kind, since, until, limit, cursor.as_deref()).await.ffi(self.locale)
    }

    /// The content, integrity-checked.
    pub async fn download(&self, document_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.documents().download(&document_id).await.ffi(self.locale)
    }

    /// A sealed package for the holder of an RSA-4096 key (SPKI PEM).
    pub async fn share(&self, document_id: String, recipient_public_key_pem: String) -> Result<Vec<u8>, KabinetError> {
        self.me.documents().share(&document_id, &recipient_public_key_pem).await.ffi(self.locale)
    }

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

/// Certificates and extracts (R10).
#[derive(uniffi::Object)]
pub struct Certificates {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Certificates {
    /// Asks for `medical_history_extract`, `health_status` or `vaccination`; an SMS code is sent.
    pub async fn request(
        &self,
        kind: kabinet::CertificateKind,
        since: Option<time::Date>,
        until: Option<time::Date>,
    ) -> Result<crate::PendingConfirmation, KabinetError> {
        self.me.certificates().request(kind, since, until).await.ffi(self.locale)
    }

    /// Confirms with the SMS code; the certificate is ready.
    pub async fn confirm(&self, pending_id: String, code: String) -> Result<Certificate, KabinetError> {
        self.me.certificates().confirm(&pending_id, &code).await.ffi(self.locale)
    }

    /// The certificate's PDF.
    pub async fn download(&self, certificate_id: String) -> Result<Vec<u8>, KabinetError> {
        self.me.certificates().download(&certificate_id).await.ffi(self.locale)
    }

    /// Certificates, newest first.
    pub async fn list(&self) -> Result<Vec<Certificate>, KabinetError> {
        self.me.certificates().list().await.ffi(self.locale)
    }
}

/// Notification preferences (R14).
#[derive(uniffi::Object)]
pub struct Notifications {
    pub(crate) me: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Notifications {
    /// Current channel choices.
    pub async fn preferences(&self) -> Result<Preferences, KabinetError> {
        self.me.notifications().preferences().await.ffi(self.locale)
    }

    /// Chooses channels for informational messages (security notices always go out).
    pub async fn set_preferences(&self, sms: bool, email: bool, push: bool) -> Result<Preferences, KabinetError> {
        self.me.notifications().set_preferences(sms, email, push).await.ffi(self.locale)
    }
}
