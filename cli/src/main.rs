//! `kabinet`: the operator's tool for a deployment — create the database and keys, seed a
//! demo clinic, import FHIR bundles, export a patient's record, verify the signed journal,
//! rotate the key-encryption key, run the due jobs and print counts.
//!
//! The database comes from `--db` or `KABINET_DATABASE_URL`; the key from `--key-file` (or,
//! for SQLite files, the `<db>.keys` file beside it) or from the passphrase in the
//! environment variable named by `--passphrase-env`. Nothing secret is ever printed.
//!
//! Exit codes: 0 success; 1 an error from Kabinet (its stable code and message on stderr);
//! 2 bad usage (unknown command or option); 3 the journal failed verification; 4 an input
//! or output file could not be read or written; 5 `health` found a failed check.

mod demo;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Cabinet, Config, ErrorCode, ImportReport, KeyProvider};

#[derive(Parser)]
#[command(
    name = "kabinet",
    version,
    about = "Operate a Kabinet deployment",
    after_help = "Exit codes: 0 success, 1 Kabinet error, 2 bad usage, 3 journal verification failed, \
                  4 file not readable/writable, 5 unhealthy."
)]
struct Cli {
    /// Database URL (`sqlite:///path.db`, `postgres://…`).
    #[arg(long, env = "KABINET_DATABASE_URL")]
    db: String,
    /// Key file of the key-encryption key (created 0600 on first use).
    #[arg(long)]
    key_file: Option<PathBuf>,
    /// Name of an environment variable holding the key passphrase.
    #[arg(long)]
    passphrase_env: Option<String>,
    /// Language of messages: `ru` or `en`.
    #[arg(long, default_value = "ru")]
    locale: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Creates the database and keys, or brings the schema up to date (safe to repeat).
    Init,
    /// Seeds a demo region, clinic, doctors and a week of free slots.
    Demo,
    /// Imports FHIR R4 bundles or resources from JSON files, each file in one transaction.
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
    Stats,
    /// Checks the deployment: database, schema, keys, journal head, outbox backlog; exit
    /// code 5 when any check fails (each failed check named by its code).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/kabinet.db health\n  kabinet --db sqlite:///srv/kabinet.db health || alert \"kabinet unhealthy\""
    )]
    Health,
    /// Brings the schema up to date, or with `--check` only reports whether it is (exit code
    /// 1 with `schema.outdated` when migrations are pending; `schema.newer` when the
    /// database is ahead of this tool).
    #[command(
        after_help = "Examples:\n  kabinet --db sqlite:///srv/kabinet.db migrate --check\n  kabinet --db postgres://kabinet@db/kabinet --passphrase-env KABINET_PASSPHRASE migrate"
    )]
    Migrate {
        /// Change nothing: fail if the schema is not current.
        #[arg(long)]
        check: bool,
    },
}

#[derive(Subcommand)]
enum JournalCommand {
    /// Verifies every entry and signed head; prints the latest head, or the first bad entry
    /// (exit code 3).
    Verify,
    /// Prints the journal's public key (PEM), to check proofs and shared packages elsewhere.
    PublicKey,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Rotates the key-encryption key: data keys are re-wrapped, data is not re-encrypted.
    Rotate,
}

#[derive(Subcommand)]
enum JobsCommand {
    /// One pass of the due jobs; messages are printed (kind, channel, id — no text, no codes)
    /// in place of a real gateway.
    Run,
}

/// Why the tool failed, mapped to its exit code.
enum Failure {
    Kabinet(kabinet::Error),
    Tampered,
    Unhealthy,
    File(PathBuf, std::io::Error),
}

impl From<kabinet::Error> for Failure {
    fn from(e: kabinet::Error) -> Self {
        Failure::Kabinet(e)
    }
}

/// Prints what would be sent, without recipients, texts or codes.
struct StdoutNotifier;

impl Notifier for StdoutNotifier {
    #[allow(clippy::print_stdout)]
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        println!("deliver {} {} {}", m.id, m.channel.as_str(), m.kind);
        Ok(())
    }
}

fn config(cli: &Cli) -> Result<Config, kabinet::Error> {
    let migrate = match cli.command {
        Command::Migrate { check: true } => kabinet::MigrationMode::Check,
        _ => kabinet::MigrationMode::Auto,
    };
    let locale = kabinet::Locale::parse(&cli.locale).ok_or(kabinet::ConfigError::Locale)?;
    let key_provider: Option<Arc<dyn KeyProvider>> = match (&cli.key_file, &cli.passphrase_env) {
        (Some(path), _) => Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(path.clone())?)),
        (None, Some(var)) => {
            let phrase = std::env::var(var).map_err(|_| kabinet::ConfigError::KeyProviderRequired)?;
            Some(Arc::new(kabinet::crypto::PassphraseKeyProvider::new(&phrase)?))
        }
        (None, None) => None,
    };
    Ok(Config { key_provider, locale, migrate, notifier: Some(Arc::new(StdoutNotifier)), ..Config::default() })
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

#[allow(clippy::print_stdout, clippy::print_stderr)]
async fn import_files(cab: &Cabinet, files: &[PathBuf], ids: bool, source: Option<&str>) -> Result<(), Failure> {
    let bar = ProgressBar::new(files.len() as u64);
    if let Ok(style) = ProgressStyle::with_template("{bar:40} {pos}/{len} {wide_msg}") {
        bar.set_style(style);
    }
    let mut total = ImportReport::default();
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
                        bar.suspend(|| {
                            println!(
                                "{}\t{}\t{}\t{}\t{}",
                                file.display(),
                                e.path,
                                e.source.as_deref().unwrap_or("-"),
                                e.outcome,
                                e.local_id.as_deref().unwrap_or("-")
                            )
                        });
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
    println!("files: {}", files.len());
    println!("created: {:?}", total.created);
    println!("unchanged: {:?}", total.unchanged);
    println!("unsupported: {:?}", total.unsupported);
    println!("patients: {}", total.patient_ids.join(" "));
    Ok(())
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.unix_timestamp().to_string())
}

fn rfc3339_us(at_us: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(at_us) * 1000)
        .map_or_else(|_| at_us.to_string(), rfc3339)
}

#[allow(clippy::print_stdout)]
async fn run(cli: Cli) -> Result<(), Failure> {
    let cab = Cabinet::open(&cli.db, config(&cli)?).await?;
    let sys = cab.system();
    match &cli.command {
        Command::Init => {
            println!("ok: {} database is up to date", cab.backend().name());
            println!("{}", sys.audit().public_key());
        }
        Command::Demo => demo::seed(&cab).await?,
        Command::ImportFhir { files, ids, source } => import_files(&cab, files, *ids, source.as_deref()).await?,
        Command::ExportFhir { patient_id, out } => {
            let bundle = sys.fhir().export_patient(patient_id).await?;
            match out {
                Some(path) => {
                    std::fs::write(path, bundle).map_err(|e| Failure::File(path.clone(), e))?;
                    println!("ok: written to {}", path.display());
                }
                None => println!("{bundle}"),
            }
        }
        Command::Journal { command: JournalCommand::Verify } => {
            let report = sys.audit().verify().await?;
            println!("entries: {}", report.entries);
            if let Some(head) = &report.signed_head {
                println!(
                    "signed head: size {} root {} at {}",
                    head.size,
                    hex::encode(head.root),
                    rfc3339_us(head.at_us)
                );
            }
            if !report.ok {
                println!(
                    "FAILED at entry {}: {}",
                    report.first_bad_entry.map_or_else(|| "?".into(), |n| n.to_string()),
                    report.problem.as_deref().unwrap_or("unknown")
                );
                return Err(Failure::Tampered);
            }
            println!("ok: journal verified");
        }
        Command::Journal { command: JournalCommand::PublicKey } => println!("{}", sys.audit().public_key()),
        Command::Keys { command: KeysCommand::Rotate } => {
            let r = sys.keys().rotate().await?;
            println!(
                "ok: KEK {} — {} keys re-wrapped, {} destroyed keys skipped",
                r.kek_id, r.rewrapped, r.destroyed_skipped
            );
        }
        Command::Jobs { command: JobsCommand::Run } => {
            let r = cab.run_due_jobs().await?;
            println!(
                "delivered {}, failed {}, reminders {}, incidents raised {}, blocked {}, requests purged {}",
                r.delivered,
                r.delivery_failures,
                r.reminders_queued,
                r.incidents_raised,
                r.incidents_blocked,
                r.requests_purged
            );
        }
        Command::Migrate { check } => {
            let schema = cab.schema().await?;
            let verb = if *check { "schema is current" } else { "schema is up to date" };
            println!("ok: {verb} (database {}, SDK {})", schema.database, schema.sdk);
        }
        Command::Health => {
            let h = cab.health().await?;
            let at = |t: Option<time::OffsetDateTime>| t.map_or_else(|| "-".to_owned(), rfc3339);
            println!("database reachable: {}", h.database_reachable);
            println!("schema: database {}, SDK {}", h.schema_database, h.schema_sdk);
            println!("keys available: {}", h.keys_available);
            println!(
                "journal: {} entries, signed head covers {} (at {})",
                h.journal_entries,
                h.journal_signed_size,
                at(h.journal_signed_at)
            );
            println!("outbox: {} pending, oldest queued at {}", h.outbox_pending, at(h.outbox_oldest_pending_at));
            if !h.healthy {
                println!("problems: {}", h.problems.join(" "));
                cab.close().await;
                return Err(Failure::Unhealthy);
            }
            println!("ok: healthy");
        }
        Command::Stats => {
            let s = cab.stats().await?;
            for (name, n) in [
                ("patients", s.patients),
                ("accounts", s.accounts),
                ("clinics", s.clinics),
                ("practitioners", s.practitioners),
                ("free slots", s.free_slots),
                ("upcoming appointments", s.upcoming_appointments),
                ("record items", s.record_items),
                ("lab results", s.lab_results),
                ("documents", s.documents),
                ("journal entries", s.journal_entries),
                ("outbox pending", s.outbox_pending),
            ] {
                println!("{name}: {n}");
            }
        }
    }
    cab.close().await;
    Ok(())
}

#[allow(clippy::print_stderr)]
fn main() -> ExitCode {
    let cli = Cli::parse();
    let locale = kabinet::Locale::parse(&cli.locale).unwrap_or_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Kabinet(e)) => {
            eprintln!("error [{}]: {}", e.code(), e.message(locale));
            ExitCode::from(1)
        }
        Err(Failure::Tampered) => {
            eprintln!("error [audit.tampered]: the journal failed verification");
            ExitCode::from(3)
        }
        Err(Failure::Unhealthy) => {
            eprintln!("error [health]: the deployment is not healthy");
            ExitCode::from(5)
        }
        Err(Failure::File(path, e)) => {
            eprintln!("error [file]: {}: {}", path.display(), e.kind());
            ExitCode::from(4)
        }
    }
}
