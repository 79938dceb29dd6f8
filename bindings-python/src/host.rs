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
