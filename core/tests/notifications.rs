//! R14: the durable outbox — preferences (security notices cannot be switched off),
//! vaccination reminders, concurrent delivery without duplicates, and a process killed in
//! the middle of delivery losing nothing and delivering nothing twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use kabinet::integrations::{DeliveryError, Message, Notifier};
use support::{Harness, TestDb, device, registration_n};
use time::Duration;

on_both!(
    r14_preferences_route_messages_but_not_security_notices,
    r14_vaccination_due_reminder_once,
    r14_concurrent_runners_deliver_each_message_once,
    r14_killed_during_delivery_loses_nothing_and_sends_nothing_twice,
    r14_push_to_registered_devices_by_each_event_policy,
);

async fn r14_preferences_route_messages_but_not_security_notices(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let pid = anna.patient_id().unwrap().to_owned();
    assert_eq!(
        anna.notifications().preferences().await.unwrap(),
        kabinet::Preferences { sms: true, email: true, push: true }
    );
    let doctor = h.staff(&c1, "doctor", 50).await;
    let publish = lab_report;
    let last = |kind: &str| h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == kind).cloned().unwrap();
    doctor.staff().unwrap().labs().publish(&pid, publish("Первый")).await.unwrap();
    assert_eq!(last("lab_result").channel, kabinet::integrations::Channel::Sms);
    // SMS off: the next informational message goes by e-mail.
    anna.notifications().set_preferences(false, true, true).await.unwrap();
    doctor.staff().unwrap().labs().publish(&pid, publish("Второй")).await.unwrap();
    let mail = last("lab_result");
    assert_eq!(
        (mail.channel, mail.recipient.as_str()),
        (kabinet::integrations::Channel::Email, "anna.ivanova@example.ru")
    );
    // Everything off: nothing informational; security notices still arrive by SMS.
    anna.notifications().set_preferences(false, false, false).await.unwrap();
    let before = h.inbox.count("lab_result");
    doctor.staff().unwrap().labs().publish(&pid, publish("Третий")).await.unwrap();
    assert_eq!(h.inbox.count("lab_result"), before);
    let step = h.cab.auth().login("+79161234567", support::PASSWORD, &device()).await.unwrap();
    assert_eq!(last("login_code").channel, kabinet::integrations::Channel::Sms);
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    assert!(
        anna.security()
            .access_history(None)
            .await
            .unwrap()
            .iter()
            .any(|e| e.resource_type == "notification_preferences")
    );
    // The patient's own language (R17): the cabinet speaks English, Anna chooses Russian.
    anna.notifications().set_preferences(true, true, true).await.unwrap();
    anna.profile().set_locale("ru").await.unwrap();
    doctor.staff().unwrap().labs().publish(&pid, publish("Четвёртый")).await.unwrap();
    let ru = last("lab_result");
    assert!(ru.text.starts_with("Готов результат: Четвёртый"), "{}", ru.text);
    assert_eq!(kabinet::ErrorCode::code(&anna.profile().set_locale("de").await.unwrap_err()), "config.locale");
}

async fn r14_vaccination_due_reminder_once(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let pid = anna.patient_id().unwrap().to_owned();
    let doctor = h.staff(&c1, "nurse", 51).await;
    let today = h.clock.0.lock().unwrap().date();
    let imm = kabinet::ItemData::Immunization(kabinet::Immunization {
        vaccine: "АДС-М".into(),
        date: today - Duration::days(300),
        dose: None,
        lot: None,
        performer: None,
        next_due: Some(today + Duration::days(20)),
    });
    doctor.staff().unwrap().records().add(&pid, imm).await.unwrap();
    assert_eq!(h.cab.run_due_jobs().await.unwrap().reminders_queued, 0, "not within a week yet");
    h.clock.advance(Duration::days(14));
    let report = h.cab.run_due_jobs().await.unwrap();
    assert_eq!(report.reminders_queued, 1);
    assert_eq!(h.inbox.count("vaccination_due"), 1);
    assert_eq!(h.cab.run_due_jobs().await.unwrap().reminders_queued, 0);
    assert_eq!(h.inbox.count("vaccination_due"), 1);
}

/// A notifier shared by several cabinets, recording every delivery.
#[derive(Clone, Default)]
struct Tally(Arc<Mutex<Vec<String>>>);

impl Notifier for Tally {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        std::thread::sleep(std::time::Duration::from_millis(2));
        self.0.lock().unwrap().push(m.id.clone());
        Ok(())
    }
}

/// Registers `n` patients on a cabinet without a notifier: their confirmation codes queue.
async fn queue_messages(h: &Harness, n: u32) {
    for i in 0..n {
        h.cab.accounts().register(registration_n(300 + i)).await.unwrap();
    }
}

async fn quiet(db: &TestDb) -> Harness {
    // No notifier: everything stays in the outbox.
    let h = db.harness().await;
    let cab = db.open_with(kabinet::Config { notifier: None, ..db.config() }).await;
    Harness { cab, clock: h.clock, inbox: h.inbox }
}

async fn r14_concurrent_runners_deliver_each_message_once(db: TestDb) {
    let q = quiet(&db).await;
    queue_messages(&q, 40).await;
    let tally = Tally::default();
    let mut runners = Vec::new();
    for _ in 0..4 {
        let cab = db.open_with(kabinet::Config { notifier: Some(Arc::new(tally.clone())), ..db.config() }).await;
        runners.push(tokio::spawn(async move { cab.run_due_jobs().await.unwrap().delivered }));
    }
    let mut delivered = 0;
    for r in runners {
        delivered += r.await.unwrap();
    }
    let ids = tally.0.lock().unwrap().clone();
    let unique: std::collections::BTreeSet<_> = ids.iter().collect();
    assert_eq!((delivered, ids.len(), unique.len()), (40, 40, 40), "each message exactly once");
}

async fn r14_killed_during_delivery_loses_nothing_and_sends_nothing_twice(db: TestDb) {
    let q = quiet(&db).await;
    queue_messages(&q, 10).await;
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("delivered");
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .args(["outbox_crash_worker", "--exact", "--nocapture", "--test-threads=1"])
        .env("KABINET_CRASH_URL", &db.url)
        .env("KABINET_CRASH_KEYS", db.key_path())
        .env("KABINET_CRASH_LOG", &log)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The worker hangs on its 4th message, as if the process froze mid-delivery: kill it.
    let waited = std::time::Instant::now();
    while std::fs::read_to_string(&log).map(|s| s.lines().count()).unwrap_or(0) < 3 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(60), "worker made no progress");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    std::thread::sleep(std::time::Duration::from_millis(200));
    child.kill().unwrap();
    child.wait().unwrap();
    let first: Vec<String> = std::fs::read_to_string(&log).unwrap().lines().map(str::to_owned).collect();
    assert_eq!(first.len(), 3);
    // After the claim expires, another process delivers the rest.
    let clock = support::TestClock(Arc::new(Mutex::new(time::OffsetDateTime::now_utc() + Duration::minutes(5))));
    let tally = Tally::default();
    let cab = db
        .open_with(kabinet::Config { notifier: Some(Arc::new(tally.clone())), clock: Arc::new(clock), ..db.config() })
        .await;
    assert_eq!(cab.run_due_jobs().await.unwrap().delivered, 7);
    let mut all = first.clone();
    all.extend(tally.0.lock().unwrap().iter().cloned());
    let unique: std::collections::BTreeSet<_> = all.iter().collect();
    assert_eq!((all.len(), unique.len()), (10, 10), "every message once: none lost, none twice");
    assert_eq!(cab.run_due_jobs().await.unwrap().delivered, 0);
}

/// Delivers to a log file; hangs forever on the 4th message (before accepting it).
struct Hanging(std::path::PathBuf, Mutex<u32>);

impl Notifier for Hanging {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let mut n = self.1.lock().unwrap();
        *n += 1;
        if *n == 4 {
            loop {
                std::thread::sleep(std::time::Duration::from_secs(60));
            }
        }
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(&self.0).unwrap();
        writeln!(f, "{}", m.id).unwrap();
        Ok(())
    }
}

/// The child process of the crash test; does nothing when run on its own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outbox_crash_worker() {
    let (Ok(url), Ok(keys), Ok(log)) =
        (std::env::var("KABINET_CRASH_URL"), std::env::var("KABINET_CRASH_KEYS"), std::env::var("KABINET_CRASH_LOG"))
    else {
        return;
    };
    let config = kabinet::Config {
        key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys).unwrap())),
        notifier: Some(Arc::new(Hanging(log.into(), Mutex::new(0)))),
        ..kabinet::Config::default()
    };
    let cab = kabinet::Cabinet::open(&url, config).await.unwrap();
    cab.run_due_jobs().await.unwrap();
}

fn lab_report(title: &str) -> kabinet::LabReport {
    kabinet::LabReport {
        title: title.into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: time::macros::datetime!(2026-11-28 08:00 UTC),
        results: vec![kabinet::LabResultInput {
            test_name: "Глюкоза".into(),
            code: "2345-7".into(),
            value: Some("5.0".parse().unwrap()),
            value_text: None,
            unit: None,
            range_low: None,
            range_high: None,
            range_text: None,
            sampled_at: time::macros::datetime!(2026-11-27 08:00 UTC),
        }],
    }
}

/// Issue 14, item 5: push tokens per device, routed through the host notifier; security
/// notices on every channel, informational ones as the person chose, nothing silently lost.
async fn r14_push_to_registered_devices_by_each_event_policy(db: TestDb) {
    use kabinet::PushPlatform;
    use kabinet::integrations::Channel;
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let pid = anna.patient_id().unwrap().to_owned();
    let doctor = h.staff(&c1, "doctor", 52).await;
    let labs = doctor.staff().unwrap().labs();
    let sent =
        |kind: &str| -> Vec<Message> { h.inbox.0.lock().unwrap().iter().filter(|m| m.kind == kind).cloned().collect() };
    // Push only, and no device registered yet: nothing can carry a lab result.
    anna.notifications().set_preferences(false, false, true).await.unwrap();
    labs.publish(&pid, lab_report("Первый")).await.unwrap();
    assert!(sent("lab_result").is_empty());
    // Hostile registrations are typed refusals.
    let long = "t".repeat(4097);
    let cases: [(&str, &str, &str); 6] = [
        ("", "tok", "empty"),
        ("dev-9", "   ", "empty"),
        ("dev\u{0}9", "tok", "format"),
        ("dev-9", "tok\nen", "format"),
        ("dev-9", "\u{202e}tok", "format"),
        ("dev-9", &long, "too_long"),
    ];
    for (device_id, token, reason) in cases {
        match anna.notifications().register_push(device_id, PushPlatform::Fcm, token).await.unwrap_err() {
            kabinet::Error::Validation(v) => assert_eq!(v.reason.as_str(), reason, "{device_id:?} {token:?}"),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(PushPlatform::parse("carrier-pigeon").unwrap_err().reason.as_str(), "unknown_value");
    // A session registers its own device only (so its logout removes the token).
    match anna.notifications().register_push("dev-2", PushPlatform::Apns, "tok").await.unwrap_err() {
        kabinet::Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("device_id", "mismatch")),
        other => panic!("{other:?}"),
    }
    anna.notifications().register_push("dev-1", PushPlatform::Fcm, "fcm-token-1").await.unwrap();
    let tablet = kabinet::Device { id: "dev-2".into(), name: "iPad".into(), ..device() };
    let step = h.cab.auth().login("+79161234567", support::PASSWORD, &tablet).await.unwrap();
    let on_tablet = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let anna_tablet = h.cab.session(&on_tablet.access_token, &tablet).await.unwrap();
    anna_tablet.notifications().register_push("dev-2", PushPlatform::Apns, "apns-old").await.unwrap();
    anna_tablet.notifications().register_push("dev-2", PushPlatform::Apns, "apns-token-2").await.unwrap();
    let devices = anna.notifications().push_devices().await.unwrap();
    let mut listed: Vec<(String, PushPlatform)> = devices.iter().map(|d| (d.device_id.clone(), d.platform)).collect();
    listed.sort();
    assert_eq!(listed, [("dev-1".to_owned(), PushPlatform::Fcm), ("dev-2".to_owned(), PushPlatform::Apns)]);
    // An informational message now reaches every registered device, with its platform.
    labs.publish(&pid, lab_report("Второй")).await.unwrap();
    let mut pushed: Vec<(Channel, String, Option<PushPlatform>)> =
        sent("lab_result").into_iter().map(|m| (m.channel, m.recipient, m.platform)).collect();
    pushed.sort_by(|a, b| a.1.cmp(&b.1));
    assert_eq!(
        pushed,
        [
            (Channel::Push, "apns-token-2".to_owned(), Some(PushPlatform::Apns)),
            (Channel::Push, "fcm-token-1".to_owned(), Some(PushPlatform::Fcm)),
        ]
    );
    // A security notice ignores preferences and goes on every channel: SMS, e-mail, push.
    h.cab
        .accounts()
        .register(kabinet::Registration { email: "twin@example.ru".into(), ..support::registration() })
        .await
        .unwrap();
    let mut channels: Vec<Channel> = sent("registration_attempt").into_iter().map(|m| m.channel).collect();
    channels.sort_by_key(|c| c.as_str());
    assert_eq!(channels, [Channel::Email, Channel::Push, Channel::Push, Channel::Sms]);
    // Tokens are sealed at rest.
    let raw = db.raw().await;
    let blobs: Vec<Vec<u8>> = sqlx::query_scalar("SELECT token FROM push_tokens").fetch_all(&raw).await.unwrap();
    assert_eq!(blobs.len(), 2);
    assert!(blobs.iter().all(|b| !b.windows(11).any(|w| w == b"fcm-token-1")));
    // Signing out of a device removes its token.
    h.cab.auth().logout(&on_tablet.access_token).await.unwrap();
    let left: Vec<String> =
        anna.notifications().push_devices().await.unwrap().into_iter().map(|d| d.device_id).collect();
    assert_eq!(left, ["dev-1"]);
    // Unregistering is idempotent; the other patient's registration does not touch hers.
    anna.notifications().unregister_push("dev-404").await.unwrap();
    let petr = h.patient(registration_n(60)).await;
    let petr = h.cab.session(&petr.access_token, &device()).await.unwrap();
    petr.notifications().register_push("dev-1", PushPlatform::Fcm, "petr-token").await.unwrap();
    assert_eq!(anna.notifications().push_devices().await.unwrap().len(), 1);
    labs.publish(&pid, lab_report("Третий")).await.unwrap();
    let third: Vec<String> = sent("lab_result").into_iter().skip(2).map(|m| m.recipient).collect();
    assert_eq!(third, ["fcm-token-1"], "only her own device");
    // Revoking every session removes every token.
    anna.security().revoke_all().await.unwrap();
    let fresh = h.signed_in().await;
    let anna = h.cab.session(&fresh.access_token, &device()).await.unwrap();
    assert!(anna.notifications().push_devices().await.unwrap().is_empty());
    // The journal has each registration and removal.
    let journaled: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'push_token'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(journaled >= 5, "{journaled}");
}
