//! Document store throughput (R7, S3): put (content check, seal, SHA-256, journal, outbox)
//! and get (unseal, SHA-256 check, journal) at 10 KiB, 1 MiB and 10 MiB, next to the
//! machine's raw AES-256-GCM + SHA-256 speed measured in the same run; and the outbox
//! delivery rate. Prints Markdown tables.
//!
//! Run: `cargo bench -p kabinet-benches --bench documents` (SQLite file in a temp dir; set
//! `KABINET_BENCH_POSTGRES_URL` to a fresh database to run on PostgreSQL too).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use kabinet::integrations::{DeliveryError, Message, Notifier};
use kabinet::{Cabinet, Config, Device, DocumentMeta, Me};
use sha2::Digest;

#[derive(Default)]
struct Inbox(Mutex<Vec<Message>>, Mutex<bool>);

impl Inbox {
    fn code(&self, kind: &str) -> String {
        let all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        all.iter().rev().find(|m| m.kind == kind).and_then(|m| m.code.clone()).unwrap_or_default()
    }
}

impl Notifier for Inbox {
    fn deliver(&self, m: &Message) -> Result<(), DeliveryError> {
        if *self.1.lock().unwrap_or_else(std::sync::PoisonError::into_inner) {
            return Err(DeliveryError("paused".into()));
        }
        let mut all = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if m.code.is_some() {
            all.push(m.clone());
        }
        Ok(())
    }
}

/// The state registries, answering yes for everyone (identity confirmed at registration).
struct Approving;

impl kabinet::integrations::IdentityRegistry for Approving {
    fn check(
        &self,
        _: &kabinet::integrations::RegistryRequest,
    ) -> Result<kabinet::integrations::RegistryAnswer, DeliveryError> {
        Ok(kabinet::integrations::RegistryAnswer { matched: true, reason: None })
    }
}

fn device() -> Device {
    Device { id: "bench".into(), name: "bench".into(), ip: "127.0.0.1".into(), user_agent: "bench".into() }
}

fn pdf(size: usize) -> Vec<u8> {
    // One stream of `size` filler bytes, with the trailer the content check looks for.
    let body = size.saturating_sub(100);
    let mut b = format!("%PDF-1.7\n1 0 obj << /Length {body} >>\nstream\n").into_bytes();
    b.resize(b.len() + body, b'x');
    b.extend_from_slice(b"\nendstream\nendobj\ntrailer << /Root 1 0 R >>\n%%EOF\n");
    b
}

/// A patient attached to a clinic and a doctor of it, signed in.
async fn people(cab: &Cabinet, inbox: &Inbox) -> Result<(Me, Me), kabinet::Error> {
    let sys = cab.system();
    sys.directory().add_region("77", "Москва", None).await?;
    let clinic = sys.directory().add_clinic("77", "0101", "Поликлиника", "-", "-").await?;
    let reg = cab
        .accounts()
        .register(kabinet::Registration {
            phone: "+79161234567".into(),
            email: "anna@example.ru".into(),
            password: "Vek-Tor!58zeb".into(),
            surname: "Иванова".into(),
            given_name: "Анна".into(),
            patronymic: None,
            birth_date: time::macros::date!(1990 - 03 - 14),
            sex: kabinet::Sex::Female,
            snils: "112-233-445 95".into(),
            accepted_terms_version: "bench".into(),
            inn: None,
        })
        .await?;
    cab.accounts().confirm_phone(&reg.id, &inbox.code("phone_confirmation")).await?;
    let step = cab.auth().login("+79161234567", "Vek-Tor!58zeb", &device()).await?;
    let tokens = cab.auth().verify_second_factor(&step.id, &inbox.code("login_code")).await?;
    let anna = cab.session(&tokens.access_token, &device()).await?;
    anna.identity()
        .confirm(kabinet::IdentityConfirmation {
            method: "sms".into(),
            full_name: "Иванова Анна".into(),
            birth_date: time::macros::date!(1990 - 03 - 14),
            oms_policy: "8451999122899990".into(),
            phone: "+79161234567".into(),
        })
        .await?;
    let pending = anna.attachment().attach("0101", "4508123456", "11223344595", "8451999122899990", None, None).await?;
    anna.attachment().confirm(&pending.id, &inbox.code("attachment_code")).await?;
    let staff = sys
        .staff()
        .create(kabinet::NewStaff {
            clinic_id: clinic.id,
            role: kabinet::StaffRole::Doctor,
            full_name: "Петров".into(),
            phone: "+79035550001".into(),
            email: "d@clinic.ru".into(),
            password: "Registratura#2026".into(),
        })
        .await?;
    let step = cab.auth().login("+79035550001", "Registratura#2026", &device()).await?;
    let unix = u64::try_from(time::OffsetDateTime::now_utc().unix_timestamp()).unwrap_or(0);
    let code = kabinet::auth::totp::code_at_base32(&staff.totp_secret_base32, unix).unwrap_or_default();
    let doctor = cab.session(&cab.auth().verify_second_factor(&step.id, &code).await?.access_token, &device()).await?;
    Ok((anna, doctor))
}

fn raw_rate(size: usize, rounds: u32) -> f64 {
    let data = vec![7u8; size];
    let cipher = Aes256Gcm::new_from_slice(&[1u8; 32]).unwrap_or_else(|_| unreachable!());
    let start = Instant::now();
    for i in 0..rounds {
        let nonce = Nonce::from([i as u8; 12]);
        let sealed = cipher.encrypt(&nonce, data.as_slice()).unwrap_or_default();
        let opened = cipher.decrypt(&nonce, sealed.as_slice()).unwrap_or_default();
        std::hint::black_box(sha2::Sha256::digest(&data));
        std::hint::black_box(sha2::Sha256::digest(&opened));
    }
    // One put + one get ≈ seal + open + two hashes.
    f64::from(rounds) / start.elapsed().as_secs_f64()
}

async fn run(label: &str, url: &str, keys: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let inbox = Arc::new(Inbox::default());
    let config = Config {
        key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys)?)),
        notifier: Some(inbox.clone()),
        identity_registry: Some(Arc::new(Approving)),
        password_hashing: kabinet::Argon2Params { memory_kib: 4096, iterations: 1, parallelism: 1 },
        document_max_bytes: 128 * 1024 * 1024,
        ..Config::default()
    };
    let cab = Cabinet::open(url, config).await?;
    let (anna, doctor) = people(&cab, &inbox).await?;
    let pid = anna.patient_id()?.to_owned();
    let meta =
        DocumentMeta { created_on: time::macros::date!(2026 - 11 - 01), institution: "П".into(), study_type: None };
    for (size, rounds) in [(10 * 1024, 200u32), (1024 * 1024, 30), (10 * 1024 * 1024, 5)] {
        let content = pdf(size);
        let mut ids = Vec::new();
        let start = Instant::now();
        for _ in 0..rounds {
            ids.push(
                doctor
                    .staff()?
                    .documents()
                    .publish(&pid, kabinet::DocumentKind::Other, "doc.pdf", &content, meta.clone())
                    .await?
                    .id,
            );
        }
        let put = start.elapsed().as_secs_f64();
        let start = Instant::now();
        for id in &ids {
            std::hint::black_box(anna.documents().download(id).await?);
        }
        let get = start.elapsed().as_secs_f64();
        let mib = size as f64 / (1024.0 * 1024.0);
        println!(
            "| {label} | {} | {:.0} /s ({:.1} MiB/s) | {:.0} /s ({:.1} MiB/s) | {:.0} /s ({:.0} MiB/s) |",
            if size < 1024 * 1024 { format!("{} KiB", size / 1024) } else { format!("{} MiB", size / (1024 * 1024)) },
            f64::from(rounds) / put,
            f64::from(rounds) * mib / put,
            f64::from(rounds) / get,
            f64::from(rounds) * mib / get,
            raw_rate(size, rounds),
            raw_rate(size, rounds) * mib,
        );
    }
    // Memory (issue 15, goal 2): the peak resident set while putting and getting one
    // 100 MiB document, above what the process held just before the call (the caller's own
    // copy of the content counts in that baseline for a put; a get's returned bytes count
    // in its peak). The kernel's high-water mark is reset before each call.
    let size = 100 * 1024 * 1024;
    let content = pdf(size);
    let content_len = content.len();
    let before = reset_peak_rss();
    let id = doctor
        .staff()?
        .documents()
        .publish(&pid, kabinet::DocumentKind::Other, "big.pdf", &content, meta.clone())
        .await?
        .id;
    let put_peak = peak_rss().saturating_sub(before);
    drop(content);
    let before = reset_peak_rss();
    let back = anna.documents().download(&id).await?;
    let get_peak = peak_rss().saturating_sub(before);
    assert_eq!(back.len(), content_len);
    drop(back);
    let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
    println!(
        "\n{label}: 100 MiB document, peak RSS above the call's start: put {:.0} MiB ({:.2}× the document), get {:.0} MiB ({:.2}×)",
        mib(put_peak),
        put_peak as f64 / size as f64,
        mib(get_peak),
        get_peak as f64 / size as f64
    );
    // Outbox: queue messages while delivery is paused, then time run_due_jobs.
    *inbox.1.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = true;
    let small = pdf(2048);
    for _ in 0..1000 {
        doctor.staff()?.documents().publish(&pid, kabinet::DocumentKind::Other, "n.pdf", &small, meta.clone()).await?;
    }
    *inbox.1.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = false;
    let later = Cabinet::open(
        url,
        Config {
            key_provider: Some(Arc::new(kabinet::crypto::LocalFileKeyProvider::open(keys)?)),
            notifier: Some(inbox.clone()),
            clock: Arc::new(Later),
            ..Config::default()
        },
    )
    .await?;
    let start = Instant::now();
    let mut delivered = 0;
    loop {
        let n = later.run_due_jobs().await?.delivered;
        if n == 0 {
            break;
        }
        delivered += n;
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "\n{label}: outbox delivered {delivered} messages in {secs:.2} s = {:.0} messages/s\n",
        delivered as f64 / secs
    );
    cab.close().await;
    later.close().await;
    Ok(())
}

/// A `/proc/self/status` value in bytes (Linux; 0 elsewhere).
fn status_bytes(field: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib =
        status.lines().find_map(|l| l.strip_prefix(field)).and_then(|v| v.split_whitespace().next()?.parse().ok());
    kib.unwrap_or(0u64) * 1024
}

/// Resets the kernel's peak-RSS mark (`VmHWM`) to the current RSS and returns that RSS.
fn reset_peak_rss() -> u64 {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    status_bytes("VmRSS:")
}

/// The peak RSS since the last reset.
fn peak_rss() -> u64 {
    status_bytes("VmHWM:")
}

/// A clock two hours ahead, past every retry back-off.
struct Later;

impl kabinet::Clock for Later {
    fn now(&self) -> time::OffsetDateTime {
        time::OffsetDateTime::now_utc() + time::Duration::hours(2)
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::args().any(|a| a == "--list") {
        return Ok(());
    }
    println!("| backend | size | put | get | raw AES-256-GCM seal+open + 2×SHA-256 |");
    println!("|---|---|---|---|---|");
    let dir = std::env::temp_dir().join(format!("kabinet-bench-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    run("sqlite", &format!("sqlite://{}", dir.join("d.db").display()), &dir.join("d.keys")).await?;
    if let Ok(pg) = std::env::var("KABINET_BENCH_POSTGRES_URL") {
        run("postgres", &pg, &dir.join("pg.keys")).await?;
    }
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
