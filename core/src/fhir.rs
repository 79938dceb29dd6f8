//! HL7 FHIR R4 (issue 8, first part): export of a patient's record as a `Bundle` of type
//! `collection`, and import of bundles or single resources for the kinds Kabinet holds —
//! Patient, Immunization, AllergyIntolerance, Condition (ICD-10, as a visit),
//! MedicationStatement / MedicationRequest, Observation (with `referenceRange`, grouped by
//! its DiagnosticReport). Other resource types are counted as unsupported, never dropped
//! silently.
//!
//! The mapping is written against `serde_json::Value` rather than a FHIR model crate: the
//! subset is small, the full R4 models (fhir-sdk, fhirbolt) cost minutes of compile time on
//! this 2-core build and still need the same mapping code; see `docs/architecture.md`.
//!
//! Import is one transaction: the whole input is parsed and checked first, and the first
//! problem refuses everything with its JSON path (`fhir.invalid`). It is idempotent: every
//! source resource is remembered (`fhir_sources`), and resources whose id is a Kabinet id
//! (an export being re-imported) are recognised, so importing twice changes nothing. A
//! patient is matched by SNILS or OMS policy; a match whose name or birth date differ is a
//! `fhir.patient_mismatch` conflict — two people are never merged.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use crate::audit::{Action, AuditContext};
use crate::cabinet::Cabinet;
use crate::error::{Error, ErrorCode, ErrorKind, Result};
use crate::labs::{LabReport, LabResultInput};
use crate::medical::Vault;
use crate::patients::{NewPatient, Patients};
use crate::records::{Allergy, Diagnosis, Immunization, ItemData, Medication, Visit};
use crate::store::{Conn, StorageError};
use crate::timeutil::to_micros;

/// Identifier system of SNILS (Russian OID registry).
pub const SNILS_SYSTEM: &str = "urn:oid:1.2.643.100.3";
/// Identifier system of the OMS policy number (ENP).
pub const ENP_SYSTEM: &str = "urn:oid:1.2.643.5.1.13.2.7.100.5";
/// ICD-10 code system.
pub const ICD10_SYSTEM: &str = "http://hl7.org/fhir/sid/icd-10";

fn sq(e: sqlx::Error) -> Error {
    StorageError::from_sqlx(e).into()
}

/// A bundle or resource that cannot be imported, with the JSON path of the first problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid FHIR at {path}: {reason}")]
pub struct FhirError {
    /// JSON path such as `entry[3].resource.birthDate`.
    pub path: String,
    /// What is wrong (`missing`, `format`, `reference`, `type`).
    pub reason: &'static str,
}

impl ErrorCode for FhirError {
    fn code(&self) -> &'static str {
        "fhir.invalid"
    }
    fn kind(&self) -> ErrorKind {
        ErrorKind::Validation
    }
    fn message(&self, locale: crate::i18n::Locale) -> String {
        format!("{}: {} ({})", crate::i18n::text(locale, "fhir.invalid"), self.path, self.reason)
    }
}

fn bad(path: &str, reason: &'static str) -> Error {
    Error::Fhir(FhirError { path: path.to_owned(), reason })
}

/// What an import did, by resource type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Records created.
    pub created: BTreeMap<String, u64>,
    /// Resources already imported (or Kabinet's own), left as they were.
    pub unchanged: BTreeMap<String, u64>,
    /// Resources of types Kabinet does not hold.
    pub unsupported: BTreeMap<String, u64>,
    /// The local patients the input concerned.
    pub patient_ids: Vec<String>,
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str) {
    *map.entry(key.to_owned()).or_default() += 1;
}

fn text_of(concept: &Value) -> Option<String> {
    concept["text"]
        .as_str()
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["display"].as_str()))
        .or_else(|| concept["coding"].as_array()?.iter().find_map(|c| c["code"].as_str()))
        .map(str::to_owned)
}

fn parse_date(v: &Value, path: &str) -> Result<Date> {
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

fn parse_time(v: &Value, path: &str) -> Result<OffsetDateTime> {
    let s = v.as_str().ok_or_else(|| bad(path, "missing"))?;
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
        .or_else(|_| parse_date(v, path).map(|d| d.midnight().assume_utc()))
}

/// One resource of the input with where it came from.
struct Entry<'a> {
    path: String,
    key: Option<String>,
    resource: &'a Value,
}

/// The input's resources: a Bundle's entries, or the single resource.
fn entries(root: &Value) -> Result<Vec<Entry<'_>>> {
    let kind = root["resourceType"].as_str().ok_or_else(|| bad("resourceType", "missing"))?;
    if kind != "Bundle" {
        return Ok(vec![Entry { path: String::new(), key: key_of(root, None), resource: root }]);
    }
    let list = match &root["entry"] {
        Value::Null => return Ok(Vec::new()),
        Value::Array(list) => list,
        _ => return Err(bad("entry", "type")),
    };
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let path = format!("entry[{i}].resource");
            let resource = &e["resource"];
            if !resource.is_object() || resource["resourceType"].as_str().is_none() {
                return Err(bad(&format!("{path}.resourceType"), "missing"));
            }
            Ok(Entry { key: key_of(resource, e["fullUrl"].as_str()), path, resource })
        })
        .collect()
}

fn key_of(resource: &Value, full_url: Option<&str>) -> Option<String> {
    let kind = resource["resourceType"].as_str()?;
    match (resource["id"].as_str(), full_url) {
        (Some(id), _) => Some(format!("{kind}/{id}")),
        (None, Some(url)) => Some(url.to_owned()),
        _ => None,
    }
}

/// Resolves a reference (`Patient/x`, `urn:uuid:…`, an absolute URL ending in `Patient/x`)
/// to the key of an entry.
fn ref_key(reference: &str) -> String {
    if reference.starts_with("urn:") {
        return reference.to_owned();
    }
    let parts: Vec<&str> = reference.trim_end_matches('/').rsplitn(3, '/').collect();
    match parts.as_slice() {
        [id, kind, ..] => format!("{kind}/{id}"),
        _ => reference.to_owned(),
    }
}

fn new_patient(r: &Value, path: &str) -> Result<NewPatient> {
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
        sex: r["gender"].as_str().unwrap_or("unknown").to_owned(),
        snils: identifier(SNILS_SYSTEM),
        inn: None,
        oms_policy: identifier(ENP_SYSTEM),
        // Contacts only when they are valid Russian ones; others are not login identifiers.
        phone: telecom("phone").filter(|p| crate::ids::phone(p).is_ok()),
        email: telecom("email").filter(|e| crate::ids::email(e).is_ok()),
    })
}

/// The first of January of the first plausible year in a free-text date ("January 2012").
fn year_of(v: &Value) -> Option<Date> {
    let text = v.as_str()?;
    let digits: Vec<&str> = text.split(|c: char| !c.is_ascii_digit()).filter(|s| s.len() == 4).collect();
    let year: i32 = digits.iter().filter_map(|d| d.parse().ok()).find(|y| (1900..=2100).contains(y))?;
    Date::from_calendar_date(year, time::Month::January, 1).ok()
}

/// A parsed clinical resource, ready to store for a patient reference.
enum Clinical {
    Item(ItemData),
    Lab(LabResultInput, Option<OffsetDateTime>),
}

fn clinical(r: &Value, path: &str, today: Date, report_time: Option<OffsetDateTime>) -> Result<Option<Clinical>> {
    let p = |s: &str| format!("{path}.{s}");
    let kind = r["resourceType"].as_str().unwrap_or_default();
    Ok(Some(match kind {
        "Immunization" => {
            if r["status"] == "not-done" {
                return Ok(None);
            }
            let vaccine = text_of(&r["vaccineCode"]).ok_or_else(|| bad(&p("vaccineCode"), "missing"))?;
            let dose = r["protocolApplied"][0]["doseNumberPositiveInt"].as_u64().map(|d| d.to_string());
            Clinical::Item(ItemData::Immunization(Immunization {
                vaccine,
                // A historical record may give only `occurrenceString` ("January 2012"): then
                // the date it was recorded stands in.
                date: if r["occurrenceDateTime"].is_string() {
                    parse_date(&r["occurrenceDateTime"], &p("occurrenceDateTime"))?
                } else if r["recorded"].is_string() {
                    parse_date(&r["recorded"], &p("recorded"))?
                } else {
                    year_of(&r["occurrenceString"]).ok_or_else(|| bad(&p("occurrenceDateTime"), "missing"))?
                },
                dose,
                lot: r["lotNumber"].as_str().map(str::to_owned),
                performer: r["performer"][0]["actor"]["display"].as_str().map(str::to_owned),
                next_due: None,
            }))
        }
        "AllergyIntolerance" => {
            let substance = text_of(&r["code"]).ok_or_else(|| bad(&p("code"), "missing"))?;
            let reaction = r["reaction"][0]["manifestation"][0].clone();
            let noted = ["recordedDate", "onsetDateTime"]
                .iter()
                .find(|k| r[**k].is_string())
                .map(|k| parse_date(&r[*k], &p(k)))
                .transpose()?;
            let severity = r["reaction"][0]["severity"].as_str().map(str::to_owned);
            Clinical::Item(ItemData::Allergy(Allergy {
                reaction: text_of(&reaction).unwrap_or_else(|| "—".into()),
                substance,
                severity,
                noted_on: noted.unwrap_or(today).min(today),
            }))
        }
        "Condition" => {
            let codings = r["code"]["coding"].as_array().cloned().unwrap_or_default();
            let Some(icd) = codings.iter().find(|c| c["system"].as_str().is_some_and(|s| s.starts_with(ICD10_SYSTEM)))
            else {
                return Ok(None);
            };
            let code = icd["code"].as_str().ok_or_else(|| bad(&p("code.coding.code"), "missing"))?;
            let date = ["recordedDate", "onsetDateTime"]
                .iter()
                .find(|k| r[**k].is_string())
                .map(|k| parse_date(&r[*k], &p(k)))
                .transpose()?;
            Clinical::Item(ItemData::Visit(Visit {
                date: date.unwrap_or(today).min(today),
                institution: r["asserter"]["display"].as_str().unwrap_or("—").to_owned(),
                diagnoses: vec![Diagnosis {
                    icd10: code.to_owned(),
                    text: icd["display"].as_str().or_else(|| r["code"]["text"].as_str()).unwrap_or(code).to_owned(),
                }],
                procedures: Vec::new(),
            }))
        }
        "MedicationStatement" | "MedicationRequest" => {
            let contained = r["medicationReference"]["reference"].as_str().and_then(|id| {
                let id = id.strip_prefix('#')?;
                r["contained"].as_array()?.iter().find(|c| c["id"] == id).and_then(|c| text_of(&c["code"]))
            });
            let name = text_of(&r["medicationCodeableConcept"])
                .or(contained)
                .or_else(|| r["medicationReference"]["display"].as_str().map(str::to_owned))
                .ok_or_else(|| bad(&p("medicationCodeableConcept"), "missing"))?;
            let dosage = if kind == "MedicationStatement" { &r["dosage"][0] } else { &r["dosageInstruction"][0] };
            let start_field = if kind == "MedicationStatement" { "effectivePeriod" } else { "dispenseRequest" };
            let start = r["effectiveDateTime"]
                .as_str()
                .or_else(|| r[start_field]["start"].as_str())
                .or_else(|| r["dispenseRequest"]["validityPeriod"]["start"].as_str())
                .or_else(|| r["authoredOn"].as_str())
                .map(|s| parse_date(&json!(s), &p("effectivePeriod.start")))
                .transpose()?
                .unwrap_or(today);
            let end = r["effectivePeriod"]["end"]
                .as_str()
                .map(|s| parse_date(&json!(s), &p("effectivePeriod.end")))
                .transpose()?;
            let text = dosage["text"].as_str().unwrap_or("—").to_owned();
            Clinical::Item(ItemData::Medication(Medication {
                name,
                dosage: text.clone(),
                schedule: dosage["timing"]["code"]["text"].as_str().map_or(text, str::to_owned),
                start,
                end: end.filter(|e| *e >= start),
                prescriber: r["informationSource"]["display"]
                    .as_str()
                    .or_else(|| r["requester"]["display"].as_str())
                    .unwrap_or("—")
                    .to_owned(),
            }))
        }
        "Observation" => {
            let value = r["valueQuantity"]["value"].as_f64();
            let value_text =
                r["valueString"].as_str().map(str::to_owned).or_else(|| text_of(&r["valueCodeableConcept"]));
            if value.is_none() && value_text.is_none() {
                return Ok(None);
            }
            let sampled = ["effectiveDateTime", "effectiveInstant"]
                .iter()
                .find(|k| r[**k].is_string())
                .map(|k| parse_time(&r[*k], &p(k)))
                .or_else(|| {
                    r["effectivePeriod"]["start"]
                        .is_string()
                        .then(|| parse_time(&r["effectivePeriod"]["start"], &p("effectivePeriod.start")))
                })
                .or_else(|| r["issued"].is_string().then(|| parse_time(&r["issued"], &p("issued"))))
                .or_else(|| report_time.map(Ok))
                .ok_or_else(|| bad(&p("effectiveDateTime"), "missing"))??;
            let issued = r["issued"].is_string().then(|| parse_time(&r["issued"], &p("issued"))).transpose()?;
            let range = &r["referenceRange"][0];
            Clinical::Lab(
                LabResultInput {
                    test_name: text_of(&r["code"]).ok_or_else(|| bad(&p("code"), "missing"))?,
                    code: r["code"]["coding"][0]["code"].as_str().unwrap_or("—").to_owned(),
                    value: if value_text.is_some() && value.is_none() { None } else { value },
                    value_text: if value.is_some() { None } else { value_text },
                    unit: r["valueQuantity"]["unit"]
                        .as_str()
                        .or_else(|| r["valueQuantity"]["code"].as_str())
                        .map(str::to_owned),
                    range_low: range["low"]["value"].as_f64(),
                    range_high: range["high"]["value"].as_f64(),
                    range_text: range["text"].as_str().map(str::to_owned),
                    sampled_at: sampled,
                },
                issued,
            )
        }
        _ => return Ok(None),
    }))
}

/// Imports a FHIR R4 bundle (transaction, batch or collection) or a single resource.
pub(crate) async fn import(cab: &Cabinet, json_text: &str) -> Result<ImportReport> {
    let root: Value = serde_json::from_str(json_text).map_err(|_| bad("$", "json"))?;
    let list = entries(&root)?;
    let now_t = cab.now();
    let today = now_t.date();
    let now = to_micros(now_t);
    let ctx = AuditContext::system();
    // Check everything first: nothing is written unless the whole input is good.
    let mut patients = Vec::new();
    let mut clinicals = Vec::new();
    // DiagnosticReports first: they name, date and group the Observations they list.
    let mut report_titles: HashMap<String, (String, String, Option<OffsetDateTime>, String)> = HashMap::new();
    for e in list.iter().filter(|e| e.resource["resourceType"] == "DiagnosticReport") {
        let title = text_of(&e.resource["code"]).unwrap_or_else(|| "—".into());
        let lab = e.resource["performer"][0]["display"].as_str().unwrap_or("—").to_owned();
        let when = ["effectiveDateTime", "issued"]
            .iter()
            .find(|k| e.resource[**k].is_string())
            .map(|k| parse_time(&e.resource[*k], &format!("{}.{k}", e.path)))
            .transpose()?;
        for r in e.resource["result"].as_array().into_iter().flatten() {
            if let Some(reference) = r["reference"].as_str() {
                let group = e.key.clone().unwrap_or_else(|| e.path.clone());
                report_titles.insert(ref_key(reference), (title.clone(), lab.clone(), when, group));
            }
        }
    }
    let mut report = ImportReport::default();
    for e in &list {
        let kind = e.resource["resourceType"].as_str().unwrap_or_default().to_owned();
        let report_time = e.key.as_ref().and_then(|k| report_titles.get(k)).and_then(|t| t.2);
        match kind.as_str() {
            "Patient" => patients.push((e, new_patient(e.resource, &e.path)?)),
            "DiagnosticReport" => {}
            _ => match clinical(e.resource, &e.path, today, report_time)? {
                Some(c) => {
                    let subject = e.resource["subject"]["reference"]
                        .as_str()
                        .or_else(|| e.resource["patient"]["reference"].as_str())
                        .ok_or_else(|| bad(&format!("{}.subject", e.path), "missing"))?;
                    clinicals.push((e, kind.clone(), ref_key(subject), c));
                }
                None => bump(&mut report.unsupported, &kind),
            },
        }
    }
    let mut tx = cab.store().begin().await?;
    #[allow(clippy::type_complexity)] // (patient, group) → (title, laboratory, issued, results, path)
    let mut groups: BTreeMap<
        (String, String),
        (String, String, Option<OffsetDateTime>, Vec<(String, LabResultInput)>, String),
    > = BTreeMap::new();
    let people = Patients::new(cab.clone(), ctx.clone());
    let mut local: HashMap<String, String> = HashMap::new();
    for (e, new) in patients {
        let (id, created) = match_patient(cab, &mut tx, &people, e, &new, now_t).await?;
        if let Some(k) = &e.key {
            local.insert(k.clone(), id.clone());
            remember(&mut tx, k, "patient", &id, Some(&id), now).await?;
        }
        bump(if created { &mut report.created } else { &mut report.unchanged }, "Patient");
        if !report.patient_ids.contains(&id) {
            report.patient_ids.push(id);
        }
    }
    for (e, kind, subject, c) in clinicals {
        let patient_id = match local.get(&subject) {
            Some(id) => id.clone(),
            None => known(&mut tx, &subject).await?.ok_or_else(|| bad(&format!("{}.subject", e.path), "reference"))?,
        };
        if !report.patient_ids.contains(&patient_id) {
            report.patient_ids.push(patient_id.clone());
        }
        let source = e.key.clone().unwrap_or_else(|| format!("{kind}/{}", uuid::Uuid::now_v7()));
        if seen(&mut tx, &source, e.resource["id"].as_str()).await? {
            bump(&mut report.unchanged, &kind);
            continue;
        }
        let local_id = match c {
            Clinical::Item(data) => {
                let data = data.validate(today).map_err(|err| match err {
                    Error::Validation(v) => bad(&format!("{}.{}", e.path, v.field), v.reason.as_str()),
                    other => other,
                })?;
                crate::records::insert_item(cab, &mut tx, &ctx, &patient_id, &data, (None, "fhir-import"), now).await?
            }
            Clinical::Lab(input, issued) => {
                // Observations of one DiagnosticReport are stored as one report, below.
                let (title, laboratory, group) = report_titles
                    .get(&source)
                    .map(|t| (t.0.clone(), t.1.clone(), t.3.clone()))
                    .unwrap_or_else(|| (input.test_name.clone(), "—".into(), source.clone()));
                let g = groups
                    .entry((patient_id.clone(), group))
                    .or_insert_with(|| (title, laboratory, None, Vec::new(), e.path.clone()));
                g.2 = g.2.max(issued.map(|i| i.max(input.sampled_at)).or(Some(input.sampled_at)));
                g.3.push((source, input));
                continue;
            }
        };
        remember(&mut tx, &source, &kind, &local_id, Some(&patient_id), now).await?;
        bump(&mut report.created, &kind);
    }
    for ((patient_id, _), (title, laboratory, issued, results, path)) in groups {
        let sampled = results.iter().map(|r| r.1.sampled_at).max();
        let issued_at = issued.or(sampled).ok_or_else(|| bad(&path, "missing"))?;
        let lab = LabReport { title, laboratory, issued_at, results: results.iter().map(|r| r.1.clone()).collect() };
        let (_, stored) = crate::labs::insert_report(cab, &mut tx, &ctx, &patient_id, &lab, None, now).await.map_err(
            |err| match err {
                Error::Validation(v) => bad(&format!("{path}.{}", v.field), v.reason.as_str()),
                other => other,
            },
        )?;
        for ((source, _), result) in results.iter().zip(stored) {
            remember(&mut tx, source, "Observation", &result.id, Some(&patient_id), now).await?;
            bump(&mut report.created, "Observation");
        }
    }
    tx.commit().await.map_err(sq)?;
    Ok(report)
}

async fn match_patient(
    cab: &Cabinet,
    tx: &mut Conn,
    people: &Patients,
    e: &Entry<'_>,
    new: &NewPatient,
    now: OffsetDateTime,
) -> Result<(String, bool)> {
    if let Some(k) = &e.key
        && let Some(id) = known(tx, k).await?
    {
        return Ok((id, false));
    }
    // Kabinet's own export: the id is the local patient id.
    if let Some(id) = e.resource["id"].as_str() {
        let mine: Option<String> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(sq)?;
        if let Some(id) = mine {
            return Ok((id, false));
        }
    }
    let bidx = cab.blind_indexer();
    let by_identifier = match (&new.snils, &new.oms_policy) {
        (Some(s), _) => Some((
            "SELECT id FROM patients WHERE snils_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Snils,
                &crate::ids::snils(s).map_err(|v| bad(&format!("{}.identifier", e.path), v.reason.as_str()))?,
            ),
        )),
        (None, Some(o)) => Some((
            "SELECT id FROM patients WHERE enp_bidx = $1",
            bidx.index(
                crate::crypto::BlindIndexKind::Enp,
                &crate::ids::enp(o).map_err(|v| bad(&format!("{}.identifier", e.path), v.reason.as_str()))?,
            ),
        )),
        _ => None,
    };
    if let Some((sql, index)) = by_identifier {
        let found: Option<String> = sqlx::query_scalar(sql).bind(index).fetch_optional(&mut *tx).await.map_err(sq)?;
        if let Some(id) = found {
            let existing = people.read_in(tx, &id, to_micros(now)).await?;
            let fold = crate::directory::fold;
            if fold(&existing.surname) != fold(&new.surname) || existing.birth_date != new.birth_date {
                return Err(Error::Conflict { code: "fhir.patient_mismatch" });
            }
            return Ok((id, false));
        }
    }
    let id = people.insert(tx, new, now).await.map_err(|err| match err {
        Error::Validation(v) => bad(&format!("{}.{}", e.path, v.field), v.reason.as_str()),
        other => other,
    })?;
    Ok((id, true))
}

async fn known(tx: &mut Conn, source: &str) -> Result<Option<String>> {
    sqlx::query_scalar("SELECT local_id FROM fhir_sources WHERE source = $1")
        .bind(source)
        .fetch_optional(&mut *tx)
        .await
        .map_err(sq)
}

/// Whether a clinical resource was imported before (by source) or is Kabinet's own record.
async fn seen(tx: &mut Conn, source: &str, id: Option<&str>) -> Result<bool> {
    if known(tx, source).await?.is_some() {
        return Ok(true);
    }
    let Some(id) = id else { return Ok(false) };
    let own: Option<i64> =
        sqlx::query_scalar("SELECT 1 FROM medical_items WHERE id = $1 UNION SELECT 1 FROM lab_results WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await
            .map_err(sq)?;
    Ok(own.is_some())
}

async fn remember(
    tx: &mut Conn,
    source: &str,
    kind: &str,
    local_id: &str,
    patient: Option<&str>,
    now: i64,
) -> Result<()> {
    sqlx::query("INSERT INTO fhir_sources (source, local_kind, local_id, patient_id, imported_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (source) DO NOTHING")
        .bind(source)
        .bind(kind)
        .bind(local_id)
        .bind(patient)
        .bind(now)
        .execute(&mut *tx)
        .await
        .map_err(sq)?;
    Ok(())
}

fn coding(system: &str, code: &str, display: &str) -> Value {
    json!({ "coding": [{ "system": system, "code": code, "display": display }], "text": display })
}

/// A patient's record as a FHIR R4 `Bundle` (type `collection`) with Kabinet's ids as
/// resource ids. Journaled as an export.
pub(crate) async fn export(cab: &Cabinet, ctx: &AuditContext, patient_id: &str) -> Result<String> {
    let now = to_micros(cab.now());
    let mut tx = cab.store().begin().await?;
    let person = Patients::new(cab.clone(), ctx.clone()).read_in(&mut tx, patient_id, now).await?;
    let vault = Vault::open(cab, &mut tx, ctx, patient_id, Action::Export, "fhir_bundle", None, now).await?;
    let items = crate::records::load_items(&mut tx, &vault, patient_id, None).await?;
    let labs = crate::labs::load_all(&mut tx, &vault, patient_id).await?;
    tx.commit().await.map_err(sq)?;
    let subject = json!({ "reference": format!("Patient/{patient_id}") });
    let mut given = vec![json!(person.given_name)];
    if let Some(p) = &person.patronymic {
        given.push(json!(p));
    }
    let mut identifiers = Vec::new();
    if let Some(s) = &person.snils {
        identifiers.push(json!({ "system": SNILS_SYSTEM, "value": s }));
    }
    if let Some(o) = &person.oms_policy {
        identifiers.push(json!({ "system": ENP_SYSTEM, "value": o }));
    }
    let mut telecom = Vec::new();
    if let Some(p) = &person.phone {
        telecom.push(json!({ "system": "phone", "value": p, "use": "mobile" }));
    }
    if let Some(e) = &person.email {
        telecom.push(json!({ "system": "email", "value": e }));
    }
    let mut resources = vec![json!({
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": identifiers,
        "name": [{ "use": "official", "family": person.surname, "given": given }],
        "gender": person.sex.as_str(),
        "birthDate": person.birth_date.to_string(),
        "telecom": telecom,
    })];
    for item in items {
        let id = item.id.clone();
        resources.push(match item.data {
            ItemData::Immunization(i) => json!({
                "resourceType": "Immunization", "id": id, "status": "completed", "patient": subject,
                "vaccineCode": { "text": i.vaccine }, "occurrenceDateTime": i.date.to_string(),
                "lotNumber": i.lot, "protocolApplied": i.dose.map(|d| vec![json!({ "doseNumberString": d })]),
            }),
            ItemData::Visit(v) => json!({
                "resourceType": "Condition", "id": id, "subject": subject, "recordedDate": v.date.to_string(),
                "asserter": { "display": v.institution },
                "code": coding(ICD10_SYSTEM, &v.diagnoses.first().map(|d| d.icd10.clone()).unwrap_or_default(),
                               &v.diagnoses.first().map(|d| d.text.clone()).unwrap_or_default()),
            }),
            ItemData::Medication(m) => json!({
                "resourceType": "MedicationStatement", "id": id, "status": "active", "subject": subject,
                "medicationCodeableConcept": { "text": m.name },
                "effectivePeriod": { "start": m.start.to_string(), "end": m.end.map(|d| d.to_string()) },
                "dosage": [{ "text": m.dosage, "timing": { "code": { "text": m.schedule } } }],
                "informationSource": { "display": m.prescriber },
            }),
            ItemData::Allergy(a) => json!({
                "resourceType": "AllergyIntolerance", "id": id, "patient": subject, "code": { "text": a.substance },
                "recordedDate": a.noted_on.to_string(),
                "reaction": [{ "manifestation": [{ "text": a.reaction }], "severity": a.severity }],
            }),
            other => json!({
                "resourceType": "Basic", "id": id, "subject": subject,
                "code": { "text": other.kind() }, "created": other.date().to_string(),
            }),
        });
    }
    let mut reports: BTreeMap<String, (String, String, Vec<Value>, OffsetDateTime)> = BTreeMap::new();
    for r in labs {
        let interpretation = r.flag.as_deref().map(|f| {
            let (code, display) = match f {
                "low" => ("L", "Low"),
                "high" => ("H", "High"),
                "normal" => ("N", "Normal"),
                _ => ("A", "Abnormal"),
            };
            vec![coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", code, display)]
        });
        let mut range = serde_json::Map::new();
        if let Some(l) = r.input.range_low {
            range.insert("low".into(), json!({ "value": l, "unit": r.input.unit }));
        }
        if let Some(h) = r.input.range_high {
            range.insert("high".into(), json!({ "value": h, "unit": r.input.unit }));
        }
        if let Some(t) = &r.input.range_text {
            range.insert("text".into(), json!(t));
        }
        let mut obs = json!({
            "resourceType": "Observation", "id": r.id, "status": "final", "subject": subject,
            "category": [coding("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")],
            "code": { "coding": [{ "code": r.input.code }], "text": r.input.test_name },
            "effectiveDateTime": r.input.sampled_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "issued": r.issued_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "interpretation": interpretation,
            "referenceRange": if range.is_empty() { Value::Null } else { json!([range]) },
        });
        match (r.input.value, &r.input.value_text) {
            (Some(v), _) => obs["valueQuantity"] = json!({ "value": v, "unit": r.input.unit }),
            (None, Some(t)) => obs["valueString"] = json!(t),
            _ => {}
        }
        let entry = reports
            .entry(r.report_id.clone())
            .or_insert_with(|| (r.report_title.clone(), r.laboratory.clone(), Vec::new(), r.issued_at));
        entry.2.push(json!({ "reference": format!("Observation/{}", r.id) }));
        resources.push(obs);
    }
    for (id, (title, lab, results, issued)) in reports {
        resources.push(json!({
            "resourceType": "DiagnosticReport", "id": id, "status": "final", "subject": subject,
            "code": { "text": title }, "performer": [{ "display": lab }], "result": results,
            "issued": issued.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        }));
    }
    let entries: Vec<Value> = resources
        .into_iter()
        .map(|r| {
            let mut r = strip_nulls(r);
            let url = format!("urn:uuid:{}", r["id"].as_str().unwrap_or_default());
            if let Some(o) = r.as_object_mut() {
                o.retain(|_, v| !v.is_null());
            }
            json!({ "fullUrl": url, "resource": r })
        })
        .collect();
    let bundle = json!({ "resourceType": "Bundle", "type": "collection", "timestamp": cab.now().format(&time::format_description::well_known::Rfc3339).unwrap_or_default(), "entry": entries });
    serde_json::to_string_pretty(&bundle).map_err(|_| crate::CryptoError::Internal("fhir json").into())
}

fn strip_nulls(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, strip_nulls(v))).collect())
        }
        Value::Array(list) => Value::Array(list.into_iter().map(strip_nulls).collect()),
        other => other,
    }
}

/// Operator FHIR access.
#[derive(Debug, Clone)]
pub struct SystemFhir {
    cab: Cabinet,
}

impl SystemFhir {
    pub(crate) fn new(cab: Cabinet) -> Self {
        SystemFhir { cab }
    }

    /// Imports a bundle (or single resource) as JSON text; see the module notes.
    pub async fn import_bundle(&self, json: &str) -> Result<ImportReport> {
        import(&self.cab, json).await
    }

    /// A patient's record as a FHIR R4 Bundle (JSON text).
    pub async fn export_patient(&self, patient_id: &str) -> Result<String> {
        export(&self.cab, &AuditContext::system(), patient_id).await
    }
}
