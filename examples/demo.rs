//! The README's main job: a patient journey on an embedded SQLite file, no setup.
//!
//! Today (foundation) it opens a cabinet, stores a patient's personal data encrypted,
//! reads it back, shows that the database holds only ciphertext, finds the patient through
//! a blind index, rotates the key-encryption key, erases a patient by destroying their key,
//! and reads the patient's access history from the signed journal and verifies it. Later
//! issues extend it into the full journey (registration, login, booking, …).
//!
//! Run: `cargo run -p kabinet-examples --bin demo [-- DATABASE_DIR]`

use std::path::PathBuf;

use kabinet::{Cabinet, Config, ErrorCode, Locale, NewPatient};

#[allow(clippy::print_stdout)]
#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).map_or_else(|| PathBuf::from("target/kabinet-demo"), PathBuf::from);
    std::fs::create_dir_all(&dir)?;
    let db = dir.join("kabinet.db");
    for stale in ["kabinet.db", "kabinet.db-wal", "kabinet.db-shm", "kabinet.db.keys"] {
        let _ = std::fs::remove_file(dir.join(stale));
    }
    let url = format!("sqlite://{}", db.display());
    println!("== Kabinet demo ==");
    println!("Opening {url} (key file {}.keys, mode 0600)", db.display());
    let cab = Cabinet::open(&url, Config { locale: Locale::En, ..Config::default() }).await?;
    let patients = cab.system().patients();

    let id = patients
        .create(NewPatient {
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: Some("Сергеевна".into()),
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: "female".into(),
            snils: Some("112-233-445 95".into()),
            inn: Some("500100732259".into()),
            oms_policy: Some("8451 9991 2289 9990".into()),
            phone: Some("8 (916) 123-45-67".into()),
            email: Some("anna.ivanova@example.ru".into()),
        })
        .await?;
    println!("\n1. Created patient {id}");

    let p = patients.get(&id).await?;
    println!(
        "2. Read back (decrypted): {} {} {}, born {}, SNILS {}, phone {}",
        p.surname,
        p.given_name,
        p.patronymic.as_deref().unwrap_or(""),
        p.birth_date,
        p.snils.as_deref().unwrap_or("-"),
        p.phone.as_deref().unwrap_or("-")
    );

    cab.close().await;
    let mut raw = std::fs::read(&db)?;
    if let Ok(wal) = std::fs::read(dir.join("kabinet.db-wal")) {
        raw.extend(wal);
    }
    let found = |s: &str| raw.windows(s.len()).any(|w| w == s.as_bytes());
    println!(
        "3. What is stored: {} bytes on disk; plaintext present? surname: {}, SNILS: {}, phone: {}",
        raw.len(),
        found("Иванова"),
        found("11223344595"),
        found("+79161234567")
    );

    let cab = Cabinet::open(&url, Config { locale: Locale::En, ..Config::default() }).await?;
    let patients = cab.system().patients();
    let by_snils = patients.find_by_snils("11223344595").await?;
    println!("4. Lookup by SNILS through the blind index: {}", by_snils.as_deref().unwrap_or("none"));

    let report = cab.system().keys().rotate().await?;
    println!(
        "5. KEK rotated to {}: {} keys re-wrapped, data not re-encrypted; still readable: {}",
        report.kek_id,
        report.rewrapped,
        patients.get(&id).await?.given_name
    );

    match patients.create(NewPatient { snils: Some("112-233-445 96".into()), ..demo_child() }).await {
        Err(e) => println!("6. Bad input is refused with a typed error: [{}] {}", e.code(), e.message(Locale::En)),
        Ok(_) => println!("6. unexpected: bad SNILS accepted"),
    }

    patients.erase(&id).await?;
    match patients.get(&id).await {
        Err(e) => {
            println!("7. Erased (crypto-shredding): reading now fails with [{}] {}", e.code(), e.message(Locale::En))
        }
        Ok(_) => println!("7. unexpected: erased data readable"),
    }

    let audit = cab.system().audit();
    println!("8. Access history of that patient, from the signed journal (newest first):");
    for e in audit.access_history(&id, None).await? {
        println!("   #{:<3} {}  {:<8} {:<6} {} {}", e.seq, e.at.date(), e.who, e.action, e.resource_type, e.outcome);
    }
    let report = audit.verify().await?;
    let head = report.signed_head.as_ref().map(|h| hex(&h.root)).unwrap_or_default();
    println!(
        "9. Journal verified: ok = {}, {} entries, signed root {}…",
        report.ok,
        report.entries,
        &head[..16.min(head.len())]
    );
    let proof = audit.inclusion_proof(0).await?;
    let checked = kabinet::audit::verify_inclusion_proof(&audit.public_key(), &proof).is_ok();
    println!("   Entry #0 proven included with only the public key and a {}-hash proof: {checked}", proof.path.len());
    cab.close().await;
    println!("\nDone. Database: {}", db.display());
    Ok(())
}

fn demo_child() -> NewPatient {
    NewPatient {
        surname: "Иванов".into(),
        given_name: "Пётр".into(),
        patronymic: None,
        birth_date: time::macros::date!(2018 - 06 - 01),
        sex: "male".into(),
        snils: None,
        inn: None,
        oms_policy: None,
        phone: None,
        email: None,
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
