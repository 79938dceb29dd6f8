"""Python that feels native (issue 12, item 7): errors that are also the matching built-in
exceptions, and host callbacks that would never be awaited refused at ``Config`` time."""

import datetime
import decimal
import inspect
import pickle
from typing import Any

import pytest

import kabinet
from conftest import anna
from test_accounts import Clock, Inbox
from test_booking import env, world  # noqa: F401  (env is a fixture)
from test_records import attached_patient, staff_session


def test_errors_are_also_the_matching_builtins(cabinet: kabinet.Cabinet) -> None:
    patients = cabinet.system().patients
    with pytest.raises(ValueError) as bad:
        patients.create(anna(snils="112-233-445 00"))
    assert isinstance(bad.value, kabinet.ValidationError)
    assert bad.value.code.startswith("validation") and bad.value.field == "snils"
    with pytest.raises(LookupError) as missing:
        patients.get("00000000-0000-4000-8000-000000000000")
    assert isinstance(missing.value, kabinet.NotFound) and isinstance(missing.value, kabinet.KabinetError)
    # The hierarchy as documented.
    assert issubclass(kabinet.PermissionDenied, PermissionError)
    assert issubclass(kabinet.NotFound, LookupError)
    assert issubclass(kabinet.ValidationError, ValueError)
    assert not issubclass(kabinet.Conflict, ValueError)
    assert kabinet.ValidationError.__module__ == "kabinet"
    # A permission refusal through a session is both.
    with pytest.raises(PermissionError):
        try:
            raise kabinet.PermissionDenied("x")
        except kabinet.KabinetError:
            raise


class AsyncNotifier:
    async def deliver(self, message: Any) -> None:  # never awaited by Kabinet
        pass


class AsyncClock:
    async def now(self) -> datetime.datetime:
        return datetime.datetime.now(datetime.timezone.utc)


class AsyncRegistry:
    async def check(self, request: Any) -> Any:
        return None


class CallableAsync:
    class _Deliver:
        async def __call__(self, message: Any) -> None:
            pass

    deliver = _Deliver()


class NoMethod:
    pass


@pytest.mark.parametrize(
    ("argument", "host"),
    [
        ("notifier", AsyncNotifier()),
        ("clock", AsyncClock()),
        ("identity_registry", AsyncRegistry()),
        ("notifier", CallableAsync()),
        ("notifier", NoMethod()),
    ],
)
def test_async_or_missing_host_callbacks_are_refused_at_config(argument: str, host: object) -> None:
    with pytest.raises(kabinet.ConfigError) as refused:
        kabinet.Config(**{argument: host})  # type: ignore[arg-type]
    assert refused.value.code == "config.host_callback"


def test_a_callback_returning_an_awaitable_is_not_taken_for_done() -> None:
    class Sneaky:
        """Passes the check (a plain method) but returns a coroutine."""

        calls = 0
        ran: list[Any] = []

        def deliver(self, message: Any) -> Any:
            Sneaky.calls += 1

            async def later() -> None:
                Sneaky.ran.append(message)

            return later()

    cab = kabinet.Cabinet.open_in_memory(kabinet.Config(notifier=Sneaky()))
    with _no_warning():
        pending = cab.accounts.register(
            kabinet.Registration(
                phone="8 (916) 123-45-67",
                email="anna.ivanova@example.ru",
                password="Slozhnyj-Parol!42",
                surname="Иванова",
                given_name="Анна",
                patronymic="Сергеевна",
                birth_date=datetime.date(1990, 3, 14),
                sex="female",
                snils="112-233-445 95",
                accepted_terms_version="2026-01",
            )
        )
    assert pending.id
    # Kabinet called it, saw an awaitable, closed it (no "never awaited" warning) and kept the
    # message queued as undelivered; the coroutine's body never ran.
    assert Sneaky.calls >= 1
    assert Sneaky.ran == []


class _no_warning:
    """Fails the test if a RuntimeWarning (e.g. "coroutine was never awaited") is raised."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings()
        self._catch.__enter__()
        warnings.simplefilter("error", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(*exc)


def test_a_cabinet_used_in_a_forked_child_raises_instead_of_hanging() -> None:
    """The rule: start Kabinet after ``fork()``; a child using what its parent opened gets
    ``ConfigError`` ``config.forked`` at once."""
    import os

    cab = kabinet.Cabinet.open_in_memory()
    pid = cab.system().patients.create(anna())
    child = os.fork()
    if child == 0:  # the child: every call refuses at once with config.forked
        import signal

        signal.alarm(20)  # a hang (the old behaviour) ends the child, failing the test
        status = 1
        try:
            cab.system().patients.get(pid)
        except kabinet.ConfigError as e:
            status = 0 if e.code == "config.forked" else 2
        except BaseException:
            status = 3
        try:
            kabinet.Cabinet.open_in_memory()
            status = 4
        except kabinet.ConfigError:
            pass
        os._exit(status)
    _, waited = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(waited) == 0
    # The parent goes on unharmed.
    assert cab.system().patients.get(pid).surname == "Иванова"


def test_value_records_compare_and_hash_by_value() -> None:
    """Output records are values: equal when their fields are, hashable, usable in sets."""
    cab = kabinet.Cabinet.open_in_memory()
    admin = cab.system().directory
    region = admin.add_region("77", "Москва")
    first = admin.add_clinic("77", "0101", "Поликлиника № 1", "ул. Ленина, 1", "пн–пт")
    second = admin.add_clinic("77", "0102", "Поликлиника № 2", "ул. Ленина, 2", "пн–пт")
    doctor = admin.add_practitioner(first.id, "Петров Пётр Петрович", "Терапевт", ["first"])
    start = datetime.datetime(2030, 1, 10, 9, tzinfo=datetime.timezone.utc)
    slots = admin.open_slots(doctor.id, start, start + datetime.timedelta(hours=1), 20, "first")
    again = admin.open_slots(doctor.id, start + datetime.timedelta(hours=1), start + datetime.timedelta(hours=2), 20, "first")
    assert first == first and first != second
    assert hash(first) == hash(first) and len({first, second, first}) == 2
    assert len(set(slots) | set(again)) == 6 and slots[0] in set(slots)
    assert region.code == "77" and hash(region) == hash(region)
    report = cab.system().keys.rotate()
    copy = pickle.loads(pickle.dumps(report))
    assert copy == report and copy is not report and hash(copy) == hash(report) and len({report, copy}) == 1


def test_records_results_and_pages_hash_by_value(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    """Medical items, lab results and pages are values too: read twice, they are equal,
    distinct objects with equal hashes (issue 12 review, item 7)."""
    cab, inbox, clock = env
    clinic, _, _ = world(cab, clock)
    me, _ = attached_patient(cab, inbox, clinic)
    doctor = staff_session(cab, clock, clinic.id, "doctor")
    doctor.records.add_immunization(me.patient_id, "Спутник V", datetime.date(2025, 10, 1), dose="1 из 2")
    lab = staff_session(cab, clock, clinic.id, "laboratory")
    sampled = clock.now_value - datetime.timedelta(hours=3)
    lab.labs.publish(me.patient_id, kabinet.LabReport("Калий", "ЦКДЛ", clock.now_value, [
        kabinet.LabResultInput("Калий", "2823-3", sampled, value=decimal.Decimal("4.10"), range_low="3.50", range_high="5.20"),
    ]))
    [item], [again] = me.records.immunizations(), me.records.immunizations()
    [result], [result_again] = me.labs.results(), me.labs.results()
    page, page_again = me.labs.results_page(), me.labs.results_page()
    for first, second in [(item, again), (result, result_again), (page, page_again)]:
        assert first == second and first is not second, type(first)
        assert hash(first) == hash(second) and len({first, second}) == 1, type(first)
    assert isinstance(page, kabinet.LabResultPage) and page.items == [result]
    assert result in {result_again} and item in {again}


def test_input_records_are_the_exported_classes_and_refuse_bad_arguments_as_validation_errors() -> None:
    """Input records are what `kabinet` exports (a guarded subclass of the native type): what
    a caller builds and what Kabinet returns are instances of the same class, and a wrong
    argument is a ValidationError naming it, never a bare TypeError (issue 11, issue 12)."""
    made = kabinet.Immunization("Спутник V", datetime.date(2025, 10, 1), dose="1 из 2")
    assert type(made) is kabinet.Immunization and isinstance(made, kabinet.Immunization)
    assert (made.vaccine, made.date, made.dose, made.lot) == ("Спутник V", datetime.date(2025, 10, 1), "1 из 2", None)
    with pytest.raises(kabinet.ValidationError) as wrong:
        kabinet.Immunization("Спутник V", "2025-10-01")  # type: ignore[arg-type]
    assert wrong.value.reason == "type" and not isinstance(wrong.value, TypeError)
    with pytest.raises(kabinet.ValidationError) as huge:
        kabinet.Argon2Params(memory_kib=2**40)
    assert huge.value.reason == "range"
    assert "Vek-Tor" not in repr(
        kabinet.Registration("+79161234567", "a@b.ru", "Vek-Tor!58zeb", "Иванова", "Анна", None,
                             datetime.date(1990, 3, 14), "female", "112-233-445 95", "2026-01")
    )
    assert str(inspect.signature(kabinet.Device)) == "(id, name='', ip='', user_agent='')"


def test_host_protocols_exist_at_run_time() -> None:
    class Inbox:
        def deliver(self, message: kabinet.Message) -> None:
            pass

    class Registry:
        def check(self, request: kabinet.RegistryRequest) -> kabinet.RegistryAnswer:
            return kabinet.RegistryAnswer(matched=True)

    assert isinstance(Inbox(), kabinet.Notifier) and not isinstance(Inbox(), kabinet.Clock)
    assert isinstance(Registry(), kabinet.IdentityRegistry)


def test_values_turn_into_dicts_and_survive_pickling() -> None:
    """`to_dict()` on every value (nested values too, closed sets as their members, dates as
    dates) and pickling that gives back an equal value of the exported class (issue 12, item 7)."""
    cab = kabinet.Cabinet.open_in_memory()
    admin = cab.system().directory
    admin.add_region("77", "Москва")
    clinic = admin.add_clinic("77", "0101", "Поликлиника № 1", "ул. Ленина, 1", "пн–пт")
    doctor = admin.add_practitioner(clinic.id, "Петров Пётр Петрович", "Терапевт", ["first"])
    start = datetime.datetime(2030, 1, 10, 9, tzinfo=datetime.timezone.utc)
    [slot, *_] = admin.open_slots(doctor.id, start, start + datetime.timedelta(hours=1), 20, "first")
    pid = cab.system().patients.create(anna())
    patient = cab.system().patients.get(pid)
    visit = kabinet.Visit(datetime.date(2026, 2, 10), "Поликлиника", [("J06.9", "ОРВИ")], ["осмотр"])
    report = kabinet.LabReport("Липиды", "ЦКДЛ", start, [kabinet.LabResultInput("Холестерин", "2093-3", start, value=6.3)])
    for value in [clinic, doctor, slot, patient, visit, report, kabinet.Severity.MILD]:
        again = pickle.loads(pickle.dumps(value))
        assert again == value and type(again) is type(value), value
    assert clinic.to_dict() == {name: getattr(clinic, name) for name in clinic.to_dict()}
    assert slot.to_dict()["starts_at"] == start and patient.to_dict()["sex"] is kabinet.Sex.FEMALE
    assert visit.to_dict() == {
        "date": datetime.date(2026, 2, 10),
        "diagnoses": [("J06.9", "ОРВИ")],
        "institution": "Поликлиника",
        "procedures": ["осмотр"],
    }
    assert report.to_dict()["results"][0]["value"] == decimal.Decimal("6.3"), "nested values become dicts too"
    # A damaged pickle is a ValueError, and only Kabinet's own value types can come out of one.
    with pytest.raises(ValueError):
        kabinet._kabinet._restore("kabinet::directory::Clinic", '{"id": 5}')
    with pytest.raises(ValueError):
        kabinet._kabinet._restore("os.system", "{}")
