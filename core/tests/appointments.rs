//! R8 (directory, slots, booking, reschedule, cancel, reminders), R11 (attachment) and staff
//! accounts on both engines, with an injected clock; plus the multi-process booking race.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::{Error, ErrorCode, ErrorKind, Me};
use support::{Harness, PASSWORD, TestDb, device, registration_n};
use time::{Duration, OffsetDateTime};

on_both!(
    r8_directory_lookup_search_and_validation,
    r8_slots_open_and_free_slot_queries,
    r8_booking_one_patient_per_slot_with_a_visit_card,
    r8_local_time_of_the_region_or_the_clinic_in_every_message,
    r8_reschedule_cancel_deadline_and_history,
    r8_reminder_a_day_before_sent_once,
    r8_booking_needs_a_confirmed_identity,
    r11_attach_change_detach_with_codes_and_history,
    r5_staff_sign_in_with_totp_and_named_in_access_history,
    r8_eight_processes_race_for_fifty_slots,
);

fn code(e: Error) -> &'static str {
    e.code()
}

/// Region 77, two clinics, a GP and a surgeon, and the slots of tomorrow morning.
struct World {
    clinic: kabinet::Clinic,
    other_clinic: kabinet::Clinic,
    gp: kabinet::Practitioner,
    slots: Vec<kabinet::Slot>,
}

async fn world(h: &Harness) -> World {
    let dir = h.cab.system().directory();
    dir.add_region("77", "Москва", None).await.unwrap();
    let clinic = dir
        .add_clinic("77", "0101", "ГБУЗ «Городская поликлиника № 1»", "ул. Ленина, 1", "пн–пт 8:00–20:00")
        .await
        .unwrap();
    let other_clinic = dir
        .add_clinic("77", "0202", "Семёновская поликлиника", "ул. Семёновская, 2", "пн–сб 8:00–18:00")
        .await
        .unwrap();
    let visit_types = vec!["first".to_owned(), "repeat".to_owned()];
    let gp = dir.add_practitioner(&clinic.id, "Петров Пётр Петрович", "Терапевт", &visit_types).await.unwrap();
    dir.add_practitioner(&other_clinic.id, "Сидорова Ольга", "Хирург", &["first".to_owned()]).await.unwrap();
    let tomorrow = h.cab_now() + Duration::days(1);
    let start = tomorrow.replace_time(time::macros::time!(09:00));
    let slots =
        h.cab.system().schedule().open_slots(&gp.id, start, start + Duration::hours(2), 20, "first").await.unwrap();
    World { clinic, other_clinic, gp, slots }
}

trait Now {
    fn cab_now(&self) -> OffsetDateTime;
}

impl Now for Harness {
    fn cab_now(&self) -> OffsetDateTime {
        *self.clock.0.lock().unwrap()
    }
}

async fn session(h: &Harness, tokens: &kabinet::Tokens) -> Me {
    h.cab.session(&tokens.access_token, &device()).await.unwrap()
}

async fn r8_directory_lookup_search_and_validation(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let me = h.anna_confirmed().await;
    let d = me.directory();
    assert_eq!(
        d.regions().await.unwrap(),
        vec![kabinet::Region { code: "77".into(), name: "Москва".into(), time_zone: "Europe/Moscow".into() }]
    );
    let names: Vec<String> = d.clinics("77").await.unwrap().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["ГБУЗ «Городская поликлиника № 1»", "Семёновская поликлиника"]);
    // By code, and by name without regard to case, ё/е and quotes.
    assert_eq!(d.find_clinic("0101").await.unwrap(), w.clinic);
    assert_eq!(d.find_clinic("семеновская ПОЛИКЛИНИКА").await.unwrap(), w.other_clinic);
    assert_eq!(d.find_clinic("гбуз городская поликлиника № 1").await.unwrap().id, w.clinic.id);
    assert_eq!(d.find_clinic("нет такой").await.unwrap_err().kind(), ErrorKind::NotFound);
    let addr = w.clinic.address.clone();
    assert_eq!(addr, "ул. Ленина, 1");
    assert_eq!(w.clinic.opening_hours, "пн–пт 8:00–20:00");
    // A second clinic with the same name makes the name ambiguous; the code still works.
    h.cab
        .system()
        .directory()
        .add_clinic("77", "0303", "Семеновская поликлиника", "ул. Б, 3", "круглосуточно")
        .await
        .unwrap();
    assert_eq!(code(d.find_clinic("Семёновская поликлиника").await.unwrap_err()), "clinic.ambiguous");
    assert_eq!(d.find_clinic("0202").await.unwrap().id, w.other_clinic.id);
    // Practitioner search by specialization (case-insensitive), clinic and visit type.
    let gps = d.practitioners(Some("терапевт"), None, None).await.unwrap();
    assert_eq!(gps.len(), 1);
    assert_eq!(gps[0].full_name, "Петров Пётр Петрович");
    assert_eq!(gps[0].clinic_name, w.clinic.name);
    assert_eq!(gps[0].visit_types, ["first", "repeat"]);
    assert_eq!(d.practitioners(None, Some(&w.other_clinic.id), None).await.unwrap()[0].specialization, "Хирург");
    assert_eq!(d.practitioners(None, None, Some("repeat")).await.unwrap().len(), 1);
    assert_eq!(d.practitioners(None, None, Some("first")).await.unwrap().len(), 2);
    assert!(d.practitioners(Some("Хирург"), Some(&w.clinic.id), None).await.unwrap().is_empty());
    // Bad input: typed errors naming the field; nothing stored.
    let admin = h.cab.system().directory();
    match admin.add_clinic("77", "0404", "  ", "адрес", "часы").await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("name", "empty")),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        admin.add_clinic("99", "0404", "Где-то", "адрес", "часы").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    assert_eq!(code(admin.add_clinic("77", "0101", "Дубль", "адрес", "часы").await.unwrap_err()), "clinic.exists");
    assert_eq!(code(admin.add_region("77", "Снова Москва", None).await.unwrap_err()), "region.exists");
    match admin.add_practitioner(&w.clinic.id, "Без приёма", "Терапевт", &[]).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "visit_types"),
        other => panic!("{other:?}"),
    }
    assert_eq!(d.clinics("77").await.unwrap().len(), 3);
    assert_eq!(w.slots.len(), 6);
}

async fn r8_slots_open_and_free_slot_queries(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let me = h.anna_confirmed().await;
    let first = &w.slots[0];
    assert_eq!(first.ends_at - first.starts_at, Duration::minutes(20));
    assert!(w.slots.windows(2).all(|p| p[1].starts_at == p[0].ends_at));
    let since = w.slots[0].starts_at;
    let free = me.appointments().free_slots(&w.gp.id, since, since + Duration::hours(1)).await.unwrap();
    assert_eq!(
        free.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        [w.slots[0].id.clone(), w.slots[1].id.clone(), w.slots[2].id.clone()]
    );
    me.appointments().book(&w.slots[1].id).await.unwrap();
    let free = me.appointments().free_slots(&w.gp.id, since, since + Duration::hours(1)).await.unwrap();
    assert_eq!(free.len(), 2, "a booked slot is not free");
    let sys = h.cab.system();
    // The same start again is refused whole: nothing is opened.
    let sched = sys.schedule();
    let again = sched.open_slots(&w.gp.id, since - Duration::minutes(40), since + Duration::minutes(20), 20, "first");
    assert_eq!(code(again.await.unwrap_err()), "slot.exists");
    assert_eq!(me.directory().free_slots(&w.gp.id, since - Duration::hours(1), since).await.unwrap().len(), 0);
    // A visit type the practitioner does not take, a bad length, an unknown practitioner.
    match sys
        .schedule()
        .open_slots(&w.gp.id, since + Duration::days(1), since + Duration::days(1) + Duration::hours(1), 20, "home")
        .await
    {
        Err(Error::Validation(v)) => assert_eq!((v.field, v.reason.as_str()), ("visit_type", "unknown_value")),
        other => panic!("{other:?}"),
    }
    match sys.schedule().open_slots(&w.gp.id, since, since + Duration::hours(1), 0, "first").await {
        Err(Error::Validation(v)) => assert_eq!(v.field, "minutes"),
        other => panic!("{other:?}"),
    }
    let unknown = sys.schedule().open_slots("nope", since, since + Duration::hours(1), 20, "first").await;
    assert_eq!(unknown.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn r8_booking_one_patient_per_slot_with_a_visit_card(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    h.cab
        .system()
        .directory()
        .set_required_documents("first", &["oms_policy".into(), "passport".into(), "test_results".into()])
        .await
        .unwrap();
    let anna = h.anna_confirmed().await;
    // Boris books through a deployment that does not require identity confirmation.
    let relaxed = relaxed(&db, &h).await;
    let boris = relaxed.session(&h.patient(registration_n(1)).await.access_token, &device()).await.unwrap();
    let slot = &w.slots[0];
    let a = anna.appointments().book(&slot.id).await.unwrap();
    // The visit card (R8).
    assert_eq!(a.practitioner_name, "Петров Пётр Петрович");
    assert_eq!(a.clinic_name, w.clinic.name);
    assert_eq!(a.clinic_address, "ул. Ленина, 1");
    assert_eq!(a.starts_at, slot.starts_at);
    assert_eq!(a.status, "booked");
    assert_eq!(a.required_documents, ["oms_policy", "passport", "test_results"]);
    assert_eq!(a.confirmation_code.len(), 9);
    // The visit card goes by e-mail (and push when a device is registered), not SMS (R14).
    let sms = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "appointment_booked").cloned().unwrap();
    assert_eq!((sms.channel, sms.recipient.as_str()), (kabinet::Channel::Email, "anna.ivanova@example.ru"));
    assert_eq!(sms.code.as_deref(), Some(a.confirmation_code.as_str()));
    assert!(sms.text.contains("Петров Пётр Петрович") && sms.text.contains(&a.confirmation_code), "{}", sms.text);
    // People read the clinic's local time with the zone named (R8, issue 14 item 6): the
    // 09:00 UTC slot is noon in Moscow; the API keeps the aware UTC datetime.
    assert!(sms.text.contains("29.11.2026 12:00 (Europe/Moscow, UTC+3)"), "{}", sms.text);
    assert!(!sms.text.contains("09:00"), "{}", sms.text);
    assert_eq!((a.starts_at.offset(), a.clinic_time_zone.as_str()), (time::UtcOffset::UTC, "Europe/Moscow"));
    // One patient per slot: Boris cannot have it.
    assert_eq!(code(boris.appointments().book(&slot.id).await.unwrap_err()), "slot.taken");
    // Anna cannot hold two overlapping visits (another doctor at the same time).
    let surgeon = anna.directory().practitioners(Some("хирург"), None, None).await.unwrap().remove(0);
    let clash =
        h.cab.system().schedule().open_slots(&surgeon.id, slot.starts_at, slot.ends_at, 20, "first").await.unwrap();
    assert_eq!(code(anna.appointments().book(&clash[0].id).await.unwrap_err()), "appointment.overlap");
    // Unknown slots and past slots.
    assert_eq!(anna.appointments().book("no-such-slot").await.unwrap_err().kind(), ErrorKind::NotFound);
    let past = h
        .cab
        .system()
        .schedule()
        .open_slots(&w.gp.id, h.cab_now() - Duration::hours(3), h.cab_now() - Duration::hours(2), 20, "first")
        .await
        .unwrap();
    assert_eq!(code(anna.appointments().book(&past[0].id).await.unwrap_err()), "slot.past");
    // Exactly one live appointment for the slot, and the booking is in the journal.
    let raw = db.raw().await;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointments WHERE slot_id = $1 AND status = 'booked'")
        .bind(&slot.id)
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(n, 1);
    let journaled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'appointment' AND action = 'create' AND resource_id = $1")
        .bind(&a.id).fetch_one(&raw).await.unwrap();
    assert_eq!(journaled, 1);
    // Even a direct insert bypassing Kabinet is refused by the database.
    let direct = sqlx::query("INSERT INTO appointments (id, slot_id, patient_id, status, confirmation_code, starts_at, ends_at, created_at, updated_at) \
        SELECT 'x', slot_id, patient_id, 'booked', 'X', starts_at, ends_at, 0, 0 FROM appointments WHERE id = $1").bind(&a.id).execute(&raw).await;
    assert!(direct.is_err(), "the unique index holds one live appointment per slot");
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
}

/// The same database opened by a deployment that books without identity confirmation.
async fn relaxed(db: &TestDb, h: &Harness) -> kabinet::Cabinet {
    db.open_with(kabinet::Config {
        appointments: kabinet::AppointmentPolicy { require_identity: false, ..Default::default() },
        clock: std::sync::Arc::new(h.clock.clone()),
        notifier: Some(std::sync::Arc::new(h.inbox.clone())),
        ..db.config()
    })
    .await
}

async fn r8_reschedule_cancel_deadline_and_history(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let anna = h.anna_confirmed().await;
    let a = anna.appointments().book(&w.slots[0].id).await.unwrap();
    // Reschedule: atomic move; the old slot is free again, the code stays.
    let moved = anna.appointments().reschedule(&a.id, &w.slots[3].id).await.unwrap();
    assert_eq!((moved.id.as_str(), moved.slot_id.as_str()), (a.id.as_str(), w.slots[3].id.as_str()));
    assert_eq!(moved.starts_at, w.slots[3].starts_at);
    assert_eq!(h.inbox.count("appointment_changed"), 1);
    let free = anna.appointments().free_slots(&w.gp.id, w.slots[0].starts_at, w.slots[5].ends_at).await.unwrap();
    assert!(free.iter().any(|s| s.id == w.slots[0].id) && !free.iter().any(|s| s.id == w.slots[3].id));
    // Moving onto a taken slot fails and leaves the visit where it was.
    let second = anna.appointments().book(&w.slots[5].id).await.unwrap();
    let boris =
        relaxed(&db, &h).await.session(&h.patient(registration_n(2)).await.access_token, &device()).await.unwrap();
    boris.appointments().book(&w.slots[2].id).await.unwrap();
    assert_eq!(code(anna.appointments().reschedule(&second.id, &w.slots[2].id).await.unwrap_err()), "slot.taken");
    assert_eq!(
        code(anna.appointments().reschedule(&second.id, &w.slots[3].id).await.unwrap_err()),
        "appointment.overlap"
    );
    assert_eq!(
        anna.appointments().list(true).await.unwrap().iter().map(|x| x.slot_id.clone()).collect::<Vec<_>>(),
        [w.slots[3].id.clone(), w.slots[5].id.clone()]
    );
    // Cancel until 2 hours before; after that, deadline.passed.
    let cancelled = anna.appointments().cancel(&second.id).await.unwrap();
    assert_eq!(cancelled.status, "cancelled");
    assert_eq!(h.inbox.count("appointment_cancelled"), 1);
    assert_eq!(code(anna.appointments().cancel(&second.id).await.unwrap_err()), "appointment.not_active");
    let until_deadline = moved.starts_at - Duration::hours(2) - h.cab_now();
    h.clock.advance(until_deadline - Duration::minutes(1));
    let me = session(&h, &h.signed_in().await).await;
    let still = me.appointments().reschedule(&a.id, &w.slots[4].id).await.unwrap();
    h.clock.advance(Duration::minutes(30));
    let me = session(&h, &h.signed_in().await).await;
    assert_eq!(code(me.appointments().cancel(&still.id).await.unwrap_err()), "deadline.passed");
    assert_eq!(code(me.appointments().reschedule(&still.id, &w.slots[0].id).await.unwrap_err()), "deadline.passed");
    // History: after the visit it is past; cancelled ones are there too, newest first.
    h.clock.advance(Duration::hours(5));
    let me = session(&h, &h.signed_in().await).await;
    assert!(me.appointments().list(true).await.unwrap().is_empty());
    let history = me.appointments().list(false).await.unwrap();
    assert_eq!(history.iter().map(|x| x.status.as_str()).collect::<Vec<_>>(), ["cancelled", "past"]);
    // Someone else's appointment is not found.
    let boris = session(&h, &h.patient(registration_n(3)).await).await;
    assert_eq!(boris.appointments().cancel(&a.id).await.unwrap_err().kind(), ErrorKind::NotFound);
}

async fn r8_reminder_a_day_before_sent_once(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let anna = h.anna_confirmed().await;
    let dir = h.cab.system().schedule();
    let later = w.slots[0].starts_at + Duration::days(2);
    let far = dir.open_slots(&w.gp.id, later, later + Duration::minutes(20), 20, "first").await.unwrap();
    anna.appointments().book(&w.slots[0].id).await.unwrap();
    let far_visit = anna.appointments().book(&far[0].id).await.unwrap();
    // The world's slots start tomorrow at 09:00; now is 09:00 today, so the first is in 24 h.
    let report = h.cab.run_due_jobs().await.unwrap();
    assert_eq!(report.reminders_queued, 1);
    assert_eq!(h.inbox.count("reminder"), 1);
    let reminder = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "reminder").cloned().unwrap();
    assert!(reminder.text.contains("Петров"));
    // Running again (as another process would) sends nothing new.
    assert_eq!(h.cab.run_due_jobs().await.unwrap().reminders_queued, 0);
    assert_eq!(h.inbox.count("reminder"), 1);
    // The far visit gets its reminder when its day comes; a cancelled one never does.
    h.clock.advance(Duration::days(2));
    let me = session(&h, &h.signed_in().await).await;
    assert_eq!(h.cab.run_due_jobs().await.unwrap().reminders_queued, 1);
    let _ = me.appointments().list(true).await.unwrap();
    assert_eq!(h.inbox.count("reminder"), 2);
    assert_eq!(far_visit.status, "booked");
}

async fn r8_booking_needs_a_confirmed_identity(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let me = session(&h, &h.patient_unconfirmed(registration_n(4)).await).await;
    let err = me.appointments().book(&w.slots[0].id).await.unwrap_err();
    assert_eq!((err.code(), err.kind()), ("identity.unconfirmed", ErrorKind::PermissionDenied));
    // The directory stays available in the reduced feature set.
    assert_eq!(me.directory().regions().await.unwrap().len(), 1);
    // A deployment that does not require it lets the same person book.
    let open = relaxed(&db, &h).await;
    let tokens = {
        let step = h.cab.auth().login("+79170000004", PASSWORD, &device()).await.unwrap();
        h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap()
    };
    let me = open.session(&tokens.access_token, &device()).await.unwrap();
    assert_eq!(me.appointments().book(&w.slots[0].id).await.unwrap().status, "booked");
}

async fn r11_attach_change_detach_with_codes_and_history(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let anna = h.anna_confirmed().await;
    let att = anna.attachment();
    assert_eq!(att.current().await.unwrap(), None);
    // Validation of passport, SNILS and OMS policy, and a SNILS that is not hers.
    match att.attach("0101", "45 08 123456", "112-233-445 96", "8451999122899990", None, None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("snils", "checksum")),
        other => panic!("{other:?}"),
    }
    match att.attach("0101", "45 08 123456", &support::snils_for(9), "8451999122899990", None, None).await.unwrap_err()
    {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("snils", "mismatch")),
        other => panic!("{other:?}"),
    }
    match att.attach("0101", "45 08", "112-233-445 95", "8451999122899990", None, None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!(v.field, "passport"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        att.attach("9999", "45 08 123456", "112-233-445 95", "8451999122899990", None, None).await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
    // Attach by code, confirmed by the SMS code; a wrong code does nothing.
    let pending =
        att.attach("0101", "45 08 123456", "112-233-445 95", "8451 9991 2289 9990", None, None).await.unwrap();
    assert_eq!(pending.action, "attach");
    let sms = h.inbox.last_code("attachment_code");
    let wrong = if sms == "000000" { "111111" } else { "000000" };
    assert_eq!(att.confirm(&pending.id, wrong).await.unwrap_err().kind(), ErrorKind::Authentication);
    assert_eq!(att.current().await.unwrap(), None);
    let first = att.confirm(&pending.id, &sms).await.unwrap();
    assert_eq!((first.status.as_str(), first.clinic_code.as_str()), ("attachment_completed", "0101"));
    assert_eq!(h.inbox.count("attachment_completed"), 1);
    assert_eq!(att.confirm(&pending.id, &sms).await.unwrap_err().kind(), ErrorKind::Authentication, "single use");
    assert_eq!(
        code(att.attach("0101", "4508123456", "11223344595", "8451999122899990", None, None).await.unwrap_err()),
        "attachment.already"
    );
    // Staff of the clinic see her among their attached patients.
    let staff = staff_session(&h, &w.clinic.id, "registrar", "+79035550001").await;
    let attached = staff.staff().unwrap().patients().attached().await.unwrap();
    assert_eq!(attached.iter().map(|p| p.full_name.as_str()).collect::<Vec<_>>(), ["Иванова Анна Сергеевна"]);
    // Change the clinic (by name, ё-insensitive), then detach.
    h.clock.advance(Duration::hours(1));
    let anna = session(&h, &h.signed_in().await).await;
    let att = anna.attachment();
    let change = att
        .attach("семеновская поликлиника", "4508123456", "11223344595", "8451999122899990", None, None)
        .await
        .unwrap();
    let second = att.confirm(&change.id, &h.inbox.last_code("attachment_code")).await.unwrap();
    assert_eq!(second.clinic_id, w.other_clinic.id);
    // (The first registrar's session idled out meanwhile: a held context is re-checked.)
    assert_eq!(staff.staff().unwrap().patients().attached().await.unwrap_err().code(), "session.expired");
    let staff = staff_session(&h, &w.clinic.id, "registrar", "+79035550002").await;
    assert!(staff.staff().unwrap().patients().attached().await.unwrap().is_empty(), "no longer the first clinic's");
    h.clock.advance(Duration::hours(1));
    let anna = session(&h, &h.signed_in().await).await;
    let att = anna.attachment();
    let leave = att.detach(None).await.unwrap();
    assert_eq!(leave.action, "detach");
    let ended = att.confirm(&leave.id, &h.inbox.last_code("attachment_code")).await.unwrap();
    assert_eq!((ended.status.as_str(), ended.id.as_str()), ("detached", second.id.as_str()));
    assert_eq!(att.current().await.unwrap(), None);
    assert_eq!(code(att.detach(None).await.unwrap_err()), "attachment.none");
    // History with date and time, newest first.
    let history = att.history().await.unwrap();
    let t0 = first.attached_at;
    let seen: Vec<(String, String, OffsetDateTime)> =
        history.into_iter().map(|e| (e.action, e.clinic_code, e.at)).collect();
    assert_eq!(
        seen,
        [
            ("detached".into(), "0202".into(), t0 + Duration::hours(2)),
            ("attached".into(), "0202".into(), t0 + Duration::hours(1)),
            ("detached".into(), "0101".into(), t0 + Duration::hours(1)),
            ("attached".into(), "0101".into(), t0),
        ]
    );
    // The structured confirmation is stored sealed: no passport number in clear.
    let raw = db.raw().await;
    let details: Vec<Vec<u8>> = sqlx::query_scalar("SELECT details FROM attachments").fetch_all(&raw).await.unwrap();
    assert_eq!(details.len(), 2);
    assert!(details.iter().all(|d| !d.windows(10).any(|x| x == b"4508123456")));
}

/// A staff member of `clinic_id`, signed in with TOTP.
async fn staff_session(h: &Harness, clinic_id: &str, role: &str, phone: &str) -> Me {
    let account = h
        .cab
        .system()
        .staff()
        .create(kabinet::NewStaff {
            clinic_id: clinic_id.into(),
            role: role.parse().expect("a staff role"),
            full_name: "Смирнова Елена Викторовна".into(),
            phone: phone.into(),
            email: format!("staff{}@clinic.example.ru", &phone[phone.len() - 4..]),
            password: "Registratura#2026".into(),
        })
        .await
        .unwrap();
    let step = h.cab.auth().login(phone, "Registratura#2026", &device()).await.unwrap();
    assert_eq!(step.second_factor, "totp", "staff always use TOTP");
    let secret = totp_rs::Secret::try_from_base32(&account.totp_secret_base32).unwrap();
    let unix = h.cab_now().unix_timestamp() as u64;
    let tokens = h
        .cab
        .auth()
        .verify_second_factor(&step.id, &kabinet::auth::totp::code_at(secret.as_ref(), unix))
        .await
        .unwrap();
    h.cab.session(&tokens.access_token, &device()).await.unwrap()
}

async fn r5_staff_sign_in_with_totp_and_named_in_access_history(db: TestDb) {
    let h = db.harness().await;
    let w = world(&h).await;
    let anna = h.anna_confirmed().await;
    // Provisioning validates its input; a role outside the set is refused when parsed.
    let janitor = "janitor".parse::<kabinet::StaffRole>().unwrap_err();
    assert_eq!((janitor.field, janitor.reason.as_str()), ("role", "unknown_value"));
    let bad = kabinet::NewStaff {
        clinic_id: w.clinic.id.clone(),
        role: kabinet::StaffRole::Doctor,
        full_name: "Кто-то".into(),
        phone: "+79035550009".into(),
        email: "x@clinic.example.ru".into(),
        password: "Registratura#2026".into(),
    };
    let weak = kabinet::NewStaff { password: "password".into(), ..bad.clone() };
    assert_eq!(h.cab.system().staff().create(weak).await.unwrap_err().kind(), ErrorKind::Validation);
    let nowhere = kabinet::NewStaff { clinic_id: "nope".into(), ..bad };
    assert_eq!(h.cab.system().staff().create(nowhere).await.unwrap_err().kind(), ErrorKind::NotFound);
    let doctor = staff_session(&h, &w.clinic.id, "doctor", "+79035550002").await;
    // A staff session is not a patient session, and the other way round.
    assert_eq!(code(doctor.appointments().list(true).await.unwrap_err()), "role.patient_only");
    assert_eq!(code(doctor.profile().get().await.unwrap_err()), "role.patient_only");
    assert_eq!(code(anna.staff().unwrap_err()), "role.staff_only");
    let staff = doctor.staff().unwrap();
    assert_eq!(staff.member().unwrap().role, "doctor");
    // Anna is not the clinic's patient yet: staff cannot find her.
    assert!(staff.patients().find(Some("112-233-445 95"), None).await.unwrap().is_empty());
    let visit = anna.appointments().book(&w.slots[0].id).await.unwrap();
    let found = staff.patients().find(Some("112-233-445 95"), None).await.unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].full_name, "Иванова Анна Сергеевна");
    let day = staff.appointments().list(w.slots[0].starts_at, w.slots[0].starts_at + Duration::days(1)).await.unwrap();
    assert_eq!(day.iter().map(|a| a.id.as_str()).collect::<Vec<_>>(), [visit.id.as_str()]);
    // Anna's access history names the doctor with role and name (R5).
    let history = anna.security().access_history(None).await.unwrap();
    let by_staff: Vec<_> = history.iter().filter(|e| e.actor_kind == "staff").collect();
    assert!(!by_staff.is_empty());
    assert!(by_staff.iter().all(|e| e.who == "doctor Смирнова Елена Викторовна"), "{:?}", by_staff[0].who);
    assert!(by_staff.iter().any(|e| e.action == "read" && e.resource_type == "patients"));
    assert!(by_staff.iter().any(|e| e.resource_type == "appointment"));
    assert_eq!(by_staff[0].actor_role, Some(kabinet::StaffRole::Doctor));
    // Who, role, clinic and when — not the staff member's network address or device
    // (issue 11, class 12); the operator's view keeps them.
    assert!(by_staff.iter().all(|e| e.actor_clinic.as_deref() == Some("ГБУЗ «Городская поликлиника № 1»")));
    assert!(by_staff.iter().all(|e| e.ip.is_none() && e.device_id.is_none()), "{:?}", by_staff[0]);
    assert!(
        history.iter().any(|e| e.actor_kind == "patient" && e.ip.as_deref() == Some("203.0.113.7")),
        "her own are shown"
    );
    let operator = h.cab.system().audit().access_history(anna.patient_id().unwrap(), None).await.unwrap();
    assert!(operator.iter().any(|e| e.actor_kind == "staff" && e.ip.is_some()));
    // Staff cannot read the patient's access history.
    assert_eq!(code(doctor.security().access_history(None).await.unwrap_err()), "role.patient_only");
}

/// 8 processes × 10 patients race for 50 slots on one database: every slot is booked at
/// most once, every success the workers saw is in the database with its confirmation code
/// and its journal entry, and the journal verifies.
async fn r8_eight_processes_race_for_fifty_slots(db: TestDb) {
    const WORKERS: usize = 8;
    const PATIENTS: usize = 10;
    let now = OffsetDateTime::now_utc();
    let clock = support::TestClock(std::sync::Arc::new(std::sync::Mutex::new(now)));
    let h = db.harness_with(clock, support::Inbox::default()).await;
    let dir = h.cab.system().directory();
    dir.add_region("77", "Москва", None).await.unwrap();
    let clinic = dir.add_clinic("77", "0101", "Поликлиника", "ул. Ленина, 1", "пн–пт").await.unwrap();
    let doctors = ["Аникин", "Борисова"];
    let start = (now + Duration::days(1)).replace_time(time::macros::time!(08:00));
    let mut slots = Vec::new();
    for (i, d) in doctors.iter().enumerate() {
        let p = dir.add_practitioner(&clinic.id, d, "терапевт", &["first".to_owned()]).await.unwrap();
        let begin = start + Duration::hours(6 * i as i64);
        slots.extend(dir.open_slots(&p.id, begin, begin + Duration::minutes(10 * 25), 10, "first").await.unwrap());
    }
    assert_eq!(slots.len(), 50);
    let plan = tempfile::tempdir().unwrap();
    for w in 0..WORKERS {
        let mut tokens = String::new();
        for p in 0..PATIENTS {
            let t = h.patient(registration_n(100 + (w * PATIENTS + p) as u32)).await;
            tokens.push_str(&t.access_token);
            tokens.push('\n');
        }
        std::fs::write(plan.path().join(format!("tokens-{w}")), tokens).unwrap();
    }
    let slot_ids: Vec<String> = slots.iter().map(|s| s.id.clone()).collect();
    std::fs::write(plan.path().join("slots"), slot_ids.join("\n")).unwrap();
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..WORKERS)
        .map(|w| {
            std::process::Command::new(&exe)
                .args(["race_worker", "--exact", "--nocapture", "--test-threads=1"])
                .env("KABINET_RACE_DIR", plan.path())
                .env("KABINET_RACE_WORKER", w.to_string())
                .env("KABINET_RACE_URL", &db.url)
                .env("KABINET_RACE_KEYS", db.key_path())
                .stdout(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::fs::write(plan.path().join("go"), "").unwrap();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "a worker failed");
    }
    let mut seen = Vec::new();
    for w in 0..WORKERS {
        for line in std::fs::read_to_string(plan.path().join(format!("booked-{w}"))).unwrap().lines() {
            let parts: Vec<&str> = line.split(' ').collect();
            seen.push((parts[0].to_owned(), parts[1].to_owned(), parts[2].to_owned()));
        }
    }
    assert_eq!(seen.len(), 50, "80 patients for 50 slots: every slot is booked, once");
    let raw = db.raw().await;
    let doubles: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT slot_id FROM appointments WHERE status = 'booked' GROUP BY slot_id HAVING COUNT(*) > 1) d",
    )
    .fetch_one(&raw)
    .await
    .unwrap();
    assert_eq!(doubles, 0);
    for (id, slot, confirmation) in &seen {
        let row: (String, String) = sqlx::query_as("SELECT slot_id, confirmation_code FROM appointments WHERE id = $1")
            .bind(id)
            .fetch_one(&raw)
            .await
            .unwrap();
        assert_eq!((&row.0, &row.1), (slot, confirmation), "no lost or changed confirmation");
        let entries: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'appointment' AND action = 'create' AND resource_id = $1",
        )
        .bind(id)
        .fetch_one(&raw)
        .await
        .unwrap();
        assert_eq!(entries, 1, "every booking has its journal entry");
    }
    let report = h.cab.system().audit().verify().await.unwrap();
    assert!(report.ok, "{report:?}");
}

/// One process of the race above; does nothing when run on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn race_worker() {
    let (Ok(dir), Ok(w), Ok(url), Ok(keys)) = (
        std::env::var("KABINET_RACE_DIR"),
        std::env::var("KABINET_RACE_WORKER"),
        std::env::var("KABINET_RACE_URL"),
        std::env::var("KABINET_RACE_KEYS"),
    ) else {
        return;
    };
    let dir = std::path::PathBuf::from(dir);
    let config = kabinet::Config {
        key_provider: Some(std::sync::Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys).unwrap())),
        appointments: kabinet::AppointmentPolicy { require_identity: false, ..Default::default() },
        max_connections: 4,
        ..kabinet::Config::default()
    };
    let cab = kabinet::Cabinet::open(&url, config).await.unwrap();
    let slots: Vec<String> = std::fs::read_to_string(dir.join("slots")).unwrap().lines().map(str::to_owned).collect();
    let tokens = std::fs::read_to_string(dir.join(format!("tokens-{w}"))).unwrap();
    while !dir.join("go").exists() {
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let mut booked = String::new();
    let offset: usize = w.parse::<usize>().unwrap() * 7;
    for (p, token) in tokens.lines().enumerate() {
        let me = cab.session(token, &device()).await.unwrap();
        // Each patient wants one visit and tries the slots from their own starting point.
        for k in 0..slots.len() {
            let slot = &slots[(offset + p * 3 + k) % slots.len()];
            match me.appointments().book(slot).await {
                Ok(a) => {
                    booked.push_str(&format!("{} {} {}\n", a.id, a.slot_id, a.confirmation_code));
                    break;
                }
                Err(e) if e.code() == "slot.taken" => continue,
                Err(e) => panic!("worker {w}: {e:?}"),
            }
        }
    }
    std::fs::write(dir.join(format!("booked-{w}")), booked).unwrap();
}

/// Issue 14, item 6: every region has an IANA zone, a clinic may override it, and every
/// text a person reads (SMS, e-mail, the visit card) shows that local time with the zone.
async fn r8_local_time_of_the_region_or_the_clinic_in_every_message(db: TestDb) {
    let h = db.harness().await;
    let sys = h.cab.system();
    let dir = sys.directory();
    for bad in ["Mars/Olympus", "", "UTC+5", "Asia/Yekaterinburg\u{0}"] {
        let e = dir.add_region("66", "Свердловская область", Some(bad)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{bad:?}");
    }
    let region = dir.add_region("66", "Свердловская область", Some("Asia/Yekaterinburg")).await.unwrap();
    assert_eq!(region.time_zone, "Asia/Yekaterinburg");
    let clinic = dir.add_clinic("66", "6601", "ГАУЗ СО «ГП № 3»", "ул. Мира, 3", "пн–пт").await.unwrap();
    assert_eq!(clinic.time_zone, "Asia/Yekaterinburg", "a clinic keeps its region's zone");
    let gp = dir.add_practitioner(&clinic.id, "Иванов Иван", "Терапевт", &["first".to_owned()]).await.unwrap();
    let start = time::macros::datetime!(2026-11-30 04:00 UTC);
    let slots = sys.schedule().open_slots(&gp.id, start, start + Duration::hours(1), 30, "first").await.unwrap();
    let anna = h.anna_confirmed().await;
    let a = anna.appointments().book(&slots[0].id).await.unwrap();
    let card = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "appointment_booked").cloned().unwrap();
    assert!(card.text.contains("30.11.2026 09:00 (Asia/Yekaterinburg, UTC+5)"), "{}", card.text);
    assert_eq!(a.starts_at, start, "the API keeps UTC");
    // The visit card PDF too.
    let pdf = anna.appointments().card_pdf(&a.id).await.unwrap();
    let text = support::pdf_text(&pdf);
    assert!(text.contains("30.11.2026 09:00 (Asia/Yekaterinburg, UTC+5)"), "{text}");
    // The clinic overrides its zone: the next message follows it; clearing it restores the region's.
    assert_eq!(
        dir.set_clinic_time_zone(&clinic.id, Some("Nowhere/Land")).await.unwrap_err().kind(),
        ErrorKind::Validation
    );
    assert_eq!(dir.set_clinic_time_zone("no-such-clinic", None).await.unwrap_err().kind(), ErrorKind::NotFound);
    let moved = dir.set_clinic_time_zone(&clinic.id, Some("Asia/Kamchatka")).await.unwrap();
    assert_eq!(moved.time_zone, "Asia/Kamchatka");
    anna.appointments().cancel(&a.id).await.unwrap();
    let cancelled =
        h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "appointment_cancelled").cloned().unwrap();
    assert!(cancelled.text.contains("30.11.2026 16:00 (Asia/Kamchatka, UTC+12)"), "{}", cancelled.text);
    let back = dir.set_clinic_time_zone(&clinic.id, None).await.unwrap();
    assert_eq!(back.time_zone, "Asia/Yekaterinburg");
    // Regions list their zones; the change is journaled.
    let regions = anna.directory().regions().await.unwrap();
    assert!(regions.iter().any(|r| r.code == "66" && r.time_zone == "Asia/Yekaterinburg"));
    let raw = db.raw().await;
    let journaled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'clinic' AND action = 'update'")
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(journaled, 2);
}
