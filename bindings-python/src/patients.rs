//! `sys.patients`: operator access to patients' personal data.

use pyo3::prelude::*;

use crate::delegate::delegate;

pub(crate) use kabinet::{NewPatient, Patient};

delegate! {
    /// Operator access to patients.
    class Patients(kabinet::Patients) via |p, _l| p.clone();
    /// Creates a patient with a fresh data key; returns the id.
    fn create(patient: &Bound<'_, NewPatient>) -> String;
    /// Reads and decrypts a patient.
    fn get(patient_id: String) -> Patient;
    /// The id of the patient with this SNILS, or None.
    fn find_by_snils(snils: String) -> Option<String>;
    /// The id of the patient with this OMS policy (ENP), or None.
    fn find_by_oms_policy(oms_policy: String) -> Option<String>;
    /// Erases a patient by destroying their data key (crypto-shredding).
    fn erase(patient_id: String) -> ();
}
