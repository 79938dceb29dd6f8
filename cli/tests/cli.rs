//! The operator CLI end to end on a SQLite file: migrate, import an HL7 example, export the
//! patient, verify the journal, rotate keys, run jobs; and a typed failure for a bad URL.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

fn kabinet(db: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kabinet"))
        .arg("--db")
        .arg(db)
        .arg("--locale")
        .arg("en")
        .args(args)
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8(out.stdout).unwrap(), String::from_utf8(out.stderr).unwrap())
}

#[test]
fn operator_runs_a_deployment_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("k.db").display());
    let (ok, out, _) = kabinet(&db, &["migrate"]);
    assert!(ok && out.contains("ok: sqlite"), "{out}");
    assert!(dir.path().join("k.db.keys").exists(), "a key file beside the database");
    // Import an HL7 example (the patient without its Dutch identifiers, plus its observation).
    let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fhir-r4-examples");
    let mut patient: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{examples}/Patient-f001.json")).unwrap()).unwrap();
    patient["identifier"] = serde_json::json!([]);
    let obs: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(format!("{examples}/Observation-f001.json")).unwrap()).unwrap();
    let bundle = serde_json::json!({ "resourceType": "Bundle", "type": "collection", "entry": [{ "resource": patient }, { "resource": obs }] });
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, bundle.to_string()).unwrap();
    let (ok, out, err) = kabinet(&db, &["import-fhir", file.to_str().unwrap()]);
    assert!(ok, "{err}");
    assert!(out.contains("\"Observation\": 1") && out.contains("\"Patient\": 1"), "{out}");
    let patient_id = out.lines().find_map(|l| l.strip_prefix("patients: ")).unwrap().trim().to_owned();
    let (ok, out, _) = kabinet(&db, &["import-fhir", file.to_str().unwrap()]);
    assert!(ok && out.contains("created: {}"), "idempotent: {out}");
    let (ok, out, _) = kabinet(&db, &["export-fhir", &patient_id]);
    assert!(ok && out.contains("\"resourceType\": \"Bundle\"") && out.contains("Heuvel"), "{out}");
    let (ok, out, _) = kabinet(&db, &["verify"]);
    assert!(ok && out.contains("ok: journal verified"), "{out}");
    let (ok, pem, _) = kabinet(&db, &["public-key"]);
    assert!(ok && pem.contains("BEGIN PUBLIC KEY"));
    let (ok, out, _) = kabinet(&db, &["rotate-keys"]);
    assert!(ok && out.contains("keys re-wrapped"), "{out}");
    let (ok, out, _) = kabinet(&db, &["run-jobs"]);
    assert!(ok && out.contains("delivered"), "{out}");
    // Typed errors, no panic, exit status 1.
    let (ok, _, err) = kabinet("mysql://nope", &["migrate"]);
    assert!(!ok && err.starts_with("error [config.url]"), "{err}");
    let (ok, _, err) = kabinet(&db, &["export-fhir", "no-such-patient"]);
    assert!(!ok && err.contains("[not_found]"), "{err}");
    std::fs::write(&file, "{\"resourceType\": \"Bundle\", \"entry\": [{}]}").unwrap();
    let (ok, _, err) = kabinet(&db, &["import-fhir", file.to_str().unwrap()]);
    assert!(!ok && err.contains("[fhir.invalid]") && err.contains("entry[0].resource.resourceType"), "{err}");
}
