//! The one UniFFI surface of Kabinet for Kotlin and Swift.
//!
//! Thin by design: every rule, check and query lives in the `kabinet` core; this crate only
//! converts types and errors. Async functions run on one tokio runtime
//! (`async_runtime = "tokio"`): Kotlin sees `suspend` functions, Swift `async` ones.

mod accounts;
mod audit;
mod booking;
mod cabinet;
mod delegate;
mod documents;
mod error;
mod guard;
mod identity;
mod ids;
mod logging;
mod patients;
mod records;

pub use accounts::{
    Accounts, Auth, ChangeRequest, DeliveryFailed, Device, Incident, LegacyAccount, LoginStep, Me, Message, Notifier,
    Profile, ProfileChange, Registration, Security, SessionInfo, SystemAccounts, Tokens, TotpSetup,
};
pub use audit::{AccessEntry, Audit, AuditReport, SignedTreeHead};
pub use booking::{
    Appointment, Appointments, Attachment, AttachmentEvent, Clinic, ClinicAppointments, ClinicAttachment, Directory,
    DirectoryAdmin, PatientRef, PendingConfirmation, Practitioner, Region, Slot, StaffAccount, StaffMember,
    StaffPatients, SystemStaff,
};
pub use cabinet::{
    Cabinet, CabinetBuilder, FhirImportReport, KeyRotationReport, Keys, SystemContext, SystemFhir, open_in_memory,
};
pub use documents::{
    Certificate, Certificates, DocumentInfo, DocumentMeta, Documents, Notifications, OpenedPackage, Preferences,
    SystemCertificates, open_shared_package,
};
pub use error::KabinetError;
pub use identity::{
    ConfirmationRequest, Confirmer, Identity, IdentityCheck, IdentityRegistry, RegistryAnswer, RegistryFailed,
    RegistryRequest,
};
pub use kabinet::log::LogRecord;
pub use logging::{LogSink, LogSinkFailed, set_log_sink};
pub use patients::{NewPatient, Patient, Patients};
pub use records::{
    Allergy, CorrectionRequest, Diagnosis, HealthCertificate, Immunization, ItemData, LabReport, LabResult,
    LabResultInput, Labs, MedicalItem, Medication, MissingItem, Proxies, ProxyGrant, Records, Request, RequestDocument,
    RequestMessage, Requests, Screening, StaffCorrections, Visit,
};

uniffi::setup_scaffolding!();

// Calendar dates as the core maps them (ISO text; `java.time.LocalDate` in Kotlin).
uniffi::use_remote_type!(kabinet::time::Date);
