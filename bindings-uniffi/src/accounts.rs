//! Registration, login, sessions and the host `Notifier` for Kotlin and Swift (R1, R3–R5).

use kabinet_ffi_guard::guard;
use std::sync::Arc;
use std::time::SystemTime;

use kabinet::Locale;

pub use kabinet::integrations::Message;
pub use kabinet::{
    ChangeRequest, Device, Incident, LegacyAccount, LoginStep, ProfileChange, Registration, SessionInfo, Tokens,
    TotpSetup,
};

use crate::KabinetError;
use crate::delegate::delegate;
use crate::error::IntoFfi;

/// Delivery failed; Kabinet retries with back-off.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum DeliveryFailed {
    /// The host could not deliver the message.
    #[error("{reason}")]
    Failed {
        /// Why.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for DeliveryFailed {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        DeliveryFailed::Failed { reason: e.reason }
    }
}

/// Implemented by the app: delivers SMS, e-mail and push messages.
#[uniffi::export(with_foreign)]
pub trait Notifier: Send + Sync {
    /// Delivers one message; an error schedules a retry.
    fn deliver(&self, message: Message) -> Result<(), DeliveryFailed>;
}

/// Adapts a foreign notifier to the core trait.
pub(crate) struct ForeignNotifier(pub(crate) Arc<dyn Notifier>);

impl kabinet::integrations::Notifier for ForeignNotifier {
    fn deliver(&self, m: &kabinet::integrations::Message) -> Result<(), kabinet::integrations::DeliveryError> {
        self.0.deliver(m.clone()).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
    }
}

/// The signed-in person's personal data (R18).
#[derive(uniffi::Object)]
pub struct Profile {
    inner: kabinet::Profile,
    locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Profile {
    /// The person's own details.
    pub async fn get(&self) -> Result<crate::Patient, KabinetError> {
        self.inner.get().await.ffi(self.locale)
    }

    /// Asks to change a detail; an SMS code goes to the current phone.
    pub async fn request_change(&self, field: String, value: String) -> Result<ChangeRequest, KabinetError> {
        self.inner.request_change(&field, &value).await.ffi(self.locale)
    }

    /// Applies a requested change with its SMS code.
    pub async fn confirm_change(&self, change_id: String, code: String) -> Result<(), KabinetError> {
        self.inner.confirm_change(&change_id, &code).await.ffi(self.locale)
    }

    /// Sets the language of the person's notifications (`"ru"` or `"en"`).
    pub async fn set_locale(&self, tag: String) -> Result<(), KabinetError> {
        self.inner.set_locale(&tag).await.ffi(self.locale)
    }

    /// What key data is missing, with what to do (R19).
    pub async fn completeness(&self) -> Result<Vec<crate::MissingItem>, KabinetError> {
        self.inner.completeness().await.ffi(self.locale)
    }

    /// Applied changes, newest first.
    pub async fn history(&self) -> Result<Vec<ProfileChange>, KabinetError> {
        self.inner.history().await.ffi(self.locale)
    }
}

/// Sessions, access history, second factors, password and incidents of the signed-in person
/// (R3, R5, R6).
#[derive(uniffi::Object)]
pub struct Security {
    inner: kabinet::Security,
    locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Security {
    /// Active sessions, newest first.
    pub async fn sessions(&self) -> Result<Vec<SessionInfo>, KabinetError> {
        self.inner.sessions().await.ffi(self.locale)
    }

    /// Ends one session.
    pub async fn revoke(&self, session_id: String) -> Result<(), KabinetError> {
        self.inner.revoke(&session_id).await.ffi(self.locale)
    }

    /// Ends every session, this one included.
    pub async fn revoke_all(&self) -> Result<(), KabinetError> {
        self.inner.revoke_all().await.ffi(self.locale)
    }

    /// Who accessed the account and data since `since` (everything if absent), newest first (R5).
    #[uniffi::method(default(since = None))]
    pub async fn access_history(&self, since: Option<SystemTime>) -> Result<Vec<crate::AccessEntry>, KabinetError> {
        let since = since.map(time::OffsetDateTime::from);
        self.inner.access_history(since).await.ffi(self.locale)
    }

    /// One page of `access_history`: at most `limit` entries (default 100) after `cursor`
    /// (the previous page's `next_cursor`).
    #[uniffi::method(default(since = None, limit = None, cursor = None))]
    pub async fn access_history_page(
        &self,
        since: Option<SystemTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> Result<kabinet::AccessPage, KabinetError> {
        let since = since.map(time::OffsetDateTime::from);
        self.inner.access_history_page(since, limit, cursor.as_deref()).await.ffi(self.locale)
    }

    /// Starts enrolling an authenticator app.
    pub async fn enable_totp(&self) -> Result<TotpSetup, KabinetError> {
        self.inner.enable_totp().await.ffi(self.locale)
    }

    /// Confirms the authenticator with its first code; returns 10 recovery codes.
    pub async fn confirm_totp(&self, code: String) -> Result<Vec<String>, KabinetError> {
        self.inner.confirm_totp(&code).await.ffi(self.locale)
    }

    /// Changes the password; other sessions are signed out.
    pub async fn change_password(&self, old: String, new: String) -> Result<(), KabinetError> {
        self.inner.change_password(&old, &new).await.ffi(self.locale)
    }

    /// Security incidents, newest first (R6).
    pub async fn incidents(&self) -> Result<Vec<Incident>, KabinetError> {
        self.inner.incidents().await.ffi(self.locale)
    }

    /// Confirms an incident with the code from its notification.
    pub async fn confirm_incident(&self, incident_id: String, code: String) -> Result<(), KabinetError> {
        self.inner.confirm_incident(&incident_id, &code).await.ffi(self.locale)
    }
}

delegate! {
    /// Operator migration of accounts from existing systems.
    class SystemAccounts(inner: kabinet::SystemAccounts) via |h| h;
    /// Imports an account with its old Argon2id or bcrypt hash; returns the account id.
    fn import_account(account: LegacyAccount) -> String;
}

delegate! {
    /// Registration and confirmation.
    class Accounts(inner: kabinet::Accounts) via |h| h;
    /// Sends a new phone code for a pending registration (the old one stops working).
    fn resend_phone_code(registration_id: String) -> ();
    /// Confirms the phone with the SMS code; returns the account id.
    fn confirm_phone(registration_id: String, code: String) -> String;
    /// Starts password recovery by "sms" or "email"; returns a recovery id either way.
    fn start_recovery(identifier: String, channel: String) -> String;
    /// Sets a new password with the recovery code; signs out every session. With TOTP
    /// enrolled, a TOTP or recovery code is required.
    fn complete_recovery(
        recovery_id: String,
        code: String,
        new_password: String,
        second_factor_code: Option<String>,
    ) -> ();
    /// Confirms the e-mail address with the activation token.
    fn confirm_email(token: String) -> ();
    extra {
    /// Validates everything, creates a pending account, sends an SMS code; returns its id.
    pub async fn register(&self, registration: Registration) -> Result<String, KabinetError> {
        Ok(self.inner.register(registration).await.ffi(self.locale)?.id)
    }
    }
}

delegate! {
    /// Login, second factor, refresh, logout.
    class Auth(inner: kabinet::Auth) via |h| h;
    /// Identifier (phone, e-mail, SNILS, INN) and password.
    fn login(identifier: String, password: String, device: Device) -> LoginStep;
    /// The SMS or TOTP code; returns the session tokens.
    fn verify_second_factor(step_id: String, code: String) -> Tokens;
    /// Rotates the refresh token; reuse of an old one revokes the session.
    fn refresh(refresh_token: String, device: Device) -> Tokens;
    /// Ends the session.
    fn logout(access_token: String) -> ();
}

/// A signed-in person.
#[derive(uniffi::Object)]
pub struct Me {
    pub(crate) inner: kabinet::Me,
    pub(crate) locale: Locale,
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Me {
    /// The account id.
    pub fn account_id(&self) -> String {
        self.inner.account_id().to_owned()
    }

    /// The person's own personal data: get, request and confirm changes, history (R18).
    pub fn profile(&self) -> Arc<Profile> {
        Arc::new(Profile { inner: self.inner.profile(), locale: self.locale })
    }

    /// Sessions, access history, second factors, password and incidents (R3, R5, R6).
    pub fn security(&self) -> Arc<Security> {
        Arc::new(Security { inner: self.inner.security(), locale: self.locale })
    }

    /// Identity confirmation against state registries (R2).
    pub fn identity(&self) -> Arc<crate::Identity> {
        Arc::new(crate::Identity { inner: self.inner.identity(), locale: self.locale })
    }

    /// `"patient"`, `"staff"` or `"proxy"` (a context from `asWard`).
    pub fn role(&self) -> String {
        match self.inner.principal() {
            kabinet::Principal::Staff(_) => "staff".into(),
            kabinet::Principal::Proxy { .. } => "proxy".into(),
            _ => "patient".into(),
        }
    }

    /// The signed-in patient's id (PermissionDenied for staff and proxy contexts).
    pub fn patient_id(&self) -> Result<String, KabinetError> {
        self.inner.patient_id().map(str::to_owned).ffi(self.locale)
    }

    /// Medical records (R12).
    pub fn records(&self) -> Arc<crate::Records> {
        Arc::new(crate::Records { me: self.inner.clone(), locale: self.locale })
    }

    /// Lab results (R9).
    pub fn labs(&self) -> Arc<crate::Labs> {
        Arc::new(crate::Labs { me: self.inner.clone(), locale: self.locale })
    }

    /// Requests (R13).
    pub fn requests(&self) -> Arc<crate::Requests> {
        Arc::new(crate::Requests { me: self.inner.clone(), locale: self.locale })
    }

    /// Documents (R7): list, download, share; staff: publish.
    pub fn documents(&self) -> Arc<crate::Documents> {
        Arc::new(crate::Documents { me: self.inner.clone(), locale: self.locale })
    }

    /// Certificates and extracts (R10).
    pub fn certificates(&self) -> Arc<crate::Certificates> {
        Arc::new(crate::Certificates { me: self.inner.clone(), locale: self.locale })
    }

    /// Notification preferences (R14).
    pub fn notifications(&self) -> Arc<crate::Notifications> {
        Arc::new(crate::Notifications { me: self.inner.clone(), locale: self.locale })
    }

    /// Proxy grants (R20).
    pub fn proxies(&self) -> Arc<crate::Proxies> {
        Arc::new(crate::Proxies { me: self.inner.clone(), locale: self.locale })
    }

    /// Acts for a ward within the granted scopes (R20).
    pub async fn as_ward(&self, ward_patient_id: String) -> Result<Arc<Me>, KabinetError> {
        let ward = self.inner.as_ward(&ward_patient_id).await.ffi(self.locale)?;
        Ok(Arc::new(Me { inner: ward, locale: self.locale }))
    }

    /// The clinic directory (R8, R11).
    pub fn directory(&self) -> Arc<crate::Directory> {
        Arc::new(crate::Directory { inner: self.inner.directory(), locale: self.locale })
    }

    /// Appointments (R8).
    pub fn appointments(&self) -> Arc<crate::Appointments> {
        Arc::new(crate::Appointments { inner: self.inner.appointments(), locale: self.locale })
    }

    /// Clinic attachment (R11).
    pub fn attachment(&self) -> Arc<crate::ClinicAttachment> {
        Arc::new(crate::ClinicAttachment { inner: self.inner.attachment(), locale: self.locale })
    }

    /// Staff: the staff member signed in.
    pub fn staff_member(&self) -> Result<crate::StaffMember, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        staff.member().cloned().ffi(self.locale)
    }

    /// Staff: patients of their clinic.
    pub fn patients(&self) -> Result<Arc<crate::StaffPatients>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::StaffPatients { inner: staff.patients(), locale: self.locale }))
    }

    /// Staff: correction requests about the clinic's records.
    pub fn corrections(&self) -> Result<Arc<crate::StaffCorrections>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::StaffCorrections { inner: staff.corrections(), locale: self.locale }))
    }

    /// Staff: appointments at their clinic.
    pub fn clinic_appointments(&self) -> Result<Arc<crate::ClinicAppointments>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::ClinicAppointments { inner: staff.appointments(), locale: self.locale }))
    }
}
