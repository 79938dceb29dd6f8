//! Passwords (R4): the policy, Argon2id PHC hashing with configurable parameters, and
//! verification of legacy bcrypt hashes imported from hospital systems.
//!
//! bcrypt's 72-byte limit: bcrypt ignores every byte after the 72nd, so a legacy hash can
//! only ever have been checked against the first 72 bytes. Kabinet verifies legacy hashes
//! the same way (so those users can still sign in), then re-hashes the *full* password with
//! Argon2id on that first successful login; from then on every byte counts.

use argon2::{Algorithm, Argon2, Params, PasswordHasher as _, PasswordVerifier, Version};
use subtle::ConstantTimeEq;

use crate::config::Argon2Params;
use crate::ids::{Reason, ValidationError};

/// Shortest password accepted.
pub const MIN_LEN: usize = 8;
/// Longest password accepted, in characters (long passphrases are welcome).
pub const MAX_LEN: usize = 256;

/// Common passwords of Russian-speaking users that zxcvbn's English-centred lists miss.
/// zxcvbn's own frequency lists (30 000 common passwords) are checked as well.
const COMMON_RU: &[&str] = &[
    "йцукен",
    "йцукенгшщз",
    "пароль",
    "парольпароль",
    "qwerty",
    "йфяцычувс",
    "1q2w3e4r",
    "1q2w3e4r5t",
    "zaq12wsx",
    "qazwsx",
    "ytrewq",
    "gfhjkm",
    "ghbdtn",
    "привет",
    "любовь",
    "наташа",
    "кристина",
    "анастасия",
    "россия",
    "москва",
    "спартак",
    "зенит",
    "пароль123",
    "qwerty123",
    "password1",
    "admin123",
];

/// Keyboard rows (Latin and Russian ЙЦУКЕН) and the alphabets, for run detection.
const RUNS: &[&str] = &[
    "abcdefghijklmnopqrstuvwxyz",
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "01234567890",
    "qwertyuiop",
    "asdfghjkl",
    "zxcvbnm",
    "йцукенгшщзхъ",
    "фывапролджэ",
    "ячсмитьбю",
    "1qaz2wsx3edc4rfv",
];

fn err(reason: Reason) -> ValidationError {
    ValidationError::new("password", reason)
}

/// True if `s` holds a run of 4 consecutive characters of a keyboard row or an alphabet,
/// forwards or backwards, or the same character 4 times.
fn has_run(s: &str) -> bool {
    let chars: Vec<char> = s.to_lowercase().chars().collect();
    if chars.windows(4).any(|w| w.iter().all(|c| *c == w[0])) {
        return true;
    }
    for run in RUNS {
        let row: Vec<char> = run.chars().collect();
        let rev: Vec<char> = row.iter().rev().copied().collect();
        for seq in [&row, &rev] {
            for w in seq.windows(4) {
                if chars.windows(4).any(|c| c == w) {
                    return true;
                }
            }
        }
    }
    false
}

/// Checks `password` against R4: length, upper- and lower-case letters, digits, special
/// characters, no runs or repeats, not a common password, not built from `personal` data
/// (names, birth date, phone, e-mail, identifiers), and a zxcvbn score of at least 3.
pub fn check_policy<S: AsRef<str>>(password: &str, personal: &[S]) -> Result<(), ValidationError> {
    let len = password.chars().count();
    if len == 0 {
        return Err(err(Reason::Empty));
    }
    if len < MIN_LEN {
        return Err(err(Reason::Length));
    }
    if len > MAX_LEN {
        return Err(err(Reason::TooLong));
    }
    if !password.chars().any(char::is_uppercase) {
        return Err(err(Reason::NoUppercase));
    }
    if !password.chars().any(char::is_lowercase) {
        return Err(err(Reason::NoLowercase));
    }
    if !password.chars().any(|c| c.is_ascii_digit()) {
        return Err(err(Reason::NoDigit));
    }
    if !password.chars().any(|c| !c.is_alphanumeric() && !c.is_whitespace()) {
        return Err(err(Reason::NoSpecial));
    }
    let lower = password.to_lowercase();
    let letters_digits: String = lower.chars().filter(|c| c.is_alphanumeric()).collect();
    if COMMON_RU.iter().any(|c| letters_digits.contains(c)) {
        return Err(err(Reason::CommonPassword));
    }
    for item in personal.iter().map(|p| p.as_ref().trim().to_lowercase()) {
        let digits: String = item.chars().filter(char::is_ascii_digit).collect();
        // Numbers: the whole digit string, a phone's last 10 digits (the national number)
        // and last 7 (the subscriber number), and a date's day-month-year forms.
        // `digits` is ASCII, so byte offsets are character boundaries; dates are matched only
        // when made of ASCII digits, so no slice can land inside a multi-byte character.
        let mut numbers = vec![digits.clone()];
        for tail in [10, 7] {
            if let Some(part) = digits.get(digits.len().saturating_sub(tail)..).filter(|_| digits.len() >= 10) {
                numbers.push(part.to_owned());
            }
        }
        if let [y, m, d] = item.split('-').collect::<Vec<_>>()[..]
            && [(y, 4), (m, 2), (d, 2)]
                .iter()
                .all(|(part, len)| part.len() == *len && part.bytes().all(|b| b.is_ascii_digit()))
            && let Some(short_year) = y.get(2..)
        {
            numbers.push(format!("{d}{m}{y}"));
            numbers.push(format!("{d}{m}{short_year}"));
        }
        let found = (item.chars().count() >= 3 && lower.contains(&item))
            || numbers.iter().any(|n| n.len() >= 4 && letters_digits.contains(n.as_str()))
            || item.split(['@', ' ', '-', '.']).any(|part| part.chars().count() >= 4 && lower.contains(part));
        if found {
            return Err(err(Reason::PersonalData));
        }
    }
    if has_run(password) {
        return Err(err(Reason::Sequence));
    }
    let inputs: Vec<&str> = personal.iter().map(AsRef::as_ref).collect();
    if (zxcvbn::zxcvbn(password, &inputs).score() as u8) < 3 {
        return Err(err(Reason::TooWeak));
    }
    Ok(())
}

fn argon2(params: &Argon2Params) -> Result<Argon2<'static>, crate::Error> {
    let p = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
        .map_err(|_| crate::ConfigError::Argon2)?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, p))
}

/// Hashes `password` with Argon2id into a PHC string (`$argon2id$v=19$m=…`).
pub fn hash(password: &str, params: &Argon2Params) -> Result<String, crate::Error> {
    let mut salt = [0u8; 16];
    crate::crypto::random_bytes(&mut salt);
    let phc = argon2(params)?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|_| crate::CryptoError::Internal("argon2 hash"))?;
    Ok(phc.to_string())
}

/// The result of checking a password against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verified {
    /// Wrong password (or an unusable hash).
    No,
    /// Right password, hash is current.
    Yes,
    /// Right password; the hash is legacy (bcrypt) or weaker than the configured
    /// parameters and should be replaced by [`hash`] now.
    YesRehash,
}

/// Checks `password` against a stored PHC Argon2id hash or a legacy bcrypt
/// `$2a$`/`$2b$`/`$2y$` hash. The comparison inside both libraries is constant-time.
pub fn verify(password: &str, stored: &str, params: &Argon2Params) -> Verified {
    if stored.starts_with("$argon2") {
        let Ok(parsed) = argon2::PasswordHash::new(stored) else { return Verified::No };
        let ok = Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok();
        if !ok {
            return Verified::No;
        }
        let current = format!("m={},t={},p={}", params.memory_kib, params.iterations, params.parallelism);
        let same = parsed.params.to_string().as_bytes().ct_eq(current.as_bytes()).into();
        return if parsed.algorithm.as_str() == "argon2id" && same { Verified::Yes } else { Verified::YesRehash };
    }
    if stored.starts_with("$2a$") || stored.starts_with("$2b$") || stored.starts_with("$2y$") {
        // Legacy: bcrypt saw at most 72 bytes when the hash was made (see module docs).
        let bytes = password.as_bytes();
        let truncated = &bytes[..bytes.len().min(72)];
        return match bcrypt::verify(truncated, stored) {
            Ok(true) => Verified::YesRehash,
            _ => Verified::No,
        };
    }
    Verified::No
}

/// A hash to verify against when there is no account, made with the cabinet's parameters
/// (each cabinet keeps its own, so a wrong identifier costs what its wrong password costs).
pub fn dummy_hash(params: &Argon2Params) -> Option<String> {
    hash("Dummy-Passw0rd!", params).ok()
}

/// Burns the time of one verification when there is no account, so that a wrong
/// identifier and a wrong password take comparable time.
pub fn dummy_verify(password: &str, dummy: &str, params: &Argon2Params) {
    let _ = verify(password, dummy, params);
}

/// Argon2id hashing and verification off the async executor, with this cabinet's
/// parameters; an unknown identifier costs the same work as a wrong password. At most one
/// hashing per core runs at once (the rest queue): a burst of logins, or a legacy bcrypt
/// hash of a high cost, cannot take every core and every blocking thread, and Argon2's
/// memory stays bounded by `cores × memory_kib`.
pub(crate) struct PasswordHasher {
    params: Argon2Params,
    /// A hash made with these parameters, verified when there is no account.
    dummy: std::sync::OnceLock<Option<String>>,
    /// One permit per hashing allowed at once.
    slots: std::sync::Arc<tokio::sync::Semaphore>,
    /// Hashings running now (for tests).
    #[cfg(test)]
    in_flight: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// How many hashings ran at once, at most (for tests).
    #[cfg(test)]
    peak: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

/// Hashings allowed at once: the machine's cores, at least one.
fn hashing_slots() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

impl PasswordHasher {
    pub(crate) fn new(params: Argon2Params) -> Self {
        Self::with_slots(params, hashing_slots())
    }

    fn with_slots(params: Argon2Params, slots: usize) -> Self {
        PasswordHasher {
            params,
            dummy: std::sync::OnceLock::new(),
            slots: std::sync::Arc::new(tokio::sync::Semaphore::new(slots.max(1))),
            #[cfg(test)]
            in_flight: std::sync::Arc::default(),
            #[cfg(test)]
            peak: std::sync::Arc::default(),
        }
    }

    /// Runs `work` on a blocking thread once a slot is free.
    async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T, crate::Error> {
        let permit =
            self.slots.clone().acquire_owned().await.map_err(|_| crate::CryptoError::Internal("hashing slots"))?;
        #[cfg(test)]
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        let out = tokio::task::spawn_blocking(move || {
            #[cfg(test)]
            {
                use std::sync::atomic::Ordering::SeqCst;
                peak.fetch_max(in_flight.fetch_add(1, SeqCst) + 1, SeqCst);
            }
            let out = work();
            #[cfg(test)]
            in_flight.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
            drop(permit);
            out
        })
        .await
        .map_err(|_| crate::CryptoError::Internal("hashing task"))?;
        Ok(out)
    }

    /// Hashes a new password.
    pub(crate) async fn hash(self: &std::sync::Arc<Self>, password: String) -> Result<String, crate::Error> {
        let params = self.params;
        let password = zeroize::Zeroizing::new(password);
        self.run(move || hash(&password, &params)).await?
    }

    /// Verifies a password against its stored hash.
    pub(crate) async fn verify(
        self: &std::sync::Arc<Self>,
        password: String,
        stored: String,
    ) -> Result<Verified, crate::Error> {
        let params = self.params;
        let password = zeroize::Zeroizing::new(password);
        self.run(move || verify(&password, &stored, &params)).await
    }

    /// The same work as a verification, for unknown identifiers.
    pub(crate) async fn dummy_verify(self: &std::sync::Arc<Self>, password: String) {
        let password = zeroize::Zeroizing::new(password);
        let this = self.clone();
        let _ = self
            .run(move || {
                let dummy = this.dummy.get_or_init(|| dummy_hash(&this.params));
                if let Some(dummy) = dummy {
                    dummy_verify(&password, dummy, &this.params);
                }
            })
            .await;
    }
}

#[cfg(test)]
mod slots_tests {
    use std::sync::Arc;

    use super::{PasswordHasher, Verified};
    use crate::config::Argon2Params;

    /// Issue 15 / issue 14 leftover: password work queues on a slot per core, so a burst of
    /// logins (or a costly legacy hash) never runs more hashings at once than allowed, and
    /// every queued call still gets its answer.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn hashing_runs_at_most_one_per_slot_and_every_call_is_answered() {
        let params = Argon2Params { memory_kib: 8192, iterations: 2, parallelism: 1 };
        let hasher = Arc::new(PasswordHasher::with_slots(params, 2));
        let stored = hasher.hash("Vek-Tor!58zeb".into()).await.unwrap();
        let calls: Vec<_> = (0..12)
            .map(|i| {
                let (h, stored) = (hasher.clone(), stored.clone());
                let password = if i % 2 == 0 { "Vek-Tor!58zeb" } else { "wrong" };
                tokio::spawn(async move { h.verify(password.into(), stored).await.unwrap() })
            })
            .collect();
        let mut right = 0;
        for call in calls {
            right += usize::from(matches!(call.await.unwrap(), Verified::Yes));
        }
        assert_eq!(right, 6);
        let peak = hasher.peak.load(std::sync::atomic::Ordering::SeqCst);
        assert!((1..=2).contains(&peak), "peak {peak}: more hashings at once than slots");
        assert_eq!(hasher.slots.available_permits(), 2, "every slot is given back");
    }
}
