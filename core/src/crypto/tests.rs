//! S2 crypto unit tests: envelope binding, Wycheproof AES-GCM vectors, blind indexes,
//! key providers, redaction.

use super::*;
use aes_gcm::aead::{Aead, KeyInit, Payload};

fn aad<'a>(table: &'a str, record: &'a str, field: &'a str, patient: &'a str) -> Aad<'a> {
    Aad { table, record_id: record, field, patient_id: patient }
}

#[test]
fn s2_envelope_round_trip_and_binding() {
    let key = SecretKey::generate();
    let place = aad("patients", "r1", "surname", "p1");
    let sealed = seal(&key, &place, "Иванова".as_bytes()).unwrap();
    assert_eq!(&*open(&key, &place, &sealed).unwrap(), "Иванова".as_bytes());
    assert!(!sealed.windows(4).any(|w| w == &"Иванова".as_bytes()[..4]));
    // Moving the ciphertext anywhere else fails.
    for other in [
        aad("visits", "r1", "surname", "p1"),
        aad("patients", "r2", "surname", "p1"),
        aad("patients", "r1", "given_name", "p1"),
        aad("patients", "r1", "surname", "p2"),
        // Length prefixes keep ("ab","c") apart from ("a","bc").
        aad("patient", "sr1", "surname", "p1"),
    ] {
        assert!(matches!(open(&key, &other, &sealed), Err(CryptoError::Integrity)));
    }
    // Any flipped bit fails.
    for i in 0..sealed.len() {
        let mut t = sealed.clone();
        t[i] ^= 0x01;
        assert!(matches!(open(&key, &place, &t), Err(CryptoError::Integrity)), "byte {i}");
    }
    // Wrong key, truncation and empty input fail.
    assert!(open(&SecretKey::generate(), &place, &sealed).is_err());
    assert!(open(&key, &place, &sealed[..sealed.len() - 1]).is_err());
    assert!(open(&key, &place, &[]).is_err());
}

#[test]
fn s2_nonces_are_fresh() {
    let key = SecretKey::generate();
    let place = aad("t", "r", "f", "p");
    let a = seal(&key, &place, b"same").unwrap();
    let b = seal(&key, &place, b"same").unwrap();
    assert_ne!(a, b);
}

#[derive(serde::Deserialize)]
struct Wycheproof {
    #[serde(rename = "testGroups")]
    groups: Vec<Group>,
}
#[derive(serde::Deserialize)]
struct Group {
    #[serde(rename = "keySize")]
    key_size: u32,
    #[serde(rename = "ivSize")]
    iv_size: u32,
    #[serde(rename = "tagSize")]
    tag_size: u32,
    tests: Vec<Case>,
}
#[derive(serde::Deserialize)]
struct Case {
    #[serde(rename = "tcId")]
    id: u32,
    key: String,
    iv: String,
    aad: String,
    msg: String,
    ct: String,
    tag: String,
    result: String,
}

/// The AES-256-GCM primitive under the envelope agrees with every Wycheproof vector for
/// 256-bit keys and 96-bit nonces (the only shape the envelope uses).
#[test]
fn s2_wycheproof_aes_256_gcm() {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/vectors/wycheproof/aes_gcm_test.json"))
            .unwrap();
    let suite: Wycheproof = serde_json::from_str(&text).unwrap();
    let (mut valid, mut invalid) = (0, 0);
    for g in suite.groups.iter().filter(|g| g.key_size == 256 && g.iv_size == 96 && g.tag_size == 128) {
        for c in &g.tests {
            let key = hex::decode(&c.key).unwrap();
            let cipher = aes_gcm::Aes256Gcm::new_from_slice(&key).unwrap();
            let nonce: [u8; 12] = hex::decode(&c.iv).unwrap().try_into().unwrap();
            let aad = hex::decode(&c.aad).unwrap();
            let msg = hex::decode(&c.msg).unwrap();
            let mut ct = hex::decode(&c.ct).unwrap();
            ct.extend(hex::decode(&c.tag).unwrap());
            let opened = cipher.decrypt(&nonce.into(), Payload { msg: &ct, aad: &aad });
            match c.result.as_str() {
                "valid" | "acceptable" => {
                    assert_eq!(opened.as_deref().ok(), Some(&msg[..]), "tcId {}", c.id);
                    let sealed = cipher.encrypt(&nonce.into(), Payload { msg: &msg, aad: &aad }).unwrap();
                    assert_eq!(sealed, ct, "tcId {}", c.id);
                    valid += 1;
                }
                _ => {
                    assert!(opened.is_err(), "tcId {} must be rejected", c.id);
                    invalid += 1;
                }
            }
        }
    }
    assert!(valid > 20 && invalid > 10, "valid {valid} invalid {invalid}");
}

#[test]
fn s2_blind_index_is_keyed_and_typed() {
    let k = SecretKey::generate();
    let a = BlindIndexer::new(k.clone());
    let b = BlindIndexer::new(SecretKey::generate());
    let x = a.index(BlindIndexKind::Snils, "11223344595");
    assert_eq!(x.len(), 32);
    assert_eq!(x, BlindIndexer::new(k).index(BlindIndexKind::Snils, "11223344595"));
    assert_ne!(x, b.index(BlindIndexKind::Snils, "11223344595"));
    assert_ne!(x, a.index(BlindIndexKind::Inn, "11223344595"));
    assert_ne!(x, a.index(BlindIndexKind::Snils, "11223344596"));
    assert_eq!(a.index(BlindIndexKind::Email, "A@x.ru"), a.index(BlindIndexKind::Email, "a@x.ru"));
}

#[test]
fn s2_secrets_never_print() {
    let k = SecretKey::from_slice(&[0xAB; 32]).unwrap();
    let shown = format!("{k:?} {:?}", BlindIndexer::new(k.clone()));
    assert!(!shown.contains("ab") && !shown.contains("171"), "{shown}");
    assert!(shown.contains("redacted"));
}

#[test]
fn s2_local_key_file_is_private_and_reopens() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kek.json");
    let p = LocalFileKeyProvider::open(&path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let dek = SecretKey::generate();
    let kek = p.current_kek_id().unwrap();
    let wrapped = p.wrap(&kek, &dek, b"ctx").unwrap();
    let again = LocalFileKeyProvider::open(&path).unwrap();
    assert_eq!(again.unwrap(&kek, &wrapped, b"ctx").unwrap().expose(), dek.expose());
    assert!(matches!(again.unwrap(&kek, &wrapped, b"other"), Err(CryptoError::KeyUnavailable)));
    // Rotation keeps old KEKs for unwrapping and persists the new one.
    let new = again.rotate().unwrap();
    assert_ne!(new, kek);
    let third = LocalFileKeyProvider::open(&path).unwrap();
    assert_eq!(third.current_kek_id().unwrap(), new);
    assert!(third.unwrap(&kek, &wrapped, b"ctx").is_ok());
    // The first provider sees the rotation when it meets the unknown id.
    let w2 = third.wrap(&new, &dek, b"ctx").unwrap();
    assert!(p.unwrap(&new, &w2, b"ctx").is_ok());
}

/// Issue 11, class 1: many holders of one key file (as many processes would be) creating it
/// and rotating at once. Every KEK any of them made is in the file afterwards, and a key
/// wrapped by any one of them unwraps through a fresh provider: none is ever lost.
#[test]
fn s2_concurrent_creation_and_rotation_never_lose_a_kek() {
    for round in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("kek.json");
        let start = std::sync::Arc::new(std::sync::Barrier::new(6));
        let workers: Vec<_> = (0..6)
            .map(|_| {
                let (path, start) = (path.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    let p = LocalFileKeyProvider::open(&path).expect("first open under contention");
                    let mut made = vec![];
                    for _ in 0..4 {
                        let kek = p.rotate().unwrap();
                        let dek = SecretKey::generate();
                        made.push((kek.clone(), p.wrap(&kek, &dek, b"ctx").unwrap(), dek));
                    }
                    made
                })
            })
            .collect();
        let made: Vec<_> = workers.into_iter().flat_map(|w| w.join().unwrap()).collect();
        let fresh = LocalFileKeyProvider::open(&path).unwrap();
        for (kek, wrapped, dek) in &made {
            let back =
                fresh.unwrap(kek, wrapped, b"ctx").unwrap_or_else(|e| panic!("round {round}: {kek} lost: {e:?}"));
            assert_eq!(back.expose(), dek.expose());
        }
        assert_eq!(made.len(), 24);
    }
}

#[cfg(unix)]
#[test]
fn s2_key_file_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kek.json");
    LocalFileKeyProvider::open(&path).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let err = LocalFileKeyProvider::open(&path).unwrap_err();
    assert!(matches!(err, CryptoError::KeyFile { .. }));
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    std::fs::write(&path, "{not json").unwrap();
    assert!(matches!(LocalFileKeyProvider::open(&path), Err(CryptoError::KeyFile { .. })));
}

#[test]
fn s2_passphrase_provider_is_deterministic() {
    let a = PassphraseKeyProvider::new("correct horse battery staple").unwrap();
    let b = PassphraseKeyProvider::new("correct horse battery staple").unwrap();
    let c = PassphraseKeyProvider::new("another long passphrase").unwrap();
    assert_eq!(a.current_kek_id().unwrap(), b.current_kek_id().unwrap());
    assert_ne!(a.current_kek_id().unwrap(), c.current_kek_id().unwrap());
    let dek = SecretKey::generate();
    let w = a.wrap(&a.current_kek_id().unwrap(), &dek, b"x").unwrap();
    assert_eq!(b.unwrap(&b.current_kek_id().unwrap(), &w, b"x").unwrap().expose(), dek.expose());
    assert!(c.unwrap(&a.current_kek_id().unwrap(), &w, b"x").is_err());
    assert!(matches!(a.rotate(), Err(CryptoError::RotationUnsupported)));
    assert!(PassphraseKeyProvider::new("short").is_err());
}

/// Issue 15: sealing now encrypts straight into the sealed value and opening decrypts straight
/// into the result; the format is unchanged — values sealed the old way (the whole-buffer
/// `Aead` API, `version ‖ nonce ‖ ciphertext ‖ tag`) open, and new ones open with that API.
#[test]
fn s1_the_one_pass_seal_keeps_the_stored_format_both_ways() {
    let key = SecretKey::generate();
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.expose()).unwrap();
    let aad = b"documents|id|content";
    for len in [0usize, 1, 15, 16, 17, 4096, 1 << 20] {
        let msg: Vec<u8> = (0..len).map(|i| (i % 251) as u8).collect();
        let nonce = [7u8; 12];
        let mut old = vec![1u8];
        old.extend_from_slice(&nonce);
        old.extend(cipher.encrypt(&nonce.into(), Payload { msg: &msg, aad }).unwrap());
        assert_eq!(&*envelope::open_raw(&key, aad, &old).unwrap(), &msg, "old value, len {len}");
        let new = envelope::seal_raw(&key, aad, &msg).unwrap();
        assert_eq!(new.len(), old.len());
        let back = cipher.decrypt(new[1..13].try_into().unwrap(), Payload { msg: &new[13..], aad }).unwrap();
        assert_eq!(back, msg, "new value, len {len}");
        let mut bad = new.clone();
        *bad.last_mut().unwrap() ^= 1;
        assert!(envelope::open_raw(&key, aad, &bad).is_err());
    }
}
