//! `kabinet.KabinetError` and its subclasses; every core error maps here in one function.

use kabinet::{ErrorCode, ErrorKind, Locale};
use pyo3::exceptions::PyException;
use pyo3::prelude::*;

pyo3::create_exception!(kabinet, KabinetError, PyException, "Base of every Kabinet error; has `.code` and `.message`.");
pyo3::create_exception!(
    kabinet,
    ValidationError,
    KabinetError,
    "A field failed validation; has `.field` and `.reason`."
);
pyo3::create_exception!(kabinet, AuthenticationError, KabinetError, "Wrong credentials or codes, or a locked account.");
pyo3::create_exception!(kabinet, SessionError, KabinetError, "Expired, revoked or blocked session.");
pyo3::create_exception!(kabinet, PermissionDenied, KabinetError, "The caller may not do this.");
pyo3::create_exception!(kabinet, NotFound, KabinetError, "The record does not exist or is not visible.");
pyo3::create_exception!(kabinet, Conflict, KabinetError, "The operation clashes with the current state.");
pyo3::create_exception!(kabinet, IntegrityError, KabinetError, "Stored data was tampered with or is damaged.");
pyo3::create_exception!(kabinet, StorageError, KabinetError, "The database or key store failed.");
pyo3::create_exception!(kabinet, ConfigError, KabinetError, "The configuration is wrong.");

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("KabinetError", py.get_type::<KabinetError>())?;
    m.add("ValidationError", py.get_type::<ValidationError>())?;
    m.add("AuthenticationError", py.get_type::<AuthenticationError>())?;
    m.add("SessionError", py.get_type::<SessionError>())?;
    m.add("PermissionDenied", py.get_type::<PermissionDenied>())?;
    m.add("NotFound", py.get_type::<NotFound>())?;
    m.add("Conflict", py.get_type::<Conflict>())?;
    m.add("IntegrityError", py.get_type::<IntegrityError>())?;
    m.add("StorageError", py.get_type::<StorageError>())?;
    m.add("ConfigError", py.get_type::<ConfigError>())?;
    Ok(())
}

/// Converts a core error into the matching Python exception, message in `locale`.
pub(crate) fn to_py(e: kabinet::Error, locale: Locale) -> PyErr {
    let message = e.message(locale);
    let code = e.code();
    let err = match e.kind() {
        ErrorKind::Validation => ValidationError::new_err(message.clone()),
        ErrorKind::Authentication => AuthenticationError::new_err(message.clone()),
        ErrorKind::Session => SessionError::new_err(message.clone()),
        ErrorKind::PermissionDenied => PermissionDenied::new_err(message.clone()),
        ErrorKind::NotFound => NotFound::new_err(message.clone()),
        ErrorKind::Conflict => Conflict::new_err(message.clone()),
        ErrorKind::Integrity => IntegrityError::new_err(message.clone()),
        ErrorKind::Config => ConfigError::new_err(message.clone()),
        _ => StorageError::new_err(message.clone()),
    };
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("code", code);
        let _ = value.setattr("message", message);
        let (field, reason) = match &e {
            kabinet::Error::Validation(v) => (Some(v.field), Some(v.reason.as_str())),
            _ => (None, None),
        };
        let _ = value.setattr("field", field);
        let _ = value.setattr("reason", reason);
        let _ = value.setattr("retryable", e.retryable());
    });
    err
}

/// The error for a panic caught at the boundary: `KabinetError`, code `internal`.
pub(crate) fn internal(locale: Locale) -> PyErr {
    let message = match locale {
        Locale::En => "Internal error in Kabinet",
        _ => "Внутренняя ошибка Kabinet",
    };
    let err = KabinetError::new_err(message);
    Python::attach(|py| {
        let value = err.value(py);
        let _ = value.setattr("code", "internal");
        let _ = value.setattr("message", message);
        let _ = value.setattr("field", None::<&str>);
        let _ = value.setattr("reason", None::<&str>);
        let _ = value.setattr("retryable", false);
    });
    err
}

/// A validation error raised before reaching the core (e.g. a malformed date).
pub(crate) fn validation(field: &'static str, reason: kabinet::Reason) -> PyErr {
    to_py(kabinet::ValidationError::new(field, reason).into(), Locale::En)
}
