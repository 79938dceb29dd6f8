//! Identity confirmation (R2) for Kotlin and Swift, with the registry implemented by the app.

use kabinet_ffi_guard::guard;
use std::sync::Arc;

use crate::error::IntoFfi;
use crate::{KabinetError, Me};

/// What Kabinet asks the app's registry. `birth_date` is ISO `YYYY-MM-DD`.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct RegistryRequest {
    pub method: String,
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: String,
    pub snils: Option<String>,
    pub oms_policy: Option<String>,
    pub phone: Option<String>,
}

/// The registry's answer.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct RegistryAnswer {
    pub matched: bool,
    pub reason: Option<String>,
}

/// The outcome of a confirmation attempt.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct IdentityCheck {
    pub confirmed: bool,
    pub reason: Option<String>,
}

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
        use kabinet::integrations::IdentityMethod as M;
        let request = RegistryRequest {
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
            birth_date: r.birth_date.to_string(),
            snils: r.snils.clone(),
            oms_policy: r.oms_policy.clone(),
            phone: r.phone.clone(),
        };
        self.0
            .check(request)
            .map(|a| kabinet::integrations::RegistryAnswer { matched: a.matched, reason: a.reason })
            .map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
    }
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Me {
    /// Checks the details against state registries; a mismatch comes back with its reason.
    pub async fn confirm_identity(
        &self,
        method: String,
        full_name: String,
        birth_date: String,
        oms_policy: String,
        phone: String,
    ) -> Result<IdentityCheck, KabinetError> {
        let birth_date = crate::patients::parse_date(&birth_date)?;
        let input = kabinet::IdentityConfirmation { method, full_name, birth_date, oms_policy, phone };
        let r = self.inner.identity().confirm(input).await.ffi(self.locale)?;
        Ok(IdentityCheck { confirmed: r.confirmed, reason: r.reason })
    }

    /// Whether the identity is confirmed.
    pub async fn identity_confirmed(&self) -> Result<bool, KabinetError> {
        self.inner.identity().confirmed().await.ffi(self.locale)
    }
}
