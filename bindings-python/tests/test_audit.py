"""The signed journal through the Python binding (S4, R5)."""

import json
import sqlite3
from pathlib import Path

import pytest

import kabinet
from conftest import anna
from test_foundation import unique_snils


def test_s4_verify_and_proofs(cabinet: kabinet.Cabinet) -> None:
    sys = cabinet.system()
    snils = unique_snils()
    pid = sys.patients.create(anna(snils=snils, oms_policy=None))
    sys.patients.get(pid)
    report = sys.audit.verify()
    assert report.ok and report.first_bad_entry is None
    assert report.signed_head is not None and report.signed_head.size == report.entries >= 2
    key = sys.audit.public_key()
    assert key.startswith("-----BEGIN PUBLIC KEY-----")
    head = sys.audit.latest_head()
    assert head is not None and len(head.root) == 64 and head.at.tzinfo is not None
    # A head is a value a host keeps and compares: equal heads are equal and hash alike.
    assert head == report.signed_head and hash(head) == hash(report.signed_head) and len({head, report.signed_head}) == 1
    assert head.to_dict()["size"] == report.to_dict()["signed_head"]["size"] == report.entries
    assert "SignedTreeHead(size=" in repr(head) and head.signature not in repr(head)
    last = report.entries - 1
    proof = sys.audit.inclusion_proof(last)
    kabinet.audit.verify_inclusion_proof(key, proof)
    tampered = json.loads(proof)
    tampered["entry"]["action"] = "delete"
    with pytest.raises(kabinet.IntegrityError) as err:
        kabinet.audit.verify_inclusion_proof(key, json.dumps(tampered))
    assert err.value.code == "audit.bad_proof"
    with pytest.raises(kabinet.ValidationError):
        kabinet.audit.verify_inclusion_proof(key, "{}")
    consistency = sys.audit.consistency_proof(1)
    kabinet.audit.verify_consistency_proof(key, consistency)
    with pytest.raises(kabinet.NotFound):
        sys.audit.inclusion_proof(10**9)


def test_r5_access_history(cabinet: kabinet.Cabinet) -> None:
    sys = cabinet.system()
    pid = sys.patients.create(anna(snils=unique_snils(), oms_policy=None))
    sys.patients.get(pid)
    history = sys.audit.access_history(pid)
    assert [e.action for e in history] == ["read", "read", "create"]
    assert history[0].resource_type == "access_history"
    assert all(e.who == "system" and e.at.tzinfo is not None for e in history)
    fhir = json.loads(sys.audit.export_fhir(0, 10))
    assert fhir["resourceType"] == "Bundle"
    assert all(e["resource"]["resourceType"] == "AuditEvent" for e in fhir["entry"])


def test_s4_sql_edit_is_detected(tmp_path: Path) -> None:
    db = tmp_path / "j.db"
    cab = kabinet.Cabinet.open(f"sqlite://{db}")
    sys = cab.system()
    pid = sys.patients.create(anna())
    sys.patients.get(pid)
    cab.close()
    con = sqlite3.connect(db)
    con.execute("UPDATE audit_entries SET outcome = 'denied' WHERE seq = 1")
    con.commit()
    con.close()
    report = kabinet.Cabinet.open(f"sqlite://{db}").system().audit.verify()
    assert not report.ok
    assert report.first_bad_entry == 1
    assert report.problem == "entry_changed"
