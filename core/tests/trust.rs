//! Issue 11 (trust): each class of defect an adversarial review found, reproduced with fresh
//! inputs and shown to hold, on SQLite and PostgreSQL. Classes covered elsewhere: key
//! custody (`crypto::tests`, `tests/tests/processes.rs`), FHIR source ids (`fhir.rs`), PDF
//! active content and file names (`documents::sniff`), panics from input (`properties.rs`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use kabinet::error::ErrorCode;
use kabinet::{Config, ErrorKind, Me};
use serde_json::json;
use support::{Harness, PASSWORD, TestDb, device, registration, registration_n, snils_for};
use time::Duration;
use time::macros::date;

on_both!(
    s5_someone_elses_snils_reaches_nothing_and_the_owner_joins_their_record,
    s5_before_confirmation_only_the_reduced_set_is_open,
    r5_a_held_context_stops_when_its_session_or_grant_ends,
    s5_erasure_ends_everything_of_one_person_and_stops_nobody_else,
    s2_notifier_errors_are_sealed_and_files_are_private,
    r5_logout_works_with_an_expired_token,
    s6_far_dates_and_huge_settings_are_typed_errors,
    s10_a_writer_that_waits_too_long_gets_a_retryable_busy_error,
    r20_proxies_only_for_minors_and_wards_or_by_the_adult_themself,
    r4_guessing_limits_hold_per_account,
    r4_simultaneous_recoveries_respect_the_hourly_limit,
    s10_other_writers_go_on_while_a_long_import_prepares,
    s10_simultaneous_imports_of_one_file_store_it_once,
    s10_a_patient_erased_while_an_import_prepares_gets_nothing,
    s10_staged_rows_go_once_published_or_abandoned,
    s10_one_person_without_identifiers_imported_twice_at_once_is_one_patient,
    s10_keys_made_while_a_rotation_ran_are_wrapped_under_the_new_kek,
    s10_a_policy_of_someone_else_refuses_the_file_at_once,
);

async fn sign_in(h: &Harness, phone: &str) -> kabinet::Tokens {
    let step = h.cab.auth().login(phone, PASSWORD, &device()).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap()
}

async fn session(h: &Harness, tokens: &kabinet::Tokens) -> Me {
    h.cab.session(&tokens.access_token, &device()).await.unwrap()
}

fn now(h: &Harness) -> time::OffsetDateTime {
    *h.clock.0.lock().unwrap()
}

fn anna_confirmation() -> kabinet::IdentityConfirmation {
    kabinet::IdentityConfirmation {
        method: "sms".into(),
        full_name: "Иванова Анна Сергеевна".into(),
        birth_date: date!(1990 - 03 - 14),
        oms_policy: "8451999122899990".into(),
        phone: "+79161234567".into(),
    }
}

/// Class 4: registering with somebody else's SNILS is accepted but reaches nothing of
/// theirs; the owner registering after a clinic imported them works, and once the registry
/// confirms the identity their account is joined to the clinic's record — also in a
/// context opened before the confirmation.
async fn s5_someone_elses_snils_reaches_nothing_and_the_owner_joins_their_record(db: TestDb) {
    let h = db.harness().await;
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
        { "resource": { "resourceType": "Patient", "id": "77", "gender": "female", "birthDate": "1990-03-14",
            "name": [{ "family": "Иванова", "given": ["Анна", "Сергеевна"] }],
            "identifier": [{ "system": kabinet::fhir::SNILS_SYSTEM, "value": "11223344595" }] } },
        { "resource": { "resourceType": "AllergyIntolerance", "id": "a1", "patient": { "reference": "Patient/77" },
            "code": { "text": "пенициллин" }, "recordedDate": "2020-02-02" } },
    ]});
    let fhir = h.cab.system().fhir();
    let record =
        fhir.import_bundle_from(&bundle.to_string(), "urn:example:clinic").await.unwrap().patient_ids[0].clone();
    // An impostor with her SNILS: registered, but nothing of hers is reachable.
    let impostor = kabinet::Registration {
        surname: "Сидоров".into(),
        given_name: "Олег".into(),
        patronymic: None,
        sex: kabinet::Sex::Male,
        birth_date: date!(1985 - 05 - 05),
        snils: "112-233-445 95".into(),
        ..registration_n(41)
    };
    let mallory = session(&h, &h.patient_unconfirmed(impostor).await).await;
    assert_ne!(mallory.patient_id().unwrap(), record);
    assert_eq!(mallory.records().allergies().await.unwrap_err().code(), "identity.unconfirmed");
    let mut claim = anna_confirmation();
    claim.full_name = "Сидоров Олег".into();
    claim.birth_date = date!(1985 - 05 - 05);
    assert!(!mallory.identity().confirm(claim).await.unwrap().confirmed, "the registry says no");
    assert_eq!(mallory.records().allergies().await.unwrap_err().code(), "identity.unconfirmed");
    assert_eq!(
        h.cab.auth().login("112-233-445 95", PASSWORD, &device()).await.unwrap_err().code(),
        "auth.invalid_credentials",
        "an unconfirmed SNILS is no login identifier"
    );
    // The clinic's next import still finds the clinic's record, not the impostor's.
    let again = fhir.import_bundle_from(&bundle.to_string(), "urn:example:clinic").await.unwrap();
    assert_eq!((again.patient_ids.clone(), again.unchanged.get("Patient")), (vec![record.clone()], Some(&1)));
    let bare = json!({ "resourceType": "Patient", "gender": "female", "birthDate": "1990-03-14",
        "name": [{ "family": "Иванова", "given": ["Анна"] }],
        "identifier": [{ "system": kabinet::fhir::SNILS_SYSTEM, "value": "11223344595" }] });
    let elsewhere = fhir.import_bundle_from(&bare.to_string(), "urn:example:other").await.unwrap();
    assert_eq!(elsewhere.patient_ids, vec![record.clone()], "matched by SNILS to the clinic's record");
    // Anna herself registers (no `patient.exists`), signs in, and confirms in that context.
    let account = h.registered().await;
    let me = session(&h, &h.signed_in_unconfirmed().await).await;
    assert_eq!(me.records().allergies().await.unwrap_err().code(), "identity.unconfirmed");
    let held = me.clone();
    assert!(me.identity().confirm(anna_confirmation()).await.unwrap().confirmed);
    assert_eq!(me.patient_id().unwrap(), record, "joined to the clinic's record");
    let allergies = held.records().allergies().await.unwrap();
    assert_eq!(allergies.len(), 1, "a context held from before follows the join");
    assert_eq!(held.profile().get().await.unwrap().phone.as_deref(), Some("+79161234567"), "her confirmed phone");
    // She signs in by SNILS now, into the same record.
    let step = h.cab.auth().login("112-233-445 95", PASSWORD, &device()).await.unwrap();
    let tokens = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let by_snils = session(&h, &tokens).await;
    assert_eq!((by_snils.account_id(), by_snils.patient_id().unwrap()), (account.as_str(), record.as_str()));
    // The impostor's confirmation cannot take the SNILS over later.
    assert_eq!(mallory.records().allergies().await.unwrap_err().code(), "identity.unconfirmed");
}

/// Class 4: before the registry confirms the identity an account has its profile,
/// security, the directory and the confirmation itself — everything medical is
/// `PermissionDenied("identity.unconfirmed")`.
async fn s5_before_confirmation_only_the_reduced_set_is_open(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    h.registered().await;
    let me = session(&h, &h.signed_in_unconfirmed().await).await;
    me.profile().get().await.unwrap();
    me.profile().completeness().await.unwrap();
    me.security().sessions().await.unwrap();
    me.security().access_history(None).await.unwrap();
    me.notifications().preferences().await.unwrap();
    assert_eq!(me.directory().regions().await.unwrap().len(), 1);
    let refusals: Vec<(&str, kabinet::Error)> = vec![
        ("records", me.records().visits().await.unwrap_err()),
        ("labs", me.labs().results(None).await.unwrap_err()),
        ("documents", me.documents().list(None, None, None).await.unwrap_err()),
        ("fhir", me.records().export_fhir().await.unwrap_err()),
        (
            "attachment",
            me.attachment()
                .attach("0101", "4508123456", "11223344595", "8451999122899990", None, None)
                .await
                .unwrap_err(),
        ),
        ("certificates", me.certificates().list().await.unwrap_err()),
        ("requests", me.requests().create(&c1, "Справка", "Нужна справка").await.unwrap_err()),
        ("appointments", me.appointments().list(true).await.unwrap_err()),
        ("proxies", me.proxies().list().await.unwrap_err()),
    ];
    for (what, err) in refusals {
        assert_eq!((err.code(), err.kind()), ("identity.unconfirmed", ErrorKind::PermissionDenied), "{what}");
    }
}

/// Class 7: a context kept after `revoke_all`, after its proxy grant ends, after an
/// incident block, or past the absolute timeout stops working at the next call.
async fn r5_a_held_context_stops_when_its_session_or_grant_ends(db: TestDb) {
    let h = db.harness().await;
    let anna = h.anna_confirmed().await;
    let anna_id = anna.patient_id().unwrap().to_owned();
    // Revoked: every clone of the context, at once.
    let kept = anna.clone();
    anna.security().revoke_all().await.unwrap();
    assert_eq!(kept.profile().get().await.unwrap_err().code(), "session.revoked");
    assert_eq!(kept.records().visits().await.unwrap_err().code(), "session.revoked");
    // A proxy grant ended by the ward: the proxy's ward context stops.
    let anna = session(&h, &h.signed_in().await).await;
    let peter = session(&h, &h.patient(registration_n(42)).await).await;
    let pending = anna.proxies().grant(&snils_for(42), &["records".to_owned()], None).await.unwrap();
    let grant = anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    let ward = peter.as_ward(&anna_id).await.unwrap();
    ward.records().visits().await.unwrap();
    anna.proxies().revoke(&grant.id).await.unwrap();
    assert_eq!(ward.records().visits().await.unwrap_err().code(), "proxy.revoked");
    // Past the absolute timeout (12 h), even when used every 25 minutes.
    for k in 1..=40 {
        h.clock.advance(Duration::minutes(25));
        match peter.profile().get().await {
            Ok(_) => assert!(k * 25 < 12 * 60, "still open after {k} uses"),
            Err(e) => {
                assert!(k * 25 >= 12 * 60);
                assert_eq!(e.code(), "session.expired");
                break;
            }
        }
    }
    // An incident left unconfirmed blocks the sessions: a held context too.
    let anna = session(&h, &h.signed_in().await).await;
    let tablet = kabinet::Device { id: "tablet-9".into(), ip: "198.51.100.9".into(), ..device() };
    let step = h.cab.auth().login("+79161234567", PASSWORD, &tablet).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    h.clock.advance(Duration::minutes(20));
    anna.profile().get().await.unwrap();
    h.clock.advance(Duration::minutes(11));
    assert!(h.cab.run_due_jobs().await.unwrap().incidents_blocked >= 1);
    assert_eq!(anna.profile().get().await.unwrap_err().code(), "session.blocked");
}

/// Class 5: one patient's erasure ends their sessions, login identifiers, queued messages
/// and visits — and nobody else's jobs stop: reminders and the clinic's inbox go on, and
/// the person can register again.
async fn s5_erasure_ends_everything_of_one_person_and_stops_nobody_else(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let start = now(&h) + Duration::hours(3);
    let (gp, slots) = h.gp_with_slots(&c1, start, Duration::minutes(40)).await;
    let anna = h.anna_confirmed().await;
    let other = session(&h, &h.patient(registration_n(43)).await).await;
    anna.appointments().book(&slots[0].id).await.unwrap();
    other.appointments().book(&slots[1].id).await.unwrap();
    anna.requests().create(&c1, "Справка", "Нужна справка").await.unwrap();
    other.requests().create(&c1, "Выписка", "Нужна выписка").await.unwrap();
    let anna_id = anna.patient_id().unwrap().to_owned();
    h.cab.system().patients().erase(&anna_id).await.unwrap();
    assert_eq!(anna.profile().get().await.unwrap_err().code(), "session.revoked");
    assert_eq!(
        h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err().code(),
        "auth.invalid_credentials"
    );
    let report = h.cab.run_due_jobs().await.unwrap();
    assert_eq!(report.reminders_queued, 1, "the other patient's reminder");
    let reminders: Vec<String> =
        h.inbox.0.lock().unwrap().iter().filter(|m| m.kind == "reminder").map(|m| m.recipient.clone()).collect();
    assert_eq!(reminders, ["+79170000043"]);
    assert_eq!(h.cab.run_due_jobs().await.unwrap().delivery_failures, 0);
    let registrar = h.staff(&c1, "registrar", 44).await;
    let inbox = registrar.staff().unwrap().requests().inbox().await.unwrap();
    assert_eq!(inbox.iter().map(|r| r.subject.as_str()).collect::<Vec<_>>(), ["Выписка"]);
    let free = other.appointments().free_slots(&gp.id, start, start + Duration::hours(1)).await.unwrap();
    assert!(free.iter().any(|s| s.id == slots[0].id), "her visit was cancelled, its slot is free");
    // She may come back: the same phone, e-mail and SNILS register afresh.
    let account = h.registered().await;
    let me = session(&h, &h.signed_in().await).await;
    assert_eq!(me.account_id(), account);
    assert_ne!(me.patient_id().unwrap(), anna_id);
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
}

/// A notifier whose errors quote the message, as gateways do.
struct Leaky;

impl kabinet::integrations::Notifier for Leaky {
    fn deliver(&self, m: &kabinet::integrations::Message) -> Result<(), kabinet::integrations::DeliveryError> {
        Err(kabinet::integrations::DeliveryError(format!(
            "gateway refused {} code {}",
            m.recipient,
            m.code.clone().unwrap_or_default()
        )))
    }
}

/// Class 12: a host notifier's error text (a phone number, a code) is stored sealed, and a
/// new SQLite database and its WAL and SHM files are readable by their owner only.
async fn s2_notifier_errors_are_sealed_and_files_are_private(db: TestDb) {
    let config = Config { notifier: Some(Arc::new(Leaky)), ..db.config() };
    let cab = db.open_with(config).await;
    cab.accounts().register(registration()).await.unwrap();
    assert_eq!(cab.run_due_jobs().await.unwrap().delivery_failures, 0, "backing off: not due again yet");
    let raw = db.raw().await;
    let stored: Vec<(Option<String>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT last_error, error_sealed FROM outbox").fetch_all(&raw).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, None, "no plaintext column is written");
    let sealed = stored[0].1.clone().expect("the failure is kept, sealed");
    assert!(!String::from_utf8_lossy(&sealed).contains("+79161234567"));
    if db.backend == kabinet::Backend::Sqlite {
        cab.close().await;
        assert!(!String::from_utf8_lossy(&db.sqlite_bytes()).contains("gateway refused"));
        #[cfg(unix)]
        for entry in std::fs::read_dir(db.dir.path()).unwrap() {
            use std::os::unix::fs::PermissionsExt;
            let entry = entry.unwrap();
            let mode = entry.metadata().unwrap().permissions().mode() & 0o777;
            assert_eq!(mode & 0o077, 0, "{:?} is {mode:o}", entry.file_name());
        }
    }
}

/// Low: logging out with a genuine access token that has expired ends the session.
async fn r5_logout_works_with_an_expired_token(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let tokens = h.signed_in().await;
    h.clock.advance(Duration::minutes(20));
    assert_eq!(h.cab.session(&tokens.access_token, &device()).await.unwrap_err().code(), "session.expired");
    h.cab.auth().logout(&tokens.access_token).await.unwrap();
    assert_eq!(h.cab.auth().refresh(&tokens.refresh_token, &device()).await.unwrap_err().code(), "session.revoked");
    assert_eq!(h.cab.auth().logout("not.a.token").await.unwrap_err().code(), "session.invalid");
}

/// Class 6: numbers and dates at the edges are typed errors, never a panic: settings out
/// of range at open, a schedule at the very end of the calendar.
async fn s6_far_dates_and_huge_settings_are_typed_errors(db: TestDb) {
    let huge = [
        Config {
            appointments: kabinet::AppointmentPolicy {
                change_deadline: Duration::minutes(10_000_000_000),
                ..Default::default()
            },
            ..db.config()
        },
        Config {
            sessions: kabinet::SessionPolicy { idle_timeout: Duration::seconds(-5), ..Default::default() },
            ..db.config()
        },
        Config {
            sessions: kabinet::SessionPolicy { access_token_ttl: Duration::MAX, ..Default::default() },
            ..db.config()
        },
        Config { max_connections: 0, ..db.config() },
        Config { document_max_bytes: usize::MAX, ..db.config() },
    ];
    for config in huge {
        let err = kabinet::Cabinet::open(&db.url, config).await.unwrap_err();
        assert_eq!((err.code(), err.kind()), ("config.out_of_range", ErrorKind::Config));
    }
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let gp = h
        .cab
        .system()
        .directory()
        .add_practitioner(&c1, "Петров Пётр", "Терапевт", &["first".to_owned()])
        .await
        .unwrap();
    let end_of_time = time::macros::datetime!(9999-12-31 23:00 UTC);
    let slots = h
        .cab
        .system()
        .schedule()
        .open_slots(&gp.id, end_of_time, time::macros::datetime!(9999-12-31 23:59:59 UTC), 20, "first")
        .await
        .unwrap();
    assert_eq!(slots.len(), 2, "23:00 and 23:20; 23:40 would end in year 10000");
    let me = h.anna_confirmed().await;
    let visit = me.appointments().book(&slots[1].id).await.unwrap();
    me.appointments().cancel(&visit.id).await.unwrap();
    let early = time::macros::datetime!(-9999-01-01 00:00 UTC);
    let err = h.cab.system().schedule().open_slots(&gp.id, early, early + Duration::hours(1), 20, "first").await;
    assert!(err.is_ok() || err.unwrap_err().kind() == ErrorKind::Validation);
}

/// Class 10: a writer that waits past the busy timeout gets `storage.busy`, which says it is
/// retryable — not a generic query error.
async fn s10_a_writer_that_waits_too_long_gets_a_retryable_busy_error(db: TestDb) {
    let h = db.harness().await;
    let raw = db.raw().await;
    let mut holder = raw.acquire().await.unwrap();
    let lock = match db.backend {
        kabinet::Backend::Sqlite => "BEGIN EXCLUSIVE",
        kabinet::Backend::Postgres => "BEGIN; LOCK TABLE audit_state IN ACCESS EXCLUSIVE MODE",
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(lock)).execute(&mut *holder).await.unwrap();
    let err = h.cab.system().patients().create(support::anna()).await.unwrap_err();
    assert_eq!((err.code(), err.kind(), err.retryable()), ("storage.busy", ErrorKind::Storage, true));
    sqlx::raw_sql("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);
    let id = h.cab.system().patients().create(support::anna()).await.unwrap();
    h.cab.system().patients().get(&id).await.unwrap();
    assert!(!kabinet::Error::from(kabinet::ConfigError::Locale).retryable());
}

/// Class 3: staff register proxies only for a minor or a ward under guardianship of their
/// clinic, with the basis document; an adult grants for themself with their own code;
/// grants end; the ward hears of grants, revocations and what proxies did.
async fn r20_proxies_only_for_minors_and_wards_or_by_the_adult_themself(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let start = now(&h) + Duration::days(2);
    let (_, slots) = h.gp_with_slots(&c1, start, Duration::minutes(20)).await;
    let anna = h.anna_confirmed().await;
    let anna_id = anna.patient_id().unwrap().to_owned();
    anna.appointments().book(&slots[0].id).await.unwrap();
    let parent = session(&h, &h.patient(registration_n(45)).await).await;
    h.attach(&parent, "0101").await;
    let registrar = h.staff(&c1, "registrar", 46).await;
    let staff = registrar.staff().unwrap().proxies();
    let over = |ward: &str, guardianship: bool| kabinet::WardGrant {
        proxy_snils: Some(snils_for(45)),
        ward_patient_id: ward.to_owned(),
        scopes: vec!["records".into()],
        basis: "Решение суда № 2-123/2026".into(),
        guardianship,
        ..Default::default()
    };
    // A booking at the clinic gives its staff no power over an adult: not without
    // guardianship, and not with it either unless the ward is attached to the clinic.
    assert_eq!(staff.grant(over(&anna_id, false)).await.unwrap_err().code(), "proxy.ward_adult");
    assert_eq!(staff.grant(over(&anna_id, true)).await.unwrap_err().kind(), ErrorKind::NotFound);
    h.attach(&anna, "0101").await;
    assert_eq!(staff.grant(over(&anna_id, false)).await.unwrap_err().code(), "proxy.ward_adult");
    // An adult under legal guardianship, attached, with the court's decision: allowed.
    let ward = staff.grant(over(&anna_id, true)).await.unwrap();
    // Each by SMS and e-mail: a security notice goes on every channel that reaches them.
    assert_eq!(h.inbox.count("proxy_granted"), 4, "the ward and the proxy are told");
    parent.as_ward(&anna_id).await.unwrap().records().visits().await.unwrap();
    anna.proxies().revoke(&ward.id).await.unwrap();
    assert_eq!(h.inbox.count("proxy_revoked"), 4, "both, by SMS and e-mail");
    // A child without an account of their own, booked at another clinic by its hospital
    // system (FHIR): that clinic's registrar links the parent; the first clinic's cannot,
    // although the parent is attached there (the proxy's attachment proves nothing).
    let report = h
        .cab
        .system()
        .fhir()
        .import_bundle_from(&child_booked_bundle(&snils_for(47)), "urn:example:children")
        .await
        .unwrap();
    let local = |source: &str| {
        report.entries.iter().find(|e| e.source.as_deref() == Some(source)).unwrap().local_id.clone().unwrap()
    };
    let (child, children_clinic) = (local("Patient/child-1"), local("Organization/org-9"));
    assert_eq!(staff.grant(over(&child, false)).await.unwrap_err().kind(), ErrorKind::NotFound);
    let registrar2 = h.staff(&children_clinic, "registrar", 49).await;
    let staff = registrar2.staff().unwrap().proxies();
    let no_basis = staff.grant(kabinet::WardGrant { basis: " ".into(), ..over(&child, false) }).await.unwrap_err();
    assert_eq!(no_basis.kind(), ErrorKind::Validation);
    let past_majority = staff
        .grant(kabinet::WardGrant { until: Some(date!(2037 - 03 - 01)), ..over(&child, false) })
        .await
        .unwrap_err();
    assert_eq!(past_majority.kind(), ErrorKind::Validation, "a minor's grant ends by the 18th birthday");
    let grant =
        staff.grant(kabinet::WardGrant { until: Some(date!(2026 - 11 - 28)), ..over(&child, false) }).await.unwrap();
    assert_eq!(grant.valid_until, time::macros::datetime!(2026-11-29 00:00 UTC), "to the end of its last day");
    let for_child = parent.as_ward(&child).await.unwrap();
    for_child.records().visits().await.unwrap();
    for_child.records().immunizations().await.unwrap();
    // The grant ends with its last day: a ward context held over midnight stops.
    h.clock.advance(time::macros::datetime!(2026-11-28 23:45 UTC) - now(&h));
    let parent = session(&h, &sign_in(&h, "+79170000045").await).await;
    let for_child = parent.as_ward(&child).await.unwrap();
    h.clock.advance(Duration::minutes(20));
    assert_eq!(for_child.records().visits().await.unwrap_err().code(), "proxy.revoked");
    assert_eq!(parent.as_ward(&child).await.unwrap_err().kind(), ErrorKind::NotFound);
    // An ended grant does not hold the pair: the clinic can register a new one.
    let registrar3 = h.staff(&children_clinic, "registrar", 50).await;
    registrar3.staff().unwrap().proxies().grant(over(&child, false)).await.unwrap();
    parent.as_ward(&child).await.unwrap().records().visits().await.unwrap();
    // An adult grants for herself: nothing until her own code confirms it.
    let anna = session(&h, &h.signed_in().await).await;
    let pending =
        anna.proxies().grant(&snils_for(45), &["records".to_owned()], Some(date!(2027 - 01 - 31))).await.unwrap();
    assert_eq!(parent.as_ward(&anna_id).await.unwrap_err().kind(), ErrorKind::NotFound, "not before the code");
    let wrong = if h.inbox.last_code("proxy_code") == "000000" { "111111" } else { "000000" };
    assert_eq!(anna.proxies().confirm(&pending.id, wrong).await.unwrap_err().kind(), ErrorKind::Authentication);
    assert_eq!(
        parent.proxies().confirm(&pending.id, "123456").await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "only she confirms"
    );
    let granted = anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    assert_eq!(granted.valid_until.date(), date!(2027 - 02 - 01));
    parent.as_ward(&anna_id).await.unwrap().records().visits().await.unwrap();
    let before = h.inbox.count("proxy_summary");
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("proxy_summary"), before + 1, "Anna hears what her representative did");
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("proxy_summary"), before + 1, "at most daily");
}

/// An in-memory database has exactly one connection: no call may wait for a second one
/// while it holds a transaction (a re-validation inside a transaction once did, and every
/// attachment call waited 30 s for `storage.busy`). The whole patient journey runs here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s10_one_connection_is_enough_for_every_call() {
    let clock = support::TestClock::new();
    let inbox = support::Inbox::default();
    let config = Config {
        clock: Arc::new(clock.clone()),
        notifier: Some(Arc::new(inbox.clone())),
        identity_registry: Some(Arc::new(support::TestRegistry::default())),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        ..Config::default()
    };
    let cab = kabinet::Cabinet::open("sqlite::memory:", config).await.unwrap();
    let h = Harness { cab, clock, inbox };
    let (c1, _) = h.two_clinics().await;
    let me = h.anna_confirmed().await;
    h.attach(&me, "0101").await;
    me.attachment().current().await.unwrap();
    me.attachment().history().await.unwrap();
    me.records().visits().await.unwrap();
    me.requests().create(&c1, "Справка", "Нужна справка").await.unwrap();
    me.certificates().list().await.unwrap();
    me.documents().list(None, None, None).await.unwrap();
    let peter = session(&h, &h.patient(registration_n(48)).await).await;
    let pending = me.proxies().grant(&snils_for(48), &["records".to_owned()], None).await.unwrap();
    me.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    peter.as_ward(me.patient_id().unwrap()).await.unwrap().records().visits().await.unwrap();
    // A wait for a second connection would have failed here as `storage.busy` (after 30 s).
    assert_eq!(h.cab.run_due_jobs().await.unwrap().delivery_failures, 0);
}

/// Class 8: limits per account, not per attempt — wrong second factors across many login
/// steps, wrong old passwords on a signed-in session, recovery codes asked again and again.
async fn r4_guessing_limits_hold_per_account(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let mut last = None;
    'steps: for _ in 0..5 {
        let step = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
        let right = h.inbox.last_code("login_code");
        let wrong = if right == "000000" { "111111" } else { "000000" };
        for _ in 0..5 {
            match h.cab.auth().verify_second_factor(&step.id, wrong).await {
                Err(e) if e.code() == "auth.locked" => {
                    last = Some(e);
                    break 'steps;
                }
                Err(e) => assert!(matches!(e.code(), "auth.second_factor" | "auth.too_many_attempts"), "{}", e.code()),
                Ok(_) => panic!("a wrong code signed in"),
            }
        }
    }
    assert_eq!(last.map(|e| e.code()), Some("auth.locked"), "ten wrong codes over several steps lock the account");
    assert_eq!(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err().code(), "auth.locked");
    let raw = db.raw().await;
    let journaled: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_entries WHERE action = 'login_failed' AND resource_type = 'second_factor'",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(journaled, kabinet::auth::sessions::MAX_FACTOR_FAILURES as i64);
    // Recovery lifts the lock; codes asked for again and again are not all sent.
    for _ in 0..8 {
        h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    }
    assert_eq!(h.inbox.count("recovery_code") as i64, kabinet::auth::recovery::MAX_RECOVERIES_PER_HOUR);
    let recovery = h
        .cab
        .accounts()
        .start_recovery("anna.ivanova@example.ru", kabinet::integrations::Channel::Email)
        .await
        .unwrap();
    assert_eq!(h.inbox.count("recovery_code") as i64, kabinet::auth::recovery::MAX_RECOVERIES_PER_HOUR, "per account");
    let _ = recovery;
    h.clock.advance(Duration::hours(2));
    let recovery = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    h.cab
        .accounts()
        .complete_recovery(&recovery, &h.inbox.last_code("recovery_code"), "Nov-Yj!Parol42x", None)
        .await
        .unwrap();
    // Wrong old passwords on a live session count like wrong passwords at sign-in (R4).
    let step = h.cab.auth().login("+79161234567", "Nov-Yj!Parol42x", &device()).await.unwrap();
    let tokens = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let me = session(&h, &tokens).await;
    for attempt in 1..=3 {
        let err = me.security().change_password("Wrong-Old!77q", "Sovsem-Novyj!93z").await.unwrap_err();
        let expected = if attempt < 3 { "auth.invalid_credentials" } else { "auth.locked" };
        assert_eq!(err.code(), expected, "attempt {attempt}");
    }
    assert_eq!(me.profile().get().await.unwrap_err().code(), "session.revoked", "the guessing session ends");
    // A taken e-mail alone is not revealed either: the registration goes on (its code goes to
    // the phone given), the e-mail stays its owner's login identifier, and the owner is told.
    let before = h.inbox.count("registration_attempt");
    let twin = kabinet::Registration { email: "anna.ivanova@example.ru".into(), ..registration_n(51) };
    let pending = h.cab.accounts().register(twin).await.unwrap();
    h.cab.accounts().confirm_phone(&pending.id, &h.inbox.last_code("phone_confirmation")).await.unwrap();
    assert_eq!(h.inbox.count("registration_attempt"), before + 2, "by SMS and e-mail");
    let holders: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts WHERE email_bidx IS NOT NULL AND status = 'active'")
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(holders, 1, "only the owner holds the e-mail");
    // A new phone or e-mail proves itself: the code goes to it, not to the current phone.
    let newcomer = session(&h, &sign_in(&h, "+79170000051").await).await;
    newcomer.profile().request_change("email", "someone.else@example.ru", None).await.unwrap();
    let sent = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "profile_change").cloned().unwrap();
    assert_eq!(
        (sent.channel, sent.recipient.as_str()),
        (kabinet::integrations::Channel::Email, "someone.else@example.ru")
    );
    assert_eq!(
        h.cab.auth().login("+79161234567", "Nov-Yj!Parol42x", &device()).await.unwrap_err().code(),
        "auth.locked"
    );
}

/// A children's hospital system's bundle: its clinic, a paediatrician with a schedule, and a
/// child (no account of their own) booked on one of the slots.
fn child_booked_bundle(snils: &str) -> String {
    let entry = |url: &str, resource: serde_json::Value| json!({ "fullUrl": url, "resource": resource, "request": { "method": "POST", "url": resource["resourceType"] } });
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": [
        entry("urn:uuid:org", json!({ "resourceType": "Organization", "id": "org-9",
            "identifier": [{ "system": "urn:oid:1.2.643.5.1.13.13.12.2", "value": "0909" }],
            "name": "ГБУЗ «Детская поликлиника № 9»", "address": [{ "line": ["ул. Садовая, 9"], "city": "Москва", "state": "Москва" }] })),
        entry("urn:uuid:doc", json!({ "resourceType": "Practitioner", "id": "pr-9",
            "name": [{ "family": "Лисицына", "given": ["Мария"] }] })),
        entry("urn:uuid:role", json!({ "resourceType": "PractitionerRole", "practitioner": { "reference": "urn:uuid:doc" },
            "organization": { "reference": "urn:uuid:org" }, "specialty": [{ "text": "Педиатр" }] })),
        entry("urn:uuid:sched", json!({ "resourceType": "Schedule", "id": "s-9", "actor": [{ "reference": "urn:uuid:doc" }],
            "serviceType": [{ "text": "first" }] })),
        entry("urn:uuid:slot", json!({ "resourceType": "Slot", "id": "slot-9", "schedule": { "reference": "urn:uuid:sched" },
            "status": "busy", "start": "2026-12-03T09:00:00+03:00", "end": "2026-12-03T09:20:00+03:00" })),
        entry("urn:uuid:child", json!({ "resourceType": "Patient", "id": "child-1", "gender": "female", "birthDate": "2019-02-28",
            "name": [{ "family": "Кузнецова", "given": ["Алиса"] }],
            "identifier": [{ "system": kabinet::fhir::SNILS_SYSTEM, "value": snils }] })),
        entry("urn:uuid:appt", json!({ "resourceType": "Appointment", "id": "appt-9", "status": "booked",
            "slot": [{ "reference": "urn:uuid:slot" }], "start": "2026-12-03T09:00:00+03:00", "end": "2026-12-03T09:20:00+03:00",
            "participant": [{ "actor": { "reference": "urn:uuid:child" } }, { "actor": { "reference": "urn:uuid:doc" } }] })),
    ]})
    .to_string()
}

/// Class 8, at once: many recovery requests for one account in parallel (on PostgreSQL each
/// on its own connection) still send at most the hourly number of codes.
async fn r4_simultaneous_recoveries_respect_the_hourly_limit(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let before = h.inbox.count("recovery_code");
    let calls: Vec<_> = (0..12)
        .map(|_| {
            let cab = h.cab.clone();
            tokio::spawn(async move {
                loop {
                    match cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await {
                        Err(e) if e.retryable() => continue,
                        other => break other,
                    }
                }
            })
        })
        .collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let sent = h.inbox.count("recovery_code") - before;
    assert_eq!(sent as i64, kabinet::auth::recovery::MAX_RECOVERIES_PER_HOUR, "codes sent by 12 simultaneous requests");
}

/// A key provider that stops at its first wrap or unwrap once armed, until the test lets
/// it go: a window into the middle of an import's preparation.
struct Pause {
    inner: kabinet::crypto::LocalFileKeyProvider,
    armed: std::sync::Mutex<Option<(tokio::sync::oneshot::Sender<()>, std::sync::mpsc::Receiver<()>)>>,
}

impl Pause {
    fn maybe_hold(&self) {
        let armed = self.armed.lock().unwrap().take();
        if let Some((held, go)) = armed {
            let _ = held.send(());
            let _ = go.recv_timeout(std::time::Duration::from_secs(120));
        }
    }
}

impl kabinet::crypto::KeyProvider for Pause {
    fn current_kek_id(&self) -> Result<String, kabinet::CryptoError> {
        self.inner.current_kek_id()
    }
    fn wrap(
        &self,
        kek_id: &str,
        key: &kabinet::crypto::SecretKey,
        context: &[u8],
    ) -> Result<Vec<u8>, kabinet::CryptoError> {
        self.maybe_hold();
        self.inner.wrap(kek_id, key, context)
    }
    fn unwrap(
        &self,
        kek_id: &str,
        wrapped: &[u8],
        context: &[u8],
    ) -> Result<kabinet::crypto::SecretKey, kabinet::CryptoError> {
        self.maybe_hold();
        self.inner.unwrap(kek_id, wrapped, context)
    }
}

/// Imports `bundle` in a thread and runtime of its own, like another process (blocking its
/// key provider blocks nothing of the test's), held at the import's first key operation:
/// `held` fires there, and the import goes on when `go` is sent.
fn paused_import(
    db: &TestDb,
    bundle: String,
) -> (
    tokio::sync::oneshot::Receiver<()>,
    std::sync::mpsc::Sender<()>,
    std::thread::JoinHandle<Result<kabinet::ImportReport, kabinet::Error>>,
) {
    let pause = Arc::new(Pause {
        inner: kabinet::crypto::LocalFileKeyProvider::open(db.key_path()).unwrap(),
        armed: std::sync::Mutex::new(None),
    });
    let (held_tx, held) = tokio::sync::oneshot::channel();
    let (go, go_rx) = std::sync::mpsc::channel();
    let url = db.url.clone();
    let thread = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(async move {
            let config = Config { key_provider: Some(pause.clone()), ..Config::default() };
            let cab = kabinet::Cabinet::open(&url, config).await?;
            *pause.armed.lock().unwrap() = Some((held_tx, go_rx));
            cab.system().fhir().import_bundle(&bundle).await
        })
    });
    (held, go, thread)
}

/// Class 10: a long import prepares its rows outside the write lock. Held in the middle of
/// its preparation, another cabinet on the same database registers a person (a write with
/// a journal entry) without waiting for it; the import then finishes, all of it, and the
/// journal verifies. (Before: the import held the lock from its first row, and the other
/// writer waited until `storage.busy`.)
async fn s10_other_writers_go_on_while_a_long_import_prepares(db: TestDb) {
    // Three people on file; the import brings their records again under another system's
    // ids, so its plan opens their keys (where the pause holds it).
    let cab = db.open().await;
    let first = kabinet::fhir::synthetic_bundle(0, 3);
    cab.system().fhir().import_bundle(&first).await.unwrap();
    let (held, go, import) = paused_import(&db, first.replace("urn:uuid:", "urn:uuid:f"));
    held.await.unwrap();
    let pending = cab.accounts().register(registration()).await;
    go.send(()).unwrap();
    let report = import.join().unwrap().unwrap();
    let pending = pending.expect("a writer while the import prepares does not wait for it");
    assert!(!pending.id.is_empty());
    // The people are matched (not created again); every other resource is new.
    assert_eq!(report.created.values().sum::<u64>(), 3 * (kabinet::fhir::RESOURCES_PER_PATIENT as u64 - 1));
    assert_eq!(report.patient_ids.len(), 3);
    let raw = db.raw().await;
    let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM medical_items").fetch_one(&raw).await.unwrap();
    let labs: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lab_results").fetch_one(&raw).await.unwrap();
    assert!(items > 0 && labs > 0, "the import's records are all there ({items} items, {labs} results)");
    // One journal entry per patient and import for the records (two imports here).
    let entries: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'fhir_import'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(entries, 6);
    assert!(cab.system().audit().verify().await.unwrap().ok);
}

/// Class 10: the same file imported by two cabinets at once is stored once — whichever
/// publishes second finds the other's records (planning again if they arrived after its
/// plan) and leaves them unchanged.
async fn s10_simultaneous_imports_of_one_file_store_it_once(db: TestDb) {
    let text = kabinet::fhir::synthetic_bundle(0, 2);
    let a = db.open().await;
    let b = db.open().await;
    let (ta, tb) = (text.clone(), text.clone());
    let ja = tokio::spawn(async move { a.system().fhir().import_bundle(&ta).await });
    let jb = tokio::spawn(async move { b.system().fhir().import_bundle(&tb).await });
    let (ra, rb) = (ja.await.unwrap().unwrap(), jb.await.unwrap().unwrap());
    let total = 2 * kabinet::fhir::RESOURCES_PER_PATIENT as u64;
    let created = ra.created.values().sum::<u64>() + rb.created.values().sum::<u64>();
    assert_eq!(created, total, "every resource created once across both imports");
    let once = db.open().await;
    let again = once.system().fhir().import_bundle(&text).await.unwrap();
    assert!(again.created.is_empty());
    let raw = db.raw().await;
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&raw).await.unwrap();
    assert_eq!(patients, 2);
    let sources: i64 =
        sqlx::query_scalar("SELECT COUNT(DISTINCT local_id) FROM fhir_sources WHERE local_kind = 'Immunization'")
            .fetch_one(&raw)
            .await
            .unwrap();
    let immunizations: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM medical_items WHERE kind = 'immunization'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(immunizations, sources, "no record without its source id: nothing stored twice");
    assert!(once.system().audit().verify().await.unwrap().ok);
}

/// Class 10 with class 5: a patient on file erased while an import that names them is being
/// prepared gets no new records; the import plans again and ends with a typed outcome.
async fn s10_a_patient_erased_while_an_import_prepares_gets_nothing(db: TestDb) {
    let cab = db.open().await;
    let first = kabinet::fhir::synthetic_bundle(0, 1);
    let report = cab.system().fhir().import_bundle(&first).await.unwrap();
    let patient_id = report.patient_ids[0].clone();
    let raw = db.raw().await;
    let rows_of = |raw: sqlx::AnyPool, id: String| async move {
        let items: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM medical_items WHERE patient_id = $1")
            .bind(&id)
            .fetch_one(&raw)
            .await
            .unwrap();
        let results: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lab_results WHERE patient_id = $1")
            .bind(&id)
            .fetch_one(&raw)
            .await
            .unwrap();
        items + results
    };
    // The same person's records again under new ids: the import matches them by SNILS.
    let (held, go, import) = paused_import(&db, first.replace("urn:uuid:", "urn:uuid:f"));
    held.await.unwrap();
    cab.system().patients().erase(&patient_id).await.unwrap();
    let at_erasure = rows_of(raw.clone(), patient_id.clone()).await;
    go.send(()).unwrap();
    match import.join().unwrap() {
        Ok(r) => assert!(!r.patient_ids.contains(&patient_id), "the erased person is not written to"),
        Err(e) => assert_eq!(e.code(), "crypto.key_destroyed"),
    }
    assert_eq!(rows_of(raw.clone(), patient_id.clone()).await, at_erasure, "no record added for the erased person");
    assert!(cab.system().audit().verify().await.unwrap().ok);
}

/// Class 10: an import's staged rows are deleted once published, and rows a dead import
/// left a day ago are purged by the next import.
async fn s10_staged_rows_go_once_published_or_abandoned(db: TestDb) {
    let cab = db.open().await;
    let raw = db.raw().await;
    sqlx::query(
        "INSERT INTO staged_fhir_sources (import_id, seq, staged_at, source, local_kind, local_id, patient_id, imported_at) \
         VALUES ('dead', 1, 0, 'x', 'Observation', 'y', NULL, 0)",
    )
    .execute(&raw)
    .await
    .unwrap();
    let report = cab.system().fhir().import_bundle(&kabinet::fhir::synthetic_bundle(0, 2)).await.unwrap();
    assert_eq!(report.created.values().sum::<u64>(), 2 * kabinet::fhir::RESOURCES_PER_PATIENT as u64);
    for table in ["patients", "medical_items", "lab_results", "fhir_sources"] {
        let left: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM staged_{table}")))
            .fetch_one(&raw)
            .await
            .unwrap();
        assert_eq!(left, 0, "staged_{table}");
    }
    let imported: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM lab_results").fetch_one(&raw).await.unwrap();
    assert!(imported > 0);
    // Erasure deletes what an unfinished import staged for the person.
    let person = &report.patient_ids[0];
    sqlx::query(
        "INSERT INTO staged_medical_items (import_id, seq, staged_at, id, patient_id, kind, occurred_on, body, created_at, updated_at) \
         VALUES ('live', 1, 9000000000000000, 'i', $1, 'visit', 0, $2, 0, 0)",
    )
    .bind(person)
    .bind(vec![1u8, 2, 3])
    .execute(&raw)
    .await
    .unwrap();
    cab.system().patients().erase(person).await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM staged_medical_items").fetch_one(&raw).await.unwrap();
    assert_eq!(left, 0, "staged rows of an erased person");
}

/// A bundle with a new person first, then the records of person 0 (on file) under new ids:
/// the plan decides about the new person, then opens person 0's key (where a pause holds).
fn new_person_then_known_one(new: usize, prefix: &str) -> String {
    let mut a: serde_json::Value = serde_json::from_str(
        &kabinet::fhir::synthetic_bundle(new, 1).replace("urn:uuid:", &format!("urn:uuid:{prefix}n")),
    )
    .unwrap();
    let b: serde_json::Value = serde_json::from_str(
        &kabinet::fhir::synthetic_bundle(0, 1).replace("urn:uuid:", &format!("urn:uuid:{prefix}k")),
    )
    .unwrap();
    a["entry"].as_array_mut().unwrap().extend(b["entry"].as_array().unwrap().iter().cloned());
    a.to_string()
}

/// Review finding: two imports bringing one person without identifiers at the same time
/// must not both make them (every later import would then fail as ambiguous). The second
/// to publish sees the first's patient and plans again.
async fn s10_one_person_without_identifiers_imported_twice_at_once_is_one_patient(db: TestDb) {
    let cab = db.open().await;
    cab.system().fhir().import_bundle(&kabinet::fhir::synthetic_bundle(0, 1)).await.unwrap();
    let (held, go, import) = paused_import(&db, new_person_then_known_one(1, "a"));
    held.await.unwrap();
    // Meanwhile another system sends person 1 too.
    let other = kabinet::fhir::synthetic_bundle(1, 1).replace("urn:uuid:", "urn:uuid:b");
    cab.system().fhir().import_bundle_from(&other, "urn:example:b").await.unwrap();
    go.send(()).unwrap();
    import.join().unwrap().unwrap();
    let raw = db.raw().await;
    let patients: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&raw).await.unwrap();
    assert_eq!(patients, 2, "person 1 once, whoever published first");
    // And a third import of person 1 still finds exactly one.
    cab.system().fhir().import_bundle_from(&other.replace("urn:uuid:b", "urn:uuid:c"), "urn:example:c").await.unwrap();
}

/// Review finding: a data key made during a plan is wrapped at publish, under the KEK that
/// is current then — a rotation that ran meanwhile (in another process) leaves no key under
/// the old KEK.
async fn s10_keys_made_while_a_rotation_ran_are_wrapped_under_the_new_kek(db: TestDb) {
    let cab = db.open().await;
    cab.system().fhir().import_bundle(&kabinet::fhir::synthetic_bundle(0, 1)).await.unwrap();
    let (held, go, import) = paused_import(&db, new_person_then_known_one(1, "a"));
    held.await.unwrap();
    let rotation = db.open().await.system().keys().rotate().await.unwrap();
    go.send(()).unwrap();
    import.join().unwrap().unwrap();
    let _ = rotation;
    let raw = db.raw().await;
    let keks: Vec<String> = sqlx::query_scalar("SELECT DISTINCT kek_id FROM wrapped_keys WHERE wrapped IS NOT NULL")
        .fetch_all(&raw)
        .await
        .unwrap();
    assert_eq!(keks.len(), 1, "every live key under the one current KEK: {keks:?}");
}

/// Review finding: a new person (their SNILS unknown) whose OMS policy is another patient's
/// refuses the file with `patient.exists` at once, not after several plans as a retryable
/// `storage.busy`.
async fn s10_a_policy_of_someone_else_refuses_the_file_at_once(db: TestDb) {
    let h = db.harness().await;
    h.cab.system().patients().create(support::anna()).await.unwrap();
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "entry": [
        { "fullUrl": "urn:uuid:p1", "resource": { "resourceType": "Patient", "gender": "female", "birthDate": "1980-01-01",
          "name": [{ "family": "Другая", "given": ["Ольга"] }],
          "identifier": [{ "system": "urn:oid:1.2.643.100.3", "value": "123-456-789 64" },
                         { "system": "urn:oid:1.2.643.5.1.13.2.7.100.5", "value": "8451999122899990" }] } },
    ]});
    let err = h.cab.system().fhir().import_bundle(&bundle.to_string()).await.unwrap_err();
    assert_eq!(err.code(), "patient.exists");
    assert!(!err.retryable());
}

on_both!(r20_every_patient_function_is_a_scope_and_the_proxy_hears_the_wards_news);

/// Issue 14, item 10: attachment, certificates, documents and notifications are scopes a
/// proxy can hold; a code goes to the proxy who acts; with `notifications` the proxy gets
/// the ward's messages, named for whom.
async fn r20_every_patient_function_is_a_scope_and_the_proxy_hears_the_wards_news(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    let anna_id = anna.patient_id().unwrap().to_owned();
    h.attach(&anna, "0101").await;
    let parent = session(&h, &h.patient(registration_n(55)).await).await;
    // Without the scopes: refused, as before.
    let pending = anna.proxies().grant(&snils_for(55), &["records".to_owned()], None).await.unwrap();
    let narrow = anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    let ward = parent.as_ward(&anna_id).await.unwrap();
    assert_eq!(ward.certificates().list().await.unwrap_err().code(), "proxy.scope");
    assert_eq!(ward.attachment().current().await.unwrap_err().code(), "proxy.scope");
    assert_eq!(ward.notifications().preferences().await.unwrap_err().code(), "proxy.scope");
    anna.proxies().revoke(&narrow.id).await.unwrap();
    let wanted: Vec<String> =
        ["records", "labs", "attachment", "certificates", "documents", "notifications"].map(str::to_owned).to_vec();
    let pending = anna.proxies().grant(&snils_for(55), &wanted, None).await.unwrap();
    anna.proxies().confirm(&pending.id, &h.inbox.last_code("proxy_code")).await.unwrap();
    let ward = parent.as_ward(&anna_id).await.unwrap();
    assert_eq!(ward.attachment().current().await.unwrap().unwrap().clinic_code, "0101");
    ward.notifications().preferences().await.unwrap();
    ward.certificates().list().await.unwrap();
    // A certificate asked by the proxy: its code goes to the proxy's phone, not the ward's.
    let doctor = h.staff(&c1, "doctor", 56).await;
    let visit = kabinet::ItemData::Visit(kabinet::Visit {
        date: date!(2026 - 02 - 10),
        institution: "Поликлиника № 1".into(),
        diagnoses: vec![kabinet::Diagnosis { icd10: "J06.9".into(), text: "ОРВИ".into() }],
        procedures: vec![],
    });
    doctor.staff().unwrap().records().add(&anna_id, visit).await.unwrap();
    ward.certificates().request(kabinet::CertificateKind::MedicalHistoryExtract, None, None).await.unwrap();
    let code_sms = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "certificate_code").cloned().unwrap();
    assert_eq!(code_sms.recipient, "+79170000055");
    // The ward's news reaches the proxy too, named for whom; codes never do.
    let before: Vec<kabinet::integrations::Message> =
        h.inbox.0.lock().unwrap().iter().filter(|m| m.kind == "new_document").cloned().collect();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n";
    let meta = kabinet::DocumentMeta { created_on: date!(2026 - 11 - 01), institution: "П".into(), study_type: None };
    doctor
        .staff()
        .unwrap()
        .documents()
        .publish(&anna_id, kabinet::DocumentKind::Other, "a.pdf", pdf, meta)
        .await
        .unwrap();
    let after: Vec<kabinet::integrations::Message> =
        h.inbox.0.lock().unwrap().iter().filter(|m| m.kind == "new_document").cloned().collect();
    let news: Vec<_> = after.into_iter().skip(before.len()).collect();
    let recipients: Vec<&str> = news.iter().map(|m| m.recipient.as_str()).collect();
    assert!(recipients.contains(&"+79161234567") && recipients.contains(&"+79170000055"), "{recipients:?}");
    let to_parent = news.iter().find(|m| m.recipient == "+79170000055").unwrap();
    assert!(to_parent.text.starts_with("[for Анна]"), "{}", to_parent.text);
    assert_eq!(to_parent.patient_id.as_deref(), Some(anna_id.as_str()));
    let codes_to_parent =
        h.inbox.0.lock().unwrap().iter().filter(|m| m.recipient == "+79170000055" && m.kind == "login_code").count();
    let step = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    drop(step);
    let codes_now =
        h.inbox.0.lock().unwrap().iter().filter(|m| m.recipient == "+79170000055" && m.kind == "login_code").count();
    assert_eq!(codes_now, codes_to_parent, "the ward's login codes stay hers");
}
