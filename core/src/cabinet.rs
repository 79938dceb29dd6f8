//! The entry point: [`Cabinet::open`] returns the handle through which everything is reached.

use std::sync::Arc;

use time::OffsetDateTime;

use crate::audit::{Audit, AuditContext, Journal};
use crate::config::Config;
use crate::crypto::keyring::{Keyring, SystemKey};
use crate::crypto::{BlindIndexer, EphemeralKeyProvider, KeyProvider, KeyRotationReport, LocalFileKeyProvider};
use crate::error::Result;
use crate::i18n::Locale;
use crate::patients::Patients;
use crate::store::{Backend, Conn, Store};
use crate::timeutil::to_micros;

struct Inner {
    store: Store,
    config: Config,
    keyring: Keyring,
    blind: BlindIndexer,
    journal: Journal,
    // The components that hold the deployment's secret keys; no other module sees a key.
    codes: crate::auth::codes::Codes,
    outbox: crate::notify::Outbox,
    credentials: crate::crypto::Sealer,
    tokens: crate::auth::tokens::TokenSigner,
    /// Signs shared document packages with the journal's Ed25519 key (domain-separated).
    packages: crate::documents::share::PackageSigner,
    passwords: Arc<crate::auth::password::PasswordHasher>,
}

/// What [`Cabinet::backup`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// Size of the copy.
    pub bytes: u64,
    /// The journal head signed before the copy began (none for an empty journal): keep it
    /// apart from the copy, to check the restored journal against.
    pub head: Option<crate::audit::SignedTreeHead>,
}

/// What one pass of [`Cabinet::run_due_jobs`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct JobsReport {
    /// Messages delivered.
    pub delivered: u64,
    /// Deliveries tried in this pass that failed and will be retried.
    pub delivery_failures: u64,
    /// Undelivered messages whose last attempt failed and that wait for a retry, counted
    /// after this pass — including those that failed when first sent inside the call that
    /// queued them (a notifier that raised), which this pass did not retry yet.
    pub retries_scheduled: u64,
    /// Of `retries_scheduled`, those whose first and only attempt so far failed.
    pub first_attempt_failures: u64,
    /// Incidents raised for an unusual rate of data access (R6).
    pub incidents_raised: u64,
    /// Incidents left unconfirmed past 30 minutes: their accounts' sessions were blocked.
    pub incidents_blocked: u64,
    /// Reminders queued: visits a day before (R8), vaccinations due within a week (R14),
    /// password changes due (R4).
    pub reminders_queued: u64,
    /// Requests purged 5 years after completion (R13).
    pub requests_purged: u64,
}

/// An open patient cabinet: a database, its keys and the host's integrations.
/// Cheap to clone; clones share one pool.
#[derive(Clone)]
pub struct Cabinet {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Cabinet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cabinet").field("backend", &self.inner.store.backend()).finish_non_exhaustive()
    }
}

impl Cabinet {
    /// Opens (creating if needed) the cabinet at `url`: `sqlite:///path/file.db`,
    /// `sqlite::memory:` or `postgres://user@host/db`. Runs migrations, then checks that
    /// the key provider opens the deployment's keys: a wrong key is a typed error, not a
    /// panic or garbage.
    pub async fn open(url: &str, config: Config) -> Result<Cabinet> {
        let started = std::time::Instant::now();
        let opened = Self::open_inner(url, config).await;
        match &opened {
            Ok(cab) => tracing::info!(
                target: "kabinet",
                backend = cab.backend().name(),
                elapsed_ms = started.elapsed().as_millis() as u64,
                "cabinet opened"
            ),
            Err(e) => tracing::warn!(target: "kabinet", code = crate::error::ErrorCode::code(e), "cabinet not opened"),
        }
        opened
    }

    async fn open_inner(url: &str, config: Config) -> Result<Cabinet> {
        let url = crate::store::parse_url(url)?;
        config.validate()?;
        if config.key_provider.is_none() && url.sqlite_path().is_none() && !url.is_memory() {
            return Err(crate::config::ConfigError::KeyProviderRequired.into());
        }
        // The schema first: a refused schema (check mode, or newer than this SDK) leaves
        // nothing behind, not even a new key file.
        let store = Store::open(&url, config.max_connections, config.migrate).await?;
        let provider: Arc<dyn KeyProvider> = match (&config.key_provider, url.sqlite_path()) {
            (Some(p), _) => p.clone(),
            (None, Some(path)) => {
                let mut keys = path.as_os_str().to_owned();
                keys.push(".keys");
                Arc::new(LocalFileKeyProvider::open(std::path::PathBuf::from(keys))?)
            }
            (None, None) => Arc::new(EphemeralKeyProvider::new()),
        };
        let keyring = Keyring::new(provider);
        let now = to_micros(config.clock.now());
        let blind = BlindIndexer::new(keyring.system_key(&store, SystemKey::BlindIndex, now).await?);
        let audit_seed = keyring.system_key(&store, SystemKey::AuditSigning, now).await?;
        let signer = crate::audit::HeadSigner::new(&audit_seed);
        let package_key = ed25519_dalek::SigningKey::from_bytes(audit_seed.expose());
        let journal = Journal::new(signer, store.backend());
        let code_key = keyring.system_key(&store, SystemKey::Codes, now).await?;
        let outbox_key = keyring.system_key(&store, SystemKey::Outbox, now).await?;
        let credentials_key = keyring.system_key(&store, SystemKey::Credentials, now).await?;
        let token_key = ed25519_dalek::SigningKey::from_bytes(
            keyring.system_key(&store, SystemKey::TokenSigning, now).await?.expose(),
        );
        let passwords = Arc::new(crate::auth::password::PasswordHasher::new(config.password_hashing));
        let inner = Inner {
            store,
            config,
            keyring,
            blind,
            journal,
            codes: crate::auth::codes::Codes::new(code_key),
            outbox: crate::notify::Outbox::new(outbox_key),
            credentials: crate::crypto::Sealer::new(credentials_key),
            tokens: crate::auth::tokens::TokenSigner::new(token_key),
            packages: crate::documents::share::PackageSigner::new(package_key),
            passwords,
        };
        Ok(Cabinet { inner: Arc::new(inner) })
    }

    /// Writes a consistent copy of a SQLite database to `out` (which must not exist; created
    /// readable by its owner only) while the cabinet stays in use, and returns the journal
    /// head signed before the copy began: keep it somewhere else, and check a restored copy
    /// with `system().audit().verify_against(&head)`. The keys are not in the copy: back up
    /// the key file or provider separately. PostgreSQL: `backup.use_pg_dump`.
    pub async fn backup(&self, out: &std::path::Path) -> Result<crate::Backup> {
        // The head first: the copy then holds at least the entries it covers.
        let head = self.system().audit().latest_head().await?;
        let bytes = self.inner.store.backup_into(out).await?;
        Ok(crate::Backup { bytes, head })
    }

    /// Whether this deployment can serve (issue 13): database, schema, keys, journal head,
    /// outbox backlog. Never fails because a check did: failed checks are in `problems`.
    pub async fn health(&self) -> Result<crate::health::Health> {
        crate::health::check(self).await
    }

    /// Counts of what the deployment holds (no personal data); the same as the operator's
    /// `system().stats()`.
    pub async fn stats(&self) -> Result<crate::stats::Stats> {
        crate::stats::collect(self).await
    }

    /// The schema versions of the database and of this SDK (after `open`, current unless
    /// another process has since migrated the database further).
    pub async fn schema(&self) -> Result<crate::store::SchemaStatus> {
        self.inner.store.schema().await
    }

    /// A fresh in-memory SQLite cabinet with an ephemeral key: for tests and demos.
    pub async fn open_in_memory() -> Result<Cabinet> {
        Self::open("sqlite::memory:", Config::default()).await
    }

    /// The operator context, for trusted host code.
    pub fn system(&self) -> SystemContext {
        SystemContext { cab: self.clone() }
    }

    /// Which database engine this cabinet runs on.
    pub fn backend(&self) -> Backend {
        self.inner.store.backend()
    }

    /// The configured default language.
    pub fn locale(&self) -> Locale {
        self.inner.config.locale
    }

    /// Registration and account confirmation (R1).
    pub fn accounts(&self) -> crate::accounts::Accounts {
        crate::accounts::Accounts::new(self.clone())
    }

    /// Login, second factor, token refresh and logout (R3, R5).
    pub fn auth(&self) -> crate::auth::sessions::Auth {
        crate::auth::sessions::Auth::new(self.clone())
    }

    /// The signed-in context for an access token; fails for expired, revoked or blocked
    /// sessions.
    pub async fn session(&self, access_token: &str, device: &crate::auth::sessions::Device) -> Result<crate::me::Me> {
        crate::me::Me::open(self, access_token, device).await
    }

    /// Background work: expires incidents, queues visit reminders, purges requests past
    /// retention, delivers the outbox (with back-off). Safe to call from many
    /// processes at once: each message is claimed by exactly one.
    pub async fn run_due_jobs(&self) -> Result<JobsReport> {
        let started = std::time::Instant::now();
        let report = self.run_due_jobs_inner().await;
        let elapsed_ms = started.elapsed().as_millis() as u64;
        match &report {
            Ok(r) => tracing::info!(
                target: "kabinet::jobs",
                delivered = r.delivered,
                delivery_failures = r.delivery_failures,
                retries_scheduled = r.retries_scheduled,
                first_attempt_failures = r.first_attempt_failures,
                reminders_queued = r.reminders_queued,
                incidents_raised = r.incidents_raised,
                incidents_blocked = r.incidents_blocked,
                requests_purged = r.requests_purged,
                elapsed_ms,
                "due jobs ran"
            ),
            Err(e) => {
                tracing::warn!(target: "kabinet::jobs", code = crate::error::ErrorCode::code(e), elapsed_ms, "due jobs failed")
            }
        }
        report
    }

    async fn run_due_jobs_inner(&self) -> Result<JobsReport> {
        // Every stage runs even when an earlier one failed (one stage's trouble must not
        // stop, say, other people's codes from being delivered); the first error is returned
        // after all of them ran.
        let mut first_error = None;
        let mut keep = |r: Result<u64>| -> u64 {
            r.unwrap_or_else(|e| {
                first_error.get_or_insert(e);
                0
            })
        };
        let incidents_raised = keep(crate::auth::incidents::detect_unusual_access(self).await);
        let incidents_blocked = keep(crate::auth::incidents::expire(self).await);
        let reminders_queued = keep(crate::appointments::queue_reminders(self).await)
            + keep(crate::records::queue_vaccination_reminders(self).await)
            + keep(crate::accounts::queue_password_reminders(self).await);
        keep(crate::requests::expire_unfinished(self).await);
        let requests_purged = keep(crate::requests::purge_expired(self).await);
        keep(crate::records::notify_overdue_corrections(self).await);
        keep(crate::accounts::purge_pending(self).await);
        keep(crate::proxies::send_use_summaries(self).await);
        keep(crate::fhir::purge_abandoned_imports(self).await.map(|()| 0));
        let d = match crate::notify::deliver_due(self, 500).await {
            Ok(d) => d,
            Err(e) => {
                first_error.get_or_insert(e);
                crate::notify::DeliveryReport::default()
            }
        };
        // Last: the journal's subtree roots (its first pass over a large journal reads every
        // leaf once), after the deliveries people wait for.
        if let Err(e) = crate::audit::keep_subtrees(self).await {
            first_error.get_or_insert(e);
        }
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(JobsReport {
            delivered: d.delivered,
            delivery_failures: d.failed,
            retries_scheduled: d.retries_scheduled,
            first_attempt_failures: d.first_attempt_failures,
            incidents_raised,
            incidents_blocked,
            reminders_queued,
            requests_purged,
        })
    }

    /// Closes the database pool.
    pub async fn close(&self) {
        self.inner.store.close().await;
    }

    pub(crate) fn now(&self) -> OffsetDateTime {
        self.inner.config.clock.now()
    }
    pub(crate) fn store(&self) -> &Store {
        &self.inner.store
    }
    pub(crate) fn keyring(&self) -> &Keyring {
        &self.inner.keyring
    }
    pub(crate) fn blind_indexer(&self) -> &BlindIndexer {
        &self.inner.blind
    }
    pub(crate) fn journal(&self) -> &Journal {
        &self.inner.journal
    }
    /// Digests of one-time codes and tokens.
    pub(crate) fn codes(&self) -> &crate::auth::codes::Codes {
        &self.inner.codes
    }
    /// The outbox (messages sealed until delivered).
    pub(crate) fn outbox(&self) -> &crate::notify::Outbox {
        &self.inner.outbox
    }
    /// Sealing of credentials (TOTP secrets, pending changes).
    pub(crate) fn credentials(&self) -> &crate::crypto::Sealer {
        &self.inner.credentials
    }
    /// Sealing of shared packages.
    pub(crate) fn packages(&self) -> &crate::documents::share::PackageSigner {
        &self.inner.packages
    }
    /// Password hashing and verification.
    pub(crate) fn passwords(&self) -> &Arc<crate::auth::password::PasswordHasher> {
        &self.inner.passwords
    }
    pub(crate) fn document_max_bytes(&self) -> usize {
        self.inner.config.document_max_bytes
    }
    /// Signing and checking of access tokens.
    pub(crate) fn tokens(&self) -> &crate::auth::tokens::TokenSigner {
        &self.inner.tokens
    }
    pub(crate) fn notifier(&self) -> Option<&Arc<dyn crate::integrations::Notifier>> {
        self.inner.config.notifier.as_ref()
    }
    pub(crate) fn confirmer(&self) -> Option<&Arc<dyn crate::integrations::Confirmer>> {
        self.inner.config.confirmer.as_ref()
    }
    pub(crate) fn identity_registry(&self) -> Option<&Arc<dyn crate::integrations::IdentityRegistry>> {
        self.inner.config.identity_registry.as_ref()
    }
    pub(crate) fn session_policy(&self) -> crate::config::SessionPolicy {
        self.inner.config.sessions
    }
    pub(crate) fn deadline_policy(&self) -> &crate::config::DeadlinePolicy {
        &self.inner.config.deadlines
    }

    pub(crate) fn attachment_policy(&self) -> crate::config::AttachmentPolicy {
        self.inner.config.attachment
    }

    pub(crate) fn account_policy(&self) -> crate::config::AccountPolicy {
        self.inner.config.accounts
    }

    pub(crate) fn appointment_policy(&self) -> crate::config::AppointmentPolicy {
        self.inner.config.appointments
    }

    /// A message of `kind` in the cabinet's language, with `{code}` filled in.
    pub(crate) fn message(
        &self,
        patient_id: Option<&str>,
        kind: &'static str,
        channel: crate::integrations::Channel,
        recipient: &str,
        code: Option<&str>,
    ) -> crate::notify::Outgoing {
        self.message_with(patient_id, kind, channel, recipient, code, &[])
    }

    /// A message of `kind` with `{ $code }` and each variable of `args` filled in, in the
    /// cabinet's language.
    pub(crate) fn message_with(
        &self,
        patient_id: Option<&str>,
        kind: &'static str,
        channel: crate::integrations::Channel,
        recipient: &str,
        code: Option<&str>,
        args: &[(&str, String)],
    ) -> crate::notify::Outgoing {
        self.message_in(self.locale(), patient_id, kind, channel, recipient, code, args)
    }

    /// A message of `kind` in `locale`.
    #[allow(clippy::too_many_arguments)] // each argument is one part of the message
    pub(crate) fn message_in(
        &self,
        locale: Locale,
        patient_id: Option<&str>,
        kind: &'static str,
        channel: crate::integrations::Channel,
        recipient: &str,
        code: Option<&str>,
        args: &[(&str, String)],
    ) -> crate::notify::Outgoing {
        let mut all: Vec<(&str, String)> = args.to_vec();
        all.push(("code", code.unwrap_or("").to_owned()));
        crate::notify::Outgoing {
            patient_id: patient_id.map(str::to_owned),
            kind,
            channel,
            recipient: recipient.to_owned(),
            subject: crate::i18n::format(locale, &format!("msg.{kind}.subject"), &all),
            text: crate::i18n::format(locale, &format!("msg.{kind}.text"), &all),
            code: code.map(str::to_owned),
            platform: None,
        }
    }
}

/// Whether one item's failure in a background job must be skipped rather than stop the job
/// for everyone: the patient was erased (destroyed key), their data fails its integrity
/// check, or the record is gone. Storage and configuration errors still stop the job.
pub(crate) fn skippable(e: &crate::Error) -> bool {
    matches!(e, crate::Error::Crypto(_) | crate::Error::NotFound { .. })
}

/// Counts one job item: 1 if it was done, 0 if another process took it; an item that cannot
/// be done for its own data (see [`skippable`]) is journaled and settled by [`skip_item`]
/// and counts 0; any other error stops the job.
pub(crate) async fn tally(
    cab: &Cabinet,
    done: Result<bool>,
    job: &'static str,
    item_id: &str,
    settle: impl AsyncFnOnce(&mut Conn) -> Result<()>,
    now: i64,
) -> Result<u64> {
    match done {
        Ok(done) => Ok(u64::from(done)),
        Err(e) if skippable(&e) => skip_item(cab, job, item_id, settle, now).await.map(|()| 0),
        Err(e) => Err(e),
    }
}

/// Journals a skipped job item (outcome `failure`) and settles it with `settle` (the owning
/// area's storage call, run in the same transaction) so that it is not tried again on every run.
pub(crate) async fn skip_item(
    cab: &Cabinet,
    job: &'static str,
    item_id: &str,
    settle: impl AsyncFnOnce(&mut Conn) -> Result<()>,
    now: i64,
) -> Result<()> {
    let mut tx = cab.store().begin().await?;
    settle(&mut tx).await?;
    let access = crate::audit::Access {
        patient_id: None,
        action: crate::audit::Action::Update,
        resource_type: job,
        resource_id: Some(item_id),
    };
    cab.journal().record(&mut tx, &AuditContext::system(), access, crate::audit::Outcome::Failure, now).await?;
    tx.commit().await.map_err(crate::store::StorageError::from_sqlx)?;
    Ok(())
}

/// Operator access: directory, keys, patients, journal. For trusted host code only.
#[derive(Debug, Clone)]
pub struct SystemContext {
    cab: Cabinet,
}

impl SystemContext {
    /// Patients' personal data.
    pub fn patients(&self) -> Patients {
        Patients::new(self.cab.clone(), AuditContext::system())
    }

    /// The signed journal: verification, proofs, access histories, FHIR export.
    pub fn audit(&self) -> Audit {
        Audit::new(self.cab.clone())
    }

    /// The clinic directory and schedules: regions, clinics, practitioners, slots.
    pub fn directory(&self) -> crate::directory::DirectoryAdmin {
        crate::directory::DirectoryAdmin::new(self.cab.clone())
    }

    /// Schedules: the same operator handle as [`SystemContext::directory`], named as in the API.
    pub fn schedule(&self) -> crate::directory::DirectoryAdmin {
        self.directory()
    }

    /// FHIR R4 import and export.
    pub fn fhir(&self) -> crate::fhir::SystemFhir {
        crate::fhir::SystemFhir::new(self.cab.clone())
    }

    /// Staff accounts (always with TOTP).
    pub fn staff(&self) -> crate::staff::SystemStaff {
        crate::staff::SystemStaff::new(self.cab.clone())
    }

    /// The registry of certificate kinds (R10).
    pub fn certificates(&self) -> crate::certificates::SystemCertificates {
        crate::certificates::SystemCertificates::new(self.cab.clone())
    }

    /// Account migration from existing systems.
    pub fn accounts(&self) -> SystemAccounts {
        SystemAccounts { cab: self.cab.clone() }
    }

    /// Counts of what the deployment holds (no personal data).
    pub async fn stats(&self) -> Result<crate::stats::Stats> {
        crate::stats::collect(&self.cab).await
    }

    /// Key management.
    pub fn keys(&self) -> Keys {
        Keys { cab: self.cab.clone() }
    }
}

/// Operator account management.
#[derive(Debug, Clone)]
pub struct SystemAccounts {
    cab: Cabinet,
}

impl SystemAccounts {
    /// Imports an account with its old Argon2id or bcrypt hash (R4: replaced by Argon2id with
    /// this cabinet's parameters on the next successful login). Returns the account id and
    /// whether the old hash is weak (an operator may force a reset); a malformed hash, or one
    /// beyond sane bounds, is refused.
    pub async fn import_account(
        &self,
        legacy: crate::accounts::LegacyAccount,
    ) -> Result<crate::accounts::ImportedAccount> {
        crate::accounts::Accounts::new(self.cab.clone()).import(legacy).await
    }
}

/// Key management for the operator (S2).
#[derive(Debug, Clone)]
pub struct Keys {
    cab: Cabinet,
}

impl Keys {
    /// Rotates the KEK and re-wraps every data key under it, without re-encrypting data.
    /// Safe from several processes at once: rotations queue on a database lease (a loser
    /// that waits too long gets `Conflict("keys.rotation_in_progress")`), and the key
    /// provider only ever adds KEKs.
    pub async fn rotate(&self) -> Result<KeyRotationReport> {
        let cab = &self.cab;
        let report = cab.keyring().rotate(cab.store(), || to_micros(cab.now())).await?;
        let mut tx = self.cab.store().begin().await?;
        let access = crate::audit::Access {
            patient_id: None,
            action: crate::audit::Action::KeyRotation,
            resource_type: "kek",
            resource_id: Some(&report.kek_id),
        };
        self.cab
            .journal()
            .record(&mut tx, &AuditContext::system(), access, crate::audit::Outcome::Success, to_micros(self.cab.now()))
            .await?;
        tx.commit().await.map_err(crate::store::StorageError::from_sqlx)?;
        Ok(report)
    }
}
