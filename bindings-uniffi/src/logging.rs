//! Kabinet's log events for Kotlin and Swift: the app registers a `LogSink`
//! (`setLogSink(sink, "info")`) and receives each event at or above that level — kinds,
//! ids, codes and timings, never personal data, tokens or keys. One sink per process;
//! `setLogSink(null, …)` stops the events. A sink that throws loses that event only.

use std::sync::{Arc, OnceLock, RwLock};

use kabinet::log::LogRecord;
use kabinet_ffi_guard::guard;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::KabinetError;

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

/// Forwards events of `kabinet` targets to the registered sink.
struct ToSink;

impl<S: tracing::Subscriber> Layer<S> for ToSink {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let Some((sink, level)) = sink().read().ok().and_then(|s| s.clone()) else { return };
        if *event.metadata().level() > level {
            return;
        }
        let Some(record) = LogRecord::of(event) else { return };
        // A sink that fails or panics loses this event, never the operation that logged it.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| sink.log(record)));
    }
}
