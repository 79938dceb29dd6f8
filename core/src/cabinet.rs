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
use crate::store::{Backend, Store};
use crate::timeutil::to_micros;

struct Inner {
    store: Store,
    config: Config,
    keyring: Keyring,
    blind: BlindIndexer,
    journal: Journal,
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
        let url = crate::store::parse_url(url)?;
        config.password_hashing.validate()?;
        let provider: Arc<dyn KeyProvider> = match (&config.key_provider, url.sqlite_path()) {
            (Some(p), _) => p.clone(),
            (None, Some(path)) => {
                let mut keys = path.as_os_str().to_owned();
                keys.push(".keys");
                Arc::new(LocalFileKeyProvider::open(std::path::PathBuf::from(keys))?)
            }
            (None, None) if url.is_memory() => Arc::new(EphemeralKeyProvider::new()),
            (None, None) => return Err(crate::config::ConfigError::KeyProviderRequired.into()),
        };
        let store = Store::open(&url, config.max_connections).await?;
        let keyring = Keyring::new(provider);
        let now = to_micros(config.clock.now());
        let blind = BlindIndexer::new(keyring.system_key(&store, SystemKey::BlindIndex, now).await?);
        let signer = crate::audit::HeadSigner::new(&keyring.system_key(&store, SystemKey::AuditSigning, now).await?);
        let journal = Journal::new(signer, store.backend());
        Ok(Cabinet { inner: Arc::new(Inner { store, config, keyring, blind, journal }) })
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

    /// Key management.
    pub fn keys(&self) -> Keys {
        Keys { cab: self.cab.clone() }
    }
}

/// Key management for the operator (S2).
#[derive(Debug, Clone)]
pub struct Keys {
    cab: Cabinet,
}

impl Keys {
    /// Rotates the KEK and re-wraps every data key under it, without re-encrypting data.
    pub async fn rotate(&self) -> Result<KeyRotationReport> {
        let report = self.cab.keyring().rotate(self.cab.store(), to_micros(self.cab.now())).await?;
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
