//! R1, R3, R4, R5 on both engines: registration and confirmation codes, login with an SMS
//! second factor, lockout after exactly 3 wrong passwords (also across connections),
//! sessions with rotating refresh tokens, timeouts, revocation, and the patient's own
//! access history. OWASP ASVS 5.0 items are cited where they apply.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "profile/mod.rs"]
mod profile;
mod support;

use kabinet::{Error, ErrorCode, ErrorKind};
use support::{PASSWORD, TestDb, device, registration};

on_both!(
    r1_register_confirm_and_sign_in_with_sms_code,
    r1_registration_validates_and_stores_nothing_on_error,
    r1_codes_are_single_use_expiring_and_limited,
    r4_lockout_after_exactly_three_wrong_passwords,
    r4_lockout_holds_across_connections,
    r3_unknown_identifier_and_wrong_password_look_alike,
    r3_login_by_email_and_snils,
    r5_refresh_rotates_and_reuse_revokes_the_session,
    r5_idle_absolute_and_token_timeouts,
    r5_sessions_listed_and_revoked,
    r5_patient_reads_own_access_history,
    r3_totp_enrollment_login_replay_and_recovery_codes,
    r4_recovery_lifts_the_lock_and_signs_out_everything,
    r4_recovery_never_bypasses_an_enrolled_totp,
    r4_change_password_signs_out_other_sessions,
    r6_new_device_raises_an_incident_the_patient_confirms,
    r6_unconfirmed_incident_blocks_every_session_after_30_minutes,
    r6_success_after_failures_and_simultaneous_sessions,
    r6_a_known_device_from_a_new_network_raises_an_incident,
    r2_identity_confirmation_through_the_registry,
    r18_personal_data_change_confirmed_by_sms_with_history,
    r18_contact_change_needs_recent_sign_in_and_tells_the_old_contact,
    r4_imported_bcrypt_account_is_upgraded_to_argon2id_on_login,
    r6_password_change_without_a_fresh_sms_sign_in_raises_an_incident,
    r6_unusual_rate_of_data_access_raises_an_incident,
    r1_expired_phone_code_can_be_resent_a_limited_number_of_times,
);

fn other_device() -> kabinet::Device {
    kabinet::Device {
        id: "dev-2".into(),
        name: "Unknown laptop".into(),
        ip: "198.51.100.23".into(),
        user_agent: "curl".into(),
    }
}

async fn sign_in_from(h: &support::Harness, d: &kabinet::Device) -> kabinet::Tokens {
    let step = h.cab.auth().login("+79161234567", PASSWORD, d).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap()
}

/// The TOTP code an authenticator app would show now.
fn totp_now(h: &support::Harness, secret_base32: &str) -> String {
    let secret = totp_rs::Secret::try_from_base32(secret_base32).unwrap();
    let unix = h.clock.0.lock().unwrap().unix_timestamp() as u64;
    kabinet::auth::totp::code_at(secret.as_ref(), unix)
}

fn code(e: Error) -> &'static str {
    e.code()
}

async fn r1_register_confirm_and_sign_in_with_sms_code(db: TestDb) {
    let h = db.harness().await;
    let reg = h.cab.accounts().register(registration()).await.unwrap();
    let sms = h.inbox.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((sms.kind.as_str(), sms.recipient.as_str()), ("phone_confirmation", "+79161234567"));
    let code6 = sms.code.clone().unwrap();
    assert_eq!(code6.len(), 6);
    assert!(sms.text.contains(&code6));
    assert!(!format!("{sms:?}").contains(&code6), "Debug of a message hides the code");
    let account = h.cab.accounts().confirm_phone(&reg.id, &code6).await.unwrap();
    assert_eq!(account, reg.id);
    let mail = h.inbox.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((mail.kind.as_str(), mail.recipient.as_str()), ("email_confirmation", "anna.ivanova@example.ru"));
    h.cab.accounts().confirm_email(mail.code.as_deref().unwrap()).await.unwrap();
    assert_eq!(
        code(h.cab.accounts().confirm_email(mail.code.as_deref().unwrap()).await.unwrap_err()),
        "auth.invalid_code"
    );

    let step = h.cab.auth().login("8 916 123 45 67", PASSWORD, &device()).await.unwrap();
    assert_eq!(step.second_factor, "sms");
    let login_code = h.inbox.last_code("login_code");
    // ASVS 6.6: a wrong second factor is refused, the right one opens the session.
    assert_eq!(code(h.cab.auth().verify_second_factor(&step.id, "000000").await.unwrap_err()), "auth.second_factor");
    let tokens = h.cab.auth().verify_second_factor(&step.id, &login_code).await.unwrap();
    assert_eq!(tokens.access_token.split('.').count(), 3);
    assert!(tokens.refresh_token.len() >= 43);
    // The step is single-use.
    assert_eq!(code(h.cab.auth().verify_second_factor(&step.id, &login_code).await.unwrap_err()), "auth.code_expired");
    let me = h.cab.session(&tokens.access_token, &device()).await.unwrap();
    let profile = me.profile().get().await.unwrap();
    assert_eq!((profile.surname.as_str(), profile.snils.as_deref()), ("Иванова", Some("11223344595")));
    h.cab.auth().logout(&tokens.access_token).await.unwrap();
    let err = h.cab.session(&tokens.access_token, &device()).await.unwrap_err();
    assert_eq!((err.code(), err.kind()), ("session.revoked", ErrorKind::Session));
}

async fn r1_registration_validates_and_stores_nothing_on_error(db: TestDb) {
    let h = db.harness().await;
    let cases: Vec<(kabinet::Registration, &str, &str)> = vec![
        (kabinet::Registration { snils: "112-233-445 96".into(), ..registration() }, "snils", "checksum"),
        (kabinet::Registration { phone: "8 495 123 45 67".into(), ..registration() }, "phone", "not_mobile"),
        (kabinet::Registration { email: "anna@".into(), ..registration() }, "email", "format"),
        (kabinet::Registration { password: "Qwerty123!".into(), ..registration() }, "password", "common_password"),
        (
            kabinet::Registration { password: "Ivanova-9161234567!".into(), ..registration() },
            "password",
            "personal_data",
        ),
        (kabinet::Registration { password: "short1!".into(), ..registration() }, "password", "length"),
        (kabinet::Registration { accepted_terms_version: " ".into(), ..registration() }, "terms", "empty"),
        (
            kabinet::Registration { birth_date: time::macros::date!(2030 - 01 - 01), ..registration() },
            "birth_date",
            "future",
        ),
    ];
    for (r, field, reason) in cases {
        match h.cab.accounts().register(r).await.unwrap_err() {
            Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), (field, reason)),
            other => panic!("{field}: {other:?}"),
        }
    }
    let raw = db.raw().await;
    let counts: (i64, i64, i64) = (
        sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&raw).await.unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM patients").fetch_one(&raw).await.unwrap(),
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox").fetch_one(&raw).await.unwrap(),
    );
    assert_eq!(counts, (0, 0, 0));
    h.registered().await;
    // A taken phone is not revealed (issue 11, class 8): the answer looks like a new
    // registration, no code ever works for it, and the owner is told instead.
    let accounts: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&raw).await.unwrap();
    let dup = h
        .cab
        .accounts()
        .register(kabinet::Registration { email: "other@example.ru".into(), ..registration() })
        .await
        .unwrap();
    // A security notice goes on every channel that reaches the owner (R14): SMS and e-mail.
    assert_eq!(h.inbox.count("registration_attempt"), 2, "the owner hears of it");
    let guess = h.cab.accounts().confirm_phone(&dup.id, "123456").await.unwrap_err();
    assert_eq!(guess.code(), "auth.invalid_code", "like any wrong code");
    h.cab.accounts().resend_phone_code(&dup.id).await.unwrap();
    let after: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM accounts").fetch_one(&raw).await.unwrap();
    assert_eq!(after, accounts, "no account was made");
}

async fn r1_codes_are_single_use_expiring_and_limited(db: TestDb) {
    let h = db.harness().await;
    let reg = h.cab.accounts().register(registration()).await.unwrap();
    let right = h.inbox.last_code("phone_confirmation");
    let wrong = if right == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        assert_eq!(code(h.cab.accounts().confirm_phone(&reg.id, wrong).await.unwrap_err()), "auth.invalid_code");
    }
    // The 6th try is refused even with the right code.
    assert_eq!(code(h.cab.accounts().confirm_phone(&reg.id, &right).await.unwrap_err()), "auth.too_many_attempts");
    // Codes are stored only as keyed digests.
    let raw = db.raw().await;
    let digests: Vec<Vec<u8>> = sqlx::query_scalar("SELECT digest FROM one_time_codes").fetch_all(&raw).await.unwrap();
    assert!(digests.iter().all(|d| d.len() == 32 && !d.windows(6).any(|w| w == right.as_bytes())));

    // A second registration: expiry after 10 minutes.
    let db2 = TestDb::sqlite().await;
    let h2 = db2.harness().await;
    let reg2 = h2.cab.accounts().register(registration()).await.unwrap();
    let c2 = h2.inbox.last_code("phone_confirmation");
    h2.clock.advance(time::Duration::minutes(11));
    assert_eq!(code(h2.cab.accounts().confirm_phone(&reg2.id, &c2).await.unwrap_err()), "auth.code_expired");

    // Single use.
    let db3 = TestDb::sqlite().await;
    let h3 = db3.harness().await;
    let reg3 = h3.cab.accounts().register(registration()).await.unwrap();
    let c3 = h3.inbox.last_code("phone_confirmation");
    h3.cab.accounts().confirm_phone(&reg3.id, &c3).await.unwrap();
    assert_eq!(code(h3.cab.accounts().confirm_phone(&reg3.id, &c3).await.unwrap_err()), "auth.code_expired");
}

async fn r4_lockout_after_exactly_three_wrong_passwords(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    // A half-finished login (right password, no second factor yet).
    let pending = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    for attempt in 1..=3 {
        let e = h.cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await.unwrap_err();
        assert_eq!(code(e), "auth.invalid_credentials", "attempt {attempt}");
    }
    // Now even the right password is refused: recovery is required.
    assert_eq!(code(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()), "auth.locked");
    // The lockout ended the half-finished login.
    let sms = h.inbox.last_code("login_code");
    assert_eq!(code(h.cab.auth().verify_second_factor(&pending.id, &sms).await.unwrap_err()), "auth.locked");
    let raw = db.raw().await;
    let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE action = 'login_failed'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(failed, 3);
}

async fn r4_lockout_holds_across_connections(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    // Three independent cabinets (three pools, as three processes) each try a wrong password
    // at the same time, twice: the counter lives in the database.
    let mut cabs = Vec::new();
    for _ in 0..3 {
        cabs.push(db.harness_with(h.clock.clone(), h.inbox.clone()).await.cab);
    }
    let mut tasks = Vec::new();
    for cab in cabs.clone() {
        tasks.push(tokio::spawn(async move {
            cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await.unwrap_err().code()
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), "auth.invalid_credentials");
    }
    for cab in &cabs {
        assert_eq!(code(cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()), "auth.locked");
    }
    let raw = db.raw().await;
    let attempts: i32 = sqlx::query_scalar("SELECT failed_attempts FROM accounts").fetch_one(&raw).await.unwrap();
    assert_eq!(attempts, 3);
}

async fn r3_unknown_identifier_and_wrong_password_look_alike(db: TestDb) {
    // ASVS 6.3.8: responses do not reveal whether an account exists.
    let h = db.harness().await;
    h.registered().await;
    let unknown = h.cab.auth().login("+79260000000", PASSWORD, &device()).await.unwrap_err();
    let wrong = h.cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await.unwrap_err();
    assert_eq!(unknown.code(), wrong.code());
    assert_eq!(unknown.message(kabinet::Locale::En), wrong.message(kabinet::Locale::En));
    assert_eq!(
        code(h.cab.auth().login("not an identifier", PASSWORD, &device()).await.unwrap_err()),
        "auth.invalid_credentials"
    );
}

async fn r3_login_by_email_and_snils(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    // SNILS is a login identifier once the registry has confirmed it is hers (R2, S5).
    let early = h.cab.auth().login("112-233-445 95", PASSWORD, &device()).await.unwrap_err();
    assert_eq!(early.code(), "auth.invalid_credentials");
    h.signed_in().await;
    for id in ["anna.ivanova@example.ru", "112-233-445 95", "+7 916 123-45-67"] {
        let step = h.cab.auth().login(id, PASSWORD, &device()).await.unwrap();
        let sms = h.inbox.last_code("login_code");
        h.cab.auth().verify_second_factor(&step.id, &sms).await.unwrap();
    }
}

async fn r5_refresh_rotates_and_reuse_revokes_the_session(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let first = h.signed_in().await;
    let second = h.cab.auth().refresh(&first.refresh_token, &device()).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    h.cab.session(&second.access_token, &device()).await.unwrap();
    // The old refresh token again: the whole session (family) is revoked.
    assert_eq!(code(h.cab.auth().refresh(&first.refresh_token, &device()).await.unwrap_err()), "session.revoked");
    assert_eq!(code(h.cab.session(&second.access_token, &device()).await.unwrap_err()), "session.revoked");
    assert_eq!(code(h.cab.auth().refresh(&second.refresh_token, &device()).await.unwrap_err()), "session.revoked");
    assert_eq!(code(h.cab.auth().refresh("made-up", &device()).await.unwrap_err()), "session.invalid");
    // Refresh tokens are stored as digests only.
    let raw = db.raw().await;
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("SELECT digest FROM refresh_tokens").fetch_all(&raw).await.unwrap();
    assert!(stored.iter().all(|d| !d.windows(10).any(|w| w == &first.refresh_token.as_bytes()[..10])));
}

async fn r5_idle_absolute_and_token_timeouts(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in().await;
    h.clock.advance(time::Duration::minutes(14));
    h.cab.session(&t.access_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(2));
    assert_eq!(code(h.cab.session(&t.access_token, &device()).await.unwrap_err()), "session.expired");
    // A refreshed token works until the session idles out (30 minutes unused).
    let t2 = h.cab.auth().refresh(&t.refresh_token, &device()).await.unwrap();
    h.cab.session(&t2.access_token, &device()).await.unwrap();
    let t3 = h.cab.auth().refresh(&t2.refresh_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(31));
    // Idle for 31 minutes: neither the access token nor the refresh token revives it.
    assert_eq!(code(h.cab.session(&t3.access_token, &device()).await.unwrap_err()), "session.expired");
    assert_eq!(
        code(h.cab.auth().refresh(&t3.refresh_token, &device()).await.unwrap_err()),
        "session.expired",
        "idle timeout"
    );
    // Absolute timeout: 12 hours after login nothing keeps the session alive.
    let db2 = TestDb::sqlite().await;
    let h2 = db2.harness().await;
    h2.registered().await;
    let mut tok = h2.signed_in().await;
    for _ in 0..60 {
        h2.clock.advance(time::Duration::minutes(12));
        match h2.cab.auth().refresh(&tok.refresh_token, &device()).await {
            Ok(next) => tok = next,
            Err(e) => {
                assert_eq!(e.code(), "session.expired");
                return;
            }
        }
    }
    panic!("the session outlived its absolute timeout");
}

async fn r5_sessions_listed_and_revoked(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let a = h.signed_in().await;
    let b = h.signed_in().await;
    let me = h.cab.session(&a.access_token, &device()).await.unwrap();
    let list = me.security().sessions().await.unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(list.iter().filter(|s| s.current).count(), 1);
    assert!(list.iter().all(|s| s.device == "Pixel 8" && s.ip == "203.0.113.7"));
    let other = list.iter().find(|s| !s.current).unwrap();
    me.security().revoke(&other.id).await.unwrap();
    assert_eq!(code(h.cab.session(&b.access_token, &device()).await.unwrap_err()), "session.revoked");
    assert_eq!(me.security().revoke("no-such-session").await.unwrap_err().kind(), ErrorKind::NotFound);
    me.security().revoke_all().await.unwrap();
    assert_eq!(code(h.cab.session(&a.access_token, &device()).await.unwrap_err()), "session.revoked");
}

async fn r5_patient_reads_own_access_history(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let _ = h.cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    me.profile().get().await.unwrap();
    let history = me.security().access_history(None).await.unwrap();
    let actions: Vec<(&str, &str)> = history.iter().map(|e| (e.action.as_str(), e.who.as_str())).collect();
    assert_eq!(actions[0], ("read", "you"), "reading the history is journaled too");
    assert!(actions.contains(&("login", "you")));
    assert!(actions.contains(&("login_failed", "unknown")));
    let login = history.iter().find(|e| e.action == "login").unwrap();
    assert_eq!((login.ip.as_deref(), login.device_id.as_deref()), (Some("203.0.113.7"), Some("dev-1")));
    // Another patient's history is not reachable from this context: it only ever reads its
    // own patient id, and a second patient's entries never appear in it.
    let other = h.cab.system().patients().create(support::boris()).await.unwrap();
    let again = me.security().access_history(None).await.unwrap();
    assert!(again.iter().all(|e| e.resource_id.as_deref() != Some(other.as_str())));
}

async fn r3_totp_enrollment_login_replay_and_recovery_codes(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let setup = me.security().enable_totp().await.unwrap();
    assert!(setup.otpauth_uri.starts_with("otpauth://totp/"));
    assert!(!format!("{setup:?}").contains(&setup.secret_base32));
    assert_eq!(code(me.security().confirm_totp("000000").await.unwrap_err()), "auth.invalid_code");
    let recovery = me.security().confirm_totp(&totp_now(&h, &setup.secret_base32)).await.unwrap();
    assert_eq!(recovery.len(), 10);
    assert!(recovery.iter().all(|c| c.len() == 19), "{recovery:?}");
    // The code used to enroll cannot sign in again (same time step: replay).
    let step = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    assert_eq!(step.second_factor, "totp");
    let same = totp_now(&h, &setup.secret_base32);
    assert_eq!(code(h.cab.auth().verify_second_factor(&step.id, &same).await.unwrap_err()), "auth.second_factor");
    h.clock.advance(time::Duration::seconds(30));
    let next = totp_now(&h, &setup.secret_base32);
    h.cab.auth().verify_second_factor(&step.id, &next).await.unwrap();
    // A TOTP code is never accepted twice, even on a new login within its window.
    let step2 = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    assert_eq!(code(h.cab.auth().verify_second_factor(&step2.id, &next).await.unwrap_err()), "auth.second_factor");
    // A recovery code works once (any case and separators), then never again.
    let lower = recovery[0].to_lowercase().replace('-', " ");
    h.cab.auth().verify_second_factor(&step2.id, &lower).await.unwrap();
    let step3 = h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
    assert_eq!(
        code(h.cab.auth().verify_second_factor(&step3.id, &recovery[0]).await.unwrap_err()),
        "auth.second_factor"
    );
    // Five wrong tries end the step.
    for _ in 0..4 {
        assert!(h.cab.auth().verify_second_factor(&step3.id, "123456").await.is_err());
    }
    assert_eq!(
        code(h.cab.auth().verify_second_factor(&step3.id, &recovery[1]).await.unwrap_err()),
        "auth.too_many_attempts"
    );
    // The secret is stored sealed, never in clear.
    let raw = db.raw().await;
    let sealed: Vec<u8> = sqlx::query_scalar("SELECT totp_secret FROM accounts").fetch_one(&raw).await.unwrap();
    let plain = totp_rs::Secret::try_from_base32(&setup.secret_base32).unwrap();
    assert!(!sealed.windows(8).any(|w| w == &plain.as_ref()[..8]));
}

async fn r4_recovery_lifts_the_lock_and_signs_out_everything(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let a = h.signed_in().await;
    let b = h.signed_in().await;
    for _ in 0..3 {
        let _ = h.cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await;
    }
    assert_eq!(code(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()), "auth.locked");
    // An unknown identifier gets a recovery id too, and the same refusal later.
    let ghost = h.cab.accounts().start_recovery("+79260000000", kabinet::integrations::Channel::Sms).await.unwrap();
    assert_eq!(
        code(h.cab.accounts().complete_recovery(&ghost, "123456", "New-Pass!47qz", None).await.unwrap_err()),
        "auth.invalid_code"
    );
    let rid = h
        .cab
        .accounts()
        .start_recovery("anna.ivanova@example.ru", kabinet::integrations::Channel::Email)
        .await
        .unwrap();
    let mail = h.inbox.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((mail.kind.as_str(), mail.recipient.as_str()), ("recovery_code", "anna.ivanova@example.ru"));
    let c = mail.code.unwrap();
    // The new password must meet the policy; nothing changes on refusal.
    match h.cab.accounts().complete_recovery(&rid, &c, "Ivanova-2024!x", None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("password", "personal_data")),
        other => panic!("{other:?}"),
    }
    let rid = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    let c = h.inbox.last_code("recovery_code");
    h.cab.accounts().complete_recovery(&rid, &c, "New-Pass!47qz", None).await.unwrap();
    // Every session is signed out; the recovery is single-use; the new password works.
    for t in [&a, &b] {
        assert_eq!(code(h.cab.session(&t.access_token, &device()).await.unwrap_err()), "session.revoked");
    }
    assert_eq!(
        code(h.cab.accounts().complete_recovery(&rid, &c, "Other-Pass!58rw", None).await.unwrap_err()),
        "auth.code_expired"
    );
    assert_eq!(
        code(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()),
        "auth.invalid_credentials"
    );
    let step = h.cab.auth().login("+79161234567", "New-Pass!47qz", &device()).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    assert!(h.inbox.count("password_changed") >= 1);
}

async fn r4_recovery_never_bypasses_an_enrolled_totp(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let setup = me.security().enable_totp().await.unwrap();
    let recovery = me.security().confirm_totp(&totp_now(&h, &setup.secret_base32)).await.unwrap();
    let rid = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    let c = h.inbox.last_code("recovery_code");
    assert_eq!(
        code(h.cab.accounts().complete_recovery(&rid, &c, "New-Pass!47qz", None).await.unwrap_err()),
        "auth.second_factor"
    );
    let rid = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    let c = h.inbox.last_code("recovery_code");
    h.cab.accounts().complete_recovery(&rid, &c, "New-Pass!47qz", Some(&recovery[3])).await.unwrap();
}

async fn r4_change_password_signs_out_other_sessions(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let a = h.signed_in().await;
    let b = h.signed_in().await;
    let me = h.cab.session(&a.access_token, &device()).await.unwrap();
    assert_eq!(
        code(me.security().change_password("Wrong-Pass!93x", "New-Pass!47qz").await.unwrap_err()),
        "auth.invalid_credentials"
    );
    assert_eq!(me.security().change_password(PASSWORD, "Qwerty123!").await.unwrap_err().kind(), ErrorKind::Validation);
    me.security().change_password(PASSWORD, "New-Pass!47qz").await.unwrap();
    h.cab.session(&a.access_token, &device()).await.unwrap();
    assert_eq!(code(h.cab.session(&b.access_token, &device()).await.unwrap_err()), "session.revoked");
}

async fn r6_new_device_raises_an_incident_the_patient_confirms(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let home = h.signed_in().await;
    assert_eq!(h.inbox.count("incident"), 0, "the first login sets the baseline");
    sign_in_from(&h, &other_device()).await;
    let notices: Vec<_> = h.inbox.0.lock().unwrap().iter().filter(|m| m.kind == "incident").cloned().collect();
    assert_eq!(notices.iter().map(|m| m.channel.as_str()).collect::<Vec<_>>(), ["sms", "email"]);
    let me = h.cab.session(&home.access_token, &device()).await.unwrap();
    let incidents = me.security().incidents().await.unwrap();
    assert_eq!(incidents.len(), 1);
    let inc = &incidents[0];
    assert_eq!(
        (inc.kind.as_str(), inc.status.as_str(), inc.ip.as_deref()),
        ("new_device", "open", Some("198.51.100.23"))
    );
    assert!(inc.request_number.starts_with("INC-20261128-"));
    assert!(notices[0].text.contains(&inc.request_number) && notices[0].text.contains("198.51.100.23"));
    assert_eq!(inc.deadline - inc.created_at, time::Duration::minutes(30));
    let code6 = notices[0].code.clone().unwrap();
    assert_eq!(code(me.security().confirm_incident(&inc.id, "000000").await.unwrap_err()), "auth.invalid_code");
    me.security().confirm_incident(&inc.id, &code6).await.unwrap();
    assert_eq!(me.security().incidents().await.unwrap()[0].status, "confirmed");
    assert_eq!(h.inbox.count("incident_resolved"), 1);
    assert_eq!(me.security().confirm_incident(&inc.id, &code6).await.unwrap_err().kind(), ErrorKind::NotFound);
    h.clock.advance(time::Duration::minutes(31));
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_blocked, 0);
}

async fn r6_unconfirmed_incident_blocks_every_session_after_30_minutes(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let home = h.signed_in().await;
    let intruder = sign_in_from(&h, &other_device()).await;
    // The owner keeps using the cabinet (refreshing every 14 minutes) but never confirms.
    h.clock.advance(time::Duration::minutes(14));
    let home = h.cab.auth().refresh(&home.refresh_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(14));
    let home = h.cab.auth().refresh(&home.refresh_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(1));
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_blocked, 0, "29 minutes: still time to confirm");
    h.cab.session(&home.access_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(2));
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_blocked, 1);
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_blocked, 0, "blocked once");
    assert_eq!(code(h.cab.session(&home.access_token, &device()).await.unwrap_err()), "session.blocked");
    for t in [&home, &intruder] {
        assert_eq!(code(h.cab.auth().refresh(&t.refresh_token, &device()).await.unwrap_err()), "session.blocked");
    }
    let raw = db.raw().await;
    let blocks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_entries WHERE resource_type = 'session_block'")
        .fetch_one(&raw)
        .await
        .unwrap();
    assert_eq!(blocks, 1);
    // New logins are refused too, with the right password, until recovery (issue 14, item 4).
    assert_eq!(code(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()), "auth.locked");
    let recovery = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    let recovery_code = h.inbox.last_code("recovery_code");
    h.cab.accounts().complete_recovery(&recovery, &recovery_code, "Fresh-Start!42qv", None).await.unwrap();
    let told = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "incident_recovered").cloned();
    let told = told.expect("the person is told by e-mail that the incident is resolved");
    assert_eq!(told.recipient, "anna.ivanova@example.ru");
    let step = h.cab.auth().login("+79161234567", "Fresh-Start!42qv", &device()).await.unwrap();
    let again = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let me = h.cab.session(&again.access_token, &device()).await.unwrap();
    assert_eq!(
        me.security().incidents().await.unwrap().iter().find(|i| i.kind == "new_device").unwrap().status,
        "resolved"
    );
}

async fn r6_a_known_device_from_a_new_network_raises_an_incident(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    h.signed_in().await; // dev-1 from 203.0.113.7
    // The same device id from the same /24: a home router's new address, nothing raised.
    let same_net = kabinet::Device { ip: "203.0.113.99".into(), ..device() };
    let t = sign_in_from(&h, &same_net).await;
    let me = h.cab.session(&t.access_token, &same_net).await.unwrap();
    assert!(me.security().incidents().await.unwrap().is_empty());
    // The same device id (chosen by the client, so anyone can send it) from another network.
    for (n, ip) in [(1, "198.51.100.23"), (2, "2001:db8:abcd:12::1"), (3, "garbage")] {
        let elsewhere = kabinet::Device { ip: ip.into(), ..device() };
        let t = sign_in_from(&h, &elsewhere).await;
        let me = h.cab.session(&t.access_token, &elsewhere).await.unwrap();
        let incidents = me.security().incidents().await.unwrap();
        assert_eq!(incidents.len(), n, "{ip}");
        assert_eq!((incidents[0].kind.as_str(), incidents[0].ip.as_deref()), ("new_network", Some(ip)));
        let sms = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "incident").cloned().unwrap();
        assert!(sms.text.contains("new network"), "{}", sms.text);
        me.security().confirm_incident(&incidents[0].id, &h.inbox.last_code("incident")).await.unwrap();
    }
    // IPv6 addresses in the same /48 are one network; an IPv4-mapped address is its IPv4 network.
    for ip in ["2001:db8:abcd:ffff::2", "::ffff:203.0.113.50"] {
        let near = kabinet::Device { ip: ip.into(), ..device() };
        let t = sign_in_from(&h, &near).await;
        let me = h.cab.session(&t.access_token, &near).await.unwrap();
        assert_eq!(me.security().incidents().await.unwrap().len(), 3, "{ip}");
    }
}

async fn r6_success_after_failures_and_simultaneous_sessions(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    h.signed_in().await;
    let _ = h.cab.auth().login("+79161234567", "Wrong-Pass!93x", &device()).await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    assert_eq!(me.security().incidents().await.unwrap()[0].kind, "success_after_failures");
    // Same IP, another device, while the first is active: simultaneous use.
    let tablet = kabinet::Device { id: "dev-3".into(), name: "Tablet".into(), ..device() };
    sign_in_from(&h, &tablet).await;
    assert_eq!(me.security().incidents().await.unwrap()[0].kind, "simultaneous_sessions");
}

async fn r2_identity_confirmation_through_the_registry(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in_unconfirmed().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    assert!(!me.identity().confirmed().await.unwrap());
    let gate = me.identity().require_confirmed().await.unwrap_err();
    assert_eq!((gate.code(), gate.kind()), ("identity.unconfirmed", ErrorKind::PermissionDenied));
    let input = |name: &str, policy: &str, phone: &str| kabinet::IdentityConfirmation {
        method: "sms".into(),
        full_name: name.into(),
        birth_date: time::macros::date!(1990 - 03 - 14),
        oms_policy: policy.into(),
        phone: phone.into(),
    };
    // Mismatches come back with the registry's concrete reason; nothing is unlocked.
    let wrong_name = me.identity().confirm(input("Петрова Анна", "8451999122899990", "+79161234567")).await.unwrap();
    assert_eq!((wrong_name.confirmed, wrong_name.reason.as_deref()), (false, Some("name_mismatch")));
    let no_phone =
        me.identity().confirm(input("Иванова Анна Сергеевна", "8451999122899990", "+79260000000")).await.unwrap();
    assert_eq!(no_phone.reason.as_deref(), Some("no_linked_phone"));
    // Bad input is a validation error before the registry is asked.
    assert_eq!(
        me.identity().confirm(input("Иванова", "8451999122899990", "+79161234567")).await.unwrap_err().code(),
        "validation"
    );
    match me.identity().confirm(input("Иванова Анна", "8451999122899991", "+79161234567")).await.unwrap_err()
    {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("enp", "checksum")),
        other => panic!("{other:?}"),
    }
    assert!(!me.identity().confirmed().await.unwrap());
    let ok =
        me.identity().confirm(input("Иванова Анна Сергеевна", "8451 9991 2289 9990", "8 916 123-45-67")).await.unwrap();
    assert_eq!((ok.confirmed, ok.reason), (true, None));
    assert!(me.identity().confirmed().await.unwrap());
    me.identity().require_confirmed().await.unwrap();
    let raw = db.raw().await;
    let attempts: Vec<String> =
        sqlx::query_scalar("SELECT outcome FROM audit_entries WHERE resource_type = 'identity' ORDER BY seq")
            .fetch_all(&raw)
            .await
            .unwrap();
    assert_eq!(attempts, ["failure", "failure", "success"]);
}

async fn r18_personal_data_change_confirmed_by_sms_with_history(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in().await;
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    let profile = me.profile();
    match profile.request_change("surname", "Ivanova1", None).await.unwrap_err() {
        Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("surname", "format")),
        other => panic!("{other:?}"),
    }
    assert_eq!(profile.request_change("snils", "123", None).await.unwrap_err().code(), "validation");
    let req = profile.request_change("surname", "Петрова", None).await.unwrap();
    let sms = h.inbox.0.lock().unwrap().last().cloned().unwrap();
    assert_eq!((sms.kind.as_str(), sms.recipient.as_str()), ("profile_change", "+79161234567"));
    assert_eq!(code(profile.confirm_change(&req.id, "000000").await.unwrap_err()), "auth.invalid_code");
    assert_eq!(profile.get().await.unwrap().surname, "Иванова", "nothing changes before the code");
    profile.confirm_change(&req.id, sms.code.as_deref().unwrap()).await.unwrap();
    assert_eq!(profile.get().await.unwrap().surname, "Петрова");
    // The person index follows the new surname: a FHIR record without identifiers under the
    // new name and the same birth date is her, not a new patient.
    let fhir = serde_json::json!({
        "resourceType": "Patient", "id": "elsewhere", "name": [{ "family": "Петрова", "given": ["Анна"] }],
        "gender": "female", "birthDate": "1990-03-14",
    });
    let matched = h.cab.system().fhir().import_bundle(&fhir.to_string()).await.unwrap();
    assert_eq!(
        (matched.patient_ids, matched.unchanged.get("Patient")),
        (vec![me.patient_id().unwrap().to_owned()], Some(&1))
    );
    assert_eq!(
        code(profile.confirm_change(&req.id, sms.code.as_deref().unwrap()).await.unwrap_err()),
        "auth.code_expired"
    );
    let history = profile.history().await.unwrap();
    assert_eq!(history.len(), 1);
    let c = &history[0];
    assert_eq!(
        (c.field.as_str(), c.old_value.as_deref(), c.new_value.as_str(), c.confirmed_by.as_str()),
        ("surname", Some("Иванова"), "Петрова", "sms")
    );
    // History and pending values hold no plaintext.
    let raw = db.raw().await;
    let blobs: Vec<Vec<u8>> =
        sqlx::query_scalar("SELECT new_value FROM profile_changes").fetch_all(&raw).await.unwrap();
    assert!(blobs.iter().all(|b| !b.windows(6).any(|w| w == &"Петрова".as_bytes()[..6])));
    // Requests are looked up within the signed-in account only.
    assert_eq!(
        profile.confirm_change("someone-elses-request", "123456").await.unwrap_err().kind(),
        ErrorKind::NotFound
    );
}

async fn r18_contact_change_needs_recent_sign_in_and_tells_the_old_contact(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let t = h.signed_in().await;
    h.clock.advance(time::Duration::minutes(14));
    let t = h.cab.auth().refresh(&t.refresh_token, &device()).await.unwrap();
    h.clock.advance(time::Duration::minutes(2));
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    // 16 minutes after sign-in: sign in again before changing a login identifier.
    assert_eq!(
        code(me.profile().request_change("phone", "+7 926 555 01 02", None).await.unwrap_err()),
        "auth.reauthentication_required"
    );
    // A fresh sign-in may.
    let fresh = h.signed_in().await;
    let me = h.cab.session(&fresh.access_token, &device()).await.unwrap();
    let req = me.profile().request_change("phone", "+7 926 555 01 02", None).await.unwrap();
    me.profile().confirm_change(&req.id, &h.inbox.last_code("profile_change")).await.unwrap();
    let notice = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "contact_changed").cloned().unwrap();
    assert_eq!(notice.recipient, "+79161234567", "the old phone is told");
    assert_eq!(me.profile().get().await.unwrap().phone.as_deref(), Some("+79265550102"));
    // The new phone is the login identifier now; the old one no longer is.
    assert_eq!(
        code(h.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap_err()),
        "auth.invalid_credentials"
    );
    h.cab.auth().login("+79265550102", PASSWORD, &device()).await.unwrap();
}

async fn r4_imported_bcrypt_account_is_upgraded_to_argon2id_on_login(db: TestDb) {
    let h = db.harness().await;
    let person = |n: u32, hash: String| kabinet::LegacyAccount {
        phone: format!("+7 918 {n:07}"),
        email: None,
        surname: "Кузнецов".into(),
        given_name: "Пётр".into(),
        patronymic: None,
        birth_date: time::macros::date!(1980 - 01 - 01),
        sex: kabinet::Sex::Male,
        snils: support::snils_for(100 + n),
        password_hash: hash,
        inn: None,
    };
    let legacy = |hash: String| kabinet::LegacyAccount {
        phone: "+7 916 123-45-67".into(),
        email: Some("anna.ivanova@example.ru".into()),
        surname: "Иванова".into(),
        given_name: "Анна".into(),
        patronymic: None,
        birth_date: time::macros::date!(1990 - 03 - 14),
        sex: kabinet::Sex::Female,
        snils: "112-233-445 95".into(),
        password_hash: hash,
        inn: Some("500100732259".into()),
    };
    // Malformed hashes, and ones beyond what a verification may cost, are refused; nothing is stored.
    let weak_argon = kabinet::auth::password::hash(
        "Legacy-Pass1!",
        &kabinet::Argon2Params { memory_kib: 1024, iterations: 1, parallelism: 1 },
    )
    .unwrap();
    let cost4 = bcrypt::hash("Legacy-Pass1!", 4).unwrap();
    let refused = [
        "plaintext".to_owned(),
        "$2b$12$short".to_owned(),
        cost4.replacen("$04$", "$03$", 1),
        cost4.replacen("$04$", "$32$", 1),
        cost4.replacen("$04$", "$4a$", 1),
        format!("{}!", &cost4[..59]),
        weak_argon.replacen("m=1024", "m=2097152", 1),
        weak_argon.replacen("t=1", "t=4000", 1),
        weak_argon.replacen("$argon2id$", "$argon2i$", 1),
        weak_argon.replacen("v=19", "v=16", 1),
    ];
    for bad in refused {
        match h.cab.system().accounts().import_account(person(0, bad.clone())).await.unwrap_err() {
            Error::Validation(v) => assert_eq!((v.field, v.reason.as_str()), ("password_hash", "format"), "{bad}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
    // Every valid bcrypt cost (4–31) and a bounded Argon2id are accepted; weak ones are reported.
    let cost4_2a = bcrypt::hash_with_result("Legacy-Pass1!", 4).unwrap().format_for_version(bcrypt::Version::TwoA);
    for (n, hash, algorithm, weak) in [
        (1, cost4_2a, "bcrypt", true),
        (2, weak_argon.clone(), "argon2id", true),
        (3, cost4.replacen("$04$", "$31$", 1), "bcrypt", false),
    ] {
        let imported = h.cab.system().accounts().import_account(person(n, hash)).await.unwrap();
        assert_eq!((imported.hash_algorithm.as_str(), imported.weak_hash), (algorithm, weak), "{n}");
        assert_eq!(imported.to_string(), imported.account_id);
    }
    // A weak imported hash still signs its owner in — once — and is replaced at once.
    let step = h.cab.auth().login("+79180000001", "Legacy-Pass1!", &device()).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let hash = bcrypt::hash_with_result("Legacy-Pass1!", 12).unwrap().format_for_version(bcrypt::Version::TwoY);
    let imported = h.cab.system().accounts().import_account(legacy(hash.clone())).await.unwrap();
    assert!(!imported.weak_hash);
    let account = imported.account_id;
    // The same person again is refused, never merged.
    assert_eq!(code(h.cab.system().accounts().import_account(legacy(hash)).await.unwrap_err()), "patient.exists");
    let raw = db.raw().await;
    let stored = |id: String| {
        let raw = raw.clone();
        async move {
            sqlx::query_scalar::<_, String>("SELECT password_hash FROM accounts WHERE id = $1")
                .bind(id)
                .fetch_one(&raw)
                .await
                .unwrap()
        }
    };
    assert!(stored(account.clone()).await.starts_with("$2y$12$"));
    assert_eq!(
        code(h.cab.auth().login("+79161234567", "Legacy-Pass2!", &device()).await.unwrap_err()),
        "auth.invalid_credentials"
    );
    let step = h.cab.auth().login("+79161234567", "Legacy-Pass1!", &device()).await.unwrap();
    h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let upgraded = stored(account.clone()).await;
    assert!(upgraded.starts_with("$argon2id$v=19$m=4096,t=1,p=1$"), "{upgraded}");
    // The upgraded hash works, by e-mail and by the imported INN (R3); the patient's data is
    // readable by its owner.
    for identifier in ["anna.ivanova@example.ru", "500100732259"] {
        let step = h.cab.auth().login(identifier, "Legacy-Pass1!", &device()).await.unwrap();
        h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    }
    let step = h.cab.auth().login("anna.ivanova@example.ru", "Legacy-Pass1!", &device()).await.unwrap();
    let t = h.cab.auth().verify_second_factor(&step.id, &h.inbox.last_code("login_code")).await.unwrap();
    let me = h.cab.session(&t.access_token, &device()).await.unwrap();
    assert_eq!(me.profile().get().await.unwrap().surname, "Иванова");
    // An imported account's identifiers are keys from the start: a corrected INN moves the
    // login with it (the old one signs nobody in).
    let req = me.profile().request_change("inn", "770708389324", None).await.unwrap();
    me.profile().confirm_change(&req.id, &h.inbox.last_code("profile_change")).await.unwrap();
    h.cab.auth().login("770708389324", "Legacy-Pass1!", &device()).await.unwrap();
    assert_eq!(
        code(h.cab.auth().login("500100732259", "Legacy-Pass1!", &device()).await.unwrap_err()),
        "auth.invalid_credentials"
    );
}

async fn r6_password_change_without_a_fresh_sms_sign_in_raises_an_incident(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let tokens = h.signed_in().await;
    let me = h.cab.session(&tokens.access_token, &device()).await.unwrap();
    // Right after the SMS-confirmed sign-in: a plain change, no incident.
    me.security().change_password(PASSWORD, "New-Pass!47qz").await.unwrap();
    assert!(me.security().incidents().await.unwrap().is_empty());
    // 20 minutes later (session still alive): the change is suspicious and must be confirmed.
    h.clock.advance(time::Duration::minutes(20));
    let me = h.cab.session(&tokens.access_token, &device()).await.unwrap_or_else(|_| me.clone());
    me.security().change_password("New-Pass!47qz", "Other-Pass!58xy").await.unwrap();
    let incidents = me.security().incidents().await.unwrap();
    assert_eq!(incidents.iter().map(|i| i.kind.as_str()).collect::<Vec<_>>(), ["credential_change"]);
    let sms = h.inbox.0.lock().unwrap().iter().rev().find(|m| m.kind == "incident").cloned().unwrap();
    assert!(sms.text.contains(&incidents[0].request_number));
    me.security().confirm_incident(&incidents[0].id, &h.inbox.last_code("incident")).await.unwrap();
}

async fn r6_unusual_rate_of_data_access_raises_an_incident(db: TestDb) {
    let h = db.harness().await;
    h.registered().await;
    let me = h.cab.session(&h.signed_in().await.access_token, &device()).await.unwrap();
    for _ in 0..20 {
        me.profile().get().await.unwrap();
    }
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_raised, 0, "20 reads an hour is ordinary");
    for _ in 0..kabinet::auth::incidents::UNUSUAL_READS_PER_HOUR {
        me.profile().get().await.unwrap();
    }
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_raised, 1);
    assert_eq!(h.cab.run_due_jobs().await.unwrap().incidents_raised, 0, "one incident an hour, not one per run");
    let incidents = me.security().incidents().await.unwrap();
    assert_eq!(incidents[0].kind, "unusual_access_rate");
    assert_eq!(h.inbox.count("incident"), 2, "by SMS and e-mail");
}

async fn r1_expired_phone_code_can_be_resent_a_limited_number_of_times(db: TestDb) {
    let h = db.harness().await;
    let reg = h.cab.accounts().register(registration()).await.unwrap();
    let first = h.inbox.last_code("phone_confirmation");
    h.clock.advance(time::Duration::minutes(11));
    assert_eq!(code(h.cab.accounts().confirm_phone(&reg.id, &first).await.unwrap_err()), "auth.code_expired");
    // Registering again while it is pending changes nothing (the pending account holds the
    // phone, and the answer does not say so); a resend works.
    let again = h.cab.accounts().register(registration()).await.unwrap();
    assert_ne!(again.id, reg.id);
    h.cab.accounts().resend_phone_code(&reg.id).await.unwrap();
    let second = h.inbox.last_code("phone_confirmation");
    h.cab.accounts().resend_phone_code(&reg.id).await.unwrap();
    let third = h.inbox.last_code("phone_confirmation");
    if second != third {
        assert!(h.cab.accounts().confirm_phone(&reg.id, &second).await.is_err(), "an older code stops working");
    }
    for _ in 0..2 {
        h.cab.accounts().resend_phone_code(&reg.id).await.unwrap();
    }
    assert_eq!(code(h.cab.accounts().resend_phone_code(&reg.id).await.unwrap_err()), "code.limit");
    let latest = h.inbox.last_code("phone_confirmation");
    assert_eq!(h.cab.accounts().confirm_phone(&reg.id, &latest).await.unwrap(), reg.id);
    assert_eq!(
        h.cab.accounts().resend_phone_code(&reg.id).await.unwrap_err().kind(),
        ErrorKind::NotFound,
        "no longer pending"
    );
}
