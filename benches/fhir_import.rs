//! FHIR import throughput (issue 8): resources imported per second from one synthetic
//! transaction bundle (`kabinet::fhir::synthetic_bundle`, 100 resources per patient of every
//! clinical kind), in one transaction, and the time of a second, idempotent import of the
//! same bundle. Prints a Markdown table.
//!
//! Run: `cargo bench -p kabinet-benches --bench fhir_import` (SQLite file in a temp dir; set
//! `KABINET_BENCH_POSTGRES_URL` to a fresh database to run on PostgreSQL too;
//! `KABINET_BENCH_FHIR_PATIENTS=100,500` sets the bundle sizes in patients).

use std::time::Instant;

use kabinet::{Cabinet, Config};

async fn run(label: &str, url: &str, keys: &std::path::Path, sizes: &[usize]) -> Result<(), kabinet::Error> {
    let config = Config {
        key_provider: Some(std::sync::Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys)?)),
        ..Config::default()
    };
    let cab = Cabinet::open(url, config).await?;
    let fhir = cab.system().fhir();
    let mut first = 0;
    for &patients in sizes {
        let text = kabinet::fhir::synthetic_bundle(first, patients);
        first += patients;
        let resources = patients * kabinet::fhir::RESOURCES_PER_PATIENT;
        let start = Instant::now();
        let report = fhir.import_bundle(&text).await?;
        let first = start.elapsed();
        assert_eq!(report.created.values().sum::<u64>(), resources as u64);
        let start = Instant::now();
        let again = fhir.import_bundle(&text).await?;
        let second = start.elapsed();
        assert!(again.created.is_empty());
        println!(
            "| {label} | {resources} | {:.2} MB | {:.2} s | {:.0} resources/s | {:.2} s ({:.0} resources/s) |",
            text.len() as f64 / 1e6,
            first.as_secs_f64(),
            resources as f64 / first.as_secs_f64(),
            second.as_secs_f64(),
            resources as f64 / second.as_secs_f64(),
        );
    }
    cab.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let sizes: Vec<usize> = std::env::var("KABINET_BENCH_FHIR_PATIENTS")
        .unwrap_or_else(|_| "100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!("| backend | resources | bundle | import | rate | re-import (idempotent) |");
    println!("|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-fhir-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    for (i, &size) in sizes.iter().enumerate() {
        let db = dir.join(format!("f{i}.db"));
        run("sqlite", &format!("sqlite://{}", db.display()), &dir.join(format!("f{i}.keys")), &[size]).await?;
    }
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        // One PostgreSQL database: each size imports new synthetic people after the last.
        run("postgres", &pg, &dir.join("pg.keys"), &sizes).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
