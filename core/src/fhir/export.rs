//! Export: a patient's record as a FHIR R4 `collection` Bundle.

use crate::labs::LabFlag;
use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::{ENP_SYSTEM, ICD10_SYSTEM, SNILS_SYSTEM};
use crate::audit::{Action, AuditContext};
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::medical::Vault;
use crate::patients::Patients;
use crate::records::ItemData;
use crate::timeutil::to_micros;

/// A decimal as a JSON number with its digits (FHIR `decimal`: 4.10 stays 4.10).
fn number(d: crate::labs::Decimal) -> Value {
    d.to_string().parse::<serde_json::Number>().map_or(Value::Null, Value::Number)
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
    let documents = crate::documents::load_all(&mut tx, &vault, patient_id).await?;
    let visits = crate::appointments::load_all(&mut tx, patient_id, now).await?;
    tx.commit().await?;
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
    let mut procedures = Vec::new();
    for item in items {
        let id = item.id.clone();
        resources.push(match item.data {
            ItemData::Immunization(i) => json!({
                "resourceType": "Immunization", "id": id, "status": "completed", "patient": subject,
                "vaccineCode": { "text": i.vaccine }, "occurrenceDateTime": i.date.to_string(),
                "lotNumber": i.lot, "protocolApplied": i.dose.map(|d| vec![json!({ "doseNumberString": d })]),
            }),
            ItemData::Visit(v) => {
                for (n, name) in v.procedures.iter().enumerate() {
                    procedures.push(json!({
                        "resourceType": "Procedure", "id": format!("{id}-p{n}"), "status": "completed",
                        "subject": subject, "encounter": { "reference": format!("Encounter/{id}") },
                        "code": { "text": name }, "performedDateTime": v.date.to_string(),
                    }));
                }
                json!({
                    "resourceType": "Encounter", "id": id, "status": "finished", "subject": subject,
                    "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB", "display": "ambulatory" },
                    "period": { "start": v.date.to_string() },
                    "serviceProvider": { "display": v.institution },
                    "reasonCode": v.diagnoses.iter().map(|d| coding(ICD10_SYSTEM, &d.icd10, &d.text)).collect::<Vec<_>>(),
                })
            }
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
    resources.append(&mut procedures);
    resources.extend(documents.iter().map(|(d, content)| document_reference(d, content, &subject)));
    resources.extend(appointment_resources(&visits, &subject));
    let mut reports: BTreeMap<String, (String, String, Vec<Value>, OffsetDateTime)> = BTreeMap::new();
    for r in labs {
        let interpretation = r.flag.map(|f| {
            let (code, display) = match f {
                LabFlag::Low => ("L", "Low"),
                LabFlag::High => ("H", "High"),
                LabFlag::Normal => ("N", "Normal"),
                LabFlag::Abnormal => ("A", "Abnormal"),
            };
            vec![coding("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", code, display)]
        });
        let mut range = serde_json::Map::new();
        if let Some(l) = r.range_low {
            range.insert("low".into(), json!({ "value": number(l), "unit": r.unit }));
        }
        if let Some(h) = r.range_high {
            range.insert("high".into(), json!({ "value": number(h), "unit": r.unit }));
        }
        if let Some(t) = &r.range_text {
            range.insert("text".into(), json!(t));
        }
        let mut obs = json!({
            "resourceType": "Observation", "id": r.id, "status": "final", "subject": subject,
            "category": [coding("http://terminology.hl7.org/CodeSystem/observation-category", "laboratory", "Laboratory")],
            "code": { "coding": [{ "code": r.code }], "text": r.test_name },
            "effectiveDateTime": r.sampled_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "issued": r.issued_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
            "interpretation": interpretation,
            "referenceRange": if range.is_empty() { Value::Null } else { json!([range]) },
        });
        match (r.value, &r.value_text) {
            (Some(v), _) => obs["valueQuantity"] = json!({ "value": number(v), "unit": r.unit }),
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

/// LOINC codes of Kabinet's document kinds (the reverse of the import's mapping).
fn loinc_of(kind: &str) -> Option<(&'static str, &'static str)> {
    match kind {
        "lab_result" => Some(("11502-2", "Laboratory report")),
        "extract" => Some(("18842-5", "Discharge summary")),
        "referral" => Some(("57133-1", "Referral note")),
        "conclusion" => Some(("11488-4", "Consult note")),
        _ => None,
    }
}

fn document_reference(d: &crate::documents::DocumentInfo, content: &[u8], subject: &Value) -> Value {
    use base64::Engine;
    let mut kind = json!({ "text": d.study_type.clone().unwrap_or_else(|| d.kind.as_str().to_owned()) });
    if let Some((code, display)) = loinc_of(d.kind.as_str()) {
        kind["coding"] = json!([{ "system": "http://loinc.org", "code": code, "display": display }]);
    }
    json!({
        "resourceType": "DocumentReference", "id": d.id, "status": "current", "subject": subject,
        "type": kind, "date": d.created_at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "custodian": { "display": d.institution },
        "content": [{ "attachment": {
            "contentType": d.content_type, "title": d.filename, "size": d.size, "creation": d.created_on.to_string(),
            "data": base64::engine::general_purpose::STANDARD.encode(content),
        }}],
    })
}

/// Appointments with the practitioners and clinics they name (once each), so that an import
/// elsewhere can place them.
fn appointment_resources(visits: &[crate::appointments::Appointment], subject: &Value) -> Vec<Value> {
    let rfc = |t: OffsetDateTime| t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
    let mut out = Vec::new();
    let mut named = std::collections::BTreeSet::new();
    for a in visits {
        if named.insert(a.clinic_id.clone()) {
            out.push(json!({
                "resourceType": "Organization", "id": a.clinic_id, "name": a.clinic_name,
                "address": [{ "text": a.clinic_address }],
            }));
        }
        if named.insert(a.practitioner_id.clone()) {
            out.push(json!({ "resourceType": "Practitioner", "id": a.practitioner_id, "name": [{ "text": a.practitioner_name }] }));
        }
        out.push(json!({
            "resourceType": "Appointment", "id": a.id,
            "status": match a.status.as_str() { "cancelled" => "cancelled", "past" => "fulfilled", _ => "booked" },
            "start": rfc(a.starts_at), "end": rfc(a.ends_at),
            "serviceType": [{ "text": a.visit_type }], "specialty": [{ "text": a.specialization }],
            "participant": [
                { "actor": subject, "status": "accepted" },
                { "actor": { "reference": format!("Practitioner/{}", a.practitioner_id), "display": a.practitioner_name }, "status": "accepted" },
                { "actor": { "reference": format!("Organization/{}", a.clinic_id), "display": a.clinic_name }, "status": "accepted" },
            ],
        }));
    }
    out
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
