//! Patients' personal data for the operator.

pub use kabinet::{NewPatient, Patient};

use crate::delegate::delegate;

delegate! {
    /// Operator access to patients.
    class Patients(inner: kabinet::Patients) via |h| h;
    /// Creates a patient; returns the new id.
    fn create(patient: NewPatient) -> String;
    /// Reads a patient.
    fn get(patient_id: String) -> Patient;
    /// Finds a patient id by SNILS.
    fn find_by_snils(snils: String) -> Option<String>;
    /// Finds a patient id by OMS policy number (ENP).
    fn find_by_oms_policy(oms_policy: String) -> Option<String>;
    /// Erases a patient by destroying their data key.
    fn erase(patient_id: String) -> ();
}
