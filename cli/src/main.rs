//! `kabinet`: the operator's tool for a deployment — create or migrate the database, verify
//! the signed journal and print its public key, rotate the key-encryption key, import FHIR
//! bundles, export a patient's record, and run the due jobs (deliveries print to stdout).
//!
//! The database comes from `--db` or `KABINET_DATABASE_URL`; the key from `--key-file` (or,
//! for SQLite files, the `<db>.keys` file beside it) or from the passphrase in the
//! environment variable named by `--passphrase-env`. Errors print their stable code and
//! message and exit with status 1; nothing secret is ever printed.

use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Cabinet, Config, ErrorCode, KeyProvider};

#[derive(Parser)]
#[command(name = "kabinet", version, about = "Operate a Kabinet deployment")]
struct Cli {
    /// Database URL (`sqlite:///path.db`, `postgres://…`).
    #[arg(long, env = "KABINET_DATABASE_URL")]
    db: String,
    /// Key file of the key-encryption key (created 0600 on first use).
    #[arg(long)]
    key_file: Option<std::path::PathBuf>,
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
    /// Creates the database or brings its schema up to date.
    Migrate,
    /// Verifies the signed journal; exits 1 and names the first bad entry if it fails.
    Verify,
    /// Prints the journal's public key (PEM), to verify proofs and shared packages elsewhere.
    PublicKey,
    /// Rotates the key-encryption key (data keys re-wrapped, data untouched).
    RotateKeys,
    /// Imports a FHIR R4 bundle or resource from a JSON file.
    ImportFhir {
        /// The JSON file.
        file: std::path::PathBuf,
    },
    /// Prints a patient's record as a FHIR R4 bundle.
    ExportFhir {
        /// The patient id.
        patient_id: String,
    },
    /// Runs the due jobs once; messages are printed to stdout (kind, channel, id — no text,
    /// no codes), standing in for a real gateway.
    RunJobs,
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
    let locale = kabinet::Locale::parse(&cli.locale).ok_or(kabinet::ConfigError::Locale)?;
    let key_provider: Option<Arc<dyn KeyProvider>> = match (&cli.key_file, &cli.passphrase_env) {
        (Some(path), _) => Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(path.clone())?)),
        (None, Some(var)) => {
            let phrase = std::env::var(var).map_err(|_| kabinet::ConfigError::KeyProviderRequired)?;
            Some(Arc::new(kabinet::crypto::PassphraseKeyProvider::new(&phrase)?))
        }
        (None, None) => None,
    };
    Ok(Config { key_provider, locale, notifier: Some(Arc::new(StdoutNotifier)), ..Config::default() })
}

#[allow(clippy::print_stdout)]
async fn run(cli: Cli) -> Result<(), kabinet::Error> {
    let cab = Cabinet::open(&cli.db, config(&cli)?).await?;
    let sys = cab.system();
    match &cli.command {
        Command::Migrate => println!("ok: {} database is up to date", cab.backend().name()),
        Command::Verify => {
            let report = sys.audit().verify().await?;
            println!("entries: {}", report.entries);
            if !report.ok {
                println!("FAILED at entry {:?}", report.first_bad_entry);
                return Err(kabinet::Error::Conflict { code: "audit.tampered" });
            }
            println!("ok: journal verified");
        }
        Command::PublicKey => println!("{}", sys.audit().public_key()),
        Command::RotateKeys => {
            let r = sys.keys().rotate().await?;
            println!(
                "ok: KEK {} — {} keys re-wrapped, {} destroyed keys skipped",
                r.kek_id, r.rewrapped, r.destroyed_skipped
            );
        }
        Command::ImportFhir { file } => {
            let text = std::fs::read_to_string(file).map_err(|_| kabinet::ConfigError::Url { reason: "file" })?;
            let r = sys.fhir().import_bundle(&text).await?;
            println!("created: {:?}", r.created);
            println!("unchanged: {:?}", r.unchanged);
            println!("unsupported: {:?}", r.unsupported);
            println!("patients: {}", r.patient_ids.join(" "));
        }
        Command::ExportFhir { patient_id } => println!("{}", sys.fhir().export_patient(patient_id).await?),
        Command::RunJobs => {
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
        Err(e) => {
            eprintln!("error [{}]: {}", e.code(), e.message(locale));
            ExitCode::FAILURE
        }
    }
}
