"""Closed sets are string-valued enums (issue 12, item 3): statuses, kinds, roles, flags, channels,
methods and sex come back as `enum.StrEnum` members that still equal their strings; arguments
take a member or its string; anything else is a `ValidationError` (also a `ValueError`) naming
the field and listing the valid values."""

import datetime
import enum
import pickle

import pytest

import kabinet
from test_accounts import Clock, Inbox, register, sign_in
from test_booking import env, world  # noqa: F401  (env is a fixture)
from test_records import attached_patient, staff_session

SETS = {
    "AppointmentStatus": ["booked", "cancelled", "past"],
    "AttachmentStatus": ["attachment_completed", "detached"],
    "CertificateKind": [
        "medical_history_extract",
        "health_status",
        "vaccination",
        "outpatient_card_extract",
        "vaccination_record",
        "preventive_checkup",
    ],
    "CertificatePeriod": ["optional", "required", "whole_record"],
    "CertificatePurpose": ["work", "study", "travel", "sport", "other"],
    "CertificateSection": [
        "visits",
        "medications",
        "allergies",
        "immunizations",
        "screenings",
        "health_certificates",
        "lab_results",
    ],
    "CertificateStatus": ["pending", "ready"],
    "Channel": ["sms", "email", "push"],
    "CorrectionStatus": ["pending", "accepted", "rejected"],
    "DocumentKind": ["extract", "lab_result", "referral", "conclusion", "certificate", "other"],
    "IdentityMethod": ["esignature", "sms", "video", "service_centre"],
    "IncidentKind": [
        "new_device",
        "new_network",
        "success_after_failures",
        "simultaneous_sessions",
        "unusual_access_rate",
        "credential_change",
    ],
    "IncidentStatus": ["open", "confirmed", "blocked", "resolved"],
    "PushPlatform": ["fcm", "apns", "hms", "rustore"],
    "LabFlag": ["low", "high", "normal", "abnormal"],
    "RequestStatus": ["in_processing", "clarification_needed", "completed", "expired"],
    "Severity": ["mild", "moderate", "severe"],
    "Sex": ["male", "female", "unknown"],
    "StaffRole": ["doctor", "nurse", "registrar", "laboratory", "administrator"],
}


def test_every_closed_set_is_a_string_valued_enum() -> None:
    for name, values in SETS.items():
        cls = getattr(kabinet, name)
        assert issubclass(cls, enum.StrEnum), name
        assert [m.value for m in cls] == values, name
        assert cls.__module__ == "kabinet" and name in kabinet.__all__
        for value in values:
            member = cls(value)
            assert member == value and str(member) == value and member is cls[value.upper()]
            assert pickle.loads(pickle.dumps(member)) is member
    assert {kabinet.LabFlag.HIGH: 1}["high"] == 1, "hashes like its string"


def test_arguments_take_members_or_strings_and_refuse_others_listing_the_valid_ones(
    env: tuple[kabinet.Cabinet, Inbox, Clock],
) -> None:
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    with pytest.raises(kabinet.ValidationError) as refused:
        staff_session(cab, clock, clinic.id, "janitor")
    assert isinstance(refused.value, ValueError)
    assert (refused.value.field, refused.value.reason) == ("role", "unknown_value")
    assert "doctor, nurse, registrar, laboratory, administrator" in refused.value.message
    doctor = staff_session(cab, clock, clinic.id, kabinet.StaffRole.DOCTOR)
    me, _ = attached_patient(cab, inbox, clinic)
    assert me.documents.list(kind="extract") == []
    assert me.documents.list(kind=kabinet.DocumentKind.REFERRAL) == []
    for bad in ["selfie", "", "EXTRACT\x00", "ехтракт"]:
        with pytest.raises(kabinet.ValidationError) as err:
            me.documents.list(kind=bad)
        assert err.value.field == "kind"
        assert err.value.reason == ("empty" if bad == "" else "unknown_value")
    with pytest.raises(kabinet.ValidationError) as wrong_type:
        me.documents.list(kind=5)  # type: ignore[arg-type]
    assert wrong_type.value.reason == "type"
    with pytest.raises(kabinet.ValidationError) as severity:
        kabinet.Allergy("пенициллин", "сыпь", datetime.date(2020, 1, 1), severity="deadly")
    assert "mild, moderate, severe" in severity.value.message
    allergy = kabinet.Allergy("пенициллин", "сыпь", datetime.date(2020, 1, 1), severity=" Moderate ")
    assert allergy.severity is kabinet.Severity.MODERATE
    req = me.requests.create(clinic.id, "Справка", "Нужна справка")
    registrar = staff_session(cab, clock, clinic.id, "registrar")
    with pytest.raises(kabinet.ValidationError):
        registrar.requests.reply(req.id, "x", status="archived")
    asked = registrar.requests.reply(req.id, "Уточните", status=kabinet.RequestStatus.CLARIFICATION_NEEDED)
    assert asked.status is kabinet.RequestStatus.CLARIFICATION_NEEDED and asked.status == "clarification_needed"
    assert doctor.staff_member.role is kabinet.StaffRole.DOCTOR


def test_results_are_members(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    _, phone = register(cab, inbox)
    sms = next(m for m in inbox.messages if m.kind == "phone_confirmation")
    assert sms.channel is kabinet.Channel.SMS and sms.channel == "sms"
    me = cab.session(sign_in(cab, inbox, phone).access_token, kabinet.Device("d", "n", "203.0.113.9", "ua"))
    assert me.profile.get().sex is kabinet.Sex.FEMALE
    assert {i.kind for i in me.security.incidents()} <= set(kabinet.IncidentKind)


def test_sex_aliases_are_accepted_as_documented(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """`sex="F"` (and m/f, м/ж) is accepted and recorded as female/male, as the stub and the
    core document; "unknown" only comes from imported records."""
    cab, _, _ = env
    made = []
    cases = [("Анна", "F", kabinet.Sex.FEMALE), ("Иван", "м", kabinet.Sex.MALE), ("Олег", kabinet.Sex.MALE, kabinet.Sex.MALE)]
    for name, given, recorded in cases:
        new = kabinet.NewPatient("Петрова", name, datetime.date(1980, 1, 2), str(given))
        pid = cab.system().patients.create(new)
        made.append((cab.system().patients.get(pid).sex, recorded))
    assert all(got is want for got, want in made)
    with pytest.raises(kabinet.ValidationError) as unknown:
        cab.system().patients.create(kabinet.NewPatient("Петров", "Иван", datetime.date(1980, 1, 2), "unknown"))
    assert unknown.value.field == "sex"
