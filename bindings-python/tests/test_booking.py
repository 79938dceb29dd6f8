"""Directory, slots, booking, reschedule, cancel with a deadline (R8), clinic attachment (R11)
and staff sessions with TOTP through the Python binding, on SQLite and PostgreSQL."""

import base64
import datetime
import hashlib
import hmac
import logging
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import kabinet
from test_foundation import unique_enp
from test_accounts import DEVICE, PASSWORD, Clock, Inbox, open_cabinet, register, sign_in

UTC = datetime.timezone.utc


def totp(secret_base32: str, at: datetime.datetime) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it."""
    key = base64.b32decode(secret_base32 + "=" * (-len(secret_base32) % 8))
    digest = hmac.new(key, struct.pack(">Q", int(at.timestamp()) // 30), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return f"{(struct.unpack('>I', digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[kabinet.Cabinet, Inbox, Clock]]:
    """As in test_accounts, but booking does not need identity confirmation here."""
    inbox, clock = Inbox(), Clock()
    cab = open_cabinet(request, tmp_path, inbox, clock, require_identity_for_booking=False)
    yield cab, inbox, clock
    cab.close()


def world(cab: kabinet.Cabinet, clock: Clock) -> tuple[kabinet.Clinic, kabinet.Practitioner, list[kabinet.Slot]]:
    """A region and clinic with codes unique to this test (the PostgreSQL database is shared)."""
    tag = uuid.uuid4().hex[:8]
    sys = cab.system()
    sys.directory.add_region(f"r{tag}", "Москва")
    clinic = sys.directory.add_clinic(
        f"r{tag}", f"c{tag}", f"Семёновская поликлиника {tag}", "ул. Семёновская, 2", "пн–пт 8:00–20:00"
    )
    gp = sys.directory.add_practitioner(clinic.id, "Петров Пётр Петрович", "Терапевт", ["first", "repeat"])
    start = (clock.now_value + datetime.timedelta(days=1)).replace(hour=9, minute=0)
    slots = sys.schedule.open_slots(gp.id, start, start + datetime.timedelta(hours=1), 20, "first")
    return clinic, gp, slots


def test_r8_directory_and_free_slots(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, gp, slots = world(cab, clock)
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    assert me.role == "patient"
    assert me.directory.find_clinic(clinic.code).id == clinic.id
    assert me.directory.find_clinic(clinic.name.upper().replace("Ё", "Е")).id == clinic.id
    assert [c.id for c in me.directory.clinics(clinic.region_code)] == [clinic.id]
    found = me.directory.practitioners(specialization="терапевт", clinic_id=clinic.id, visit_type="repeat")
    assert [p.full_name for p in found] == ["Петров Пётр Петрович"] and found[0].visit_types == ["first", "repeat"]
    free = me.appointments.free_slots(gp.id, slots[0].starts_at, slots[-1].ends_at)
    assert [s.id for s in free] == [s.id for s in slots] and len(slots) == 3
    assert free[0].starts_at.tzinfo is not None
    with pytest.raises(kabinet.ValidationError) as bad:
        cab.system().schedule.open_slots(gp.id, slots[0].starts_at, slots[0].ends_at, 0, "first")
    assert bad.value.field == "minutes"
    with pytest.raises(kabinet.NotFound):
        me.directory.find_clinic("нет такой клиники " + uuid.uuid4().hex)


def test_r8_book_reschedule_cancel_and_deadline(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, gp, slots = world(cab, clock)
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    visit = me.appointments.book(slots[0].id)
    assert (visit.practitioner_name, visit.clinic_name, visit.status) == ("Петров Пётр Петрович", clinic.name, "booked")
    assert visit.required_documents == ["oms_policy", "passport"] and len(visit.confirmation_code) == 9
    assert inbox.code("appointment_booked") == visit.confirmation_code
    assert visit.confirmation_code not in repr(visit) and visit == me.appointments.list()[0]
    # One patient per slot.
    _, other_phone = register(cab, inbox)
    other = cab.session(sign_in(cab, inbox, other_phone).access_token, DEVICE)
    with pytest.raises(kabinet.Conflict) as taken:
        other.appointments.book(slots[0].id)
    assert taken.value.code == "slot.taken"
    moved = me.appointments.reschedule(visit.id, slots[1].id)
    assert moved.id == visit.id and moved.slot_id == slots[1].id
    assert other.appointments.book(slots[0].id).status == "booked", "the old slot is free again"
    assert [a.id for a in me.appointments.list()] == [visit.id]
    # Past the deadline (2 h before the visit): no change, no cancel.
    clock.now_value = moved.starts_at - datetime.timedelta(hours=1)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    with pytest.raises(kabinet.Conflict) as late:
        me.appointments.cancel(visit.id)
    assert late.value.code == "deadline.passed"
    clock.now_value = moved.ends_at + datetime.timedelta(hours=1)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    assert me.appointments.list() == []
    assert [a.status for a in me.appointments.list(upcoming=False)] == ["past"]


def test_r8_cancel_before_deadline_and_reminder(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    _, _, slots = world(cab, clock)
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    keep = me.appointments.book(slots[0].id)
    drop = me.appointments.book(slots[2].id)
    cancelled = me.appointments.cancel(drop.id)
    assert cancelled.status == "cancelled"
    assert any(m.kind == "appointment_cancelled" for m in inbox.messages)
    jobs = cab.run_due_jobs()
    assert jobs["reminders_queued"] >= 1
    reminders = [m for m in inbox.messages if m.kind == "reminder" and m.code == keep.confirmation_code]
    assert len(reminders) == 1 and "Петров" in reminders[0].text
    cab.run_due_jobs()
    assert len([m for m in inbox.messages if m.kind == "reminder" and m.code == keep.confirmation_code]) == 1


def test_r11_attach_detach_and_staff(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    snils = me.profile.get().snils
    assert snils is not None and me.attachment.current() is None
    with pytest.raises(kabinet.ValidationError) as bad:
        me.attachment.attach(clinic.code, "45 08 123456", snils, "8451 9991 2289 9991")
    assert (bad.value.field, bad.value.reason) == ("oms_policy", "checksum")
    pending = me.attachment.attach(clinic.code, "45 08 123456", snils, unique_enp())
    attached = me.attachment.confirm(pending.id, inbox.code("attachment_code"))
    assert (attached.status, attached.clinic_id) == ("attachment_completed", clinic.id)
    assert attached.document_id is not None, "the confirmation PDF is stored"
    # Staff of the clinic sign in with TOTP and see her.
    staff_phone = f"+7903{uuid.uuid4().int % 10**7:07d}"
    account = cab.system().staff.create(
        clinic.id, "registrar", "Смирнова Елена", staff_phone, f"s{uuid.uuid4().hex[:8]}@clinic.ru", "Registratura#2026"
    )
    assert account.totp_secret_base32 not in repr(account)
    step = cab.auth.login(staff_phone, "Registratura#2026", DEVICE)
    assert step.second_factor == "totp"
    staff = cab.session(cab.auth.verify_second_factor(step.id, totp(account.totp_secret_base32, clock.now_value)).access_token, DEVICE)
    assert staff.role == "staff" and staff.staff_member.clinic_id == clinic.id
    assert [p.full_name for p in staff.patients.attached()] == ["Иванова Анна Сергеевна"]
    assert "Иванова" not in repr(staff.patients.attached()), "a PatientRef prints its id only"
    assert [p.full_name for p in staff.patients.find(snils=snils)] == ["Иванова Анна Сергеевна"]
    with pytest.raises(kabinet.PermissionDenied):
        staff.appointments.list()
    with pytest.raises(kabinet.PermissionDenied):
        _ = me.patients
    history = me.security.access_history()
    assert any(e.actor_kind == "staff" and e.who == "registrar Смирнова Елена" for e in history)
    # Detach, then the history reads back with times, newest first.
    clock.now_value += datetime.timedelta(minutes=5)
    leave = me.attachment.detach()
    ended = me.attachment.confirm(leave.id, inbox.code("attachment_code"))
    assert ended.status == "detached" and ended.detached_at == clock.now_value
    events = me.attachment.history()
    assert [(e.action, e.at) for e in events] == [
        ("detached", clock.now_value),
        ("attached", clock.now_value - datetime.timedelta(minutes=5)),
    ]
    assert staff.patients.attached() == []


def test_logging_captures_login_and_booking_without_personal_data(
    env: tuple[kabinet.Cabinet, Inbox, Clock], caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 13, item 3: Kabinet's events reach the standard `logging` module under the
    `kabinet` logger; none of them carries the person's data, codes or tokens."""
    cab, inbox, clock = env
    _, _, slots = world(cab, clock)
    with caplog.at_level(logging.DEBUG, logger="kabinet"):
        _, phone = register(cab, inbox)
        tokens = sign_in(cab, inbox, phone)
        me = cab.session(tokens.access_token, DEVICE)
        me.appointments.book(slots[0].id)
        with pytest.raises(kabinet.NotFound):
            me.appointments.cancel("no-such-appointment")
        cab.run_due_jobs()
    records = [r for r in caplog.records if r.name.startswith("kabinet")]
    calls = [r.getMessage() for r in records if r.name == "kabinet.call"]
    assert any("call=Appointments.book" in c and "outcome=ok" in c and "elapsed_ms=" in c for c in calls), calls
    assert any("call=Appointments.cancel" in c and "outcome=not_found" in c for c in calls), calls
    assert records, "no kabinet log records"
    names = {r.name for r in records}
    assert {"kabinet.journal", "kabinet.outbox", "kabinet.jobs"} <= names, names
    texts = [r.getMessage() for r in records]
    assert any("action=login" in t for t in texts), texts[:5]
    assert any("action=create" in t and "resource=appointment" in t for t in texts), [t for t in texts if "appoint" in t]
    assert all(isinstance(getattr(r, "kabinet"), dict) for r in records)
    whole = "\n".join(texts) + repr([r.__dict__.get("kabinet") for r in records])
    secrets = ["Иванова", "Анна", phone, phone.lstrip("+"), "8451999122899990", "203.0.113.7", "Pixel 8",
               tokens.access_token, tokens.refresh_token, PASSWORD]
    secrets += [m.code for m in inbox.messages if m.code]
    secrets += [m.recipient for m in inbox.messages]
    for secret in secrets:
        assert secret not in whole, "a log record holds personal data or a secret"


def test_r8_local_time_of_the_clinic_in_messages(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """Issue 14, item 6: a Yekaterinburg clinic's 04:00 UTC visit reads 09:00 with its zone."""
    cab, inbox, clock = env
    tag = uuid.uuid4().hex[:8]
    sys = cab.system()
    with pytest.raises(kabinet.ValidationError) as bad:
        sys.directory.add_region(f"z{tag}", "Свердловская область", time_zone="Mars/Olympus")
    assert bad.value.field == "time_zone"
    region = sys.directory.add_region(f"z{tag}", "Свердловская область", time_zone="Asia/Yekaterinburg")
    assert region.time_zone == "Asia/Yekaterinburg"
    clinic = sys.directory.add_clinic(f"z{tag}", f"k{tag}", f"ГП {tag}", "ул. Мира, 3", "пн–пт")
    assert clinic.time_zone == "Asia/Yekaterinburg"
    gp = sys.directory.add_practitioner(clinic.id, "Иванов Иван", "Терапевт", ["first"])
    start = datetime.datetime(2026, 11, 30, 4, 0, tzinfo=datetime.timezone.utc)
    [slot, _] = sys.schedule.open_slots(gp.id, start, start + datetime.timedelta(hours=1), 30, "first")
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    visit = me.appointments.book(slot.id)
    assert visit.starts_at == start and visit.starts_at.tzinfo is not None, "the API stays UTC"
    assert visit.clinic_time_zone == "Asia/Yekaterinburg"
    card = next(m for m in reversed(inbox.messages) if m.kind == "appointment_booked")
    assert "30.11.2026 09:00 (Asia/Yekaterinburg, UTC+5)" in card.text, card.text
    assert sys.directory.set_clinic_time_zone(clinic.id, "Asia/Kamchatka").time_zone == "Asia/Kamchatka"
    me.appointments.cancel(visit.id)
    cancelled = next(m for m in reversed(inbox.messages) if m.kind == "appointment_cancelled")
    assert "30.11.2026 16:00 (Asia/Kamchatka, UTC+12)" in cancelled.text, cancelled.text
    assert sys.directory.set_clinic_time_zone(clinic.id, None).time_zone == "Asia/Yekaterinburg"


def test_r11_one_voluntary_change_a_year_and_a_residence_change(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """Issue 14, item 8: the second voluntary change in a year is refused; a move allows one more."""
    cab, inbox, clock = env
    first, _, _ = world(cab, clock)
    second, _, _ = world(cab, clock)
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    snils, enp = me.profile.get().snils, unique_enp()
    assert snils is not None

    def attach(clinic: kabinet.Clinic, reason: str | None = None) -> kabinet.Attachment:
        clock.now_value += datetime.timedelta(minutes=1)
        pending = me.attachment.attach(clinic.code, "4508123456", snils, enp, reason=reason)
        return me.attachment.confirm(pending.id, inbox.code("attachment_code"))

    attach(first)
    assert me.profile.get().oms_policy == enp, "the policy given is saved to the profile"
    attach(second)
    with pytest.raises(kabinet.Conflict) as limit:
        attach(first)
    assert limit.value.code == "attachment.limit"
    with pytest.raises(kabinet.Conflict) as unchanged:
        attach(first, reason="residence_change")
    assert unchanged.value.code == "attachment.residence_unchanged"
    clock.now_value += datetime.timedelta(minutes=1)
    req = me.profile.request_change("actual_address", "г. Москва, ул. Новая, 5")
    me.profile.confirm_change(req.id, inbox.code("profile_change"))
    assert attach(first, reason=kabinet.AttachmentReason.RESIDENCE_CHANGE).clinic_id == first.id
    with pytest.raises(kabinet.ValidationError):
        me.attachment.attach(first.code, "4508123456", snils, enp, reason="whim")
    with pytest.raises(kabinet.ConfigError):
        kabinet.Cabinet.open_in_memory(kabinet.Config(attachment_changes_per_year=13))
