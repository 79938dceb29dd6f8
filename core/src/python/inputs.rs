//! Constructors of the core's input types for Python: the only thing Python needs beyond the
//! class itself (fields, docs, equality and `repr` come from the type). Each keeps the
//! keyword names and defaults of the Python API; checks stay in the core's calls, so a
//! record is accepted here and judged when it is used.

use pyo3::prelude::*;
use time::{Date, OffsetDateTime, UtcOffset};

use crate::accounts::{LegacyAccount, Registration};
use crate::auth::sessions::Device;
use crate::certificates::{CertificateKindDefinition, CertificatePeriod, CertificateSection};
use crate::documents::{DocumentKind, DocumentMeta};
use crate::integrations::RegistryAnswer;
use crate::labs::{LabReport, LabResultInput};
use crate::patients::NewPatient;
use crate::proxies::WardGrant;
use crate::records::{
    Allergy, CertificatePurpose, Diagnosis, HealthCertificate, Immunization, ItemData, MedicalItem, Medication,
    Screening, Severity, Visit,
};

#[pymethods]
impl Registration {
    #[new]
    #[pyo3(signature = (phone, email, password, surname, given_name, patronymic, birth_date, sex, snils, accepted_terms_version, inn = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        phone: String,
        email: String,
        password: String,
        surname: String,
        given_name: String,
        patronymic: Option<String>,
        birth_date: Date,
        sex: crate::ids::Sex,
        snils: String,
        accepted_terms_version: String,
        inn: Option<String>,
    ) -> Self {
        Registration {
            phone,
            email,
            password,
            surname,
            given_name,
            patronymic,
            birth_date,
            sex,
            snils,
            accepted_terms_version,
            inn,
        }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl LegacyAccount {
    #[new]
    #[pyo3(signature = (phone, email, surname, given_name, patronymic, birth_date, sex, snils, password_hash, inn = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        phone: String,
        email: Option<String>,
        surname: String,
        given_name: String,
        patronymic: Option<String>,
        birth_date: Date,
        sex: crate::ids::Sex,
        snils: String,
        password_hash: String,
        inn: Option<String>,
    ) -> Self {
        LegacyAccount { phone, email, surname, given_name, patronymic, birth_date, sex, snils, password_hash, inn }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Device {
    #[new]
    #[pyo3(
        signature = (id, name = String::new(), ip = String::new(), user_agent = String::new()),
        text_signature = "(id, name='', ip='', user_agent='')"
    )]
    fn new(id: String, name: String, ip: String, user_agent: String) -> Self {
        Device { id, name, ip, user_agent }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl crate::config::Argon2Params {
    #[new]
    #[pyo3(signature = (memory_kib = 19456, iterations = 2, parallelism = 1))]
    fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        crate::config::Argon2Params { memory_kib, iterations, parallelism }
    }
    fn __repr__(&self) -> String {
        let Self { memory_kib, iterations, parallelism } = self;
        format!("Argon2Params(memory_kib={memory_kib}, iterations={iterations}, parallelism={parallelism})")
    }
    /// The fields as a `dict`.
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl RegistryAnswer {
    #[new]
    #[pyo3(signature = (matched, reason = None))]
    fn new(matched: bool, reason: Option<String>) -> Self {
        RegistryAnswer { matched, reason }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl NewPatient {
    #[new]
    #[pyo3(signature = (surname, given_name, birth_date, sex, patronymic = None, snils = None, inn = None, oms_policy = None, phone = None, email = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        surname: String,
        given_name: String,
        birth_date: Date,
        sex: crate::ids::Sex,
        patronymic: Option<String>,
        snils: Option<String>,
        inn: Option<String>,
        oms_policy: Option<String>,
        phone: Option<String>,
        email: Option<String>,
    ) -> Self {
        NewPatient { surname, given_name, patronymic, birth_date, sex, snils, inn, oms_policy, phone, email }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl DocumentMeta {
    #[new]
    #[pyo3(signature = (created_on, institution, study_type = None))]
    fn new(created_on: Date, institution: String, study_type: Option<String>) -> Self {
        DocumentMeta { created_on, institution, study_type }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl CertificateKindDefinition {
    #[new]
    #[pyo3(signature = (code, title_ru, title_en, sections, period = CertificatePeriod::Optional, max_period_days = None, default_period_days = None, validity_days = None, document_kind = DocumentKind::Certificate))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        code: String,
        title_ru: String,
        title_en: String,
        sections: Vec<CertificateSection>,
        period: CertificatePeriod,
        max_period_days: Option<u32>,
        default_period_days: Option<u32>,
        validity_days: Option<u32>,
        document_kind: DocumentKind,
    ) -> Self {
        CertificateKindDefinition {
            code,
            title_ru,
            title_en,
            sections,
            period,
            max_period_days,
            default_period_days,
            validity_days,
            document_kind,
        }
    }
    /// `Debug` (no personal data in a kind).
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl LabResultInput {
    #[new]
    #[pyo3(signature = (test_name, code, sampled_at, value = None, value_text = None, unit = None, range_low = None, range_high = None, range_text = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        test_name: String,
        code: String,
        sampled_at: OffsetDateTime,
        value: Option<crate::labs::Decimal>,
        value_text: Option<String>,
        unit: Option<String>,
        range_low: Option<crate::labs::Decimal>,
        range_high: Option<crate::labs::Decimal>,
        range_text: Option<String>,
    ) -> Self {
        let sampled_at = sampled_at.to_offset(UtcOffset::UTC);
        LabResultInput { test_name, code, value, value_text, unit, range_low, range_high, range_text, sampled_at }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl LabReport {
    #[new]
    fn new(title: String, laboratory: String, issued_at: OffsetDateTime, results: Vec<LabResultInput>) -> Self {
        LabReport { title, laboratory, issued_at: issued_at.to_offset(UtcOffset::UTC), results }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl WardGrant {
    #[new]
    #[pyo3(signature = (ward_patient_id, scopes, basis, proxy_snils = None, proxy_patient_id = None, until = None, guardianship = false))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        ward_patient_id: String,
        scopes: Vec<String>,
        basis: String,
        proxy_snils: Option<String>,
        proxy_patient_id: Option<String>,
        until: Option<Date>,
        guardianship: bool,
    ) -> Self {
        WardGrant { proxy_snils, proxy_patient_id, ward_patient_id, scopes, basis, until, guardianship }
    }
    /// `Debug`, which redacts the basis document.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Immunization {
    #[new]
    #[pyo3(signature = (vaccine, date, dose = None, lot = None, performer = None, next_due = None))]
    fn new(
        vaccine: String,
        date: Date,
        dose: Option<String>,
        lot: Option<String>,
        performer: Option<String>,
        next_due: Option<Date>,
    ) -> Self {
        Immunization { vaccine, date, dose, lot, performer, next_due }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Screening {
    #[new]
    fn new(name: String, date: Date, result: String) -> Self {
        Screening { name, date, result }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Visit {
    #[new]
    #[pyo3(signature = (date, institution, diagnoses, procedures = Vec::new()))]
    fn new(date: Date, institution: String, diagnoses: Vec<Diagnosis>, procedures: Vec<String>) -> Self {
        Visit { date, institution, diagnoses, procedures }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Medication {
    #[new]
    #[pyo3(signature = (name, dosage, schedule, start, prescriber, end = None))]
    fn new(name: String, dosage: String, schedule: String, start: Date, prescriber: String, end: Option<Date>) -> Self {
        Medication { name, dosage, schedule, start, end, prescriber }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl Allergy {
    #[new]
    #[pyo3(signature = (substance, reaction, noted_on, severity = None))]
    fn new(substance: String, reaction: String, noted_on: Date, severity: Option<Severity>) -> Self {
        Allergy { substance, reaction, severity, noted_on }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

#[pymethods]
impl HealthCertificate {
    #[new]
    #[pyo3(signature = (purpose, issued_on, conclusion, valid_until = None))]
    fn new(purpose: CertificatePurpose, issued_on: Date, conclusion: String, valid_until: Option<Date>) -> Self {
        HealthCertificate { purpose, issued_on, valid_until, conclusion }
    }
    /// `Debug`, which redacts personal data and secrets.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}

/// A diagnosis is `(icd10, text)` in Python.
impl<'py> IntoPyObject<'py> for Diagnosis {
    type Target = pyo3::types::PyTuple;
    type Output = Bound<'py, pyo3::types::PyTuple>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        (self.icd10, self.text).into_pyobject(py)
    }
}

impl<'py> IntoPyObject<'py> for &Diagnosis {
    type Target = pyo3::types::PyTuple;
    type Output = Bound<'py, pyo3::types::PyTuple>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        (self.icd10.as_str(), self.text.as_str()).into_pyobject(py)
    }
}

impl<'a, 'py> FromPyObject<'a, 'py> for Diagnosis {
    type Error = PyErr;
    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        let (icd10, text): (String, String) = obj.extract()?;
        Ok(Diagnosis { icd10, text })
    }
}

/// An item's content is its record object (`Immunization`, `Visit`, …) in Python.
impl<'py> IntoPyObject<'py> for &ItemData {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;
    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        let native = match self.clone() {
            ItemData::Immunization(x) => Bound::new(py, x)?.into_any(),
            ItemData::Screening(x) => Bound::new(py, x)?.into_any(),
            ItemData::Visit(x) => Bound::new(py, x)?.into_any(),
            ItemData::Medication(x) => Bound::new(py, x)?.into_any(),
            ItemData::Allergy(x) => Bound::new(py, x)?.into_any(),
            ItemData::Certificate(x) => Bound::new(py, x)?.into_any(),
        };
        super::exported(native)
    }
}

/// One of the record objects → the item content it is.
impl<'a, 'py> FromPyObject<'a, 'py> for ItemData {
    type Error = PyErr;
    fn extract(obj: pyo3::Borrowed<'a, 'py, PyAny>) -> PyResult<Self> {
        if let Ok(x) = obj.cast::<Immunization>() {
            return Ok(ItemData::Immunization(x.get().clone()));
        }
        if let Ok(x) = obj.cast::<Screening>() {
            return Ok(ItemData::Screening(x.get().clone()));
        }
        if let Ok(x) = obj.cast::<Visit>() {
            return Ok(ItemData::Visit(x.get().clone()));
        }
        if let Ok(x) = obj.cast::<Medication>() {
            return Ok(ItemData::Medication(x.get().clone()));
        }
        if let Ok(x) = obj.cast::<Allergy>() {
            return Ok(ItemData::Allergy(x.get().clone()));
        }
        if let Ok(x) = obj.cast::<HealthCertificate>() {
            return Ok(ItemData::Certificate(x.get().clone()));
        }
        Err(pyo3::exceptions::PyTypeError::new_err(
            "expected Immunization, Screening, Visit, Medication, Allergy or HealthCertificate",
        ))
    }
}

#[pymethods]
impl MedicalItem {
    /// `"immunization"`, `"screening"`, `"visit"`, `"medication"`, `"allergy"` or `"certificate"`.
    #[getter]
    fn kind(&self) -> &'static str {
        self.data.kind()
    }

    /// `Debug`, which leaves the content out.
    fn __repr__(&self) -> String {
        format!("{self:?}")
    }
    /// The fields as a `dict` (nested values too).
    fn to_dict<'py>(slf: &Bound<'py, Self>) -> PyResult<Bound<'py, pyo3::types::PyDict>> {
        super::to_dict(slf.as_any())
    }
    /// Pickling: the value as JSON, rebuilt by `kabinet._kabinet._restore`.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> PyResult<(Bound<'py, PyAny>, (&'static str, String))> {
        super::reduce(slf.py(), slf.get())
    }
}
