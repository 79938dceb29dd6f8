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
mod delegate;
mod documents;
mod errors;
mod host;
mod identity;
mod ids;
mod logging;
mod patients;
mod records;
mod runtime;

use pyo3::prelude::*;

/// The native module behind the `kabinet` package.
#[pymodule]
fn _kabinet(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
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
    crate::classes! { m:
        cabinet::Cabinet, cabinet::Config, cabinet::KeyProvider, kabinet::Argon2Params, kabinet::SchemaStatus,
        kabinet::Health, kabinet::Stats, cabinet::SystemContext, cabinet::Keys, cabinet::KeyRotationReport,
        patients::Patients, patients::NewPatient, patients::Patient,
    }
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}

/// Adds each listed class to the module.
#[macro_export]
macro_rules! classes {
    ($m:ident: $($class:ty),* $(,)?) => {
        $($m.add_class::<$class>()?;)*
    };
}
