//! The one tokio runtime of the process, and running core futures with the GIL released.

use std::future::Future;
use std::sync::OnceLock;

use pyo3::prelude::*;

static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
/// The process that started the runtime. A child of `fork()` inherits the memory but not the
/// runtime's threads nor, safely, its connections: every call there would hang, so it gets
/// `ConfigError` `config.forked` instead (the rule: start Kabinet after `fork()`).
static OWNER: OnceLock<u32> = OnceLock::new();

fn runtime(locale: kabinet::Locale) -> PyResult<&'static tokio::runtime::Runtime> {
    if OWNER.get().is_some_and(|pid| *pid != std::process::id()) {
        return Err(crate::errors::to_py(kabinet::ConfigError::Forked.into(), locale));
    }
    if let Some(rt) = RUNTIME.get() {
        return Ok(rt);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kabinet")
        .enable_all()
        .build()
        .map_err(|e| pyo3::exceptions::PyRuntimeError::new_err(format!("cannot start the Kabinet runtime: {e}")))?;
    // If another thread won the race, its runtime is used and ours is dropped.
    let _ = RUNTIME.set(rt);
    let _ = OWNER.set(std::process::id());
    RUNTIME.get().ok_or_else(|| pyo3::exceptions::PyRuntimeError::new_err("Kabinet runtime unavailable"))
}

/// Runs `fut` to completion on the runtime with the GIL released, converting core errors.
/// A panic inside Kabinet (a bug; none is reachable from input by design) becomes a
/// `KabinetError` with code `internal` — never PyO3's `PanicException`, which derives
/// from `BaseException` and slips past a host's `except Exception`.
pub(crate) fn block_on<T, F>(py: Python<'_>, locale: kabinet::Locale, fut: F) -> PyResult<T>
where
    F: Future<Output = kabinet::Result<T>> + Send,
    T: Send,
{
    let rt = runtime(locale)?;
    let outcome = py.detach(|| std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rt.block_on(fut))));
    match outcome {
        Ok(result) => result.map_err(|e| crate::errors::to_py(e, locale)),
        Err(_) => Err(crate::errors::internal(locale)),
    }
}
