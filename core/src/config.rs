//! What the host gives Kabinet: database pool size, key provider, clock, notifier, identity
//! registry, language and password-hashing parameters.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::crypto::KeyProvider;
use crate::error::code::{ErrorCode, ErrorKind};
use crate::i18n::Locale;
use crate::integrations::{IdentityRegistry, Notifier};

/// The source of time. Nothing in Kabinet calls `now()` directly; tests inject a clock.
pub trait Clock: Send + Sync {
    /// The current time in UTC.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// Argon2id parameters for password hashes (default: OWASP m = 19456 KiB, t = 2, p = 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash, subclass))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct Argon2Params {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u32,
}

impl Default for Argon2Params {
    fn default() -> Self {
        Argon2Params { memory_kib: 19_456, iterations: 2, parallelism: 1 }
    }
}

impl Argon2Params {
    /// Checks the parameters against Argon2's limits and a floor for security.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let ok = self.memory_kib >= 8 * self.parallelism.max(1)
            && self.memory_kib >= 4096
            && (1..=16).contains(&self.iterations)
            && (1..=16).contains(&self.parallelism);
        if ok { Ok(()) } else { Err(ConfigError::Argon2) }
    }
}

/// How to open a cabinet. Every field has a sensible default.
#[derive(Clone)]
pub struct Config {
    /// Supplies the key-encryption key. `None`: a key file next to a SQLite database
    /// (`<db>.keys`), an ephemeral key for in-memory databases; required for PostgreSQL.
    pub key_provider: Option<Arc<dyn KeyProvider>>,
    /// Time source.
    pub clock: Arc<dyn Clock>,
    /// Delivers messages (R14). `None`: messages stay in the outbox.
    pub notifier: Option<Arc<dyn Notifier>>,
    /// Checks identities against state registries (R2).
    pub identity_registry: Option<Arc<dyn IdentityRegistry>>,
    /// Host confirmation methods (electronic signature, app code) besides the SMS code.
    pub confirmer: Option<Arc<dyn crate::integrations::Confirmer>>,
    /// Default language of user-facing texts.
    pub locale: Locale,
    /// Password hashing parameters.
    pub password_hashing: Argon2Params,
    /// Maximum pooled database connections.
    pub max_connections: u32,
    /// Session and token lifetimes.
    pub sessions: SessionPolicy,
    /// Booking rules: change deadline, reminder lead time, identity requirement (R8).
    pub appointments: AppointmentPolicy,
    /// Account rules: the password-change reminder (R4).
    pub accounts: AccountPolicy,
    /// Attachment rules: voluntary changes of clinic per year (R11).
    pub attachment: AttachmentPolicy,
    /// Deadlines: the working calendar's holidays, when unfinished requests expire (R12, R13).
    pub deadlines: DeadlinePolicy,
    /// Largest document accepted (default 20 MiB, S3).
    pub document_max_bytes: usize,
    /// Whether opening may migrate the schema (default `Auto`); `Check` refuses an outdated
    /// schema with `schema.outdated`. A schema newer than the SDK is refused in both modes.
    pub migrate: MigrationMode,
}

crate::sets::closed_set! {
    /// Whether [`crate::Cabinet::open`] may migrate the database schema.
    pub enum MigrationMode in "migrate" {
        /// Apply pending migrations (processes opening at once take turns).
        Auto = "auto",
        /// Never change the schema: an outdated one is `ConfigError` `schema.outdated`.
        Check = "check",
    }
}

/// Booking rules of a deployment (R8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppointmentPolicy {
    /// Visits can be changed or cancelled until this long before they start (default 2 h).
    pub change_deadline: time::Duration,
    /// The reminder goes out this long before the visit (default 24 h).
    pub reminder_before: time::Duration,
    /// Whether booking needs a confirmed identity (R2; default yes).
    pub require_identity: bool,
}

impl Default for AppointmentPolicy {
    fn default() -> Self {
        AppointmentPolicy {
            change_deadline: time::Duration::hours(2),
            reminder_before: time::Duration::hours(24),
            require_identity: true,
        }
    }
}

/// Account rules of a deployment (R4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AccountPolicy {
    /// A person whose password is this old is reminded to change it, once per such period
    /// (default 180 days, from 1 day to 10 years).
    pub password_reminder_after: time::Duration,
}

impl Default for AccountPolicy {
    fn default() -> Self {
        AccountPolicy { password_reminder_after: time::Duration::days(180) }
    }
}

/// Attachment rules of a deployment (R11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttachmentPolicy {
    /// Voluntary changes of clinic a person may make in any 365 days (default 1, from 0 to
    /// 12); a change of residence allows one more each time. The first attachment is not a
    /// change.
    pub voluntary_changes_per_year: u32,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        AttachmentPolicy { voluntary_changes_per_year: 1 }
    }
}

/// Deadlines of a deployment (R12, R13).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlinePolicy {
    /// Days off besides Saturdays and Sundays (public holidays): a correction request is due
    /// by the end of the next working day (at most 1,000 dates).
    pub holidays: Vec<time::Date>,
    /// A request not completed this long after its last change is closed as expired, and
    /// then kept five years like a completed one (default 365 days, 1 day to 10 years).
    pub request_expiry: time::Duration,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        DeadlinePolicy { holidays: Vec::new(), request_expiry: time::Duration::days(365) }
    }
}

/// Lifetimes of tokens and sessions (R5, ASVS 7.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Lifetime of an access token (default 15 minutes).
    pub access_token_ttl: time::Duration,
    /// A session unused this long expires (default 30 minutes).
    pub idle_timeout: time::Duration,
    /// A session ends this long after login whatever happens (default 12 hours).
    pub absolute_timeout: time::Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            access_token_ttl: time::Duration::minutes(15),
            idle_timeout: time::Duration::minutes(30),
            absolute_timeout: time::Duration::hours(12),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            key_provider: None,
            clock: Arc::new(SystemClock),
            notifier: None,
            identity_registry: None,
            confirmer: None,
            locale: Locale::Ru,
            password_hashing: Argon2Params::default(),
            max_connections: 8,
            sessions: SessionPolicy::default(),
            appointments: AppointmentPolicy::default(),
            accounts: AccountPolicy::default(),
            attachment: AttachmentPolicy::default(),
            deadlines: DeadlinePolicy::default(),
            document_max_bytes: 20 * 1024 * 1024,
            migrate: MigrationMode::Auto,
        }
    }
}

impl Config {
    /// Checks every setting against the range Kabinet accepts, so that no later arithmetic
    /// on a setting can overflow: done by [`crate::Cabinet::open`].
    pub fn validate(&self) -> Result<(), ConfigError> {
        use time::Duration as D;
        self.password_hashing.validate()?;
        let within = |field: &'static str, v: D, lo: D, hi: D| {
            if v >= lo && v <= hi { Ok(()) } else { Err(ConfigError::OutOfRange { field }) }
        };
        within("sessions.access_token_ttl", self.sessions.access_token_ttl, D::seconds(10), D::hours(24))?;
        within("sessions.idle_timeout", self.sessions.idle_timeout, D::minutes(1), D::days(30))?;
        within("sessions.absolute_timeout", self.sessions.absolute_timeout, D::minutes(1), D::days(90))?;
        within("appointments.change_deadline", self.appointments.change_deadline, D::ZERO, D::days(30))?;
        within("appointments.reminder_before", self.appointments.reminder_before, D::minutes(1), D::days(30))?;
        let reminder = self.accounts.password_reminder_after;
        within("accounts.password_reminder_after", reminder, D::days(1), D::days(3653))?;
        within("deadlines.request_expiry", self.deadlines.request_expiry, D::days(1), D::days(3653))?;
        if self.deadlines.holidays.len() > 1000 {
            return Err(ConfigError::OutOfRange { field: "deadlines.holidays" });
        }
        if self.attachment.voluntary_changes_per_year > 12 {
            return Err(ConfigError::OutOfRange { field: "attachment.voluntary_changes_per_year" });
        }
        if !(1..=1000).contains(&self.max_connections) {
            return Err(ConfigError::OutOfRange { field: "max_connections" });
        }
        if !(1..=1 << 30).contains(&self.document_max_bytes) {
            return Err(ConfigError::OutOfRange { field: "document_max_bytes" });
        }
        Ok(())
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("key_provider", &self.key_provider.as_ref().map(|_| "<provider>"))
            .field("notifier", &self.notifier.is_some())
            .field("identity_registry", &self.identity_registry.is_some())
            .field("confirmer", &self.confirmer.is_some())
            .field("locale", &self.locale)
            .field("password_hashing", &self.password_hashing)
            .field("max_connections", &self.max_connections)
            .field("migrate", &self.migrate)
            .finish_non_exhaustive()
    }
}

/// The configuration is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The database URL is not usable.
    #[error("invalid database URL: {reason}")]
    Url {
        /// What is wrong with it (never the URL itself, which may hold a password).
        reason: &'static str,
    },
    /// A PostgreSQL deployment needs an explicit key provider.
    #[error("a key provider is required for this database")]
    KeyProviderRequired,
    /// Unsupported locale.
    #[error("unsupported locale")]
    Locale,
    /// Argon2 parameters out of range.
    #[error("invalid Argon2 parameters")]
    Argon2,
    /// A setting is outside the range Kabinet accepts.
    #[error("setting out of range: {field}")]
    OutOfRange {
        /// The setting, e.g. `appointments.change_deadline`.
        field: &'static str,
    },
    /// A host object (notifier, clock, identity registry) lacks its method or offers an
    /// `async` one: Kabinet calls host callbacks synchronously and would never await it.
    #[error("host callback unusable: {what}")]
    HostCallback {
        /// The callback, e.g. `notifier.deliver`.
        what: &'static str,
    },
    /// Kabinet was started in a process that then forked; the child cannot use it (its
    /// threads and connections stayed with the parent). Open Kabinet after `fork()`.
    #[error("Kabinet was started before this process forked")]
    Forked,
    /// The database's schema is older than this SDK and migrating was not allowed
    /// ([`MigrationMode::Check`]): run `kabinet migrate` (or open with `Auto`).
    #[error("the database schema is outdated (database {database}, SDK {sdk})")]
    SchemaOutdated {
        /// The newest migration the database has applied.
        database: i64,
        /// The newest migration this SDK knows.
        sdk: i64,
    },
    /// The database's schema is newer than this SDK (another deployment upgraded it): this
    /// SDK refuses to use it in any mode rather than misread it.
    #[error("the database schema is newer than this SDK (database {database}, SDK {sdk})")]
    SchemaNewer {
        /// The newest migration the database has applied.
        database: i64,
        /// The newest migration this SDK knows.
        sdk: i64,
    },
}

impl ErrorCode for ConfigError {
    fn code(&self) -> &'static str {
        match self {
            ConfigError::Url { .. } => "config.url",
            ConfigError::KeyProviderRequired => "config.key_provider_required",
            ConfigError::Locale => "config.locale",
            ConfigError::Argon2 => "config.argon2",
            ConfigError::OutOfRange { .. } => "config.out_of_range",
            ConfigError::HostCallback { .. } => "config.host_callback",
            ConfigError::Forked => "config.forked",
            ConfigError::SchemaOutdated { .. } => "schema.outdated",
            ConfigError::SchemaNewer { .. } => "schema.newer",
        }
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}
