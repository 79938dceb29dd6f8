//! Python support (feature `python`): the core's own value types are the Python classes
//! (`cfg_attr(feature = "python", pyclass(module = "kabinet", frozen, get_all, eq))` on them),
//! so `bindings-python` holds no mirror of them. What every such class offers besides its
//! fields is added here, once.

use pyo3::prelude::*;

/// `__repr__` from the type's `Debug` (which redacts what must not be shown).
macro_rules! python_values {
    ($($t:ty),* $(,)?) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}

python_values!(
    crate::directory::Region,
    crate::directory::Clinic,
    crate::directory::Practitioner,
    crate::directory::Slot,
    crate::accounts::PendingRegistration,
    crate::auth::sessions::LoginStep,
    crate::auth::sessions::Tokens,
    crate::auth::sessions::SessionInfo,
    crate::auth::profile::ChangeRequest,
    crate::auth::profile::MissingItem,
    crate::patients::ProfileChange,
    crate::auth::incidents::Incident,
    crate::auth::factors::TotpSetup,
    crate::auth::identity::IdentityCheck,
    crate::audit::AccessEntry,
    crate::appointments::Appointment,
    crate::attachment::PendingConfirmation,
    crate::attachment::AttachmentInfo,
    crate::attachment::AttachmentEvent,
    crate::staff::StaffAccount,
    crate::staff::StaffMember,
    crate::staff::PatientRef,
    crate::crypto::KeyRotationReport,
    crate::documents::DocumentInfo,
    crate::documents::share::SharedMeta,
    crate::certificates::Certificate,
    crate::notify::Preferences,
    crate::fhir::ImportReport,
    crate::fhir::ImportedEntry,
    crate::records::CorrectionRequest,
    crate::requests::RequestMessage,
    crate::requests::RequestDocument,
    crate::requests::Request,
    crate::proxies::ProxyGrant,
);
