//! PyO3 bindings of Kabinet: the Python package `kabinet` (module `kabinet._kabinet`).
//!
//! A synchronous API over the async core: one process-wide tokio runtime, and every blocking
//! call runs with the GIL released (`py.detach`). Thin by design: rules, checks and SQL live
//! in the core; this crate converts types and maps errors to `kabinet.KabinetError`
//! subclasses in one function.

mod accounts;
mod audit;
mod booking;
mod cabinet;
mod convert;
mod delegate;
mod documents;
mod errors;
mod host;
mod identity;
mod ids;
mod patients;
mod records;
mod runtime;

use pyo3::prelude::*;

/// The native module behind the `kabinet` package.
#[pymodule]
fn _kabinet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    kabinet::python::set_error_converter(|e| errors::to_py(e, kabinet::Locale::En));
    kabinet::python::register(m)?;
    ids::register(m)?;
    audit::register(m)?;
    accounts::register(m)?;
    accounts::register_system(m)?;
    identity::register(m)?;
    booking::register(m)?;
    records::register(m)?;
    documents::register(m)?;
    m.add_class::<cabinet::Cabinet>()?;
    m.add_class::<cabinet::Config>()?;
    m.add_class::<cabinet::KeyProvider>()?;
    m.add_class::<cabinet::Argon2Params>()?;
    m.add_class::<cabinet::SystemContext>()?;
    m.add_class::<cabinet::Keys>()?;
    m.add_class::<cabinet::KeyRotationReport>()?;
    m.add_class::<patients::Patients>()?;
    m.add_class::<patients::NewPatient>()?;
    m.add_class::<patients::Patient>()?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
