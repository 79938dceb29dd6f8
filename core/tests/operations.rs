//! Operating a deployment (issue 13) on both engines: controlled migrations (`Config.migrate`),
//! refusing a schema newer than the SDK, and many processes' worth of opens at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Cabinet, Config, ConfigError, Error, ErrorCode, Locale, MigrationMode};
use support::TestDb;

/// A gateway that is down.
struct Down;

impl Notifier for Down {
    fn deliver(&self, _: &Message) -> Result<(), DeliveryError> {
        Err(DeliveryError("gateway unavailable".into()))
    }
}

on_both!(
    check_mode_refuses_a_fresh_database_and_changes_nothing,
    check_mode_opens_a_current_database,
    a_newer_schema_is_refused_in_every_mode,
    concurrent_opens_migrate_once,
    a_raising_notifier_is_visible_in_the_jobs_report,
    recovery_by_a_missing_channel_sends_nothing_and_answers_the_same,
    health_reports_each_failed_check,
    backup_of_a_live_database_restores_and_verifies,
);

fn check(db: &TestDb) -> Config {
    Config { migrate: MigrationMode::Check, ..db.config() }
}

async fn table_count(db: &TestDb) -> i64 {
    let pool = db.raw().await;
    let sql = match db.backend {
        kabinet::Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'",
        kabinet::Backend::Postgres => "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()",
    };
    let n: i64 = sqlx::query_scalar(sql).fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

async fn check_mode_refuses_a_fresh_database_and_changes_nothing(db: TestDb) {
    let err = Cabinet::open(&db.url, check(&db)).await.unwrap_err();
    let Error::Config(ConfigError::SchemaOutdated { database, sdk }) = err else { panic!("{err:?}") };
    assert_eq!(database, 0);
    assert!(sdk > 0);
    assert_eq!(Error::from(ConfigError::SchemaOutdated { database, sdk }).code(), "schema.outdated");
    assert_eq!(table_count(&db).await, 0, "check mode must not create the schema");
    // Auto (the default) migrates; check mode then opens.
    db.open().await.close().await;
    let cab = Cabinet::open(&db.url, check(&db)).await.unwrap();
    let schema = cab.schema().await.unwrap();
    assert!(schema.current && schema.database == sdk && schema.pending == 0, "{schema:?}");
}

async fn check_mode_opens_a_current_database(db: TestDb) {
    let id = {
        let cab = db.open().await;
        let id = cab.system().patients().create(support::anna()).await.unwrap();
        cab.close().await;
        id
    };
    let cab = Cabinet::open(&db.url, check(&db)).await.unwrap();
    assert_eq!(cab.system().patients().get(&id).await.unwrap().given_name, "Анна");
}

async fn a_newer_schema_is_refused_in_every_mode(db: TestDb) {
    let sdk = {
        let cab = db.open().await;
        let sdk = cab.schema().await.unwrap().sdk;
        cab.close().await;
        sdk
    };
    // Another deployment's newer SDK applied a migration this one does not know.
    let pool = db.raw().await;
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES ($1, 'from a newer SDK', TRUE, $2, 1)",
    )
    .bind(sdk + 1)
    .bind(vec![0u8; 48])
    .execute(&pool)
    .await
    .unwrap();
    pool.close().await;
    for mode in [MigrationMode::Auto, MigrationMode::Check] {
        let err = Cabinet::open(&db.url, Config { migrate: mode, ..db.config() }).await.unwrap_err();
        assert!(
            matches!(err, Error::Config(ConfigError::SchemaNewer { database, sdk: s }) if database == sdk + 1 && s == sdk),
            "{mode:?}: {err:?}"
        );
        assert_eq!(err.code(), "schema.newer");
        let text = err.message(Locale::En);
        assert!(text.contains(&format!("database {}", sdk + 1)) && text.contains(&format!("SDK {sdk}")), "{text}");
    }
}

async fn concurrent_opens_migrate_once(db: TestDb) {
    let url = db.url.clone();
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (url, config) = (url.clone(), db.config());
        tasks.push(tokio::spawn(async move { Cabinet::open(&url, config).await.map(|c| c.backend()) }));
    }
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let cab = Cabinet::open(&db.url, check(&db)).await.unwrap();
    assert!(cab.schema().await.unwrap().current);
}

/// Issue 13, item 4: a message whose first delivery failed inside the call that queued it
/// (a registration code while the gateway is down) shows in the next jobs report, although
/// that pass does not retry it yet (back-off).
async fn a_raising_notifier_is_visible_in_the_jobs_report(db: TestDb) {
    let cab = db.open_with(Config { notifier: Some(Arc::new(Down)), ..db.config() }).await;
    cab.accounts().register(support::registration()).await.unwrap();
    let report = cab.run_due_jobs().await.unwrap();
    assert_eq!(report.delivery_failures, 0, "backing off: not due again in this pass");
    assert_eq!(report.retries_scheduled, 1, "{report:?}");
    assert_eq!(report.first_attempt_failures, 1, "{report:?}");
    assert_eq!(report.delivered, 0);
}

/// A recovery asked by e-mail for an account with no e-mail sends nothing and answers like
/// any other request (no enumeration), instead of handing the gateway an empty address.
async fn recovery_by_a_missing_channel_sends_nothing_and_answers_the_same(db: TestDb) {
    let h = db.harness().await;
    let legacy = kabinet::LegacyAccount {
        phone: "+7 916 123-45-67".into(),
        email: None,
        surname: "Иванова".into(),
        given_name: "Анна".into(),
        patronymic: None,
        birth_date: time::macros::date!(1990 - 03 - 14),
        sex: kabinet::Sex::Female,
        snils: "112-233-445 95".into(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$7N8vQq4d0bKQ0Zf7aG1Q8m4Qh2xk8s9n1rG3w5y7z0A"
            .into(),
        inn: None,
    };
    h.cab.system().accounts().import_account(legacy).await.unwrap();
    let before = h.inbox.count("recovery_code");
    let known = h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Email).await.unwrap();
    let unknown = h.cab.accounts().start_recovery("+79160000000", kabinet::integrations::Channel::Email).await.unwrap();
    assert_eq!(known.len(), unknown.len(), "the same shape of answer");
    assert_eq!(h.inbox.count("recovery_code"), before, "nothing sent to nobody");
    let pool = db.raw().await;
    let queued: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox WHERE kind = 'recovery_code'").fetch_one(&pool).await.unwrap();
    assert_eq!(queued, 0);
    // By SMS the same account gets its code.
    h.cab.accounts().start_recovery("+79161234567", kabinet::integrations::Channel::Sms).await.unwrap();
    assert_eq!(h.inbox.count("recovery_code"), before + 1);
}

/// Issue 13, item 5: a fresh deployment is healthy; an outbox nobody empties for over an
/// hour and a journal with entries no signed head covers are named problems; stats count.
async fn health_reports_each_failed_check(db: TestDb) {
    let clock = support::TestClock::new();
    let config = Config { clock: Arc::new(clock.clone()), notifier: None, ..db.config() };
    let cab = db.open_with(config).await;
    let health = cab.health().await.unwrap();
    assert!(health.healthy && health.problems.is_empty(), "{health:?}");
    assert!(health.database_reachable && health.keys_available);
    assert_eq!(health.schema_database, health.schema_sdk);
    assert_eq!(health.journal_signed_size, health.journal_entries);
    cab.accounts().register(support::registration()).await.unwrap();
    let health = cab.health().await.unwrap();
    assert!(health.healthy, "a fresh message is not a problem: {health:?}");
    assert_eq!(health.outbox_pending, 1);
    assert_eq!(health.outbox_oldest_pending_at, Some(time::macros::datetime!(2026-11-28 09:00 UTC)));
    assert_eq!(cab.stats().await.unwrap().outbox_pending, 1);
    assert_eq!(cab.stats().await.unwrap().patients, 1);
    clock.advance(time::Duration::minutes(61));
    let health = cab.health().await.unwrap();
    assert!(!health.healthy);
    assert_eq!(health.problems, vec!["outbox.stale".to_owned()]);
    // Entries no signed head covers (heads lost or never written): journal.unsigned.
    let pool = db.raw().await;
    sqlx::query("DELETE FROM audit_heads").execute(&pool).await.unwrap();
    pool.close().await;
    let health = cab.health().await.unwrap();
    assert_eq!(health.problems, vec!["journal.unsigned".to_owned(), "outbox.stale".to_owned()], "{health:?}");
    assert_eq!(health.journal_signed_size, 0);
    assert!(health.journal_entries > 0);
    // Health never reads personal data: nothing in it names the patient.
    let text = format!("{health:?}");
    assert!(!text.contains("Иванова") && !text.contains("+7916"), "{text}");
}

fn person(n: u32) -> kabinet::NewPatient {
    kabinet::NewPatient { snils: Some(support::snils_for(n)), oms_policy: None, inn: None, ..support::anna() }
}

/// Issue 13, item 7: a SQLite database copied while another task keeps writing restores to a
/// working cabinet whose journal verifies, also against the head kept with the backup; a
/// journal that lost entries after that head fails the check. PostgreSQL is backed up with
/// `pg_dump` (the typed refusal says so).
async fn backup_of_a_live_database_restores_and_verifies(db: TestDb) {
    let cab = db.open().await;
    cab.system().patients().create(person(1)).await.unwrap();
    let out = db.dir.path().join("copy.db");
    if db.backend == kabinet::Backend::Postgres {
        let err = cab.backup(&out).await.unwrap_err();
        assert_eq!(err.code(), "backup.use_pg_dump");
        return;
    }
    let writer = {
        let cab = cab.clone();
        tokio::spawn(async move {
            for n in 2..40 {
                cab.system().patients().create(person(n)).await.unwrap();
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    let backup = cab.backup(&out).await.unwrap();
    writer.await.unwrap();
    let head = backup.head.clone().expect("a journal head");
    assert!(backup.bytes > 0);
    assert_eq!(cab.backup(&out).await.unwrap_err().code(), "backup.exists", "never overwrites");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o077, 0, "owner only");
    }
    // Restore: the copy under a new name, opened with the same key.
    let restored_path = db.dir.path().join("restored.db");
    std::fs::copy(&out, &restored_path).unwrap();
    let restored = Cabinet::open(&format!("sqlite://{}", restored_path.display()), db.config()).await.unwrap();
    let report = restored.system().audit().verify().await.unwrap();
    assert!(report.ok, "{report:?}");
    assert!(report.entries >= head.size);
    restored.system().audit().verify_against(&head).await.unwrap();
    let patients = restored.stats().await.unwrap().patients;
    assert!((1..=39).contains(&patients), "{patients}");
    // The live database went on; its head is not in the older copy.
    let later = cab.system().audit().latest_head().await.unwrap().unwrap();
    assert!(later.size > head.size);
    let err = restored.system().audit().verify_against(&later).await.unwrap_err();
    assert_eq!(err.code(), "audit.out_of_range", "the copy is behind that head");
    // A head from another deployment does not verify.
    let mut forged = head.clone();
    forged.root[0] ^= 1;
    assert!(restored.system().audit().verify_against(&forged).await.is_err());
}
