//! Clinical resources to Kabinet's records: Immunization, AllergyIntolerance, Condition and
//! Encounter and Procedure (visits), MedicationStatement/Request, Observation.

use crate::labs::{Decimal, LabFlag};
use serde_json::{Value, json};
use time::{Date, OffsetDateTime};

use super::ICD10_SYSTEM;
use super::read::{Entry, Input, bad, parse_date, parse_time, text_of, year_of};
use crate::error::Result;
use crate::labs::LabResultInput;
use crate::records::{Allergy, Diagnosis, Immunization, ItemData, Medication, Visit};

/// A parsed clinical resource, ready to store for a patient reference.
pub(super) enum Clinical {
    Item(ItemData),
    /// Lab results (one, or a panel's components) with the source's own interpretation,
    /// and when their report was issued.
    Lab(Vec<(LabResultInput, Option<LabFlag>)>, Option<OffsetDateTime>),
}

/// A JSON number as the decimal it was written as (`4.10` stays `4.10`: the JSON is read with
/// `arbitrary_precision`); `None` for anything else or a number out of the decimal's range.
fn decimal(v: &Value) -> Option<Decimal> {
    let text = v.as_number()?.to_string();
    text.parse::<Decimal>().ok().or_else(|| Decimal::from_scientific(&text).ok())
}

/// The value of an Observation or component: a number (`valueQuantity`, `valueInteger`) or a
/// text (`valueString`, `valueCodeableConcept`, `valueBoolean`).
fn value_of(o: &Value) -> Option<(Option<Decimal>, Option<String>)> {
    if let Some(n) = decimal(&o["valueQuantity"]["value"]).or_else(|| decimal(&o["valueInteger"])) {
        return Some((Some(n), None));
    }
    o["valueString"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| text_of(&o["valueCodeableConcept"]))
        .or_else(|| o["valueBoolean"].as_bool().map(|b| b.to_string()))
        .map(|t| (None, Some(t)))
}

/// The HL7 v3 ObservationInterpretation of a result as Kabinet's flag names.
fn interpretation_of(r: &Value) -> Option<LabFlag> {
    let codes = r["interpretation"].as_array()?.iter().flat_map(|c| c["coding"].as_array().into_iter().flatten());
    codes.filter_map(|c| c["code"].as_str()).find_map(|code| match code {
        "H" | "HH" | "HU" | ">" => Some(LabFlag::High),
        "L" | "LL" | "LU" | "<" => Some(LabFlag::Low),
        "N" | "NEG" | "ND" => Some(LabFlag::Normal),
        "A" | "AA" | "POS" | "DET" | "R" | "I" => Some(LabFlag::Abnormal),
        _ => None,
    })
}

pub(super) fn clinical(
    r: &Value,
    path: &str,
    today: Date,
    report_time: Option<OffsetDateTime>,
) -> Result<Option<Clinical>> {
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
            let severity = r["reaction"][0]["severity"]
                .as_str()
                .map(|s| {
                    crate::records::Severity::parse(s).map_err(|_| bad(&p("reaction[0].severity"), "unknown_value"))
                })
                .transpose()?;
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
        "Procedure" => {
            if matches!(r["status"].as_str(), Some("not-done" | "entered-in-error" | "preparation")) {
                return Ok(None);
            }
            let name = text_of(&r["code"]).ok_or_else(|| bad(&p("code"), "missing"))?;
            let date = ["performedDateTime", "performedPeriod"]
                .iter()
                .find_map(|k| if *k == "performedPeriod" { r[*k]["start"].as_str() } else { r[*k].as_str() })
                .map(|s| parse_date(&json!(s), &p("performedDateTime")))
                .transpose()?;
            Clinical::Item(ItemData::Visit(Visit {
                date: date.unwrap_or(today).min(today),
                institution: institution_of(r, &["location", "performer.onBehalfOf"]),
                diagnoses: icd10_codes(&r["reasonCode"]),
                procedures: vec![name],
            }))
        }
        "Observation" => {
            // A panel (blood pressure) carries its values in components: each becomes a result.
            let parts: Vec<&Value> = match r["component"].as_array() {
                Some(list) if value_of(r).is_none() => list.iter().filter(|c| value_of(c).is_some()).collect(),
                _ => vec![r],
            };
            if parts.iter().all(|c| value_of(c).is_none()) {
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
            let results = parts
                .into_iter()
                .map(|c| {
                    let (value, value_text) = value_of(c).unwrap_or((None, None));
                    let range = &c["referenceRange"][0];
                    let result = LabResultInput {
                        test_name: text_of(&c["code"]).ok_or_else(|| bad(&p("code"), "missing"))?,
                        code: c["code"]["coding"][0]["code"].as_str().unwrap_or("—").to_owned(),
                        value,
                        value_text,
                        unit: c["valueQuantity"]["unit"]
                            .as_str()
                            .or_else(|| c["valueQuantity"]["code"].as_str())
                            .map(str::to_owned),
                        range_low: decimal(&range["low"]["value"]),
                        range_high: decimal(&range["high"]["value"]),
                        range_text: range["text"].as_str().map(str::to_owned),
                        sampled_at: sampled,
                    };
                    Ok((result, interpretation_of(c)))
                })
                .collect::<Result<Vec<_>>>()?;
            Clinical::Lab(results, issued)
        }
        _ => return Ok(None),
    }))
}

/// The ICD-10 diagnoses among a list of codeable concepts.
fn icd10_codes(concepts: &Value) -> Vec<Diagnosis> {
    concepts
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|c| c["coding"].as_array().into_iter().flatten().map(move |coding| (c, coding)))
        .filter(|(_, coding)| coding["system"].as_str().is_some_and(|s| s.starts_with(ICD10_SYSTEM)))
        .filter_map(|(c, coding)| {
            let code = coding["code"].as_str()?;
            let text = coding["display"].as_str().or_else(|| c["text"].as_str()).unwrap_or(code);
            Some(Diagnosis { icd10: code.to_owned(), text: text.to_owned() })
        })
        .collect()
}

/// The display name of the first of `fields` (dotted paths to references) that has one.
fn institution_of(r: &Value, fields: &[&str]) -> String {
    fields
        .iter()
        .find_map(|f| {
            let v = f.split('.').fold(r, |v, k| if v.is_array() { &v[0][k] } else { &v[k] });
            let v = if v.is_array() { &v[0] } else { v };
            v["display"].as_str().or_else(|| v["location"]["display"].as_str())
        })
        .unwrap_or("—")
        .to_owned()
}

/// The input's Procedures by the key of the Encounter they name, built once per import (a
/// search per Encounter made large bundles quadratic: 8 000 encounters took 28 s).
pub(super) type ProceduresOf<'i, 'a> = std::collections::HashMap<String, Vec<&'i Entry<'a>>>;

/// Indexes the input's Procedures by the Encounter they name (see [`ProceduresOf`]).
pub(super) fn procedures_by_encounter<'i, 'a>(input: &'i Input<'a>) -> ProceduresOf<'i, 'a> {
    let mut of = ProceduresOf::new();
    for p in input.of_kind("Procedure") {
        if let Some(reference) = p.resource["encounter"]["reference"].as_str() {
            of.entry(input.key(reference)).or_default().push(p);
        }
    }
    of
}

/// An Encounter as a visit, with the diagnoses of its `reasonCode` and of the Conditions it
/// lists, and the Procedures of the input that name it. Returns the visit and the entries
/// folded into it; `None` for encounters that did not happen.
pub(super) fn encounter_visit<'i, 'a>(
    input: &'i Input<'a>,
    e: &'i Entry<'a>,
    procedures_of: &ProceduresOf<'i, 'a>,
    today: Date,
) -> Result<Option<(Visit, Vec<&'i Entry<'a>>)>> {
    let r = e.resource;
    if matches!(r["status"].as_str(), Some("cancelled" | "entered-in-error" | "planned")) {
        return Ok(None);
    }
    let date = r["period"]["start"].as_str().map(|s| parse_date(&json!(s), &e.at("period.start"))).transpose()?;
    let mut diagnoses = icd10_codes(&r["reasonCode"]);
    let mut folded = Vec::new();
    for d in r["diagnosis"].as_array().into_iter().flatten() {
        let Some(condition) = d["condition"]["reference"].as_str().and_then(|c| input.find(c)) else { continue };
        let found = icd10_codes(&json!([condition.resource["code"]]));
        if condition.kind == "Condition" && !found.is_empty() {
            diagnoses.extend(found);
            folded.push(condition);
        }
    }
    let mut procedures = Vec::new();
    for p in e.key.as_deref().and_then(|own| procedures_of.get(own)).into_iter().flatten() {
        procedures.push(text_of(&p.resource["code"]).ok_or_else(|| bad(&p.at("code"), "missing"))?);
        folded.push(*p);
    }
    diagnoses.dedup();
    Ok(Some((
        Visit {
            date: date.unwrap_or(today).min(today),
            institution: institution_of(r, &["serviceProvider", "location"]),
            diagnoses,
            procedures,
        },
        folded,
    )))
}
