//! Kabinet's log events reach Python's standard `logging` (logger `kabinet`, and
//! `kabinet.journal`, `kabinet.outbox`, `kabinet.jobs`, `kabinet.schema` below it). A small
//! bridge rather than `pyo3-log`, whose releases do not support the pinned PyO3 (0.30).
//!
//! Events are kinds, ids, codes and timings — never personal data, tokens or keys (the core
//! emits nothing else; a test checks a login and a booking). Each event checks
//! `isEnabledFor` first, so a host that leaves the `kabinet` logger at WARNING pays one
//! check per event. Events from a thread while the interpreter shuts down are dropped.

use pyo3::prelude::*;
use pyo3::types::PyDict;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

/// Forwards events of `kabinet` targets to Python's `logging`.
struct PythonLogging;

impl<S: tracing::Subscriber> Layer<S> for PythonLogging {
    fn on_event(&self, event: &tracing::Event<'_>, _: Context<'_, S>) {
        let Some(record) = kabinet::log::LogRecord::of(event) else { return };
        let level = match *event.metadata().level() {
            tracing::Level::ERROR => 40,
            tracing::Level::WARN => 30,
            tracing::Level::INFO => 20,
            tracing::Level::DEBUG => 10,
            tracing::Level::TRACE => 5,
        };
        // A logging handler that raises is the host's problem, not a reason to fail the call.
        let _ = Python::try_attach(|py| emit(py, level, &record));
    }
}

fn emit(py: Python<'_>, level: u8, record: &kabinet::log::LogRecord) -> PyResult<()> {
    let logger = py.import("logging")?.call_method1("getLogger", (record.target.replace("::", "."),))?;
    if !logger.call_method1("isEnabledFor", (level,))?.is_truthy()? {
        return Ok(());
    }
    let extra = PyDict::new(py);
    extra.set_item("kabinet", record.fields.clone())?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("extra", extra)?;
    logger.call_method("log", (level, record.text()), Some(&kwargs))?;
    Ok(())
}

/// Installs the bridge as the process's subscriber, unless the host (a Rust program
/// embedding Python) already installed one.
pub(crate) fn install() {
    let subscriber = tracing_subscriber::registry().with(PythonLogging);
    let _ = tracing::subscriber::set_global_default(subscriber);
}
