//! R21 identifiers as plain functions: normalized value or a validation error.

use crate::KabinetError;
use kabinet_ffi_guard::guard;

/// SNILS, normalized to 11 digits.
#[guard]
#[uniffi::export]
pub fn snils(input: String) -> Result<String, KabinetError> {
    kabinet::ids::snils(&input).map_err(KabinetError::validation)
}

/// INN, 10 or 12 digits.
#[guard]
#[uniffi::export]
pub fn inn(input: String) -> Result<String, KabinetError> {
    kabinet::ids::inn(&input).map_err(KabinetError::validation)
}

/// ENP (OMS single policy number), 16 digits.
#[guard]
#[uniffi::export]
pub fn enp(input: String) -> Result<String, KabinetError> {
    kabinet::ids::enp(&input).map_err(KabinetError::validation)
}

/// Passport series and number, 10 digits.
#[guard]
#[uniffi::export]
pub fn passport(input: String) -> Result<String, KabinetError> {
    kabinet::ids::passport(&input).map_err(KabinetError::validation)
}

/// Russian mobile phone in E.164.
#[guard]
#[uniffi::export]
pub fn phone(input: String) -> Result<String, KabinetError> {
    kabinet::ids::phone(&input).map_err(KabinetError::validation)
}
