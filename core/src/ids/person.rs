//! Personal fields other than numbered identifiers: names, e-mail, sex.

use super::{Reason, ValidationError};

crate::sets::closed_set! {
    /// Sex as recorded in Russian documents. Parsing also takes `m`/`f` and `м`/`ж` (and
    /// `муж`/`жен`, `мужской`/`женский`) — documented aliases, any case.
    pub enum Sex in "sex" {
        /// Male.
        Male = "male" | "m" | "м" | "муж" | "мужской",
        /// Female.
        Female = "female" | "f" | "ж" | "жен" | "женский",
        /// Not recorded by the system a record came from (FHIR `unknown`, `other` or absent).
        /// Only imports produce it: registration (R1) requires male or female.
        Unknown = "unknown",
    }
}

impl Sex {
    /// Parses a value a person gives at registration: what [`Sex::parse`] takes except
    /// `"unknown"` (R1 requires male or female).
    pub fn parse_known(input: &str) -> Result<Sex, ValidationError> {
        Sex::parse(input)?.known()
    }

    /// This value, unless it is `Unknown`, which a person cannot register with (R1 requires
    /// male or female); the error lists the two.
    pub fn known(self) -> Result<Sex, ValidationError> {
        match self {
            Sex::Unknown => Err(ValidationError::one_of("sex", false, &["male", "female"])),
            other => Ok(other),
        }
    }
}

/// A part of a person's name: letters (Cyrillic or Latin), spaces, hyphens and
/// apostrophes; trimmed; at most 100 characters. `field` names it in the error.
pub fn person_name(field: &'static str, input: &str) -> Result<String, ValidationError> {
    let name = input.trim();
    if name.is_empty() {
        return Err(ValidationError::new(field, Reason::Empty));
    }
    if name.chars().count() > 100 {
        return Err(ValidationError::new(field, Reason::TooLong));
    }
    let ok = name.chars().all(|c| c.is_alphabetic() || matches!(c, ' ' | '-' | '\'' | '’' | '.'))
        && name.chars().next().is_some_and(char::is_alphabetic);
    if !ok {
        return Err(ValidationError::new(field, Reason::Format));
    }
    Ok(name.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// An e-mail address: one `@`, a non-empty local part, a domain with a dot; lower-cased
/// domain; at most 254 characters.
pub fn email(input: &str) -> Result<String, ValidationError> {
    const FIELD: &str = "email";
    let value = input.trim();
    if value.is_empty() {
        return Err(ValidationError::new(FIELD, Reason::Empty));
    }
    if value.len() > 254 {
        return Err(ValidationError::new(FIELD, Reason::TooLong));
    }
    let Some((local, domain)) = value.rsplit_once('@') else {
        return Err(ValidationError::new(FIELD, Reason::Format));
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.contains('@')
        && !local.chars().any(|c| c.is_whitespace() || c.is_control());
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        });
    if !(local_ok && domain_ok) {
        return Err(ValidationError::new(FIELD, Reason::Format));
    }
    Ok(format!("{local}@{}", domain.to_lowercase()))
}
