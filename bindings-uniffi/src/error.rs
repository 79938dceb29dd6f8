//! Errors at the boundary: the core's `KabinetError` (feature `uniffi`) and its conversion.

pub use kabinet::ffi::{IntoFfi, KabinetError};
