//! Storage and crypto on both engines (S2, R1, R21): encrypted round trips, no plaintext
//! at rest, tamper and swap detection, blind-index lookups, erasure, KEK rotation, and
//! typed errors for a wrong URL, database or key.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use kabinet::crypto::{LocalFileKeyProvider, PassphraseKeyProvider};
use kabinet::{Cabinet, Config, CryptoError, Error, ErrorCode, ErrorKind, Locale};
use sqlx::Row;
use support::{TestDb, anna, boris};

on_both!(
    s2_patient_round_trip,
    s2_nothing_in_clear_at_rest,
    s2_tampered_byte_is_an_integrity_error,
    s2_swapped_ciphertexts_fail,
    s2_blind_index_lookup_and_no_silent_merge,
    r1_invalid_input_is_typed_and_stores_nothing,
    s2_erasure_destroys_the_key,
    s2_kek_rotation_rewraps_without_reencrypting,
    s2_wrong_key_is_a_typed_error,
    store_reopen_keeps_data,
);

async fn s2_patient_round_trip(db: TestDb) {
    let cab = db.open().await;
    let id = cab.system().patients().create(anna()).await.unwrap();
    let p = cab.system().patients().get(&id).await.unwrap();
    assert_eq!(p.surname, "Иванова");
    assert_eq!(p.given_name, "Анна");
    assert_eq!(p.patronymic.as_deref(), Some("Сергеевна"));
    assert_eq!(p.birth_date, time::macros::date!(1990 - 03 - 14));
    assert_eq!(p.sex, kabinet::ids::Sex::Female);
    assert_eq!(p.snils.as_deref(), Some("11223344595"));
    assert_eq!(p.inn.as_deref(), Some("500100732259"));
    assert_eq!(p.oms_policy.as_deref(), Some("8451999122899990"));
    assert_eq!(p.phone.as_deref(), Some("+79161234567"));
    assert_eq!(p.email.as_deref(), Some("anna.ivanova@example.ru"));
    // Debug output of personal data shows no personal data.
    let shown = format!("{p:?}");
    assert!(!shown.contains("Иванова") && !shown.contains("11223344595"), "{shown}");
    let missing = cab.system().patients().get("no-such-id").await.unwrap_err();
    assert_eq!(missing.kind(), ErrorKind::NotFound);
}

async fn s2_nothing_in_clear_at_rest(db: TestDb) {
    let cab = db.open().await;
    cab.system().patients().create(anna()).await.unwrap();
    let secrets: [&[u8]; 7] = [
        "Иванова".as_bytes(),
        "Сергеевна".as_bytes(),
        b"11223344595",
        b"500100732259",
        b"8451999122899990",
        b"+79161234567",
        b"anna.ivanova",
    ];
    let contains = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    match db.backend {
        kabinet::Backend::Sqlite => {
            cab.close().await;
            let bytes = db.sqlite_bytes();
            assert!(bytes.len() > 4096);
            for s in secrets {
                assert!(!contains(&bytes, s), "plaintext {:?} found in the SQLite file", String::from_utf8_lossy(s));
            }
        }
        kabinet::Backend::Postgres => {
            let raw = db.raw().await;
            let rows = sqlx::query(
                "SELECT surname, given_name, patronymic, birth_date, sex, snils, inn, enp, phone, email FROM patients",
            )
            .fetch_all(&raw)
            .await
            .unwrap();
            assert_eq!(rows.len(), 1);
            let mut stored = Vec::new();
            for i in 0..10 {
                if let Some(b) = rows[0].try_get::<Option<Vec<u8>>, _>(i).unwrap() {
                    stored.extend(b);
                }
            }
            assert!(stored.len() > 200);
            for s in secrets {
                assert!(!contains(&stored, s));
            }
        }
    }
}

async fn s2_tampered_byte_is_an_integrity_error(db: TestDb) {
    let cab = db.open().await;
    let id = cab.system().patients().create(anna()).await.unwrap();
    let raw = db.raw().await;
    let mut blob: Vec<u8> =
        sqlx::query_scalar("SELECT surname FROM patients WHERE id = $1").bind(&id).fetch_one(&raw).await.unwrap();
    let last = blob.len() - 1;
    blob[last] ^= 0x80;
    sqlx::query("UPDATE patients SET surname = $1 WHERE id = $2").bind(blob).bind(&id).execute(&raw).await.unwrap();
    let err = cab.system().patients().get(&id).await.unwrap_err();
    assert!(matches!(err, Error::Crypto(CryptoError::Integrity)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Integrity);
    assert_eq!(err.code(), "crypto.integrity");
}

async fn s2_swapped_ciphertexts_fail(db: TestDb) {
    let cab = db.open().await;
    let a = cab.system().patients().create(anna()).await.unwrap();
    let b = cab.system().patients().create(boris()).await.unwrap();
    let raw = db.raw().await;
    // Another field of the same row.
    sqlx::query("UPDATE patients SET given_name = surname WHERE id = $1").bind(&a).execute(&raw).await.unwrap();
    assert!(matches!(cab.system().patients().get(&a).await, Err(Error::Crypto(CryptoError::Integrity))));
    // The same field moved from another patient's row.
    let theirs: Vec<u8> =
        sqlx::query_scalar("SELECT surname FROM patients WHERE id = $1").bind(&a).fetch_one(&raw).await.unwrap();
    sqlx::query("UPDATE patients SET surname = $1 WHERE id = $2").bind(theirs).bind(&b).execute(&raw).await.unwrap();
    assert!(matches!(cab.system().patients().get(&b).await, Err(Error::Crypto(CryptoError::Integrity))));
}

async fn s2_blind_index_lookup_and_no_silent_merge(db: TestDb) {
    let cab = db.open().await;
    let pats = cab.system().patients();
    let id = pats.create(anna()).await.unwrap();
    assert_eq!(pats.find_by_snils("11223344595").await.unwrap().as_deref(), Some(id.as_str()));
    assert_eq!(pats.find_by_snils("112 233 445 95").await.unwrap().as_deref(), Some(id.as_str()));
    assert_eq!(pats.find_by_oms_policy("8451999122899990").await.unwrap().as_deref(), Some(id.as_str()));
    assert_eq!(pats.find_by_snils("123-456-789 64").await.unwrap(), None);
    // Same SNILS for a different person is refused, not merged.
    let mut twin = boris();
    twin.snils = anna().snils;
    let err = pats.create(twin).await.unwrap_err();
    assert_eq!(err.code(), "patient.exists");
    assert_eq!(err.kind(), ErrorKind::Conflict);
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&db.raw().await).await.unwrap();
    assert_eq!(n, 1);
}

async fn r1_invalid_input_is_typed_and_stores_nothing(db: TestDb) {
    let cab = db.open().await;
    let pats = cab.system().patients();
    let cases: Vec<(kabinet::NewPatient, &str, kabinet::Reason)> = vec![
        (kabinet::NewPatient { snils: Some("112-233-445 96".into()), ..anna() }, "snils", kabinet::Reason::Checksum),
        (
            kabinet::NewPatient { oms_policy: Some("8451999122899991".into()), ..anna() },
            "enp",
            kabinet::Reason::Checksum,
        ),
        (kabinet::NewPatient { phone: Some("8 495 123 45 67".into()), ..anna() }, "phone", kabinet::Reason::NotMobile),
        (kabinet::NewPatient { inn: Some("7709442668".into()), ..anna() }, "inn", kabinet::Reason::Length),
        (kabinet::NewPatient { email: Some("anna@".into()), ..anna() }, "email", kabinet::Reason::Format),
        (kabinet::NewPatient { surname: " ".into(), ..anna() }, "surname", kabinet::Reason::Empty),
        (kabinet::NewPatient { sex: kabinet::Sex::Unknown, ..anna() }, "sex", kabinet::Reason::UnknownValue),
        (
            kabinet::NewPatient { birth_date: time::macros::date!(2999 - 01 - 01), ..anna() },
            "birth_date",
            kabinet::Reason::Future,
        ),
    ];
    for (input, field, reason) in cases {
        match pats.create(input).await.unwrap_err() {
            Error::Validation(v) => {
                assert_eq!((v.field, v.reason), (field, reason));
                let en = v.message(Locale::En);
                assert!(!en.contains("8451") && !en.contains("112-233"), "{en}");
            }
            other => panic!("expected a validation error for {field}, got {other:?}"),
        }
    }
    let raw = db.raw().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&raw).await.unwrap();
    let k: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wrapped_keys WHERE purpose = 'patient'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!((n, k), (0, 0), "a refused record must leave nothing behind");
}

async fn s2_erasure_destroys_the_key(db: TestDb) {
    let cab = db.open().await;
    let pats = cab.system().patients();
    let a = pats.create(anna()).await.unwrap();
    let b = pats.create(boris()).await.unwrap();
    pats.erase(&a).await.unwrap();
    let err = pats.get(&a).await.unwrap_err();
    assert!(matches!(err, Error::Crypto(CryptoError::KeyDestroyed)), "{err:?}");
    assert_eq!(pats.find_by_snils("11223344595").await.unwrap(), None);
    // Others are untouched.
    assert_eq!(pats.get(&b).await.unwrap().surname, "Смирнов");
    let raw = db.raw().await;
    let wrapped: Option<Vec<u8>> = sqlx::query_scalar("SELECT wrapped FROM wrapped_keys WHERE id = $1")
        .bind(format!("patient:{a}"))
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(wrapped.is_none());
    assert_eq!(pats.erase("no-such").await.unwrap_err().kind(), ErrorKind::NotFound);
    // After erasure the SNILS may be registered again (it is no longer on file).
    pats.create(anna()).await.unwrap();
}

async fn s2_kek_rotation_rewraps_without_reencrypting(db: TestDb) {
    let cab = db.open().await;
    let pats = cab.system().patients();
    let a = pats.create(anna()).await.unwrap();
    let b = pats.create(boris()).await.unwrap();
    pats.erase(&b).await.unwrap();
    let raw = db.raw().await;
    let before: Vec<u8> =
        sqlx::query_scalar("SELECT surname FROM patients WHERE id = $1").bind(&a).fetch_one(&raw).await.unwrap();
    let old_kek: String = sqlx::query_scalar("SELECT kek_id FROM wrapped_keys WHERE id = $1")
        .bind(format!("patient:{a}"))
        .fetch_one(&raw)
        .await
        .unwrap();
    let live: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wrapped_keys WHERE wrapped IS NOT NULL")
        .fetch_one(&raw)
        .await
        .unwrap();
    let report = cab.system().keys().rotate().await.unwrap();
    assert_ne!(report.kek_id, old_kek);
    assert_eq!(report.rewrapped, live as u64, "every live key: the patient's and the system keys");
    assert!(live >= 2);
    assert_eq!(report.destroyed_skipped, 1);
    let after: Vec<u8> =
        sqlx::query_scalar("SELECT surname FROM patients WHERE id = $1").bind(&a).fetch_one(&raw).await.unwrap();
    assert_eq!(before, after, "data ciphertexts are not re-encrypted");
    let stale: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM wrapped_keys WHERE wrapped IS NOT NULL AND kek_id <> $1")
        .bind(&report.kek_id)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(stale, 0);
    assert_eq!(pats.get(&a).await.unwrap().surname, "Иванова");
    cab.close().await;
    // A fresh process with the same key file reads everything.
    let again = db.open().await;
    assert_eq!(again.system().patients().get(&a).await.unwrap().given_name, "Анна");
    assert_eq!(again.system().patients().find_by_snils("11223344595").await.unwrap().as_deref(), Some(a.as_str()));
}

async fn s2_wrong_key_is_a_typed_error(db: TestDb) {
    let cab = db.open().await;
    cab.system().patients().create(anna()).await.unwrap();
    cab.close().await;
    let other = db.dir.path().join("other-kek.json");
    let wrong =
        Config { key_provider: Some(Arc::new(LocalFileKeyProvider::open(other).unwrap())), ..Config::default() };
    let err = Cabinet::open(&db.url, wrong).await.unwrap_err();
    assert!(matches!(err, Error::Crypto(CryptoError::KeyUnavailable)), "{err:?}");
    assert_eq!(err.kind(), ErrorKind::Config);
    let pass = Config {
        key_provider: Some(Arc::new(PassphraseKeyProvider::new("not the right passphrase").unwrap())),
        ..Config::default()
    };
    assert!(matches!(Cabinet::open(&db.url, pass).await, Err(Error::Crypto(CryptoError::KeyUnavailable))));
}

async fn store_reopen_keeps_data(db: TestDb) {
    let id = {
        let cab = db.open().await;
        let id = cab.system().patients().create(boris()).await.unwrap();
        cab.close().await;
        id
    };
    let cab = db.open().await;
    assert_eq!(cab.system().patients().get(&id).await.unwrap().surname, "Смирнов");
}

#[tokio::test]
async fn config_errors_are_typed_never_panics() {
    for url in ["mysql://x/y", "", "sqlite:", "postgres://"] {
        let err = Cabinet::open(url, Config::default()).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Config, "{url}");
        assert_eq!(err.code(), "config.url");
        assert!(!err.message(Locale::Ru).is_empty());
    }
    // PostgreSQL without an explicit key provider.
    let err = Cabinet::open("postgres://root@localhost/x", Config::default()).await.unwrap_err();
    assert_eq!(err.code(), "config.key_provider_required");
    // A file that is not a database.
    let dir = tempfile::tempdir().unwrap();
    let bogus = dir.path().join("not-a-db.db");
    std::fs::write(&bogus, vec![0x42u8; 8192]).unwrap();
    let err = Cabinet::open(&format!("sqlite://{}", bogus.display()), Config::default()).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Storage, "{err:?}");
    // An unreachable PostgreSQL: a storage error whose message holds no URL or password.
    let cfg =
        Config { key_provider: Some(Arc::new(kabinet::crypto::EphemeralKeyProvider::new())), ..Config::default() };
    let err = Cabinet::open("postgres://user:s3cret@127.0.0.1:1/nope", cfg).await.unwrap_err();
    assert_eq!(err.code(), "storage.unavailable");
    let shown = format!("{err} {}", err.message(Locale::En));
    assert!(!shown.contains("s3cret"), "{shown}");
    // Argon2 parameters below the floor.
    let weak = Config {
        password_hashing: kabinet::Argon2Params { memory_kib: 64, iterations: 1, parallelism: 1 },
        ..Config::default()
    };
    assert!(Cabinet::open_in_memory().await.is_ok());
    assert_eq!(Cabinet::open("sqlite::memory:", weak).await.unwrap_err().code(), "config.argon2");
}

#[tokio::test]
async fn in_memory_cabinet_works() {
    let cab = Cabinet::open_in_memory().await.unwrap();
    let id = cab.system().patients().create(anna()).await.unwrap();
    assert_eq!(cab.system().patients().get(&id).await.unwrap().surname, "Иванова");
}

#[test]
fn r17_every_error_code_has_both_languages() {
    let unique: std::collections::BTreeSet<_> = kabinet::i18n::codes().iter().map(|(c, _, _)| c).collect();
    assert_eq!(unique.len(), kabinet::i18n::codes().len(), "a code appears twice in the catalog");
    for (code, ru, en) in kabinet::i18n::codes() {
        assert!(!ru.is_empty() && !en.is_empty(), "{code}");
        assert_ne!(ru, en, "{code} must be translated");
    }
    // Every code, entity, field, reason and message kind written in the sources has both texts:
    // scan core/src rather than keep a list that can fall behind.
    let mut used = std::collections::BTreeSet::new();
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (marker, prefix) in [
                ("code: \"", ""),
                ("entity: \"", "entity."),
                ("ValidationError::new(\"", "field."),
                ("ValidationError::one_of(\"", "field."),
                (" in \"", "field."), // closed_set! { pub enum Name in "field" { … } }
                ("=> \"", ""),
            ] {
                for part in text.split(marker).skip(1) {
                    let name: String = part.chars().take_while(|c| *c != '"').collect();
                    let dotted_arm = marker != "=> \"" || name.contains('.');
                    if dotted_arm
                        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_' || c == '.')
                        && !name.is_empty()
                    {
                        used.insert(format!("{prefix}{name}"));
                    }
                }
            }
            for call in ["message(", "message_with("] {
                for part in text.split(call).skip(1) {
                    // The kind is the second argument: `cab.message(patient, "kind", …)`.
                    if let Some(kind) = part.split(',').nth(1).and_then(|a| a.trim().strip_prefix('"')) {
                        let kind: String = kind.chars().take_while(|c| *c != '"').collect();
                        used.insert(format!("msg.{kind}.subject"));
                        used.insert(format!("msg.{kind}.text"));
                    }
                }
            }
        }
    }
    for role in kabinet::StaffRole::VALUES {
        used.insert(format!("role.{role}"));
    }
    assert!(used.len() > 100, "the scan found only {} codes", used.len());
    for code in &used {
        assert!(kabinet::i18n::codes().iter().any(|(c, _, _)| c == code), "missing text for {code}");
    }
}
