//! Export: a patient's record as a FHIR R4 `collection` Bundle.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use time::OffsetDateTime;

use super::read::sq;
use super::{ENP_SYSTEM, ICD10_SYSTEM, SNILS_SYSTEM};
use crate::audit::{Action, AuditContext};
use crate::cabinet::Cabinet;
use crate::error::Result;
use crate::medical::Vault;
use crate::patients::Patients;
use crate::records::ItemData;
use crate::timeutil::to_micros;

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
