//! How long a long FHIR import keeps other writers waiting (issue 11, class 10).
//!
//! One process-like thread imports a synthetic bundle (`KABINET_BENCH_LOCK_PATIENTS`
//! patients × 100 resources, default 1500 = 150 000 resources, 57 000 of them
//! Observations); meanwhile the main thread reads a patient again and again through the
//! system context — each read is a write transaction (its journal entry) — and records how
//! long each one took. Prints the import's wall time and the longest wait of the other
//! writer: the time the import held the write lock, seen from outside.
//!
//! Run: `cargo bench -p kabinet-benches --bench import_lock` (SQLite file in a temp dir; set
//! `KABINET_BENCH_POSTGRES_URL` to a fresh database to run on PostgreSQL too).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use kabinet::{Cabinet, Config};

fn config(keys: &std::path::Path) -> Result<Config, kabinet::Error> {
    Ok(Config { key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys)?)), ..Config::default() })
}

async fn run(
    label: &str,
    url: &str,
    keys: &std::path::Path,
    patients: usize,
) -> Result<(), Box<dyn std::error::Error>> {
    let cab = Cabinet::open(url, config(keys)?).await?;
    let probe_patient = cab
        .system()
        .patients()
        .create(kabinet::NewPatient {
            surname: "Пробная".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: None,
            inn: None,
            oms_policy: None,
            phone: None,
            email: None,
        })
        .await?;
    let text = kabinet::fhir::synthetic_bundle(1, patients);
    let done = Arc::new(AtomicBool::new(false));
    let (url2, keys2, done2) = (url.to_owned(), keys.to_owned(), done.clone());
    let importer = std::thread::spawn(move || -> Result<Duration, String> {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async move {
            let cab =
                Cabinet::open(&url2, config(&keys2).map_err(|e| e.to_string())?).await.map_err(|e| e.to_string())?;
            let start = Instant::now();
            let report = cab.system().fhir().import_bundle(&text).await.map_err(|e| e.to_string())?;
            let took = start.elapsed();
            done2.store(true, Ordering::SeqCst);
            assert_eq!(report.created.values().sum::<u64>(), (patients * kabinet::fhir::RESOURCES_PER_PATIENT) as u64);
            Ok(took)
        })
    });
    let mut longest = Duration::ZERO;
    let mut probes = 0u64;
    let mut failed = 0u64;
    while !done.load(Ordering::SeqCst) {
        let start = Instant::now();
        if cab.system().patients().get(&probe_patient).await.is_err() {
            failed += 1;
        }
        longest = longest.max(start.elapsed());
        probes += 1;
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let took = importer.join().map_err(|_| "import thread panicked")??;
    println!(
        "| {label} | {} | {:.1} s | {probes} | {failed} | {:.0} ms |",
        patients * kabinet::fhir::RESOURCES_PER_PATIENT,
        took.as_secs_f64(),
        longest.as_secs_f64() * 1000.0
    );
    cab.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let patients: usize =
        std::env::var("KABINET_BENCH_LOCK_PATIENTS").ok().and_then(|s| s.parse().ok()).unwrap_or(1500);
    println!("| backend | resources | import | other writer's calls | failed | longest wait |");
    println!("|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-lock-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    run("sqlite", &format!("sqlite://{}", dir.join("l.db").display()), &dir.join("l.keys"), patients).await?;
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        run("postgres", &pg, &dir.join("pg.keys"), patients).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
