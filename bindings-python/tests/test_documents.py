"""Documents judged by content (R7, S3), sharing as sealed packages (S2), certificates as
Cyrillic PDFs (R10), the other PDFs, and notification preferences (R14) through the Python
binding — with the Notifier implemented in Python — on SQLite and PostgreSQL."""

import datetime
import shutil
import subprocess
from pathlib import Path

import pytest

import kabinet
from test_accounts import DEVICE, Approving, Clock, Inbox
from test_booking import env, world  # noqa: F401  (env is a fixture)
from test_records import attached_patient, staff_session

DATA = Path(__file__).parent / "data"
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\0IEND\xae\x42\x60\x82"


def pdftotext(pdf: bytes, tmp: Path) -> str:
    assert shutil.which("pdftotext"), "pdftotext (poppler-utils) is needed; scripts/test-all installs it"
    path = tmp / "doc.pdf"
    path.write_bytes(pdf)
    return subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], check=True, capture_output=True).stdout.decode()


def test_r7_s2_documents_and_sharing(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    meta = kabinet.DocumentMeta(datetime.date(2026, 11, 20), "Поликлиника", study_type="УЗИ")
    doc = doctor.documents.publish(me.patient_id, "extract", "выписка.pdf", PDF, meta)
    assert (doc.content_type, doc.size, len(doc.sha256)) == ("application/pdf", len(PDF), 64)
    with pytest.raises(kabinet.ValidationError) as bad:
        doctor.documents.publish(me.patient_id, "other", "снимок.pdf", PNG, meta)
    assert (bad.value.field, bad.value.reason) == ("content", "mismatch")
    with pytest.raises(kabinet.ValidationError) as html:
        doctor.documents.publish(me.patient_id, "other", "page", b"<html><body>x</body></html>", meta)
    assert html.value.reason == "unknown_value"
    assert [d.id for d in me.documents.list(kind="extract")] == [doc.id]
    assert me.documents.download(doc.id) == PDF
    with pytest.raises(kabinet.PermissionDenied):
        me.documents.publish(me.patient_id, "other", "x.pdf", PDF, meta)
    package = me.documents.share(doc.id, (DATA / "recipient_public.pem").read_text())
    shared, content = kabinet.open_shared_package(
        package, (DATA / "recipient_private.pem").read_text(), expected_signer=cab.system().audit.public_key()
    )
    assert content == PDF and shared.filename == "выписка.pdf" and shared.sha256 == doc.sha256
    assert all("выписка" not in repr(x) and "Поликлиника" not in repr(x) for x in (doc, shared)), "sealed metadata"
    tampered = bytearray(package)
    tampered[len(tampered) // 2] ^= 1
    with pytest.raises(kabinet.IntegrityError):
        kabinet.open_shared_package(bytes(tampered), (DATA / "recipient_private.pem").read_text())


def test_r10_certificate_pdf_and_other_pdfs(env: tuple[kabinet.Cabinet, Inbox, Clock], tmp_path: Path) -> None:
    cab, inbox, clock = env
    clinic, gp, slots = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    with pytest.raises(kabinet.Conflict) as none:
        me.certificates.request("vaccination")
    assert none.value.code == "certificate.no_data"
    doctor.records.add_immunization(me.patient_id, "Спутник V", datetime.date(2025, 10, 1))
    pending = me.certificates.request("vaccination")
    cert = me.certificates.confirm(pending.id, inbox.code("certificate_code"))
    assert cert.status == "ready" and cert.document_id is not None
    text = pdftotext(me.certificates.download(cert.id), tmp_path)
    assert "Иванова Анна Сергеевна" in text and "Vaccination certificate" in text and "Спутник V" in text
    assert [c.id for c in me.certificates.list()] == [cert.id]
    # Attachment confirmation, lab report, correspondence and visit card are PDFs too.
    current = me.attachment.current()
    assert current is not None and current.document_id is not None
    assert "Иванова" in pdftotext(me.documents.download(current.document_id), tmp_path)
    sampled = clock.now_value - datetime.timedelta(hours=2)
    [result] = doctor.labs.publish(me.patient_id, kabinet.LabReport("Глюкоза", "ЦКДЛ", clock.now_value, [
        kabinet.LabResultInput("Глюкоза", "2345-7", sampled, value=7.2, unit="ммоль/л", range_low=3.9, range_high=6.1),
    ]))
    assert "high" in pdftotext(me.labs.report_pdf(result.id), tmp_path)
    req = me.requests.create(clinic.id, "Вопрос", "Текст обращения")
    assert "Текст обращения" in pdftotext(me.requests.export_pdf(req.id), tmp_path)
    visit = me.appointments.book(slots[0].id)
    assert visit.confirmation_code in pdftotext(me.appointments.card_pdf(visit.id), tmp_path)


def test_r10_certificate_kinds_are_operator_data(env: tuple[kabinet.Cabinet, Inbox, Clock], tmp_path: Path) -> None:
    """Issue 14, item 7: an operator registers a kind; a patient sees, orders and reads it;
    retiring it stops new orders; the built-in kinds keep their enum names."""
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    sys = cab.system()
    builtin = {k.code for k in sys.certificates.kinds() if k.builtin}
    assert builtin == {str(k) for k in kabinet.CertificateKind}
    assert "outpatient_card_extract" in builtin and len(builtin) == 6
    # A hostile definition is a ValidationError naming the field; nothing is registered.
    with pytest.raises(kabinet.ValidationError) as bad:
        sys.certificates.register_kind(kabinet.CertificateKindDefinition("x; drop", "Т", "T", ["screenings"]))
    assert bad.value.field == "code"
    with pytest.raises(kabinet.ValidationError) as bad:
        sys.certificates.register_kind(kabinet.CertificateKindDefinition("sport", "Т", "T", ["tattoos"]))
    assert bad.value.code == "validation"
    with pytest.raises(kabinet.ValidationError):
        kabinet.CertificateKindDefinition("sport", "Т", "T", ["screenings"], validity_days=-1)
    assert len(sys.certificates.kinds()) == 6
    sport = kabinet.CertificateKindDefinition(
        "sport_clearance", "Справка для занятий спортом", "Sports clearance",
        [kabinet.CertificateSection.SCREENINGS, "allergies"],
        period="optional", max_period_days=365, default_period_days=365, validity_days=180,
    )
    info = sys.certificates.register_kind(sport)
    assert (info.code, info.active, info.builtin, info.document_kind) == ("sport_clearance", True, False, "certificate")
    assert [s for s in info.sections] == ["screenings", "allergies"]
    me.profile.set_locale("ru")
    offered = {k.code: k for k in me.certificates.kinds()}
    assert offered["sport_clearance"].title == "Справка для занятий спортом"
    me.profile.set_locale("en")
    assert {k.code: k.title for k in me.certificates.kinds()}["sport_clearance"] == "Sports clearance"
    with pytest.raises(kabinet.Conflict) as none:
        me.certificates.request("sport_clearance")
    assert none.value.code == "certificate.no_data"
    doctor.records.add(me.patient_id, kabinet.Screening("Осмотр терапевта", datetime.date(2026, 10, 15), "здоров"))
    with pytest.raises(kabinet.Conflict) as long:
        me.certificates.request("sport_clearance", since=datetime.date(2020, 1, 1))
    assert long.value.code == "certificate.period_too_long"
    pending = me.certificates.request("sport_clearance")
    cert = me.certificates.confirm(pending.id, inbox.code("certificate_code"))
    assert cert.kind == "sport_clearance" and cert.valid_until == datetime.date(2027, 5, 27)
    assert (cert.since, cert.until) == (datetime.date(2025, 11, 28), datetime.date(2026, 11, 28))
    text = pdftotext(me.certificates.download(cert.id), tmp_path)
    assert "Осмотр терапевта" in text and "2027-05-27" in text
    # A built-in kind by its enum member, which still compares equal to the code.
    with pytest.raises(kabinet.Conflict) as whole:
        me.certificates.request(kabinet.CertificateKind.VACCINATION_RECORD, since=datetime.date(2026, 1, 1))
    assert whole.value.code == "certificate.period_not_allowed"
    sys.certificates.retire_kind("sport_clearance")
    assert "sport_clearance" not in {k.code for k in me.certificates.kinds()}
    with pytest.raises(kabinet.ValidationError):
        me.certificates.request("sport_clearance")
    with pytest.raises(kabinet.NotFound):
        sys.certificates.retire_kind("never_registered")
    [listed] = me.certificates.list()
    assert listed.kind == "sport_clearance" and listed.title == cert.title
    for hostile in ["", "\x00", "ВАКЦИНАЦИЯ", "a" * 100_000, "\ud800"]:
        with pytest.raises(kabinet.ValidationError):
            me.certificates.request(hostile)


def test_r14_preferences_with_a_python_notifier(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, phone = attached_patient(cab, inbox, clinic)
    assert (me.notifications.preferences().sms, me.notifications.preferences().email) == (True, True)
    me.notifications.set_preferences(sms=False, email=False, push=False)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    before = len([m for m in inbox.messages if m.kind == "new_document"])
    doctor.documents.publish(me.patient_id, "other", "a.pdf", PDF, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    assert len([m for m in inbox.messages if m.kind == "new_document"]) == before, "switched off"
    cab.auth.login(phone, "Vek-Tor!58zeb", kabinet.Device("d", "n", "1.2.3.4", "ua"))
    assert inbox.messages[-1].kind == "login_code" and inbox.messages[-1].channel == "sms", "security still sent"
    # The patient's own language for informational messages (R17).
    me.notifications.set_preferences()
    me.profile.set_locale("ru")
    doctor.documents.publish(me.patient_id, "other", "b.pdf", PDF, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    assert inbox.messages[-1].text.startswith("В личном кабинете новый документ"), inbox.messages[-1].text
    with pytest.raises(kabinet.ConfigError):
        me.profile.set_locale("de")


def test_r14_push_devices_through_a_python_notifier(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """Issue 14, item 5: push-only preferences reach the app once a device registers its token."""
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    me.notifications.set_preferences(sms=False, email=False, push=True)

    def news() -> list[kabinet.Message]:
        return [m for m in inbox.messages if m.kind == "new_document" and m.patient_id == me.patient_id]

    doctor.documents.publish(me.patient_id, "other", "a.pdf", PDF, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    assert news() == [], "no device yet: nothing can carry it"
    with pytest.raises(kabinet.ValidationError):
        me.notifications.register_push("dev-1", "carrier-pigeon", "tok")
    with pytest.raises(kabinet.ValidationError) as blank:
        me.notifications.register_push("dev-1", "fcm", "  ")
    assert blank.value.field == "token"
    with pytest.raises(kabinet.ValidationError) as other_device:
        me.notifications.register_push("dev-2", "apns", "apns-token-2")
    assert (other_device.value.field, other_device.value.reason) == ("device_id", "mismatch")
    me.notifications.register_push(DEVICE.id, kabinet.PushPlatform.FCM, "fcm-token-1")
    me.notifications.register_push(DEVICE.id, "fcm", "fcm-token-1b")
    assert [(d.device_id, d.platform) for d in me.notifications.push_devices()] == [(DEVICE.id, kabinet.PushPlatform.FCM)]
    doctor.documents.publish(me.patient_id, "other", "b.pdf", PDF, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    assert [(m.channel, m.recipient, m.platform) for m in news()] == [("push", "fcm-token-1b", "fcm")]
    assert "fcm-token" not in repr(me.notifications.push_devices())
    me.security.revoke_all()


def test_s3_a_damaged_document_is_quarantined_and_reuploaded(tmp_path: Path) -> None:
    """Issue 14, item 11: one flipped byte quarantines the document; the patient sees it as
    being restored; the issuing clinic uploads it again."""
    import sqlite3

    inbox, clock = Inbox(), Clock()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    db = tmp_path / "k.db"
    config = kabinet.Config(
        key_provider=kabinet.KeyProvider.local_file(tmp_path / "kek.json"), notifier=inbox, clock=clock, locale="en",
        password_hashing=fast, identity_registry=Approving(),
    )
    cab = kabinet.Cabinet.open(f"sqlite://{db}", config)
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    doc = doctor.documents.publish(me.patient_id, "extract", "x.pdf", PDF, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    with sqlite3.connect(db) as raw:
        (content,) = raw.execute("SELECT content FROM documents WHERE id = ?", (doc.id,)).fetchone()
        damaged = bytearray(content)
        damaged[len(damaged) // 2] ^= 1
        raw.execute("UPDATE documents SET content = ? WHERE id = ?", (bytes(damaged), doc.id))
    with pytest.raises(kabinet.IntegrityError):
        me.documents.download(doc.id)
    with pytest.raises(kabinet.Conflict) as restoring:
        me.documents.download(doc.id)
    assert restoring.value.code == "document.restoring"
    assert [d.restoring for d in me.documents.list() if d.id == doc.id] == [True]
    [task] = doctor.documents.reupload_tasks()
    assert (task.document_id, task.patient_id, task.kind) == (doc.id, me.patient_id, "extract")
    restored = doctor.documents.reupload(doc.id, PDF)
    assert restored.restoring is False and me.documents.download(doc.id) == PDF
    assert any(m.kind == "document_restored" for m in inbox.messages)
    assert doctor.documents.reupload_tasks() == []
    cab.close()
