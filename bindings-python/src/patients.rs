//! `sys.patients`: operator access to patients' personal data.

use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::date_from_py;
use crate::runtime::block_on;

/// Personal data for a new patient.
#[pyclass(module = "kabinet", frozen, subclass, get_all)]
pub(crate) struct NewPatient {
    surname: String,
    given_name: String,
    patronymic: Option<String>,
    birth_date: Py<PyDate>,
    sex: String,
    snils: Option<String>,
    inn: Option<String>,
    oms_policy: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

#[pymethods]
impl NewPatient {
    #[new]
    #[pyo3(signature = (surname, given_name, birth_date, sex, patronymic = None, snils = None, inn = None, oms_policy = None, phone = None, email = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        surname: String,
        given_name: String,
        birth_date: Py<PyDate>,
        sex: String,
        patronymic: Option<String>,
        snils: Option<String>,
        inn: Option<String>,
        oms_policy: Option<String>,
        phone: Option<String>,
        email: Option<String>,
    ) -> Self {
        NewPatient { surname, given_name, patronymic, birth_date, sex, snils, inn, oms_policy, phone, email }
    }

    fn __repr__(&self) -> &'static str {
        "NewPatient(<personal data>)"
    }
}

pub(crate) use kabinet::Patient;

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
        let p = patient.get();
        let new = kabinet::NewPatient {
            surname: p.surname.clone(),
            given_name: p.given_name.clone(),
            patronymic: p.patronymic.clone(),
            birth_date: date_from_py(p.birth_date.bind(py), "birth_date")?,
            sex: p.sex.clone(),
            snils: p.snils.clone(),
            inn: p.inn.clone(),
            oms_policy: p.oms_policy.clone(),
            phone: p.phone.clone(),
            email: p.email.clone(),
        };
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
