//! Opening a cabinet (async builder) and the operator context.

use kabinet_ffi_guard::guard;
use std::sync::{Arc, Mutex};

use kabinet::Locale;

pub use kabinet::{JobsReport, KeyRotationReport};

use crate::delegate::delegate;
use crate::error::IntoFfi;
use crate::{KabinetError, Patients};

/// Which key provider the builder uses.
#[derive(Clone)]
enum KeyChoice {
    Default,
    File(String),
    Passphrase(String),
    Ephemeral,
}

#[derive(Clone)]
struct Settings {
    url: String,
    key: KeyChoice,
    locale: Locale,
    max_connections: u32,
    notifier: Option<Arc<dyn crate::Notifier>>,
    registry: Option<Arc<dyn crate::IdentityRegistry>>,
    confirmer: Option<Arc<dyn crate::Confirmer>>,
    accounts: kabinet::AccountPolicy,
    attachment: kabinet::AttachmentPolicy,
    deadlines: kabinet::DeadlinePolicy,
    argon2: kabinet::Argon2Params,
    appointments: kabinet::AppointmentPolicy,
    migrate: kabinet::MigrationMode,
}

/// Builds a [`Cabinet`]: set the key provider and language, then `build()` (async).
#[derive(uniffi::Object)]
pub struct CabinetBuilder {
    settings: Mutex<Settings>,
}

impl CabinetBuilder {
    fn update(self: Arc<Self>, f: impl FnOnce(&mut Settings)) -> Arc<Self> {
        f(&mut self.settings.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
        self
    }
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl CabinetBuilder {
    /// A builder for the database at `url` (`sqlite:///path.db` or `postgres://…`).
    #[uniffi::constructor]
    pub fn new(url: String) -> Arc<Self> {
        Arc::new(CabinetBuilder {
            settings: Mutex::new(Settings {
                url,
                key: KeyChoice::Default,
                locale: Locale::Ru,
                max_connections: 8,
                notifier: None,
                registry: None,
                confirmer: None,
                accounts: kabinet::AccountPolicy::default(),
                attachment: kabinet::AttachmentPolicy::default(),
                deadlines: kabinet::DeadlinePolicy::default(),
                argon2: kabinet::Argon2Params::default(),
                appointments: kabinet::AppointmentPolicy::default(),
                migrate: kabinet::MigrationMode::Auto,
            }),
        })
    }

    /// Keys from a local key file (created with mode 0600 on first use).
    pub fn key_file(self: Arc<Self>, path: String) -> Arc<Self> {
        self.update(|s| s.key = KeyChoice::File(path))
    }

    /// Keys derived from a passphrase (Argon2id).
    pub fn passphrase(self: Arc<Self>, passphrase: String) -> Arc<Self> {
        self.update(|s| s.key = KeyChoice::Passphrase(passphrase))
    }

    /// A random in-memory key: data is unreadable after the process ends.
    pub fn ephemeral_key(self: Arc<Self>) -> Arc<Self> {
        self.update(|s| s.key = KeyChoice::Ephemeral)
    }

    /// Language of messages: `"ru"` or `"en"`.
    pub fn locale(self: Arc<Self>, tag: String) -> Result<Arc<Self>, KabinetError> {
        let locale = Locale::parse(&tag)
            .ok_or_else(|| KabinetError::from_core(kabinet::ConfigError::Locale.into(), Locale::En))?;
        Ok(self.update(|s| s.locale = locale))
    }

    /// The app's message delivery (SMS, e-mail, push).
    pub fn notifier(self: Arc<Self>, notifier: Arc<dyn crate::Notifier>) -> Arc<Self> {
        self.update(|s| s.notifier = Some(notifier))
    }

    /// The app's bridge to the state identity registries (R2).
    pub fn identity_registry(self: Arc<Self>, registry: Arc<dyn crate::IdentityRegistry>) -> Arc<Self> {
        self.update(|s| s.registry = Some(registry))
    }

    /// The app's confirmation methods besides the SMS code (electronic signature, app code).
    pub fn confirmer(self: Arc<Self>, confirmer: Arc<dyn crate::Confirmer>) -> Arc<Self> {
        self.update(|s| s.confirmer = Some(confirmer))
    }

    /// Argon2id parameters for password hashes (default m = 19456 KiB, t = 2, p = 1).
    pub fn password_hashing(self: Arc<Self>, memory_kib: u32, iterations: u32, parallelism: u32) -> Arc<Self> {
        self.update(|s| s.argon2 = kabinet::Argon2Params { memory_kib, iterations, parallelism })
    }

    /// Booking rules (R8): whether booking needs a confirmed identity (default yes), and
    /// until how many minutes before a visit it can be changed or cancelled (default 120).
    pub fn appointment_policy(self: Arc<Self>, require_identity: bool, change_deadline_minutes: i64) -> Arc<Self> {
        self.update(|s| {
            s.appointments = kabinet::AppointmentPolicy {
                require_identity,
                // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
                change_deadline: time::Duration::seconds(change_deadline_minutes.saturating_mul(60)),
                ..kabinet::AppointmentPolicy::default()
            }
        })
    }

    /// A password this many days old brings a reminder to change it, once per such period
    /// (R4; default 180, from 1 to 3653).
    pub fn password_reminder_days(self: Arc<Self>, days: i64) -> Arc<Self> {
        self.update(|s| {
            // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
            s.accounts =
                kabinet::AccountPolicy { password_reminder_after: time::Duration::seconds(days.saturating_mul(86_400)) }
        })
    }

    /// Voluntary changes of clinic a person may make in 365 days (R11; default 1, 0 to 12).
    pub fn attachment_changes_per_year(self: Arc<Self>, n: u32) -> Arc<Self> {
        self.update(|s| s.attachment = kabinet::AttachmentPolicy { voluntary_changes_per_year: n })
    }

    /// Days off besides weekends, for the deadlines of correction requests (R12).
    pub fn holidays(self: Arc<Self>, days: Vec<time::Date>) -> Arc<Self> {
        self.update(|s| s.deadlines.holidays = days)
    }

    /// Days after which a request nobody completed is closed as expired (R13; default 365).
    pub fn request_expiry_days(self: Arc<Self>, days: i64) -> Arc<Self> {
        // Saturating: an absurd value reaches `Config::validate` as out of range, never a panic.
        self.update(|s| s.deadlines.request_expiry = time::Duration::seconds(days.saturating_mul(86_400)))
    }

    /// Whether opening may migrate the schema: `AUTO` (default) or `CHECK`, which refuses an
    /// outdated schema with `schema.outdated`. A newer schema is refused in both.
    pub fn migrate(self: Arc<Self>, mode: kabinet::MigrationMode) -> Arc<Self> {
        self.update(|s| s.migrate = mode)
    }

    /// Maximum pooled connections.
    pub fn max_connections(self: Arc<Self>, n: u32) -> Arc<Self> {
        self.update(|s| s.max_connections = n)
    }

    /// Opens the cabinet.
    pub async fn build(&self) -> Result<Arc<Cabinet>, KabinetError> {
        let s = self.settings.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let err = |e: kabinet::Error| KabinetError::from_core(e, s.locale);
        let key_provider: Option<Arc<dyn kabinet::KeyProvider>> = match &s.key {
            KeyChoice::Default => None,
            KeyChoice::File(p) => {
                Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(p).map_err(|e| err(e.into()))?))
            }
            KeyChoice::Passphrase(p) => {
                Some(Arc::new(kabinet::crypto::PassphraseKeyProvider::new(p).map_err(|e| err(e.into()))?))
            }
            KeyChoice::Ephemeral => Some(Arc::new(kabinet::crypto::EphemeralKeyProvider::new())),
        };
        let notifier = s
            .notifier
            .clone()
            .map(|n| Arc::new(crate::accounts::ForeignNotifier(n)) as Arc<dyn kabinet::integrations::Notifier>);
        let identity_registry = s
            .registry
            .clone()
            .map(|r| Arc::new(crate::identity::ForeignRegistry(r)) as Arc<dyn kabinet::integrations::IdentityRegistry>);
        let confirmer = s
            .confirmer
            .clone()
            .map(|c| Arc::new(crate::identity::ForeignConfirmer(c)) as Arc<dyn kabinet::integrations::Confirmer>);
        let config = kabinet::Config {
            key_provider,
            notifier,
            identity_registry,
            confirmer,
            locale: s.locale,
            max_connections: s.max_connections,
            password_hashing: s.argon2,
            appointments: s.appointments,
            accounts: s.accounts,
            attachment: s.attachment,
            deadlines: s.deadlines,
            migrate: s.migrate,
            ..Default::default()
        };
        let inner = kabinet::Cabinet::open(&s.url, config).await.map_err(err)?;
        Ok(Arc::new(Cabinet::new(inner, s.locale)))
    }
}

/// A fresh in-memory cabinet with an ephemeral key, for tests and demos.
#[guard]
#[uniffi::export(async_runtime = "tokio")]
pub async fn open_in_memory() -> Result<Arc<Cabinet>, KabinetError> {
    let inner = kabinet::Cabinet::open_in_memory().await.ffi(Locale::Ru)?;
    Ok(Arc::new(Cabinet::new(inner, Locale::Ru)))
}

delegate! {
    /// An open cabinet.
    class Cabinet(inner: kabinet::Cabinet) via |h| h;
    /// Whether this deployment can serve: database, schema, keys, journal head, outbox.
    fn health() -> kabinet::Health;
    /// Counts of what the deployment holds (no personal data).
    fn stats() -> kabinet::Stats;
    /// The schema versions of the database and of this SDK.
    fn schema() -> kabinet::SchemaStatus;
    /// One pass of the due jobs: outbox delivery, visit and vaccination reminders, incident
    /// checks, retention; returns what each did.
    fn run_due_jobs() -> JobsReport;
    handles {
        /// The operator context for trusted host code.
        system -> SystemContext = h.system();
        /// Registration and confirmation (R1).
        accounts -> crate::Accounts = h.accounts();
        /// Login, second factor, refresh, logout (R3, R5).
        auth -> crate::Auth = h.auth();
    }
    extra {
    /// The signed-in context of an access token.
    pub async fn session(
        &self,
        access_token: String,
        device: crate::Device,
    ) -> Result<Arc<crate::Me>, KabinetError> {
        let me = self.inner.session(&access_token, &device).await.ffi(self.locale)?;
        Ok(Arc::new(crate::Me::new(me, self.locale)))
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend(&self) -> String {
        self.inner.backend().name().to_owned()
    }

    /// Closes the database pool. Kotlin sees it as `shutdown()` (`bindings-uniffi/uniffi.toml`):
    /// there `close()` is `AutoCloseable.close`, which frees the native handle.
    pub async fn close(&self) {
        self.inner.close().await;
    }
    }
}

// A mirror: the core's report counts in `BTreeMap`s, which UniFFI does not carry.
/// What a FHIR import did, by resource type.
#[derive(uniffi::Record)]
#[allow(missing_docs)]
pub struct FhirImportReport {
    pub created: std::collections::HashMap<String, u64>,
    pub unchanged: std::collections::HashMap<String, u64>,
    pub unsupported: std::collections::HashMap<String, u64>,
    pub patient_ids: Vec<String>,
    /// One line per entry, in input order.
    pub entries: Vec<kabinet::ImportedEntry>,
}

delegate! {
    /// Operator access.
    class SystemContext(inner: kabinet::SystemContext) via |h| h;
    handles {
        /// Patients' personal data.
        patients -> Patients = h.patients();
        /// The clinic directory (regions, clinics, practitioners) and schedules.
        directory -> crate::DirectoryAdmin = h.directory();
        /// Schedules: `openSlots(...)` (the same object as `directory()`).
        schedule -> crate::DirectoryAdmin = h.directory();
        /// FHIR R4 import and export.
        fhir -> SystemFhir = h.fhir();
        /// Staff accounts (always with TOTP).
        staff -> crate::SystemStaff = h.staff();
        /// Account migration from existing systems.
        accounts -> crate::SystemAccounts = h.accounts();
        /// The registry of certificate kinds (R10).
        certificates -> crate::SystemCertificates = h.certificates();
        /// The signed journal.
        audit -> crate::Audit = h.audit();
        /// Key management.
        keys -> Keys = h.keys();
    }
}

impl From<kabinet::ImportReport> for FhirImportReport {
    fn from(r: kabinet::ImportReport) -> Self {
        FhirImportReport {
            created: r.created.into_iter().collect(),
            unchanged: r.unchanged.into_iter().collect(),
            unsupported: r.unsupported.into_iter().collect(),
            patient_ids: r.patient_ids,
            entries: r.entries,
        }
    }
}

// Only getters: no async method, so no `async_runtime`.

delegate! {
    /// FHIR R4 import and export for the operator.
    class SystemFhir(inner: kabinet::SystemFhir) via |h| h;
    /// A patient's record as a FHIR R4 Bundle (JSON text).
    fn export_patient(patient_id: String) -> String;
    extra {
    /// Imports a Bundle (transaction, batch, collection) or a single resource, as JSON text;
    /// returns the counts by resource type. `source` names the sending system its ids belong
    /// to (default: `Bundle.meta.source`; see the core's FHIR notes).
    #[uniffi::method(default(source = None))]
    pub async fn import_bundle(&self, json: String, source: Option<String>) -> Result<FhirImportReport, KabinetError> {
        let r = match source {
            Some(s) => self.inner.import_bundle_from(&json, &s).await,
            None => self.inner.import_bundle(&json).await,
        };
        Ok(r.ffi(self.locale)?.into())
    }

    /// Imports a Bundle or resource from a JSON file (`source` as for `importBundle`).
    #[uniffi::method(default(source = None))]
    pub async fn import_file(&self, path: String, source: Option<String>) -> Result<FhirImportReport, KabinetError> {
        let r = self.inner.import_file_from(&path, source.as_deref()).await.ffi(self.locale)?;
        Ok(r.into())
    }
    }
}

delegate! {
    /// Key management.
    class Keys(inner: kabinet::Keys) via |h| h;
    /// Rotates the key-encryption key and re-wraps every data key (data is not re-encrypted).
    fn rotate() -> KeyRotationReport;
}
