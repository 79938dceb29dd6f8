//! Python support (feature `python`): the core's own value types are the Python classes
//! (`cfg_attr(feature = "python", pyclass(module = "kabinet", frozen, get_all, eq))` on them),
//! so `bindings-python` holds no mirror of them. What every such class offers besides its
//! fields is added here, once.

use pyo3::prelude::*;

/// `__repr__` from the type's `Debug` (which redacts what must not be shown).
macro_rules! python_values {
    ($($t:ty),* $(,)?) => {$(
        #[pymethods]
        impl $t {
            fn __repr__(&self) -> String {
                format!("{self:?}")
            }
        }
    )*};
}

python_values!(
    crate::directory::Region,
    crate::directory::Clinic,
    crate::directory::Practitioner,
    crate::directory::Slot
);
