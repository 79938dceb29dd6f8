//! R9 (lab results and flags), R12 (records and corrections), R13 (requests, statuses,
//! retention), R19 (completeness), R20 (proxies) and the authorization table, on both engines.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::{Error, ErrorCode, ErrorKind, ItemData, Me};
use support::{Harness, TestDb, device, registration_n, snils_for};
use time::Duration;
use time::macros::{date, datetime};

on_both!(
    r12_staff_record_and_patient_reads_encrypted_records,
    r12_corrections_accepted_change_the_record_with_history,
    r9_lab_results_with_flags_and_one_sided_ranges,
    r13_requests_statuses_messages_documents_and_retention,
    r20_proxy_acts_for_a_ward_within_scopes_journaled,
    r19_completeness_reports_what_is_missing,
    authorization_table_for_every_call,
);

fn code(e: Error) -> &'static str {
    e.code()
}

async fn session(h: &Harness, tokens: &kabinet::Tokens) -> Me {
    h.cab.session(&tokens.access_token, &device()).await.unwrap()
}

fn immunization() -> ItemData {
    ItemData::Immunization(kabinet::Immunization {
        vaccine: "Спутник V".into(),
        date: date!(2025 - 10 - 01),
        dose: Some("1 из 2".into()),
        lot: Some("II-123".into()),
        performer: None,
        next_due: None,
    })
}

fn visit(icd: &str) -> ItemData {
    ItemData::Visit(kabinet::Visit {
        date: date!(2026 - 02 - 10),
        institution: "Поликлиника № 1".into(),
        diagnoses: vec![kabinet::Diagnosis { icd10: icd.into(), text: "ОРВИ".into() }],
        procedures: vec!["осмотр".into()],
    })
}

/// Anna attached to clinic 0101 and a doctor of it.
async fn anna_and_doctor(h: &Harness) -> (Me, Me, String, String) {
    let (c1, c2) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let doctor = h.staff(&c1, "doctor", 1).await;
    (anna, doctor, c1, c2)
}

async fn r12_staff_record_and_patient_reads_encrypted_records(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor, clinic, _) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let records = doctor.staff().unwrap().records();
    let added = records.add(&pid, immunization()).await.unwrap();
    assert_eq!((added.version, added.clinic_id.as_deref()), (1, Some(clinic.as_str())));
    records.add(&pid, visit("j06.9")).await.unwrap();
    records
        .add(
            &pid,
            ItemData::Medication(kabinet::Medication {
                name: "Амоксициллин".into(),
                dosage: "500 мг".into(),
                schedule: "3 раза в день".into(),
                start: date!(2026 - 02 - 10),
                end: Some(date!(2026 - 02 - 17)),
                prescriber: "Петров П. П.".into(),
            }),
        )
        .await
        .unwrap();
    records
        .add(
            &pid,
            ItemData::Allergy(kabinet::Allergy {
                substance: "пенициллин".into(),
                reaction: "крапивница".into(),
                severity: Some(kabinet::Severity::parse(" Moderate ").unwrap()),
                noted_on: date!(2019 - 05 - 01),
            }),
        )
        .await
        .unwrap();
    records
        .add(
            &pid,
            ItemData::Screening(kabinet::Screening {
                name: "флюорография".into(),
                date: date!(2026 - 01 - 15),
                result: "норма".into(),
            }),
        )
        .await
        .unwrap();
    records
        .add(
            &pid,
            ItemData::Certificate(kabinet::HealthCertificate {
                purpose: kabinet::CertificatePurpose::Work,
                issued_on: date!(2026 - 03 - 01),
                valid_until: Some(date!(2027 - 03 - 01)),
                conclusion: "годен".into(),
            }),
        )
        .await
        .unwrap();
    let r = anna.records();
    assert_eq!(r.immunizations().await.unwrap()[0].data, immunization());
    match &r.visits().await.unwrap()[0].data {
        ItemData::Visit(v) => assert_eq!(v.diagnoses[0].icd10, "J06.9", "ICD-10 normalized"),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.medications().await.unwrap().len(), 1);
    match &r.allergies().await.unwrap()[0].data {
        ItemData::Allergy(a) => assert_eq!(a.severity, Some(kabinet::Severity::Moderate)),
        other => panic!("{other:?}"),
    }
    assert_eq!(r.screenings().await.unwrap().len(), 1);
    assert_eq!(r.certificates().await.unwrap().len(), 1);
    // Bad input is refused with the field named, and nothing is stored.
    for (bad, field) in [
        (visit("J6"), "icd10"),
        (visit("J06.123"), "icd10"),
        (
            ItemData::Immunization(kabinet::Immunization {
                date: date!(2030 - 01 - 01),
                ..match immunization() {
                    ItemData::Immunization(i) => i,
                    _ => unreachable!(),
                }
            }),
            "date",
        ),
    ] {
        match records.add(&pid, bad).await.unwrap_err() {
            Error::Validation(v) => assert_eq!(v.field, field),
            other => panic!("{other:?}"),
        }
    }
    // Closed sets refuse other values when parsed, naming the field and the valid values.
    let deadly = kabinet::Severity::parse("deadly").unwrap_err();
    assert_eq!((deadly.field, deadly.reason), ("severity", kabinet::Reason::UnknownValue));
    assert_eq!(deadly.allowed, ["mild", "moderate", "severe"]);
    assert!(Error::from(deadly).message(kabinet::Locale::En).contains("mild, moderate, severe"));
    assert_eq!(r.visits().await.unwrap().len(), 1);
    // Encrypted at rest: no vaccine name, no diagnosis in the database.
    let raw = db.raw().await;
    let bodies: Vec<Vec<u8>> = sqlx::query_scalar("SELECT body FROM medical_items").fetch_all(&raw).await.unwrap();
    assert_eq!(bodies.len(), 6);
    for needle in ["Спутник", "J06.9", "пенициллин"] {
        assert!(bodies.iter().all(|b| !b.windows(needle.len()).any(|w| w == needle.as_bytes())), "{needle} in clear");
    }
    // Every read is journaled: Anna sees the doctor's writes and her own reads.
    let history = anna.security().access_history(None).await.unwrap();
    assert!(history.iter().any(|e| e.actor_kind == "staff" && e.action == "create" && e.resource_type == "visit"));
    assert!(history.iter().any(|e| e.who == "you" && e.action == "read" && e.resource_type == "immunization"));
}

async fn r12_corrections_accepted_change_the_record_with_history(db: TestDb) {
    let h = db.harness().await;
    let (anna, doctor, _, _) = anna_and_doctor(&h).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let staff = doctor.staff().unwrap();
    let item = staff.records().add(&pid, immunization()).await.unwrap();
    let wrong_date = anna.records().request_correction(&item.id, "Прививка была 2 октября, не 1-го").await.unwrap();
    assert_eq!(wrong_date.status, "pending");
    let other = anna.records().request_correction(&item.id, "И серия другая").await.unwrap();
    assert_eq!(anna.records().request_correction("nope", "x").await.unwrap_err().kind(), ErrorKind::NotFound);
    let inbox = staff.corrections().inbox().await.unwrap();
    assert_eq!(inbox.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [wrong_date.id.as_str(), other.id.as_str()]);
    assert_eq!(inbox[0].wanted_change, "Прививка была 2 октября, не 1-го");
    // Accepting needs the corrected item; rejecting must not carry one.
    match staff.corrections().resolve(&wrong_date.id, true, "исправлено", None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "corrected"),
        other => panic!("{other:?}"),
    }
    let fixed = ItemData::Immunization(kabinet::Immunization {
        vaccine: "Спутник V".into(),
        date: date!(2025 - 10 - 02),
        dose: Some("1 из 2".into()),
        lot: Some("II-123".into()),
        performer: None,
        next_due: None,
    });
    let kind_change = staff.corrections().resolve(&wrong_date.id, true, "ok", Some(visit("J06.9"))).await;
    assert_eq!(kind_change.unwrap_err().kind(), ErrorKind::Validation);
    let done =
        staff.corrections().resolve(&wrong_date.id, true, "Исправлено по журналу", Some(fixed.clone())).await.unwrap();
    assert_eq!((done.status.as_str(), done.comment.as_deref()), ("accepted", Some("Исправлено по журналу")));
    assert_eq!(
        code(staff.corrections().resolve(&wrong_date.id, false, "again", None).await.unwrap_err()),
        "correction.resolved"
    );
    staff.corrections().resolve(&other.id, false, "Серия верна", None).await.unwrap();
    let now = anna.records().immunizations().await.unwrap().remove(0);
    assert_eq!((now.version, &now.data), (2, &fixed));
    assert_eq!(staff.corrections().versions(&item.id).await.unwrap(), [immunization()], "the old version is kept");
    let mine = anna.records().corrections().await.unwrap();
    assert_eq!(mine.iter().map(|c| c.status.as_str()).collect::<Vec<_>>(), ["rejected", "accepted"]);
    assert_eq!(h.inbox.count("correction_resolved"), 2);
}

fn result(
    name: &str,
    value: Option<f64>,
    text: Option<&str>,
    low: Option<f64>,
    high: Option<f64>,
    range_text: Option<&str>,
) -> kabinet::LabResultInput {
    kabinet::LabResultInput {
        test_name: name.into(),
        code: format!("L-{name}"),
        value: value.map(decimal),
        value_text: text.map(str::to_owned),
        unit: value.map(|_| "ммоль/л".to_owned()),
        range_low: low.map(decimal),
        range_high: high.map(decimal),
        range_text: range_text.map(str::to_owned),
        sampled_at: datetime!(2026-11-27 08:00 UTC),
    }
}

fn decimal(x: f64) -> kabinet::Decimal {
    kabinet::Decimal::try_from(x).unwrap().normalize()
}

async fn r9_lab_results_with_flags_and_one_sided_ranges(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let lab = h.staff(&c1, "laboratory", 2).await;
    let pid = anna.patient_id().unwrap().to_owned();
    let report = kabinet::LabReport {
        title: "Липидный профиль".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: datetime!(2026-11-28 08:00 UTC),
        results: vec![
            result("Холестерин", Some(6.3), None, None, Some(5.2), None),
            result("ЛПВП", Some(0.9), None, Some(1.0), None, None),
            result("Глюкоза", Some(4.8), None, Some(3.9), Some(6.1), None),
            result("Триглицериды", Some(1.7), None, None, Some(1.7), None),
            result("ВИЧ", None, Some("Положительно"), None, None, Some("отрицательно")),
            result("Белок в моче", None, Some("Отрицательно"), None, None, Some("отрицательно")),
            result("Без нормы", Some(12.0), None, None, None, None),
        ],
    };
    let published = lab.staff().unwrap().labs().publish(&pid, report.clone()).await.unwrap();
    let flags: Vec<Option<&str>> = published.iter().map(|r| r.flag.map(kabinet::LabFlag::as_str)).collect();
    assert_eq!(
        flags,
        [Some("high"), Some("low"), Some("normal"), Some("normal"), Some("abnormal"), Some("normal"), None]
    );
    assert_eq!(published[0].reference_range.as_deref(), Some("≤ 5.2"));
    assert_eq!(published[1].reference_range.as_deref(), Some("≥ 1"));
    assert_eq!(published[2].reference_range.as_deref(), Some("3.9–6.1"));
    let sms = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "lab_result").cloned().unwrap();
    assert!(sms.text.contains("Липидный профиль"), "{}", sms.text);
    let mine = anna.labs().results(None).await.unwrap();
    assert_eq!(mine.len(), 7);
    assert_eq!(mine[0].test_name, "Холестерин");
    assert_eq!(mine[0].flag, Some(kabinet::LabFlag::High));
    assert!(anna.labs().results(Some(datetime!(2026-11-28 00:00 UTC))).await.unwrap().is_empty());
    // Every view is journaled.
    let views = anna.security().access_history(None).await.unwrap();
    assert_eq!(views.iter().filter(|e| e.resource_type == "lab_result" && e.action == "read").count(), 2);
    // One bad result refuses the whole report.
    let mut bad = report.clone();
    bad.results.push(result("Пусто", None, None, None, None, None));
    match lab.staff().unwrap().labs().publish(&pid, bad).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "value"),
        other => panic!("{other:?}"),
    }
    // A value keeps the digits it was given: 4.10 within 3.50–5.20 reads back as written.
    let mut precise = result("Калий", None, None, None, None, None);
    precise.value = Some("4.10".parse().unwrap());
    precise.range_low = Some("3.50".parse().unwrap());
    precise.range_high = Some("5.20".parse().unwrap());
    let exact = kabinet::LabReport { results: vec![precise], ..report.clone() };
    let published = lab.staff().unwrap().labs().publish(&pid, exact).await.unwrap();
    assert_eq!(published[0].reference_range.as_deref(), Some("3.50–5.20"));
    let back = anna.labs().results(None).await.unwrap().into_iter().find(|r| r.test_name == "Калий").unwrap();
    assert_eq!(back.value.map(|v| v.to_string()).as_deref(), Some("4.10"));
    assert_eq!(back.flag, Some(kabinet::LabFlag::Normal));
    // Lab results and the access history page the same way (keyset: nothing repeats or is
    // skipped when results arrive between pages).
    let all: Vec<String> = anna.labs().results(None).await.unwrap().into_iter().map(|r| r.id).collect();
    let first = anna.labs().results_page(None, Some(3), None).await.unwrap();
    let mut newer = result("Новый", Some(1.0), None, None, None, None);
    newer.sampled_at = datetime!(2026-11-27 09:00 UTC);
    let meanwhile = kabinet::LabReport { results: vec![newer], ..report.clone() };
    lab.staff().unwrap().labs().publish(&pid, meanwhile).await.unwrap();
    let (mut paged, mut cursor) = (first.items.into_iter().map(|r| r.id).collect::<Vec<_>>(), first.next_cursor);
    while let Some(c) = cursor {
        let page = anna.labs().results_page(None, Some(3), Some(&c)).await.unwrap();
        paged.extend(page.items.into_iter().map(|r| r.id));
        cursor = page.next_cursor;
    }
    assert_eq!(paged, all, "a result published meanwhile is newer and shows on a new first page");
    let history = anna.security().access_history(None).await.unwrap();
    let page = anna.security().access_history_page(None, Some(2), None).await.unwrap();
    assert_eq!(page.items.len(), 2);
    let next = anna.security().access_history_page(None, Some(2), page.next_cursor.as_deref()).await.unwrap();
    assert!(next.items.iter().all(|e| e.seq < page.items[1].seq), "older entries follow");
    assert!(history.len() > 4);
    let mut inverted = report.clone();
    inverted.results = vec![result("X", Some(1.0), None, Some(5.0), Some(1.0), None)];
    assert_eq!(lab.staff().unwrap().labs().publish(&pid, inverted).await.unwrap_err().kind(), ErrorKind::Validation);
    assert_eq!(anna.labs().results(None).await.unwrap().len(), 9);
}

async fn r13_requests_statuses_messages_documents_and_retention(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    let registrar = h.staff(&c1, "registrar", 3).await;
    let req = anna.requests().create(&c1, "Справка для бассейна", "Нужна справка к пятнице").await.unwrap();
    assert_eq!(req.status, "in_processing");
    assert_eq!(req.messages[0].author_kind, "patient");
    let staff = registrar.staff().unwrap().requests();
    assert_eq!(staff.inbox().await.unwrap().iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), [req.id.as_str()]);
    let asked = staff
        .reply(&req.id, "Пришлите результаты анализов", kabinet::RequestStatus::ClarificationNeeded)
        .await
        .unwrap();
    assert_eq!(asked.status, "clarification_needed");
    assert_eq!(asked.messages[1].author_name.as_deref(), Some("registrar Сотрудник 3"));
    assert_eq!(h.inbox.count("request_status"), 1);
    let refused = anna.requests().add_document(&req.id, "анализы.pdf", b"<html><script>x</script></html>").await;
    assert_eq!(code(refused.unwrap_err()), "validation", "checked like the document store");
    let pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let doc = anna.requests().add_document(&req.id, "анализы.pdf", pdf).await.unwrap();
    assert_eq!(doc.size, pdf.len() as u64);
    let answered = anna.requests().reply(&req.id, "Прикрепила").await.unwrap();
    assert_eq!(answered.status, "in_processing", "the patient's answer resumes processing");
    assert_eq!(answered.documents[0].filename, "анализы.pdf");
    assert_eq!(code(kabinet::RequestStatus::parse("archived").unwrap_err().into()), "validation");
    let done = staff.reply(&req.id, "Справка готова", kabinet::RequestStatus::Completed).await.unwrap();
    assert_eq!(done.status, "completed");
    assert!(done.completed_at.is_some());
    assert_eq!(code(anna.requests().reply(&req.id, "спасибо").await.unwrap_err()), "request.completed");
    assert_eq!(code(anna.requests().mark_completed(&req.id).await.unwrap_err()), "request.completed");
    assert_eq!(
        code(staff.reply(&req.id, "ещё", kabinet::RequestStatus::InProcessing).await.unwrap_err()),
        "request.completed"
    );
    assert!(staff.inbox().await.unwrap().is_empty());
    // The inbox pages oldest first, by (last change, id); a bad cursor is a validation error.
    let mut open = Vec::new();
    for n in 0..5 {
        open.push(anna.requests().create(&c1, &format!("Вопрос {n}"), "Текст").await.unwrap().id);
        h.clock.advance(Duration::seconds(1));
    }
    let first = staff.inbox_page(Some(2), None).await.unwrap();
    let second_page = staff.inbox_page(Some(2), first.next_cursor.as_deref()).await.unwrap();
    let third = staff.inbox_page(Some(2), second_page.next_cursor.as_deref()).await.unwrap();
    let paged: Vec<String> = [first.items, second_page.items, third.items].concat().into_iter().map(|r| r.id).collect();
    assert_eq!((paged, third.next_cursor), (open.clone(), None));
    assert_eq!(code(staff.inbox_page(Some(2), Some("x")).await.unwrap_err()), "validation");
    // The operator's view of a patient's access history pages the same way.
    let audit = h.cab.system().audit();
    let entries = audit.access_history(anna.patient_id().unwrap(), None).await.unwrap();
    let page = audit.access_history_page(anna.patient_id().unwrap(), None, Some(3), None).await.unwrap();
    assert_eq!(page.items.len(), 3);
    assert!(page.items[0].seq > entries[0].seq, "the page read is itself journaled first");
    for id in open {
        anna.requests().mark_completed(&id).await.unwrap();
    }
    let second = anna.requests().create(&c1, "Вопрос", "Текст").await.unwrap();
    assert_eq!(anna.requests().mark_completed(&second.id).await.unwrap().status, "completed");
    assert_eq!(anna.requests().list().await.unwrap().len(), 7);
    // Subjects and messages are sealed.
    let raw = db.raw().await;
    let subjects: Vec<Vec<u8>> = sqlx::query_scalar("SELECT subject FROM requests").fetch_all(&raw).await.unwrap();
    assert!(subjects.iter().all(|s| !s.windows(8).any(|w| w == "Справка".as_bytes().get(..8).unwrap())));
    // Retention: 5 years after completion both are purged by the jobs, journaled.
    h.clock.advance(Duration::days(5 * 365));
    assert_eq!(h.cab.run_due_jobs().await.unwrap().requests_purged, 0, "not yet");
    h.clock.advance(Duration::days(3));
    assert_eq!(h.cab.run_due_jobs().await.unwrap().requests_purged, 7);
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM request_messages").fetch_one(&raw).await.unwrap();
    assert_eq!(left, 0);
    let purged: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE action = 'delete' AND resource_type = 'request' AND actor_kind = 'system'",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(purged, 7);
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
}

async fn r20_proxy_acts_for_a_ward_within_scopes_journaled(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    // Anna's son, 11, registered at the clinic.
    let son =
        session(&h, &h.patient(kabinet::Registration { birth_date: date!(2015 - 06 - 01), ..registration_n(7) }).await)
            .await;
    h.attach(&son, "0101").await;
    let son_id = son.patient_id().unwrap().to_owned();
    let doctor = h.staff(&c1, "doctor", 4).await;
    doctor.staff().unwrap().records().add(&son_id, immunization()).await.unwrap();
    // Not a proxy yet.
    assert_eq!(anna.as_ward(&son_id).await.unwrap_err().kind(), ErrorKind::NotFound);
    // A minor cannot grant; the clinic registers the parent.
    assert_eq!(
        code(son.proxies().grant("112-233-445 95", &["records".into()], None).await.unwrap_err()),
        "proxy.ward_minor"
    );
    let grant = doctor
        .staff()
        .unwrap()
        .proxies()
        .grant(kabinet::WardGrant {
            proxy_patient_id: Some(anna.patient_id().unwrap().to_owned()),
            ward_patient_id: son_id.clone(),
            scopes: vec!["records".into(), "labs".into()],
            basis: "Свидетельство о рождении II-МЮ 123456".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(grant.scopes, ["labs", "records"]);
    assert_eq!(grant.valid_until.date(), date!(2027 - 11 - 29), "a year from today, before his 18th birthday");
    let for_son = anna.as_ward(&son_id).await.unwrap();
    assert_eq!(for_son.records().immunizations().await.unwrap().len(), 1);
    assert!(for_son.labs().results(None).await.unwrap().is_empty());
    // Outside the scopes: no appointments, requests, profile, security.
    assert_eq!(code(for_son.appointments().list(true).await.unwrap_err()), "proxy.scope");
    assert_eq!(code(for_son.requests().list().await.unwrap_err()), "proxy.scope");
    assert_eq!(code(for_son.profile().get().await.unwrap_err()), "proxy.scope");
    assert_eq!(code(for_son.security().access_history(None).await.unwrap_err()), "proxy.scope");
    // Journaled as the proxy acting for the ward; the son sees "your representative".
    let raw = db.raw().await;
    let row: (String, Option<String>) = sqlx::query_as(
        "SELECT actor_kind, on_behalf_of FROM audit_entries WHERE resource_type = 'immunization' AND action = 'read' ORDER BY seq DESC LIMIT 1",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!((row.0.as_str(), row.1.as_deref()), ("proxy", Some(son_id.as_str())));
    let seen = son.security().access_history(None).await.unwrap();
    assert!(seen.iter().any(|e| e.actor_kind == "proxy" && e.who == "your representative"));
    // An adult grants by SNILS and revokes.
    let boris = session(&h, &h.patient(registration_n(8)).await).await;
    let pending = boris.proxies().grant("112-233-445 95", &["requests".into()], None).await.unwrap();
    let g = boris.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    assert_eq!(
        code(boris.proxies().grant("112-233-445 95", &["requests".into()], None).await.unwrap_err()),
        "proxy.exists"
    );
    match boris.proxies().grant("112-233-445 95", &["security".into()], None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("scopes", "unknown_value")),
        other => panic!("{other:?}"),
    }
    let boris_id = boris.patient_id().unwrap().to_owned();
    assert!(anna.as_ward(&boris_id).await.unwrap().requests().list().await.unwrap().is_empty());
    assert_eq!(anna.proxies().list().await.unwrap().len(), 2);
    boris.proxies().revoke(&g.id).await.unwrap();
    assert_eq!(anna.as_ward(&boris_id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn r19_completeness_reports_what_is_missing(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let tokens = h.patient_unconfirmed(registration_n(9)).await;
    let me = session(&h, &tokens).await;
    let codes = |list: Vec<kabinet::MissingItem>| list.into_iter().map(|m| m.code).collect::<Vec<_>>();
    let first = me.profile().completeness().await.unwrap();
    assert!(first.iter().all(|m| !m.what_to_do.is_empty()));
    assert_eq!(
        codes(first),
        ["oms_policy_missing", "attachment_missing", "results_missing", "identity_unconfirmed", "email_unconfirmed"]
    );
    // Attachment is medical: it waits for the identity (R2, S5); the profile did not.
    let early =
        me.attachment().attach("0101", "4508123456", &snils_for(9), "8451999122899990", None, None).await.unwrap_err();
    assert_eq!((early.code(), early.kind()), ("identity.unconfirmed", ErrorKind::PermissionDenied));
    h.confirm_identity(&tokens, "Кузнецов Пётр", date!(1980 - 01 - 01)).await;
    h.attach(&me, "0101").await;
    let doctor = h.staff(&c1, "doctor", 5).await;
    doctor.staff().unwrap().records().add(me.patient_id().unwrap(), visit("I10")).await.unwrap();
    // The OMS policy given at attachment is saved to the profile (issue 14, item 8): what is
    // left is its insurer, which the advice points to.
    let left = me.profile().completeness().await.unwrap();
    assert_eq!(codes(left.clone()), ["insurer_missing", "email_unconfirmed"]);
    assert_eq!(left[0].call, "me.profile.request_change(\"insurer\")");
    assert_eq!(me.profile().get().await.unwrap().oms_policy, Some(support::enp_for(&snils_for(9))));
    // The clinic's card says another birth date: flagged, until the card agrees.
    let pid = me.patient_id().unwrap().to_owned();
    let staff = doctor.staff().unwrap();
    staff.patients().record_card(&pid, "Кузнецов", "Петр", None, date!(1980 - 01 - 02)).await.unwrap();
    assert_eq!(codes(me.profile().completeness().await.unwrap())[0], "clinic_card_mismatch");
    staff.patients().record_card(&pid, "КУЗНЕЦОВ", "Пётр", None, date!(1980 - 01 - 01)).await.unwrap();
    let now = codes(me.profile().completeness().await.unwrap());
    assert!(!now.contains(&"clinic_card_mismatch".to_owned()), "ё/е and case do not count: {now:?}");
    match staff.patients().record_card(&pid, "", "Петр", None, date!(1980 - 01 - 01)).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "surname"),
        other => panic!("{other:?}"),
    }
}

/// Who calls: the patient, another patient, a proxy of the patient, staff of the patient's
/// clinic, staff of another clinic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    Own,
    OtherPatient,
    Proxy,
    ClinicStaff,
    OtherClinicStaff,
}

async fn authorization_table_for_every_call(db: TestDb) {
    let h = db.harness().await;
    let (c1, c2) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let pid = anna.patient_id().unwrap().to_owned();
    let other = session(&h, &h.patient(registration_n(10)).await).await;
    let parent = session(&h, &h.patient(registration_n(11)).await).await;
    let doctor = h.staff(&c1, "doctor", 6).await;
    let stranger = h.staff(&c2, "doctor", 7).await;
    // Anna (an adult) lets the parent act for her, confirmed by her own code.
    let scopes = ["records".to_owned(), "labs".to_owned(), "requests".to_owned()];
    let pending = anna.proxies().grant(&support::snils_for(11), &scopes, None).await.unwrap();
    anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    let item = doctor.staff().unwrap().records().add(&pid, immunization()).await.unwrap();
    let request = anna.requests().create(&c1, "Тема", "Текст").await.unwrap();
    let ward = parent.as_ward(&pid).await.unwrap();
    let me_for = |who: Who| match who {
        Who::Own => anna.clone(),
        Who::OtherPatient => other.clone(),
        Who::Proxy => ward.clone(),
        Who::ClinicStaff => doctor.clone(),
        Who::OtherClinicStaff => stranger.clone(),
    };
    // (call, who, expected): Ok(()) or the error kind. Patient calls act on "my" data: for
    // another patient that is their own (empty) data, never Anna's — checked by the ids.
    use ErrorKind::{NotFound, PermissionDenied};
    let table: &[(&str, Who, Result<(), ErrorKind>)] = &[
        ("records.immunizations", Who::Own, Ok(())),
        ("records.immunizations", Who::OtherPatient, Ok(())),
        ("records.immunizations", Who::Proxy, Ok(())),
        ("records.immunizations", Who::ClinicStaff, Err(PermissionDenied)),
        ("records.immunizations", Who::OtherClinicStaff, Err(PermissionDenied)),
        ("records.request_correction", Who::Own, Ok(())),
        ("records.request_correction", Who::OtherPatient, Err(NotFound)),
        ("records.request_correction", Who::Proxy, Ok(())),
        ("records.request_correction", Who::ClinicStaff, Err(PermissionDenied)),
        ("labs.results", Who::Own, Ok(())),
        ("labs.results", Who::Proxy, Ok(())),
        ("labs.results", Who::ClinicStaff, Err(PermissionDenied)),
        ("requests.get", Who::Own, Ok(())),
        ("requests.get", Who::OtherPatient, Err(NotFound)),
        ("requests.get", Who::Proxy, Ok(())),
        ("requests.get", Who::ClinicStaff, Err(PermissionDenied)),
        ("appointments.list", Who::Proxy, Err(PermissionDenied)),
        ("staff.records.add", Who::ClinicStaff, Ok(())),
        ("staff.records.add", Who::OtherClinicStaff, Err(NotFound)),
        ("staff.records.add", Who::Own, Err(PermissionDenied)),
        ("staff.records.add", Who::Proxy, Err(PermissionDenied)),
        ("staff.records.of_patient", Who::ClinicStaff, Ok(())),
        ("staff.records.of_patient", Who::OtherClinicStaff, Err(NotFound)),
        ("staff.labs.publish", Who::ClinicStaff, Ok(())),
        ("staff.labs.publish", Who::OtherClinicStaff, Err(NotFound)),
        ("staff.labs.publish", Who::OtherPatient, Err(PermissionDenied)),
        ("staff.requests.reply", Who::ClinicStaff, Ok(())),
        ("staff.requests.reply", Who::OtherClinicStaff, Err(NotFound)),
        ("staff.requests.reply", Who::Own, Err(PermissionDenied)),
        ("staff.proxies.grant", Who::OtherClinicStaff, Err(NotFound)),
        ("staff.proxies.grant", Who::ClinicStaff, Err(PermissionDenied)),
        ("staff.patients.find", Who::OtherClinicStaff, Ok(())),
    ];
    let lab = kabinet::LabReport {
        title: "Глюкоза".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: datetime!(2026-11-28 08:00 UTC),
        results: vec![result("Глюкоза", Some(5.0), None, Some(3.9), Some(6.1), None)],
    };
    for (call, who, expected) in table {
        let me = me_for(*who);
        let outcome: Result<(), Error> = match *call {
            "records.immunizations" => me.records().immunizations().await.map(|items| {
                let expect_anna = matches!(who, Who::Own | Who::Proxy);
                assert_eq!(items.iter().any(|i| i.patient_id == pid), expect_anna, "{call} {who:?}");
            }),
            "records.request_correction" => me.records().request_correction(&item.id, "x").await.map(drop),
            "labs.results" => me.labs().results(None).await.map(drop),
            "requests.get" => me.requests().get(&request.id).await.map(drop),
            "appointments.list" => me.appointments().list(true).await.map(drop),
            "staff.records.add" => match me.staff() {
                Ok(s) => s.records().add(&pid, immunization()).await.map(drop),
                Err(e) => Err(e),
            },
            "staff.records.of_patient" => match me.staff() {
                Ok(s) => s.records().of_patient(&pid).await.map(drop),
                Err(e) => Err(e),
            },
            "staff.labs.publish" => match me.staff() {
                Ok(s) => s.labs().publish(&pid, lab.clone()).await.map(drop),
                Err(e) => Err(e),
            },
            "staff.requests.reply" => match me.staff() {
                Ok(s) => s.requests().reply(&request.id, "ответ", kabinet::RequestStatus::InProcessing).await.map(drop),
                Err(e) => Err(e),
            },
            "staff.proxies.grant" => match me.staff() {
                Ok(s) => s
                    .proxies()
                    .grant(kabinet::WardGrant {
                        proxy_patient_id: Some(other.patient_id().unwrap().to_owned()),
                        ward_patient_id: pid.clone(),
                        scopes: vec!["records".into()],
                        basis: "Свидетельство о рождении II-МЮ 123456".into(),
                        ..Default::default()
                    })
                    .await
                    .map(drop),
                Err(e) => Err(e),
            },
            "staff.patients.find" => match me.staff() {
                // Staff of another clinic find nothing: the search succeeds and is empty.
                Ok(s) => s.patients().find(Some("112-233-445 95"), None).await.map(|found| assert!(found.is_empty())),
                Err(e) => Err(e),
            },
            other => panic!("unknown call {other}"),
        };
        assert_eq!(outcome.map_err(|e| e.kind()), *expected, "{call} as {who:?}");
    }
    // Without a session nothing is reachable.
    let none = h.cab.session("not-a-token", &device()).await.unwrap_err();
    assert_eq!(none.kind(), ErrorKind::Session);
}

on_both!(r12_r13_working_day_deadlines_overdue_notices_and_expired_requests);

/// Issue 14, item 9: a correction is due by the end of the next working day (weekends and the
/// deployment's holidays skipped, in the clinic's local time); staff see the overdue ones, the
/// patient is told once; a request nobody completes is closed as expired, then kept five years.
async fn r12_r13_working_day_deadlines_overdue_notices_and_expired_requests(db: TestDb) {
    let (clock, inbox) = (support::TestClock::new(), support::Inbox::default());
    let deadlines =
        kabinet::DeadlinePolicy { holidays: vec![date!(2026 - 11 - 30)], request_expiry: time::Duration::days(30) };
    let config = kabinet::Config {
        clock: std::sync::Arc::new(clock.clone()),
        notifier: Some(std::sync::Arc::new(inbox.clone())),
        identity_registry: Some(std::sync::Arc::new(support::TestRegistry::default())),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        locale: kabinet::Locale::En,
        deadlines: deadlines.clone(),
        ..db.config()
    };
    for bad in [time::Duration::ZERO, time::Duration::days(3654)] {
        let c = kabinet::Config {
            deadlines: kabinet::DeadlinePolicy { request_expiry: bad, ..deadlines.clone() },
            ..config.clone()
        };
        assert_eq!(c.validate().unwrap_err().code(), "config.out_of_range");
    }
    let h = Harness { cab: db.open_with(config).await, clock, inbox };
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let doctor = h.staff(&c1, "doctor", 61).await;
    let item = doctor.staff().unwrap().records().add(anna.patient_id().unwrap(), visit("J06.9")).await.unwrap();
    // Saturday 28 November, 12:00 in Moscow; Monday the 30th is a holiday here: due by the end
    // of Tuesday the 1st, local time (21:00 UTC).
    let asked = anna.records().request_correction(&item.id, "Диагноз другой").await.unwrap();
    assert_eq!(asked.due_at, time::macros::datetime!(2026-12-01 21:00 UTC));
    assert_eq!(anna.records().corrections().await.unwrap()[0].due_at, asked.due_at);
    let corrections = doctor.staff().unwrap().corrections();
    assert!(corrections.overdue().await.unwrap().is_empty());
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("correction_overdue"), 0);
    // Past the deadline: staff see it overdue; the patient is told, once, whoever runs the jobs.
    h.clock.advance(time::Duration::days(3) + time::Duration::hours(12)); // 1 December 21:00 UTC
    let doctor = h.staff(&c1, "doctor", 62).await;
    let overdue = doctor.staff().unwrap().corrections().overdue().await.unwrap();
    assert_eq!(overdue.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(), [asked.id.as_str()]);
    let other = db.open_with(kabinet::Config { clock: std::sync::Arc::new(h.clock.clone()), ..db.config() }).await;
    let (a, b) = tokio::join!(h.cab.run_due_jobs(), other.run_due_jobs());
    a.unwrap();
    b.unwrap();
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("correction_overdue") + count_undelivered(&db, "correction_overdue").await, 1);
    // Overdue is not resolved: the request stays pending in the clinic's queue.
    let mine = anna_session(&h).await.records().corrections().await.unwrap();
    assert_eq!((mine.len(), mine[0].status), (1, kabinet::CorrectionStatus::Pending));
    // Requests: one answered and left open is closed as expired 30 days after its last change.
    let req = anna_session(&h).await.requests().create(&c1, "Справка", "Нужна справка").await.unwrap();
    h.clock.advance(time::Duration::days(29));
    h.cab.run_due_jobs().await.unwrap();
    let me = anna_session(&h).await;
    assert_eq!(me.requests().get(&req.id).await.unwrap().status, kabinet::RequestStatus::InProcessing);
    h.clock.advance(time::Duration::days(2));
    h.cab.run_due_jobs().await.unwrap();
    let me = anna_session(&h).await;
    let closed = me.requests().get(&req.id).await.unwrap();
    assert_eq!(closed.status, kabinet::RequestStatus::Expired);
    assert!(closed.completed_at.is_some(), "the retention runs from the expiry");
    let told = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "request_status").cloned().unwrap();
    assert!(told.text.contains("expired"), "{}", told.text);
    assert_eq!(code(me.requests().mark_completed(&req.id).await.unwrap_err()), "request.completed");
    // Five years later it is purged like any completed request.
    h.clock.advance(kabinet::requests::RETENTION + time::Duration::days(1));
    assert!(h.cab.run_due_jobs().await.unwrap().requests_purged >= 1);
}

async fn anna_session(h: &Harness) -> Me {
    let t = h.signed_in().await;
    session(h, &t).await
}

/// Messages of `kind` still in the outbox (another cabinet without a notifier may hold one).
async fn count_undelivered(db: &TestDb, kind: &str) -> usize {
    let raw = db.raw().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = $1 AND delivered_at IS NULL")
        .bind(kind)
        .fetch_one(&raw)
        .await
        .unwrap();
    usize::try_from(n).unwrap()
}
