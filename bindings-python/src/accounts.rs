//! `cab.accounts`, `cab.auth`, `cab.session(...)` and `me.security` (R1, R3, R4, R5).

use pyo3::prelude::*;

use crate::convert::utc;
use crate::runtime::block_on;

pub(crate) use kabinet::integrations::Message;
pub(crate) use kabinet::{
    ChangeRequest, Device, Incident, LegacyAccount, LoginStep, PendingRegistration, ProfileChange, Registration,
    SessionInfo, Tokens, TotpSetup,
};

/// Registration and confirmation.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Accounts {
    inner: kabinet::Accounts,
    locale: kabinet::Locale,
}

impl Accounts {
    pub(crate) fn new(inner: kabinet::Accounts, locale: kabinet::Locale) -> Self {
        Accounts { inner, locale }
    }
}

#[pymethods]
impl Accounts {
    /// Validates everything, creates a pending account and sends an SMS code.
    fn register(&self, py: Python<'_>, registration: &Bound<'_, Registration>) -> PyResult<PendingRegistration> {
        let core = registration.get().clone();
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.register(core).await })
    }

    /// Sends a new phone code for a pending registration (the old one stops working).
    fn resend_phone_code(&self, py: Python<'_>, registration_id: String) -> PyResult<()> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.resend_phone_code(&registration_id).await })
    }

    /// Confirms the phone with the SMS code; returns the account id.
    fn confirm_phone(&self, py: Python<'_>, registration_id: String, code: String) -> PyResult<String> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.confirm_phone(&registration_id, &code).await })
    }

    /// Starts password recovery; a code goes by "sms" or "email". Returns a recovery id
    /// whether or not the identifier matched an account.
    fn start_recovery(&self, py: Python<'_>, identifier: String, channel: String) -> PyResult<String> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.start_recovery(&identifier, &channel).await })
    }

    /// Sets a new password with the recovery code; signs out every session. With TOTP
    /// enrolled, a TOTP or recovery code is required as `second_factor_code`.
    #[pyo3(signature = (recovery_id, code, new_password, second_factor_code = None))]
    fn complete_recovery(
        &self,
        py: Python<'_>,
        recovery_id: String,
        code: String,
        new_password: String,
        second_factor_code: Option<String>,
    ) -> PyResult<()> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move {
            a.complete_recovery(&recovery_id, &code, &new_password, second_factor_code.as_deref()).await
        })
    }

    /// Confirms the e-mail address with the activation token.
    fn confirm_email(&self, py: Python<'_>, token: String) -> PyResult<()> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.confirm_email(&token).await })
    }
}

/// Login, second factor, refresh, logout.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Auth {
    inner: kabinet::Auth,
    locale: kabinet::Locale,
}

impl Auth {
    pub(crate) fn new(inner: kabinet::Auth, locale: kabinet::Locale) -> Self {
        Auth { inner, locale }
    }
}

#[pymethods]
impl Auth {
    /// Identifier (phone, e-mail, SNILS, INN) and password; returns the second-factor step.
    fn login(
        &self,
        py: Python<'_>,
        identifier: String,
        password: String,
        device: &Bound<'_, Device>,
    ) -> PyResult<LoginStep> {
        let (a, d) = (self.inner.clone(), device.get().clone());
        block_on(py, self.locale, async move { a.login(&identifier, &password, &d).await })
    }

    /// The SMS or TOTP code; returns the session tokens.
    fn verify_second_factor(&self, py: Python<'_>, step_id: String, code: String) -> PyResult<Tokens> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.verify_second_factor(&step_id, &code).await })
    }

    /// Rotates the refresh token; reuse of an old one revokes the session.
    fn refresh(&self, py: Python<'_>, refresh_token: String, device: &Bound<'_, Device>) -> PyResult<Tokens> {
        let (a, d) = (self.inner.clone(), device.get().clone());
        block_on(py, self.locale, async move { a.refresh(&refresh_token, &d).await })
    }

    /// Ends the session.
    fn logout(&self, py: Python<'_>, access_token: String) -> PyResult<()> {
        let a = self.inner.clone();
        block_on(py, self.locale, async move { a.logout(&access_token).await })
    }
}

/// The signed-in person's personal data (R18).
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Profile {
    inner: kabinet::Profile,
    locale: kabinet::Locale,
}

#[pymethods]
impl Profile {
    /// The person's own details.
    fn get(&self, py: Python<'_>) -> PyResult<kabinet::Patient> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.get().await })
    }

    /// Asks to change a detail; an SMS code goes to the current phone.
    fn request_change(&self, py: Python<'_>, field: String, value: String) -> PyResult<ChangeRequest> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.request_change(&field, &value).await })
    }

    /// Applies a requested change with its SMS code.
    fn confirm_change(&self, py: Python<'_>, change_id: String, code: String) -> PyResult<()> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.confirm_change(&change_id, &code).await })
    }

    /// Applied changes, newest first.
    /// Sets the language of the person's notifications (`"ru"` or `"en"`).
    fn set_locale(&self, py: Python<'_>, tag: String) -> PyResult<()> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.set_locale(&tag).await })
    }

    /// What key data is missing, with what to do (R19).
    fn completeness(&self, py: Python<'_>) -> PyResult<Vec<kabinet::MissingItem>> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.completeness().await })
    }

    /// Applied changes, newest first.
    fn history(&self, py: Python<'_>) -> PyResult<Vec<ProfileChange>> {
        let p = self.inner.clone();
        block_on(py, self.locale, async move { p.history().await })
    }
}

/// Sessions and access history of the signed-in person.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Security {
    inner: kabinet::Security,
    locale: kabinet::Locale,
}

#[pymethods]
impl Security {
    /// Active sessions, newest first.
    fn sessions(&self, py: Python<'_>) -> PyResult<Vec<SessionInfo>> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.sessions().await })
    }

    /// Security incidents, newest first (R6).
    fn incidents(&self, py: Python<'_>) -> PyResult<Vec<Incident>> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.incidents().await })
    }

    /// Confirms an incident with the code from its notification.
    fn confirm_incident(&self, py: Python<'_>, incident_id: String, code: String) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.confirm_incident(&incident_id, &code).await })
    }

    /// Starts enrolling an authenticator app.
    fn enable_totp(&self, py: Python<'_>) -> PyResult<TotpSetup> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.enable_totp().await })
    }

    /// Confirms the authenticator with its first code; returns 10 recovery codes.
    fn confirm_totp(&self, py: Python<'_>, code: String) -> PyResult<Vec<String>> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.confirm_totp(&code).await })
    }

    /// Changes the password; other sessions are signed out.
    fn change_password(&self, py: Python<'_>, old: String, new: String) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.change_password(&old, &new).await })
    }

    /// Ends one session.
    fn revoke(&self, py: Python<'_>, session_id: String) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.revoke(&session_id).await })
    }

    /// Ends every session, this one included.
    fn revoke_all(&self, py: Python<'_>) -> PyResult<()> {
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.revoke_all().await })
    }

    /// Who accessed the account and data, newest first (R5).
    #[pyo3(signature = (since = None))]
    fn access_history(
        &self,
        py: Python<'_>,
        since: Option<time::OffsetDateTime>,
    ) -> PyResult<Vec<kabinet::AccessEntry>> {
        let since = since.map(utc);
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.access_history(since).await })
    }

    /// One page of `access_history`: at most `limit` entries after `cursor` (the previous
    /// page's `next_cursor`).
    #[pyo3(signature = (since = None, limit = None, cursor = None))]
    fn access_history_page(
        &self,
        py: Python<'_>,
        since: Option<time::OffsetDateTime>,
        limit: Option<u32>,
        cursor: Option<String>,
    ) -> PyResult<kabinet::AccessPage> {
        let since = since.map(utc);
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.access_history_page(since, limit, cursor.as_deref()).await })
    }
}

/// A signed-in person.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct Me {
    inner: kabinet::Me,
    locale: kabinet::Locale,
}

impl Me {
    pub(crate) fn new(inner: kabinet::Me, locale: kabinet::Locale) -> Self {
        Me { inner, locale }
    }
}

#[pymethods]
impl Me {
    /// Sessions and access history.
    #[getter]
    fn security(&self) -> Security {
        Security { inner: self.inner.security(), locale: self.locale }
    }

    /// Identity confirmation (R2).
    #[getter]
    fn identity(&self) -> crate::identity::Identity {
        crate::identity::Identity { inner: self.inner.identity(), locale: self.locale }
    }

    /// The account id.
    #[getter]
    fn account_id(&self) -> String {
        self.inner.account_id().to_owned()
    }

    /// The person's own personal data: `get()`, `request_change()`, `confirm_change()`, `history()`.
    #[getter]
    fn profile(&self) -> Profile {
        Profile { inner: self.inner.profile(), locale: self.locale }
    }

    /// `"patient"`, `"staff"` or `"proxy"` (a context from `as_ward`).
    #[getter]
    fn role(&self) -> &'static str {
        match self.inner.principal() {
            kabinet::Principal::Staff(_) => "staff",
            kabinet::Principal::Proxy { .. } => "proxy",
            _ => "patient",
        }
    }

    /// Medical records (R12).
    #[getter]
    fn records(&self) -> crate::records::Records {
        crate::records::Records { me: self.inner.clone(), locale: self.locale }
    }

    /// Lab results (R9).
    #[getter]
    fn labs(&self) -> crate::records::Labs {
        crate::records::Labs { me: self.inner.clone(), locale: self.locale }
    }

    /// Requests to clinics (R13).
    #[getter]
    fn requests(&self) -> crate::records::Requests {
        crate::records::Requests { me: self.inner.clone(), locale: self.locale }
    }

    /// Documents (R7): list, download, share; staff: publish.
    #[getter]
    fn documents(&self) -> crate::documents::Documents {
        crate::documents::Documents { me: self.inner.clone(), locale: self.locale }
    }

    /// Certificates and extracts (R10).
    #[getter]
    fn certificates(&self) -> crate::documents::Certificates {
        crate::documents::Certificates { me: self.inner.clone(), locale: self.locale }
    }

    /// Notification preferences (R14).
    #[getter]
    fn notifications(&self) -> crate::documents::Notifications {
        crate::documents::Notifications { me: self.inner.clone(), locale: self.locale }
    }

    /// Proxy grants (R20).
    #[getter]
    fn proxies(&self) -> crate::records::Proxies {
        crate::records::Proxies { me: self.inner.clone(), locale: self.locale }
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
        Ok(crate::records::StaffCorrections { inner: staff.corrections(), locale: self.locale })
    }

    /// The clinic directory (R8, R11).
    #[getter]
    fn directory(&self) -> crate::booking::Directory {
        crate::booking::Directory { inner: self.inner.directory(), locale: self.locale }
    }

    /// Appointments (R8).
    #[getter]
    fn appointments(&self) -> crate::booking::Appointments {
        crate::booking::Appointments { inner: self.inner.appointments(), locale: self.locale }
    }

    /// Clinic attachment (R11).
    #[getter]
    fn attachment(&self) -> crate::booking::ClinicAttachment {
        crate::booking::ClinicAttachment { inner: self.inner.attachment(), locale: self.locale }
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
        Ok(crate::booking::StaffPatients { inner: staff.patients(), locale: self.locale })
    }

    /// Staff: appointments at their clinic (PermissionDenied for patients).
    #[getter]
    fn clinic_appointments(&self) -> PyResult<crate::booking::ClinicAppointments> {
        let staff = self.inner.staff().map_err(|e| crate::errors::to_py(e, self.locale))?;
        Ok(crate::booking::ClinicAppointments { inner: staff.appointments(), locale: self.locale })
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Message>()?;
    m.add_class::<Registration>()?;
    m.add_class::<PendingRegistration>()?;
    m.add_class::<Accounts>()?;
    m.add_class::<Device>()?;
    m.add_class::<LoginStep>()?;
    m.add_class::<Tokens>()?;
    m.add_class::<Auth>()?;
    m.add_class::<SessionInfo>()?;
    m.add_class::<Security>()?;
    m.add_class::<TotpSetup>()?;
    m.add_class::<Incident>()?;
    m.add_class::<Profile>()?;
    m.add_class::<ProfileChange>()?;
    m.add_class::<ChangeRequest>()?;
    m.add_class::<Me>()?;
    Ok(())
}

/// Operator account management.
#[pyclass(module = "kabinet", frozen)]
pub(crate) struct SystemAccounts {
    pub(crate) inner: kabinet::SystemAccounts,
    pub(crate) locale: kabinet::Locale,
}

#[pymethods]
impl SystemAccounts {
    /// Imports an account with its old Argon2id or bcrypt hash; returns the account id.
    fn import_account(&self, py: Python<'_>, account: &Bound<'_, LegacyAccount>) -> PyResult<String> {
        let legacy = account.get().clone();
        let s = self.inner.clone();
        block_on(py, self.locale, async move { s.import_account(legacy).await })
    }
}

pub(crate) fn register_system(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<LegacyAccount>()?;
    m.add_class::<SystemAccounts>()?;
    Ok(())
}
