//! `kabinet`: the operator's tool for a deployment — create the database and keys, check
//! and migrate the schema, seed a demo clinic, import FHIR bundles, export a patient's
//! record, verify the signed journal, rotate the key-encryption key, run the due jobs with a
//! delivery hook, report health and counts, back up and restore.
//!
//! Every option has an environment variable (`KABINET_DB`, `KABINET_KEY_FILE`,
//! `KABINET_PASSPHRASE_ENV`, `KABINET_LOCALE`, `KABINET_DELIVER_COMMAND`, `KABINET_JSON`)
//! and may stand before or after the subcommand. `--json` prints one JSON document on
//! stdout; messages and progress go to stderr. Nothing secret is ever printed.
//!
//! Exit codes: 0 success; 1 an error from Kabinet (its stable code and message on stderr);
//! 2 bad usage (unknown command or option, a missing database); 3 the journal failed
//! verification; 4 an input or output file could not be read or written; 5 `health` found
//! a failed check.

mod backup;
mod deliver;
mod demo;
mod report;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kabinet::{Cabinet, Config, ErrorCode, ImportReport, KeyProvider};
use report::{Report, head_json, rfc3339, rfc3339_us};
use tracing_subscriber::Layer;

const EXAMPLES: &str = "Examples:
  kabinet --db sqlite:///srv/kabinet/k.db init --public-key-out journal.pem
  KABINET_DB=sqlite:///srv/kabinet/k.db kabinet health --json
  kabinet stats --db postgres://kabinet@db/kabinet --passphrase-env KABINET_PASSPHRASE

Exit codes: 0 success, 1 Kabinet error, 2 bad usage, 3 journal verification failed,
4 file not readable/writable, 5 unhealthy.";

#[derive(Parser)]
#[command(name = "kabinet", version, about = "Operate a Kabinet deployment", after_help = EXAMPLES)]
struct Cli {
    /// Database URL (`sqlite:///path.db`, `postgres://…`); also `KABINET_DATABASE_URL`.
    #[arg(long, env = "KABINET_DB", global = true)]
    db: Option<String>,
    /// Key file of the key-encryption key (created 0600 on first use); default for SQLite:
    /// `<db>.keys` beside the database.
    #[arg(long, env = "KABINET_KEY_FILE", global = true)]
    key_file: Option<PathBuf>,
    /// Name of an environment variable holding the key passphrase.
    #[arg(long, env = "KABINET_PASSPHRASE_ENV", global = true)]
    passphrase_env: Option<String>,
    /// Language of messages: `ru` or `en`.
    #[arg(long, env = "KABINET_LOCALE", default_value = "ru", global = true)]
    locale: String,
    /// One JSON document on stdout instead of text (messages on stderr).
    #[arg(long, env = "KABINET_JSON", global = true)]
    json: bool,
    /// Delivery hook: a shell command that receives each message as JSON on stdin (exit 0 =
    /// delivered). Without it messages stay in the outbox.
    #[arg(long, env = "KABINET_DELIVER_COMMAND", global = true)]
    deliver_command: Option<String>,
    /// More log events on stderr: `-v` what Kabinet does (journal, outbox, jobs), `-vv`
    /// debug. Events carry kinds, ids, counts and timings, never personal data.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on stderr (no warnings).
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the database and keys, or brings the schema up to date (safe to repeat).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db init\n  kabinet --db sqlite:///srv/k.db init --public-key-out journal.pem\n  kabinet --db sqlite:///srv/k.db --json init   # the public key in the JSON"
    )]
    Init {
        /// Also write the journal's public key (PEM) to this file.
        #[arg(long)]
        public_key_out: Option<PathBuf>,
    },
    /// Seeds a demo region, clinic, doctors and a week of free slots.
    #[command(after_help = "Example:\n  kabinet --db sqlite:///tmp/demo.db demo")]
    Demo,
    /// Imports FHIR R4 bundles or resources from JSON files, each file in one transaction.
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db import-fhir bundle1.json bundle2.json\n  kabinet --db sqlite:///srv/k.db import-fhir --source urn:oid:1.2.643.5.1.13 --ids export.json"
    )]
    ImportFhir {
        /// The JSON files, imported in order; the first that fails stops the run.
        #[arg(required = true)]
        files: Vec<PathBuf>,
        /// Also print one line per entry: file, JSON path, source, outcome, Kabinet id.
        #[arg(long)]
        ids: bool,
        /// The sending system the files' resource ids belong to (e.g. its OID URI); default:
        /// each bundle's `meta.source`. Two systems' `Patient/1` are never confused.
        #[arg(long)]
        source: Option<String>,
    },
    /// Prints (or writes) a patient's record as a FHIR R4 bundle.
    #[command(after_help = "Example:\n  kabinet --db sqlite:///srv/k.db export-fhir 6f1c… --out patient.json")]
    ExportFhir {
        /// The patient id.
        patient_id: String,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// The signed journal.
    Journal {
        #[command(subcommand)]
        command: JournalCommand,
    },
    /// Key management.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Due jobs: deliveries, reminders, incident checks, retention.
    Jobs {
        #[command(subcommand)]
        command: JobsCommand,
    },
    /// Counts of what the deployment holds (no personal data).
    #[command(after_help = "Example:\n  kabinet --db sqlite:///srv/k.db --json stats")]
    Stats,
    /// Checks the deployment: database, schema, keys, journal head, outbox backlog; exit
    /// code 5 when any check fails (each failed check named by its code).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db health\n  kabinet --db sqlite:///srv/k.db health --json || page-the-operator"
    )]
    Health,
    /// Brings the schema up to date, or with `--check` only reports whether it is (exit code
    /// 1 with `schema.outdated` when migrations are pending; `schema.newer` when the
    /// database is ahead of this tool).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db migrate --check\n  kabinet --db postgres://kabinet@db/kabinet --passphrase-env KABINET_PASSPHRASE migrate"
    )]
    Migrate {
        /// Change nothing: fail if the schema is not current.
        #[arg(long)]
        check: bool,
    },
    /// Writes a consistent copy of the database while it is in use (SQLite: `VACUUM INTO`;
    /// PostgreSQL: `pg_dump`), and the journal head signed before it to `<out>.head.json`.
    /// The keys are not in the copy: back up the key file or provider separately.
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db backup --out /backup/k-2026-12-01.db\n  kabinet --db postgres://kabinet@db/kabinet --passphrase-env P backup --out /backup/k.dump"
    )]
    Backup {
        /// The file to write (must not exist).
        #[arg(long)]
        out: PathBuf,
    },
    /// Restores a backup into `--db` (SQLite: only a database that does not exist, unless
    /// `--force`; PostgreSQL: `pg_restore --clean`), then verifies the journal — against the
    /// kept head too (`--head`, default `<from>.head.json` when present).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k-restored.db restore --from /backup/k-2026-12-01.db\n  kabinet --db sqlite:///srv/k.db restore --from k.db --head /offsite/k.head.json --force"
    )]
    Restore {
        /// The backup file.
        #[arg(long)]
        from: PathBuf,
        /// The journal head kept apart from the backup.
        #[arg(long)]
        head: Option<PathBuf>,
        /// Replace an existing SQLite database file.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Verifies every entry and signed head; prints the latest head, or the first bad entry
    /// (exit code 3). With `--against`, also checks the journal still holds a head kept
    /// elsewhere.
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db journal verify\n  kabinet --db sqlite:///srv/k.db journal verify --against /offsite/k.head.json"
    )]
    Verify {
        /// A head written by `backup` (or saved from `--json` output), kept elsewhere.
        #[arg(long)]
        against: Option<PathBuf>,
    },
    /// Prints the journal's public key (PEM), to check proofs and shared packages elsewhere.
    #[command(after_help = "Example:\n  kabinet --db sqlite:///srv/k.db journal public-key > journal.pem")]
    PublicKey,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Rotates the key-encryption key: data keys are re-wrapped, data is not re-encrypted.
    #[command(after_help = "Example:\n  kabinet --db sqlite:///srv/k.db keys rotate")]
    Rotate,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// One pass of the due jobs. Messages go to the delivery hook (`--deliver-command`);
    /// without one this refuses to run, unless `--dry-run`, which only reports what is
    /// waiting and changes nothing.
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/k.db jobs run --deliver-command /usr/local/bin/send-message\n  kabinet --db sqlite:///srv/k.db jobs run --dry-run"
    )]
    Run {
        /// Deliver nothing, mark nothing, run no job: report the backlog.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Why the tool failed, mapped to its exit code.
pub enum Failure {
    /// An error from Kabinet (exit 1).
    Kabinet(kabinet::Error),
    /// The journal failed verification (exit 3).
    Tampered,
    /// `health` found a failed check (exit 5).
    Unhealthy,
    /// Bad usage (exit 2).
    Usage(String),
    /// An external program (`pg_dump`, `pg_restore`) or input failed: its code and text (exit 1).
    External(&'static str, String),
    /// A file could not be read or written (exit 4).
    File(PathBuf, std::io::Error),
}

impl From<kabinet::Error> for Failure {
    fn from(e: kabinet::Error) -> Self {
        Failure::Kabinet(e)
    }
}

fn config(cli: &Cli) -> Result<Config, kabinet::Error> {
    let locale = kabinet::Locale::parse(&cli.locale).ok_or(kabinet::ConfigError::Locale)?;
    // Commands that only look never migrate (nor create) anything.
    let migrate = match cli.command {
        Command::Migrate { check: true }
        | Command::Health
        | Command::Jobs { command: JobsCommand::Run { dry_run: true } } => kabinet::MigrationMode::Check,
        _ => kabinet::MigrationMode::Auto,
    };
    let key_provider: Option<Arc<dyn KeyProvider>> = match (&cli.key_file, &cli.passphrase_env) {
        (Some(path), _) => Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(path.clone())?)),
        (None, Some(var)) => {
            let phrase = std::env::var(var).map_err(|_| kabinet::ConfigError::KeyProviderRequired)?;
            Some(Arc::new(kabinet::crypto::PassphraseKeyProvider::new(&phrase)?))
        }
        (None, None) => None,
    };
    let notifier = cli.deliver_command.as_ref().map(|command| {
        Arc::new(deliver::CommandNotifier { command: command.clone() }) as Arc<dyn kabinet::integrations::Notifier>
    });
    Ok(Config { key_provider, locale, migrate, notifier, ..Config::default() })
}

fn add(total: &mut ImportReport, r: ImportReport) {
    for (into, from) in [(&mut total.created, r.created), (&mut total.unchanged, r.unchanged)] {
        for (k, v) in from {
            *into.entry(k).or_default() += v;
        }
    }
    for (k, v) in r.unsupported {
        *total.unsupported.entry(k).or_default() += v;
    }
    for id in r.patient_ids {
        if !total.patient_ids.contains(&id) {
            total.patient_ids.push(id);
        }
    }
}

#[allow(clippy::print_stderr)]
async fn import_files(
    cab: &Cabinet,
    files: &[PathBuf],
    ids: bool,
    source: Option<&str>,
    json: bool,
    report: &mut Report,
) -> Result<(), Failure> {
    let bar = if json { ProgressBar::hidden() } else { ProgressBar::new(files.len() as u64) };
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    let mut total = ImportReport::default();
    let mut entries = Vec::new();
    for file in files {
        bar.set_message(file.display().to_string());
        let text = std::fs::read_to_string(file).map_err(|e| Failure::File(file.clone(), e))?;
        let imported = match source {
            Some(s) => cab.system().fhir().import_bundle_from(&text, s).await,
            None => cab.system().fhir().import_bundle(&text).await,
        };
        match imported {
            Ok(r) => {
                if ids {
                    for e in &r.entries {
                        let (src, id) = (e.source.as_deref().unwrap_or("-"), e.local_id.as_deref().unwrap_or("-"));
                        report.line(format!("{}\t{}\t{src}\t{}\t{id}", file.display(), e.path, e.outcome));
                        entries.push(serde_json::json!({
                            "file": file.display().to_string(), "path": e.path, "source": e.source,
                            "outcome": e.outcome, "id": e.local_id,
                        }));
                    }
                }
                add(&mut total, r)
            }
            Err(e) => {
                bar.abandon();
                eprintln!("in {}:", file.display());
                return Err(e.into());
            }
        }
        bar.inc(1);
    }
    bar.finish_and_clear();
    report.line(format!("files: {}", files.len()));
    report.line(format!("created: {:?}", total.created));
    report.line(format!("unchanged: {:?}", total.unchanged));
    report.line(format!("unsupported: {:?}", total.unsupported));
    report.line(format!("patients: {}", total.patient_ids.join(" ")));
    report.set("files", files.len());
    report.set("created", serde_json::json!(total.created));
    report.set("unchanged", serde_json::json!(total.unchanged));
    report.set("unsupported", serde_json::json!(total.unsupported));
    report.set("patients", serde_json::json!(total.patient_ids));
    if ids {
        report.set("entries", entries);
    }
    Ok(())
}

fn schema_json(s: &kabinet::SchemaStatus) -> serde_json::Value {
    serde_json::json!({ "database": s.database, "sdk": s.sdk, "pending": s.pending, "current": s.current })
}

async fn run(cli: &Cli, report: &mut Report) -> Result<(), Failure> {
    let db = cli
        .db
        .clone()
        .or_else(|| std::env::var("KABINET_DATABASE_URL").ok())
        .ok_or_else(|| Failure::Usage("the database is required: --db URL or KABINET_DB".to_owned()))?;
    if let Command::Jobs { command: JobsCommand::Run { dry_run: false } } = cli.command
        && cli.deliver_command.is_none()
    {
        return Err(Failure::Usage(
            "jobs run needs a delivery hook (--deliver-command or KABINET_DELIVER_COMMAND), or --dry-run".to_owned(),
        ));
    }
    if let Command::Restore { from, head, force } = &cli.command {
        return restore(cli, &db, from, head.as_deref(), *force, report).await;
    }
    let looks_only =
        matches!(cli.command, Command::Health | Command::Jobs { command: JobsCommand::Run { dry_run: true } });
    if looks_only && backup::sqlite_file(&db).is_some_and(|f| !f.exists()) {
        return Err(unhealthy(report, "database.unreachable"));
    }
    let cab = match Cabinet::open(&db, config(cli)?).await {
        Ok(cab) => cab,
        Err(e) if matches!(cli.command, Command::Health) => {
            let problem = match e.code() {
                code @ ("schema.outdated" | "schema.newer") => code,
                code if code.starts_with("crypto.") => "keys.unavailable",
                _ => "database.unreachable",
            };
            return Err(unhealthy(report, problem));
        }
        Err(e) => return Err(e.into()),
    };
    let outcome = command(cli, &cab, &db, report).await;
    cab.close().await;
    outcome
}

/// The report of a deployment that could not even be opened for its health check.
fn unhealthy(report: &mut Report, problem: &'static str) -> Failure {
    report.line(format!("problems: {problem}"));
    report.set("healthy", false);
    report.set("problems", vec![problem]);
    Failure::Unhealthy
}

/// Restores a backup: SQLite is copied beside the target, opened and verified there (the
/// journal, and against the kept head), and only then put in place; PostgreSQL is restored
/// with `pg_restore` (into an empty database unless `--force`) and verified.
async fn restore(
    cli: &Cli,
    db: &str,
    from: &std::path::Path,
    head: Option<&std::path::Path>,
    force: bool,
    report: &mut Report,
) -> Result<(), Failure> {
    let head_file = head.map(PathBuf::from).or_else(|| Some(backup::head_path(from)).filter(|p| p.exists()));
    let kept = head_file.as_deref().map(backup::read_head).transpose()?;
    let mut config = config(cli)?;
    report.set("restored_from", from.display().to_string());
    match backup::sqlite_file(db) {
        Some(target) => {
            if config.key_provider.is_none() {
                // The copy holds no keys: restore the key file first (docs/operations.md).
                let keys = PathBuf::from(format!("{}.keys", target.display()));
                if !keys.exists() {
                    return Err(Failure::Usage(format!(
                        "restore needs the deployment's key: --key-file, or {} in place",
                        keys.display()
                    )));
                }
                let provider = kabinet::crypto::LocalFileKeyProvider::open(keys).map_err(kabinet::Error::from)?;
                config.key_provider = Some(Arc::new(provider));
            }
            let staging = backup::stage_sqlite(&target, from, force)?;
            let staged = format!("sqlite://{}", staging.display());
            let verified = match Cabinet::open(&staged, config).await {
                Ok(cab) => {
                    let v = backup::verify_restored(&cab, kept.as_ref(), report).await;
                    cab.close().await;
                    v
                }
                Err(e) => Err(e.into()),
            };
            if let Err(e) = verified {
                let _ = std::fs::remove_file(&staging);
                for suffix in ["-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{}{suffix}", staging.display()));
                }
                return Err(e);
            }
            backup::promote(&staging, &target)?;
            report.line(format!("ok: restored from {} (verified before it replaced anything)", from.display()));
        }
        None => {
            let probe = Cabinet::open(db, Config { migrate: kabinet::MigrationMode::Check, ..config.clone() }).await;
            let nonempty = match probe {
                Ok(cab) => {
                    cab.close().await;
                    true
                }
                Err(kabinet::Error::Config(kabinet::ConfigError::SchemaOutdated { database: 0, .. })) => false,
                Err(_) => true,
            };
            backup::restore_postgres(db, from, nonempty, force)?;
            let cab = Cabinet::open(db, config).await?;
            let verified = backup::verify_restored(&cab, kept.as_ref(), report).await;
            cab.close().await;
            verified?;
            report.line(format!("ok: restored from {}", from.display()));
        }
    }
    Ok(())
}

async fn command(cli: &Cli, cab: &Cabinet, db: &str, report: &mut Report) -> Result<(), Failure> {
    let sys = cab.system();
    match &cli.command {
        Command::Init { public_key_out } => {
            let schema = cab.schema().await?;
            let pem = sys.audit().public_key();
            report.line(format!("ok: {} database is up to date", cab.backend().name()));
            if let Some(path) = public_key_out {
                std::fs::write(path, &pem).map_err(|e| Failure::File(path.clone(), e))?;
                report.line(format!("journal public key written to {}", path.display()));
            }
            report.set("backend", cab.backend().name());
            report.set("schema", schema_json(&schema));
            report.set("public_key", pem);
        }
        Command::Demo => {
            for line in demo::seed(cab).await? {
                report.line(line);
            }
            report.set("seeded", true);
        }
        Command::ImportFhir { files, ids, source } => {
            import_files(cab, files, *ids, source.as_deref(), cli.json, report).await?;
        }
        Command::ExportFhir { patient_id, out } => {
            let bundle = sys.fhir().export_patient(patient_id).await?;
            match out {
                Some(path) => {
                    std::fs::write(path, &bundle).map_err(|e| Failure::File(path.clone(), e))?;
                    report.line(format!("ok: written to {}", path.display()));
                    report.set("file", path.display().to_string());
                }
                None => {
                    report.line(bundle.clone());
                    report.set("bundle", serde_json::from_str::<serde_json::Value>(&bundle).unwrap_or_default());
                }
            }
        }
        Command::Journal { command: JournalCommand::Verify { against } } => {
            let verified = sys.audit().verify().await?;
            report.line(format!("entries: {}", verified.entries));
            report.set("entries", verified.entries);
            report.set("ok", verified.ok);
            if let Some(head) = &verified.signed_head {
                report.line(format!(
                    "signed head: size {} root {} at {}",
                    head.size,
                    hex::encode(head.root),
                    rfc3339_us(head.at_us)
                ));
                report.set("signed_head", head_json(head));
            }
            if !verified.ok {
                let at = verified.first_bad_entry.map_or_else(|| "?".into(), |n| n.to_string());
                report.line(format!("FAILED at entry {at}: {}", verified.problem.as_deref().unwrap_or("unknown")));
                report.set("first_bad_entry", verified.first_bad_entry);
                report.set("problem", verified.problem.clone());
                return Err(Failure::Tampered);
            }
            if let Some(path) = against {
                let kept = backup::read_head(path)?;
                sys.audit().verify_against(&kept).await?;
                report.line(format!("ok: the journal holds the kept head (size {})", kept.size));
                report.set("matches_kept_head", true);
            }
            report.line("ok: journal verified");
        }
        Command::Journal { command: JournalCommand::PublicKey } => {
            let pem = sys.audit().public_key();
            report.line(pem.trim_end().to_owned());
            report.set("public_key", pem);
        }
        Command::Keys { command: KeysCommand::Rotate } => {
            let r = sys.keys().rotate().await?;
            report.line(format!(
                "ok: KEK {} — {} keys re-wrapped, {} destroyed keys skipped",
                r.kek_id, r.rewrapped, r.destroyed_skipped
            ));
            report.set("kek_id", r.kek_id.clone());
            report.set("rewrapped", r.rewrapped);
            report.set("destroyed_skipped", r.destroyed_skipped);
        }
        Command::Jobs { command: JobsCommand::Run { dry_run: true } } => {
            let h = cab.health().await?;
            report.line(format!("dry run: {} messages waiting, nothing delivered or changed", h.outbox_pending));
            report.set("dry_run", true);
            report.set("outbox_pending", h.outbox_pending);
            report.set("outbox_oldest_pending_at", h.outbox_oldest_pending_at.map(rfc3339));
        }
        Command::Jobs { command: JobsCommand::Run { dry_run: false } } => {
            let r = cab.run_due_jobs().await?;
            report.line(format!(
                "delivered {}, failed {}, retries scheduled {} (first attempts failed {}), reminders {}, \
                 incidents raised {}, blocked {}, requests purged {}",
                r.delivered,
                r.delivery_failures,
                r.retries_scheduled,
                r.first_attempt_failures,
                r.reminders_queued,
                r.incidents_raised,
                r.incidents_blocked,
                r.requests_purged
            ));
            for (key, n) in [
                ("delivered", r.delivered),
                ("delivery_failures", r.delivery_failures),
                ("retries_scheduled", r.retries_scheduled),
                ("first_attempt_failures", r.first_attempt_failures),
                ("reminders_queued", r.reminders_queued),
                ("incidents_raised", r.incidents_raised),
                ("incidents_blocked", r.incidents_blocked),
                ("requests_purged", r.requests_purged),
            ] {
                report.set(key, n);
            }
        }
        Command::Health => {
            let h = cab.health().await?;
            let at = |t: Option<time::OffsetDateTime>| t.map_or_else(|| "-".to_owned(), rfc3339);
            report.line(format!("database reachable: {}", h.database_reachable));
            report.line(format!("schema: database {}, SDK {}", h.schema_database, h.schema_sdk));
            report.line(format!("keys available: {}", h.keys_available));
            report.line(format!(
                "journal: {} entries, signed head covers {} (at {})",
                h.journal_entries,
                h.journal_signed_size,
                at(h.journal_signed_at)
            ));
            report.line(format!(
                "outbox: {} pending, oldest queued at {}",
                h.outbox_pending,
                at(h.outbox_oldest_pending_at)
            ));
            report.set("healthy", h.healthy);
            report.set("problems", h.problems.clone());
            report.set("database_reachable", h.database_reachable);
            report.set("schema_database", h.schema_database);
            report.set("schema_sdk", h.schema_sdk);
            report.set("keys_available", h.keys_available);
            report.set("journal_entries", h.journal_entries);
            report.set("journal_signed_size", h.journal_signed_size);
            report.set("journal_signed_at", h.journal_signed_at.map(rfc3339));
            report.set("outbox_pending", h.outbox_pending);
            report.set("outbox_oldest_pending_at", h.outbox_oldest_pending_at.map(rfc3339));
            report.set("checked_at", rfc3339(h.checked_at));
            if !h.healthy {
                report.line(format!("problems: {}", h.problems.join(" ")));
                return Err(Failure::Unhealthy);
            }
            report.line("ok: healthy");
        }
        Command::Migrate { check } => {
            let schema = cab.schema().await?;
            let verb = if *check { "schema is current" } else { "schema is up to date" };
            report.line(format!("ok: {verb} (database {}, SDK {})", schema.database, schema.sdk));
            report.set("schema", schema_json(&schema));
        }
        Command::Backup { out } => backup::backup(cab, db, out, report).await?,
        Command::Restore { .. } => {}
        Command::Stats => {
            let s = cab.stats().await?;
            for (name, key, n) in [
                ("patients", "patients", s.patients),
                ("accounts", "accounts", s.accounts),
                ("clinics", "clinics", s.clinics),
                ("practitioners", "practitioners", s.practitioners),
                ("free slots", "free_slots", s.free_slots),
                ("upcoming appointments", "upcoming_appointments", s.upcoming_appointments),
                ("record items", "record_items", s.record_items),
                ("lab results", "lab_results", s.lab_results),
                ("documents", "documents", s.documents),
                ("journal entries", "journal_entries", s.journal_entries),
                ("outbox pending", "outbox_pending", s.outbox_pending),
            ] {
                report.line(format!("{name}: {n}"));
                report.set(key, n);
            }
        }
    }
    Ok(())
}

/// The stable code and message of a failure, and its exit code.
fn describe(failure: &Failure, locale: kabinet::Locale) -> (String, String, u8) {
    match failure {
        Failure::Kabinet(e) => (e.code().to_owned(), e.message(locale), 1),
        Failure::Tampered => ("audit.tampered".into(), "the journal failed verification".into(), 3),
        Failure::Unhealthy => ("health".into(), "the deployment is not healthy".into(), 5),
        Failure::Usage(text) => ("usage".into(), text.clone(), 2),
        Failure::External(code, text) => ((*code).to_owned(), text.clone(), 1),
        Failure::File(path, e) => ("file".into(), format!("{}: {}", path.display(), e.kind()), 4),
    }
}

#[allow(clippy::print_stderr, clippy::print_stdout)]
fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Bad usage is one JSON document too when JSON was asked for (help stays text).
            let json = std::env::args().any(|a| a == "--json")
                || std::env::var("KABINET_JSON").is_ok_and(|v| v == "true" || v == "1");
            if json && e.use_stderr() {
                let message = e.kind().to_string();
                println!("{}", serde_json::json!({ "error": { "code": "usage", "message": message } }));
            }
            e.exit();
        }
    };
    let level = match (cli.quiet, cli.verbose) {
        (true, _) => tracing::Level::ERROR,
        (false, 0) => tracing::Level::WARN,
        (false, 1) => tracing::Level::INFO,
        (false, _) => tracing::Level::DEBUG,
    };
    let filter = tracing_subscriber::filter::Targets::new().with_target("kabinet", level);
    let colour = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let logs = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(true).with_ansi(colour);
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::layer::SubscriberExt::with(
        tracing_subscriber::registry(),
        logs.with_filter(filter),
    ));
    let locale = kabinet::Locale::parse(&cli.locale).unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut report = Report::default();
    let outcome = runtime.block_on(run(&cli, &mut report));
    match outcome {
        Ok(()) => {
            report.print(cli.json);
            ExitCode::SUCCESS
        }
        Err(failure) => {
            let (code, message, exit) = describe(&failure, locale);
            eprintln!("error [{code}]: {message}");
            if cli.json {
                report.set("error", serde_json::json!({ "code": code, "message": message }));
                report.print(true);
            } else {
                report.print(false);
            }
            ExitCode::from(exit)
        }
    }
}
