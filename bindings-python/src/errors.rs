//! `kabinet.KabinetError` and its subclasses; every core error maps here in one function.

use kabinet::{ErrorCode, ErrorKind, Locale};
use pyo3::exceptions::{PyException, PyLookupError, PyPermissionError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyTuple, PyType};

/// The exception classes. Made at import with `type(...)` rather than PyO3's
/// `create_exception!`, which allows one base only: `ValidationError` is also a `ValueError`,
/// `NotFound` a `LookupError`, `PermissionDenied` a `PermissionError`, so a host's
/// `except ValueError` catches a bad value from Kabinet too.
struct Classes {
    kabinet: Py<PyType>,
    /// One subclass per [`SUBCLASSES`] row, in its order.
    subclasses: Vec<Py<PyType>>,
}

/// A built-in exception a subclass also derives from.
type Builtin = fn(Python<'_>) -> Bound<'_, PyType>;

/// The subclasses of `KabinetError`: name, the error kind it stands for, a built-in base,
/// and its doc. A kind with no row (storage, internal) raises `StorageError`.
const SUBCLASSES: [(&str, ErrorKind, Option<Builtin>, &str); 9] = [
    (
        "ValidationError",
        ErrorKind::Validation,
        Some(|py| py.get_type::<PyValueError>()),
        "A field failed validation; has `.field` and `.reason`. Also a `ValueError`.",
    ),
    ("AuthenticationError", ErrorKind::Authentication, None, "Wrong credentials or codes, or a locked account."),
    ("SessionError", ErrorKind::Session, None, "Expired, revoked or blocked session."),
    (
        "PermissionDenied",
        ErrorKind::PermissionDenied,
        Some(|py| py.get_type::<PyPermissionError>()),
        "The caller may not do this. Also a `PermissionError`.",
    ),
    (
        "NotFound",
        ErrorKind::NotFound,
        Some(|py| py.get_type::<PyLookupError>()),
        "The record does not exist or is not visible. Also a `LookupError`.",
    ),
    ("Conflict", ErrorKind::Conflict, None, "The operation clashes with the current state."),
    ("IntegrityError", ErrorKind::Integrity, None, "Stored data was tampered with or is damaged."),
    ("StorageError", ErrorKind::Storage, None, "The database or key store failed; see `.retryable`."),
    ("ConfigError", ErrorKind::Config, None, "The configuration is wrong."),
];

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// A new exception class `kabinet.<name>` with `bases`.
fn class(py: Python<'_>, name: &str, bases: &[Bound<'_, PyType>], doc: &str) -> PyResult<Py<PyType>> {
    let namespace = PyDict::new(py);
    namespace.set_item("__module__", "kabinet")?;
    namespace.set_item("__doc__", doc)?;
    let made = py.get_type::<PyType>().call1((name, PyTuple::new(py, bases)?, namespace))?;
    Ok(made.cast_into::<PyType>()?.unbind())
}

fn classes(py: Python<'_>) -> PyResult<&'static Classes> {
    CLASSES.get_or_try_init(py, || {
        let base = class(
            py,
            "KabinetError",
            &[py.get_type::<PyException>()],
            "Base of every Kabinet error: `.code` (stable), `.message` (localized), `.field` and \
             `.reason` (validation), `.retryable` (the same call may simply be tried again).",
        )?;
        let subclasses = SUBCLASSES
            .iter()
            .map(|(name, _, also, doc)| {
                let mut bases = vec![base.bind(py).clone()];
                bases.extend(also.map(|builtin| builtin(py)));
                class(py, name, &bases, doc)
            })
            .collect::<PyResult<_>>()?;
        Ok::<_, PyErr>(Classes { kabinet: base, subclasses })
    })
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let c = classes(m.py())?;
    m.add("KabinetError", c.kabinet.clone_ref(m.py()))?;
    for ((name, ..), ty) in SUBCLASSES.iter().zip(&c.subclasses) {
        m.add(*name, ty.clone_ref(m.py()))?;
    }
    Ok(())
}

/// The class raised for errors of `kind`.
fn class_of(c: &Classes, kind: ErrorKind) -> &Py<PyType> {
    let row = SUBCLASSES.iter().position(|(_, k, ..)| *k == kind);
    let storage = SUBCLASSES.iter().position(|(_, k, ..)| *k == ErrorKind::Storage);
    row.or(storage).and_then(|i| c.subclasses.get(i)).unwrap_or(&c.kabinet)
}

/// An exception of class `ty` with `message` and Kabinet's attributes.
fn raise(
    py: Python<'_>,
    ty: &Py<PyType>,
    message: &str,
    code: &str,
    detail: (Option<&str>, Option<&str>),
    retryable: bool,
) -> PyErr {
    let err = PyErr::from_type(ty.bind(py).clone(), message.to_owned());
    let value = err.value(py);
    let _ = value.setattr("code", code);
    let _ = value.setattr("message", message);
    let _ = value.setattr("field", detail.0);
    let _ = value.setattr("reason", detail.1);
    let _ = value.setattr("retryable", retryable);
    err
}

/// Converts a core error into the matching Python exception, message in `locale`.
pub(crate) fn to_py(e: kabinet::Error, locale: Locale) -> PyErr {
    let message = e.message(locale);
    Python::attach(|py| {
        let c = match classes(py) {
            Ok(c) => c,
            Err(made) => return made,
        };
        let ty = class_of(c, e.kind());
        let detail = match &e {
            kabinet::Error::Validation(v) => (Some(v.field), Some(v.reason.as_str())),
            _ => (None, None),
        };
        raise(py, ty, &message, e.code(), detail, e.retryable())
    })
}

/// The error for a panic caught at the boundary: `KabinetError`, code `internal`.
pub(crate) fn internal(locale: Locale) -> PyErr {
    let message = match locale {
        Locale::En => "Internal error in Kabinet",
        _ => "Внутренняя ошибка Kabinet",
    };
    Python::attach(|py| match classes(py) {
        Ok(c) => raise(py, &c.kabinet, message, "internal", (None, None), false),
        Err(made) => made,
    })
}

/// A validation error raised before reaching the core (e.g. a malformed date).
pub(crate) fn validation(field: &'static str, reason: kabinet::Reason) -> PyErr {
    to_py(kabinet::ValidationError::new(field, reason).into(), Locale::En)
}
