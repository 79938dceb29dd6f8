//! Key-encryption keys (KEKs). A [`KeyProvider`] wraps and unwraps data keys; Kabinet never
//! sees a KEK of an HSM-backed provider. Three providers ship with the crate:
//! a local key file (the default for file databases), a passphrase (Argon2id-derived), and
//! an ephemeral in-memory key for tests and demos.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use sha2::{Digest, Sha256};

use super::envelope::{open_raw, seal_raw};
use super::{CryptoError, SecretKey};

/// Supplies key-encryption keys. Implement it over an HSM (PKCS#11) or a cloud KMS in
/// production; the methods are synchronous and may block.
pub trait KeyProvider: Send + Sync {
    /// The id of the KEK that new wraps use.
    fn current_kek_id(&self) -> Result<String, CryptoError>;
    /// Wraps `key` under the KEK `kek_id`, bound to `context`.
    fn wrap(&self, kek_id: &str, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>, CryptoError>;
    /// Unwraps a key wrapped by [`KeyProvider::wrap`]; a wrong KEK or context fails.
    fn unwrap(&self, kek_id: &str, wrapped: &[u8], context: &[u8]) -> Result<SecretKey, CryptoError>;
    /// Creates a new KEK, makes it current and returns its id. Older KEKs stay usable
    /// for unwrapping until the host retires them.
    fn rotate(&self) -> Result<String, CryptoError> {
        Err(CryptoError::RotationUnsupported)
    }
}

/// A set of software KEKs, one of them current.
struct KekRing {
    current: String,
    keys: BTreeMap<String, SecretKey>,
}

impl KekRing {
    fn single(key: SecretKey) -> Self {
        let id = kek_id_of(&key);
        KekRing { current: id.clone(), keys: BTreeMap::from([(id, key)]) }
    }

    fn wrap(&self, kek_id: &str, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let kek = self.keys.get(kek_id).ok_or(CryptoError::KeyUnavailable)?;
        seal_raw(kek, context, key.expose())
    }

    fn unwrap(&self, kek_id: &str, wrapped: &[u8], context: &[u8]) -> Result<SecretKey, CryptoError> {
        let kek = self.keys.get(kek_id).ok_or(CryptoError::KeyUnavailable)?;
        let raw = open_raw(kek, context, wrapped).map_err(|_| CryptoError::KeyUnavailable)?;
        SecretKey::from_slice(&raw).ok_or(CryptoError::Internal("wrapped key length"))
    }
}

/// A public fingerprint of a KEK: `kek-` and 16 hex digits of SHA-256 over a domain tag and
/// the key. Lets Kabinet tell a wrong key from a damaged one without revealing the key.
fn kek_id_of(key: &SecretKey) -> String {
    let mut h = Sha256::new();
    h.update(b"kabinet/kek-id/v1");
    h.update(key.expose());
    let digest = h.finalize();
    let hex: String = digest[..8].iter().map(|b| format!("{b:02x}")).collect();
    format!("kek-{hex}")
}

fn read_lock<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A random KEK held only in memory; data sealed under it is unreadable after the process
/// ends. For tests, demos and `Cabinet::open_in_memory()`.
pub struct EphemeralKeyProvider {
    ring: RwLock<KekRing>,
}

impl EphemeralKeyProvider {
    /// A provider with a fresh random KEK.
    pub fn new() -> Self {
        EphemeralKeyProvider { ring: RwLock::new(KekRing::single(SecretKey::generate())) }
    }
}

impl Default for EphemeralKeyProvider {
    fn default() -> Self {
        Self::new()
    }
}

impl KeyProvider for EphemeralKeyProvider {
    fn current_kek_id(&self) -> Result<String, CryptoError> {
        Ok(read_lock(&self.ring).current.clone())
    }
    fn wrap(&self, kek_id: &str, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        read_lock(&self.ring).wrap(kek_id, key, context)
    }
    fn unwrap(&self, kek_id: &str, wrapped: &[u8], context: &[u8]) -> Result<SecretKey, CryptoError> {
        read_lock(&self.ring).unwrap(kek_id, wrapped, context)
    }
    fn rotate(&self) -> Result<String, CryptoError> {
        let key = SecretKey::generate();
        let id = kek_id_of(&key);
        let mut ring = self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        ring.keys.insert(id.clone(), key);
        ring.current = id.clone();
        Ok(id)
    }
}

impl std::fmt::Debug for EphemeralKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EphemeralKeyProvider").finish_non_exhaustive()
    }
}

/// A KEK derived from a passphrase with Argon2id (m = 64 MiB, t = 3, p = 1).
///
/// The salt is a fixed, documented domain tag, so the same passphrase opens the same
/// database on any machine; choose a long random passphrase. Rotation is not supported:
/// move to a key file or an HSM provider for that.
pub struct PassphraseKeyProvider {
    ring: KekRing,
}

impl PassphraseKeyProvider {
    /// Argon2id salt: fixed so that the passphrase alone reopens the database.
    const SALT: &'static [u8] = b"kabinet/kek/passphrase/v1";

    /// Derives the KEK; takes a fraction of a second by design.
    pub fn new(passphrase: &str) -> Result<Self, CryptoError> {
        if passphrase.chars().count() < 12 {
            return Err(CryptoError::KeyFile { reason: "passphrase shorter than 12 characters", source: None });
        }
        let params =
            argon2::Params::new(64 * 1024, 3, 1, Some(32)).map_err(|_| CryptoError::Internal("argon2 params"))?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut out = zeroize::Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(passphrase.as_bytes(), Self::SALT, out.as_mut())
            .map_err(|_| CryptoError::Internal("argon2 derive"))?;
        let key = SecretKey::from_slice(out.as_ref()).ok_or(CryptoError::Internal("kek length"))?;
        Ok(PassphraseKeyProvider { ring: KekRing::single(key) })
    }
}

impl KeyProvider for PassphraseKeyProvider {
    fn current_kek_id(&self) -> Result<String, CryptoError> {
        Ok(self.ring.current.clone())
    }
    fn wrap(&self, kek_id: &str, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.ring.wrap(kek_id, key, context)
    }
    fn unwrap(&self, kek_id: &str, wrapped: &[u8], context: &[u8]) -> Result<SecretKey, CryptoError> {
        self.ring.unwrap(kek_id, wrapped, context)
    }
}

impl std::fmt::Debug for PassphraseKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PassphraseKeyProvider").field("kek_id", &self.ring.current).finish_non_exhaustive()
    }
}

/// KEKs kept in a local JSON file, created with mode 0600 on first use. Rotation appends a
/// new KEK and rewrites the file atomically (temporary file + rename) under an exclusive
/// lock on `<file>.lock`, so concurrent rotations from several processes all keep their keys. A file readable by
/// group or others is refused, as ssh refuses such private keys.
pub struct LocalFileKeyProvider {
    path: PathBuf,
    ring: RwLock<KekRing>,
    /// When the file last read was written: another process's rotation replaces the file,
    /// and new keys must then be wrapped under its new current KEK.
    read_version: std::sync::Mutex<Option<std::time::SystemTime>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFile {
    format: String,
    current: String,
    keys: Vec<KeyFileEntry>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct KeyFileEntry {
    id: String,
    key: String,
}

const KEY_FILE_FORMAT: &str = "kabinet-kek/1";

fn key_file_error(reason: &'static str) -> impl FnOnce(std::io::Error) -> CryptoError {
    move |e| CryptoError::KeyFile { reason, source: Some(Box::new(e)) }
}

impl LocalFileKeyProvider {
    /// Opens the key file at `path`, creating it with a fresh KEK if it does not exist.
    ///
    /// Safe when several processes open a new database at once: the check and the creation
    /// happen under an exclusive lock on `<path>.lock`, and the file appears whole (written
    /// to a temporary file, synced, then renamed), so everyone ends up with the same KEK.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, CryptoError> {
        let path = path.as_ref().to_path_buf();
        let ring = with_file_lock(&path, || match std::fs::metadata(&path) {
            Ok(_) => Self::load(&path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let ring = KekRing::single(SecretKey::generate());
                Self::replace_file(&path, &ring)?;
                Ok(ring)
            }
            Err(e) => Err(key_file_error("cannot stat key file")(e)),
        })?;
        let read_version = std::sync::Mutex::new(file_version(&path));
        Ok(LocalFileKeyProvider { path, ring: RwLock::new(ring), read_version })
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn load(path: &Path) -> Result<KekRing, CryptoError> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path).map_err(key_file_error("cannot stat key file"))?.permissions().mode();
            if mode & 0o077 != 0 {
                return Err(CryptoError::KeyFile { reason: "key file is readable by group or others", source: None });
            }
        }
        let text =
            zeroize::Zeroizing::new(std::fs::read_to_string(path).map_err(key_file_error("cannot read key file"))?);
        let file: KeyFile = serde_json::from_str(&text)
            .map_err(|e| CryptoError::KeyFile { reason: "key file is not valid", source: Some(Box::new(e)) })?;
        if file.format != KEY_FILE_FORMAT {
            return Err(CryptoError::KeyFile { reason: "unknown key file format", source: None });
        }
        let mut keys = BTreeMap::new();
        for entry in file.keys {
            let raw = zeroize::Zeroizing::new(
                B64.decode(entry.key.as_bytes())
                    .map_err(|_| CryptoError::KeyFile { reason: "key is not base64", source: None })?,
            );
            let key = SecretKey::from_slice(&raw)
                .ok_or(CryptoError::KeyFile { reason: "key is not 32 bytes", source: None })?;
            if kek_id_of(&key) != entry.id {
                return Err(CryptoError::KeyFile { reason: "key does not match its id", source: None });
            }
            keys.insert(entry.id, key);
        }
        if !keys.contains_key(&file.current) {
            return Err(CryptoError::KeyFile { reason: "current key missing", source: None });
        }
        Ok(KekRing { current: file.current, keys })
    }

    fn serialize(ring: &KekRing) -> Result<zeroize::Zeroizing<String>, CryptoError> {
        let file = KeyFile {
            format: KEY_FILE_FORMAT.into(),
            current: ring.current.clone(),
            keys: ring
                .keys
                .iter()
                .map(|(id, k)| KeyFileEntry { id: id.clone(), key: B64.encode(k.expose()) })
                .collect(),
        };
        let text = serde_json::to_string_pretty(&file).map_err(|_| CryptoError::Internal("serialize key file"))?;
        for entry in file.keys {
            zeroize::Zeroize::zeroize(&mut { entry.key });
        }
        Ok(zeroize::Zeroizing::new(text))
    }

    fn create_0600(path: &Path) -> Result<std::fs::File, CryptoError> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        options.open(path).map_err(key_file_error("cannot create key file"))
    }

    fn write_new(path: &Path, ring: &KekRing) -> Result<(), CryptoError> {
        let text = Self::serialize(ring)?;
        let mut f = Self::create_0600(path)?;
        f.write_all(text.as_bytes()).map_err(key_file_error("cannot write key file"))?;
        f.sync_all().map_err(key_file_error("cannot sync key file"))
    }

    /// Writes `ring` to `path` atomically: a temporary file beside it (mode 0600), synced,
    /// renamed over the old one, and the directory synced, so a crash leaves either the old
    /// file or the new one — never a torn one. Callers hold the file lock.
    fn replace_file(path: &Path, ring: &KekRing) -> Result<(), CryptoError> {
        let mut tmp = path.to_path_buf().into_os_string();
        tmp.push(format!(".tmp-{}", uuid::Uuid::new_v4().simple()));
        let tmp = PathBuf::from(tmp);
        if let Err(e) = Self::write_new(&tmp, ring) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        if let Err(e) = std::fs::rename(&tmp, path) {
            let _ = std::fs::remove_file(&tmp);
            return Err(key_file_error("cannot replace key file")(e));
        }
        #[cfg(unix)]
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            // Durable rename: without this a power loss can bring the old file back.
            std::fs::File::open(dir)
                .and_then(|d| d.sync_all())
                .map_err(key_file_error("cannot sync key file directory"))?;
        }
        Ok(())
    }

    /// Re-reads the file when another process may have rotated the KEK.
    /// Reads the file again if it was replaced since it was read (a rotation elsewhere).
    fn refresh_if_changed(&self) {
        let now = file_version(&self.path);
        let mut seen = self.read_version.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if now.is_some()
            && now != *seen
            && let Ok(fresh) = Self::load(&self.path)
        {
            *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
            *seen = now;
        }
    }

    fn refresh_if_unknown(&self, kek_id: &str) {
        if read_lock(&self.ring).keys.contains_key(kek_id) {
            return;
        }
        if let Ok(fresh) = Self::load(&self.path) {
            *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = fresh;
        }
    }
}

impl KeyProvider for LocalFileKeyProvider {
    fn current_kek_id(&self) -> Result<String, CryptoError> {
        // One stat per new key: a rotation by another process is followed at once.
        self.refresh_if_changed();
        Ok(read_lock(&self.ring).current.clone())
    }
    fn wrap(&self, kek_id: &str, key: &SecretKey, context: &[u8]) -> Result<Vec<u8>, CryptoError> {
        self.refresh_if_unknown(kek_id);
        read_lock(&self.ring).wrap(kek_id, key, context)
    }
    fn unwrap(&self, kek_id: &str, wrapped: &[u8], context: &[u8]) -> Result<SecretKey, CryptoError> {
        self.refresh_if_unknown(kek_id);
        read_lock(&self.ring).unwrap(kek_id, wrapped, context)
    }
    fn rotate(&self) -> Result<String, CryptoError> {
        // Under the file lock: start from the file as it is now (another process may have
        // rotated meanwhile), add a key, write it back. Keys are only ever added, so a
        // concurrent rotation can never take away a KEK that data is wrapped under.
        with_file_lock(&self.path, || {
            let mut next = Self::load(&self.path)?;
            let key = SecretKey::generate();
            let id = kek_id_of(&key);
            next.keys.insert(id.clone(), key);
            next.current = id.clone();
            Self::replace_file(&self.path, &next)?;
            *self.ring.write().unwrap_or_else(std::sync::PoisonError::into_inner) = next;
            *self.read_version.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = file_version(&self.path);
            Ok(id)
        })
    }
}

/// When the key file was last written (`None` if it cannot be read).
fn file_version(path: &Path) -> Option<std::time::SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

/// Runs `f` holding an exclusive advisory lock on `<path>.lock` (created 0600 if missing):
/// the one writer of a key file at a time, across threads and processes.
fn with_file_lock<T>(path: &Path, f: impl FnOnce() -> Result<T, CryptoError>) -> Result<T, CryptoError> {
    let mut lock_path = path.to_path_buf().into_os_string();
    lock_path.push(".lock");
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let lock = options.open(&lock_path).map_err(key_file_error("cannot open key file lock"))?;
    lock.lock().map_err(key_file_error("cannot lock key file"))?;
    let result = f();
    // Closing the file releases the lock as well; an explicit unlock only makes it prompt.
    let _ = lock.unlock();
    result
}

impl std::fmt::Debug for LocalFileKeyProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalFileKeyProvider").field("path", &self.path).finish_non_exhaustive()
    }
}
