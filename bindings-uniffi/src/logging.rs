//! Kabinet's log events for Kotlin and Swift: the app registers a `LogSink`
//! (`setLogSink(sink, "info")`) and receives each event at or above that level — kinds,
//! ids, codes and timings, never personal data, tokens or keys. One sink per process;
//! `setLogSink(null, …)` stops the events. A sink that throws loses that event only.

use std::collections::HashMap;
use std::fmt::Debug;
use std::sync::{Arc, OnceLock, RwLock};

use kabinet_ffi_guard::guard;
use tracing::field::{Field, Visit};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::KabinetError;

/// One log event.
#[derive(Debug, Clone, uniffi::Record)]
pub struct LogRecord {
    /// `"error"`, `"warn"`, `"info"`, `"debug"` or `"trace"`.
    pub level: String,
    /// Where it comes from: `kabinet`, `kabinet::journal`, `kabinet::outbox`, `kabinet::jobs`, …
    pub target: String,
    /// What happened ("journal entry", "message delivered", …).
    pub message: String,
    /// The event's fields (kinds, ids, counts, milliseconds).
    pub fields: HashMap<String, String>,
}

/// The sink refused an event.
#[derive(Debug, thiserror::Error, uniffi::Error)]
pub enum LogSinkFailed {
    /// The app's sink failed.
    #[error("{reason}")]
    Failed {
        /// Why.
        reason: String,
    },
}

impl From<uniffi::UnexpectedUniFFICallbackError> for LogSinkFailed {
    fn from(e: uniffi::UnexpectedUniFFICallbackError) -> Self {
        LogSinkFailed::Failed { reason: e.reason }
    }
}

/// Implemented by the app: receives Kabinet's log events.
#[uniffi::export(with_foreign)]
pub trait LogSink: Send + Sync {
    /// One event; called on Kabinet's worker threads.
    fn log(&self, record: LogRecord) -> Result<(), LogSinkFailed>;
}

type Registered = Option<(Arc<dyn LogSink>, tracing::Level)>;

fn sink() -> &'static RwLock<Registered> {
    static SINK: OnceLock<RwLock<Registered>> = OnceLock::new();
    SINK.get_or_init(|| RwLock::new(None))
}

/// Registers the app's log sink for events at `level` and above (`"error"`, `"warn"`,
/// `"info"`, `"debug"`, `"trace"`), or removes it (`log_sink` null).
#[guard]
#[uniffi::export]
pub fn set_log_sink(log_sink: Option<Arc<dyn LogSink>>, level: String) -> Result<(), KabinetError> {
    let level: tracing::Level = level.trim().parse().map_err(|_| {
        let allowed = &["error", "warn", "info", "debug", "trace"];
        KabinetError::from_core(
            kabinet::ValidationError::one_of("level", level.trim().is_empty(), allowed).into(),
            kabinet::Locale::En,
        )
    })?;
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(ToSink));
    });
    *sink().write().unwrap_or_else(std::sync::PoisonError::into_inner) = log_sink.map(|s| (s, level));
    Ok(())
}

#[derive(Default)]
struct Fields {
    message: String,
    fields: HashMap<String, String>,
}

impl Visit for Fields {
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

/// Forwards events of `kabinet` targets to the registered sink.
struct ToSink;

impl<S: tracing::Subscriber> Layer<S> for ToSink {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if !meta.target().starts_with("kabinet") {
            return;
        }
        let Some((sink, level)) = sink().read().ok().and_then(|s| s.clone()) else { return };
        if *meta.level() > level {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        let record = LogRecord {
            level: meta.level().as_str().to_lowercase(),
            target: meta.target().to_owned(),
            message: fields.message,
            fields: fields.fields,
        };
        // A sink that fails or panics loses this event, never the operation that logged it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.log(record)));
    }
}
