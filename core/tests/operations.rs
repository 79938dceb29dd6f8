//! Operating a deployment (issue 13) on both engines: controlled migrations (`Config.migrate`),
//! refusing a schema newer than the SDK, and many processes' worth of opens at once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::{Cabinet, Config, ConfigError, Error, ErrorCode, Locale, MigrationMode};
use support::TestDb;

on_both!(
    check_mode_refuses_a_fresh_database_and_changes_nothing,
    check_mode_opens_a_current_database,
    a_newer_schema_is_refused_in_every_mode,
    concurrent_opens_migrate_once,
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
