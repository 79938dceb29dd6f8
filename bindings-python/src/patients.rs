//! `sys.patients`: operator access to patients' personal data.

use pyo3::prelude::*;

use crate::runtime::block_on;

pub(crate) use kabinet::{NewPatient, Patient};

/// Operator access to patients.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Patients {
    inner: kabinet::Patients,
    locale: kabinet::Locale,
}

impl Patients {
    pub(crate) fn new(inner: kabinet::Patients, locale: kabinet::Locale) -> Self {
        Patients { inner, locale }
    }
}

#[pymethods]
impl Patients {
    /// Creates a patient with a fresh data key; returns the id.
    fn create(&self, py: Python<'_>, patient: &Bound<'_, NewPatient>) -> PyResult<String> {
        let new = patient.get().clone();
        let pats = self.inner.clone();
        block_on(py, self.locale, async move { pats.create(new).await })
    }

    /// Reads and decrypts a patient.
    fn get(&self, py: Python<'_>, patient_id: String) -> PyResult<Patient> {
        let pats = self.inner.clone();
        let p = block_on(py, self.locale, async move { pats.get(&patient_id).await })?;
        Ok(p)
    }

    /// The id of the patient with this SNILS, or None.
    fn find_by_snils(&self, py: Python<'_>, snils: String) -> PyResult<Option<String>> {
        let pats = self.inner.clone();
        block_on(py, self.locale, async move { pats.find_by_snils(&snils).await })
    }

    /// The id of the patient with this OMS policy (ENP), or None.
    fn find_by_oms_policy(&self, py: Python<'_>, oms_policy: String) -> PyResult<Option<String>> {
        let pats = self.inner.clone();
        block_on(py, self.locale, async move { pats.find_by_oms_policy(&oms_policy).await })
    }

    /// Erases a patient by destroying their data key (crypto-shredding).
    fn erase(&self, py: Python<'_>, patient_id: String) -> PyResult<()> {
        let pats = self.inner.clone();
        block_on(py, self.locale, async move { pats.erase(&patient_id).await })
    }
}
