//! Identity confirmation (R2) for Kotlin and Swift, with the registry implemented by the app.

use std::sync::Arc;

pub use kabinet::IdentityCheck;
pub use kabinet::integrations::{ConfirmationRequest, RegistryAnswer, RegistryRequest};

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

/// Implemented by the app: confirmation methods besides the SMS code (an electronic
/// signature, a code shown in the app) for profile changes and attachments (R11, R18).
#[uniffi::export(with_foreign)]
pub trait Confirmer: Send + Sync {
    /// The methods offered, e.g. `["esignature", "app_code"]` (`"sms"` is built in).
    fn methods(&self) -> Vec<String>;
    /// A confirmation begins: prompt the person (open the signing dialog, push the app code).
    fn start(&self, request: ConfirmationRequest) -> Result<(), RegistryFailed>;
    /// Whether `proof` confirms `request`.
    fn verify(&self, request: ConfirmationRequest, proof: String) -> Result<bool, RegistryFailed>;
}

pub(crate) struct ForeignConfirmer(pub(crate) Arc<dyn Confirmer>);

impl kabinet::integrations::Confirmer for ForeignConfirmer {
    fn methods(&self) -> Vec<String> {
        self.0.methods()
    }
    fn start(&self, r: &ConfirmationRequest) -> Result<(), kabinet::integrations::DeliveryError> {
        self.0.start(r.clone()).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
    }
    fn verify(&self, r: &ConfirmationRequest, proof: &str) -> Result<bool, kabinet::integrations::DeliveryError> {
        self.0.verify(r.clone(), proof.to_owned()).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
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
