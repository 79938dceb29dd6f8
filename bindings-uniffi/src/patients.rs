//! Patients' personal data for the operator.

use kabinet_ffi_guard::guard;

use kabinet::Locale;

pub use kabinet::{NewPatient, Patient};

use crate::KabinetError;

/// Operator access to patients.
#[derive(uniffi::Object)]
pub struct Patients {
    inner: kabinet::Patients,
    locale: Locale,
}

impl Patients {
    pub(crate) fn new(inner: kabinet::Patients, locale: Locale) -> Self {
        Patients { inner, locale }
    }
    fn err(&self, e: kabinet::Error) -> KabinetError {
        KabinetError::from_core(e, self.locale)
    }
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Patients {
    /// Creates a patient; returns the new id.
    pub async fn create(&self, patient: NewPatient) -> Result<String, KabinetError> {
        self.inner.create(patient).await.map_err(|e| self.err(e))
    }

    /// Reads a patient.
    pub async fn get(&self, patient_id: String) -> Result<Patient, KabinetError> {
        self.inner.get(&patient_id).await.map_err(|e| self.err(e))
    }

    /// Finds a patient id by SNILS.
    pub async fn find_by_snils(&self, snils: String) -> Result<Option<String>, KabinetError> {
        self.inner.find_by_snils(&snils).await.map_err(|e| self.err(e))
    }

    /// Finds a patient id by OMS policy number (ENP).
    pub async fn find_by_oms_policy(&self, oms_policy: String) -> Result<Option<String>, KabinetError> {
        self.inner.find_by_oms_policy(&oms_policy).await.map_err(|e| self.err(e))
    }

    /// Erases a patient by destroying their data key.
    pub async fn erase(&self, patient_id: String) -> Result<(), KabinetError> {
        self.inner.erase(&patient_id).await.map_err(|e| self.err(e))
    }
}
