//! Certificate kinds as data (R10, "and others"): an operator registers a kind with its
//! title in each language, the record sections it states, its period rule and how long it is
//! valid. Six ship built in (the three of the seed, an outpatient-card extract, a vaccination
//! record and a completed preventive check-up); any may be changed or retired, and a retired
//! kind keeps the certificates already issued readable.

use time::Date;

use crate::documents::DocumentKind;
use crate::error::{Error, Result};
use crate::i18n::Locale;
use crate::ids::{Reason, ValidationError};

crate::sets::closed_set! {
    /// The certificates Kabinet ships with (R10). Any registered kind is asked for by its code;
    /// these are the built-in codes.
    pub enum CertificateKind in "kind" {
        /// An extract from the medical history (visits, medications).
        MedicalHistoryExtract = "medical_history_extract",
        /// A health status certificate (allergies, screenings).
        HealthStatus = "health_status",
        /// A vaccination certificate.
        Vaccination = "vaccination",
        /// An extract from the outpatient card (form 027/у).
        OutpatientCardExtract = "outpatient_card_extract",
        /// The whole vaccination record (form 063/у).
        VaccinationRecord = "vaccination_record",
        /// A certificate of a completed preventive check-up (the last year's screenings).
        PreventiveCheckup = "preventive_checkup",
    }
}

crate::sets::closed_set! {
    /// A part of the medical record a certificate states.
    pub enum CertificateSection in "section" {
        /// Visits with diagnoses and procedures.
        Visits = "visits",
        /// Medications prescribed.
        Medications = "medications",
        /// Allergies and reactions on file (whatever the period).
        Allergies = "allergies",
        /// Immunizations.
        Immunizations = "immunizations",
        /// Screenings and check-ups.
        Screenings = "screenings",
        /// Health certificates issued (for work, study, travel, sport).
        HealthCertificates = "health_certificates",
        /// Laboratory results with ranges and flags.
        LabResults = "lab_results",
    }
}

crate::sets::closed_set! {
    /// Which period a certificate of a kind may cover.
    pub enum CertificatePeriod in "period" {
        /// The patient may give a period; without one the kind's default (or the whole record).
        Optional = "optional",
        /// The patient must give a period.
        Required = "required",
        /// Always the whole record: a period is refused.
        WholeRecord = "whole_record",
    }
}

/// The longest period, default period or validity an operator may set: a hundred years.
pub const MAX_KIND_DAYS: u32 = 36_600;
/// The longest title.
pub const MAX_TITLE_CHARS: usize = 300;

/// A certificate kind as an operator registers it (`sys.certificates.register_kind`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, subclass))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct CertificateKindDefinition {
    /// Stable code the patient asks by: `a-z`, digits and `_`, 3–64 characters.
    pub code: String,
    /// Title in Russian, printed on the PDF.
    pub title_ru: String,
    /// Title in English.
    pub title_en: String,
    /// The record sections it states, in print order (at least one, no repeats).
    pub sections: Vec<CertificateSection>,
    /// Which period it may cover.
    pub period: CertificatePeriod,
    /// The longest period a patient may ask for, in days.
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub max_period_days: Option<u32>,
    /// Without a period given: the last this many days (else the whole record).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub default_period_days: Option<u32>,
    /// Valid for this many days from issue (printed, and returned as `valid_until`).
    #[cfg_attr(feature = "uniffi", uniffi(default = None))]
    pub validity_days: Option<u32>,
    /// Stored among the documents as `certificate` or `extract`.
    pub document_kind: DocumentKind,
}

/// A registered certificate kind.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Record))]
#[cfg_attr(feature = "python", pyo3::pyclass(module = "kabinet", frozen, get_all, eq, hash))]
#[cfg_attr(feature = "python", derive(serde::Serialize, serde::Deserialize))]
pub struct CertificateKindInfo {
    /// Stable code.
    pub code: String,
    /// Title in the reader's language.
    pub title: String,
    /// Title in Russian.
    pub title_ru: String,
    /// Title in English.
    pub title_en: String,
    /// The record sections it states.
    pub sections: Vec<CertificateSection>,
    /// Which period it may cover.
    pub period: CertificatePeriod,
    /// The longest period, in days.
    pub max_period_days: Option<u32>,
    /// The default period, in days.
    pub default_period_days: Option<u32>,
    /// Validity from issue, in days.
    pub validity_days: Option<u32>,
    /// How it is stored among the documents.
    pub document_kind: DocumentKind,
    /// Shipped with Kabinet.
    pub builtin: bool,
    /// Patients may ask for it (a retired kind is not offered).
    pub active: bool,
}

impl CertificateKindInfo {
    /// The title in `locale`.
    pub(crate) fn title_in(&self, locale: Locale) -> &str {
        match locale {
            Locale::Ru => &self.title_ru,
            Locale::En => &self.title_en,
        }
    }
}

/// A kind code: `a-z` first, then `a-z`, digits and `_`, 3–64 characters in all. Anything
/// else is never looked up (a NUL byte or a megabyte of text never reaches the database).
pub(crate) fn well_formed(code: &str) -> bool {
    (3..=64).contains(&code.len())
        && code.starts_with(|c: char| c.is_ascii_lowercase())
        && code.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn days(field: &'static str, value: Option<u32>) -> Result<Option<u32>> {
    match value {
        Some(0) => Err(ValidationError::new(field, Reason::Format).into()),
        Some(d) if d > MAX_KIND_DAYS => Err(ValidationError::new(field, Reason::TooLong).into()),
        other => Ok(other),
    }
}

/// Checks a definition: a well-formed code, clean titles, known non-repeating sections,
/// day counts in range and consistent with the period rule, a document kind a certificate
/// can be stored as.
pub(crate) fn check(def: CertificateKindDefinition) -> Result<CertificateKindDefinition> {
    let code = def.code.trim().to_owned();
    if code.is_empty() {
        return Err(ValidationError::new("code", Reason::Empty).into());
    }
    if !well_formed(&code) {
        return Err(ValidationError::new("code", Reason::Format).into());
    }
    let title_ru = crate::directory::text_field("title_ru", &def.title_ru, MAX_TITLE_CHARS)?;
    let title_en = crate::directory::text_field("title_en", &def.title_en, MAX_TITLE_CHARS)?;
    if def.sections.is_empty() {
        return Err(ValidationError::new("sections", Reason::Empty).into());
    }
    let mut seen = std::collections::BTreeSet::new();
    if !def.sections.iter().all(|s| seen.insert(*s)) {
        return Err(ValidationError::new("sections", Reason::Format).into());
    }
    let max_period_days = days("max_period_days", def.max_period_days)?;
    let default_period_days = days("default_period_days", def.default_period_days)?;
    let validity_days = days("validity_days", def.validity_days)?;
    if def.period == CertificatePeriod::WholeRecord && (max_period_days.is_some() || default_period_days.is_some()) {
        return Err(ValidationError::new("period", Reason::Mismatch).into());
    }
    if let (Some(d), Some(m)) = (default_period_days, max_period_days)
        && d > m
    {
        return Err(ValidationError::new("default_period_days", Reason::TooLong).into());
    }
    if !matches!(def.document_kind, DocumentKind::Certificate | DocumentKind::Extract) {
        return Err(ValidationError::new("document_kind", Reason::UnknownValue).into());
    }
    Ok(CertificateKindDefinition {
        code,
        title_ru,
        title_en,
        max_period_days,
        default_period_days,
        validity_days,
        ..def
    })
}

/// The period a certificate covers under its kind's rule, from what the patient gave and
/// today's date at the issuing clinic: `(since, until)`.
pub(crate) fn period(
    kind: &CertificateKindInfo,
    since: Option<Date>,
    until: Option<Date>,
    today: Date,
) -> Result<(Option<Date>, Option<Date>)> {
    if let (Some(s), Some(u)) = (since, until)
        && s > u
    {
        return Err(ValidationError::new("since", Reason::Format).into());
    }
    let given = since.is_some() || until.is_some();
    match kind.period {
        CertificatePeriod::WholeRecord if given => {
            return Err(Error::Conflict { code: "certificate.period_not_allowed" });
        }
        CertificatePeriod::Required if since.is_none() => {
            return Err(Error::Conflict { code: "certificate.period_required" });
        }
        _ => {}
    }
    let (since, until) = match (since, kind.default_period_days) {
        (None, Some(d)) if until.is_none() => (today.checked_sub(time::Duration::days(i64::from(d))), Some(today)),
        _ => (since, until),
    };
    if let Some(max) = kind.max_period_days {
        // An open start is the whole record: longer than any limit.
        let Some(s) = since else {
            return Err(Error::Conflict { code: "certificate.period_too_long" });
        };
        if (until.unwrap_or(today) - s).whole_days() > i64::from(max) {
            return Err(Error::Conflict { code: "certificate.period_too_long" });
        }
    }
    Ok((since, until))
}

/// The date a certificate of `kind` issued on `issued` is valid until.
pub(crate) fn valid_until(kind: &CertificateKindInfo, issued: Date) -> Option<Date> {
    kind.validity_days.and_then(|d| issued.checked_add(time::Duration::days(i64::from(d))))
}

/// Sections as stored: comma-separated values.
pub(super) fn sections_text(sections: &[CertificateSection]) -> String {
    sections.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(",")
}

/// Sections read back; anything else is damaged data.
pub(super) fn sections_stored(text: &str) -> Result<Vec<CertificateSection>> {
    Ok(text.split(',').map(CertificateSection::stored).collect::<std::result::Result<_, _>>()?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;
    use time::macros::date;

    fn definition() -> CertificateKindDefinition {
        CertificateKindDefinition {
            code: String::from("sport_clearance"),
            title_ru: "Справка для занятий спортом".into(),
            title_en: "Sports clearance".into(),
            sections: vec![CertificateSection::Screenings],
            period: CertificatePeriod::Optional,
            max_period_days: Some(365),
            default_period_days: Some(180),
            validity_days: Some(365),
            document_kind: DocumentKind::Certificate,
        }
    }

    fn with_code(code: &str) -> CertificateKindDefinition {
        CertificateKindDefinition { code: code.to_owned(), ..definition() }
    }

    fn info(def: CertificateKindDefinition) -> CertificateKindInfo {
        CertificateKindInfo {
            title: def.title_en.clone(),
            code: def.code,
            title_ru: def.title_ru,
            title_en: def.title_en,
            sections: def.sections,
            period: def.period,
            max_period_days: def.max_period_days,
            default_period_days: def.default_period_days,
            validity_days: def.validity_days,
            document_kind: def.document_kind,
            builtin: false,
            active: true,
        }
    }

    fn field(e: Error) -> (&'static str, Reason) {
        match e {
            Error::Validation(v) => (v.field, v.reason),
            other => panic!("not a validation error: {other:?}"),
        }
    }

    #[test]
    fn r10_a_definition_is_checked_field_by_field() {
        assert_eq!(check(definition()).unwrap().code, "sport_clearance");
        let cases: Vec<(CertificateKindDefinition, (&str, Reason))> = vec![
            (with_code(" "), ("code", Reason::Empty)),
            (with_code("Sport"), ("code", Reason::Format)),
            (with_code("1abc"), ("code", Reason::Format)),
            (with_code("ab"), ("code", Reason::Format)),
            (with_code(&"a".repeat(65)), ("code", Reason::Format)),
            (with_code("spört"), ("code", Reason::Format)),
            (with_code("a;drop table"), ("code", Reason::Format)),
            (CertificateKindDefinition { title_ru: "".into(), ..definition() }, ("title_ru", Reason::Empty)),
            (CertificateKindDefinition { title_en: "x\u{202e}y".into(), ..definition() }, ("title_en", Reason::Format)),
            (CertificateKindDefinition { title_en: "x\0".into(), ..definition() }, ("title_en", Reason::Format)),
            (CertificateKindDefinition { title_ru: "я".repeat(301), ..definition() }, ("title_ru", Reason::TooLong)),
            (CertificateKindDefinition { sections: vec![], ..definition() }, ("sections", Reason::Empty)),
            (
                CertificateKindDefinition {
                    sections: vec![CertificateSection::Visits, CertificateSection::Visits],
                    ..definition()
                },
                ("sections", Reason::Format),
            ),
            (CertificateKindDefinition { validity_days: Some(0), ..definition() }, ("validity_days", Reason::Format)),
            (
                CertificateKindDefinition { max_period_days: Some(u32::MAX), ..definition() },
                ("max_period_days", Reason::TooLong),
            ),
            (
                CertificateKindDefinition { default_period_days: Some(400), ..definition() },
                ("default_period_days", Reason::TooLong),
            ),
            (
                CertificateKindDefinition { period: CertificatePeriod::WholeRecord, ..definition() },
                ("period", Reason::Mismatch),
            ),
            (
                CertificateKindDefinition { document_kind: DocumentKind::LabResult, ..definition() },
                ("document_kind", Reason::UnknownValue),
            ),
        ];
        for (def, want) in cases {
            let shown = format!("{def:?}");
            assert_eq!(field(check(def).unwrap_err()), want, "{shown}");
        }
    }

    #[test]
    fn r10_the_period_follows_the_kind_rule() {
        let today = date!(2026 - 12 - 01);
        let kind = info(definition());
        // No period: the default window ending today.
        assert_eq!(period(&kind, None, None, today).unwrap(), (Some(date!(2026 - 06 - 04)), Some(today)));
        // A period within the limit is kept as given.
        let within = period(&kind, Some(date!(2026 - 01 - 01)), Some(date!(2026 - 06 - 30)), today).unwrap();
        assert_eq!(within, (Some(date!(2026 - 01 - 01)), Some(date!(2026 - 06 - 30))));
        let code = |r: Result<_>| r.unwrap_err().code();
        assert_eq!(code(period(&kind, Some(date!(2020 - 01 - 01)), None, today)), "certificate.period_too_long");
        // Only an end: the open start is longer than any limit.
        assert_eq!(code(period(&kind, None, Some(date!(2026 - 01 - 01)), today)), "certificate.period_too_long");
        assert_eq!(code(period(&kind, Some(today), Some(date!(2026 - 01 - 01)), today)), "validation");
        let required = info(CertificateKindDefinition { period: CertificatePeriod::Required, ..definition() });
        assert_eq!(code(period(&required, None, None, today)), "certificate.period_required");
        let whole = info(CertificateKindDefinition {
            period: CertificatePeriod::WholeRecord,
            max_period_days: None,
            default_period_days: None,
            ..definition()
        });
        assert_eq!(period(&whole, None, None, today).unwrap(), (None, None));
        assert_eq!(code(period(&whole, None, Some(today), today)), "certificate.period_not_allowed");
        // Far dates never overflow.
        let far = period(&kind, Some(Date::MIN), Some(Date::MAX), Date::MAX);
        assert_eq!(code(far), "certificate.period_too_long");
        assert_eq!(valid_until(&kind, date!(2026 - 12 - 01)), Some(date!(2027 - 12 - 01)));
        assert_eq!(valid_until(&kind, Date::MAX), None);
    }

    #[test]
    fn sections_are_stored_as_their_values_and_read_back_strictly() {
        let all = CertificateSection::ALL.to_vec();
        assert_eq!(sections_stored(&sections_text(&all)).unwrap(), all);
        assert!(sections_stored("visits,Visits").is_err());
        assert!(sections_stored("").is_err());
    }
}
