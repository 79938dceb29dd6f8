//! Reading FHIR JSON: entries, references, dates, codeable concepts, patients.

use std::collections::{BTreeMap, HashMap};

use serde_json::Value;
use time::{Date, OffsetDateTime};

use super::{ENP_SYSTEM, SNILS_SYSTEM};
use crate::error::{Error, Result};
use crate::patients::NewPatient;

pub(super) fn bad(path: &str, reason: &'static str) -> Error {
    Error::Fhir(super::FhirError { code: "fhir.invalid", path: path.to_owned(), reason })
}

/// A patient or record matched by id that disagrees with what is on file.
pub(super) fn mismatch(path: &str) -> Error {
    Error::Fhir(super::FhirError { code: "fhir.patient_mismatch", path: path.to_owned(), reason: "mismatch" })
}

pub(super) fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

pub(super) fn text_of(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["display"].as_str()))
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["code"].as_str()))
        .map(str::to_owned)
}

pub(super) fn parse_date(v: &Value, path: &str) -> Result<Date> {
    let s = v.as_str().ok_or_else(|| bad(path, "missing"))?;
    let day = s.get(..10).unwrap_or(s);
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    if let Ok(d) = Date::parse(day, fmt) {
        return Ok(d);
    }
    // Partial dates (`2013`, `2013-04`) count from their first day.
    let parts: Vec<&str> = s.split('-').collect();
    let year: i32 = parts.first().and_then(|y| y.parse().ok()).ok_or_else(|| bad(path, "format"))?;
    let month: u8 = parts.get(1).and_then(|m| m.get(..2)?.parse().ok()).unwrap_or(1);
    let month = time::Month::try_from(month).map_err(|_| bad(path, "format"))?;
    Date::from_calendar_date(year, month, 1).map_err(|_| bad(path, "format"))
}

pub(super) fn parse_time(v: &Value, path: &str) -> Result<OffsetDateTime> {
    let s = v.as_str().ok_or_else(|| bad(path, "missing"))?;
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .or_else(|_| parse_date(v, path).map(|d| d.midnight().assume_utc()))
}

/// One resource of the input with where it came from.
pub(super) struct Entry<'a> {
    /// Position in the input.
    pub index: usize,
    /// JSON path of the resource (`entry[3].resource`, or empty for a single resource).
    pub path: String,
    /// `Kind/id`, or the `fullUrl` when the resource has no id: the name it is remembered by.
    pub key: Option<String>,
    /// The resource type.
    pub kind: &'a str,
    /// The resource.
    pub resource: &'a Value,
    full_url: Option<&'a str>,
}

impl Entry<'_> {
    /// The path of a field of this resource.
    pub fn at(&self, field: &str) -> String {
        if self.path.is_empty() { field.to_owned() } else { format!("{}.{field}", self.path) }
    }
}

/// The input's resources with every name a reference may use for them (`Kind/id`, the
/// `fullUrl`, a `urn:uuid:`), so references inside a bundle resolve.
pub(super) struct Input<'a> {
    pub entries: Vec<Entry<'a>>,
    aliases: HashMap<String, usize>,
}

impl<'a> Input<'a> {
    /// A Bundle's entries, or the single resource.
    pub fn new(root: &'a Value) -> Result<Self> {
        let kind = root["resourceType"].as_str().ok_or_else(|| bad("resourceType", "missing"))?;
        let entries = if kind != "Bundle" {
            vec![Entry { index: 0, path: String::new(), key: key_of(root, None), kind, resource: root, full_url: None }]
        } else {
            let list = match &root["entry"] {
                Value::Null => [].iter(),
                Value::Array(list) => list.iter(),
                _ => return Err(bad("entry", "type")),
            };
            list.enumerate()
                .map(|(index, e)| {
                    let path = format!("entry[{index}].resource");
                    let resource = &e["resource"];
                    let kind = resource["resourceType"]
                        .as_str()
                        .filter(|_| resource.is_object())
                        .ok_or_else(|| bad(&format!("{path}.resourceType"), "missing"))?;
                    let full_url = e["fullUrl"].as_str();
                    Ok(Entry { index, key: key_of(resource, full_url), kind, path, resource, full_url })
                })
                .collect::<Result<Vec<_>>>()?
        };
        let mut aliases = HashMap::new();
        for e in &entries {
            for alias in [e.key.clone(), e.full_url.map(str::to_owned), e.full_url.map(ref_key)].into_iter().flatten() {
                aliases.entry(alias).or_insert(e.index);
            }
        }
        Ok(Input { entries, aliases })
    }

    /// The entry a reference points to, when it is in the input.
    pub fn find(&self, reference: &str) -> Option<&Entry<'a>> {
        self.aliases.get(reference).or_else(|| self.aliases.get(&ref_key(reference))).map(|i| &self.entries[*i])
    }

    /// The name a reference is remembered by: its entry's key when it is in the input, else
    /// its `Kind/id` form (a resource imported before).
    pub fn key(&self, reference: &str) -> String {
        self.find(reference).and_then(|e| e.key.clone()).unwrap_or_else(|| ref_key(reference))
    }

    /// Entries of one resource type.
    pub fn of_kind<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = &'s Entry<'a>> + 's {
        self.entries.iter().filter(move |e| e.kind == kind)
    }
}

pub(super) fn key_of(resource: &Value, full_url: Option<&str>) -> Option<String> {
    let kind = resource["resourceType"].as_str()?;
    match (resource["id"].as_str(), full_url) {
        (Some(id), _) => Some(format!("{kind}/{id}")),
        (None, Some(url)) => Some(url.to_owned()),
        _ => None,
    }
}

/// Resolves a reference (`Patient/x`, `urn:uuid:…`, an absolute URL ending in `Patient/x`)
/// to the key of an entry.
pub(super) fn ref_key(reference: &str) -> String {
    if reference.starts_with("urn:") {
        return reference.to_owned();
    }
    let parts: Vec<&str> = reference.trim_end_matches('/').rsplitn(3, '/').collect();
    match parts.as_slice() {
        [id, kind, ..] => format!("{kind}/{id}"),
        _ => reference.to_owned(),
    }
}

pub(super) fn new_patient(r: &Value, path: &str) -> Result<NewPatient> {
    let names = r["name"].as_array().ok_or_else(|| bad(&format!("{path}.name"), "missing"))?;
    let name = names
        .iter()
        .find(|n| n["use"] == "official")
        .or_else(|| names.first())
        .ok_or_else(|| bad(&format!("{path}.name"), "missing"))?;
    let family = name["family"].as_str().ok_or_else(|| bad(&format!("{path}.name.family"), "missing"))?;
    let given: Vec<&str> =
        name["given"].as_array().map(|g| g.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    let first = given.first().ok_or_else(|| bad(&format!("{path}.name.given"), "missing"))?;
    let identifier = |system: &str| {
        r["identifier"]
            .as_array()?
            .iter()
            .find(|i| i["system"] == system)
            .and_then(|i| i["value"].as_str())
            .map(str::to_owned)
    };
    let telecom = |system: &str| {
        r["telecom"]
            .as_array()?
            .iter()
            .filter(|t| t["system"] == system)
            .find_map(|t| t["value"].as_str())
            .map(str::to_owned)
    };
    Ok(NewPatient {
        surname: family.to_owned(),
        given_name: (*first).to_owned(),
        patronymic: given.get(1).map(|s| (*s).to_owned()),
        birth_date: parse_date(&r["birthDate"], &format!("{path}.birthDate"))?,
        sex: match r["gender"].as_str() {
            Some("male") => crate::ids::Sex::Male,
            Some("female") => crate::ids::Sex::Female,
            _ => crate::ids::Sex::Unknown,
        },
        snils: identifier(SNILS_SYSTEM),
        inn: None,
        oms_policy: identifier(ENP_SYSTEM),
        // Contacts only when they are valid Russian ones; others are not login identifiers.
        phone: telecom("phone").filter(|p| crate::ids::phone(p).is_ok()),
        email: telecom("email").filter(|e| crate::ids::email(e).is_ok()),
    })
}

/// The first of January of the first plausible year in a free-text date ("January 2012").
pub(super) fn year_of(v: &Value) -> Option<Date> {
    let text = v.as_str()?;
    let digits: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|s| s.len() == 4).collect();
    let year: i32 = digits.iter().filter_map(|d| d.parse().ok()).find(|y| (1900..=2100).contains(y))?;
    Date::from_calendar_date(year, time::Month::January, 1).ok()
}
