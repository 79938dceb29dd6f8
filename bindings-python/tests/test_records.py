"""Records and corrections (R12), lab results with flags (R9), requests (R13), proxies (R20)
and completeness (R19) through the Python binding, on SQLite and PostgreSQL."""

import datetime
import decimal
import uuid

import pytest

import kabinet
from test_foundation import unique_enp
from test_accounts import DEVICE, Approving, Clock, Inbox, register, sign_in
from test_booking import env, totp, world  # noqa: F401  (env is a fixture)

UTC = datetime.timezone.utc


def staff_session(cab: kabinet.Cabinet, clock: Clock, clinic_id: str, role: str) -> kabinet.Me:
    phone = f"+7903{uuid.uuid4().int % 10**7:07d}"
    account = cab.system().staff.create(
        clinic_id, role, "Петров Пётр", phone, f"s{uuid.uuid4().hex[:8]}@clinic.ru", "Registratura#2026"
    )
    step = cab.auth.login(phone, "Registratura#2026", DEVICE)
    code = totp(account.totp_secret_base32, clock.now_value)
    return cab.session(cab.auth.verify_second_factor(step.id, code).access_token, DEVICE)


def attached_patient(cab: kabinet.Cabinet, inbox: Inbox, clinic: kabinet.Clinic) -> tuple[kabinet.Me, str]:
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    snils = me.profile.get().snils
    assert snils is not None
    pending = me.attachment.attach(clinic.code, "4508123456", snils, unique_enp())
    me.attachment.confirm(pending.id, inbox.code("attachment_code"))
    return me, phone


def test_r12_records_and_corrections(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    item = doctor.records.add_immunization(me.patient_id, "Спутник V", datetime.date(2025, 10, 1), dose="1 из 2")
    doctor.records.add_visit(me.patient_id, datetime.date(2026, 2, 10), "Поликлиника", [("j06.9", "ОРВИ")], ["осмотр"])
    doctor.records.add_medication(me.patient_id, "Амоксициллин", "500 мг", "3 раза в день", datetime.date(2026, 2, 10), "Петров")
    doctor.records.add_allergy(me.patient_id, "пенициллин", "крапивница", datetime.date(2019, 5, 1), severity="severe")
    doctor.records.add(me.patient_id, kabinet.Screening("флюорография", datetime.date(2026, 1, 15), "норма"))
    with pytest.raises(kabinet.ValidationError) as bad:
        doctor.records.add_visit(me.patient_id, datetime.date(2026, 2, 10), "Поликлиника", [("J6", "x")])
    assert bad.value.field == "icd10"
    [imm] = me.records.immunizations()
    assert isinstance(imm.data, kabinet.Immunization) and type(imm.data) is kabinet.Immunization
    assert (imm.kind, imm.data.vaccine, imm.data.date, imm.version) == ("immunization", "Спутник V", datetime.date(2025, 10, 1), 1)
    assert "Спутник" not in repr(imm) and imm == me.records.immunizations()[0], "content out of repr; equal by value"
    [visit] = me.records.visits()
    assert isinstance(visit.data, kabinet.Visit) and visit.data.diagnoses == [("J06.9", "ОРВИ")]
    assert len(me.records.medications()) == 1 and len(me.records.allergies()) == 1 and len(me.records.screenings()) == 1
    with pytest.raises(kabinet.PermissionDenied):
        me.records.add_immunization(me.patient_id, "x", datetime.date(2025, 1, 1))
    with pytest.raises(kabinet.PermissionDenied):
        doctor.records.immunizations()
    # Correction: accepted with the corrected record; the old version is kept.
    corr = me.records.request_correction(item.id, "Дата 2 октября")
    assert corr.status == "pending" and "октября" not in repr(corr)
    assert [c.id for c in doctor.corrections.inbox()] == [corr.id]
    fixed = kabinet.Immunization("Спутник V", datetime.date(2025, 10, 2), dose="1 из 2")
    done = doctor.corrections.resolve(corr.id, True, "Исправлено", corrected=fixed)
    assert (done.status, done.comment) == ("accepted", "Исправлено")
    [imm] = me.records.immunizations()
    assert isinstance(imm.data, kabinet.Immunization) and type(imm.data) is kabinet.Immunization
    assert imm.version == 2 and imm.data.date == datetime.date(2025, 10, 2)
    with pytest.raises(kabinet.Conflict) as again:
        doctor.corrections.resolve(corr.id, False, "нет")
    assert again.value.code == "correction.resolved"


def test_r9_lab_flags(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    lab = staff_session(cab, clock, clinic.id, "laboratory")
    sampled = clock.now_value - datetime.timedelta(hours=3)
    report = kabinet.LabReport(
        "Липидный профиль",
        "ЦКДЛ",
        clock.now_value,
        [
            kabinet.LabResultInput("Холестерин", "2093-3", sampled, value=6.3, unit="ммоль/л", range_high=5.2),
            kabinet.LabResultInput("ЛПВП", "2085-9", sampled, value=0.9, unit="ммоль/л", range_low=1.0),
            kabinet.LabResultInput("Глюкоза", "2345-7", sampled, value=5.0, unit="ммоль/л", range_low=3.9, range_high=6.1),
            kabinet.LabResultInput("ВИЧ", "X", sampled, value_text="положительно", range_text="отрицательно"),
        ],
    )
    published = lab.labs.publish(me.patient_id, report)
    assert [r.flag for r in published] == ["high", "low", "normal", "abnormal"]
    results = me.labs.results()
    assert [(r.test_name, r.flag, r.reference_range) for r in results] == [
        ("Холестерин", "high", "≤ 5.2"),
        ("ЛПВП", "low", "≥ 1.0"),
        ("Глюкоза", "normal", "3.9–6.1"),
        ("ВИЧ", "abnormal", "отрицательно"),
    ]
    assert results[0].sampled_at == sampled and results[0].unit == "ммоль/л"
    # Values keep the digits they were given (issue 12, item 7): a Decimal in, a Decimal out.
    assert results[0].value == decimal.Decimal("6.3") and str(results[1].value) == "0.9"
    exact = lab.labs.publish(
        me.patient_id,
        kabinet.LabReport("Калий", "ЦКДЛ", clock.now_value, [
            kabinet.LabResultInput("Калий", "2823-3", sampled, value=decimal.Decimal("4.10"), range_low="3.50", range_high="5.20"),
        ]),
    )
    assert (str(exact[0].value), exact[0].reference_range, exact[0].flag) == ("4.10", "3.50–5.20", "normal")
    # Lists that grow come in pages too: limit plus the cursor of the next page.
    everything = [r.id for r in me.labs.results()]
    paged: list[str] = []
    cursor: str | None = None
    while True:
        page = me.labs.results_page(limit=2, cursor=cursor)
        assert isinstance(page, kabinet.LabResultPage) and len(page.items) <= 2
        paged += [r.id for r in page.items]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert paged == everything and len(everything) == 5
    with pytest.raises(kabinet.ValidationError) as bad_cursor:
        me.labs.results_page(cursor="not-a-cursor")
    assert bad_cursor.value.field == "cursor"
    with pytest.raises(kabinet.ValidationError):
        me.labs.results_page(limit=0)
    history = me.security.access_history_page(limit=3)
    assert len(history.items) == 3 and history.next_cursor is not None
    older = me.security.access_history_page(limit=3, cursor=history.next_cursor)
    assert older.items and all(e.seq < history.items[-1].seq for e in older.items), "older entries follow"
    assert "6.3" not in repr(results[0]) and "Холестерин" not in repr(results[0]), "values stay out of repr"
    assert any(m.kind == "lab_result" for m in inbox.messages)
    with pytest.raises(kabinet.ValidationError) as bad:
        lab.labs.publish(me.patient_id, kabinet.LabReport("x", "y", clock.now_value, [kabinet.LabResultInput("A", "B", sampled)]))
    assert bad.value.field == "value"
    with pytest.raises(kabinet.PermissionDenied):
        me.labs.publish(me.patient_id, report)


def test_r13_requests_and_r20_proxy_and_r19(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    registrar = staff_session(cab, clock, clinic.id, "registrar")
    req = me.requests.create(clinic.id, "Справка", "Нужна справка для бассейна")
    assert req.status == "in_processing" and req.messages[0].author_kind == "patient"
    assert req.id in [r.id for r in registrar.requests.inbox()]
    open_page = registrar.requests.inbox_page(limit=1)
    assert isinstance(open_page, kabinet.RequestPage) and [r.id for r in open_page.items] == [req.id]
    assert open_page.next_cursor is None
    asked = registrar.requests.reply(req.id, "Пришлите анализы", status="clarification_needed")
    assert asked.status == "clarification_needed"
    pdf = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    doc = me.requests.add_document(req.id, "анализы.pdf", pdf)
    assert doc.size == len(pdf) and len(doc.sha256) == 64
    assert me.requests.reply(req.id, "Прикрепила").status == "in_processing"
    assert registrar.requests.reply(req.id, "Готово", status="completed").status == "completed"
    with pytest.raises(kabinet.Conflict) as done:
        me.requests.mark_completed(req.id)
    assert done.value.code == "request.completed"
    assert "Справка" not in repr(req) and "бассейна" not in repr(req) and "анализы" not in repr(doc)
    assert [m.text for m in me.requests.get(req.id).messages] == [
        "Нужна справка для бассейна", "Пришлите анализы", "Прикрепила", "Готово",
    ]
    # Proxy: staff register proxies only for minors and wards; an adult grants herself,
    # confirmed by her own code, and the parent reads records and labs; nothing else.
    parent, _ = attached_patient(cab, inbox, clinic)
    with pytest.raises(kabinet.PermissionDenied) as adult:
        registrar.proxies.grant(["records"], proxy_patient_id=parent.patient_id, ward_patient_id=me.patient_id, basis="Доверенность")
    assert adult.value.code == "proxy.ward_adult"
    ward_grant = kabinet.WardGrant(me.patient_id, ["records"], "Доверенность", proxy_patient_id=parent.patient_id)
    assert "Доверенность" not in repr(ward_grant) and ward_grant.scopes == ["records"]
    with pytest.raises(kabinet.PermissionDenied) as same:
        registrar.proxies.grant_for_ward(ward_grant)
    assert same.value.code == "proxy.ward_adult", "the one rule, whichever spelling"
    parent_snils = parent.profile.get().snils
    assert parent_snils is not None
    pending = me.proxies.grant(["records", "labs"], proxy_snils=parent_snils, until=datetime.date(2026, 12, 28))
    assert isinstance(pending, kabinet.PendingConfirmation)
    grant = me.proxies.confirm(pending.id, inbox.code("proxy_code"))
    assert grant.scopes == ["labs", "records"] and grant.valid_until.tzinfo is not None
    ward = parent.as_ward(me.patient_id)
    assert ward.role == "proxy" and ward.records.visits() == []
    with pytest.raises(kabinet.PermissionDenied) as scope:
        ward.requests.list()
    assert scope.value.code == "proxy.scope"
    assert any(e.actor_kind == "proxy" for e in me.security.access_history())
    # Completeness: attached (the OMS policy given then is on file, its insurer is not), no
    # results loaded yet; each item names the call that fixes it.
    advice = {m.code: m.call for m in me.profile.completeness()}
    assert "oms_policy_missing" not in advice and "attachment_missing" not in advice and "results_missing" in advice
    assert advice["insurer_missing"] == 'me.profile.request_change("insurer")'
    assert me.profile.get().oms_policy is not None
    registrar.patients.record_card(me.patient_id, "Иванова", "Анна", datetime.date(1991, 3, 14), patronymic="Сергеевна")
    assert me.profile.completeness()[0].code == "clinic_card_mismatch"


def test_r12_r13_deadlines_in_working_days(tmp_path: object) -> None:
    """Issue 14, item 9: a correction made on Saturday, with Monday a holiday, is due by the
    end of Tuesday in Moscow; staff see it overdue after that; an untouched request expires."""
    inbox, clock = Inbox(), Clock()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    with pytest.raises(kabinet.ConfigError):
        kabinet.Cabinet.open_in_memory(kabinet.Config(request_expiry_days=0))
    config = kabinet.Config(
        notifier=inbox, clock=clock, locale="en", password_hashing=fast, identity_registry=Approving(),
        require_identity_for_booking=False, holidays=[datetime.date(2026, 11, 30)], request_expiry_days=30,
    )
    assert config.holidays == [datetime.date(2026, 11, 30)] and config.request_expiry_days == 30
    cab = kabinet.Cabinet.open_in_memory(config)
    clinic, _, _ = world(cab, clock)
    me, phone = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    item = doctor.records.add_visit(me.patient_id, datetime.date(2026, 2, 10), "Поликлиника", [("J06.9", "ОРВИ")])
    asked = me.records.request_correction(item.id, "Другой диагноз")
    assert asked.due_at == datetime.datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    assert doctor.corrections.overdue() == []
    clock.now_value = datetime.datetime(2026, 12, 1, 21, 0, tzinfo=UTC)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    assert [c.id for c in doctor.corrections.overdue()] == [asked.id]
    cab.run_due_jobs()
    cab.run_due_jobs()
    assert sum(1 for m in inbox.messages if m.kind == "correction_overdue") == 1
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    request = me.requests.create(clinic.id, "Справка", "Нужна справка")
    clock.now_value += datetime.timedelta(days=31)
    cab.run_due_jobs()
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    assert me.requests.get(request.id).status == kabinet.RequestStatus.EXPIRED


def test_r20_a_proxy_with_notifications_hears_the_wards_news(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """Issue 14, item 10: every patient function is a scope; `notifications` brings the proxy
    the ward's messages, named for whom; the attachment is the proxy's to see with its scope."""
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    parent, parent_phone = attached_patient(cab, inbox, clinic)
    parent_snils = parent.profile.get().snils
    assert parent_snils is not None
    pending = me.proxies.grant(["records", "attachment", "notifications"], proxy_snils=parent_snils)
    me.proxies.confirm(pending.id, inbox.code("proxy_code"))
    ward = parent.as_ward(me.patient_id)
    current = ward.attachment.current()
    assert current is not None and current.clinic_id == clinic.id
    with pytest.raises(kabinet.PermissionDenied) as scope:
        ward.certificates.list()
    assert scope.value.code == "proxy.scope"
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    pdf = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
    doctor.documents.publish(me.patient_id, "other", "a.pdf", pdf, kabinet.DocumentMeta(datetime.date(2026, 11, 1), "П"))
    to_parent = [m for m in inbox.messages if m.kind == "new_document" and m.recipient == parent_phone]
    assert len(to_parent) == 1 and to_parent[0].patient_id == me.patient_id
    assert to_parent[0].text.startswith("[for Анна]"), to_parent[0].text
