//! `kabinet.Cabinet`, `Config`, `KeyProvider` and the operator context.

use std::sync::Arc;

use pyo3::prelude::*;

use crate::delegate::delegate;
use crate::runtime::block_on;

pub(crate) use kabinet::KeyRotationReport;

/// Where the key-encryption key comes from.
#[pyclass(module = "kabinet", frozen)]
#[derive(Clone)]
pub(crate) struct KeyProvider {
    inner: Arc<dyn kabinet::KeyProvider>,
}

#[pymethods]
impl KeyProvider {
    /// Keys kept in a local file, created with mode 0600 on first use.
    #[staticmethod]
    fn local_file(path: std::path::PathBuf) -> PyResult<Self> {
        let p = kabinet::crypto::LocalFileKeyProvider::open(path)
            .map_err(|e| crate::errors::to_py(e.into(), kabinet::Locale::En))?;
        Ok(KeyProvider { inner: Arc::new(p) })
    }

    /// A key derived from a passphrase with Argon2id (at least 12 characters).
    #[staticmethod]
    fn passphrase(py: Python<'_>, passphrase: String) -> PyResult<Self> {
        let p = py
            .detach(|| kabinet::crypto::PassphraseKeyProvider::new(&passphrase))
            .map_err(|e| crate::errors::to_py(e.into(), kabinet::Locale::En))?;
        Ok(KeyProvider { inner: Arc::new(p) })
    }

    /// A random key held in memory only: the data is unreadable after the process ends.
    #[staticmethod]
    fn ephemeral() -> Self {
        KeyProvider { inner: Arc::new(kabinet::crypto::EphemeralKeyProvider::new()) }
    }

    fn __repr__(&self) -> &'static str {
        "KeyProvider(<redacted>)"
    }
}

/// How to open a cabinet; every argument is optional.
#[pyclass(module = "kabinet", frozen, subclass)]
pub(crate) struct Config {
    key_provider: Option<KeyProvider>,
    clock: Option<Py<PyAny>>,
    notifier: Option<Py<PyAny>>,
    identity_registry: Option<Py<PyAny>>,
    confirmer: Option<Py<PyAny>>,
    locale: kabinet::Locale,
    password_hashing: kabinet::Argon2Params,
    max_connections: u32,
    require_identity_for_booking: bool,
    change_deadline_minutes: i64,
    migrate: kabinet::MigrationMode,
    password_reminder_days: i64,
    attachment_changes_per_year: u32,
    holidays: Vec<time::Date>,
    request_expiry_days: i64,
}

#[pymethods]
impl Config {
    #[new]
    #[allow(clippy::too_many_arguments)] // Python keyword arguments, all optional
    #[pyo3(signature = (key_provider = None, notifier = None, identity_registry = None, clock = None, locale = "ru", password_hashing = None, max_connections = 8, require_identity_for_booking = true, change_deadline_minutes = 120, migrate = kabinet::MigrationMode::Auto, confirmer = None, password_reminder_days = 180, attachment_changes_per_year = 1, holidays = Vec::new(), request_expiry_days = 365))]
    fn new(
        key_provider: Option<&Bound<'_, KeyProvider>>,
        notifier: Option<Py<PyAny>>,
        identity_registry: Option<Py<PyAny>>,
        clock: Option<Py<PyAny>>,
        locale: &str,
        password_hashing: Option<&Bound<'_, kabinet::Argon2Params>>,
        max_connections: u32,
        require_identity_for_booking: bool,
        change_deadline_minutes: i64,
        migrate: kabinet::MigrationMode,
        confirmer: Option<Py<PyAny>>,
        password_reminder_days: i64,
        attachment_changes_per_year: u32,
        holidays: Vec<time::Date>,
        request_expiry_days: i64,
    ) -> PyResult<Self> {
        let locale = kabinet::Locale::parse(locale)
            .ok_or_else(|| crate::errors::to_py(kabinet::ConfigError::Locale.into(), kabinet::Locale::En))?;
        for (obj, method, what) in [
            (&notifier, "deliver", "notifier.deliver"),
            (&clock, "now", "clock.now"),
            (&identity_registry, "check", "identity_registry.check"),
            (&confirmer, "methods", "confirmer.methods"),
            (&confirmer, "start", "confirmer.start"),
            (&confirmer, "verify", "confirmer.verify"),
        ] {
            if let Some(obj) = obj {
                crate::host::check_callback(obj, method, what, locale)?;
            }
        }
        Ok(Config {
            key_provider: key_provider.map(|k| k.get().clone()),
            clock,
            notifier,
            identity_registry,
            confirmer,
            locale,
            password_hashing: password_hashing.map(|p| *p.get()).unwrap_or_default(),
            max_connections,
            require_identity_for_booking,
            change_deadline_minutes,
            migrate,
            password_reminder_days,
            attachment_changes_per_year,
            holidays,
            request_expiry_days,
        })
    }

    /// The language of messages: `"ru"` or `"en"`.
    #[getter]
    fn locale(&self) -> &'static str {
        self.locale.tag()
    }

    /// Argon2id parameters of new password hashes.
    #[getter]
    fn password_hashing(&self) -> kabinet::Argon2Params {
        self.password_hashing
    }

    /// Maximum pooled database connections.
    #[getter]
    fn max_connections(&self) -> u32 {
        self.max_connections
    }

    /// Whether booking needs a confirmed identity.
    #[getter]
    fn require_identity_for_booking(&self) -> bool {
        self.require_identity_for_booking
    }

    /// Visits can be changed until this many minutes before they start.
    #[getter]
    fn change_deadline_minutes(&self) -> i64 {
        self.change_deadline_minutes
    }

    /// A password this many days old brings a reminder to change it (R4).
    #[getter]
    fn password_reminder_days(&self) -> i64 {
        self.password_reminder_days
    }

    /// Voluntary changes of clinic a person may make in 365 days (R11).
    #[getter]
    fn attachment_changes_per_year(&self) -> u32 {
        self.attachment_changes_per_year
    }

    /// Days off besides weekends, for deadlines (R12).
    #[getter]
    fn holidays(&self) -> Vec<time::Date> {
        self.holidays.clone()
    }

    /// Days after which an unfinished request is closed as expired (R13).
    #[getter]
    fn request_expiry_days(&self) -> i64 {
        self.request_expiry_days
    }

    /// Whether opening may migrate the schema.
    #[getter]
    fn migrate(&self) -> kabinet::MigrationMode {
        self.migrate
    }
}

impl Config {
    fn to_core(&self, py: Python<'_>) -> kabinet::Config {
        let mut c = kabinet::Config {
            key_provider: self.key_provider.as_ref().map(|k| k.inner.clone()),
            locale: self.locale,
            password_hashing: self.password_hashing,
            max_connections: self.max_connections,
            migrate: self.migrate,
            appointments: kabinet::AppointmentPolicy {
                require_identity: self.require_identity_for_booking,
                // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
                change_deadline: time::Duration::seconds(self.change_deadline_minutes.saturating_mul(60)),
                ..kabinet::AppointmentPolicy::default()
            },
            accounts: kabinet::AccountPolicy {
                // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
                password_reminder_after: time::Duration::seconds(self.password_reminder_days.saturating_mul(86_400)),
            },
            attachment: kabinet::AttachmentPolicy { voluntary_changes_per_year: self.attachment_changes_per_year },
            deadlines: kabinet::DeadlinePolicy {
                holidays: self.holidays.clone(),
                // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
                request_expiry: time::Duration::seconds(self.request_expiry_days.saturating_mul(86_400)),
            },
            ..kabinet::Config::default()
        };
        if let Some(clock) = &self.clock {
            c.clock = Arc::new(crate::host::PyClock::new(clock.clone_ref(py)));
        }
        if let Some(n) = &self.notifier {
            c.notifier = Some(Arc::new(crate::host::PyNotifier::new(n.clone_ref(py))));
        }
        if let Some(r) = &self.identity_registry {
            c.identity_registry = Some(Arc::new(crate::host::PyRegistry::new(r.clone_ref(py))));
        }
        if let Some(k) = &self.confirmer {
            c.confirmer = Some(Arc::new(crate::host::PyConfirmer::new(k.clone_ref(py))));
        }
        c
    }
}

delegate! {
    /// An open patient cabinet.
    class Cabinet(kabinet::Cabinet) via |cab, _l| cab.clone();
    /// Whether this deployment can serve: database, schema, keys, journal head, outbox.
    fn health() -> kabinet::Health;
    /// Counts of what the deployment holds (no personal data).
    fn stats() -> kabinet::Stats;
    /// The schema versions of the database and of this SDK.
    fn schema() -> kabinet::SchemaStatus;
    handles {
        /// Registration and confirmation (R1).
        accounts -> crate::accounts::Accounts = cab.accounts();
        /// Login, second factor, refresh, logout (R3, R5).
        auth -> crate::accounts::Auth = cab.auth();
    }
    extra {
    /// Opens the cabinet at `url` (`sqlite:///path.db` or `postgres://…`).
    #[staticmethod]
    #[pyo3(signature = (url, config = None))]
    fn open(py: Python<'_>, url: String, config: Option<&Bound<'_, Config>>) -> PyResult<Self> {
        let cfg = config.map(|c| c.get().to_core(py)).unwrap_or_default();
        let locale = cfg.locale;
        let inner = block_on(py, locale, async move { kabinet::Cabinet::open(&url, cfg).await })?;
        Ok(Cabinet::new(inner, locale))
    }

    /// A fresh in-memory SQLite cabinet with an ephemeral key, for tests and demos.
    #[staticmethod]
    #[pyo3(signature = (config = None))]
    fn open_in_memory(py: Python<'_>, config: Option<&Bound<'_, Config>>) -> PyResult<Self> {
        let cfg = config.map(|c| c.get().to_core(py)).unwrap_or_default();
        let locale = cfg.locale;
        let inner = block_on(py, locale, async move { kabinet::Cabinet::open("sqlite::memory:", cfg).await })?;
        Ok(Cabinet::new(inner, locale))
    }

    /// The signed-in context of an access token.
    fn session(
        &self,
        py: Python<'_>,
        access_token: String,
        device: &Bound<'_, crate::accounts::Device>,
    ) -> PyResult<crate::accounts::Me> {
        let (cab, d) = (self.inner.clone(), device.get().clone());
        let me = block_on(py, self.locale, async move { cab.session(&access_token, &d).await })?;
        Ok(crate::accounts::Me::new(me, self.locale))
    }

    /// Runs the due jobs once; returns their counts (see `JobsReport` in the docs).
    fn run_due_jobs(&self, py: Python<'_>) -> PyResult<std::collections::HashMap<&'static str, u64>> {
        let cab = self.inner.clone();
        let r = block_on(py, self.locale, async move { cab.run_due_jobs().await })?;
        Ok([
            ("delivered", r.delivered),
            ("delivery_failures", r.delivery_failures),
            ("retries_scheduled", r.retries_scheduled),
            ("first_attempt_failures", r.first_attempt_failures),
            ("incidents_raised", r.incidents_raised),
            ("incidents_blocked", r.incidents_blocked),
            ("reminders_queued", r.reminders_queued),
            ("requests_purged", r.requests_purged),
        ]
        .into_iter()
        .collect())
    }

    /// The operator context for trusted host code.
    fn system(&self) -> SystemContext {
        SystemContext::new(self.inner.system(), self.locale)
    }

    /// `"sqlite"` or `"postgres"`.
    #[getter]
    fn backend(&self) -> &'static str {
        self.inner.backend().name()
    }

    /// Closes the database pool.
    fn close(&self, py: Python<'_>) -> PyResult<()> {
        let inner = self.inner.clone();
        block_on(py, self.locale, async move {
            inner.close().await;
            Ok(())
        })
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(&self, py: Python<'_>, _a: Py<PyAny>, _b: Py<PyAny>, _c: Py<PyAny>) -> PyResult<bool> {
        self.close(py)?;
        Ok(false)
    }

    fn __repr__(&self) -> String {
        format!("Cabinet(backend={:?})", self.inner.backend().name())
    }
    }
}

delegate! {
    /// Operator access: `patients`, `keys`.
    class SystemContext(kabinet::SystemContext) via |sys, _l| sys.clone();
    handles {
        /// Patients' personal data.
        patients -> crate::patients::Patients = sys.patients();
        /// The clinic directory (regions, clinics, practitioners).
        directory -> crate::booking::DirectoryAdmin = sys.directory();
        /// Schedules: `open_slots(...)`.
        schedule -> crate::booking::DirectoryAdmin = sys.directory();
        /// FHIR R4 import and export.
        fhir -> crate::documents::SystemFhir = sys.fhir();
        /// Staff accounts: `create(...)`.
        staff -> crate::booking::SystemStaff = sys.staff();
        /// Account migration from existing systems.
        accounts -> crate::accounts::SystemAccounts = sys.accounts();
        /// The registry of certificate kinds.
        certificates -> crate::documents::SystemCertificates = sys.certificates();
        /// The signed journal.
        audit -> crate::audit::Audit = sys.audit();
        /// Key management.
        keys -> Keys = sys.keys();
    }
}

delegate! {
    /// Key management.
    class Keys(kabinet::Keys) via |k, _l| k.clone();
    /// Rotates the key-encryption key and re-wraps every data key (data is not re-encrypted).
    fn rotate() -> KeyRotationReport;
}
