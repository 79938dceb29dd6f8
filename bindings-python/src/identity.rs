//! Identity confirmation (R2): `me.identity` and the host registry's request/answer types.

use pyo3::prelude::*;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::IdentityCheck;

pub(crate) use kabinet::integrations::{ConfirmationRequest, RegistryAnswer, RegistryRequest};

delegate! {
    /// Identity confirmation of the signed-in person.
    class Identity(kabinet::Identity) via |i, _l| i.clone();
    /// Whether the identity is confirmed.
    fn confirmed() -> bool;
    extra {
    /// Checks the details against state registries; a mismatch comes back with its reason.
    fn confirm(
        &self,
        py: Python<'_>,
        method: String,
        full_name: String,
        birth_date: time::Date,
        oms_policy: String,
        phone: String,
    ) -> PyResult<IdentityCheck> {
        let input = kabinet::IdentityConfirmation { method, full_name, birth_date, oms_policy, phone };
        let i = self.inner.clone();
        block_on(py, self.locale, async move { i.confirm(input).await })
    }

    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        RegistryRequest, RegistryAnswer, IdentityCheck, Identity, ConfirmationRequest,
    }
    Ok(())
}
