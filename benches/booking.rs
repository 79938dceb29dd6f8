//! Booking throughput (R8): bookings per second with 1, 4 and 8 concurrent clients, on
//! SQLite and PostgreSQL, uncontended (each client books its own doctor's slots) and
//! contended (every client goes for the same slots in the same order; one wins each slot,
//! the others get `slot.taken`). A "booking" is the whole journaled operation: session check,
//! patient row lock, overlap check, insert under the one-per-slot unique index, journal entry
//! with a signed tree head, outbox message. Prints a Markdown table.
//!
//! Run: `cargo bench -p kabinet-benches --bench booking` (SQLite file in a temp dir; set
//! `KABINET_BENCH_POSTGRES_URL` to run on PostgreSQL too). `scripts/bench-booking-pgbench`
//! runs pgbench's equivalent bare transaction on the same database for comparison.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Cabinet, Config, Device, ErrorCode, Me};

#[derive(Default)]
struct Inbox(Mutex<Vec<Message>>);

impl Inbox {
    fn code(&self, kind: &str) -> String {
        let all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.iter().rev().find(|m| m.kind == kind).and_then(|m| m.code.clone()).unwrap_or_default()
    }
}

impl Notifier for Inbox {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        let mut all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.code.is_some() {
            all.push(m.clone());
        }
        if all.len() > 100 {
            all.drain(..50);
        }
        Ok(())
    }
}

fn device() -> Device {
    Device { id: "bench".into(), name: "bench".into(), ip: "127.0.0.1".into(), user_agent: "bench".into() }
}

fn snils(n: u32) -> String {
    let body = format!("{:09}", 5_000_000 + n);
    let sum: u32 = body.chars().enumerate().map(|(i, c)| c.to_digit(10).unwrap_or(0) * (9 - i as u32)).sum();
    format!("{body}{:02}", if sum % 101 == 100 { 0 } else { sum % 101 })
}

async fn patient(cab: &Cabinet, inbox: &Inbox, n: u32) -> Result<Me, kabinet::Error> {
    let phone = format!("+7918{n:07}");
    let reg = cab
        .accounts()
        .register(kabinet::Registration {
            phone: phone.clone(),
            email: format!("bench{n}@example.ru"),
            password: "Vek-Tor!58zeb".into(),
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: snils(n),
            accepted_terms_version: "bench".into(),
            inn: None,
        })
        .await?;
    cab.accounts().confirm_phone(&reg.id, &inbox.code("phone_confirmation")).await?;
    let step = cab.auth().login(&phone, "Vek-Tor!58zeb", &device()).await?;
    let tokens = cab.auth().verify_second_factor(&step.id, &inbox.code("login_code")).await?;
    cab.session(&tokens.access_token, &device()).await
}

struct Outcome {
    attempts: u64,
    booked: u64,
    seconds: f64,
}

/// One run: `clients` tasks; uncontended: each books `per_client` of its own doctor's slots;
/// contended: each tries all `per_client` slots of one shared doctor in the same order.
async fn run(
    cab: &Cabinet,
    inbox: &Inbox,
    clients: u32,
    per_client: i64,
    contended: bool,
    next_patient: &mut u32,
) -> Result<Outcome, kabinet::Error> {
    let sys = cab.system();
    let tag = *next_patient;
    sys.directory().add_region(&format!("b{tag}"), "bench", None).await?;
    let clinic = sys.directory().add_clinic(&format!("b{tag}"), &format!("b{tag}"), "bench", "-", "-").await?;
    let start = (time::OffsetDateTime::now_utc() + time::Duration::days(1)).replace_time(time::macros::time!(00:00));
    let end = start + time::Duration::minutes(5 * per_client);
    let mut schedules = Vec::new();
    for c in 0..(if contended { 1 } else { clients }) {
        let doc =
            sys.directory().add_practitioner(&clinic.id, &format!("Врач {c}"), "терапевт", &["first".into()]).await?;
        let slots = sys.schedule().open_slots(&doc.id, start, end, 5, "first").await?;
        schedules.push(slots.into_iter().map(|s| s.id).collect::<Vec<_>>());
    }
    let mut people = Vec::new();
    for _ in 0..clients {
        *next_patient += 1;
        people.push(patient(cab, inbox, *next_patient).await?);
    }
    let began = Instant::now();
    let mut tasks = Vec::new();
    for (c, me) in people.into_iter().enumerate() {
        let slots = schedules[if contended { 0 } else { c }].clone();
        tasks.push(tokio::spawn(async move {
            let (mut attempts, mut booked) = (0u64, 0u64);
            for slot in slots {
                attempts += 1;
                match me.appointments().book(&slot).await {
                    Ok(_) => booked += 1,
                    Err(e) if e.code() == "slot.taken" => {}
                    Err(e) => return Err(e),
                }
            }
            Ok((attempts, booked))
        }));
    }
    let (mut attempts, mut booked) = (0, 0);
    for t in tasks {
        let (a, b) = t.await.map_err(|_| kabinet::Error::Conflict { code: "bench.task" })??;
        attempts += a;
        booked += b;
    }
    Ok(Outcome { attempts, booked, seconds: began.elapsed().as_secs_f64() })
}

async fn backend(label: &str, url: &str, keys: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let inbox = Arc::new(Inbox::default());
    let config = Config {
        key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys)?)),
        notifier: Some(inbox.clone()),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        appointments: kabinet::AppointmentPolicy { require_identity: false, ..Default::default() },
        max_connections: 10,
        ..Config::default()
    };
    let cab = Cabinet::open(url, config).await?;
    let mut next = std::process::id() % 100_000 * 10;
    for contended in [false, true] {
        for clients in [1, 4, 8] {
            let per_client = if contended { 500 } else { 300 };
            let o = run(&cab, &inbox, clients, per_client, contended, &mut next).await?;
            println!(
                "| {label} | {} | {clients} | {} | {} | {:.2} s | {:.0} /s | {:.0} /s |",
                if contended { "contended" } else { "uncontended" },
                o.attempts,
                o.booked,
                o.seconds,
                o.attempts as f64 / o.seconds,
                o.booked as f64 / o.seconds,
            );
        }
    }
    cab.close().await;
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    println!("| backend | mode | clients | attempts | booked | wall time | attempts/s | bookings/s |");
    println!("|---|---|---|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-booking-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    backend("sqlite", &format!("sqlite://{}", dir.join("b.db").display()), &dir.join("b.keys")).await?;
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        backend("postgres", &pg, &dir.join("pg.keys")).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
