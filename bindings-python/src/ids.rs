//! R21 identifiers; `kabinet.ids` re-exports these as `snils`, `inn`, `enp`, `passport`, `phone`.

use pyo3::prelude::*;

fn wrap(r: Result<String, kabinet::ValidationError>) -> PyResult<String> {
    r.map_err(|e| crate::errors::to_py(e.into(), kabinet::Locale::En))
}

/// SNILS normalized to 11 digits.
#[pyfunction]
fn ids_snils(value: &str) -> PyResult<String> {
    wrap(kabinet::ids::snils(value))
}
/// INN, 10 or 12 digits.
#[pyfunction]
fn ids_inn(value: &str) -> PyResult<String> {
    wrap(kabinet::ids::inn(value))
}
/// ENP (OMS single policy number), 16 digits.
#[pyfunction]
fn ids_enp(value: &str) -> PyResult<String> {
    wrap(kabinet::ids::enp(value))
}
/// Passport series and number, 10 digits.
#[pyfunction]
fn ids_passport(value: &str) -> PyResult<String> {
    wrap(kabinet::ids::passport(value))
}
/// Russian mobile phone in E.164.
#[pyfunction]
fn ids_phone(value: &str) -> PyResult<String> {
    wrap(kabinet::ids::phone(value))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(ids_snils, m)?)?;
    m.add_function(wrap_pyfunction!(ids_inn, m)?)?;
    m.add_function(wrap_pyfunction!(ids_enp, m)?)?;
    m.add_function(wrap_pyfunction!(ids_passport, m)?)?;
    m.add_function(wrap_pyfunction!(ids_phone, m)?)?;
    Ok(())
}
