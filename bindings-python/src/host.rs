//! Host objects written in Python, adapted to the core's integration traits.

use pyo3::prelude::*;
use pyo3::types::PyDateTime;
use time::OffsetDateTime;

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
                .and_then(|v| v.cast_into::<PyDateTime>().map_err(PyErr::from))
                .and_then(|dt| crate::convert::datetime_from_py(&dt))
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
            let msg = crate::accounts::Message::from_core(m);
            let obj = Py::new(py, msg).map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))?;
            self.obj
                .bind(py)
                .call_method1("deliver", (obj,))
                .map(|_| ())
                .map_err(|e| kabinet::integrations::DeliveryError(e.to_string()))
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
            let request =
                Py::new(py, crate::identity::RegistryRequest::from_core(py, r).map_err(fail)?).map_err(fail)?;
            let answer = self.obj.bind(py).call_method1("check", (request,)).map_err(fail)?;
            let answer = answer.cast::<crate::identity::RegistryAnswer>().map_err(|e| fail(e.into()))?;
            let a = answer.get();
            Ok(kabinet::integrations::RegistryAnswer { matched: a.matched, reason: a.reason.clone() })
        })
    }
}
