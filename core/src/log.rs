//! Kabinet's log events as plain records, for hosts that forward them (the Python bridge to
//! `logging`, the Kotlin/Swift `LogSink`). The core emits `tracing` events under `kabinet`
//! targets — kinds, ids, counts and timings, never personal data, tokens or keys.

use std::collections::HashMap;
use std::fmt::Debug;
use std::future::Future;

use tracing::field::{Field, Visit};

/// Runs one public call of a binding and logs it (`kabinet::call`, debug): its name, how long
/// it took and how it ended (`ok` or the error's stable code) — never its arguments.
pub async fn timed<T>(call: &'static str, work: impl Future<Output = crate::Result<T>>) -> crate::Result<T> {
    let started = std::time::Instant::now();
    let result = work.await;
    let elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match &result {
        Ok(_) => tracing::debug!(target: "kabinet::call", call, elapsed_ms, outcome = "ok", "call"),
        Err(e) => {
            let code = crate::error::ErrorCode::code(e);
            tracing::debug!(target: "kabinet::call", call, elapsed_ms, outcome = code, "call")
        }
    }
    result
}

/// One log event.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
pub struct LogRecord {
    /// `"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`.
    pub level: String,
    /// Where it comes from: `kabinet`, `kabinet::journal`, `kabinet::outbox`, `kabinet::jobs`, …
    pub target: String,
    /// What happened ("journal entry", "message delivered", …).
    pub message: String,
    /// The event's fields (kinds, ids, counts, milliseconds), by name.
    pub fields: HashMap<String, String>,
}

impl LogRecord {
    /// The record of `event` if it is one of Kabinet's (a `kabinet` target).
    pub fn of(event: &tracing::Event<'_>) -> Option<LogRecord> {
        let meta = event.metadata();
        if !meta.target().starts_with("kabinet") {
            return None;
        }
        let mut record = LogRecord {
            level: meta.level().as_str().to_lowercase(),
            target: meta.target().to_owned(),
            message: String::new(),
            fields: HashMap::new(),
        };
        event.record(&mut record);
        Some(record)
    }

    /// The message followed by ` name=value` for each field, by name.
    pub fn text(&self) -> String {
        let mut text = self.message.clone();
        let mut fields: Vec<_> = self.fields.iter().collect();
        fields.sort();
        for (name, value) in fields {
            text.push_str(&format!(" {name}={value}"));
        }
        text
    }
}

impl Visit for LogRecord {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "message" => self.message = value.to_owned(),
            name => drop(self.fields.insert(name.to_owned(), value.to_owned())),
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        match field.name() {
            "message" => self.message = format!("{value:?}"),
            name => drop(self.fields.insert(name.to_owned(), format!("{value:?}"))),
        }
    }
}
