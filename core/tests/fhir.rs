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
    fhir_directory_schedules_appointments_and_documents,
    fhir_encounters_gather_conditions_and_procedures,
    fhir_a_bundle_of_ten_thousand_resources_imports_in_one_transaction,
    fhir_observation_value_types_and_interpretations,
    fhir_source_ids_belong_to_their_sending_system,
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

/// Rows of every table an import writes to.
async fn counts(db: &TestDb) -> Vec<(&'static str, i64)> {
    let raw = db.raw().await;
    let mut out = Vec::new();
    for table in
        ["patients", "medical_items", "lab_results", "documents", "appointments", "slots", "practitioners", "clinics"]
    {
        let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
        out.push((table, sqlx::query_scalar::<_, i64>(sql).fetch_one(&raw).await.unwrap()));
    }
    out
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
                diagnoses: vec![
                    kabinet::Diagnosis { icd10: "J06.9".into(), text: "ОРВИ".into() },
                    kabinet::Diagnosis { icd10: "I10".into(), text: "Гипертензия".into() },
                ],
                procedures: vec!["Измерение давления".into(), "ЭКГ".into()],
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
            value: Some("6.3".parse().unwrap()),
            value_text: None,
            unit: Some("ммоль/л".into()),
            range_low: None,
            range_high: Some("5.2".parse().unwrap()),
            range_text: None,
            sampled_at: time::macros::datetime!(2026-11-27 08:00 UTC),
        }],
    };
    staff.labs().publish(&pid, lab).await.unwrap();
    let pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n".to_vec();
    let meta = kabinet::DocumentMeta {
        created_on: time::macros::date!(2026 - 11 - 20),
        institution: "Поликлиника № 1".into(),
        study_type: Some("УЗИ".into()),
    };
    staff.documents().publish(&pid, kabinet::DocumentKind::Extract, "выписка.pdf", &pdf, meta).await.unwrap();
    let sys = h.cab.system();
    let gp =
        sys.directory().add_practitioner(&c1, "Петров Пётр Петрович", "терапевт", &["first".into()]).await.unwrap();
    let tomorrow = time::macros::datetime!(2026-11-29 09:00 UTC);
    let slots =
        sys.schedule().open_slots(&gp.id, tomorrow, tomorrow + time::Duration::hours(1), 20, "first").await.unwrap();
    anna.appointments().book(&slots[0].id).await.unwrap();
    let exported = anna.records().export_fhir().await.unwrap();
    let parsed: Value = serde_json::from_str(&exported).unwrap();
    assert_eq!((parsed["resourceType"].as_str(), parsed["type"].as_str()), (Some("Bundle"), Some("collection")));
    let kinds: Vec<&str> =
        parsed["entry"].as_array().unwrap().iter().map(|e| e["resource"]["resourceType"].as_str().unwrap()).collect();
    for k in [
        "Patient",
        "Encounter",
        "Procedure",
        "Immunization",
        "Observation",
        "DiagnosticReport",
        "DocumentReference",
        "Appointment",
        "Practitioner",
        "Organization",
    ] {
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
    for (kind, n) in [
        ("Patient", 1),
        ("Observation", 1),
        ("Encounter", 1),
        ("Procedure", 2),
        ("DocumentReference", 2), // the extract and the lab report's PDF
        ("Appointment", 1),
        ("Practitioner", 1),
        ("Organization", 1),
    ] {
        assert_eq!(report.created.get(kind), Some(&n), "{kind}: {report:?}");
    }
    assert!(report.unsupported.is_empty(), "{report:?}");
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
                    "{} {} {} {} {} {} {} {} {} {}",
                    r["resourceType"],
                    r["code"]["text"],
                    r["vaccineCode"]["text"],
                    r["valueQuantity"]["value"],
                    r["name"][0]["family"],
                    r["name"][0]["text"],
                    r["reasonCode"],
                    r["content"][0]["attachment"]["data"],
                    r["content"][0]["attachment"]["title"],
                    r["start"],
                )
            })
            .collect();
        out.sort();
        out
    };
    assert_eq!(essence(&copy), essence(&parsed));
    let twice = fresh.cab.system().fhir().import_bundle(&exported).await.unwrap();
    assert!(twice.created.is_empty() && twice.unchanged.values().sum::<u64>() == 12, "{twice:?}");
    let copy_text = fresh.cab.system().fhir().export_patient(&new_id).await.unwrap();
    assert!(copy_text.contains("Измерение давления") && copy_text.contains("I10") && copy_text.contains("выписка.pdf"));
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
            "Encounter",
            "Procedure",
            "DocumentReference",
            "Organization",
            "Location",
            "Practitioner",
            "Schedule",
            "Slot",
            "Appointment",
        ];
        if !supported.iter().any(|s| name.starts_with(&format!("{s}-"))) {
            continue;
        }
        let mut r = example(&name);
        let key = if r["patient"].is_object() { "patient" } else { "subject" };
        if r[key].is_object() {
            r[key] = json!({ "reference": "Patient/example-owner" });
        }
        for p in r["participant"].as_array_mut().into_iter().flatten() {
            if p["actor"]["reference"].as_str().is_some_and(|a| a.starts_with("Patient/")) {
                p["actor"] = json!({ "reference": "Patient/example-owner" });
            }
        }
        let mut owner = patient("example-owner");
        owner["identifier"] = json!([]);
        // Each example as if from its own hospital system: their ids (`Observation/f001`, …)
        // are that system's, so an id used above for another patient is no clash here.
        let out = h
            .cab
            .system()
            .fhir()
            .import_bundle_from(&bundle(vec![owner, r]), &format!("urn:example:hl7:{name}"))
            .await
            .unwrap_or_else(|e| panic!("{name}: {e:?}"));
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
    assert_eq!((r.patient_ids.clone(), r.unchanged.get("Patient")), (vec![anna.clone()], Some(&1)));
    // Without SNILS or policy: the same folded name and birth date from another system is
    // the same person (ё/е and case aside) …
    let mut bare = patient("other-system-1");
    bare["identifier"] = json!([]);
    bare["name"] = json!([{ "family": "иванова", "given": ["анна"] }]);
    bare["birthDate"] = json!("1990-03-14");
    let r = import(&h, vec![bare.clone()]).await.unwrap();
    assert_eq!((r.patient_ids.clone(), r.unchanged.get("Patient")), (vec![anna.clone()], Some(&1)));
    // … another birth date is another person …
    bare["id"] = json!("other-system-2");
    bare["birthDate"] = json!("1991-03-14");
    let r = import(&h, vec![bare.clone()]).await.unwrap();
    assert_eq!(r.created.get("Patient"), Some(&1));
    assert_ne!(r.patient_ids, vec![anna.clone()]);
    // … and when two people share name and birth date, nobody is guessed: the import is refused.
    let mut namesake = support::anna();
    namesake.snils = Some(support::snils_for(779));
    namesake.inn = None;
    namesake.oms_policy = None;
    namesake.phone = None;
    namesake.email = None;
    h.cab.system().patients().create(namesake).await.unwrap();
    bare["id"] = json!("other-system-3");
    bare["birthDate"] = json!("1990-03-14");
    let before = counts(&db).await;
    assert_eq!(import(&h, vec![bare]).await.unwrap_err().code(), "fhir.patient_ambiguous");
    assert_eq!(counts(&db).await, before);
}

fn allergy(id: &str, patient: &str, substance: &str) -> Value {
    json!({
        "resourceType": "AllergyIntolerance", "id": id,
        "patient": { "reference": format!("Patient/{patient}") },
        "code": { "text": substance }, "recordedDate": "2021-05-01",
    })
}

/// Issue 11, class 2: ids are the sending system's. Two hospitals' `Patient/1` are two
/// people; an id that comes back with another person's data, or a record id that comes
/// back for another patient, refuses the file — nothing lands in the wrong record.
async fn fhir_source_ids_belong_to_their_sending_system(db: TestDb) {
    let h = db.harness().await;
    let person = |snils: u32, family: &str, given: &str, born: &str| {
        let mut p = patient("1");
        p["identifier"] = json!([{ "system": kabinet::fhir::SNILS_SYSTEM, "value": support::snils_for(snils) }]);
        p["name"] = json!([{ "family": family, "given": [given] }]);
        p["birthDate"] = json!(born);
        p
    };
    let fhir = h.cab.system().fhir();
    let north = fhir
        .import_bundle_from(
            &bundle(vec![person(801, "Орлова", "Вера", "1971-02-03"), allergy("a1", "1", "пенициллин")]),
            "urn:oid:1.2.643.5.1.13.13.12.2.77.1",
        )
        .await
        .unwrap();
    let south = fhir
        .import_bundle_from(
            &bundle(vec![person(802, "Лебедев", "Игорь", "1969-11-30"), allergy("a1", "1", "латекс")]),
            "urn:oid:1.2.643.5.1.13.13.12.2.77.2",
        )
        .await
        .unwrap();
    assert_eq!((north.created.get("Patient"), south.created.get("Patient")), (Some(&1), Some(&1)));
    assert_eq!(south.created.get("AllergyIntolerance"), Some(&1), "the second hospital's a1 is its own");
    assert_ne!(north.patient_ids, south.patient_ids, "two people, never merged");
    // Bundle.meta.source scopes the same way as the explicit source.
    let mut scoped: Value = serde_json::from_str(&bundle(vec![person(802, "Лебедев", "Игорь", "1969-11-30")])).unwrap();
    scoped["meta"] = json!({ "source": "urn:oid:1.2.643.5.1.13.13.12.2.77.2" });
    let again = fhir.import_bundle(&scoped.to_string()).await.unwrap();
    assert_eq!((again.unchanged.get("Patient"), again.patient_ids.clone()), (Some(&1), south.patient_ids.clone()));
    // Without a source, a known id that comes back as somebody else is refused, whole.
    let unscoped = fhir.import_bundle(&bundle(vec![person(803, "Зайцева", "Нина", "1980-01-01")])).await.unwrap();
    assert_eq!(unscoped.created.get("Patient"), Some(&1));
    let before = counts(&db).await;
    let err = fhir
        .import_bundle(&bundle(vec![person(804, "Петров", "Олег", "1955-05-05"), allergy("a9", "1", "арахис")]))
        .await
        .unwrap_err();
    assert_eq!((err.code(), err.kind()), ("fhir.patient_mismatch", kabinet::ErrorKind::Validation));
    assert_eq!(counts(&db).await, before, "nothing of the refused file is written");
    // A Patient.id that is a local patient's UUID binds only if it is the same person.
    let mut impostor = person(805, "Сидоров", "Павел", "1990-01-01");
    impostor["id"] = json!(north.patient_ids[0]);
    let err = fhir.import_bundle_from(&bundle(vec![impostor]), "urn:example:other").await.unwrap_err();
    assert_eq!(err.code(), "fhir.patient_mismatch");
    // The same person's own export coming back binds as before.
    let export = fhir.export_patient(&north.patient_ids[0]).await.unwrap();
    let back = fhir.import_bundle_from(&export, "urn:example:other").await.unwrap();
    assert_eq!(back.patient_ids, north.patient_ids);
    // A record id that comes back for another patient is refused, not counted "unchanged".
    let listed: Value = serde_json::from_str(&export).unwrap();
    let mut moved = listed["entry"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["resource"]["resourceType"] == "AllergyIntolerance")
        .unwrap()["resource"]
        .clone();
    moved["patient"] = json!({ "reference": format!("Patient/{}", south.patient_ids[0]) });
    let mut south_again = person(802, "Лебедев", "Игорь", "1969-11-30");
    south_again["id"] = json!(south.patient_ids[0]);
    let before = counts(&db).await;
    let err = fhir.import_bundle_from(&bundle(vec![south_again, moved]), "urn:example:third").await.unwrap_err();
    assert_eq!(err.code(), "fhir.patient_mismatch");
    assert_eq!(counts(&db).await, before);
    // An unscoped file cannot reach into a system's namespace by writing its scope into a
    // reference (`source|Patient/1`).
    let smuggled = json!({
        "resourceType": "AllergyIntolerance", "id": "a-smuggled",
        "patient": { "reference": "urn:oid:1.2.643.5.1.13.13.12.2.77.1|Patient/1" },
        "code": { "text": "латекс" }, "recordedDate": "2021-05-01",
    });
    let err = fhir.import_bundle(&bundle(vec![smuggled])).await.unwrap_err();
    assert_eq!((err.code(), err.kind()), ("fhir.invalid", kabinet::ErrorKind::Validation));
    // A source with control characters is refused like any free text.
    assert_eq!(fhir.import_bundle_from(&bundle(vec![]), "urn:\u{1b}[31m").await.unwrap_err().code(), "fhir.invalid");
}

fn entry(full_url: &str, resource: Value) -> Value {
    json!({ "fullUrl": full_url, "resource": resource, "request": { "method": "POST", "url": resource["resourceType"] } })
}

fn transaction(entries: Vec<Value>) -> String {
    json!({ "resourceType": "Bundle", "type": "transaction", "entry": entries }).to_string()
}

/// A hospital's transaction bundle: its clinic (Organization + Location), a doctor with a
/// role, a schedule with a free and a booked slot, the booking, all linked by `urn:uuid:`.
fn hospital_bundle(patient: Value, appointment_id: &str) -> String {
    transaction(vec![
        entry(
            "urn:uuid:org",
            json!({
                "resourceType": "Organization", "id": "org-1",
                "identifier": [{ "system": "urn:oid:1.2.643.5.1.13.13.12.2", "value": "0303" }],
                "type": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/organization-type", "code": "prov" }] }],
                "name": "ГБУЗ «Городская поликлиника № 3»",
                "address": [{ "line": ["ул. Пушкина, 3"], "city": "Москва", "state": "Москва" }],
            }),
        ),
        entry(
            "urn:uuid:loc",
            json!({
                "resourceType": "Location", "id": "loc-1", "name": "Корпус 2",
                "managingOrganization": { "reference": "urn:uuid:org" },
            }),
        ),
        entry(
            "urn:uuid:doc",
            json!({
                "resourceType": "Practitioner", "id": "pr-1",
                "name": [{ "use": "official", "family": "Ёжиков", "given": ["Семён", "Петрович"] }],
            }),
        ),
        entry(
            "urn:uuid:role",
            json!({
                "resourceType": "PractitionerRole", "practitioner": { "reference": "urn:uuid:doc" },
                "organization": { "reference": "urn:uuid:org" }, "specialty": [{ "text": "Терапевт" }],
            }),
        ),
        entry(
            "urn:uuid:sched",
            json!({
                "resourceType": "Schedule", "id": "s-1", "actor": [{ "reference": "urn:uuid:doc" }, { "reference": "urn:uuid:loc" }],
                "serviceType": [{ "text": "first" }],
            }),
        ),
        entry(
            "urn:uuid:free",
            json!({
                "resourceType": "Slot", "id": "slot-free", "schedule": { "reference": "urn:uuid:sched" }, "status": "free",
                "start": "2026-12-01T09:00:00+03:00", "end": "2026-12-01T09:20:00+03:00",
            }),
        ),
        entry(
            "urn:uuid:busy",
            json!({
                "resourceType": "Slot", "id": "slot-busy", "schedule": { "reference": "urn:uuid:sched" }, "status": "busy",
                "start": "2026-12-01T09:20:00+03:00", "end": "2026-12-01T09:40:00+03:00",
            }),
        ),
        entry(
            "urn:uuid:lonely",
            json!({
                "resourceType": "Slot", "id": "slot-busy-elsewhere", "schedule": { "reference": "urn:uuid:sched" }, "status": "busy",
                "start": "2026-12-01T10:00:00+03:00", "end": "2026-12-01T10:20:00+03:00",
            }),
        ),
        entry("urn:uuid:pat", patient),
        entry(
            "urn:uuid:appt",
            json!({
                "resourceType": "Appointment", "id": appointment_id, "status": "booked",
                "slot": [{ "reference": "urn:uuid:busy" }],
                "start": "2026-12-01T09:20:00+03:00", "end": "2026-12-01T09:40:00+03:00",
                "participant": [{ "actor": { "reference": "urn:uuid:pat" } }, { "actor": { "reference": "urn:uuid:doc" } }],
            }),
        ),
    ])
}

async fn fhir_directory_schedules_appointments_and_documents(db: TestDb) {
    let h = db.harness().await;
    let sys = h.cab.system();
    let report = sys.fhir().import_bundle(&hospital_bundle(patient("p-1"), "appt-1")).await.unwrap();
    for (kind, n) in [
        ("Organization", 1),
        ("Practitioner", 1),
        ("PractitionerRole", 1),
        ("Schedule", 1),
        ("Slot", 2),
        ("Appointment", 1),
        ("Patient", 1),
    ] {
        assert_eq!(report.created.get(kind), Some(&n), "{kind}: {report:?}");
    }
    // Every entry has its line: the sending system learns which Kabinet record each became.
    let line = |source: &str| report.entries.iter().find(|e| e.source.as_deref() == Some(source)).unwrap().clone();
    let org = line("Organization/org-1");
    assert_eq!((org.outcome.as_str(), org.path.as_str()), ("created", "entry[0].resource"));
    let lonely = line("Slot/slot-busy-elsewhere");
    assert_eq!((lonely.outcome.as_str(), lonely.local_id), ("unsupported", None));
    let booking = line("Appointment/appt-1");
    assert_eq!(booking.outcome, "created");
    let doctor_id = line("Practitioner/pr-1").local_id.unwrap();
    // The Location is the Organization's clinic, not a second one; a busy slot without its
    // booking is not taken (it would look free here).
    assert_eq!(report.unchanged.get("Location"), Some(&1), "{report:?}");
    assert_eq!(report.unsupported.get("Slot"), Some(&1), "{report:?}");
    // The clinic and doctor are found as patients search for them (ё/е, case).
    let anna = h.anna_confirmed().await;
    let clinic = anna.directory().find_clinic("гбуз городская поликлиника № 3").await.unwrap();
    assert_eq!((clinic.code.as_str(), clinic.address.as_str()), ("0303", "ул. Пушкина, 3, Москва"));
    let doctors = anna.directory().practitioners(Some("терапевт"), Some(&clinic.id), None).await.unwrap();
    assert_eq!(doctors.len(), 1);
    assert_eq!(doctors[0].full_name, "Ёжиков Семён Петрович");
    assert_eq!(doctors[0].id, doctor_id, "the reported local id is the practitioner");
    assert_eq!(line("Location/loc-1").local_id, Some(clinic.id.clone()), "the Location is the clinic");
    let since = time::macros::datetime!(2026-12-01 00:00 UTC);
    let free = anna.appointments().free_slots(&doctors[0].id, since, since + time::Duration::days(1)).await.unwrap();
    assert_eq!(free.len(), 1, "the booked slot is taken: {free:?}");
    assert_eq!(free[0].starts_at, time::macros::datetime!(2026-12-01 06:00 UTC));
    // The imported booking is in the patient's record.
    let pid = report.patient_ids[0].clone();
    let out: Value = serde_json::from_str(&sys.fhir().export_patient(&pid).await.unwrap()).unwrap();
    let appointment =
        out["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "Appointment").unwrap();
    assert_eq!(appointment["resource"]["start"], "2026-12-01T06:20:00Z");
    assert_eq!(appointment["resource"]["id"].as_str(), booking.local_id.as_deref());
    assert_eq!(appointment["resource"]["participant"][1]["actor"]["display"], "Ёжиков Семён Петрович");
    // Twice: nothing new.
    let before = counts(&db).await;
    let again = sys.fhir().import_bundle(&hospital_bundle(patient("p-1"), "appt-1")).await.unwrap();
    assert!(again.created.is_empty(), "{again:?}");
    let same = |r: &kabinet::ImportReport| {
        r.entries.iter().filter(|e| e.outcome != "unsupported").map(|e| e.local_id.clone()).collect::<Vec<_>>()
    };
    assert_eq!(same(&again), same(&report), "a second import names the same records");
    assert!(again.entries.iter().all(|e| e.outcome != "created"));
    assert_eq!(counts(&db).await, before);
    // Another booking of the same slot (R8: one patient per slot) refuses the whole bundle.
    let mut other = patient("p-2");
    other["identifier"] = json!([{ "system": kabinet::fhir::SNILS_SYSTEM, "value": support::snils_for(778) }]);
    other["name"] = json!([{ "family": "Другая", "given": ["Пациентка"] }]);
    let clash = sys.fhir().import_bundle(&hospital_bundle(other, "appt-2")).await.unwrap_err();
    assert_eq!(clash.code(), "slot.taken");
    assert_eq!(counts(&db).await, before, "nothing written");

    // Bundle-xds (a transaction with absolute fullUrls): the DocumentReference and its Binary
    // become one stored document of the patient, content checked (plain text, declared so).
    let xds = std::fs::read_to_string(format!("{EXAMPLES}/Bundle-xds.json")).unwrap();
    let r = sys.fhir().import_bundle(&xds).await.unwrap();
    assert_eq!((r.created.get("DocumentReference"), r.created.get("Binary")), (Some(&1), Some(&1)), "{r:?}");
    assert_eq!(r.unsupported.get("Practitioner"), Some(&2), "authors without a clinic: {r:?}");
    let doc_pid = r.patient_ids[0].clone();
    let out: Value = serde_json::from_str(&sys.fhir().export_patient(&doc_pid).await.unwrap()).unwrap();
    let doc = out["entry"].as_array().unwrap().iter().find(|e| e["resource"]["resourceType"] == "DocumentReference");
    let attachment = &doc.unwrap()["resource"]["content"][0]["attachment"];
    assert_eq!(attachment["data"], "YXNkYXNkYXNkYXNkYXNk");
    assert_eq!(
        (attachment["title"].as_str(), attachment["contentType"].as_str()),
        (Some("Physical.txt"), Some("text/plain; charset=utf-8"))
    );
    assert!(sys.fhir().import_bundle(&xds).await.unwrap().created.is_empty(), "idempotent");
    // Content is checked like an upload: HTML declared as a PDF is refused with its path.
    let before = counts(&db).await;
    let html = json!({
        "resourceType": "DocumentReference", "status": "current", "subject": { "reference": "Patient/p-1" },
        "content": [{ "attachment": { "contentType": "application/pdf", "data": "PGh0bWw+PHNjcmlwdD48L3NjcmlwdD48L2h0bWw+" } }],
    });
    match sys.fhir().import_bundle(&bundle(vec![html])).await.unwrap_err() {
        Error::Fhir(e) => assert_eq!(e.path, "entry[0].resource.content"),
        other => panic!("{other:?}"),
    }
    assert_eq!(counts(&db).await, before);
    // Robustness: every field of the hospital bundle removed, emptied or of the wrong type
    // gives a typed answer (often a refusal with its path), never a panic or a partial write.
    let base: Value = serde_json::from_str(&hospital_bundle(patient("p-9"), "appt-9")).unwrap();
    for (i, e) in base["entry"].as_array().unwrap().iter().enumerate() {
        for field in e["resource"].as_object().unwrap().keys() {
            for replacement in [Value::Null, json!(""), json!(42), json!([]), json!({ "reference": "Slot/nowhere" })] {
                let mut mutated = base.clone();
                mutated["entry"][i]["resource"][field] = replacement;
                let before = counts(&db).await;
                match sys.fhir().import_bundle(&mutated.to_string()).await {
                    Ok(_) => {}
                    Err(err) => {
                        assert!(
                            matches!(err, Error::Fhir(_) | Error::Conflict { .. } | Error::Validation(_)),
                            "{i}.{field}: {err:?}"
                        );
                        assert_eq!(counts(&db).await, before, "{i}.{field}: refused whole");
                    }
                }
            }
        }
    }
    assert!(sys.audit().verify().await.unwrap().ok);
}

async fn fhir_encounters_gather_conditions_and_procedures(db: TestDb) {
    let h = db.harness().await;
    let sys = h.cab.system();
    let icd = |code: &str, text: &str| json!({ "coding": [{ "system": kabinet::fhir::ICD10_SYSTEM, "code": code, "display": text }] });
    let text = transaction(vec![
        entry("urn:uuid:p", patient("enc-owner")),
        entry(
            "urn:uuid:c",
            json!({
                "resourceType": "Condition", "subject": { "reference": "urn:uuid:p" }, "code": icd("I10", "Гипертензия"),
            }),
        ),
        entry(
            "urn:uuid:e",
            json!({
                "resourceType": "Encounter", "status": "finished", "subject": { "reference": "urn:uuid:p" },
                "period": { "start": "2026-10-05T10:00:00+03:00" }, "serviceProvider": { "display": "Поликлиника № 7" },
                "reasonCode": [icd("J06.9", "ОРВИ")], "diagnosis": [{ "condition": { "reference": "urn:uuid:c" } }],
            }),
        ),
        entry(
            "urn:uuid:pr",
            json!({
                "resourceType": "Procedure", "status": "completed", "subject": { "reference": "urn:uuid:p" },
                "encounter": { "reference": "urn:uuid:e" }, "code": { "text": "ЭКГ" },
            }),
        ),
        entry(
            "urn:uuid:never",
            json!({ "resourceType": "Encounter", "status": "cancelled", "subject": { "reference": "urn:uuid:p" } }),
        ),
        entry(
            "urn:uuid:alone",
            json!({
                "resourceType": "Procedure", "status": "completed", "subject": { "reference": "urn:uuid:p" },
                "code": { "text": "Флюорография" }, "performedDateTime": "2026-09-01",
                "reasonCode": [icd("Z01.8", "Обследование")],
            }),
        ),
    ]);
    let r = sys.fhir().import_bundle(&text).await.unwrap();
    for (kind, n) in [("Encounter", 1), ("Condition", 1), ("Procedure", 2)] {
        assert_eq!(r.created.get(kind), Some(&n), "{kind}: {r:?}");
    }
    assert_eq!(r.unsupported.get("Encounter"), Some(&1), "a cancelled encounter is counted, not stored: {r:?}");
    let (_, items, _) = (0, counts(&db).await[1].1, 0);
    assert_eq!(items, 2, "one visit with its condition and procedure, one for the lone procedure");
    let out: Value = serde_json::from_str(&sys.fhir().export_patient(&r.patient_ids[0]).await.unwrap()).unwrap();
    let encounters: Vec<&Value> = out["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .filter(|r| r["resourceType"] == "Encounter")
        .collect();
    let visit = encounters.iter().find(|e| e["serviceProvider"]["display"] == "Поликлиника № 7").unwrap();
    let codes: Vec<&str> =
        visit["reasonCode"].as_array().unwrap().iter().map(|c| c["coding"][0]["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["J06.9", "I10"]);
    assert_eq!(visit["period"]["start"], "2026-10-05");
    assert!(out.to_string().contains("Флюорография") && out.to_string().contains("ЭКГ"));
    assert!(sys.fhir().import_bundle(&text).await.unwrap().created.is_empty(), "idempotent");
}

async fn fhir_a_bundle_of_ten_thousand_resources_imports_in_one_transaction(db: TestDb) {
    let h = db.harness().await;
    let text = kabinet::fhir::synthetic_bundle(0, 100);
    let parsed: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["entry"].as_array().unwrap().len(), 10_000);
    let r = h.cab.system().fhir().import_bundle(&text).await.unwrap();
    let expected = [
        ("AllergyIntolerance", 500),
        ("Condition", 1500),
        ("DiagnosticReport", 100),
        ("Encounter", 500),
        ("Immunization", 1500),
        ("MedicationStatement", 1000),
        ("Observation", 3800),
        ("Patient", 100),
        ("Procedure", 1000),
    ];
    let created: Vec<(&str, u64)> = r.created.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    assert_eq!(created, expected);
    assert_eq!(r.created.values().sum::<u64>(), 10_000, "every resource accounted for");
    assert_eq!(r.entries.len(), 10_000, "one line per entry");
    assert!(r.entries.iter().all(|e| e.outcome == "created" && e.local_id.is_some()));
    assert_eq!(r.entries[1].path, "entry[1].resource");
    assert!(r.unsupported.is_empty() && r.unchanged.is_empty());
    let c = counts(&db).await;
    assert_eq!((c[0].1, c[1].1, c[2].1), (100, 1500 + 1500 + 500 + 1000 + 500, 3800));
    assert!(h.cab.system().audit().verify().await.unwrap().ok);
}

async fn fhir_observation_value_types_and_interpretations(db: TestDb) {
    let h = db.harness().await;
    let obs = |id: &str, value: (&str, Value), range: Value, interpretation: &str| {
        let mut o = json!({
            "resourceType": "Observation", "id": id, "status": "final", "subject": { "reference": "Patient/lab-owner" },
            "code": { "text": id }, "effectiveDateTime": "2026-11-01T08:00:00Z", "referenceRange": range,
            "interpretation": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", "code": interpretation }] }],
        });
        o[value.0] = value.1;
        o
    };
    let resources = vec![
        patient("lab-owner"),
        // No range: the laboratory's own interpretation is kept.
        obs("hiv", ("valueCodeableConcept", json!({ "text": "положительно" })), Value::Null, "POS"),
        obs("count", ("valueInteger", json!(12)), Value::Null, "H"),
        obs("fasting", ("valueBoolean", json!(false)), Value::Null, "N"),
        // A range: Kabinet's own computation wins over a contradicting interpretation.
        obs(
            "glucose",
            ("valueQuantity", json!({ "value": 10.0, "unit": "ммоль/л" })),
            json!([{ "low": { "value": 3.5 }, "high": { "value": 7.5 } }]),
            "L",
        ),
    ];
    let r = import(&h, resources).await.unwrap();
    assert_eq!(r.created.get("Observation"), Some(&4), "{r:?}");
    let out = exported(&h, &r.patient_ids[0]).await;
    let by_name = |name: &str| named(&out, name);
    let flag = |name: &str| by_name(name)["interpretation"][0]["coding"][0]["code"].as_str().map(str::to_owned);
    assert_eq!(flag("hiv").as_deref(), Some("A"));
    assert_eq!(flag("count").as_deref(), Some("H"));
    assert_eq!(flag("fasting").as_deref(), Some("N"));
    assert_eq!(flag("glucose").as_deref(), Some("H"), "computed from the range, not the source's L");
    assert_eq!(by_name("count")["valueQuantity"]["value"], 12.0);
    assert_eq!(by_name("fasting")["valueString"], "false");
    // A panel: the HL7 blood pressure example's components become two results of one report,
    // each with the laboratory's interpretation (there is no range).
    let mut bp = example("Observation-blood-pressure.json");
    bp["subject"] = json!({ "reference": "Patient/lab-owner" });
    let before = counts(&db).await;
    let r = import(&h, vec![bp.clone()]).await.unwrap();
    assert_eq!(r.created.get("Observation"), Some(&1), "{r:?}");
    assert_eq!(counts(&db).await[2].1, before[2].1 + 2, "two results");
    let out = exported(&h, &r.patient_ids[0]).await;
    let find = |name: &str| named(&out, name);
    let diastolic = find("Diastolic blood pressure");
    assert_eq!(
        (diastolic["valueQuantity"]["value"].as_f64(), diastolic["interpretation"][0]["coding"][0]["code"].as_str()),
        (Some(60.0), Some("L"))
    );
    assert_eq!(find("Systolic blood pressure")["valueQuantity"]["unit"], "mmHg");
    assert!(import(&h, vec![bp]).await.unwrap().created.is_empty(), "idempotent");
    assert_eq!(counts(&db).await[2].1, before[2].1 + 2);
}

/// A patient's export, parsed.
async fn exported(h: &Harness, patient_id: &str) -> Value {
    serde_json::from_str(&h.cab.system().fhir().export_patient(patient_id).await.unwrap()).unwrap()
}

/// The exported resource whose `code.text` is `name`.
fn named(bundle: &Value, name: &str) -> Value {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .find(|r| r["code"]["text"] == name)
        .unwrap()
        .clone()
}
