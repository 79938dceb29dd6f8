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
