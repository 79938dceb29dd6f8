"""FHIR R4 export and import (issue 8, first part) through the Python binding."""

import json
from pathlib import Path

import pytest

import kabinet
from test_accounts import Clock, Inbox
from test_booking import env, world  # noqa: F401  (env is a fixture)
from test_records import attached_patient, staff_session

EXAMPLES = Path(__file__).parents[2] / "tests" / "fhir-r4-examples"


def test_fhir_export_reimport_and_hl7_example(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    doctor.records.add_visit(me.patient_id, clock.now_value.date(), "Поликлиника", [("I10", "Гипертензия")])
    exported = me.records.export_fhir()
    bundle = json.loads(exported)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert bundle["type"] == "collection" and "Patient" in kinds and "Condition" in kinds
    assert "Гипертензия" in exported
    again = cab.system().fhir.import_bundle(exported)
    assert again.created == {} and again.patient_ids == [me.patient_id], "its own export changes nothing"
    assert cab.system().fhir.export_patient(me.patient_id) == exported
    # An HL7 example: Observation-f001 with its patient, flagged high.
    patient = json.loads((EXAMPLES / "Patient-f001.json").read_text())
    patient["identifier"] = []
    patient["id"] = f"f001-{clinic.code}"
    obs = json.loads((EXAMPLES / "Observation-f001.json").read_text())
    obs["id"] = f"obs-{clinic.code}"
    obs["subject"] = {"reference": f"Patient/{patient['id']}"}
    report = cab.system().fhir.import_bundle(json.dumps({"resourceType": "Bundle", "type": "collection", "entry": [
        {"resource": patient}, {"resource": obs},
    ]}))
    assert report.created == {"Patient": 1, "Observation": 1}
    out = json.loads(cab.system().fhir.export_patient(report.patient_ids[0]))
    [o] = [e["resource"] for e in out["entry"] if e["resource"]["resourceType"] == "Observation"]
    assert o["interpretation"][0]["coding"][0]["code"] == "H"
    with pytest.raises(kabinet.ValidationError) as bad:
        cab.system().fhir.import_bundle('{"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient"}}]}')
    assert bad.value.code == "fhir.invalid"
