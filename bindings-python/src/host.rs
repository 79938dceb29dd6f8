//! Host objects written in Python, adapted to the core's integration traits.

use pyo3::prelude::*;
use time::OffsetDateTime;

/// Refuses a host object whose callback `method` is missing, not callable, or `async`
/// (`config.host_callback`): Kabinet calls host callbacks synchronously, so a coroutine
/// would never run — a notifier's message would be marked delivered and never sent.
pub(crate) fn check_callback(
    obj: &Py<PyAny>,
    method: &str,
    what: &'static str,
    locale: kabinet::Locale,
) -> PyResult<()> {
    Python::attach(|py| {
        let refuse = || crate::errors::to_py(kabinet::ConfigError::HostCallback { what }.into(), locale);
        let Ok(callback) = obj.bind(py).getattr(method) else { return Err(refuse()) };
        if !callback.is_callable() {
            return Err(refuse());
        }
        let inspect = py.import("inspect")?;
        let is_async = |f: &Bound<'_, PyAny>| -> PyResult<bool> {
            Ok(inspect.call_method1("iscoroutinefunction", (f,))?.is_truthy()?
                || inspect.call_method1("isasyncgenfunction", (f,))?.is_truthy()?)
        };
        // A callable object's `__call__` may be the async part.
        let call = callback.getattr("__call__").ok();
        if is_async(&callback)? || call.map(|c| is_async(&c)).transpose()?.unwrap_or(false) {
            return Err(refuse());
        }
        Ok(())
    })
}

/// Whether a callback's result is something to await (a coroutine or other awaitable): the
/// host broke the contract at run time; the awaitable is closed, never left pending.
fn awaitable(value: &Bound<'_, PyAny>) -> bool {
    let is = value.hasattr("__await__").unwrap_or(false);
    if is && value.hasattr("close").unwrap_or(false) {
        let _ = value.call_method0("close");
    }
    is
}

/// A Python object with `now() -> aware datetime`, used as the core's `Clock`.
pub(crate) struct PyClock {
    obj: Py<PyAny>,
}

impl PyClock {
    pub(crate) fn new(obj: Py<PyAny>) -> Self {
        PyClock { obj }
    }
}

impl kabinet::Clock for PyClock {
    fn now(&self) -> OffsetDateTime {
        // A clock that fails is a host bug; fall back to the system clock rather than panic.
        Python::attach(|py| {
            self.obj
                .bind(py)
                .call_method0("now")
                .and_then(|v| {
                    if awaitable(&v) {
                        return Err(pyo3::exceptions::PyTypeError::new_err("clock.now() returned an awaitable"));
                    }
                    Ok(v)
                })
                .and_then(|dt| dt.extract::<OffsetDateTime>().map(crate::delegate::utc))
                .unwrap_or_else(|e| {
                    e.print(py);
                    OffsetDateTime::now_utc()
                })
        })
    }
}

/// A Python object with `deliver(message) -> None`, used as the core's `Notifier`.
/// An exception from Python is a failed delivery: Kabinet retries it with back-off.
pub(crate) struct PyNotifier {
    obj: Py<PyAny>,
}

impl PyNotifier {
    pub(crate) fn new(obj: Py<PyAny>) -> Self {
        PyNotifier { obj }
    }
}

impl kabinet::integrations::Notifier for PyNotifier {
    fn deliver(&self, m: &kabinet::integrations::Message) -> Result<(), kabinet::integrations::DeliveryError> {
        Python::attach(|py| {
            let msg = m.clone();
            let obj = Py::new(py, msg).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))?;
            self.obj
                .bind(py)
                .call_method1("deliver", (obj,))
                .map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
                .and_then(|v| {
                    if awaitable(&v) {
                        // Not delivered: the coroutine never ran. Retried like any failure.
                        return Err(kabinet::integrations::DeliveryError("deliver() returned an awaitable".into()));
                    }
                    Ok(())
                })
        })
    }
}

/// A Python object with `check(request) -> RegistryAnswer`, used as the core's
/// `IdentityRegistry`. An exception means the registry is unavailable.
pub(crate) struct PyRegistry {
    obj: Py<PyAny>,
}

impl PyRegistry {
    pub(crate) fn new(obj: Py<PyAny>) -> Self {
        PyRegistry { obj }
    }
}

impl kabinet::integrations::IdentityRegistry for PyRegistry {
    fn check(
        &self,
        r: &kabinet::integrations::RegistryRequest,
    ) -> Result<kabinet::integrations::RegistryAnswer, kabinet::integrations::DeliveryError> {
        let fail = |e: PyErr| kabinet::integrations::DeliveryError(e.to_string());
        Python::attach(|py| {
            let request = Py::new(py, r.clone()).map_err(fail)?;
            let answer = self.obj.bind(py).call_method1("check", (request,)).map_err(fail)?;
            if awaitable(&answer) {
                return Err(kabinet::integrations::DeliveryError("check() returned an awaitable".into()));
            }
            let answer = answer.cast::<crate::identity::RegistryAnswer>().map_err(|e| fail(e.into()))?;
            let a = answer.get();
            Ok(kabinet::integrations::RegistryAnswer { matched: a.matched, reason: a.reason.clone() })
        })
    }
}
