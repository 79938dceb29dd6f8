//! The authorization matrix (issue 11): `tests/data/authorization.tsv` lists every context
//! call × who calls it (owner, another patient, an unconfirmed account, a proxy without the
//! call's scope, a revoked proxy, staff of another clinic, an ended session) → the outcome.
//! This test builds that world once per engine and walks every cell; a cell that differs
//! from the table fails with its coordinates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::error::ErrorCode;
use kabinet::{ErrorKind, ItemData, Me};
use support::{Harness, TestDb, device, registration_n, snils_for};
use time::Duration;
use time::macros::{date, datetime};

on_both!(every_cell_of_the_authorization_matrix);

const MATRIX: &str = include_str!("data/authorization.tsv");
const COLUMNS: [&str; 7] = ["owner", "other", "unconfirmed", "noscope", "revoked", "staff2", "ended"];
const SCOPES: [&str; 4] = ["records", "labs", "appointments", "requests"];

/// Anna's data and the things the calls need.
struct World {
    anna_id: String,
    clinic: String,
    gp: String,
    slots: Vec<kabinet::Slot>,
    item: String,
    document: String,
    lab_result: String,
    appointment: String,
    request: String,
    public_pem: String,
    correction: String,
    certificate: String,
    profile_change: String,
    ready_certificate: String,
    spare_session: String,
    proxy_pending: String,
    spare_grant: String,
    detach_pending: String,
    anna_snils: String,
}

/// The callers of one row.
struct Callers {
    anna: Me,
    anna_ended: Me,
    other: Me,
    unconfirmed: Me,
    /// A proxy for Anna lacking one scope each (by scope), and one with every scope.
    noscope: Vec<(String, Me)>,
    full_proxy: Me,
    revoked: Me,
    doctor: Me,
    doctor_ended: Me,
    doctor2: Me,
}

fn outcome(r: Result<(), kabinet::Error>) -> String {
    match r {
        Ok(()) => "ok".into(),
        Err(e) => match e.kind() {
            ErrorKind::PermissionDenied => "denied".into(),
            ErrorKind::NotFound => "not_found".into(),
            ErrorKind::Session => "session".into(),
            ErrorKind::Conflict => "conflict".into(),
            ErrorKind::Authentication => "auth".into(),
            ErrorKind::Validation => "invalid".into(),
            _ => format!("{:?}({})", e.kind(), e.code()),
        },
    }
}

async fn call(name: &str, me: &Me, w: &World, slot: usize) -> Result<(), kabinet::Error> {
    let anna = w.anna_id.as_str();
    let staff = || me.staff();
    match name {
        "profile.get" => me.profile().get().await.map(drop),
        "profile.completeness" => me.profile().completeness().await.map(drop),
        "profile.history" => me.profile().history().await.map(drop),
        "profile.request_change" => me.profile().request_change("surname", "Петрова", None).await.map(drop),
        "security.sessions" => me.security().sessions().await.map(drop),
        "security.access_history" => me.security().access_history(None).await.map(drop),
        "security.access_history_page" => me.security().access_history_page(None, Some(5), None).await.map(drop),
        "security.incidents" => me.security().incidents().await.map(drop),
        "identity.confirmed" => me.identity().confirmed().await.map(drop),
        "notifications.preferences" => me.notifications().preferences().await.map(drop),
        "notifications.set_preferences" => me.notifications().set_preferences(true, true, false).await.map(drop),
        "directory.regions" => me.directory().regions().await.map(drop),
        "directory.find_clinic" => me.directory().find_clinic("0101").await.map(drop),
        "records.visits" => me.records().visits().await.map(drop),
        "records.immunizations" => me.records().immunizations().await.map(drop),
        "records.allergies" => me.records().allergies().await.map(drop),
        "records.medications" => me.records().medications().await.map(drop),
        "records.export_fhir" => me.records().export_fhir().await.map(drop),
        "records.request_correction" => me.records().request_correction(&w.item, "дата другая").await.map(drop),
        "records.corrections" => me.records().corrections().await.map(drop),
        "documents.list" => me.documents().list(None, None, None).await.map(drop),
        "documents.list_page" => me.documents().list_page(None, None, None, Some(5), None).await.map(drop),
        "documents.download" => me.documents().download(&w.document).await.map(drop),
        "documents.share" => me.documents().share(&w.document, &w.public_pem).await.map(drop),
        "labs.results" => me.labs().results(None).await.map(drop),
        "labs.results_page" => me.labs().results_page(None, Some(5), None).await.map(drop),
        "labs.report_pdf" => me.labs().report_pdf(&w.lab_result).await.map(drop),
        "appointments.list" => me.appointments().list(true).await.map(drop),
        "appointments.free_slots" => {
            let from = w.slots[0].starts_at;
            me.appointments().free_slots(&w.gp, from, from + Duration::days(1)).await.map(drop)
        }
        "appointments.book" => me.appointments().book(&w.slots[slot].id).await.map(drop),
        "appointments.card_pdf" => me.appointments().card_pdf(&w.appointment).await.map(drop),
        "appointments.reschedule" => me.appointments().reschedule(&w.appointment, &w.slots[slot].id).await.map(drop),
        "appointments.cancel" => me.appointments().cancel(&w.appointment).await.map(drop),
        "requests.list" => me.requests().list().await.map(drop),
        "requests.get" => me.requests().get(&w.request).await.map(drop),
        "requests.create" => me.requests().create(&w.clinic, "Справка", "Нужна справка").await.map(drop),
        "requests.reply" => me.requests().reply(&w.request, "Дополняю").await.map(drop),
        "requests.export_pdf" => me.requests().export_pdf(&w.request).await.map(drop),
        "certificates.list" => me.certificates().list().await.map(drop),
        "certificates.kinds" => me.certificates().kinds().await.map(drop),
        "certificates.confirm" => me.certificates().confirm(&w.certificate, "000000").await.map(drop),
        "profile.confirm_change" => me.profile().confirm_change(&w.profile_change, "000000").await.map(drop),
        "attachment.current" => me.attachment().current().await.map(drop),
        "attachment.history" => me.attachment().history().await.map(drop),
        "proxies.list" => me.proxies().list().await.map(drop),
        "staff.patients.find" => staff()?.patients().find(Some("112-233-445 95"), None).await.map(drop),
        "staff.patients.attached" => staff()?.patients().attached().await.map(drop),
        "staff.patients.attached_page" => staff()?.patients().attached_page(Some(5), None).await.map(drop),
        "staff.records.add" => staff()?.records().add(anna, immunization()).await.map(drop),
        "staff.records.of_patient" => staff()?.records().of_patient(anna).await.map(drop),
        "staff.labs.publish" => staff()?.labs().publish(anna, lab_report()).await.map(drop),
        "staff.documents.publish" => staff()?
            .documents()
            .publish(anna, kabinet::DocumentKind::Extract, "выписка.pdf", PDF, meta())
            .await
            .map(drop),
        "staff.requests.inbox" => staff()?.requests().inbox().await.map(drop),
        "staff.requests.inbox_page" => staff()?.requests().inbox_page(Some(5), None).await.map(drop),
        "staff.requests.reply" => {
            staff()?.requests().reply(&w.request, "Ответ", kabinet::RequestStatus::InProcessing).await.map(drop)
        }
        "staff.corrections.inbox" => staff()?.corrections().inbox().await.map(drop),
        "staff.corrections.inbox_page" => staff()?.corrections().inbox_page(Some(5), None).await.map(drop),
        "staff.corrections.versions" => staff()?.corrections().versions(&w.item).await.map(drop),
        "staff.corrections.resolve" => {
            staff()?.corrections().resolve(&w.correction, false, "Данные верны", None).await.map(drop)
        }
        "staff.appointments.list" => {
            let from = w.slots[0].starts_at;
            staff()?.appointments().list(from, from + Duration::days(1)).await.map(drop)
        }
        "staff.proxies.grant" => staff()?
            .proxies()
            .grant(kabinet::WardGrant {
                proxy_snils: Some(snils_for(61)),
                ward_patient_id: anna.to_owned(),
                scopes: vec!["records".into()],
                basis: "Доверенность".into(),
                ..Default::default()
            })
            .await
            .map(drop),
        "profile.set_locale" => me.profile().set_locale("ru").await.map(drop),
        "security.change_password" => {
            me.security().change_password("Wrong-Old!77q", "Sovsem-Novyj!93z").await.map(drop)
        }
        "security.enable_totp" => me.security().enable_totp().await.map(drop),
        "security.confirm_totp" => me.security().confirm_totp("000000").await.map(drop),
        "security.confirm_incident" => {
            me.security().confirm_incident("00000000-0000-4000-8000-000000000000", "000000").await.map(drop)
        }
        "security.revoke" => me.security().revoke(&w.spare_session).await.map(drop),
        "security.revoke_all" => me.security().revoke_all().await.map(drop),
        "identity.confirm" => me
            .identity()
            .confirm(kabinet::IdentityConfirmation {
                method: "sms".into(),
                full_name: "Иванова Анна Сергеевна".into(),
                birth_date: date!(1990 - 03 - 14),
                oms_policy: "8451999122899990".into(),
                phone: "+79161234567".into(),
            })
            .await
            .map(drop),
        "directory.clinics" => me.directory().clinics("01").await.map(drop),
        "directory.clinic" => me.directory().clinic(&w.clinic).await.map(drop),
        "directory.practitioners" => me.directory().practitioners(None, Some(&w.clinic), None).await.map(drop),
        "directory.free_slots" => {
            let from = w.slots[0].starts_at;
            me.directory().free_slots(&w.gp, from, from + Duration::days(1)).await.map(drop)
        }
        "directory.required_documents" => me.directory().required_documents("Первичный приём").await.map(drop),
        "records.screenings" => me.records().screenings().await.map(drop),
        "records.certificates" => me.records().certificates().await.map(drop),
        "certificates.request" => {
            me.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.map(drop)
        }
        "certificates.download" => me.certificates().download(&w.ready_certificate).await.map(drop),
        "requests.add_document" => me.requests().add_document(&w.request, "справка.pdf", PDF).await.map(drop),
        "requests.mark_completed" => me.requests().mark_completed(&w.request).await.map(drop),
        "attachment.attach" => {
            me.attachment().attach("0101", "4508123456", &w.anna_snils, "8451999122899990", None, None).await.map(drop)
        }
        "attachment.detach" => me.attachment().detach(None).await.map(drop),
        "attachment.confirm" => me.attachment().confirm(&w.detach_pending, "000000").await.map(drop),
        "proxies.grant" => me.proxies().grant(&snils_for(90), &["records".to_owned()], None).await.map(drop),
        "proxies.confirm" => me.proxies().confirm(&w.proxy_pending, "000000").await.map(drop),
        "proxies.revoke" => me.proxies().revoke(&w.spare_grant).await.map(drop),
        "staff.patients.record_card" => staff()?
            .patients()
            .record_card(anna, "Иванова", "Анна", Some("Сергеевна"), date!(1990 - 03 - 14))
            .await
            .map(drop),
        other => panic!("the matrix names an unknown call: {other}"),
    }
}

const PDF: &[u8] = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";

fn meta() -> kabinet::DocumentMeta {
    kabinet::DocumentMeta {
        created_on: date!(2026 - 11 - 20), institution: "Поликлиника № 1".into(), study_type: None
    }
}

fn immunization() -> ItemData {
    ItemData::Immunization(kabinet::Immunization {
        vaccine: "Спутник V".into(),
        date: date!(2025 - 10 - 01),
        dose: None,
        lot: None,
        performer: None,
        next_due: None,
    })
}

fn lab_report() -> kabinet::LabReport {
    kabinet::LabReport {
        title: "Глюкоза".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: datetime!(2026-11-27 10:00 UTC),
        results: vec![kabinet::LabResultInput {
            test_name: "Глюкоза".into(),
            code: "L-GLU".into(),
            value: Some("5.0".parse().unwrap()),
            value_text: None,
            unit: Some("ммоль/л".into()),
            range_low: Some("3.9".parse().unwrap()),
            range_high: Some("6.1".parse().unwrap()),
            range_text: None,
            sampled_at: datetime!(2026-11-27 08:00 UTC),
        }],
    }
}

async fn session(h: &Harness, tokens: &kabinet::Tokens) -> Me {
    h.cab.session(&tokens.access_token, &device()).await.unwrap()
}

/// Anna (patient `n`) grants `scopes` to patient `proxy` by her own code; returns the
/// proxy's context for her.
async fn proxy_for(h: &Harness, anna: &Me, proxy: u32, scopes: &[&str]) -> (Me, String) {
    let p = session(h, &h.patient(registration_n(proxy)).await).await;
    let scopes: Vec<String> = scopes.iter().map(|s| (*s).to_owned()).collect();
    let pending = anna.proxies().grant(&snils_for(proxy), &scopes, None).await.unwrap();
    let grant = anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    (p.as_ward(anna.patient_id().unwrap()).await.unwrap(), grant.id)
}

/// Rows of the matrix (context calls).
const ROWS: usize = 87;

async fn every_cell_of_the_authorization_matrix(db: TestDb) {
    use rsa::pkcs8::{DecodePrivateKey, EncodePublicKey};
    let h = db.harness().await;
    let (c1, c2) = h.two_clinics().await;
    let start = *h.clock.0.lock().unwrap() + Duration::days(2);
    let (gp, slots) = h.gp_with_slots(&c1, start, Duration::hours(8)).await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let anna_id = anna.patient_id().unwrap().to_owned();
    let doctor = h.staff(&c1, "doctor", 60).await;
    let ds = doctor.staff().unwrap();
    let item = ds.records().add(&anna_id, immunization()).await.unwrap().id;
    let document =
        ds.documents().publish(&anna_id, kabinet::DocumentKind::Extract, "выписка.pdf", PDF, meta()).await.unwrap().id;
    let lab_result = ds.labs().publish(&anna_id, lab_report()).await.unwrap()[0].id.clone();
    let appointment = anna.appointments().book(&slots[0].id).await.unwrap().id;
    let request = anna.requests().create(&c1, "Справка", "Нужна справка").await.unwrap().id;
    let correction = anna.records().request_correction(&item, "другая серия").await.unwrap().id;
    let certificate = anna.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.unwrap().id;
    let profile_change = anna.profile().request_change("surname", "Петрова", None).await.unwrap().id;
    let ready = anna.certificates().request(kabinet::CertificateKind::Vaccination, None, None).await.unwrap().id;
    let ready_certificate =
        anna.certificates().confirm(&ready, &h.inbox.last_code("certificate_code")).await.unwrap().id;
    let spare = session(&h, &h.signed_in().await).await;
    let spare_session = spare.security().sessions().await.unwrap().into_iter().find(|s| s.current).unwrap().id;
    let _ = h.patient(registration_n(90)).await; // the proxy the proxies.grant row names
    let _ = h.patient(registration_n(91)).await;
    let proxy_pending = anna.proxies().grant(&snils_for(91), &["records".to_owned()], None).await.unwrap().id;
    let (_, spare_grant) = proxy_for(&h, &anna, 72, &["records"]).await;
    let detach_pending = anna.attachment().detach(None).await.unwrap().id;
    let anna_snils = anna.profile().get().await.unwrap().snils.unwrap();
    let vectors: serde_json::Value =
        serde_json::from_str(include_str!("../../tests/vectors/wycheproof/rsa_oaep_4096_sha256_mgf1sha256_test.json"))
            .unwrap();
    let private =
        rsa::RsaPrivateKey::from_pkcs8_pem(vectors["testGroups"][0]["privateKeyPem"].as_str().unwrap()).unwrap();
    let public_pem = rsa::RsaPublicKey::from(&private).to_public_key_pem(rsa::pkcs8::LineEnding::LF).unwrap();
    let w = World {
        anna_id: anna_id.clone(),
        clinic: c1.clone(),
        gp: gp.id.clone(),
        slots,
        item,
        document,
        lab_result,
        appointment,
        request,
        public_pem,
        correction,
        certificate,
        profile_change,
        ready_certificate,
        spare_session,
        proxy_pending,
        spare_grant,
        detach_pending,
        anna_snils,
    };
    // The callers.
    let _ = session(&h, &h.patient(registration_n(61)).await).await; // the proxy the staff row names
    let other = session(&h, &h.patient(registration_n(62)).await).await;
    let unconfirmed = session(&h, &h.patient_unconfirmed(registration_n(63)).await).await;
    let mut noscope = Vec::new();
    for (i, missing) in SCOPES.iter().enumerate() {
        let held: Vec<&str> = SCOPES.iter().copied().filter(|s| s != missing).collect();
        noscope.push(((*missing).to_owned(), proxy_for(&h, &anna, 64 + i as u32, &held).await.0));
    }
    let (full_proxy, _) = proxy_for(&h, &anna, 68, &SCOPES).await;
    let (revoked, grant) = proxy_for(&h, &anna, 69, &SCOPES).await;
    anna.proxies().revoke(&grant).await.unwrap();
    let anna_ended = session(&h, &h.signed_in().await).await;
    let ended_id = anna_ended.security().sessions().await.unwrap().into_iter().find(|s| s.current).unwrap().id;
    anna.security().revoke(&ended_id).await.unwrap();
    let doctor_ended = h.staff(&c1, "doctor", 70).await;
    let own = doctor_ended.security().sessions().await.unwrap().into_iter().find(|s| s.current).unwrap().id;
    doctor_ended.security().revoke(&own).await.unwrap();
    let doctor2 = h.staff(&c2, "doctor", 71).await;
    let callers =
        Callers { anna, anna_ended, other, unconfirmed, noscope, full_proxy, revoked, doctor, doctor_ended, doctor2 };
    // Walk the matrix.
    let mut slot = 1;
    let mut cells = 0;
    let mut wrong = Vec::new();
    for line in MATRIX.lines().filter(|l| !l.starts_with('#') && !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 2 + COLUMNS.len(), "malformed row: {line}");
        let (name, scope) = (fields[0], fields[1]);
        let staff_call = name.starts_with("staff.");
        for (column, expected) in COLUMNS.iter().zip(&fields[2..]) {
            let me = match *column {
                "owner" if staff_call => &callers.doctor,
                "owner" => &callers.anna,
                "other" => &callers.other,
                "unconfirmed" => &callers.unconfirmed,
                "noscope" => callers.noscope.iter().find(|(s, _)| s == scope).map_or(&callers.full_proxy, |(_, m)| m),
                "revoked" => &callers.revoked,
                "staff2" => &callers.doctor2,
                "ended" if staff_call => &callers.doctor_ended,
                _ => &callers.anna_ended,
            };
            let got = outcome(call(name, me, &w, slot).await);
            if matches!(name, "appointments.book" | "appointments.reschedule") {
                slot += 1; // a fresh slot for every attempt
            }
            cells += 1;
            if got != *expected {
                wrong.push(format!("{name} × {column}: expected {expected}, got {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{} of {cells} cells differ from the matrix:\n{}", wrong.len(), wrong.join("\n"));
    assert_eq!(cells, ROWS * COLUMNS.len(), "every row walked");
}
