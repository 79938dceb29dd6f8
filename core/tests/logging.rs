//! Logging (issue 13, item 3) in a test binary of its own: the test installs a thread-local
//! `tracing` subscriber, and tracing caches each call site's interest process-wide — tests
//! of other files running on other threads of the same binary could have the "cabinet
//! opened" call site cached as uninteresting before the subscriber existed (it failed so in
//! CI once while passing locally).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::sync::Arc;

use support::TestDb;

/// Collects what the subscriber writes.
#[derive(Clone, Default)]
struct Captured(Arc<std::sync::Mutex<Vec<u8>>>);

impl std::io::Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Issue 13, item 3: a registration, login, identity confirmation, booking and a jobs pass
/// leave log events — the journal's kinds of access, the outbox's deliveries, the jobs'
/// counts — and nothing that names the person, their contacts, codes, tokens or password.
#[tokio::test]
async fn logs_carry_kinds_ids_and_timings_never_personal_data() {
    let captured = Captured::default();
    let sink = captured.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || sink.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);
    tracing::callsite::rebuild_interest_cache();
    let db = TestDb::sqlite().await;
    let h = db.harness().await;
    let me = h.anna_confirmed().await;
    let (clinic, _) = h.two_clinics().await;
    let start = time::macros::datetime!(2026-12-02 09:00 UTC);
    let (_, slots) = h.gp_with_slots(&clinic, start, time::Duration::hours(1)).await;
    me.appointments().book(&slots[0].id).await.unwrap();
    h.cab.run_due_jobs().await.unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    for expected in ["cabinet opened", "journal entry", "action=\"login\"", "message delivered", "due jobs ran"] {
        assert!(text.contains(expected), "no {expected:?} in the log");
    }
    let codes: Vec<String> = h.inbox.0.lock().unwrap().iter().filter_map(|m| m.code.clone()).collect();
    assert!(!codes.is_empty());
    let secrets: Vec<String> = [
        "Иванова",
        "Анна",
        "Сергеевна",
        "+79161234567",
        "9161234567",
        "11223344595",
        "112-233-445 95",
        "anna.ivanova@example.ru",
        support::PASSWORD,
        "203.0.113.7",
        "Pixel 8",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "the log holds {secret:?}");
    }
    // A 6-digit code may occur by chance inside a UUID or a timing: look for it standing alone.
    let alone = |code: &str| {
        text.match_indices(code).any(|(i, _)| {
            let before = text[..i].chars().next_back();
            let after = text[i + code.len()..].chars().next();
            !before.is_some_and(|c| c.is_ascii_alphanumeric()) && !after.is_some_and(|c| c.is_ascii_alphanumeric())
        })
    };
    for code in &codes {
        assert!(!alone(code), "the log holds a one-time code");
    }
}
