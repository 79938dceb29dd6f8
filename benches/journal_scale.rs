//! Journal at scale on a real database: append rate through a journaled operation, full
//! `verify()` rate, and proof generation, at 10^3…10^5 entries (10^6 with
//! `KABINET_BENCH_SIZES=1000,10000,100000,1000000`). Prints a Markdown table.
//!
//! Run: `cargo bench -p kabinet-benches --bench journal_scale` (SQLite file in a temp dir;
//! set `KABINET_BENCH_POSTGRES_URL` to run on PostgreSQL as well, and
//! `KABINET_BENCH_SKIP_SQLITE=1` to run on PostgreSQL only).

use std::time::Instant;

use kabinet::{Cabinet, Config};

async fn run(label: &str, url: &str, config: Config, sizes: &[u64]) -> Result<(), kabinet::Error> {
    let cab = Cabinet::open(url, config).await?;
    let patients = cab.system().patients();
    let audit = cab.system().audit();
    let mut done = audit.latest_head().await?.map_or(0, |h| h.size);
    for &target in sizes {
        let start = Instant::now();
        let before = done;
        while done < target {
            // One journaled operation: a blind-index lookup that finds nobody, one append.
            patients.find_by_snils("112-233-445 95").await?;
            done += 1;
        }
        let append = start.elapsed();
        let appended = done - before;
        let start = Instant::now();
        let report = audit.verify().await?;
        let verify = start.elapsed();
        assert!(report.ok);
        let start = Instant::now();
        let proof = audit.inclusion_proof(done / 3).await?;
        let proof_time = start.elapsed();
        // Once the subtrees it needs are kept (issue 15, goal 5): another entry's proof.
        let start = Instant::now();
        let warm = audit.inclusion_proof(done / 3 + 1).await?;
        let warm_time = start.elapsed();
        kabinet::audit::verify_inclusion_proof(&audit.public_key(), &warm)?;
        let json = proof.to_json();
        let start = Instant::now();
        kabinet::audit::verify_inclusion_proof(&audit.public_key(), &proof)?;
        let check = start.elapsed();
        println!(
            "| {label} | {done} | {:.0} appends/s | {:.2} s ({:.0} entries/s) | {} hashes, {} B JSON | {:.1} ms | {:.2} ms | {:.0} µs |",
            appended as f64 / append.as_secs_f64(),
            verify.as_secs_f64(),
            done as f64 / verify.as_secs_f64(),
            proof.path.len(),
            json.len(),
            proof_time.as_secs_f64() * 1e3,
            warm_time.as_secs_f64() * 1e3,
            check.as_secs_f64() * 1e6
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
    let sizes: Vec<u64> = std::env::var("KABINET_BENCH_SIZES")
        .unwrap_or_else(|_| "1000,10000,100000".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    println!(
        "| backend | entries | append rate | full verify | inclusion proof | first proof generation | next proof (subtrees kept) | offline proof check |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    if std::env::var("KABINET_BENCH_SKIP_SQLITE").is_err() {
        run("sqlite", &format!("sqlite://{}", dir.join("j.db").display()), Config::default(), &sizes).await?;
    }
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        let config = Config {
            key_provider: Some(std::sync::Arc::new(kabinet::crypto::LocalFileKeyProvider::open(dir.join("pg.keys"))?)),
            ..Config::default()
        };
        run("postgres", &pg, config, &sizes).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
