//! Journaled writes per second with 1, 2, 4 and 8 concurrent clients (issue 15, goal 3), on
//! SQLite and PostgreSQL. A "journaled write" is one whole journaled operation through the
//! public API — `system().patients().find_by_snils(…)`: a blind-index lookup and one
//! transaction that journals the search — run back to back by each client for a fixed time.
//! Clients are tokio tasks on one `Cabinet` (its pool); `KABINET_BENCH_PROCESSES` is not
//! needed: the journal's ordering is the database's, the same for tasks and processes.
//! At the end the journal is verified (every entry, every signed head). Prints a Markdown
//! table.
//!
//! Run: `cargo bench -p kabinet-benches --bench journal_throughput` (SQLite file in a temp
//! dir; set `KABINET_BENCH_POSTGRES_URL` to run on PostgreSQL as well, and
//! `KABINET_BENCH_SECONDS` to change the 5 s per row).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kabinet::{Cabinet, Config};

async fn run(label: &str, url: &str, config: Config, seconds: f64) -> Result<(), kabinet::Error> {
    let cab = Cabinet::open(url, config).await?;
    for clients in [1usize, 2, 4, 8] {
        let stop = Arc::new(AtomicBool::new(false));
        let done = Arc::new(AtomicU64::new(0));
        let mut tasks = Vec::new();
        let start = Instant::now();
        for _ in 0..clients {
            let (cab, stop, done) = (cab.clone(), stop.clone(), done.clone());
            tasks.push(tokio::spawn(async move {
                let patients = cab.system().patients();
                while !stop.load(Ordering::Relaxed) {
                    patients.find_by_snils("112-233-445 95").await?;
                    done.fetch_add(1, Ordering::Relaxed);
                }
                Ok::<_, kabinet::Error>(())
            }));
        }
        tokio::time::sleep(Duration::from_secs_f64(seconds)).await;
        stop.store(true, Ordering::Relaxed);
        for t in tasks {
            t.await.expect("client task")?;
        }
        let elapsed = start.elapsed().as_secs_f64();
        let n = done.load(Ordering::Relaxed);
        println!("| {label} | {clients} | {n} | {:.0} |", n as f64 / elapsed);
    }
    let start = Instant::now();
    let report = cab.system().audit().verify().await?;
    assert!(report.ok, "journal verifies");
    println!("| {label} | verify | {} entries | {:.2} s |", report.entries, start.elapsed().as_secs_f64());
    cab.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    let seconds: f64 = std::env::var("KABINET_BENCH_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(5.0);
    println!("| backend | clients | journaled writes | per second |");
    println!("|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-jt-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if std::env::var("KABINET_BENCH_SKIP_SQLITE").is_err() {
        run("sqlite", &format!("sqlite://{}", dir.join("j.db").display()), Config::default(), seconds).await?;
    }
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        let config = Config {
            key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(dir.join("pg.keys"))?)),
            ..Config::default()
        };
        run("postgres", &pg, config, seconds).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
