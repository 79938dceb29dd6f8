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

crate::sets::closed_set! {
    /// The push service a device's token belongs to (R14).
    pub enum PushPlatform in "platform" {
        /// Firebase Cloud Messaging (Android).
        Fcm = "fcm",
        /// Apple Push Notification service (iOS).
        Apns = "apns",
        /// Huawei Mobile Services push.
        Hms = "hms",
        /// RuStore push.
        Rustore = "rustore",
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
    /// For a push message: the service its token (the recipient) belongs to.
    pub platform: Option<PushPlatform>,
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

/// What a host confirmation method is asked to confirm (R11, R18): a change of personal data
/// or a clinic attachment, chosen by the person instead of the built-in SMS code.
#[derive(Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct ConfirmationRequest {
    /// Kabinet's id of what waits for confirmation (a change request, a pending attachment).
    pub id: String,
    /// The method the person chose, as the confirmer names it (`"esignature"`, `"app_code"`).
    pub method: String,
    /// The person whose data it is.
    pub patient_id: String,
    /// `"profile_change"` or `"attachment"`.
    pub purpose: String,
    /// The field changed (`"oms_policy"`), or the clinic code attached to.
    pub subject: String,
    /// Hex SHA-256 over the id, purpose, subject and new value: what a signature signs, so a
    /// proof for one change cannot confirm another.
    pub challenge: String,
}

/// Personal data stays out of logs: the new value is only in the challenge's digest.
impl std::fmt::Debug for ConfirmationRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfirmationRequest")
            .field("id", &self.id)
            .field("method", &self.method)
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

/// Host-provided confirmation methods (the seed's electronic signature, an app code): the
/// host starts the confirmation with the person and later judges the proof they give.
/// `"sms"` is built in and cannot be offered here.
pub trait Confirmer: Send + Sync {
    /// The methods this confirmer offers, e.g. `["esignature", "app_code"]`.
    fn methods(&self) -> Vec<String>;
    /// A confirmation begins: prompt the person (open the signing dialog, push the app code).
    fn start(&self, request: &ConfirmationRequest) -> Result<(), DeliveryError>;
    /// Whether `proof` (a signature, the code the app showed) confirms `request`.
    fn verify(&self, request: &ConfirmationRequest, proof: &str) -> Result<bool, DeliveryError>;
}
