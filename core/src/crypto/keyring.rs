//! Wrapped keys in the database: per-patient data keys and the deployment's system keys,
//! each wrapped by the provider's KEK and bound (as AEAD context) to its row id.

use std::sync::Arc;

use super::store;
use super::{CryptoError, KeyProvider, SecretKey};
use crate::audit::Receipt;
use crate::error::Result;
use crate::store::lease::Lease;
use crate::store::rows::Row;
use crate::store::{Conn, StorageError, Store};

/// What a KEK rotation did.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct KeyRotationReport {
    /// The KEK now current.
    pub kek_id: String,
    /// Keys re-wrapped under it.
    pub rewrapped: u64,
    /// Destroyed keys skipped (nothing to re-wrap).
    pub destroyed_skipped: u64,
}

/// Purposes of system keys.
#[derive(Debug, Clone, Copy)]
pub(crate) enum SystemKey {
    /// Blind index HMAC key.
    BlindIndex,
    /// Ed25519 seed of the journal's tree-head signatures.
    AuditSigning,
    /// Ed25519 seed of access-token signatures.
    TokenSigning,
    /// HMAC key of one-time code and token digests.
    Codes,
    /// AES key of outbox payloads.
    Outbox,
    /// AES key of stored second-factor secrets (TOTP).
    Credentials,
}

impl SystemKey {
    fn id(self) -> &'static str {
        match self {
            SystemKey::BlindIndex => "system:blind_index",
            SystemKey::AuditSigning => "system:audit_signing",
            SystemKey::TokenSigning => "system:token_signing",
            SystemKey::Codes => "system:codes",
            SystemKey::Outbox => "system:outbox",
            SystemKey::Credentials => "system:credentials",
        }
    }
}

fn context(key_id: &str) -> Vec<u8> {
    let mut c = b"kabinet/keywrap/v1\0".to_vec();
    c.extend_from_slice(key_id.as_bytes());
    c
}

/// The id of a patient's data key row.
pub(crate) fn patient_key_id(patient_id: &str) -> String {
    format!("patient:{patient_id}")
}

/// Wraps and unwraps keys stored in `wrapped_keys`.
#[derive(Clone)]
pub(crate) struct Keyring {
    provider: Arc<dyn KeyProvider>,
}

impl std::fmt::Debug for Keyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Keyring")
    }
}

impl Keyring {
    pub(crate) fn new(provider: Arc<dyn KeyProvider>) -> Self {
        Keyring { provider }
    }

    /// The `wrapped_keys` row of `key`, wrapped under the provider's current KEK.
    fn key_row(&self, id: &str, purpose: &str, key: &SecretKey, now: i64) -> Result<Row> {
        let kek_id = self.provider.current_kek_id()?;
        let wrapped = self.provider.wrap(&kek_id, key, &context(id))?;
        Ok(Row::new(
            "wrapped_keys",
            &["id", "purpose", "kek_id", "wrapped", "created_at"],
            vec![id.into(), purpose.into(), kek_id.into(), wrapped.into(), now.into()],
        ))
    }

    async fn insert(&self, conn: &mut Conn, id: &str, purpose: &str, key: &SecretKey, now: i64) -> Result<()> {
        self.key_row(id, purpose, key, now)?.insert(conn).await.map_err(StorageError::from_sqlx)?;
        Ok(())
    }

    async fn load(&self, conn: &mut Conn, id: &str) -> Result<Option<SecretKey>> {
        let Some(row) = store::wrapped(conn, id).await? else { return Ok(None) };
        let wrapped = row.wrapped.ok_or(CryptoError::KeyDestroyed)?;
        Ok(Some(self.provider.unwrap(&row.kek_id, &wrapped, &context(id))?))
    }

    /// Loads a system key, creating it on first use. Safe when several processes open a
    /// new database at once: the first insert wins and everyone reads it back.
    /// Whether the provider still opens the deployment's keys (a health check): unwraps an
    /// existing system key, creating nothing.
    pub(crate) async fn check_available(&self, store: &Store) -> Result<()> {
        let mut conn = store.pool().acquire().await.map_err(StorageError::from_sqlx)?;
        self.load(&mut conn, SystemKey::Codes.id())
            .await?
            .map(drop)
            .ok_or(crate::Error::NotFound { entity: "data_key" })
    }

    pub(crate) async fn system_key(&self, store: &Store, which: SystemKey, now: i64) -> Result<SecretKey> {
        let mut conn = store.pool().acquire().await.map_err(StorageError::from_sqlx)?;
        if let Some(k) = self.load(&mut conn, which.id()).await? {
            return Ok(k);
        }
        drop(conn);
        let mut tx = store.begin().await?;
        if let Some(k) = self.load(&mut tx, which.id()).await? {
            return Ok(k);
        }
        let key = SecretKey::generate();
        match self.insert(&mut tx, which.id(), "system", &key, now).await {
            Ok(()) => {
                tx.commit().await.map_err(StorageError::from_sqlx)?;
                Ok(key)
            }
            Err(crate::Error::Storage(e)) if e.unique_violation() => {
                drop(tx);
                let mut conn = store.pool().acquire().await.map_err(StorageError::from_sqlx)?;
                self.load(&mut conn, which.id()).await?.ok_or(crate::Error::NotFound { entity: "data_key" })
            }
            Err(e) => Err(e),
        }
    }

    /// Creates a patient's data key inside the caller's transaction; needs the receipt of the
    /// journal entry for that patient.
    pub(crate) async fn create_patient_key(&self, conn: &mut Conn, receipt: &Receipt, now: i64) -> Result<SecretKey> {
        let key = SecretKey::generate();
        self.insert(conn, &patient_key_id(receipt.patient_id()), "patient", &key, now).await?;
        Ok(key)
    }

    /// The `wrapped_keys` row of a patient's new data key (made by a planned import), wrapped
    /// under the provider's current KEK, to be written with the patient's row in the same
    /// transaction as the journal entry promised for it.
    pub(crate) fn patient_key_row(&self, patient_id: &str, key: &SecretKey, now: i64) -> Result<Row> {
        self.key_row(&patient_key_id(patient_id), "patient", key, now)
    }

    /// A patient's data key, only against the receipt of a journal entry for that patient;
    /// [`CryptoError::KeyDestroyed`] after erasure.
    pub(crate) async fn patient_key(&self, conn: &mut Conn, receipt: &Receipt) -> Result<SecretKey> {
        self.load(conn, &patient_key_id(receipt.patient_id()))
            .await?
            .ok_or(crate::Error::NotFound { entity: "data_key" })
    }

    /// Destroys a patient's data key: the wrapped bytes are deleted, so every ciphertext
    /// under it becomes unreadable (crypto-shredding).
    pub(crate) async fn destroy_patient_key(&self, conn: &mut Conn, receipt: &Receipt, now: i64) -> Result<bool> {
        store::destroy(conn, &patient_key_id(receipt.patient_id()), now).await
    }

    /// Rotates the KEK and re-wraps every live key under the new one. Ciphertexts of data
    /// are untouched. Runs in batches; safe to re-run if interrupted.
    ///
    /// One rotation at a time per database: the `key_rotation` lease is held throughout
    /// (renewed after every batch). A rotation that finds another one running waits for it,
    /// then fails cleanly with `keys.rotation_in_progress`. The provider keeps every KEK it
    /// ever made until the host retires it, so no interleaving leaves a key wrapped under a
    /// KEK the provider cannot return.
    pub(crate) async fn rotate(&self, store: &Store, now: impl Fn() -> i64) -> Result<KeyRotationReport> {
        const LEASE_US: i64 = 5 * 60 * 1_000_000;
        let lease = Lease::acquire(
            store,
            "key_rotation",
            &now,
            LEASE_US,
            std::time::Duration::from_secs(120),
            "keys.rotation_in_progress",
        )
        .await?;
        let result = self.rotate_held(store, &lease, &now, LEASE_US).await;
        let released = lease.release(store).await;
        let report = result?;
        released?;
        Ok(report)
    }

    async fn rotate_held(
        &self,
        store: &Store,
        lease: &Lease,
        now: &impl Fn() -> i64,
        lease_us: i64,
    ) -> Result<KeyRotationReport> {
        let provider = self.provider.clone();
        let kek_id = tokio::task::spawn_blocking(move || provider.rotate())
            .await
            .map_err(|_| CryptoError::Internal("rotation task"))??;
        let mut rewrapped = 0u64;
        loop {
            let at = now();
            if !lease.renew(store, at.saturating_add(lease_us)).await? {
                return Err(crate::Error::Conflict { code: "keys.rotation_in_progress" });
            }
            let mut tx = store.begin().await?;
            let rows = store::stale(&mut *tx, &kek_id).await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let ctx = context(&row.id);
                let key = self.provider.unwrap(&row.kek_id, &row.wrapped, &ctx)?;
                let rewrapped_bytes = self.provider.wrap(&kek_id, &key, &ctx)?;
                store::rewrap(&mut *tx, &row.id, &row.kek_id, &kek_id, rewrapped_bytes, at).await?;
                rewrapped += 1;
            }
            tx.commit().await.map_err(StorageError::from_sqlx)?;
        }
        let destroyed = store::count_destroyed(store.pool()).await?;
        Ok(KeyRotationReport { kek_id, rewrapped, destroyed_skipped: u64::try_from(destroyed).unwrap_or(0) })
    }
}
