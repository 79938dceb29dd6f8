//! Identity confirmation (R2): `me.identity` and the host registry's request/answer types.

use pyo3::prelude::*;
use pyo3::types::PyDate;

use crate::convert::{date_from_py, date_to_py};
use crate::runtime::block_on;

pub(crate) use kabinet::IdentityCheck;

/// What Kabinet asks the host's registry.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct RegistryRequest {
    method: String,
    surname: String,
    given_name: String,
    patronymic: Option<String>,
    birth_date: Py<PyDate>,
    snils: Option<String>,
    oms_policy: Option<String>,
    phone: Option<String>,
}

impl RegistryRequest {
    pub(crate) fn from_core(py: Python<'_>, r: &kabinet::integrations::RegistryRequest) -> PyResult<Self> {
        use kabinet::integrations::IdentityMethod as M;
        Ok(RegistryRequest {
            method: match r.method {
                M::ESignature => "esignature",
                M::Sms => "sms",
                M::Video => "video",
                M::ServiceCentre => "service_centre",
            }
            .to_owned(),
            surname: r.surname.clone(),
            given_name: r.given_name.clone(),
            patronymic: r.patronymic.clone(),
            birth_date: date_to_py(py, r.birth_date)?.unbind(),
            snils: r.snils.clone(),
            oms_policy: r.oms_policy.clone(),
            phone: r.phone.clone(),
        })
    }
}

/// The host registry's answer.
#[pyclass(module = "kabinet", frozen, get_all)]
pub(crate) struct RegistryAnswer {
    pub(crate) matched: bool,
    pub(crate) reason: Option<String>,
}

#[pymethods]
impl RegistryAnswer {
    #[new]
    #[pyo3(signature = (matched, reason = None))]
    fn new(matched: bool, reason: Option<String>) -> Self {
        RegistryAnswer { matched, reason }
    }
}

/// Identity confirmation of the signed-in person.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Identity {
    pub(crate) inner: kabinet::Identity,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl Identity {
    /// Checks the details against state registries; a mismatch comes back with its reason.
    fn confirm(
        &self,
        py: Python<'_>,
        method: String,
        full_name: String,
        birth_date: &Bound<'_, PyDate>,
        oms_policy: String,
        phone: String,
    ) -> PyResult<IdentityCheck> {
        let input = kabinet::IdentityConfirmation {
            method,
            full_name,
            birth_date: date_from_py(birth_date, "birth_date")?,
            oms_policy,
            phone,
        };
        let i = self.inner.clone();
        block_on(py, self.locale, async move { i.confirm(input).await })
    }

    /// Whether the identity is confirmed.
    fn confirmed(&self, py: Python<'_>) -> PyResult<bool> {
        let i = self.inner.clone();
        block_on(py, self.locale, async move { i.confirmed().await })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RegistryRequest>()?;
    m.add_class::<RegistryAnswer>()?;
    m.add_class::<IdentityCheck>()?;
    m.add_class::<Identity>()?;
    Ok(())
}
