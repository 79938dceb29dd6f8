"""Hostile values through the Python binding (issue 11): every public call driven with
values a careless host or an attacker would pass — huge, empty, lone surrogates, control
characters, bidirectional overrides, far and naive dates, enormous and negative numbers,
wrong types — answers with a ``kabinet.KabinetError`` subclass or succeeds. Never a panic
(``BaseException``), never a bare ``TypeError``/``ValueError``/``OverflowError``.

Bounded for CI (``KABINET_HYPOTHESIS_EXAMPLES``, default 25 per call); the long run in
docs/security.md sets it to 2,000."""

import datetime
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import kabinet
from test_accounts import DEVICE, Approving, Clock, Inbox, register, sign_in

EXAMPLES = int(os.environ.get("KABINET_HYPOTHESIS_EXAMPLES", "25"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=False)

# Text a person would never type but a host might pass along.
hostile_text = st.one_of(
    st.text(max_size=64),
    st.text(alphabet=st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4),
    st.sampled_from(["", " ", "\u202e", "\u2066x\u2069", "\x00", "\x1b[31m", "a\u0301" * 50, "../../etc/passwd",
                     "'; DROP TABLE patients; --", "ễ-bb-cc", "𝓐" * 40, "x" * 100_000, "112-233-445 95\n",
                     "{}", "null", "9999-12-31T23:59:59Z"]),
)
hostile_number = st.one_of(st.integers(min_value=-(2**80), max_value=2**80), st.sampled_from([0, -1, 2**31, 2**63, -(2**63)]))
hostile_when = st.one_of(
    st.datetimes(timezones=st.just(datetime.timezone.utc)),
    st.datetimes(),  # naive
    st.sampled_from([datetime.datetime.min, datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)]),
)
hostile_any = st.one_of(hostile_text, hostile_number, hostile_when, st.none(), st.binary(max_size=64),
                        st.lists(st.integers(), max_size=3), st.dates(), st.floats(allow_nan=True))


def only_kabinet_errors(call: Callable[[], Any]) -> None:
    try:
        call()
    except kabinet.KabinetError:
        pass
    except BaseException as leak:  # noqa: BLE001  (that is the point)
        raise AssertionError(f"{type(leak).__name__} escaped: {leak!r}"[:300]) from None


@pytest.fixture(scope="module")
def world() -> Iterator[dict[str, Any]]:
    inbox, clock = Inbox(), Clock()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    cab = kabinet.Cabinet.open_in_memory(
        kabinet.Config(notifier=inbox, clock=clock, identity_registry=Approving(), locale="en", password_hashing=fast)
    )
    sys = cab.system()
    sys.directory.add_region("77", "Москва")
    clinic = sys.directory.add_clinic("77", "0101", "Поликлиника № 1", "ул. Ленина, 1", "пн–пт")
    _, phone = register(cab, inbox)
    tokens = sign_in(cab, inbox, phone)
    me = cab.session(tokens.access_token, DEVICE)
    yield {"cab": cab, "sys": sys, "me": me, "clinic": clinic, "tokens": tokens}
    cab.close()


@SETTINGS
@given(value=hostile_any)
def test_identifiers_take_anything(value: Any) -> None:
    for parse in (kabinet.ids.snils, kabinet.ids.inn, kabinet.ids.enp, kabinet.ids.passport, kabinet.ids.phone):
        only_kabinet_errors(lambda: parse(value))


@SETTINGS
@given(a=hostile_any, b=hostile_any)
def test_sign_in_calls_take_anything(world: dict[str, Any], a: Any, b: Any) -> None:
    cab = world["cab"]
    only_kabinet_errors(lambda: cab.auth.login(a, b, DEVICE))
    only_kabinet_errors(lambda: cab.session(a, DEVICE))
    only_kabinet_errors(lambda: cab.auth.refresh(a, DEVICE))
    only_kabinet_errors(lambda: cab.auth.verify_second_factor(a, b))
    only_kabinet_errors(lambda: cab.auth.logout(a))
    only_kabinet_errors(lambda: cab.accounts.confirm_phone(a, b))
    only_kabinet_errors(lambda: cab.accounts.confirm_email(a))
    only_kabinet_errors(lambda: cab.accounts.start_recovery(a, b))


@SETTINGS
@given(surname=hostile_text, snils=hostile_text, phone=hostile_text, born=st.dates())
def test_registration_takes_hostile_text(world: dict[str, Any], surname: str, snils: str, phone: str, born: datetime.date) -> None:
    cab = world["cab"]

    def attempt() -> None:
        cab.accounts.register(kabinet.Registration(
            phone=phone, email="h@example.ru", password="Vek-Tor!58zeb", surname=surname, given_name="Анна",
            patronymic=None, birth_date=born, sex="female", snils=snils, accepted_terms_version="2026-01",
        ))

    only_kabinet_errors(attempt)


@SETTINGS
@given(a=hostile_any, b=hostile_any, c=hostile_any, since=hostile_when)
def test_a_signed_in_patient_takes_anything(world: dict[str, Any], a: Any, b: Any, c: Any, since: Any) -> None:
    me = world["me"]
    calls: list[Callable[[], Any]] = [
        lambda: me.profile.request_change(a, b),
        lambda: me.profile.confirm_change(a, b),
        lambda: me.requests.create(a, b, c),
        lambda: me.requests.get(a),
        lambda: me.requests.add_document(a, b, c),
        lambda: me.appointments.book(a),
        lambda: me.appointments.cancel(a),
        lambda: me.appointments.free_slots(a, since, since),
        lambda: me.documents.download(a),
        lambda: me.documents.list(a, since, since),
        lambda: me.labs.results(since),
        lambda: me.records.request_correction(a, b),
        lambda: me.attachment.attach(a, b, c, a),
        lambda: me.certificates.request(a, since, since),
        lambda: me.proxies.grant([a], proxy_snils=b),
        lambda: me.proxies.revoke(a),
        lambda: me.security.revoke(a),
        lambda: me.security.confirm_incident(a, b),
        lambda: me.security.access_history(since),
        lambda: me.as_ward(a),
        lambda: me.directory.find_clinic(a),
        lambda: me.directory.practitioners(a, b, c),
        lambda: me.identity.confirm(a, b, since, c, a),
    ]
    for call in calls:
        only_kabinet_errors(call)


@SETTINGS
@given(a=hostile_any, b=hostile_any, doc=st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile_text),
    lambda children: st.one_of(st.lists(children, max_size=4), st.dictionaries(st.sampled_from(
        ["resourceType", "id", "entry", "resource", "birthDate", "identifier", "system", "value", "name", "subject",
         "patient", "reference", "code", "valueQuantity", "meta", "source", "fullUrl", "status", "period"]), children, max_size=5)),
    max_leaves=20,
))
def test_the_operator_takes_anything(world: dict[str, Any], a: Any, b: Any, doc: Any) -> None:
    sys = world["sys"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": doc}]}
    calls: list[Callable[[], Any]] = [
        lambda: sys.fhir.import_bundle(json.dumps(doc)),
        lambda: sys.fhir.import_bundle(json.dumps(bundle), source=a),
        lambda: sys.fhir.import_bundle(a),
        lambda: sys.fhir.export_patient(a),
        lambda: sys.patients.get(a),
        lambda: sys.patients.find_by_snils(a),
        lambda: sys.patients.erase(a),
        lambda: sys.directory.add_region(a, b),
        lambda: sys.directory.add_clinic(a, b, a, b, a),
        lambda: sys.audit.inclusion_proof(a),
        lambda: sys.audit.access_history(a, b),
        lambda: kabinet.audit.verify_inclusion_proof(a, b),
    ]
    for call in calls:
        only_kabinet_errors(call)


@SETTINGS
@given(minutes=hostile_number, connections=hostile_number)
def test_settings_take_any_number(minutes: int, connections: int) -> None:
    def attempt() -> None:
        config = kabinet.Config(change_deadline_minutes=minutes, max_connections=connections, locale="en")
        kabinet.Cabinet.open_in_memory(config).close()

    only_kabinet_errors(attempt)


def test_a_kabinet_error_is_an_exception_hosts_catch() -> None:
    assert issubclass(kabinet.KabinetError, Exception)
    with pytest.raises(kabinet.ValidationError) as err:
        kabinet.ids.snils("\ud800")
    assert (err.value.code, err.value.reason, err.value.retryable) == ("validation", "encoding", False)
    assert "\ud800" not in str(err.value)
