//! A synthetic FHIR bundle for load tests: `patients` people with 100 resources each, of
//! every clinical kind the import takes, linked by `urn:uuid:` references. Deterministic,
//! so runs compare; nothing in it is real.

use serde_json::{Value, json};

use super::ICD10_SYSTEM;

/// Resources per synthetic patient.
pub const RESOURCES_PER_PATIENT: usize = 100;

const ICD10: &[(&str, &str)] =
    &[("J06.9", "ОРВИ"), ("I10", "Гипертензия"), ("E11.9", "Сахарный диабет 2 типа"), ("K29.7", "Гастрит")];

/// A surname unique to synthetic patient `p` (its digits spelled as letters: names hold no
/// digits), so that name-and-birth-date matching keeps them apart.
fn family(p: usize) -> String {
    let letters: String = p.to_string().chars().map(|d| char::from(b'a' + (d as u8 - b'0'))).collect();
    format!("Тестов-{letters}")
}

/// A `transaction` Bundle of `patients × 100` resources (JSON text) for the synthetic
/// patients numbered from `first` (bundles of disjoint ranges hold different people and
/// records): per patient a Patient,
/// a DiagnosticReport with 38 Observations, 15 Immunizations, 15 Conditions, 5
/// AllergyIntolerances, 10 MedicationStatements, 5 Encounters with 2 Procedures each.
pub fn synthetic_bundle(first: usize, patients: usize) -> String {
    let mut entries = Vec::with_capacity(patients * RESOURCES_PER_PATIENT);
    let mut add = |url: String, resource: Value| {
        let kind = resource["resourceType"].clone();
        entries.push(json!({ "fullUrl": url, "resource": resource, "request": { "method": "POST", "url": kind } }));
    };
    for p in first..first + patients {
        let patient = format!("urn:uuid:00000000-0000-4000-8000-{p:012}");
        let subject = json!({ "reference": patient });
        let day = |n: usize| format!("2025-{:02}-{:02}", 1 + (p + n) % 12, 1 + (p * 7 + n) % 28);
        add(
            patient.clone(),
            json!({
                "resourceType": "Patient",
                "name": [{ "use": "official", "family": family(p), "given": ["Синтетический", "Пациентович"] }],
                "gender": if p % 2 == 0 { "male" } else { "female" },
                "birthDate": format!("{}-{:02}-{:02}", 1940 + p % 80, 1 + p % 12, 1 + p % 28),
            }),
        );
        let url = |kind: &str, n: usize| format!("urn:uuid:{kind}-{p}-{n}");
        let observations: Vec<String> = (0..38).map(|n| url("obs", n)).collect();
        add(
            url("report", 0),
            json!({
                "resourceType": "DiagnosticReport", "status": "final", "subject": subject,
                "code": { "text": "Биохимия крови" }, "issued": format!("{}T08:00:00Z", day(0)),
                "result": observations.iter().map(|o| json!({ "reference": o })).collect::<Vec<_>>(),
            }),
        );
        for (n, o) in observations.iter().enumerate() {
            add(
                o.clone(),
                json!({
                    "resourceType": "Observation", "status": "final", "subject": subject,
                    "code": { "coding": [{ "system": "http://loinc.org", "code": format!("{}-{}", 1000 + n, n % 10) }], "text": format!("Показатель {n}") },
                    "effectiveDateTime": format!("{}T07:30:00Z", day(0)),
                    "valueQuantity": { "value": 3.0 + (p + n) as f64 % 7.0, "unit": "ммоль/л" },
                    "referenceRange": [{ "low": { "value": 3.5 }, "high": { "value": 7.5 } }],
                }),
            );
        }
        for n in 0..15 {
            add(
                url("imm", n),
                json!({
                    "resourceType": "Immunization", "status": "completed", "patient": subject,
                    "vaccineCode": { "text": "Гам-КОВИД-Вак" }, "occurrenceDateTime": day(n),
                    "protocolApplied": [{ "doseNumberPositiveInt": 1 + n % 2 }],
                }),
            );
        }
        for n in 0..15 {
            let (code, text) = ICD10[n % ICD10.len()];
            add(
                url("cond", n),
                json!({
                    "resourceType": "Condition", "subject": subject, "recordedDate": day(n),
                    "code": { "coding": [{ "system": ICD10_SYSTEM, "code": code, "display": text }] },
                }),
            );
        }
        for n in 0..5 {
            add(
                url("allergy", n),
                json!({
                    "resourceType": "AllergyIntolerance", "patient": subject, "code": { "text": format!("Аллерген {n}") },
                    "recordedDate": day(n), "reaction": [{ "manifestation": [{ "text": "Сыпь" }], "severity": "mild" }],
                }),
            );
        }
        for n in 0..10 {
            add(
                url("med", n),
                json!({
                    "resourceType": "MedicationStatement", "status": "active", "subject": subject,
                    "medicationCodeableConcept": { "text": format!("Препарат {n}") },
                    "effectivePeriod": { "start": day(n) }, "dosage": [{ "text": "1 таблетка утром" }],
                }),
            );
        }
        for n in 0..5 {
            let encounter = url("enc", n);
            let (code, text) = ICD10[n % ICD10.len()];
            add(
                encounter.clone(),
                json!({
                    "resourceType": "Encounter", "status": "finished", "subject": subject,
                    "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB" },
                    "period": { "start": day(n) }, "serviceProvider": { "display": "Поликлиника № 1" },
                    "reasonCode": [{ "coding": [{ "system": ICD10_SYSTEM, "code": code, "display": text }] }],
                }),
            );
            for k in 0..2 {
                add(
                    url("proc", n * 2 + k),
                    json!({
                        "resourceType": "Procedure", "status": "completed", "subject": subject,
                        "encounter": { "reference": encounter }, "code": { "text": format!("Процедура {k}") },
                    }),
                );
            }
        }
    }
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries }).to_string()
}
