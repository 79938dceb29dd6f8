//! R3 and R18 (issue 14, items 1 and 2), on both engines: login by INN, every personal field
//! a person owns changed with confirmation and history, SNILS and birth date only through a
//! new registry check, and host confirmation methods through the `Confirmer` interface —
//! with hostile values, a confirmer that fails or says no, and identifiers another person
//! holds.

use std::sync::{Arc, Mutex};

use kabinet::integrations::{ConfirmationRequest, Confirmer, DeliveryError, RegistryAnswer, RegistryRequest};
use kabinet::{Error, ErrorCode, ErrorKind};

use super::support::{self, Harness, Inbox, PASSWORD, TestClock, TestDb, device, registration, snils_for};

crate::on_both!(
    r3_login_by_inn_once_the_identity_is_confirmed,
    r18_every_personal_field_changes_with_confirmation_and_history,
    r18_snils_and_birth_date_change_only_through_the_registry,
    r18_host_confirmation_methods_through_the_confirmer,
    r18_hostile_profile_values_are_refused_and_change_nothing,
);

const ANNA_INN: &str = "500100732259";
const OTHER_INN: &str = "770708389324";

fn code(e: Error) -> &'static str {
    e.code()
}

/// A registry that knows Anna (born 1990-03-14) by her SNILS and by a corrected one
/// (`snils_for(7)`), and Пётр Кузнецов; every other SNILS or birth date is a "no".
struct ProfileRegistry {
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl kabinet::integrations::IdentityRegistry for ProfileRegistry {
    fn check(&self, r: &RegistryRequest) -> Result<RegistryAnswer, DeliveryError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliveryError("registry timeout".into()));
        }
        let known_snils = [Some("11223344595".to_owned()), Some(snils_for(7))];
        let reason = if r.surname == "Кузнецов" {
            None
        } else if !known_snils.contains(&r.snils) {
            Some("snils_not_found")
        } else if r.birth_date != time::macros::date!(1990 - 03 - 14) {
            Some("birth_date_mismatch")
        } else {
            None
        };
        Ok(RegistryAnswer { matched: reason.is_none(), reason: reason.map(str::to_owned) })
    }
}

/// A host confirmer offering `esignature`: it records each start, and a proof is good when
/// it is `signed:` followed by the request's challenge.
#[derive(Default, Clone)]
struct Signatures {
    started: Arc<Mutex<Vec<ConfirmationRequest>>>,
    down: Arc<std::sync::atomic::AtomicBool>,
}

impl Confirmer for Signatures {
    fn methods(&self) -> Vec<String> {
        vec!["esignature".into(), "sms".into()]
    }
    fn start(&self, request: &ConfirmationRequest) -> Result<(), DeliveryError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliveryError("signing service down".into()));
        }
        self.started.lock().unwrap().push(request.clone());
        Ok(())
    }
    fn verify(&self, request: &ConfirmationRequest, proof: &str) -> Result<bool, DeliveryError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(DeliveryError("signing service down".into()));
        }
        Ok(proof == format!("signed:{}", request.challenge))
    }
}

struct Setup {
    h: Harness,
    registry_down: Arc<std::sync::atomic::AtomicBool>,
    signatures: Signatures,
}

async fn setup(db: &TestDb) -> Setup {
    let registry_down = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let signatures = Signatures::default();
    let (clock, inbox) = (TestClock::new(), Inbox::default());
    let config = kabinet::Config {
        clock: Arc::new(clock.clone()),
        notifier: Some(Arc::new(inbox.clone())),
        identity_registry: Some(Arc::new(ProfileRegistry { down: registry_down.clone() })),
        confirmer: Some(Arc::new(signatures.clone())),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        locale: kabinet::Locale::En,
        ..db.config()
    };
    let h = Harness { cab: db.open_with(config).await, clock, inbox };
    Setup { h, registry_down, signatures }
}

/// Changes `field` to `value` with the SMS code sent for it.
async fn change_by_sms(h: &Harness, me: &kabinet::Me, field: &str, value: &str) -> kabinet::Result<()> {
    let req = me.profile().request_change(field, value, None).await?;
    assert_eq!(req.method, "sms");
    me.profile().confirm_change(&req.id, &h.inbox.last_code("profile_change")).await
}

async fn login_fails(h: &Harness, identifier: &str) {
    assert_eq!(
        code(h.cab.auth().login(identifier, PASSWORD, &device()).await.unwrap_err()),
        "auth.invalid_credentials",
        "{identifier} must not sign anyone in"
    );
}

async fn r3_login_by_inn_once_the_identity_is_confirmed(db: TestDb) {
    let Setup { h, .. } = setup(&db).await;
    // Registration takes an INN, checked: 12 digits with valid check digits.
    for bad in ["500100732258", "7707083893", "5001-0073-225X"] {
        let refused =
            h.cab.accounts().register(kabinet::Registration { inn: Some(bad.into()), ..registration() }).await;
        assert_eq!(refused.unwrap_err().kind(), ErrorKind::Validation, "{bad}");
    }
    let reg = h.cab.accounts().register(kabinet::Registration { inn: Some(ANNA_INN.into()), ..registration() }).await;
    let code6 = h.inbox.last_code("phone_confirmation");
    h.cab.accounts().confirm_phone(&reg.unwrap().id, &code6).await.unwrap();
    // Before the registry confirms the person, the INN entered claims nothing.
    login_fails(&h, ANNA_INN).await;
    let t = h.signed_in().await; // confirms the identity
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    assert_eq!(me.profile().get().await.unwrap().inn.as_deref(), Some(ANNA_INN));
    // Now the INN signs her in, in any common spelling.
    for spelling in [ANNA_INN, "5001 0073 2259", " 500100732259 "] {
        let step = h.cab.auth().login(spelling, PASSWORD, &device()).await.unwrap();
        assert!(!step.id.is_empty(), "{spelling}");
    }
    // A second person who types Anna's INN takes nothing over: their identity is confirmed,
    // the INN stays unindexed on their record, and it still signs Anna in.
    let petr = kabinet::Registration { inn: Some(ANNA_INN.into()), ..support::registration_n(1) };
    let petr_tokens = h.patient(petr).await;
    let step = h.cab.auth().login(ANNA_INN, PASSWORD, &device()).await.unwrap();
    let tokens = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let who = h.cab.session(&tokens.access_token, &device()).await.unwrap();
    assert_eq!(who.patient_id().unwrap(), me.patient_id().unwrap());
    // Пётр correcting his INN to Anna's is a conflict; to his own, it becomes his login.
    let petr_me = h.cab.session(&petr_tokens.access_token, &device()).await.unwrap();
    assert_eq!(code(change_by_sms(&h, &petr_me, "inn", ANNA_INN).await.unwrap_err()), "identity.claimed");
    change_by_sms(&h, &petr_me, "inn", OTHER_INN).await.unwrap();
    let step = h.cab.auth().login(OTHER_INN, PASSWORD, &device()).await.unwrap();
    let tokens = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let who = h.cab.session(&tokens.access_token, &device()).await.unwrap();
    assert_eq!(who.patient_id().unwrap(), petr_me.patient_id().unwrap());
    // The INN is sealed at rest, its index is keyed: no plaintext INN in either table.
    let raw = db.raw().await;
    for table in ["patients", "accounts"] {
        let dump: Vec<Vec<u8>> =
            sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT inn_bidx FROM {table} WHERE inn_bidx IS NOT NULL")))
                .fetch_all(&raw)
                .await
                .unwrap();
        assert!(!dump.is_empty(), "{table} indexes the INN");
        assert!(dump.iter().all(|b| !b.windows(12).any(|w| w == ANNA_INN.as_bytes())), "{table}");
    }
}

async fn r18_every_personal_field_changes_with_confirmation_and_history(db: TestDb) {
    let Setup { h, .. } = setup(&db).await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let before: Vec<String> = me.profile().completeness().await.unwrap().into_iter().map(|m| m.code).collect();
    assert!(before.contains(&"oms_policy_missing".to_owned()), "{before:?}");
    let advice = me.profile().completeness().await.unwrap();
    let oms_advice = advice.iter().find(|m| m.code == "oms_policy_missing").unwrap();
    assert_eq!(oms_advice.call, "me.profile.request_change(\"oms_policy\")", "advice names the call that fixes it");
    let changes = [
        ("oms_policy", "8451 9991 2289 9990", "8451999122899990"),
        ("insurer", "  АО «Страховая   компания»  ", "АО «Страховая компания»"),
        ("passport", "45 08 123456", "4508123456"),
        ("address", "г. Москва, ул. Тверская, д. 1, кв. 5", "г. Москва, ул. Тверская, д. 1, кв. 5"),
        ("actual_address", "г. Москва, ул. Арбат, д. 10", "г. Москва, ул. Арбат, д. 10"),
        ("inn", "5001 0073 2259", ANNA_INN),
        ("patronymic", "Сергеевна-Мария", "Сергеевна-Мария"),
    ];
    for (field, value, _) in changes {
        let req = me.profile().request_change(field, value, None).await.unwrap();
        assert_eq!(req.field, field);
        let sms = h.inbox.0.lock().unwrap().last().cloned().unwrap();
        assert_eq!((sms.kind.as_str(), sms.recipient.as_str()), ("profile_change", "+79161234567"), "{field}");
        assert!(req.expires_at > *h.clock.0.lock().unwrap());
        me.profile().confirm_change(&req.id, sms.code.as_deref().unwrap()).await.unwrap();
    }
    let p = me.profile().get().await.unwrap();
    let got = [
        p.oms_policy.clone(),
        p.insurer.clone(),
        p.passport.clone(),
        p.address.clone(),
        p.actual_address.clone(),
        p.inn.clone(),
        p.patronymic.clone(),
    ];
    for ((field, _, want), got) in changes.iter().zip(got) {
        assert_eq!(got.as_deref(), Some(*want), "{field}");
    }
    // Every change is in the history with its old value and how it was confirmed.
    let history = me.profile().history().await.unwrap();
    assert_eq!(history.len(), changes.len());
    assert!(history.iter().all(|c| c.confirmed_by == "sms"));
    let oms = history.iter().find(|c| c.field == "oms_policy").unwrap();
    assert_eq!((oms.old_value.as_deref(), oms.new_value.as_str()), (None, "8451999122899990"));
    // Completeness now reflects the confirmed data: no policy or insurer advice left.
    let after: Vec<String> = me.profile().completeness().await.unwrap().into_iter().map(|m| m.code).collect();
    assert!(!after.iter().any(|c| c == "oms_policy_missing" || c == "insurer_missing"), "{after:?}");
    // The OMS policy of a confirmed identity finds the person (ENP index), and the INN signs in.
    let found = h.cab.system().patients().find_by_oms_policy("8451999122899990").await.unwrap();
    assert_eq!(found.as_deref(), Some(me.patient_id().unwrap()));
    h.cab.auth().login(ANNA_INN, PASSWORD, &device()).await.unwrap();
    // The new fields are sealed at rest.
    let raw = db.raw().await;
    let row: Vec<u8> = sqlx::query_scalar("SELECT address FROM patients WHERE id = $1")
        .bind(me.patient_id().unwrap())
        .fetch_one(&raw)
        .await
        .unwrap();
    assert!(!row.windows(6).any(|w| w == "Тве".as_bytes()));
    // An insurer without a policy is advice too; an e-mail change confirms the e-mail.
    let req = me.profile().request_change("email", "anna.new@example.ru", None).await.unwrap();
    let mail = h.inbox.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!(mail.recipient, "anna.new@example.ru", "the code goes to the new address");
    me.profile().confirm_change(&req.id, mail.code.as_deref().unwrap()).await.unwrap();
    let left: Vec<String> = me.profile().completeness().await.unwrap().into_iter().map(|m| m.code).collect();
    assert!(!left.contains(&"email_unconfirmed".to_owned()), "{left:?}");
}

async fn r18_snils_and_birth_date_change_only_through_the_registry(db: TestDb) {
    let Setup { h, registry_down, .. } = setup(&db).await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let sent = h.inbox.count("profile_change");
    // A SNILS the registry does not know for her: refused before any code is sent.
    let unknown = snils_for(8);
    assert_eq!(code(me.profile().request_change("snils", &unknown, None).await.unwrap_err()), "identity.mismatch");
    assert_eq!(
        code(me.profile().request_change("birth_date", "1990-03-15", None).await.unwrap_err()),
        "identity.mismatch"
    );
    assert_eq!(h.inbox.count("profile_change"), sent, "no code for a refused change");
    // The registry down: a typed, retryable answer, nothing changed.
    registry_down.store(true, std::sync::atomic::Ordering::SeqCst);
    let e = me.profile().request_change("snils", &snils_for(7), None).await.unwrap_err();
    assert_eq!(code(e), "identity.registry_unavailable");
    registry_down.store(false, std::sync::atomic::Ordering::SeqCst);
    // The corrected SNILS the registry confirms: applied with the code, journaled, and it
    // becomes her login identifier instead of the old one.
    let corrected = snils_for(7);
    change_by_sms(&h, &me, "snils", &corrected).await.unwrap();
    assert_eq!(me.profile().get().await.unwrap().snils.as_deref(), Some(corrected.as_str()));
    let history = me.profile().history().await.unwrap();
    assert_eq!((history[0].field.as_str(), history[0].confirmed_by.as_str()), ("snils", "registry+sms"));
    h.cab.auth().login(&corrected, PASSWORD, &device()).await.unwrap();
    login_fails(&h, "112-233-445 95").await;
    // The birth date she already has is confirmed again (a no-op change, recorded).
    change_by_sms(&h, &me, "birth_date", "1990-03-14").await.unwrap();
    let raw = db.raw().await;
    let checks: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM audit_entries WHERE resource_type = 'identity_registry' ORDER BY seq")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(checks, ["failure", "failure", "success", "success"]);
}

async fn r18_host_confirmation_methods_through_the_confirmer(db: TestDb) {
    let Setup { h, signatures, .. } = setup(&db).await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let sms_before = h.inbox.count("profile_change");
    let req = me.profile().request_change("insurer", "АО «СОГАЗ-Мед»", Some("esignature")).await.unwrap();
    assert_eq!(req.method, "esignature");
    assert_eq!(h.inbox.count("profile_change"), sms_before, "a host method sends no SMS");
    let started = signatures.started.lock().unwrap().last().cloned().unwrap();
    assert_eq!(
        (started.id.as_str(), started.purpose.as_str(), started.subject.as_str()),
        (req.id.as_str(), "profile_change", "insurer")
    );
    assert_eq!(started.patient_id, me.patient_id().unwrap());
    assert_eq!(started.challenge.len(), 64);
    assert!(!format!("{started:?}").contains("СОГАЗ"), "the new value stays out of Debug");
    // A proof for another change, or the SMS code path, does not confirm this one.
    assert_eq!(code(me.profile().confirm_change(&req.id, "signed:0000").await.unwrap_err()), "auth.invalid_code");
    assert_eq!(me.profile().get().await.unwrap().insurer, None);
    me.profile().confirm_change(&req.id, &format!("signed:{}", started.challenge)).await.unwrap();
    assert_eq!(me.profile().get().await.unwrap().insurer.as_deref(), Some("АО «СОГАЗ-Мед»"));
    assert_eq!(me.profile().history().await.unwrap()[0].confirmed_by, "esignature");
    // Wrong proofs are limited per request: five, then the request is spent.
    let req = me.profile().request_change("passport", "4508 123456", Some("esignature")).await.unwrap();
    let challenge = signatures.started.lock().unwrap().last().unwrap().challenge.clone();
    for _ in 0..5 {
        assert_eq!(code(me.profile().confirm_change(&req.id, "forged").await.unwrap_err()), "auth.invalid_code");
    }
    let spent = me.profile().confirm_change(&req.id, &format!("signed:{challenge}")).await.unwrap_err();
    assert_eq!(code(spent), "auth.code_expired");
    assert_eq!(me.profile().get().await.unwrap().passport, None);
    // Methods nobody offers, and a contact by anything but a code sent to it, are refused.
    for method in ["telepathy", "SMS ", "esignature\u{0}"] {
        let e = me.profile().request_change("insurer", "АО «Альфа»", Some(method)).await.unwrap_err();
        assert_eq!(code(e), "confirmation.no_method", "{method:?}");
    }
    let e = me.profile().request_change("phone", "+7 926 555 01 02", Some("esignature")).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    // The host's service down: a typed error at start and at verification.
    signatures.down.store(true, std::sync::atomic::Ordering::SeqCst);
    let e = me.profile().request_change("insurer", "АО «Альфа»", Some("esignature")).await.unwrap_err();
    assert_eq!(code(e), "confirmation.unavailable");
    signatures.down.store(false, std::sync::atomic::Ordering::SeqCst);
    let req = me.profile().request_change("insurer", "АО «Альфа»", Some("esignature")).await.unwrap();
    signatures.down.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(code(me.profile().confirm_change(&req.id, "signed:x").await.unwrap_err()), "confirmation.unavailable");
    // Without a confirmer configured, only the SMS code exists.
    let plain = db.harness().await;
    let t = plain.patient(support::registration_n(2)).await;
    let me = plain.cab.session(&t.access_token, &device()).await.unwrap();
    let e = me.profile().request_change("insurer", "АО «Альфа»", Some("esignature")).await.unwrap_err();
    assert_eq!(code(e), "confirmation.no_method");
}

async fn r18_hostile_profile_values_are_refused_and_change_nothing(db: TestDb) {
    let Setup { h, .. } = setup(&db).await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let long = "д".repeat(501);
    let cases: &[(&str, &str, &str)] = &[
        ("password", "x", "unknown_value"),
        ("", "x", "unknown_value"),
        ("insurer", "АО\u{0007}Бип", "format"),
        ("insurer", "\u{202e}АО", "format"),
        ("insurer", "   ", "empty"),
        ("address", &long, "too_long"),
        ("birth_date", "2999-01-01", "future"),
        ("birth_date", "14.03.1990", "format"),
        ("birth_date", "1700-01-01", "format"),
        ("inn", "7707083893", "length"),
        ("inn", "500100732258", "checksum"),
        ("oms_policy", "8451999122899991", "checksum"),
        ("passport", "45 08 12345", "length"),
        ("snils", "112-233-445 96", "checksum"),
    ];
    let sent = h.inbox.count("profile_change");
    for (field, value, reason) in cases {
        match me.profile().request_change(field, value, None).await.unwrap_err() {
            Error::Validation(v) => assert_eq!(v.reason.as_str(), *reason, "{field}={value:?}"),
            other => panic!("{field}={value:?}: {other:?}"),
        }
    }
    assert_eq!(h.inbox.count("profile_change"), sent, "nothing sent for refused values");
    assert!(me.profile().history().await.unwrap().is_empty());
    // Another account's request id and a made-up one are not found.
    assert_eq!(me.profile().confirm_change("nope", "123456").await.unwrap_err().kind(), ErrorKind::NotFound);
}

crate::on_both!(r4_password_change_reminder_once_per_period);

async fn r4_password_change_reminder_once_per_period(db: TestDb) {
    let (clock, inbox) = (TestClock::new(), Inbox::default());
    let policy = kabinet::AccountPolicy { password_reminder_after: time::Duration::days(30) };
    let config = kabinet::Config {
        clock: Arc::new(clock.clone()),
        notifier: Some(Arc::new(inbox.clone())),
        identity_registry: Some(Arc::new(support::TestRegistry::default())),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        locale: kabinet::Locale::En,
        accounts: policy,
        ..db.config()
    };
    let h = Harness { cab: db.open_with(config.clone()).await, clock, inbox };
    // Out-of-range periods are refused when the cabinet is configured.
    for bad in [time::Duration::ZERO, time::Duration::hours(23), time::Duration::days(3654)] {
        let c = kabinet::Config { accounts: kabinet::AccountPolicy { password_reminder_after: bad }, ..config.clone() };
        assert_eq!(c.validate().unwrap_err().code(), "config.out_of_range", "{bad}");
    }
    h.registered().await;
    h.signed_in().await;
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("password_reminder"), 0, "a fresh password needs no reminder");
    h.clock.advance(time::Duration::days(30) + time::Duration::minutes(1));
    // Two runs at once (two processes' schedulers): one reminder.
    let other = db.open_with(config.clone()).await;
    let (a, b) = tokio::join!(h.cab.run_due_jobs(), other.run_due_jobs());
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(h.inbox.count("password_reminder"), 1);
    assert!(a.reminders_queued + b.reminders_queued >= 1);
    let sent = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "password_reminder").cloned().unwrap();
    assert!(sent.text.contains("30 days"), "{}", sent.text);
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("password_reminder"), 1, "once per period");
    // Still unchanged a period later: reminded again.
    h.clock.advance(time::Duration::days(30));
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("password_reminder"), 2);
    // Journaled as the system, for her record.
    let raw = db.raw().await;
    let journaled: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'password_reminder'")
            .fetch_one(&raw)
            .await
            .unwrap();
    assert_eq!(journaled, 2);
    // A changed password starts a new period.
    let step = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    let fresh = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let me = h.cab.session(&fresh.access_token, &device()).await.unwrap();
    me.security().change_password(PASSWORD, "New-Pass!47qz").await.unwrap();
    h.clock.advance(time::Duration::days(29));
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("password_reminder"), 2);
    h.clock.advance(time::Duration::days(2));
    h.cab.run_due_jobs().await.unwrap();
    assert_eq!(h.inbox.count("password_reminder"), 3);
}

crate::on_both!(
    r11_voluntary_changes_are_limited_a_residence_change_allows_one_more,
    r11_concurrent_confirmations_cannot_pass_the_limit_twice
);

async fn attach_by_sms(
    h: &Harness,
    me: &kabinet::Me,
    clinic: &str,
    reason: Option<kabinet::AttachmentReason>,
) -> kabinet::Result<()> {
    let snils = me.profile().get().await?.snils.unwrap();
    let pending = me.attachment().attach(clinic, "4508123456", &snils, "8451999122899990", reason, None).await?;
    me.attachment().confirm(&pending.id, &h.inbox.last_code("attachment_code")).await.map(drop)
}

/// Issue 14, item 8: one voluntary change a year (configurable), more on a change of
/// residence; the OMS policy entered is saved to the profile; a host method can confirm.
async fn r11_voluntary_changes_are_limited_a_residence_change_allows_one_more(db: TestDb) {
    use kabinet::AttachmentReason::{ResidenceChange, Voluntary};
    let Setup { h, signatures, .. } = setup(&db).await;
    h.two_clinics().await;
    let me = h.anna_confirmed().await;
    // The first attachment is not a change; it saves the policy to the profile.
    attach_by_sms(&h, &me, "0101", None).await.unwrap();
    let oms = me.profile().history().await.unwrap().into_iter().find(|c| c.field == "oms_policy").unwrap();
    assert_eq!((oms.new_value.as_str(), oms.confirmed_by.as_str()), ("8451999122899990", "attachment"));
    // One voluntary change a year: the second is refused before any code is sent.
    attach_by_sms(&h, &me, "0202", Some(Voluntary)).await.unwrap();
    let codes = h.inbox.count("attachment_code");
    let snils = me.profile().get().await.unwrap().snils.unwrap();
    let refused = me.attachment().attach("0101", "4508123456", &snils, "8451999122899990", None, None).await;
    assert_eq!(code(refused.unwrap_err()), "attachment.limit");
    assert_eq!(h.inbox.count("attachment_code"), codes, "no code for a refused change");
    // A change of residence needs a new address in the profile since the last attachment.
    let moved = attach_by_sms(&h, &me, "0101", Some(ResidenceChange)).await.unwrap_err();
    assert_eq!(code(moved), "attachment.residence_unchanged");
    h.clock.advance(time::Duration::minutes(1));
    change_by_sms(&h, &me, "address", "г. Москва, ул. Новая, 5").await.unwrap();
    attach_by_sms(&h, &me, "0101", Some(ResidenceChange)).await.unwrap();
    assert_eq!(me.attachment().current().await.unwrap().unwrap().clinic_code, "0101");
    // That move is used up: another needs another new address.
    assert_eq!(
        code(attach_by_sms(&h, &me, "0202", Some(ResidenceChange)).await.unwrap_err()),
        "attachment.residence_unchanged"
    );
    // A year after the voluntary change, another one is allowed — confirmed this time by the
    // host's electronic signature instead of an SMS code.
    h.clock.advance(time::Duration::days(366));
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let pending = me
        .attachment()
        .attach("0202", "4508123456", &snils, "8451999122899990", None, Some("esignature"))
        .await
        .unwrap();
    let started = signatures.started.lock().unwrap().last().cloned().unwrap();
    assert_eq!((started.purpose.as_str(), started.subject.as_str()), ("attachment", "0202"));
    assert_eq!(code(me.attachment().confirm(&pending.id, "forged").await.unwrap_err()), "auth.invalid_code");
    me.attachment().confirm(&pending.id, &format!("signed:{}", started.challenge)).await.unwrap();
    assert_eq!(me.attachment().current().await.unwrap().unwrap().clinic_code, "0202");
    // A detach confirmed by the host method too; a method nobody offers is refused.
    assert_eq!(code(me.attachment().detach(Some("telepathy")).await.unwrap_err()), "confirmation.no_method");
    let pending = me.attachment().detach(Some("esignature")).await.unwrap();
    let started = signatures.started.lock().unwrap().last().cloned().unwrap();
    assert_eq!(started.subject, "detach");
    me.attachment().confirm(&pending.id, &format!("signed:{}", started.challenge)).await.unwrap();
    assert!(me.attachment().current().await.unwrap().is_none());
    // The rule is configurable, within bounds.
    let strict =
        kabinet::Config { attachment: kabinet::AttachmentPolicy { voluntary_changes_per_year: 13 }, ..db.config() };
    assert_eq!(strict.validate().unwrap_err().code(), "config.out_of_range");
}

/// Two attach requests made before either is confirmed, confirmed at once: the limit holds.
async fn r11_concurrent_confirmations_cannot_pass_the_limit_twice(db: TestDb) {
    let Setup { h, .. } = setup(&db).await;
    h.two_clinics().await;
    h.cab.system().directory().add_clinic("77", "0303", "Поликлиника № 3", "ул. Садовая, 3", "пн–пт").await.unwrap();
    let me = h.anna_confirmed().await;
    attach_by_sms(&h, &me, "0101", None).await.unwrap();
    let snils = me.profile().get().await.unwrap().snils.unwrap();
    let a = me.attachment().attach("0202", "4508123456", &snils, "8451999122899990", None, None).await.unwrap();
    let code_a = h.inbox.last_code("attachment_code");
    let b = me.attachment().attach("0303", "4508123456", &snils, "8451999122899990", None, None).await.unwrap();
    let code_b = h.inbox.last_code("attachment_code");
    let (att_a, att_b) = (me.attachment(), me.attachment());
    let (ra, rb) = tokio::join!(att_a.confirm(&a.id, &code_a), att_b.confirm(&b.id, &code_b));
    let outcomes = [ra.map(|_| "ok").unwrap_or_else(|e| e.code()), rb.map(|_| "ok").unwrap_or_else(|e| e.code())];
    assert_eq!(outcomes.iter().filter(|o| **o == "ok").count(), 1, "{outcomes:?}");
    assert!(
        outcomes.iter().all(|o| ["ok", "attachment.limit", "attachment.changed", "storage.busy"].contains(o)),
        "{outcomes:?}"
    );
    let history = me.attachment().history().await.unwrap();
    assert_eq!(history.iter().filter(|e| e.action == "attached").count(), 2);
}
