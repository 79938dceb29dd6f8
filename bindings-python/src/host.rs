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

/// A Python object with `methods() -> list[str]`, `start(request) -> None` and
/// `verify(request, proof) -> bool`, used as the core's `Confirmer` (an electronic
/// signature, an app code). An exception, an awaitable or a wrong type means the method is
/// unavailable: the caller gets `confirmation.unavailable`, never a silent yes.
pub(crate) struct PyConfirmer {
    obj: Py<PyAny>,
}

impl PyConfirmer {
    pub(crate) fn new(obj: Py<PyAny>) -> Self {
        PyConfirmer { obj }
    }

    fn call<T>(
        &self,
        name: &str,
        args: impl for<'py> FnOnce(Python<'py>) -> PyResult<Bound<'py, pyo3::types::PyTuple>>,
        extract: impl for<'py> FnOnce(&Bound<'py, PyAny>) -> PyResult<T>,
    ) -> Result<T, kabinet::integrations::DeliveryError> {
        let fail = |e: PyErr| kabinet::integrations::DeliveryError(e.to_string());
        Python::attach(|py| {
            let answer = self.obj.bind(py).call_method1(name, args(py).map_err(fail)?).map_err(fail)?;
            if awaitable(&answer) {
                return Err(kabinet::integrations::DeliveryError(format!("{name}() returned an awaitable")));
            }
            extract(&answer).map_err(fail)
        })
    }
}

impl kabinet::integrations::Confirmer for PyConfirmer {
    fn methods(&self) -> Vec<String> {
        // A confirmer that cannot say what it offers offers nothing.
        self.call("methods", |py| Ok(pyo3::types::PyTuple::empty(py)), |v| v.extract::<Vec<String>>())
            .unwrap_or_default()
    }

    fn start(
        &self,
        r: &kabinet::integrations::ConfirmationRequest,
    ) -> Result<(), kabinet::integrations::DeliveryError> {
        let r = r.clone();
        self.call("start", |py| pyo3::types::PyTuple::new(py, [Py::new(py, r)?]), |_| Ok(()))
    }

    fn verify(
        &self,
        r: &kabinet::integrations::ConfirmationRequest,
        proof: &str,
    ) -> Result<bool, kabinet::integrations::DeliveryError> {
        let r = r.clone();
        let proof = proof.to_owned();
        self.call(
            "verify",
            |py| {
                let request = Py::new(py, r)?.into_any();
                pyo3::types::PyTuple::new(py, [request, proof.into_pyobject(py)?.into_any().unbind()])
            },
            // Only a real `True` confirms: a truthy string or number is not a yes.
            |v| v.cast::<pyo3::types::PyBool>().map(|b| b.is_true()).map_err(|e| e.into()),
        )
    }
}
