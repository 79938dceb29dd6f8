//! The README's main job: a patient journey on an embedded SQLite file, no setup.
//!
//! Anna registers (phone confirmed by an SMS code, e-mail by an activation token), signs in
//! with her password and an SMS second factor, and looks at her profile, her sessions and
//! who accessed her data. Then the operator's view: what is stored is ciphertext, lookups
//! go through blind indexes, the key-encryption key rotates without re-encrypting data, the
//! signed journal verifies and proves an entry with only its public key, and erasure
//! destroys the patient's key. On the way she confirms her identity, finds a clinic and a
//! doctor in the directory, books a visit and cancels it.
//!
//! Run: `cargo run -p kabinet-examples --bin demo [-- DATABASE_DIR]`

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use kabinet::integrations::{DeliveryError, IdentityRegistry, Message, Notifier, RegistryAnswer, RegistryRequest};
use kabinet::{Cabinet, Config, Device, ErrorCode, Locale, Registration};

/// Stands in for the state registries (R2): knows Anna.
struct DemoRegistry;

impl IdentityRegistry for DemoRegistry {
    fn check(&self, r: &RegistryRequest) -> Result<RegistryAnswer, DeliveryError> {
        let matched = r.surname == "Иванова" && r.given_name == "Анна";
        Ok(RegistryAnswer { matched, reason: (!matched).then(|| "name_mismatch".into()) })
    }
}

/// Stands in for the host's SMS gateway and mail server: prints and keeps each message.
#[derive(Default)]
struct ConsoleNotifier(Mutex<Vec<Message>>);

impl ConsoleNotifier {
    fn last_code(&self, kind: &str) -> String {
        let all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.iter().rev().find(|m| m.kind == kind).and_then(|m| m.code.clone()).unwrap_or_default()
    }
}

impl Notifier for ConsoleNotifier {
    #[allow(clippy::print_stdout)]
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        println!("   [{} to {}] {}", m.channel.as_str(), m.recipient, m.text);
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(m.clone());
        Ok(())
    }
}

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
    let sms = Arc::new(ConsoleNotifier::default());
    let config = || Config {
        locale: Locale::En,
        notifier: Some(sms.clone()),
        identity_registry: Some(Arc::new(DemoRegistry)),
        ..Config::default()
    };
    println!("== Kabinet demo ==");
    println!("Opening {url} (key file {}.keys, mode 0600)", db.display());
    let cab = Cabinet::open(&url, config()).await?;

    println!("\n1. Anna registers; Kabinet hands the SMS code to the host's notifier:");
    let reg = cab
        .accounts()
        .register(Registration {
            phone: "8 (916) 123-45-67".into(),
            email: "anna.ivanova@example.ru".into(),
            password: "Vek-Tor!58zeb".into(),
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: Some("Сергеевна".into()),
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: "112-233-445 95".into(),
            accepted_terms_version: "2026-01".into(),
            inn: Some("500100732259".into()),
        })
        .await?;
    println!("2. She types the code; the phone is confirmed and an activation e-mail goes out:");
    cab.accounts().confirm_phone(&reg.id, &sms.last_code("phone_confirmation")).await?;
    cab.accounts().confirm_email(&sms.last_code("email_confirmation")).await?;
    println!("   e-mail confirmed");

    let phone = Device {
        id: "pixel-8-anna".into(),
        name: "Pixel 8".into(),
        ip: "203.0.113.7".into(),
        user_agent: "KabinetApp/1.0".into(),
    };
    match cab.auth().login("+79161234567", "Wrong-Pass!93x", &phone).await {
        Err(e) => println!("3. A mistyped password: [{}] {}", e.code(), e.message(Locale::En)),
        Ok(_) => println!("3. unexpected: a wrong password was accepted"),
    }
    println!("4. The right password, then the SMS second factor:");
    let step = cab.auth().login("+79161234567", "Vek-Tor!58zeb", &phone).await?;
    let tokens = cab.auth().verify_second_factor(&step.id, &sms.last_code("login_code")).await?;
    println!("   signed in; access token valid until {}", tokens.expires_at);
    let me = cab.session(&tokens.access_token, &phone).await?;
    let p = me.profile().get().await?;
    println!(
        "5. Her profile (decrypted for her): {} {} {}, born {}, SNILS {}",
        p.surname,
        p.given_name,
        p.patronymic.as_deref().unwrap_or(""),
        p.birth_date,
        p.snils.as_deref().unwrap_or("-")
    );
    for s in me.security().sessions().await? {
        println!(
            "   session on {} from {} since {}{}",
            s.device,
            s.ip,
            s.started_at.time(),
            if s.current { " (this one)" } else { "" }
        );
    }
    println!("5a. She confirms her identity against the state registries (R2):");
    let check = me
        .identity()
        .confirm(kabinet::IdentityConfirmation {
            method: "sms".into(),
            full_name: "Иванова Анна Сергеевна".into(),
            birth_date: time::macros::date!(1990 - 03 - 14),
            oms_policy: "8451 9991 2289 9990".into(),
            phone: "+79161234567".into(),
        })
        .await?;
    println!("   identity confirmed: {}", check.confirmed);
    let by_inn = cab.auth().login("5001 0073 2259", "Vek-Tor!58zeb", &phone).await?;
    println!("   her INN now signs her in too (R3): second factor {}", by_inn.second_factor);
    println!("5b. The operator fills the directory and opens tomorrow's slots; she books a visit (R8):");
    let sys = cab.system();
    sys.directory().add_region("77", "Москва", None).await?;
    let clinic = sys
        .directory()
        .add_clinic("77", "0101", "ГБУЗ «Городская поликлиника № 1»", "ул. Ленина, 1", "пн–пт 8:00–20:00")
        .await?;
    let gp =
        sys.directory().add_practitioner(&clinic.id, "Петров Пётр Петрович", "терапевт", &["first".into()]).await?;
    let start = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).replace_time(time::macros::time!(09:00));
    sys.schedule().open_slots(&gp.id, start, start + time::Duration::hours(1), 20, "first").await?;
    let found = me.directory().find_clinic("гбуз городская поликлиника № 1").await?;
    let doctor = me.directory().practitioners(Some("Терапевт"), Some(&found.id), None).await?.remove(0);
    let free = me.appointments().free_slots(&doctor.id, start, start + time::Duration::days(1)).await?;
    let visit = me.appointments().book(&free[0].id).await?;
    println!(
        "   visit card: {}, {} ({}), {} — bring {}; code {}",
        visit.practitioner_name,
        visit.clinic_name,
        visit.clinic_address,
        visit.starts_at,
        visit.required_documents.join(", "),
        visit.confirmation_code
    );
    let cancelled = me.appointments().cancel(&visit.id).await?;
    println!("5c. She cancels it (allowed until 2 hours before): status {}", cancelled.status);
    println!("5d. She attaches to the clinic (SMS code); a doctor signs in with TOTP and records a visit:");
    let pending =
        me.attachment().attach("0101", "45 08 123456", "112-233-445 95", "8451 9991 2289 9990", None, None).await?;
    let attached = me.attachment().confirm(&pending.id, &sms.last_code("attachment_code")).await?;
    println!("   attachment: {} — {}", attached.clinic_name, attached.status);
    println!("   The policy she gave is in her profile now; she adds her insurer (SMS code) (R18, R19):");
    let change = me.profile().request_change("insurer", "АО «СОГАЗ-Мед»", None).await?;
    me.profile().confirm_change(&change.id, &sms.last_code("profile_change")).await?;
    for item in me.profile().completeness().await? {
        println!("   still to do: {} → {}", item.what_to_do, item.call);
    }
    let staff = sys
        .staff()
        .create(kabinet::NewStaff {
            clinic_id: clinic.id.clone(),
            role: kabinet::StaffRole::Doctor,
            full_name: "Петров Пётр Петрович".into(),
            phone: "+7 903 555-00-01".into(),
            email: "petrov@clinic.example.ru".into(),
            password: "Terapevt#2026".into(),
        })
        .await?;
    let step = cab.auth().login("+79035550001", "Terapevt#2026", &phone).await?;
    let now = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    let code = kabinet::auth::totp::code_at_base32(&staff.totp_secret_base32, now).unwrap_or_default();
    let doctor = cab.session(&cab.auth().verify_second_factor(&step.id, &code).await?.access_token, &phone).await?;
    let pid = me.patient_id()?.to_owned();
    doctor
        .staff()?
        .records()
        .add(
            &pid,
            kabinet::ItemData::Visit(kabinet::Visit {
                date: time::OffsetDateTime::now_utc().date(),
                institution: clinic.name.clone(),
                diagnoses: vec![kabinet::Diagnosis { icd10: "J06.9".into(), text: "ОРВИ".into() }],
                procedures: vec!["осмотр".into()],
            }),
        )
        .await?;
    for v in me.records().visits().await? {
        if let kabinet::ItemData::Visit(v) = v.data {
            println!(
                "   her visit: {} at {}, diagnosis {} {}",
                v.date, v.institution, v.diagnoses[0].icd10, v.diagnoses[0].text
            );
        }
    }
    println!("5e. The lab publishes a result; Kabinet flags it against the reference range (R9):");
    let sampled = time::OffsetDateTime::now_utc() - time::Duration::hours(2);
    let cholesterol = kabinet::LabResultInput {
        test_name: "Холестерин общий".into(),
        code: "2093-3".into(),
        value: Some(kabinet::Decimal::new(63, 1)),
        value_text: None,
        unit: Some("ммоль/л".into()),
        range_low: None,
        range_high: Some(kabinet::Decimal::new(52, 1)),
        range_text: None,
        sampled_at: sampled,
    };
    let report = kabinet::LabReport {
        title: "Липидный профиль".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: time::OffsetDateTime::now_utc() - time::Duration::minutes(5),
        results: vec![cholesterol],
    };
    doctor.staff()?.labs().publish(&pid, report).await?;
    for r in me.labs().results(None).await? {
        println!(
            "   {}: {} {} (norm {}) → {}",
            r.test_name,
            r.value.unwrap_or_default(),
            r.unit.unwrap_or_default(),
            r.reference_range.unwrap_or_default(),
            r.flag.map_or("—", kabinet::LabFlag::as_str)
        );
    }
    println!("5f. She orders an extract from her outpatient card, confirms it by SMS, downloads the PDF (R10):");
    let offered = me.certificates().kinds().await?;
    println!(
        "   the region offers {} kinds: {}",
        offered.len(),
        offered.iter().map(|k| k.title.as_str()).collect::<Vec<_>>().join("; ")
    );
    let pending = me.certificates().request(kabinet::CertificateKind::OutpatientCardExtract, None, None).await?;
    let extract = me.certificates().confirm(&pending.id, &sms.last_code("certificate_code")).await?;
    let pdf = me.certificates().download(&extract.id).await?;
    let pdf_path = dir.join("extract.pdf");
    std::fs::write(&pdf_path, &pdf)?;
    println!(
        "   {}: {} — {} bytes, written to {} (Cyrillic text, DejaVu Sans embedded)",
        extract.title,
        extract.status,
        pdf.len(),
        pdf_path.display()
    );
    println!("5g. She takes her whole record out as FHIR R4, for another clinic's system:");
    let bundle = me.records().export_fhir().await?;
    let fhir_path = dir.join("record.fhir.json");
    std::fs::write(&fhir_path, &bundle)?;
    let mut kinds: Vec<&str> = bundle
        .match_indices("\"resourceType\": \"")
        .filter_map(|(i, m)| {
            let rest = &bundle[i + m.len()..];
            rest.split('"').next()
        })
        .filter(|k| *k != "Bundle")
        .collect();
    kinds.sort_unstable();
    kinds.dedup();
    println!("   {} bytes with {}, written to {}", bundle.len(), kinds.join(", "), fhir_path.display());
    println!("6. Who accessed her account and data (from the signed journal, newest first):");
    for e in me.security().access_history(None).await? {
        println!(
            "   #{:<3} {:<30} {:<13} {:<19} {:<8} {}",
            e.seq,
            e.who,
            e.action,
            e.resource_type,
            e.outcome,
            e.ip.unwrap_or_default()
        );
    }
    let patient_id = me.patient_id()?.to_owned();
    cab.auth().logout(&tokens.access_token).await?;
    cab.close().await;

    let mut raw = std::fs::read(&db)?;
    if let Ok(wal) = std::fs::read(dir.join("kabinet.db-wal")) {
        raw.extend(wal);
    }
    let found = |s: &str| raw.windows(s.len()).any(|w| w == s.as_bytes());
    println!(
        "\n7. What is stored: {} bytes on disk; plaintext present? surname: {}, SNILS: {}, phone: {}",
        raw.len(),
        found("Иванова"),
        found("11223344595"),
        found("+79161234567")
    );

    let cab = Cabinet::open(&url, config()).await?;
    let patients = cab.system().patients();
    let by_snils = patients.find_by_snils("11223344595").await?;
    println!("8. Operator lookup by SNILS through the blind index: {}", by_snils.as_deref().unwrap_or("none"));
    let report = cab.system().keys().rotate().await?;
    println!(
        "9. KEK rotated to {}: {} keys re-wrapped, data not re-encrypted; still readable: {}",
        report.kek_id,
        report.rewrapped,
        patients.get(&patient_id).await?.given_name
    );
    match kabinet::ids::snils("112-233-445 96") {
        Err(e) => println!("10. Bad input is refused with a typed error: [{}] {}", e.code(), e.message(Locale::En)),
        Ok(_) => println!("10. unexpected: bad SNILS accepted"),
    }
    let audit = cab.system().audit();
    let report = audit.verify().await?;
    let head = report.signed_head.as_ref().map(|h| hex(&h.root)).unwrap_or_default();
    println!(
        "11. Journal verified: ok = {}, {} entries, signed root {}…",
        report.ok,
        report.entries,
        &head[..16.min(head.len())]
    );
    let proof = audit.inclusion_proof(0).await?;
    let checked = kabinet::audit::verify_inclusion_proof(&audit.public_key(), &proof).is_ok();
    println!("    Entry #0 proven included with only the public key and a {}-hash proof: {checked}", proof.path.len());
    patients.erase(&patient_id).await?;
    match patients.get(&patient_id).await {
        Err(e) => {
            println!("12. Erased (crypto-shredding): reading now fails with [{}] {}", e.code(), e.message(Locale::En))
        }
        Ok(_) => println!("12. unexpected: erased data readable"),
    }
    cab.close().await;
    let received = sms.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
    let mut kinds: Vec<(String, usize)> = Vec::new();
    for m in &received {
        match kinds.iter_mut().find(|(k, _)| *k == m.kind) {
            Some((_, n)) => *n += 1,
            None => kinds.push((m.kind.clone(), 1)),
        }
    }
    println!("\nNotifications the host received ({}):", received.len());
    for (kind, n) in kinds {
        println!("   {n} × {kind}");
    }
    println!("\nDone. Database: {}", db.display());
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
