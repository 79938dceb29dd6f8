//! Patients' personal data for the operator.

use kabinet_ffi_guard::guard;

use kabinet::Locale;

pub use kabinet::Patient;

use crate::KabinetError;

// A mirror: `birth_date` is text parsed in the call, so a malformed date is a `Validation`
// error naming the field (a core `Date` would fail while lifting, as an internal error).
/// Personal data of a new patient. `birth_date` is ISO `YYYY-MM-DD`.
#[derive(uniffi::Record)]
#[allow(missing_docs)] // fields mirror the documented core type
pub struct NewPatient {
    pub surname: String,
    pub given_name: String,
    pub patronymic: Option<String>,
    pub birth_date: String,
    pub sex: String,
    pub snils: Option<String>,
    pub inn: Option<String>,
    pub oms_policy: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
}

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

pub(crate) fn parse_date(s: &str) -> Result<time::Date, KabinetError> {
    time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
        .map_err(|_| KabinetError::validation(kabinet::ValidationError::new("birth_date", kabinet::Reason::Format)))
}

#[guard]
#[uniffi::export(async_runtime = "tokio")]
impl Patients {
    /// Creates a patient; returns the new id.
    pub async fn create(&self, patient: NewPatient) -> Result<String, KabinetError> {
        let new = kabinet::NewPatient {
            birth_date: parse_date(&patient.birth_date)?,
            surname: patient.surname,
            given_name: patient.given_name,
            patronymic: patient.patronymic,
            sex: patient.sex,
            snils: patient.snils,
            inn: patient.inn,
            oms_policy: patient.oms_policy,
            phone: patient.phone,
            email: patient.email,
        };
        self.inner.create(new).await.map_err(|e| self.err(e))
    }

    /// Reads a patient.
    pub async fn get(&self, patient_id: String) -> Result<Patient, KabinetError> {
        self.inner.get(&patient_id).await.map_err(|e| self.err(e))
    }

    /// Finds a patient id by SNILS.
    pub async fn find_by_snils(&self, snils: String) -> Result<Option<String>, KabinetError> {
        self.inner.find_by_snils(&snils).await.map_err(|e| self.err(e))
    }

    /// Erases a patient by destroying their data key.
    pub async fn erase(&self, patient_id: String) -> Result<(), KabinetError> {
        self.inner.erase(&patient_id).await.map_err(|e| self.err(e))
    }
}
