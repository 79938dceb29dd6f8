//! R3/R5 costs: one Argon2id hash at the default parameters next to a whole login
//! (password step + SMS second factor, both journaled) on an in-memory SQLite cabinet, so
//! the SDK's own overhead shows; and access-token checks per second (pure EdDSA JWT
//! verification, and a full `cabinet.session(token)` that also reads the session row).

use std::sync::{Arc, Mutex};

use criterion::{Criterion, criterion_group, criterion_main};
use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Argon2Params, Cabinet, Config, Device, Registration};

#[derive(Default)]
struct Inbox(Mutex<Vec<Message>>);

impl Inbox {
    fn last(&self, kind: &str) -> String {
        let all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.iter().rev().find(|m| m.kind == kind).and_then(|m| m.code.clone()).unwrap_or_default()
    }
}

impl Notifier for Inbox {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(m.clone());
        Ok(())
    }
}

const PASSWORD: &str = "Vek-Tor!58zeb";

/// Registers and confirms the benchmark's patient.
async fn register(cab: &Cabinet, inbox: &Inbox) {
    let reg = cab
        .accounts()
        .register(Registration {
            phone: "+79161234567".into(),
            email: "bench@example.ru".into(),
            password: PASSWORD.into(),
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: "112-233-445 95".into(),
            accepted_terms_version: "2026-01".into(),
            inn: None,
        })
        .await
        .expect("register");
    cab.accounts().confirm_phone(&reg.id, &inbox.last("phone_confirmation")).await.expect("confirm");
}

fn auth(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let params = Argon2Params::default();
    c.bench_function("argon2id_hash/default_m19456_t2_p1", |b| {
        b.iter(|| kabinet::auth::password::hash(PASSWORD, &params))
    });

    let inbox = Arc::new(Inbox::default());
    let config = Config { notifier: Some(inbox.clone()), ..Config::default() };
    let cab = rt.block_on(Cabinet::open("sqlite::memory:", config)).expect("open");
    let device =
        Device { id: "bench".into(), name: "bench".into(), ip: "127.0.0.1".into(), user_agent: "criterion".into() };
    rt.block_on(register(&cab, &inbox));
    c.bench_function("login/password_and_sms_second_factor", |b| {
        b.iter(|| {
            rt.block_on(async {
                let step = cab.auth().login("+79161234567", PASSWORD, &device).await.expect("login");
                cab.auth().verify_second_factor(&step.id, &inbox.last("login_code")).await.expect("second factor")
            })
        })
    });
    c.bench_function("login/second_factor_step_only", |b| {
        b.iter_custom(|n| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..n {
                let step = rt.block_on(cab.auth().login("+79161234567", PASSWORD, &device)).expect("login");
                let code = inbox.last("login_code");
                let start = std::time::Instant::now();
                rt.block_on(cab.auth().verify_second_factor(&step.id, &code)).expect("second factor");
                total += start.elapsed();
            }
            total
        })
    });
    c.bench_function("login/password_step_only", |b| {
        b.iter(|| rt.block_on(cab.auth().login("+79161234567", PASSWORD, &device)).expect("login"))
    });
    let stored = kabinet::auth::password::hash(PASSWORD, &params).expect("hash");
    c.bench_function("argon2id_verify/default", |b| {
        b.iter(|| kabinet::auth::password::verify(PASSWORD, &stored, &params))
    });
    println!("verify verdict at default params: {:?}", kabinet::auth::password::verify(PASSWORD, &stored, &params));
    let tokens = rt.block_on(async {
        let step = cab.auth().login("+79161234567", PASSWORD, &device).await.expect("login");
        cab.auth().verify_second_factor(&step.id, &inbox.last("login_code")).await.expect("second factor")
    });
    let key = ed25519_dalek::SigningKey::from_bytes(&[7u8; 32]);
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let claims = kabinet::auth::tokens::Claims {
        iss: kabinet::auth::tokens::ISSUER.into(),
        aud: kabinet::auth::tokens::AUDIENCE.into(),
        sub: "a".into(),
        sid: "s".into(),
        iat: now,
        nbf: now,
        exp: now + 900,
        jti: "j".into(),
    };
    let jwt = kabinet::auth::tokens::sign(&key, &claims);
    let vk = key.verifying_key();
    c.bench_function("token/verify_eddsa_jwt", |b| b.iter(|| kabinet::auth::tokens::verify(&vk, &jwt, now)));
    c.bench_function("token/cabinet_session_lookup", |b| {
        b.iter(|| rt.block_on(cab.session(&tokens.access_token, &device)).expect("session"))
    });
}

/// ASVS 6.3.8 / issue 4: an unknown identifier and a wrong password must take comparable
/// time. A file database lets the bench clear the lockout between iterations (untimed), so
/// every wrong password is a real verification.
fn enumeration_timing(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-auth-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let url = format!("sqlite://{}", dir.join("k.db").display());
    let inbox = Arc::new(Inbox::default());
    let cab =
        rt.block_on(Cabinet::open(&url, Config { notifier: Some(inbox.clone()), ..Config::default() })).expect("open");
    rt.block_on(register(&cab, &inbox));
    sqlx::any::install_default_drivers();
    let raw = rt.block_on(sqlx::AnyPool::connect(&url)).expect("raw pool");
    let device =
        Device { id: "bench".into(), name: "bench".into(), ip: "127.0.0.1".into(), user_agent: "criterion".into() };
    c.bench_function("login_refused/unknown_identifier", |b| {
        b.iter(|| rt.block_on(cab.auth().login("+79260000000", PASSWORD, &device)).expect_err("refused"))
    });
    c.bench_function("login_refused/wrong_password", |b| {
        b.iter_custom(|n| {
            let mut total = std::time::Duration::ZERO;
            for _ in 0..n {
                let start = std::time::Instant::now();
                let _ = rt.block_on(cab.auth().login("+79161234567", "Wrong-Pass!93x", &device));
                total += start.elapsed();
                rt.block_on(sqlx::query("UPDATE accounts SET failed_attempts = 0, blocked_at = NULL").execute(&raw))
                    .expect("reset");
            }
            total
        })
    });
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = auth, enumeration_timing
}
criterion_main!(benches);
