//! FHIR R4 import and export (issue 8, first part) on both engines, over the HL7 examples.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use kabinet::{Error, ErrorCode, ErrorKind, ItemData};
use serde_json::{Value, json};
use support::{Harness, TestDb};

on_both!(
    fhir_export_then_import_reproduces_the_record_and_is_idempotent,
    fhir_hl7_examples_flags_and_one_sided_ranges,
    fhir_malformed_input_is_refused_whole_with_its_path,
    fhir_never_merges_two_people,
);

const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fhir-r4-examples");

fn example(name: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{EXAMPLES}/{name}")).unwrap()).unwrap()
}

fn bundle(resources: Vec<Value>) -> String {
    let entries: Vec<Value> = resources.into_iter().map(|r| json!({ "resource": r })).collect();
    json!({ "resourceType": "Bundle", "type": "collection", "entry": entries }).to_string()
}

fn patient(id: &str) -> Value {
    json!({
        "resourceType": "Patient", "id": id,
        "name": [{ "use": "official", "family": "Смирнова", "given": ["Ольга", "Ивановна"] }],
        "gender": "female", "birthDate": "1985-07-21",
        "identifier": [{ "system": kabinet::fhir::SNILS_SYSTEM, "value": support::snils_for(777) }],
    })
}

async fn counts(db: &TestDb) -> (i64, i64, i64) {
    let raw = db.raw().await;
    let n = |sql: &'static str| {
        let raw = raw.clone();
        async move { sqlx::query_scalar::<_, i64>(sql).fetch_one(&raw).await.unwrap() }
    };
    (
        n("SELECT COUNT(*) FROM patients").await,
        n("SELECT COUNT(*) FROM medical_items").await,
        n("SELECT COUNT(*) FROM lab_results").await,
    )
}

async fn fhir_export_then_import_reproduces_the_record_and_is_idempotent(db: TestDb) {
    let h = db.harness().await;
    let (c1, _) = h.two_clinics().await;
    let anna = h.anna_confirmed().await;
    h.attach(&anna, "0101").await;
    let pid = anna.patient_id().unwrap().to_owned();
    let doctor = h.staff(&c1, "doctor", 60).await;
    let staff = doctor.staff().unwrap();
    staff
        .records()
        .add(
            &pid,
            ItemData::Visit(kabinet::Visit {
                date: time::macros::date!(2026 - 02 - 10),
                institution: "Поликлиника № 1".into(),
                diagnoses: vec![kabinet::Diagnosis { icd10: "J06.9".into(), text: "ОРВИ".into() }],
                procedures: vec![],
            }),
        )
        .await
        .unwrap();
    staff
        .records()
        .add(
            &pid,
            ItemData::Immunization(kabinet::Immunization {
                vaccine: "Спутник V".into(),
                date: time::macros::date!(2025 - 10 - 01),
                dose: Some("1".into()),
                lot: Some("II-123".into()),
                performer: None,
                next_due: None,
            }),
        )
        .await
        .unwrap();
    let lab = kabinet::LabReport {
        title: "Липидный профиль".into(),
        laboratory: "ЦКДЛ".into(),
        issued_at: time::macros::datetime!(2026-11-28 08:00 UTC),
        results: vec![kabinet::LabResultInput {
            test_name: "Холестерин".into(),
            code: "2093-3".into(),
            value: Some(6.3),
            value_text: None,
            unit: Some("ммоль/л".into()),
            range_low: None,
            range_high: Some(5.2),
            range_text: None,
            sampled_at: time::macros::datetime!(2026-11-27 08:00 UTC),
        }],
    };
    staff.labs().publish(&pid, lab).await.unwrap();
    let exported = anna.records().export_fhir().await.unwrap();
    let parsed: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!((parsed["resourceType"].as_str(), parsed["type"].as_str()), (Some("Bundle"), Some("collection")));
    let kinds: Vec<&str> =
        parsed["entry"].as_array().unwrap().iter().map(|e| e["resource"]["resourceType"].as_str().unwrap()).collect();
    for k in ["Patient", "Condition", "Immunization", "Observation", "DiagnosticReport"] {
        assert!(kinds.contains(&k), "{k} in {kinds:?}");
    }
    assert!(exported.contains("Иванова") && exported.contains("J06.9"), "non-ASCII names survive");
    assert_eq!(h.cab.system().fhir().export_patient(&pid).await.unwrap().len(), exported.len(), "stable output");
    // Re-importing its own export changes nothing.
    let before = counts(&db).await;
    let again = h.cab.system().fhir().import_bundle(&exported).await.unwrap();
    assert!(again.created.is_empty(), "{again:?}");
    assert_eq!(counts(&db).await, before);
    // Into an empty cabinet: the same records come out.
    let other = TestDb::sqlite().await;
    let fresh = other.harness().await;
    let report = fresh.cab.system().fhir().import_bundle(&exported).await.unwrap();
    assert_eq!(report.created.get("Patient"), Some(&1));
    assert_eq!(report.created.get("Observation"), Some(&1));
    let new_id = report.patient_ids[0].clone();
    let copy: Value = serde_json::from_str(&fresh.cab.system().fhir().export_patient(&new_id).await.unwrap()).unwrap();
    let essence = |b: &Value| {
        let mut out: Vec<String> = b["entry"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let r = &e["resource"];
                format!(
                    "{} {} {} {} {}",
                    r["resourceType"],
                    r["code"]["text"],
                    r["vaccineCode"]["text"],
                    r["valueQuantity"]["value"],
                    r["name"][0]["family"]
                )
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(essence(&copy), essence(&parsed));
    let twice = fresh.cab.system().fhir().import_bundle(&exported).await.unwrap();
    assert!(twice.created.is_empty() && twice.unchanged.values().sum::<u64>() >= 4, "{twice:?}");
}

async fn import(h: &Harness, resources: Vec<Value>) -> Result<kabinet::ImportReport, Error> {
    h.cab.system().fhir().import_bundle(&bundle(resources)).await
}

async fn fhir_hl7_examples_flags_and_one_sided_ranges(db: TestDb) {
    let h = db.harness().await;
    // Observation-f001 (glucose 6.3, range 3.1–6.2) with its patient: flagged high.
    let mut p = example("Patient-f001.json");
    p["identifier"] = json!([]);
    let r = import(&h, vec![p, example("Observation-f001.json")]).await.unwrap();
    assert_eq!(r.created.get("Observation"), Some(&1));
    let pid = r.patient_ids[0].clone();
    let exported: Value = serde_json::from_str(&h.cab.system().fhir().export_patient(&pid).await.unwrap()).unwrap();
    let obs =
        exported["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "Observation").unwrap();
    assert_eq!(obs["resource"]["interpretation"][0]["coding"][0]["code"], "H");
    // The lipid panel (one-sided ranges), grouped by its DiagnosticReport.
    let mut lipids = example("Bundle-lipids.json");
    lipids["entry"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "fullUrl": "https://example.com/base/Patient/pat2", "resource": patient("pat2") }));
    let r = h.cab.system().fhir().import_bundle(&lipids.to_string()).await.unwrap();
    assert_eq!(r.created.get("Observation"), Some(&4));
    let b: Value =
        serde_json::from_str(&h.cab.system().fhir().export_patient(&r.patient_ids[0]).await.unwrap()).unwrap();
    let mut flags: Vec<(String, String)> = b["entry"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resource"]["resourceType"] == "Observation")
        .map(|e| {
            let r = &e["resource"];
            (
                r["code"]["text"].as_str().unwrap().to_owned(),
                r["interpretation"][0]["coding"][0]["code"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    flags.sort();
    assert_eq!(flags.len(), 4);
    let flag_of = |needle: &str| flags.iter().find(|(n, _)| n.to_lowercase().contains(needle)).map(|(_, f)| f.as_str());
    assert_eq!(flag_of("triglyceride"), Some("N"));
    assert_eq!(flag_of("hdl"), Some("L"), "≥ 1.5 with 1.3");
    assert_eq!(flag_of("ldl"), Some("H"), "≤ 3.0 with 4.6");
    let report =
        b["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "DiagnosticReport").unwrap();
    assert_eq!(report["resource"]["result"].as_array().unwrap().len(), 4, "one report, as in the source");
    // Every example of a supported type imports with its patient (or is counted unsupported).
    for name in std::fs::read_dir(EXAMPLES).unwrap().map(|e| e.unwrap().file_name().into_string().unwrap()) {
        let supported = [
            "Immunization",
            "AllergyIntolerance",
            "Condition",
            "MedicationStatement",
            "MedicationRequest",
            "Observation",
        ];
        if !supported.iter().any(|s| name.starts_with(&format!("{s}-"))) {
            continue;
        }
        let mut r = example(&name);
        let key = if r["patient"].is_object() { "patient" } else { "subject" };
        r[key] = json!({ "reference": "Patient/example-owner" });
        let mut owner = patient("example-owner");
        owner["identifier"] = json!([]);
        let out = import(&h, vec![owner, r]).await.unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(
            out.created.values().sum::<u64>()
                + out.unchanged.values().sum::<u64>()
                + out.unsupported.values().sum::<u64>(),
            2,
            "{name}"
        );
    }
}

async fn fhir_malformed_input_is_refused_whole_with_its_path(db: TestDb) {
    let h = db.harness().await;
    let before = counts(&db).await;
    let broken = vec![
        patient("p1"),
        json!({ "resourceType": "Immunization", "id": "i1", "status": "completed", "patient": { "reference": "Patient/p1" }, "occurrenceDateTime": "2020-01-01" }),
    ];
    match import(&h, broken).await.unwrap_err() {
        Error::Fhir(e) => assert_eq!(e.path, "entry[1].resource.vaccineCode"),
        other => panic!("{other:?}"),
    }
    let dangling = vec![
        json!({ "resourceType": "Immunization", "vaccineCode": { "text": "x" }, "occurrenceDateTime": "2020-01-01", "patient": { "reference": "Patient/nobody" } }),
    ];
    match import(&h, dangling).await.unwrap_err() {
        Error::Fhir(e) => assert_eq!((e.path.as_str(), e.reason), ("entry[0].resource.subject", "reference")),
        other => panic!("{other:?}"),
    }
    assert_eq!(counts(&db).await, before, "nothing written");
    let err = h.cab.system().fhir().import_bundle("{not json").await.unwrap_err();
    assert_eq!((err.code(), err.kind()), ("fhir.invalid", ErrorKind::Validation));
    // Unsupported resources are counted, not dropped silently.
    let r = import(&h, vec![example("CarePlan-example.json"), example("Consent-consent-example-basic.json")])
        .await
        .unwrap();
    assert_eq!(r.unsupported.values().sum::<u64>(), 2);
    // Robustness: every example and mutated variants give typed results, never a panic.
    for entry in std::fs::read_dir(EXAMPLES).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        let _ = h.cab.system().fhir().import_bundle(&text).await;
        let _ = h.cab.system().fhir().import_bundle(&text[..text.len() / 2]).await;
        let mutated = text.replace("\"value\": ", "\"value\": \"x\", \"was\": ").replace("\"date", "\"x");
        let _ = h.cab.system().fhir().import_bundle(&mutated).await;
    }
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
}

async fn fhir_never_merges_two_people(db: TestDb) {
    let h = db.harness().await;
    let anna = h.cab.system().patients().create(support::anna()).await.unwrap();
    let mut impostor = patient("x");
    impostor["identifier"] = json!([{ "system": kabinet::fhir::SNILS_SYSTEM, "value": "112-233-445 95" }]);
    assert_eq!(import(&h, vec![impostor]).await.unwrap_err().code(), "fhir.patient_mismatch");
    let mut same = patient("y");
    same["name"] = json!([{ "family": "ИВАНОВА", "given": ["Анна"] }]);
    same["birthDate"] = json!("1990-03-14");
    same["identifier"] = json!([{ "system": kabinet::fhir::SNILS_SYSTEM, "value": "11223344595" }]);
    let r = import(&h, vec![same]).await.unwrap();
    assert_eq!((r.patient_ids.clone(), r.unchanged.get("Patient")), (vec![anna], Some(&1)));
}
