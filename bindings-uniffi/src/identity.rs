//! Identity confirmation (R2) for Kotlin and Swift, with the registry implemented by the app.

use std::sync::Arc;

pub use kabinet::IdentityCheck;
pub use kabinet::integrations::{RegistryAnswer, RegistryRequest};

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

/// The registry could not be reached.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum RegistryFailed {
    /// Unavailable.
    #[error("{reason}")]
    Unavailable {
        /// Why.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for RegistryFailed {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        RegistryFailed::Unavailable { reason: e.reason }
    }
}

/// Implemented by the app: checks identities against state registries.
#[uniffi::export(with_foreign)]
pub trait IdentityRegistry: Send + Sync {
    /// Checks one request.
    fn check(&self, request: RegistryRequest) -> Result<RegistryAnswer, RegistryFailed>;
}

pub(crate) struct ForeignRegistry(pub(crate) Arc<dyn IdentityRegistry>);

impl kabinet::integrations::IdentityRegistry for ForeignRegistry {
    fn check(
        &self,
        r: &kabinet::integrations::RegistryRequest,
    ) -> Result<kabinet::integrations::RegistryAnswer, kabinet::integrations::DeliveryError> {
        self.0.check(r.clone()).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
    }
}

delegate! {
    /// Identity confirmation of the signed-in person (R2).
    class Identity(inner: kabinet::Identity) via |h| h;
    /// Whether the identity is confirmed.
    fn confirmed() -> bool;
    extra {
    /// Checks the details against state registries; a mismatch comes back with its reason.
    pub async fn confirm(
        &self,
        method: String,
        full_name: String,
        birth_date: time::Date,
        oms_policy: String,
        phone: String,
    ) -> Result<IdentityCheck, KabinetError> {
        let input = kabinet::IdentityConfirmation { method, full_name, birth_date, oms_policy, phone };
        self.inner.confirm(input).await.ffi(self.locale)
    }
    }
}
