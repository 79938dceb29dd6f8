//! Python support (feature `python`): the core's own value types are the Python classes
//! (`cfg_attr(feature = "python", pyclass(module = "kabinet", frozen, get_all, eq))` on them),
//! so `bindings-python` holds no mirror of them. What every such class offers besides its
//! fields is added here, once.

use std::sync::OnceLock;

use pyo3::prelude::*;

mod inputs;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyType};

/// How a core error becomes a Python exception; `bindings-python` installs its converter
/// (the `kabinet.KabinetError` classes) at import. Until then, a `ValueError`.
static TO_PYTHON_ERROR: OnceLock<fn(crate::Error) -> PyErr> = OnceLock::new();

/// Installs the converter used for errors raised while reading arguments (a bad enum value).
pub fn set_error_converter(convert: fn(crate::Error) -> PyErr) {
    let _ = TO_PYTHON_ERROR.set(convert);
}

/// A core error as a Python exception.
pub(crate) fn error(e: crate::Error) -> PyErr {
    match TO_PYTHON_ERROR.get() {
        Some(convert) => convert(e),
        None => pyo3::exceptions::PyValueError::new_err(e.to_string()),
    }
}

/// The `enum.StrEnum` class `kabinet.<name>` with one member per value (member names are
/// the values in upper case), made once.
pub(crate) fn str_enum_class<'a>(
    py: Python<'_>,
    cell: &'a PyOnceLock<Py<PyType>>,
    name: &str,
    values: &[&str],
) -> PyResult<&'a Py<PyType>> {
    cell.get_or_try_init(py, || {
        let members: Vec<(String, &str)> = values.iter().map(|v| (v.to_uppercase(), *v)).collect();
        let options = PyDict::new(py);
        options.set_item("module", "kabinet")?;
        let made = py.import("enum")?.getattr("StrEnum")?.call((name, members), Some(&options))?;
        made.setattr(
            "__doc__",
            format!("{name}: a closed set of string values; members compare equal to their values."),
        )?;
        Ok(made.cast_into::<PyType>()?.unbind())
    })
}

/// Python conversions of a [`crate::sets::closed_set!`] enum: to its `StrEnum` member, from
/// the member or any string the Rust parser takes (a bad one raises `ValidationError`
/// listing the valid values).
macro_rules! str_enum {
    ($name:ident) => {
        impl $name {
            /// The Python `StrEnum` class of this set.
            pub fn python_class(py: pyo3::Python<'_>) -> pyo3::PyResult<&'static pyo3::Py<pyo3::types::PyType>> {
                static CLASS: pyo3::sync::PyOnceLock<pyo3::Py<pyo3::types::PyType>> = pyo3::sync::PyOnceLock::new();
                $crate::python::str_enum_class(py, &CLASS, stringify!($name), Self::VALUES)
            }
        }

        impl<'py> pyo3::IntoPyObject<'py> for $name {
            type Target = pyo3::PyAny;
            type Output = pyo3::Bound<'py, pyo3::PyAny>;
            type Error = pyo3::PyErr;
            fn into_pyobject(self, py: pyo3::Python<'py>) -> pyo3::PyResult<Self::Output> {
                pyo3::types::PyAnyMethods::call1(Self::python_class(py)?.bind(py).as_any(), (self.as_str(),))
            }
        }

        impl<'py> pyo3::IntoPyObject<'py> for &$name {
            type Target = pyo3::PyAny;
            type Output = pyo3::Bound<'py, pyo3::PyAny>;
            type Error = pyo3::PyErr;
            fn into_pyobject(self, py: pyo3::Python<'py>) -> pyo3::PyResult<Self::Output> {
                (*self).into_pyobject(py)
            }
        }

        impl<'a, 'py> pyo3::FromPyObject<'a, 'py> for $name {
            type Error = pyo3::PyErr;
            fn extract(obj: pyo3::Borrowed<'a, 'py, pyo3::PyAny>) -> pyo3::PyResult<Self> {
                let text: std::borrow::Cow<'_, str> = pyo3::types::PyAnyMethods::extract(&*obj)?;
                $name::parse(&text).map_err(|e| $crate::python::error(e.into()))
            }
        }
    };
}
pub(crate) use str_enum;

/// Adds every closed set's `StrEnum` class and `_restore` (for pickling) to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(_restore, m)?)?;
    macro_rules! add {
        ($($t:ty),* $(,)?) => {$(
            let class = <$t>::python_class(m.py())?;
            m.add(class.bind(m.py()).getattr("__name__")?.extract::<String>()?, class.clone_ref(m.py()))?;
        )*};
    }
    add!(
        crate::integrations::Channel,
        crate::integrations::PushPlatform,
        crate::attachment::AttachmentReason,
        crate::integrations::IdentityMethod,
        crate::ids::Sex,
        crate::appointments::AppointmentStatus,
        crate::labs::LabFlag,
        crate::records::Severity,
        crate::records::CertificatePurpose,
        crate::records::CorrectionStatus,
        crate::staff::StaffRole,
        crate::auth::incidents::IncidentKind,
        crate::auth::incidents::IncidentStatus,
        crate::certificates::CertificateKind,
        crate::certificates::CertificateSection,
        crate::certificates::CertificatePeriod,
        crate::certificates::CertificateStatus,
        crate::requests::RequestStatus,
        crate::attachment::AttachmentStatus,
        crate::documents::DocumentKind,
        crate::config::MigrationMode,
        crate::me::ContextRole,
        crate::audit::ActorKind,
        crate::audit::Action,
        crate::audit::Outcome,
    );
    Ok(())
}

/// `obj` as the class the `kabinet` package exports under its class name: the package
/// exports a guarded subclass of each input type (`kabinet/_guard.py`), and a record read back
/// must be an instance of it for `isinstance(item.data, kabinet.Immunization)`. The subclass
/// adds no fields, so only the object's class changes.
pub(crate) fn exported(obj: Bound<'_, PyAny>) -> PyResult<Bound<'_, PyAny>> {
    let class = obj.get_type();
    let exported = obj.py().import("kabinet")?.getattr(class.name()?)?;
    if !exported.is(&class) {
        obj.setattr("__class__", exported)?;
    }
    Ok(obj)
}

/// The fields of a Kabinet value as a `dict`, keys sorted by name: nested Kabinet values
/// become dicts too, lists stay lists; closed sets stay their (string-valued) members, dates
/// and times stay `date`/`datetime`. What `repr` hides (a code, a token) is a field like any
/// other here: `to_dict` is for the host's own use (JSON, logging it is the host's choice).
pub(crate) fn to_dict<'py>(obj: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyDict>> {
    let py = obj.py();
    let getset = py.import("types")?.getattr("GetSetDescriptorType")?;
    let mut names = std::collections::BTreeSet::new();
    for class in obj.get_type().mro().iter() {
        for item in class.getattr("__dict__")?.call_method0("items")?.try_iter()? {
            let (name, attribute): (String, Bound<'py, PyAny>) = item?.extract()?;
            if !name.starts_with('_') && attribute.is_instance(&getset)? {
                names.insert(name);
            }
        }
    }
    let out = PyDict::new(py);
    for name in names {
        out.set_item(&name, plain(&obj.getattr(&name)?)?)?;
    }
    Ok(out)
}

fn plain<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
    if let Ok(list) = value.cast::<pyo3::types::PyList>() {
        let items = list.iter().map(|v| plain(&v)).collect::<PyResult<Vec<_>>>()?;
        return Ok(pyo3::types::PyList::new(value.py(), items)?.into_any());
    }
    let module: Option<String> = value.get_type().getattr("__module__").ok().and_then(|m| m.extract().ok());
    if module.as_deref() == Some("kabinet") && value.hasattr("to_dict")? {
        return Ok(to_dict(value)?.into_any());
    }
    Ok(value.clone())
}

/// `__repr__` from the type's `Debug` (which redacts what must not be shown) and `to_dict`.
macro_rules! python_values {
    ($($t:ty),* ; inputs $($i:ty),* $(,)?) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{self:?}")
            }
            /// The fields as a `dict` (nested values too).
            fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, PyDict>> {
                to_dict(slf.as_any())
            }
            /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
            fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
                reduce(slf.py(), slf.get())
            }
        }
    )*
    restorable!($($t,)* $($i),*);
    };
}

/// What `pickle` needs for a value: `_restore` and its arguments (the Rust type's name and
/// the value as JSON). Pickles are for caching and passing values between processes of one
/// Kabinet version, like any pickle: never load one from an untrusted source.
pub(crate) fn reduce<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
    let json = serde_json::to_string(value).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    Ok((py.import("kabinet._kabinet")?.getattr("_restore")?, (std::any::type_name::<T>(), json)))
}

/// `_restore(type_name, json)`: the value `reduce` wrote, as the class `kabinet` exports.
macro_rules! restorable {
    ($($t:ty),* $(,)?) => {
        fn restore_value<'py>(py: Python<'py>, type_name: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
            let bad = |e: serde_json::Error| pyo3::exceptions::PyValueError::new_err(e.to_string());
            $(
                if type_name == std::any::type_name::<$t>() {
                    return exported(Bound::new(py, serde_json::from_str::<$t>(json).map_err(bad)?)?.into_any());
                }
            )*
            Err(pyo3::exceptions::PyValueError::new_err("not a Kabinet value"))
        }
    };
}

#[pyfunction]
fn _restore<'py>(py: Python<'py>, type_name: &str, json: &str) -> PyResult<Bound<'py, PyAny>> {
    restore_value(py, type_name, json)
}

python_values!(
    crate::labs::LabResult,
    crate::labs::LabResultPage,
    crate::documents::DocumentPage,
    crate::audit::AccessPage,
    crate::requests::RequestPage,
    crate::records::CorrectionPage,
    crate::staff::PatientRefPage,
    crate::integrations::Message,
    crate::integrations::RegistryRequest,
    crate::integrations::ConfirmationRequest,
    crate::accounts::ImportedAccount,
    crate::notify::PushDevice,
    crate::documents::ReuploadTask,
    crate::patients::Patient,
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
    crate::certificates::CertificateKindInfo,
    crate::notify::Preferences,
    crate::fhir::ImportReport,
    crate::fhir::ImportedEntry,
    crate::records::CorrectionRequest,
    crate::requests::RequestMessage,
    crate::requests::RequestDocument,
    crate::requests::Request,
    crate::proxies::ProxyGrant,
    crate::store::SchemaStatus,
    crate::health::Health,
    crate::stats::Stats;
    inputs crate::accounts::Registration,
    crate::config::Argon2Params,
    crate::accounts::LegacyAccount,
    crate::auth::sessions::Device,
    crate::integrations::RegistryAnswer,
    crate::patients::NewPatient,
    crate::documents::DocumentMeta,
    crate::certificates::CertificateKindDefinition,
    crate::labs::LabResultInput,
    crate::labs::LabReport,
    crate::proxies::WardGrant,
    crate::records::Immunization,
    crate::records::Screening,
    crate::records::Visit,
    crate::records::Medication,
    crate::records::Allergy,
    crate::records::HealthCertificate,
    crate::records::MedicalItem,
);
