//! # Kabinet
//!
//! An embeddable SDK for a national patient personal cabinet: registration and identity,
//! login with a second factor, medical records, appointments, lab results, certificates,
//! requests and notifications — with encryption at rest, a signed audit journal and
//! storage on SQLite or PostgreSQL.
//!
//! Everything starts at [`Cabinet::open`]:
//!
//! ```no_run
//! # async fn demo() -> kabinet::Result<()> {
//! let cab = kabinet::Cabinet::open("sqlite://kabinet.db", kabinet::Config::default()).await?;
//! let id = cab.system().patients().create(kabinet::NewPatient {
//!     surname: "Иванова".into(), given_name: "Анна".into(), patronymic: Some("Сергеевна".into()),
//!     birth_date: time::macros::date!(1990 - 03 - 14), sex: kabinet::Sex::Female,
//!     snils: Some("112-233-445 95".into()), inn: None, oms_policy: None,
//!     phone: Some("8 916 123-45-67".into()), email: None,
//! }).await?;
//! # Ok(()) }
//! ```

pub mod accounts;
pub mod appointments;
pub mod attachment;
pub mod audit;
pub mod auth;
mod cabinet;
mod calendar;
pub mod certificates;
pub mod config;
pub mod crypto;
pub mod directory;
pub mod documents;
pub mod error;
#[cfg(feature = "uniffi")]
pub mod ffi;
pub mod fhir;
pub mod health;
pub mod i18n;
pub mod ids;
pub mod integrations;
pub mod labs;
mod localtime;
pub mod log;
pub mod me;
mod medical;
pub mod notify;
pub mod paging;
pub mod patients;
pub mod proxies;
#[cfg(feature = "python")]
pub mod python;
pub mod records;
pub mod requests;
mod sets;
pub mod staff;
pub mod stats;
mod store;
mod timeutil;

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("kabinet");

pub use accounts::{Accounts, ImportedAccount, LegacyAccount, PendingRegistration, Registration};
pub use appointments::{Appointment, AppointmentStatus, Appointments, ClinicAppointments};
pub use attachment::{
    Attachment, AttachmentEvent, AttachmentInfo, AttachmentReason, AttachmentStatus, PendingConfirmation,
};
pub use audit::Audit;
pub use audit::{AccessEntry, AccessPage, AuditContext, AuditReport, SignedTreeHead};
pub use auth::factors::TotpSetup;
pub use auth::identity::{IdentityCheck, IdentityConfirmation, IdentityError};
pub use auth::incidents::{Incident, IncidentKind, IncidentStatus};
pub use auth::profile::{ChangeRequest, MissingItem, Profile};
pub use auth::sessions::{Auth, Device, LoginStep, SessionInfo, Tokens};
pub use cabinet::{Backup, JobsReport};
pub use cabinet::{Cabinet, Keys, SystemAccounts, SystemContext};
pub use certificates::{
    Certificate, CertificateKind, CertificateKindDefinition, CertificateKindInfo, CertificatePeriod,
    CertificateSection, CertificateStatus, Certificates, SystemCertificates,
};
pub use config::{
    AccountPolicy, AppointmentPolicy, Argon2Params, AttachmentPolicy, Clock, Config, ConfigError, DeadlinePolicy,
    MigrationMode, SessionPolicy, SystemClock,
};
pub use crypto::{CryptoError, KeyProvider, KeyRotationReport};
pub use directory::{Clinic, Directory, DirectoryAdmin, Practitioner, Region, Slot};
pub use documents::{DocumentInfo, DocumentKind, DocumentMeta, DocumentPage, Documents, ReuploadTask, StaffDocuments};
pub use error::{Error, ErrorCode, ErrorKind, Result};
pub use fhir::{FhirError, ImportReport, ImportedEntry, SystemFhir};
pub use health::Health;
pub use i18n::Locale;
pub use ids::{Reason, Sex, ValidationError};
pub use integrations::{Channel, IdentityMethod, PushPlatform};
pub use labs::{Decimal, LabFlag, LabReport, LabResult, LabResultInput, LabResultPage, Labs, StaffLabs};
pub use me::{ContextRole, Identity, Me, Principal, Security};
pub use notify::{Notifications, Preferences, PushDevice};
pub use patients::{NewPatient, Patient, Patients, ProfileChange, ProfileField};
pub use proxies::{Proxies, ProxyGrant, StaffProxies, WardGrant};
pub use records::{
    Allergy, CertificatePurpose, CorrectionPage, CorrectionRequest, CorrectionStatus, Diagnosis, HealthCertificate,
    Immunization, ItemData, MedicalItem, Medication, Records, Screening, Severity, StaffCorrections, StaffRecords,
    Visit,
};
pub use requests::{Request, RequestDocument, RequestMessage, RequestPage, RequestStatus, Requests, StaffRequests};
pub use staff::{
    NewStaff, PatientRef, PatientRefPage, StaffAccount, StaffContext, StaffMember, StaffPatients, StaffRole,
    SystemStaff,
};
pub use stats::Stats;
pub use store::{Backend, SchemaStatus, StorageError};
