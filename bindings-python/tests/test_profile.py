"""Login by INN (R3), the whole personal profile with confirmation and history (R18, R19),
host confirmation methods through a Python ``Confirmer``, and legacy hashes reported on
import (R4) — issue 14, items 1–3, on SQLite and PostgreSQL."""

import datetime
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import kabinet
from test_accounts import DEVICE, PASSWORD, Clock, Inbox, register, sign_in, unique_phone
from test_foundation import unique_enp, unique_snils


def unique_inn() -> str:
    """A random valid 12-digit INN (a person's), so runs on the shared database never collide."""
    digits = [int(c) for c in f"{uuid.uuid4().int % 9_000_000_000 + 1_000_000_000:010d}"]
    for weights in ([7, 2, 4, 10, 3, 5, 9, 4, 6, 8], [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]):
        digits.append(sum(d * w for d, w in zip(digits, weights)) % 11 % 10)
    return "".join(map(str, digits))


class Registry:
    """Knows everyone, except a SNILS it was told is unknown."""

    def __init__(self) -> None:
        self.unknown_snils: set[str] = set()

    def check(self, request: kabinet.RegistryRequest) -> kabinet.RegistryAnswer:
        if request.snils in self.unknown_snils:
            return kabinet.RegistryAnswer(False, "snils_not_found")
        return kabinet.RegistryAnswer(matched=True)


class Signatures:
    """A host confirmer: an electronic signature over the request's challenge."""

    def __init__(self) -> None:
        self.started: list[kabinet.ConfirmationRequest] = []

    def methods(self) -> list[str]:
        return ["esignature"]

    def start(self, request: kabinet.ConfirmationRequest) -> None:
        self.started.append(request)

    def verify(self, request: kabinet.ConfirmationRequest, proof: str) -> bool:
        return proof == f"signed:{request.challenge}"


def open_cabinet(
    backend: str, tmp_path: Path, inbox: Inbox, confirmer: kabinet.Confirmer, registry: Registry
) -> kabinet.Cabinet:
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    if backend == "sqlite":
        keys = kabinet.KeyProvider.local_file(tmp_path / "kek.json")
        url = f"sqlite://{tmp_path / 'k.db'}"
    else:
        url_env = os.environ.get("KABINET_PY_POSTGRES_URL")
        if not url_env:
            pytest.skip("KABINET_PY_POSTGRES_URL not set")
        url = url_env
        keys = kabinet.KeyProvider.local_file(os.environ.get("KABINET_PY_POSTGRES_KEYS", str(tmp_path / "pg.json")))
    config = kabinet.Config(
        key_provider=keys, notifier=inbox, clock=Clock(), locale="en", password_hashing=fast, max_connections=2,
        identity_registry=registry, confirmer=confirmer,
    )
    return kabinet.Cabinet.open(url, config)


Env = tuple[kabinet.Cabinet, Inbox, Signatures, Registry]


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Env]:
    inbox, signatures, registry = Inbox(), Signatures(), Registry()
    cab = open_cabinet(request.param, tmp_path, inbox, signatures, registry)
    yield cab, inbox, signatures, registry
    cab.close()


def test_r3_login_by_inn_after_identity_confirmation(env: Env) -> None:
    cab, inbox, _, _ = env
    inn, phone = unique_inn(), unique_phone()
    with pytest.raises(kabinet.ValidationError) as bad:
        cab.accounts.register(kabinet.Registration(
            phone, f"u{uuid.uuid4().hex[:10]}@example.ru", PASSWORD, "Иванова", "Анна", None,
            datetime.date(1990, 3, 14), "female", unique_snils(), "2026-01", inn=inn[:-1] + str((int(inn[-1]) + 1) % 10),
        ))
    assert bad.value.field == "inn"
    reg = cab.accounts.register(kabinet.Registration(
        phone, f"u{uuid.uuid4().hex[:10]}@example.ru", PASSWORD, "Иванова", "Анна", None,
        datetime.date(1990, 3, 14), "female", unique_snils(), "2026-01", inn=inn,
    ))
    assert reg.id
    cab.accounts.confirm_phone(reg.id, inbox.code("phone_confirmation"))
    # Before the registry confirms the person, the INN signs nobody in.
    with pytest.raises(kabinet.AuthenticationError):
        cab.auth.login(inn, PASSWORD, DEVICE)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    assert me.profile.get().inn == inn
    step = cab.auth.login(f"{inn[:4]} {inn[4:]}", PASSWORD, DEVICE)
    tokens = cab.auth.verify_second_factor(step.id, inbox.code("login_code"))
    assert cab.session(tokens.access_token, DEVICE).patient_id == me.patient_id


def test_r18_every_field_with_sms_or_a_python_confirmer(env: Env) -> None:
    cab, inbox, signatures, registry = env
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    advice = {m.code: m.call for m in me.profile.completeness()}
    assert advice["oms_policy_missing"] == 'me.profile.request_change("oms_policy")'
    enp = unique_enp()
    req = me.profile.request_change("oms_policy", f"{enp[:4]} {enp[4:8]} {enp[8:12]} {enp[12:]}")
    assert (req.field, req.method) == ("oms_policy", "sms")
    assert req.expires_at.tzinfo is not None
    me.profile.confirm_change(req.id, inbox.code("profile_change"))
    # The insurer by electronic signature: the confirmer sees the change, never an SMS.
    sms_before = sum(1 for m in inbox.messages if m.kind == "profile_change")
    req = me.profile.request_change("insurer", "АО «СОГАЗ-Мед»", method="esignature")
    assert req.method == "esignature"
    assert sum(1 for m in inbox.messages if m.kind == "profile_change") == sms_before
    started = signatures.started[-1]
    assert (started.id, started.purpose, started.subject, len(started.challenge)) == (req.id, "profile_change", "insurer", 64)
    with pytest.raises(kabinet.AuthenticationError) as wrong:
        me.profile.confirm_change(req.id, "signed:forged")
    assert wrong.value.code == "auth.invalid_code"
    me.profile.confirm_change(req.id, f"signed:{started.challenge}")
    for field, value in [("passport", "45 08 123456"), ("address", "г. Москва, ул. Тверская, 1"),
                         ("actual_address", "г. Москва, ул. Арбат, 10")]:
        me.profile.confirm_change(me.profile.request_change(field, value).id, inbox.code("profile_change"))
    p = me.profile.get()
    assert (p.oms_policy, p.insurer, p.passport, p.address, p.actual_address) == (
        enp, "АО «СОГАЗ-Мед»", "4508123456", "г. Москва, ул. Тверская, 1", "г. Москва, ул. Арбат, 10")
    history = me.profile.history()
    assert sorted(c.field for c in history) == ["actual_address", "address", "insurer", "oms_policy", "passport"]
    assert {c.field: c.confirmed_by for c in history}["insurer"] == "esignature"
    codes = {m.code for m in me.profile.completeness()}
    assert not codes & {"oms_policy_missing", "insurer_missing"}, codes
    # SNILS only through the registry: an unknown one is refused before any code is sent.
    unknown = unique_snils()
    registry.unknown_snils.add(unknown)
    with pytest.raises(kabinet.Conflict) as mismatch:
        me.profile.request_change("snils", unknown)
    assert mismatch.value.code == "identity.mismatch"
    new_snils = unique_snils()
    me.profile.confirm_change(me.profile.request_change("snils", new_snils).id, inbox.code("profile_change"))
    assert {c.field: c.confirmed_by for c in me.profile.history()}["snils"] == "registry+sms"
    cab.auth.login(new_snils, PASSWORD, DEVICE)
    # Methods nobody offers, and hostile values, are typed refusals.
    with pytest.raises(kabinet.ValidationError) as no_method:
        me.profile.request_change("insurer", "АО «Альфа»", method="telepathy")
    assert no_method.value.code == "confirmation.no_method"
    for field, value in [("insurer", "АО\x07"), ("birth_date", "2999-01-01"), ("inn", "7707083893"), ("nope", "x")]:
        with pytest.raises(kabinet.ValidationError):
            me.profile.request_change(field, value)


class RaisingConfirmer(Signatures):
    def start(self, request: kabinet.ConfirmationRequest) -> None:
        raise RuntimeError("signing service down")


class TruthyConfirmer(Signatures):
    def verify(self, request: kabinet.ConfirmationRequest, proof: str) -> bool:
        return "yes"  # type: ignore[return-value]  # a careless host: truthy, not True


@pytest.mark.parametrize("confirmer", [RaisingConfirmer(), TruthyConfirmer()], ids=["raises", "truthy"])
def test_r18_a_careless_confirmer_never_confirms(tmp_path: Path, confirmer: Signatures) -> None:
    inbox = Inbox()
    cab = open_cabinet("sqlite", tmp_path, inbox, confirmer, Registry())
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    if isinstance(confirmer, RaisingConfirmer):
        with pytest.raises(kabinet.StorageError) as down:
            me.profile.request_change("insurer", "АО «Альфа»", method="esignature")
        assert down.value.code == "confirmation.unavailable"
    else:
        req = me.profile.request_change("insurer", "АО «Альфа»", method="esignature")
        with pytest.raises(kabinet.StorageError) as odd:
            me.profile.confirm_change(req.id, f"signed:{confirmer.started[-1].challenge}")
        assert odd.value.code == "confirmation.unavailable"
    assert me.profile.get().insurer is None
    cab.close()


def test_r18_an_async_confirmer_is_refused_when_configured() -> None:
    class AsyncConfirmer:
        def methods(self) -> list[str]:
            return ["esignature"]

        async def start(self, request: kabinet.ConfirmationRequest) -> None: ...

        def verify(self, request: kabinet.ConfirmationRequest, proof: str) -> bool:
            return False

    with pytest.raises(kabinet.ConfigError):
        kabinet.Config(confirmer=AsyncConfirmer())  # type: ignore[arg-type]  # the mistake under test


def test_r4_import_reports_weak_legacy_hashes(env: Env) -> None:
    cab, inbox, _, _ = env
    # A cost-12 bcrypt hash of "Legacy-Pass1!" (a fixed vector made with the Rust crate), and a
    # cost-4 bcrypt-shaped one (an import checks only shape and cost; nobody signs in with it).
    weak = "$2b$04$3Nq8aTq2R1bBXKzqjM0O4uNkM7wV5QW7cF0Dq1m2Hh7s3xYqE6Q0a"
    strong = "$2a$12$NYqRktaMVcE9fkTDawJSFeAmlr6ON4kFRpEGeWSJTAkDS8VpZQkFi"
    accounts = cab.system().accounts
    phone, inn = unique_phone(), unique_inn()
    imported = accounts.import_account(kabinet.LegacyAccount(
        phone, None, "Иванова", "Анна", None, datetime.date(1990, 3, 14), "female", unique_snils(), strong, inn=inn))
    assert (imported.hash_algorithm, imported.weak_hash) == ("bcrypt", False)
    assert str(imported) == imported.account_id
    reported = accounts.import_account(kabinet.LegacyAccount(
        unique_phone(), None, "Петров", "Иван", None, datetime.date(1980, 1, 1), "male", unique_snils(), weak))
    assert reported.weak_hash is True
    with pytest.raises(kabinet.ValidationError) as too_costly:
        accounts.import_account(kabinet.LegacyAccount(
            unique_phone(), None, "Петров", "Иван", None, datetime.date(1980, 1, 1), "male", unique_snils(),
            weak.replace("$04$", "$03$")))
    assert too_costly.value.field == "password_hash"
    # The imported INN signs its owner in.
    step = cab.auth.login(inn, "Legacy-Pass1!", DEVICE)
    cab.auth.verify_second_factor(step.id, inbox.code("login_code"))


def test_r4_password_change_reminder_once_per_period(tmp_path: Path) -> None:
    inbox, clock = Inbox(), Clock()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    with pytest.raises(kabinet.ConfigError):
        kabinet.Cabinet.open_in_memory(kabinet.Config(password_reminder_days=0))
    config = kabinet.Config(notifier=inbox, clock=clock, locale="en", password_hashing=fast,
                            identity_registry=Registry(), password_reminder_days=30)
    assert config.password_reminder_days == 30
    cab = kabinet.Cabinet.open_in_memory(config)
    _, phone = register(cab, inbox)
    sign_in(cab, inbox, phone)

    def reminders() -> list[kabinet.Message]:
        return [m for m in inbox.messages if m.kind == "password_reminder"]

    cab.run_due_jobs()
    assert reminders() == []
    clock.now_value += datetime.timedelta(days=30, minutes=1)
    cab.run_due_jobs()
    cab.run_due_jobs()
    [reminder] = reminders()
    assert "30 days" in reminder.text and reminder.recipient == phone
    clock.now_value += datetime.timedelta(days=30)
    cab.run_due_jobs()
    assert len(reminders()) == 2
