"""FHIR R4 export and import (issue 8, first part) through the Python binding."""

import datetime
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
    assert bundle["type"] == "collection" and "Patient" in kinds and "Encounter" in kinds
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


def test_fhir_directory_booking_and_document_from_files(env: tuple[kabinet.Cabinet, Inbox, Clock], tmp_path: Path) -> None:
    """A hospital's transaction bundle (clinic, doctor, schedule, slots, a booking) and the
    XDS example (a document and its Binary) imported from files."""
    cab, inbox, clock = env
    tag = clock.now_value.strftime("%H%M%S%f")
    start = clock.now_value + datetime.timedelta(days=2)

    def entry(url: str, resource: dict[str, object]) -> dict[str, object]:
        return {"fullUrl": url, "resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}

    def at(minutes: int) -> str:
        return (start + datetime.timedelta(minutes=minutes)).isoformat()

    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [
        entry("urn:uuid:org", {"resourceType": "Organization", "identifier": [{"value": f"fhir-{tag}"}],
                               "name": f"Поликлиника Ёлочка {tag}", "address": [{"line": ["ул. Мира, 5"], "city": "Казань"}]}),
        entry("urn:uuid:doc", {"resourceType": "Practitioner", "name": [{"family": "Ёжикова", "given": ["Алла"]}]}),
        entry("urn:uuid:role", {"resourceType": "PractitionerRole", "practitioner": {"reference": "urn:uuid:doc"},
                                "organization": {"reference": "urn:uuid:org"}, "specialty": [{"text": "Кардиолог"}]}),
        entry("urn:uuid:sched", {"resourceType": "Schedule", "actor": [{"reference": "urn:uuid:doc"}]}),
        entry("urn:uuid:s1", {"resourceType": "Slot", "schedule": {"reference": "urn:uuid:sched"}, "status": "free",
                              "start": at(0), "end": at(20)}),
        entry("urn:uuid:s2", {"resourceType": "Slot", "schedule": {"reference": "urn:uuid:sched"}, "status": "free",
                              "start": at(20), "end": at(40)}),
    ]}
    path = tmp_path / "hospital.json"
    path.write_text(json.dumps(bundle, ensure_ascii=False), encoding="utf-8")
    report = cab.system().fhir.import_file(path)
    assert report.created == {"Organization": 1, "Practitioner": 1, "PractitionerRole": 1, "Schedule": 1, "Slot": 2}
    # One line per entry: the sending system learns which Kabinet record each resource became.
    assert [e.outcome for e in report.entries] == ["created"] * 6
    lines = {e.source: e for e in report.entries}
    assert lines["urn:uuid:doc"].resource_type == "Practitioner" and lines["urn:uuid:doc"].path == "entry[1].resource"
    again = cab.system().fhir.import_file(str(path))
    assert again.created == {}, "idempotent"
    assert [e.local_id for e in again.entries] == [e.local_id for e in report.entries], "the same records"
    # Patients find the imported clinic and doctor and book the imported slot.
    me, _ = attached_patient(cab, inbox, world(cab, clock)[0])
    clinic = me.directory.find_clinic(f"поликлиника елочка {tag}")
    [doctor] = me.directory.practitioners("кардиолог", clinic.id, None)
    assert doctor.full_name == "Ёжикова Алла"
    assert doctor.id == lines["urn:uuid:doc"].local_id
    free = me.appointments.free_slots(doctor.id, start - datetime.timedelta(hours=1), start + datetime.timedelta(hours=2))
    assert len(free) == 2
    visit = me.appointments.book(free[0].id)
    assert visit.practitioner_name == "Ёжикова Алла"
    # The XDS example: one stored document for its patient.
    xds = cab.system().fhir.import_file(EXAMPLES / "Bundle-xds.json")
    assert xds.created.get("DocumentReference") == 1 and xds.created.get("Binary") == 1
    exported = json.loads(cab.system().fhir.export_patient(xds.patient_ids[0]))
    [doc] = [e["resource"] for e in exported["entry"] if e["resource"]["resourceType"] == "DocumentReference"]
    assert doc["content"][0]["attachment"]["data"] == "YXNkYXNkYXNkYXNkYXNk"
    with pytest.raises(kabinet.ValidationError) as missing:
        cab.system().fhir.import_file(tmp_path / "missing.json")
    assert missing.value.code == "fhir.invalid"
