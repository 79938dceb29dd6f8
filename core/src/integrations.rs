//! Host-implemented integrations: message delivery (R14) and state identity registries (R2).
//! Kabinet never sends SMS or e-mail itself; it hands messages to the host.

use time::Date;

crate::sets::closed_set! {
    /// Delivery channel of a message.
    pub enum Channel in "channel" {
        /// SMS to the phone.
        Sms = "sms",
        /// E-mail.
        Email = "email",
        /// Mobile push.
        Push = "push",
    }
}

/// A message for the host to deliver.
/// Not hashable: a hash would be a fixed fingerprint of the secret it carries.
#[derive(Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Message {
    /// Outbox id; stable across retries, so hosts can de-duplicate.
    pub id: String,
    /// Channel.
    pub channel: Channel,
    /// Phone (E.164), e-mail address or push token.
    pub recipient: String,
    /// Event name, e.g. `"phone_confirmation"`.
    pub kind: String,
    /// Subject line (e-mail, push title).
    pub subject: String,
    /// Body in the recipient's language.
    pub text: String,
    /// The one-time code or token this message exists to deliver, if any.
    pub code: Option<String>,
    /// The patient concerned, if any.
    pub patient_id: Option<String>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("channel", &self.channel)
            .field("kind", &self.kind)
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .finish_non_exhaustive()
    }
}

/// Why a delivery failed; Kabinet retries with back-off.
#[derive(Debug, Clone, thiserror::Error)]
#[error("delivery failed: {0}")]
pub struct DeliveryError(pub String);

/// Delivers messages (SMS gateway, mail server, push service).
pub trait Notifier: Send + Sync {
    /// Delivers one message; an error schedules a retry.
    fn deliver(&self, message: &Message) -> Result<(), DeliveryError>;
}

crate::sets::closed_set! {
    /// Identity confirmation methods (R2).
    pub enum IdentityMethod in "method" {
        /// Qualified electronic signature.
        ESignature = "esignature" | "e_signature",
        /// SMS code to the phone linked in the registry.
        Sms = "sms",
        /// Video verification.
        Video = "video",
        /// In person at a service centre.
        ServiceCentre = "service_centre" | "service_center",
    }
}

/// What Kabinet asks a state registry.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct RegistryRequest {
    /// Method used.
    pub method: IdentityMethod,
    /// Surname.
    pub surname: String,
    /// Given name.
    pub given_name: String,
    /// Patronymic, if any.
    pub patronymic: Option<String>,
    /// Birth date.
    pub birth_date: Date,
    /// SNILS, normalized.
    pub snils: Option<String>,
    /// OMS policy (ENP), normalized.
    pub oms_policy: Option<String>,
    /// Phone, E.164.
    pub phone: Option<String>,
}

/// Personal data stays out of logs: only the method is shown.
impl std::fmt::Debug for RegistryRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegistryRequest").field("method", &self.method).finish_non_exhaustive()
    }
}

/// The registry's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct RegistryAnswer {
    /// Whether the person matched.
    pub matched: bool,
    /// Concrete reason on mismatch (`"name_mismatch"`, `"no_linked_phone"`, `"policy_not_found"`…).
    pub reason: Option<String>,
}

/// Checks identities against state registries.
pub trait IdentityRegistry: Send + Sync {
    /// Checks one request.
    fn check(&self, request: &RegistryRequest) -> Result<RegistryAnswer, DeliveryError>;
}
