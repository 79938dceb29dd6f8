//! `cab.accounts`, `cab.auth`, `cab.session(...)` and `me.security` (R1, R3, R4, R5).

use pyo3::prelude::*;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::integrations::Message;
pub(crate) use kabinet::{
    ChangeRequest, Device, ImportedAccount, Incident, LegacyAccount, LoginStep, PendingRegistration, ProfileChange,
    Registration, SessionInfo, Tokens, TotpSetup,
};

delegate! {
    /// Registration and confirmation.
    class Accounts(kabinet::Accounts) via |a, _l| a.clone();
    /// Validates everything, creates a pending account and sends an SMS code.
    fn register(registration: &Bound<'_, Registration>) -> PendingRegistration;
    /// Sends a new phone code for a pending registration (the old one stops working).
    fn resend_phone_code(registration_id: String) -> ();
    /// Confirms the phone with the SMS code; returns the account id.
    fn confirm_phone(registration_id: String, code: String) -> String;
    /// Starts password recovery; a code goes by "sms" or "email". Returns a recovery id
    /// whether or not the identifier matched an account.
    fn start_recovery(identifier: String, channel: kabinet::integrations::Channel) -> String;
    /// Sets a new password with the recovery code; signs out every session. With TOTP
    /// enrolled, a TOTP or recovery code is required as `second_factor_code`.
    #[pyo3(signature = (recovery_id, code, new_password, second_factor_code = None))]
    fn complete_recovery(
        recovery_id: String,
        code: String,
        new_password: String,
        second_factor_code: Option<String>,
    ) -> ();
    /// Confirms the e-mail address with the activation token.
    fn confirm_email(token: String) -> ();
}

delegate! {
    /// Login, second factor, refresh, logout.
    class Auth(kabinet::Auth) via |a, _l| a.clone();
    /// Identifier (phone, e-mail, SNILS, INN) and password; returns the second-factor step.
    fn login(identifier: String, password: String, device: &Bound<'_, Device>) -> LoginStep;
    /// The SMS or TOTP code; returns the session tokens.
    fn verify_second_factor(step_id: String, code: String) -> Tokens;
    /// Rotates the refresh token; reuse of an old one revokes the session.
    fn refresh(refresh_token: String, device: &Bound<'_, Device>) -> Tokens;
    /// Ends the session.
    fn logout(access_token: String) -> ();
}

delegate! {
    /// The signed-in person's personal data (R18).
    class Profile(kabinet::Profile) via |p, _l| p.clone();
    /// The person's own details.
    fn get() -> kabinet::Patient;
    /// Asks to change a detail (`inn`, `oms_policy`, `insurer`, `passport`, `address`,
    /// `actual_address`, `snils`, `birth_date`, names, `phone`, `email`); `method` is
    /// `"sms"` (default) or a method of the configured `confirmer`.
    #[pyo3(signature = (field, value, method = None))]
    fn request_change(field: String, value: String, method: Option<String>) -> ChangeRequest;
    /// Applies a requested change with its code or the host method's proof.
    fn confirm_change(change_id: String, code: String) -> ();
    /// Sets the language of the person's notifications (`"ru"` or `"en"`).
    fn set_locale(tag: String) -> ();
    /// What key data is missing, with what to do (R19).
    fn completeness() -> Vec<kabinet::MissingItem>;
    /// Applied changes, newest first.
    fn history() -> Vec<ProfileChange>;
}

delegate! {
    /// Sessions and access history of the signed-in person.
    class Security(kabinet::Security) via |s, _l| s.clone();
    /// Active sessions, newest first.
    fn sessions() -> Vec<SessionInfo>;
    /// Security incidents, newest first (R6).
    fn incidents() -> Vec<Incident>;
    /// Confirms an incident with the code from its notification.
    fn confirm_incident(incident_id: String, code: String) -> ();
    /// Starts enrolling an authenticator app.
    fn enable_totp() -> TotpSetup;
    /// Confirms the authenticator with its first code; returns 10 recovery codes.
    fn confirm_totp(code: String) -> Vec<String>;
    /// Changes the password; other sessions are signed out.
    fn change_password(old: String, new: String) -> ();
    /// Ends one session.
    fn revoke(session_id: String) -> ();
    /// Ends every session, this one included.
    fn revoke_all() -> ();
    /// Who accessed the account and data, newest first (R5).
    #[pyo3(signature = (since = None))]
    fn access_history(since: Option<time::OffsetDateTime>) -> Vec<kabinet::AccessEntry>;
    /// One page of `access_history`: at most `limit` entries after `cursor` (the previous
    /// page's `next_cursor`).
    #[pyo3(signature = (since = None, limit = None, cursor = None))]
    fn access_history_page(
        since: Option<time::OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> kabinet::AccessPage;
}

delegate! {
    /// A signed-in person.
    class Me(kabinet::Me) via |me, _l| me.clone();
    handles {
        /// Sessions and access history.
        security -> Security = me.security();
        /// Identity confirmation (R2).
        identity -> crate::identity::Identity = me.identity();
        /// The person's own personal data: `get()`, `request_change()`, `confirm_change()`, `history()`.
        profile -> Profile = me.profile();
        /// Medical records (R12).
        records -> crate::records::Records = me.clone();
        /// Lab results (R9).
        labs -> crate::records::Labs = me.clone();
        /// Requests to clinics (R13).
        requests -> crate::records::Requests = me.clone();
        /// Documents (R7): list, download, share; staff: publish.
        documents -> crate::documents::Documents = me.clone();
        /// Certificates and extracts (R10).
        certificates -> crate::documents::Certificates = me.clone();
        /// Notification preferences (R14).
        notifications -> crate::documents::Notifications = me.clone();
        /// Proxy grants (R20).
        proxies -> crate::records::Proxies = me.clone();
        /// The clinic directory (R8, R11).
        directory -> crate::booking::Directory = me.directory();
        /// Appointments (R8).
        appointments -> crate::booking::Appointments = me.appointments();
        /// Clinic attachment (R11).
        attachment -> crate::booking::ClinicAttachment = me.attachment();
    }
    extra {
    /// The account id.
    #[getter]
    fn account_id(&self) -> String {
        self.inner.account_id().to_owned()
    }

    /// `ContextRole.PATIENT`, `STAFF` or `PROXY` (a context from `as_ward`); equal to its string.
    #[getter]
    fn role(&self) -> kabinet::ContextRole {
        self.inner.role()
    }

    /// Acts for a ward within the granted scopes (R20).
    fn as_ward(&self, py: Python<'_>, ward_patient_id: String) -> PyResult<Me> {
        let me = self.inner.clone();
        let ward = block_on(py, self.locale, async move { me.as_ward(&ward_patient_id).await })?;
        Ok(Me::new(ward, self.locale))
    }

    /// The signed-in patient's id (PermissionDenied for staff).
    #[getter]
    fn patient_id(&self) -> PyResult<String> {
        self.inner.patient_id().map(str::to_owned).map_err(|e| crate::errors::to_py(e, self.locale))
    }

    /// Staff: correction requests.
    #[getter]
    fn corrections(&self) -> PyResult<crate::records::StaffCorrections> {
        let staff = self.inner.staff().map_err(|e| crate::errors::to_py(e, self.locale))?;
        Ok(crate::records::StaffCorrections::new(staff.corrections(), self.locale))
    }

    /// Staff: the staff member signed in (PermissionDenied for patients).
    #[getter]
    fn staff_member(&self) -> PyResult<kabinet::StaffMember> {
        let staff = self.inner.staff().map_err(|e| crate::errors::to_py(e, self.locale))?;
        staff.member().cloned().map_err(|e| crate::errors::to_py(e, self.locale))
    }

    /// Staff: patients of their clinic (PermissionDenied for patients).
    #[getter]
    fn patients(&self) -> PyResult<crate::booking::StaffPatients> {
        let staff = self.inner.staff().map_err(|e| crate::errors::to_py(e, self.locale))?;
        Ok(crate::booking::StaffPatients::new(staff.patients(), self.locale))
    }

    /// Staff: appointments at their clinic (PermissionDenied for patients).
    #[getter]
    fn clinic_appointments(&self) -> PyResult<crate::booking::ClinicAppointments> {
        let staff = self.inner.staff().map_err(|e| crate::errors::to_py(e, self.locale))?;
        Ok(crate::booking::ClinicAppointments::new(staff.appointments(), self.locale))
    }
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    crate::classes! { m:
        Message, Registration, PendingRegistration, Accounts, Device, LoginStep, Tokens, Auth, SessionInfo, Security,
        TotpSetup, Incident, Profile, ProfileChange, ChangeRequest, Me, ImportedAccount,
    }
    Ok(())
}

delegate! {
    /// Operator account management.
    class SystemAccounts(kabinet::SystemAccounts) via |s, _l| s.clone();
    /// Imports an account with its old Argon2id or bcrypt hash; returns its id and whether
    /// the old hash is weak (an operator may force a reset).
    fn import_account(account: &Bound<'_, LegacyAccount>) -> kabinet::ImportedAccount;
}

pub(crate) fn register_system(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LegacyAccount>()?;
    m.add_class::<SystemAccounts>()?;
    Ok(())
}
