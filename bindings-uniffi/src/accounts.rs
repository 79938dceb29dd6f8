//! Registration, login, sessions and the host `Notifier` for Kotlin and Swift (R1, R3–R5).

use std::sync::Arc;
use std::time::SystemTime;

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

delegate! {
    /// The signed-in person's personal data (R18).
    class Profile(inner: kabinet::Profile) via |h| h;
    /// The person's own details.
    fn get() -> crate::Patient;
    /// Asks to change a detail (`inn`, `oms_policy`, `insurer`, `passport`, `address`,
    /// `actual_address`, `snils`, `birth_date`, names, `phone`, `email`); `method` is `"sms"`
    /// (null: a code to the current phone, or to a new phone or e-mail) or a host
    /// `Confirmer` method.
    #[uniffi::method(default(method = None))]
    fn request_change(field: String, value: String, method: Option<String>) -> ChangeRequest;
    /// Applies a requested change with its code or the host method's proof.
    fn confirm_change(change_id: String, code: String) -> ();
    /// Sets the language of the person's notifications (`"ru"` or `"en"`).
    fn set_locale(tag: String) -> ();
    /// What key data is missing, with what to do (R19).
    fn completeness() -> Vec<crate::MissingItem>;
    /// Applied changes, newest first.
    fn history() -> Vec<ProfileChange>;
}

delegate! {
    /// Sessions, access history, second factors, password and incidents of the signed-in person
    /// (R3, R5, R6).
    class Security(inner: kabinet::Security) via |h| h;
    /// Active sessions, newest first.
    fn sessions() -> Vec<SessionInfo>;
    /// Ends one session.
    fn revoke(session_id: String) -> ();
    /// Ends every session, this one included.
    fn revoke_all() -> ();
    /// Starts enrolling an authenticator app.
    fn enable_totp() -> TotpSetup;
    /// Confirms the authenticator with its first code; returns 10 recovery codes.
    fn confirm_totp(code: String) -> Vec<String>;
    /// Changes the password; other sessions are signed out.
    fn change_password(old: String, new: String) -> ();
    /// Security incidents, newest first (R6).
    fn incidents() -> Vec<Incident>;
    /// Confirms an incident with the code from its notification.
    fn confirm_incident(incident_id: String, code: String) -> ();
    /// Who accessed the account and data since `since` (everything if absent), newest first (R5).
    #[uniffi::method(default(since = None))]
    fn access_history(since: Option<SystemTime>) -> Vec<crate::AccessEntry>;
    /// One page of `access_history`: at most `limit` entries (default 100) after `cursor`
    /// (the previous page's `next_cursor`).
    #[uniffi::method(default(since = None, limit = None, cursor = None))]
    fn access_history_page(since: Option<SystemTime>, limit: Option<u32>, cursor: Option<String>) -> kabinet::AccessPage;
}

delegate! {
    /// Operator migration of accounts from existing systems.
    class SystemAccounts(inner: kabinet::SystemAccounts) via |h| h;
    /// Imports an account with its old Argon2id or bcrypt hash; returns its id and whether
    /// the old hash is weak (an operator may force a reset).
    fn import_account(account: LegacyAccount) -> kabinet::ImportedAccount;
}

delegate! {
    /// Registration and confirmation.
    class Accounts(inner: kabinet::Accounts) via |h| h;
    /// Sends a new phone code for a pending registration (the old one stops working).
    fn resend_phone_code(registration_id: String) -> ();
    /// Confirms the phone with the SMS code; returns the account id.
    fn confirm_phone(registration_id: String, code: String) -> String;
    /// Starts password recovery by "sms" or "email"; returns a recovery id either way.
    fn start_recovery(identifier: String, channel: kabinet::integrations::Channel) -> String;
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

delegate! {
    /// A signed-in person.
    class Me(inner: kabinet::Me) via |me| me;
    handles {
        /// The person's own personal data: get, request and confirm changes, history (R18).
        profile -> Profile = me.profile();
        /// Sessions, access history, second factors, password and incidents (R3, R5, R6).
        security -> Security = me.security();
        /// Identity confirmation against state registries (R2).
        identity -> crate::Identity = me.identity();
        /// Medical records (R12).
        records -> crate::Records = me.clone();
        /// Lab results (R9).
        labs -> crate::Labs = me.clone();
        /// Requests (R13).
        requests -> crate::Requests = me.clone();
        /// Documents (R7): list, download, share; staff: publish.
        documents -> crate::Documents = me.clone();
        /// Certificates and extracts (R10).
        certificates -> crate::Certificates = me.clone();
        /// Notification preferences (R14).
        notifications -> crate::Notifications = me.clone();
        /// Proxy grants (R20).
        proxies -> crate::Proxies = me.clone();
        /// The clinic directory (R8, R11).
        directory -> crate::Directory = me.directory();
        /// Appointments (R8).
        appointments -> crate::Appointments = me.appointments();
        /// Clinic attachment (R11).
        attachment -> crate::ClinicAttachment = me.attachment();
    }
    extra {
    /// The account id.
    pub fn account_id(&self) -> String {
        self.inner.account_id().to_owned()
    }

    /// `PATIENT`, `STAFF` or `PROXY` (a context from `asWard`).
    pub fn role(&self) -> kabinet::ContextRole {
        self.inner.role()
    }

    /// The signed-in patient's id (PermissionDenied for staff and proxy contexts).
    pub fn patient_id(&self) -> Result<String, KabinetError> {
        self.inner.patient_id().map(str::to_owned).ffi(self.locale)
    }

    /// Acts for a ward within the granted scopes (R20).
    pub async fn as_ward(&self, ward_patient_id: String) -> Result<Arc<Me>, KabinetError> {
        let ward = self.inner.as_ward(&ward_patient_id).await.ffi(self.locale)?;
        Ok(Arc::new(Me { inner: ward, locale: self.locale }))
    }

    /// Staff: the staff member signed in.
    pub fn staff_member(&self) -> Result<crate::StaffMember, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        staff.member().cloned().ffi(self.locale)
    }

    /// Staff: patients of their clinic.
    pub fn patients(&self) -> Result<Arc<crate::StaffPatients>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::StaffPatients::new(staff.patients(), self.locale)))
    }

    /// Staff: correction requests about the clinic's records.
    pub fn corrections(&self) -> Result<Arc<crate::StaffCorrections>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::StaffCorrections::new(staff.corrections(), self.locale)))
    }

    /// Staff: appointments at their clinic.
    pub fn clinic_appointments(&self) -> Result<Arc<crate::ClinicAppointments>, KabinetError> {
        let staff = crate::booking::staff(&self.inner, self.locale)?;
        Ok(Arc::new(crate::ClinicAppointments::new(staff.appointments(), self.locale)))
    }
    }
}
