//! The operator CLI end to end on a SQLite file (and on PostgreSQL when
//! `KABINET_TEST_POSTGRES_URL` is set): init, demo, import HL7 examples, export the patient,
//! verify the journal, rotate keys, run jobs, stats; typed failures with documented exit
//! codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn kabinet(db: &str, args: &[&str]) -> (bool, String, String) {
    let (code, out, err) = kabinet_code(db, args);
    (code == 0, out, err)
}

fn kabinet_code(db: &str, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .arg("--db")
        .arg(db)
        .arg("--locale")
        .arg("en")
        .args(args)
        .output()
        .unwrap();
    (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn operator_runs_a_deployment_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let pem_file = dir.path().join("journal.pem");
    let (ok, out, _) = kabinet(&db, &["init", "--public-key-out", pem_file.to_str().unwrap()]);
    assert!(ok && out.contains("ok: sqlite") && !out.contains("BEGIN PUBLIC KEY"), "status only: {out}");
    assert!(std::fs::read_to_string(&pem_file).unwrap().contains("BEGIN PUBLIC KEY"));
    let (ok, out, _) = kabinet(&db, &["--json", "init"]);
    let init: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        ok && init["public_key"].as_str().unwrap().contains("BEGIN PUBLIC KEY") && init["schema"]["current"] == true
    );
    assert!(dir.path().join("k.db.keys").exists(), "a key file beside the database");
    let (ok, out, _) = kabinet(&db, &["demo"]);
    assert!(ok && out.contains("Петров Пётр Петрович") && out.contains("free slots opened"), "{out}");
    let (ok, out, _) = kabinet(&db, &["demo"]);
    assert!(ok && out.contains("already present"), "demo twice changes nothing: {out}");
    let (ok, out, _) = kabinet(&db, &["stats"]);
    assert!(ok && out.contains("clinics: 1\n") && out.contains("practitioners: 3\n"), "{out}");
    assert!(!out.contains("free slots: 0\n"), "{out}");
    // Import an HL7 example (the patient without its Dutch identifiers, plus its observation).
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fhir-r4-examples");
    let mut patient: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{examples}/Patient-f001.json")).unwrap()).unwrap();
    patient["identifier"] = serde_json::json!([]);
    let obs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{examples}/Observation-f001.json")).unwrap()).unwrap();
    let bundle = serde_json::json!({ "resourceType": "Bundle", "type": "collection", "entry": [{ "resource": patient }, { "resource": obs }] });
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let broken = dir.path().join("broken.json");
    std::fs::write(&broken, r#"{"resourceType": "Immunization", "status": "completed"}"#).unwrap();
    let (ok, out, err) = kabinet(&db, &["import-fhir", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("\"Observation\": 1") && out.contains("\"Patient\": 1"), "{out}");
    let patient_id = out.lines().find_map(|l| l.strip_prefix("patients: ")).unwrap().trim().to_owned();
    let (ok, out, _) = kabinet(&db, &["import-fhir", "--ids", file.to_str().unwrap()]);
    assert!(ok && out.contains("created: {}"), "idempotent: {out}");
    let line = out.lines().find(|l| l.contains("\tPatient/f001\t")).unwrap();
    assert!(line.ends_with(&format!("\tunchanged\t{patient_id}")), "{line}");
    // The same file from another sending system: its ids are that system's (issue 11).
    let (ok, out, err) = kabinet(&db, &["import-fhir", "--source", "urn:example:other", file.to_str().unwrap()]);
    assert!(ok && out.contains("\"Observation\": 1") && out.contains(&patient_id), "{out} {err}");
    let (ok, out, _) = kabinet(&db, &["export-fhir", &patient_id]);
    assert!(ok && out.contains("\"resourceType\": \"Bundle\"") && out.contains("Heuvel"), "{out}");
    let exported = dir.path().join("export.json");
    let (ok, _, _) = kabinet(&db, &["export-fhir", &patient_id, "--out", exported.to_str().unwrap()]);
    assert!(ok && std::fs::read_to_string(&exported).unwrap().contains("Heuvel"));
    let (ok, out, _) = kabinet(&db, &["journal", "verify"]);
    assert!(ok && out.contains("ok: journal verified") && out.contains("signed head: size "), "{out}");
    let (ok, pem, _) = kabinet(&db, &["journal", "public-key"]);
    assert!(ok && pem.contains("BEGIN PUBLIC KEY"));
    let (ok, out, _) = kabinet(&db, &["keys", "rotate"]);
    assert!(ok && out.contains("keys re-wrapped"), "{out}");
    // Jobs never pretend to deliver: a hook is required, or a dry run that changes nothing.
    let (code, _, err) = kabinet_code(&db, &["jobs", "run"]);
    assert!(code == 2 && err.contains("--deliver-command"), "{err}");
    let (ok, out, _) = kabinet(&db, &["jobs", "run", "--dry-run"]);
    assert!(ok && out.contains("dry run:") && out.contains("nothing delivered"), "{out}");
    let sent = dir.path().join("sent.jsonl");
    let hook = format!("cat >> {}; echo >> {}", sent.display(), sent.display());
    let (ok, out, err) = kabinet(&db, &["jobs", "run", "--deliver-command", &hook]);
    assert!(ok && out.contains("delivered"), "{out}{err}");
    let (ok, out, _) = kabinet(&db, &["stats"]);
    // One person; the observation once from each of the two systems.
    assert!(ok && out.contains("patients: 1\n") && out.contains("lab results: 2\n"), "{out}");
    // Several files in one run; a file that fails stops the run and is named.
    let (ok, out, err) = kabinet(&db, &["import-fhir", file.to_str().unwrap(), broken.to_str().unwrap()]);
    assert!(!ok && err.contains("broken.json") && err.contains("[fhir.invalid]"), "{out} {err}");

    // Typed errors, no panic, documented exit codes.
    let (code, _, err) = kabinet_code("mysql://nope", &["init"]);
    assert!(code == 1 && err.contains("error [config.url]"), "{err}");
    let (code, _, err) = kabinet_code(&db, &["export-fhir", "no-such-patient"]);
    assert!(code == 1 && err.contains("[not_found]"), "{err}");
    let (code, _, _) = kabinet_code(&db, &["no-such-command"]);
    assert_eq!(code, 2, "bad usage");
    let (code, _, err) = kabinet_code(&db, &["import-fhir", dir.path().join("missing.json").to_str().unwrap()]);
    assert!(code == 4 && err.contains("missing.json"), "{err}");
    std::fs::write(&file, "{\"resourceType\": \"Bundle\", \"entry\": [{}]}").unwrap();
    let (code, _, err) = kabinet_code(&db, &["import-fhir", file.to_str().unwrap()]);
    assert!(code == 1 && err.contains("[fhir.invalid]") && err.contains("entry[0].resource.resourceType"), "{err}");
    // Every command has its --help.
    for cmd in [
        &["init"][..],
        &["demo"],
        &["import-fhir"],
        &["export-fhir"],
        &["journal", "verify"],
        &["keys", "rotate"],
        &["jobs", "run"],
        &["stats"],
        &["health"],
        &["migrate"],
        &["backup"],
        &["restore"],
        &["journal", "public-key"],
    ] {
        let mut args = cmd.to_vec();
        args.push("--help");
        let (ok, out, _) = kabinet(&db, &args);
        assert!(ok && out.contains("Usage: kabinet") && out.contains("Example"), "{cmd:?}: {out}");
    }
}

/// A tampered journal: `journal verify` names the first bad entry and exits with 3.
#[test]
fn journal_verify_names_the_first_bad_entry_and_exits_3() {
    sqlx::any::install_default_drivers();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("k.db");
    let db = format!("sqlite://{}", path.display());
    assert!(kabinet(&db, &["demo"]).0);
    tamper(&format!("sqlite://{}", path.display()), "UPDATE audit_entries SET action = 'delete' WHERE seq = 3");
    let (code, out, err) = kabinet_code(&db, &["journal", "verify"]);
    assert_eq!(code, 3, "{out} {err}");
    assert!(out.contains("FAILED at entry 3"), "{out}");
}

fn tamper(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut conn = sqlx::AnyConnection::connect(url).await.unwrap();
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.unwrap();
    });
}

/// The same commands against PostgreSQL (a fresh database per run), when it is configured.
#[test]
fn operator_commands_work_on_postgresql() {
    let Ok(admin) = std::env::var("KABINET_TEST_POSTGRES_URL") else {
        eprintln!("KABINET_TEST_POSTGRES_URL not set: the PostgreSQL half is run by scripts/test-all");
        return;
    };
    sqlx::any::install_default_drivers();
    let name = format!("kt_cli_{}", std::process::id());
    tamper(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
    tamper(&admin, &format!("CREATE DATABASE {name}"));
    let db = format!("{}/{name}", admin.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();
    let keys = dir.path().join("kek.json");
    let with_key = |args: &[&str]| {
        let mut all = vec!["--key-file", keys.to_str().unwrap()];
        all.extend_from_slice(args);
        kabinet_code(&db, &all)
    };
    let (code, out, err) = with_key(&["init"]);
    assert!(code == 0 && out.contains("ok: postgres"), "{out} {err}");
    let (code, out, _) = with_key(&["demo"]);
    assert!(code == 0 && out.contains("free slots opened"), "{out}");
    let (code, out, _) = with_key(&["stats"]);
    assert!(code == 0 && out.contains("practitioners: 3\n"), "{out}");
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fhir-r4-examples");
    let (code, out, err) = with_key(&["import-fhir", &format!("{examples}/Patient-example.json")]);
    assert!(code == 0 && out.contains("\"Patient\": 1"), "{out} {err}");
    let (code, out, _) = with_key(&["journal", "verify"]);
    assert!(code == 0 && out.contains("ok: journal verified"), "{out}");
    let (code, out, _) = with_key(&["--json", "stats"]);
    assert!(code == 0 && serde_json::from_str::<serde_json::Value>(&out).unwrap()["practitioners"] == 3, "{out}");
    let (code, out, _) = with_key(&["--json", "health"]);
    assert!(code == 0 && serde_json::from_str::<serde_json::Value>(&out).unwrap()["healthy"] == true, "{out}");
    let (code, out, _) = with_key(&["migrate", "--check"]);
    assert!(code == 0 && out.contains("schema is current"), "{out}");
    // Backup with pg_dump, restore into a second database with pg_restore.
    let dump = dir.path().join("k.dump");
    let (code, out, err) = with_key(&["backup", "--out", dump.to_str().unwrap()]);
    assert!(code == 0 && out.contains("backup written"), "{out} {err}");
    let copy_name = format!("{name}_copy");
    tamper(&admin, &format!("DROP DATABASE IF EXISTS {copy_name}"));
    tamper(&admin, &format!("CREATE DATABASE {copy_name}"));
    let copy_db = format!("{}/{copy_name}", admin.rsplit_once('/').unwrap().0);
    let (code, out, err) =
        kabinet_code(&copy_db, &["--key-file", keys.to_str().unwrap(), "restore", "--from", dump.to_str().unwrap()]);
    assert!(code == 0 && out.contains("journal holds the kept head"), "{out} {err}");
    let (code, _, err) =
        kabinet_code(&copy_db, &["--key-file", keys.to_str().unwrap(), "restore", "--from", dump.to_str().unwrap()]);
    assert!(code == 1 && err.contains("[restore.target_exists]"), "a database in use is never wiped unasked: {err}");
    tamper(&admin, &format!("DROP DATABASE IF EXISTS {copy_name}"));
    tamper(&db, "UPDATE audit_entries SET action = 'delete' WHERE seq = 2");
    let (code, out, _) = with_key(&["journal", "verify"]);
    assert!(code == 3 && out.contains("FAILED at entry 2"), "{out}");
    tamper(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
}

#[test]
fn migrate_check_reports_an_outdated_schema_and_migrate_fixes_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("m.db").display());
    let (code, _, err) = kabinet_code(&db, &["migrate", "--check"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("[schema.outdated]") && err.contains("database 0"), "{err}");
    assert!(!dir.path().join("m.db.keys").exists(), "a refused check leaves no key file behind");
    let (ok, out, err) = kabinet(&db, &["migrate"]);
    assert!(ok && out.contains("ok: schema is up to date"), "{out}{err}");
    let (ok, out, err) = kabinet(&db, &["migrate", "--check"]);
    assert!(ok && out.contains("ok: schema is current"), "{out}{err}");
}

#[test]
fn health_passes_on_a_fresh_deployment_and_fails_with_code_5_when_the_journal_is_unsigned() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("h.db");
    let db = format!("sqlite://{}", path.display());
    let (ok, out, err) = kabinet(&db, &["init"]);
    assert!(ok, "{err}");
    let (ok, out2, err) = kabinet(&db, &["health"]);
    assert!(ok && out2.contains("ok: healthy") && out2.contains("keys available: true"), "{out}{out2}{err}");
    // Journaled work, then lose the signed heads: entries no head covers.
    let (ok, _, err) = kabinet(&db, &["demo"]);
    assert!(ok, "{err}");
    delete_signed_heads(&path);
    let (code, out, err) = kabinet_code(&db, &["health"]);
    assert_eq!(code, 5, "{out}{err}");
    assert!(out.contains("problems: journal.unsigned"), "{out}");
}

/// Deletes the journal's signed heads behind Kabinet's back.
fn delete_signed_heads(path: &std::path::Path) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        use sqlx::Connection;
        let mut c = sqlx::SqliteConnection::connect(&format!("sqlite://{}", path.display())).await.unwrap();
        sqlx::query("DELETE FROM audit_heads").execute(&mut c).await.unwrap();
        c.close().await.unwrap();
    });
}

/// Options from the environment, before or after the subcommand; `--json` gives one JSON
/// document on stdout and the error in it too.
#[test]
fn options_come_from_the_environment_and_json_is_one_document() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("e.db").display());
    let run = |args: &[&str], env: &[(&str, &str)]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kabinet")).args(args).envs(env.iter().copied()).output().unwrap();
        (out.status.code().unwrap(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
    };
    let (code, out, err) = run(&["stats", "--json"], &[("KABINET_DB", &db), ("KABINET_LOCALE", "en")]);
    assert_eq!(code, 0, "{err}");
    let stats: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(stats["patients"], 0);
    let (code, out, _) = run(&["health", "--db", &db], &[("KABINET_JSON", "true")]);
    let health: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(code == 0 && health["healthy"] == true && health["problems"] == serde_json::json!([]), "{out}");
    let (code, out, _) = run(&["migrate", "--check", "--json", "--db", &db], &[]);
    let migrate: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(code == 0 && migrate["schema"]["current"] == true, "{out}");
    let (code, out, err) = run(&["export-fhir", "nobody", "--json", "--locale", "en", "--db", &db], &[]);
    let failed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(code == 1 && failed["error"]["code"] == "not_found" && err.contains("[not_found]"), "{out}{err}");
    let (code, _, err) = run(&["stats"], &[]);
    assert!(code == 2 && err.contains("KABINET_DB"), "no database: {err}");
    let (code, out, _) = run(&["--json", "no-such-command"], &[]);
    let usage: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(code == 2 && usage["error"]["code"] == "usage", "{out}");
    let (_, _, err) = run(&["-v", "stats", "--db", &db], &[]);
    assert!(!err.contains('\u{1b}'), "no colour codes when stderr is not a terminal: {err:?}");
}

/// Issue 13, item 7 on SQLite: a backup of a live database, the head beside it, a restore
/// into a new file that verifies its journal against that head; an existing target is kept.
#[test]
fn backup_and_restore_on_sqlite() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live.db");
    let db = format!("sqlite://{}", live.display());
    assert!(kabinet(&db, &["demo"]).0);
    let copy = dir.path().join("copy.db");
    let (ok, out, err) = kabinet(&db, &["--json", "backup", "--out", copy.to_str().unwrap()]);
    assert!(ok, "{err}");
    let made: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(made["bytes"].as_u64().unwrap() > 0 && made["head"]["size"].as_u64().unwrap() > 0, "{out}");
    let head = dir.path().join("copy.db.head.json");
    assert!(head.exists());
    let (code, _, err) = kabinet_code(&db, &["backup", "--out", copy.to_str().unwrap()]);
    assert!(code == 1 && err.contains("[backup.exists]"), "{err}");
    // Restore beside it, with the live key file (the keys are backed up separately).
    let restored = format!("sqlite://{}", dir.path().join("restored.db").display());
    let keys = format!("{}.keys", live.display());
    let (ok, out, err) = kabinet(&restored, &["--key-file", &keys, "restore", "--from", copy.to_str().unwrap()]);
    assert!(ok && out.contains("journal verified") && out.contains("journal holds the kept head"), "{out}{err}");
    let (ok, out, _) = kabinet(&restored, &["--key-file", &keys, "stats"]);
    assert!(ok && out.contains("practitioners: 3\n"), "{out}");
    let (ok, out, _) =
        kabinet(&restored, &["--key-file", &keys, "journal", "verify", "--against", head.to_str().unwrap()]);
    assert!(ok && out.contains("holds the kept head"), "{out}");
    let (code, _, err) = kabinet_code(&restored, &["--key-file", &keys, "restore", "--from", copy.to_str().unwrap()]);
    assert!(code == 1 && err.contains("[restore.target_exists]"), "never overwrites by default: {err}");
}

/// `-v` shows what Kabinet does on stderr (stdout stays the command's output); `-q` only errors.
#[test]
fn verbose_logs_go_to_stderr_without_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("v.db").display());
    let (ok, out, err) = kabinet(&db, &["-v", "demo"]);
    assert!(ok && out.contains("free slots opened"), "{out}");
    assert!(err.contains("cabinet opened") && err.contains("journal entry"), "{err}");
    assert!(!out.contains("journal entry"), "logs never mix into stdout");
    let (ok, _, err) = kabinet(&db, &["-q", "stats"]);
    assert!(ok && err.is_empty(), "{err}");
}

/// Queues one SMS (a registration code) in the database at `path` with the key beside it.
fn queue_a_message(path: &std::path::Path, phone: &str) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let keys = kabinet::crypto::LocalFileKeyProvider::open(format!("{}.keys", path.display())).unwrap();
        let config = kabinet::Config { key_provider: Some(std::sync::Arc::new(keys)), ..kabinet::Config::default() };
        let cab = kabinet::Cabinet::open(&format!("sqlite://{}", path.display()), config).await.unwrap();
        let registration = kabinet::Registration {
            phone: phone.into(),
            email: format!("{}@example.ru", phone.trim_start_matches('+')),
            password: "Vek-Tor!58zeb".into(),
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: "112-233-445 95".into(),
            accepted_terms_version: "2026-01".into(),
            inn: None,
        };
        cab.accounts().register(registration).await.unwrap();
        cab.close().await;
    });
}

/// Issue 13, item 4: the delivery hook gets each due message as JSON on stdin, in a clean
/// environment; a failing hook is a counted failure; a dry run changes nothing.
#[test]
fn jobs_run_delivers_through_the_hook_and_a_dry_run_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("j.db");
    let db = format!("sqlite://{}", path.display());
    assert!(kabinet(&db, &["init"]).0);
    queue_a_message(&path, "+79161234567");
    let (ok, out, _) = kabinet(&db, &["--json", "jobs", "run", "--dry-run"]);
    let dry: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(ok && dry["outbox_pending"] == 1, "{out}");
    let (_, out, _) = kabinet(&db, &["--json", "stats"]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["outbox_pending"],
        1,
        "dry run changed nothing"
    );
    let sent = dir.path().join("sent.json");
    let env = dir.path().join("env.txt");
    let hook = format!("cat > {}; env > {}", sent.display(), env.display());
    let out = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .args(["--json", "jobs", "run", "--deliver-command", &hook])
        .env("KABINET_DB", &db)
        .env("MY_SECRET_PASSPHRASE", "never-for-the-hook")
        .output()
        .unwrap();
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(out.status.success() && report["delivered"] == 1 && report["delivery_failures"] == 0, "{report}");
    let message: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&sent).unwrap()).unwrap();
    assert_eq!((message["kind"].as_str(), message["channel"].as_str()), (Some("phone_confirmation"), Some("sms")));
    assert_eq!(message["recipient"], "+79161234567");
    assert_eq!(message["code"].as_str().map(str::len), Some(6));
    let environment = std::fs::read_to_string(&env).unwrap();
    assert!(!environment.contains("never-for-the-hook") && !environment.contains("KABINET_DB"), "{environment}");
    // A hook that fails: counted, retried later, nothing marked delivered.
    queue_a_message(&path, "+79161234568");
    let (ok, out, _) = kabinet(&db, &["--json", "jobs", "run", "--deliver-command", "cat > /dev/null; exit 3"]);
    let failed: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(
        ok && failed["delivered"] == 0 && failed["delivery_failures"] == 1 && failed["retries_scheduled"] == 1,
        "{out}"
    );
}

/// A health check never creates or migrates a database: a mistyped path is unhealthy (exit 5).
#[test]
fn health_of_a_missing_database_is_unhealthy_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("typo.db");
    let db = format!("sqlite://{}", path.display());
    let (code, out, _) = kabinet_code(&db, &["--json", "health"]);
    let health: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(code == 5 && health["problems"] == serde_json::json!(["database.unreachable"]), "{out}");
    assert!(!path.exists() && !dir.path().join("typo.db.keys").exists(), "nothing created");
}
