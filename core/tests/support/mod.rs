//! Test databases on both engines. Every storage test runs once on a fresh SQLite file and
//! once on a fresh PostgreSQL database (`KABINET_TEST_POSTGRES_URL`, default: the local
//! socket, database `kabinet_test`). A PostgreSQL that cannot be reached fails the test:
//! set `KABINET_SKIP_POSTGRES=1` to skip those tests explicitly on a machine without one.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use kabinet::crypto::LocalFileKeyProvider;
use kabinet::{Backend, Cabinet, Config};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, Connection, Executor};

/// Default admin URL of the local PostgreSQL (socket, user root).
pub const DEFAULT_PG: &str = "postgres://root@%2Fvar%2Frun%2Fpostgresql/kabinet_test";

/// A fresh database and a key file for it.
pub struct TestDb {
    pub backend: Backend,
    pub url: String,
    pub dir: tempfile::TempDir,
}

/// Runs an async test body against SQLite and PostgreSQL as two named tests.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name(super::support::TestDb::sqlite().await).await
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(db) = super::support::TestDb::postgres().await {
                    super::$name(db).await
                }
            }
        }
    )*};
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("kabinet.db").display());
        TestDb { backend: Backend::Sqlite, url, dir }
    }

    /// A new, empty PostgreSQL database; `None` only when skipping is explicitly asked for.
    pub async fn postgres() -> Option<TestDb> {
        if std::env::var("KABINET_SKIP_POSTGRES").is_ok_and(|v| v == "1") {
            eprintln!("PostgreSQL tests skipped: KABINET_SKIP_POSTGRES=1");
            return None;
        }
        let admin = std::env::var("KABINET_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_PG.to_owned());
        let name = format!("kt_{}", uuid::Uuid::new_v4().simple());
        let mut conn = sqlx::PgConnection::connect(&admin)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL not reachable ({e}); start it or set KABINET_SKIP_POSTGRES=1"));
        conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).await.unwrap();
        conn.close().await.unwrap();
        let (base, query) = admin.split_once('?').map_or((admin.as_str(), ""), |(b, q)| (b, q));
        let base = base.rsplit_once('/').map_or(base, |(b, _)| b);
        let url = if query.is_empty() { format!("{base}/{name}") } else { format!("{base}/{name}?{query}") };
        Some(TestDb { backend: Backend::Postgres, url, dir: tempfile::tempdir().unwrap() })
    }

    pub fn key_path(&self) -> std::path::PathBuf {
        self.dir.path().join("kek.json")
    }

    pub fn config(&self) -> Config {
        Config {
            key_provider: Some(Arc::new(LocalFileKeyProvider::open(self.key_path()).unwrap())),
            ..Config::default()
        }
    }

    pub async fn open(&self) -> Cabinet {
        self.open_with(self.config()).await
    }

    pub async fn open_with(&self, config: Config) -> Cabinet {
        let cab = Cabinet::open(&self.url, config).await.unwrap();
        assert_eq!(cab.backend(), self.backend);
        cab
    }

    /// A raw pool for inspecting or tampering with stored bytes.
    pub async fn raw(&self) -> AnyPool {
        sqlx::any::install_default_drivers();
        AnyPoolOptions::new().max_connections(2).connect(&self.url).await.unwrap()
    }

    /// The SQLite files (database, WAL) as bytes.
    pub fn sqlite_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.file_name().unwrap().to_string_lossy().starts_with("kabinet.db") {
                all.extend(std::fs::read(path).unwrap());
            }
        }
        all
    }
}

/// A valid patient with Cyrillic names and every identifier.
pub fn anna() -> kabinet::NewPatient {
    kabinet::NewPatient {
        surname: "Иванова".into(),
        given_name: "Анна".into(),
        patronymic: Some("Сергеевна".into()),
        birth_date: time::macros::date!(1990 - 03 - 14),
        sex: kabinet::Sex::Female,
        snils: Some("112-233-445 95".into()),
        inn: Some("500100732259".into()),
        oms_policy: Some("8451 9991 2289 9990".into()),
        phone: Some("8 (916) 123-45-67".into()),
        email: Some("anna.ivanova@example.ru".into()),
    }
}

/// Another valid patient.
pub fn boris() -> kabinet::NewPatient {
    kabinet::NewPatient {
        surname: "Смирнов".into(),
        given_name: "Борис".into(),
        patronymic: None,
        birth_date: time::macros::date!(1975 - 11 - 02),
        sex: kabinet::Sex::Male,
        snils: Some("123-456-789 64".into()),
        inn: None,
        oms_policy: None,
        phone: Some("+7 926 555 01 02".into()),
        email: None,
    }
}

/// A clock tests move by hand.
#[derive(Clone)]
pub struct TestClock(pub std::sync::Arc<std::sync::Mutex<time::OffsetDateTime>>);

impl TestClock {
    pub fn new() -> Self {
        TestClock(std::sync::Arc::new(std::sync::Mutex::new(time::macros::datetime!(2026-11-28 09:00 UTC))))
    }
    pub fn advance(&self, d: time::Duration) {
        *self.0.lock().unwrap() += d;
    }
}

impl kabinet::Clock for TestClock {
    fn now(&self) -> time::OffsetDateTime {
        *self.0.lock().unwrap()
    }
}

/// A notifier that keeps every message.
#[derive(Clone, Default)]
pub struct Inbox(pub std::sync::Arc<std::sync::Mutex<Vec<kabinet::integrations::Message>>>);

impl Inbox {
    /// The code of the newest message of `kind`.
    pub fn last_code(&self, kind: &str) -> String {
        let all = self.0.lock().unwrap();
        all.iter()
            .rev()
            .find(|m| m.kind == kind)
            .and_then(|m| m.code.clone())
            .unwrap_or_else(|| panic!("no {kind} message"))
    }
    pub fn count(&self, kind: &str) -> usize {
        self.0.lock().unwrap().iter().filter(|m| m.kind == kind).count()
    }
}

impl kabinet::integrations::Notifier for Inbox {
    fn deliver(&self, m: &kabinet::integrations::Message) -> Result<(), kabinet::integrations::DeliveryError> {
        self.0.lock().unwrap().push(m.clone());
        Ok(())
    }
}

/// A stand-in for the state registries: knows Anna, with her OMS policy and phone.
#[derive(Clone, Default)]
pub struct TestRegistry {
    pub down: std::sync::Arc<std::sync::atomic::AtomicBool>,
    pub seen: std::sync::Arc<std::sync::Mutex<Vec<kabinet::integrations::RegistryRequest>>>,
}

impl kabinet::integrations::IdentityRegistry for TestRegistry {
    fn check(
        &self,
        r: &kabinet::integrations::RegistryRequest,
    ) -> Result<kabinet::integrations::RegistryAnswer, kabinet::integrations::DeliveryError> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(kabinet::integrations::DeliveryError("registry timeout".into()));
        }
        self.seen.lock().unwrap().push(r.clone());
        // The extra test people (`registration_n`) are on file with any policy and phone.
        if r.surname == "Кузнецов" && r.given_name == "Пётр" {
            return Ok(kabinet::integrations::RegistryAnswer { matched: true, reason: None });
        }
        let reason = if r.surname != "Иванова" || r.given_name != "Анна" {
            Some("name_mismatch")
        } else if r.oms_policy.as_deref() != Some("8451999122899990") {
            Some("policy_not_found")
        } else if r.phone.as_deref() != Some("+79161234567") {
            Some("no_linked_phone")
        } else {
            None
        };
        Ok(kabinet::integrations::RegistryAnswer { matched: reason.is_none(), reason: reason.map(str::to_owned) })
    }
}

/// A cabinet with a test clock, a recording notifier and light Argon2 parameters.
pub struct Harness {
    pub cab: Cabinet,
    pub clock: TestClock,
    pub inbox: Inbox,
}

impl TestDb {
    pub async fn harness(&self) -> Harness {
        self.harness_with(TestClock::new(), Inbox::default()).await
    }

    pub async fn harness_with(&self, clock: TestClock, inbox: Inbox) -> Harness {
        let config = Config {
            clock: std::sync::Arc::new(clock.clone()),
            notifier: Some(std::sync::Arc::new(inbox.clone())),
            identity_registry: Some(std::sync::Arc::new(TestRegistry::default())),
            password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
            locale: kabinet::Locale::En,
            ..self.config()
        };
        Harness { cab: self.open_with(config).await, clock, inbox }
    }
}

pub const PASSWORD: &str = "Vek-Tor!58zeb";

pub fn registration() -> kabinet::Registration {
    kabinet::Registration {
        phone: "8 (916) 123-45-67".into(),
        email: "anna.ivanova@example.ru".into(),
        password: PASSWORD.into(),
        surname: "Иванова".into(),
        given_name: "Анна".into(),
        patronymic: Some("Сергеевна".into()),
        birth_date: time::macros::date!(1990 - 03 - 14),
        sex: kabinet::Sex::Female,
        snils: "112-233-445 95".into(),
        accepted_terms_version: "2026-01".into(),
        inn: None,
    }
}

pub fn device() -> kabinet::Device {
    kabinet::Device {
        id: "dev-1".into(),
        name: "Pixel 8".into(),
        ip: "203.0.113.7".into(),
        user_agent: "KabinetApp/1.0".into(),
    }
}

impl Harness {
    /// Registers and confirms the standard patient; returns the account id.
    pub async fn registered(&self) -> String {
        let reg = self.cab.accounts().register(registration()).await.unwrap();
        let code = self.inbox.last_code("phone_confirmation");
        self.cab.accounts().confirm_phone(&reg.id, &code).await.unwrap()
    }

    /// Logs in with the SMS code; returns the tokens. Anna's identity is confirmed through
    /// the registry (R2) the first time, so that medical features are open to her session.
    pub async fn signed_in(&self) -> kabinet::Tokens {
        let step = self.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
        let code = self.inbox.last_code("login_code");
        let tokens = self.cab.auth().verify_second_factor(&step.id, &code).await.unwrap();
        self.confirm_identity(&tokens, "Иванова Анна Сергеевна", time::macros::date!(1990 - 03 - 14)).await;
        tokens
    }

    /// Signs in without confirming the identity: the reduced feature set (R2, S5).
    pub async fn signed_in_unconfirmed(&self) -> kabinet::Tokens {
        let step = self.cab.auth().login("+79161234567", PASSWORD, &device()).await.unwrap();
        let code = self.inbox.last_code("login_code");
        self.cab.auth().verify_second_factor(&step.id, &code).await.unwrap()
    }

    /// Confirms the identity of the session's person through the test registry, once.
    pub async fn confirm_identity(&self, tokens: &kabinet::Tokens, full_name: &str, birth_date: time::Date) {
        let me = self.cab.session(&tokens.access_token, &device()).await.unwrap();
        if me.identity().confirmed().await.unwrap() {
            return;
        }
        let check = me
            .identity()
            .confirm(kabinet::IdentityConfirmation {
                method: "sms".into(),
                full_name: full_name.into(),
                birth_date,
                oms_policy: "8451999122899990".into(),
                phone: "+79161234567".into(),
            })
            .await
            .unwrap();
        assert!(check.confirmed, "{check:?}");
    }
}

/// A valid SNILS for the number `n` (9 digits above the no-checksum range), with its check digits.
pub fn snils_for(n: u32) -> String {
    let body = format!("{:09}", 2_000_000 + n);
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap() * (9 - i as u32)).sum();
    let check = match sum % 101 {
        100 => 0,
        s => s,
    };
    format!("{body}{check:02}")
}

/// The `n`-th extra patient's registration (distinct phone, e-mail and SNILS).
pub fn registration_n(n: u32) -> kabinet::Registration {
    kabinet::Registration {
        phone: format!("+7 917 {:07}", n),
        email: format!("patient{n}@example.ru"),
        surname: "Кузнецов".into(),
        given_name: "Пётр".into(),
        patronymic: None,
        birth_date: time::macros::date!(1980 - 01 - 01),
        sex: kabinet::Sex::Male,
        snils: snils_for(n),
        ..registration()
    }
}

impl Harness {
    /// Registers, confirms and signs in a patient; returns the tokens.
    pub async fn patient(&self, reg: kabinet::Registration) -> kabinet::Tokens {
        let tokens = self.patient_unconfirmed(reg).await;
        self.confirm_identity(&tokens, "Кузнецов Пётр", time::macros::date!(1980 - 01 - 01)).await;
        tokens
    }

    /// Registers, confirms the phone of and signs in a patient whose identity is not
    /// confirmed yet (the reduced feature set of R2).
    pub async fn patient_unconfirmed(&self, reg: kabinet::Registration) -> kabinet::Tokens {
        let phone = kabinet::ids::phone(&reg.phone).unwrap();
        let pending = self.cab.accounts().register(reg).await.unwrap();
        self.cab.accounts().confirm_phone(&pending.id, &self.inbox.last_code("phone_confirmation")).await.unwrap();
        let step = self.cab.auth().login(&phone, PASSWORD, &device()).await.unwrap();
        self.cab.auth().verify_second_factor(&step.id, &self.inbox.last_code("login_code")).await.unwrap()
    }

    /// Anna, registered, signed in and with her identity confirmed (R2).
    pub async fn anna_confirmed(&self) -> kabinet::Me {
        self.registered().await;
        let tokens = self.signed_in().await;
        let me = self.cab.session(&tokens.access_token, &device()).await.unwrap();
        assert!(me.identity().confirmed().await.unwrap());
        me
    }
}

impl Harness {
    /// Region 77 with one clinic (code `0101`) and a second one (`0202`); returns their ids.
    pub async fn two_clinics(&self) -> (String, String) {
        let dir = self.cab.system().directory();
        dir.add_region("77", "Москва", None).await.unwrap();
        let a = dir.add_clinic("77", "0101", "Поликлиника № 1", "ул. Ленина, 1", "пн–пт").await.unwrap();
        let b = dir.add_clinic("77", "0202", "Поликлиника № 2", "ул. Мира, 2", "пн–пт").await.unwrap();
        (a.id, b.id)
    }

    /// A GP of `clinic_id` with 20-minute slots for first visits from `start` for `length`.
    pub async fn gp_with_slots(
        &self,
        clinic_id: &str,
        start: time::OffsetDateTime,
        length: time::Duration,
    ) -> (kabinet::Practitioner, Vec<kabinet::Slot>) {
        let sys = self.cab.system();
        let gp = sys
            .directory()
            .add_practitioner(clinic_id, "Петров Пётр", "Терапевт", &["first".to_owned()])
            .await
            .unwrap();
        let slots = sys.schedule().open_slots(&gp.id, start, start + length, 20, "first").await.unwrap();
        (gp, slots)
    }

    /// A staff member of `clinic_id` in `role`, signed in with TOTP; `n` makes phone and
    /// e-mail unique.
    pub async fn staff(&self, clinic_id: &str, role: &str, n: u32) -> kabinet::Me {
        let token = self.staff_token(clinic_id, role, n).await;
        self.cab.session(&token, &device()).await.unwrap()
    }

    /// The access token of a new staff member (see [`Harness::staff`]).
    pub async fn staff_token(&self, clinic_id: &str, role: &str, n: u32) -> String {
        let phone = format!("+7903{n:07}");
        let account = self
            .cab
            .system()
            .staff()
            .create(kabinet::NewStaff {
                clinic_id: clinic_id.into(),
                role: role.parse().expect("a staff role"),
                full_name: format!("Сотрудник {n}"),
                phone: phone.clone(),
                email: format!("staff{n}@clinic.example.ru"),
                password: "Registratura#2026".into(),
            })
            .await
            .unwrap();
        let step = self.cab.auth().login(&phone, "Registratura#2026", &device()).await.unwrap();
        let secret = totp_rs::Secret::try_from_base32(&account.totp_secret_base32).unwrap();
        let unix = self.clock.0.lock().unwrap().unix_timestamp() as u64;
        let code = kabinet::auth::totp::code_at(secret.as_ref(), unix);
        self.cab.auth().verify_second_factor(&step.id, &code).await.unwrap().access_token
    }

    /// Attaches a signed-in patient to the clinic with `code` (SMS-confirmed).
    /// Anna gives her policy; everyone else a policy of their own, derived from their SNILS.
    pub async fn attach(&self, me: &kabinet::Me, clinic_code: &str) {
        let person = me.profile().get().await.unwrap();
        let snils = person.snils.unwrap();
        let oms = person
            .oms_policy
            .unwrap_or_else(|| if snils == "11223344595" { "8451999122899990".to_owned() } else { enp_for(&snils) });
        let pending = me.attachment().attach(clinic_code, "4508123456", &snils, &oms, None, None).await.unwrap();
        me.attachment().confirm(&pending.id, &self.inbox.last_code("attachment_code")).await.unwrap();
    }
}

/// The text of a PDF, read back with `pdftotext` (poppler-utils; `scripts/test-all` installs it).
pub fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("doc.pdf");
    std::fs::write(&path, pdf).unwrap();
    let out = std::process::Command::new("pdftotext")
        .arg("-enc")
        .arg("UTF-8")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) must be installed: scripts/test-all installs it");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// A valid OMS policy number (ENP) of its own for each seed: `77`, the seed's digits, and the
/// Luhn check digit.
pub fn enp_for(seed: &str) -> String {
    let digits: String = seed.chars().filter(char::is_ascii_digit).chain(std::iter::repeat('0')).take(13).collect();
    let body = format!("77{digits}");
    let sum: u32 = body
        .chars()
        .rev()
        .enumerate()
        .map(|(i, c)| {
            let x = c.to_digit(10).unwrap();
            if i % 2 == 0 { (x * 2) / 10 + (x * 2) % 10 } else { x }
        })
        .sum();
    format!("{body}{}", (10 - sum % 10) % 10)
}
