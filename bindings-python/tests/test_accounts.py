"""Registration, login with an SMS second factor, lockout, sessions and the patient's own
access history through the Python binding (R1, R3, R4, R5), with a Notifier in Python."""

import datetime
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

import kabinet
from test_foundation import unique_snils

PASSWORD = "Vek-Tor!58zeb"
DEVICE = kabinet.Device(id="dev-1", name="Pixel 8", ip="203.0.113.7", user_agent="pytest")


class Inbox:
    """A host Notifier: keeps every message Kabinet hands over."""

    def __init__(self) -> None:
        self.messages: list[kabinet.Message] = []

    def deliver(self, message: kabinet.Message) -> None:
        self.messages.append(message)

    def code(self, kind: str) -> str:
        for m in reversed(self.messages):
            if m.kind == kind and m.code is not None:
                return m.code
        raise AssertionError(f"no {kind} message")


class Clock:
    def __init__(self) -> None:
        self.now_value = datetime.datetime(2026, 11, 28, 9, 0, tzinfo=datetime.timezone.utc)

    def now(self) -> datetime.datetime:
        return self.now_value


def unique_phone() -> str:
    return f"+79{uuid.uuid4().int % 10**9:09d}"


class Approving:
    """A stand-in for the state registries that knows everyone the tests register (R2)."""

    def check(self, request: kabinet.RegistryRequest) -> kabinet.RegistryAnswer:
        return kabinet.RegistryAnswer(matched=True)


def open_cabinet(
    request: pytest.FixtureRequest, tmp_path: Path, inbox: Inbox, clock: Clock, require_identity_for_booking: bool = True
) -> kabinet.Cabinet:
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    if request.param == "sqlite":
        keys = kabinet.KeyProvider.local_file(tmp_path / "kek.json")
        url = f"sqlite://{tmp_path / 'k.db'}"
    else:
        url_env = os.environ.get("KABINET_PY_POSTGRES_URL")
        if not url_env:
            pytest.skip("KABINET_PY_POSTGRES_URL not set")
        url = url_env
        keys = kabinet.KeyProvider.local_file(os.environ.get("KABINET_PY_POSTGRES_KEYS", str(tmp_path / "pg.json")))
    config = kabinet.Config(
        key_provider=keys,
        notifier=inbox,
        clock=clock,
        locale="en",
        password_hashing=fast,
        max_connections=2,
        require_identity_for_booking=require_identity_for_booking,
        identity_registry=Approving(),
    )
    return kabinet.Cabinet.open(url, config)


@pytest.fixture(params=["sqlite", "postgres"])
def env(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[kabinet.Cabinet, Inbox, Clock]]:
    inbox, clock = Inbox(), Clock()
    cab = open_cabinet(request, tmp_path, inbox, clock)
    yield cab, inbox, clock
    cab.close()


def register(cab: kabinet.Cabinet, inbox: Inbox) -> tuple[str, str]:
    phone = unique_phone()
    reg = cab.accounts.register(
        kabinet.Registration(
            phone=phone,
            email=f"u{uuid.uuid4().hex[:10]}@example.ru",
            password=PASSWORD,
            surname="Иванова",
            given_name="Анна",
            patronymic="Сергеевна",
            birth_date=datetime.date(1990, 3, 14),
            sex="female",
            snils=unique_snils(),
            accepted_terms_version="2026-01",
        )
    )
    account = cab.accounts.confirm_phone(reg.id, inbox.code("phone_confirmation"))
    cab.accounts.confirm_email(inbox.code("email_confirmation"))
    return account, phone


def sign_in(cab: kabinet.Cabinet, inbox: Inbox, phone: str, confirm_identity: bool = True) -> kabinet.Tokens:
    """Signs in with the SMS code; confirms the identity through the registry the first
    time (medical data needs it, R2), unless asked not to."""
    step = cab.auth.login(phone, PASSWORD, DEVICE)
    assert step.second_factor == "sms"
    tokens = cab.auth.verify_second_factor(step.id, inbox.code("login_code"))
    if confirm_identity:
        me = cab.session(tokens.access_token, DEVICE)
        if not me.identity.confirmed():
            check = me.identity.confirm("sms", "Иванова Анна Сергеевна", datetime.date(1990, 3, 14), "8451999122899990", phone)
            assert check.confirmed, check.reason
    return tokens


def test_r1_r3_register_confirm_login(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, _ = env
    account, phone = register(cab, inbox)
    sms = next(m for m in inbox.messages if m.kind == "phone_confirmation")
    assert sms.channel == "sms" and sms.recipient == phone and sms.code and sms.code in sms.text
    assert sms.code not in repr(sms)
    tokens = sign_in(cab, inbox, phone)
    assert "refresh" not in repr(tokens) and tokens.expires_at.tzinfo is not None
    me = cab.session(tokens.access_token, DEVICE)
    assert me.account_id == account
    assert me.profile.get().surname == "Иванова"
    cab.auth.logout(tokens.access_token)
    with pytest.raises(kabinet.SessionError) as err:
        cab.session(tokens.access_token, DEVICE)
    assert err.value.code == "session.revoked"


def test_r4_lockout_after_three(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, _ = env
    _, phone = register(cab, inbox)
    for _ in range(3):
        with pytest.raises(kabinet.AuthenticationError) as err:
            cab.auth.login(phone, "Wrong-Pass!93x", DEVICE)
        assert err.value.code == "auth.invalid_credentials"
    with pytest.raises(kabinet.AuthenticationError) as err:
        cab.auth.login(phone, PASSWORD, DEVICE)
    assert err.value.code == "auth.locked"
    with pytest.raises(kabinet.AuthenticationError) as unknown:
        cab.auth.login("+79990000001", PASSWORD, DEVICE)
    assert unknown.value.code == "auth.invalid_credentials"


def test_r5_refresh_reuse_and_timeouts(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    _, phone = register(cab, inbox)
    first = sign_in(cab, inbox, phone)
    second = cab.auth.refresh(first.refresh_token, DEVICE)
    with pytest.raises(kabinet.SessionError) as err:
        cab.auth.refresh(first.refresh_token, DEVICE)
    assert err.value.code == "session.revoked"
    with pytest.raises(kabinet.SessionError):
        cab.session(second.access_token, DEVICE)
    third = sign_in(cab, inbox, phone)
    clock.now_value += datetime.timedelta(minutes=16)
    with pytest.raises(kabinet.SessionError) as err:
        cab.session(third.access_token, DEVICE)
    assert err.value.code == "session.expired"


def test_r5_sessions_and_access_history(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, _ = env
    _, phone = register(cab, inbox)
    with pytest.raises(kabinet.AuthenticationError):
        cab.auth.login(phone, "Wrong-Pass!93x", DEVICE)
    a = sign_in(cab, inbox, phone)
    b = sign_in(cab, inbox, phone)
    me = cab.session(a.access_token, DEVICE)
    sessions = me.security.sessions()
    assert len(sessions) == 2 and sum(s.current for s in sessions) == 1
    other = next(s for s in sessions if not s.current)
    me.security.revoke(other.id)
    with pytest.raises(kabinet.SessionError):
        cab.session(b.access_token, DEVICE)
    history = me.security.access_history()
    assert history[0].action == "read" and history[0].who == "you"
    actions = {(e.action, e.who) for e in history}
    assert ("login", "you") in actions and ("login_failed", "unknown") in actions
    login = next(e for e in history if e.action == "login")
    assert login.ip == "203.0.113.7" and login.device_id == "dev-1"


def test_r1_validation_and_notifier_failure_is_retried(tmp_path: Path) -> None:
    class Flaky(Inbox):
        def __init__(self) -> None:
            super().__init__()
            self.fail = True

        def deliver(self, message: kabinet.Message) -> None:
            if self.fail:
                raise RuntimeError("SMS gateway down")
            super().deliver(message)

    flaky, clock = Flaky(), Clock()
    cab = kabinet.Cabinet.open_in_memory(kabinet.Config(notifier=flaky, clock=clock, locale="en"))
    with pytest.raises(kabinet.ValidationError) as err:
        cab.accounts.register(
            kabinet.Registration("+79161234567", "a@example.ru", "Qwerty123!", "Иванова", "Анна", None,
                                 datetime.date(1990, 3, 14), "female", "112-233-445 95", "2026-01")
        )
    assert (err.value.field, err.value.reason) == ("password", "common_password")
    reg = cab.accounts.register(
        kabinet.Registration("+79161234567", "a@example.ru", PASSWORD, "Иванова", "Анна", None,
                             datetime.date(1990, 3, 14), "female", "112-233-445 95", "2026-01")
    )
    assert flaky.messages == []
    flaky.fail = False
    first = cab.run_due_jobs()
    assert first["delivered"] == 0, "back-off: not due yet"
    assert (first["retries_scheduled"], first["first_attempt_failures"]) == (1, 1), "the failed first send is visible"
    clock.now_value += datetime.timedelta(minutes=2)
    assert cab.run_due_jobs() == {
        "delivered": 1, "delivery_failures": 0, "retries_scheduled": 0, "first_attempt_failures": 0,
        "incidents_raised": 0, "incidents_blocked": 0, "reminders_queued": 0, "requests_purged": 0,
    }
    cab.accounts.confirm_phone(reg.id, flaky.code("phone_confirmation"))


def test_r4_recovery_and_r3_totp(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    _, phone = register(cab, inbox)
    t = sign_in(cab, inbox, phone)
    me = cab.session(t.access_token, DEVICE)
    setup = me.security.enable_totp()
    assert setup.otpauth_uri.startswith("otpauth://totp/") and "redacted" in repr(setup)
    with pytest.raises(kabinet.AuthenticationError):
        me.security.confirm_totp("000000")
    # RFC 6238 code computed here in Python (HMAC-SHA1, 30 s, 6 digits) from the base32 secret.
    import base64
    import hashlib
    import hmac
    import struct

    def totp(secret_b32: str, at: datetime.datetime) -> str:
        key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
        digest = hmac.new(key, struct.pack(">Q", int(at.timestamp()) // 30), hashlib.sha1).digest()
        offset = digest[-1] & 0x0F
        value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
        return f"{value % 1_000_000:06d}"

    recovery = me.security.confirm_totp(totp(setup.secret_base32, clock.now_value))
    assert len(recovery) == 10
    step = cab.auth.login(phone, PASSWORD, DEVICE)
    assert step.second_factor == "totp"
    clock.now_value += datetime.timedelta(seconds=30)
    cab.auth.verify_second_factor(step.id, totp(setup.secret_base32, clock.now_value))
    rid = cab.accounts.start_recovery(phone, "sms")
    code = inbox.code("recovery_code")
    with pytest.raises(kabinet.AuthenticationError) as err:
        cab.accounts.complete_recovery(rid, code, "New-Pass!47qz")
    assert err.value.code == "auth.second_factor"
    rid = cab.accounts.start_recovery(phone, "sms")
    cab.accounts.complete_recovery(rid, inbox.code("recovery_code"), "New-Pass!47qz", second_factor_code=recovery[0])
    with pytest.raises(kabinet.SessionError):
        cab.session(t.access_token, DEVICE)
    assert isinstance(cab.accounts.start_recovery("+79990000002", "sms"), str)


def test_r6_incident_unconfirmed_blocks_sessions(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    _, phone = register(cab, inbox)
    home = sign_in(cab, inbox, phone)
    laptop = kabinet.Device(id="dev-9", name="Unknown laptop", ip="198.51.100.23", user_agent="curl")
    step = cab.auth.login(phone, PASSWORD, laptop)
    cab.auth.verify_second_factor(step.id, inbox.code("login_code"))
    me = cab.session(home.access_token, DEVICE)
    [incident] = me.security.incidents()
    assert (incident.kind, incident.status) == ("new_device", "open")
    notice = next(m for m in inbox.messages if m.kind == "incident")
    assert incident.request_number in notice.text
    clock.now_value += datetime.timedelta(minutes=14)
    fresh = cab.auth.refresh(home.refresh_token, DEVICE)
    clock.now_value += datetime.timedelta(minutes=14)
    fresh = cab.auth.refresh(fresh.refresh_token, DEVICE)
    clock.now_value += datetime.timedelta(minutes=3)
    # The PostgreSQL database is shared by this run's tests: others may expire too.
    assert cab.run_due_jobs()["incidents_blocked"] >= 1
    with pytest.raises(kabinet.SessionError) as err:
        cab.session(fresh.access_token, DEVICE)
    assert err.value.code == "session.blocked"
    # New logins too, until recovery resolves it; then the person hears by e-mail (R6).
    with pytest.raises(kabinet.AuthenticationError) as locked:
        cab.auth.login(phone, PASSWORD, DEVICE)
    assert locked.value.code == "auth.locked"
    recovery = cab.accounts.start_recovery(phone, "sms")
    cab.accounts.complete_recovery(recovery, inbox.code("recovery_code"), "Fresh-Start!42qv")
    assert any(m.kind == "incident_recovered" and m.channel == "email" for m in inbox.messages)
    step = cab.auth.login(phone, "Fresh-Start!42qv", DEVICE)
    me = cab.session(cab.auth.verify_second_factor(step.id, inbox.code("login_code")).access_token, DEVICE)
    assert [i.status for i in me.security.incidents()] == [kabinet.IncidentStatus.RESOLVED]


def test_r2_identity_confirmation_with_a_python_registry(tmp_path: Path) -> None:
    class Registry:
        def __init__(self) -> None:
            self.requests: list[kabinet.RegistryRequest] = []

        def check(self, request: kabinet.RegistryRequest) -> kabinet.RegistryAnswer:
            self.requests.append(request)
            if request.oms_policy != "8451999122899990":
                return kabinet.RegistryAnswer(False, "policy_not_found")
            return kabinet.RegistryAnswer(matched=True)

    inbox, clock, registry = Inbox(), Clock(), Registry()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    cab = kabinet.Cabinet.open_in_memory(
        kabinet.Config(notifier=inbox, clock=clock, identity_registry=registry, locale="en", password_hashing=fast)
    )
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone, confirm_identity=False).access_token, DEVICE)
    assert me.identity.confirmed() is False
    with pytest.raises(kabinet.PermissionDenied) as gate:
        me.records.visits()
    assert gate.value.code == "identity.unconfirmed"
    miss = me.identity.confirm("sms", "Иванова Анна Сергеевна", datetime.date(1990, 3, 14), "1234567890123452", phone)
    assert (miss.confirmed, miss.reason) == (False, "policy_not_found")
    hit = me.identity.confirm("video", "Иванова Анна Сергеевна", datetime.date(1990, 3, 14), "8451 9991 2289 9990", phone)
    assert (hit.confirmed, hit.reason) == (True, None)
    assert me.identity.confirmed() is True
    last = registry.requests[-1]
    assert (last.method, last.surname, last.patronymic, last.phone) == ("video", "Иванова", "Сергеевна", phone)
    assert last.birth_date == datetime.date(1990, 3, 14)
    # Without a registry configured, confirmation is a typed configuration error.
    bare = kabinet.Cabinet.open_in_memory(kabinet.Config(notifier=inbox, clock=clock, locale="en", password_hashing=fast))
    _, phone2 = register(bare, inbox)
    me2 = bare.session(sign_in(bare, inbox, phone2, confirm_identity=False).access_token, DEVICE)
    with pytest.raises(kabinet.ConfigError) as err:
        me2.identity.confirm("sms", "Иванова Анна", datetime.date(1990, 3, 14), "8451999122899990", phone2)
    assert err.value.code == "identity.no_registry"


def test_r18_change_personal_data(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, _ = env
    _, phone = register(cab, inbox)
    me = cab.session(sign_in(cab, inbox, phone).access_token, DEVICE)
    with pytest.raises(kabinet.ValidationError) as err:
        me.profile.request_change("surname", "Ivanova1")
    assert (err.value.field, err.value.reason) == ("surname", "format")
    req = me.profile.request_change("surname", "Петрова")
    assert req.field == "surname"
    me.profile.confirm_change(req.id, inbox.code("profile_change"))
    assert me.profile.get().surname == "Петрова"
    [change] = me.profile.history()
    assert (change.old_value, change.new_value, change.confirmed_by) == ("Иванова", "Петрова", "sms")


def test_r4_import_legacy_bcrypt_account() -> None:
    # A cost-12 bcrypt hash of "Legacy-Pass1!" as an old hospital system stored it
    # (made once with the Rust bcrypt crate, a fixed vector).
    legacy_hash = "$2a$12$NYqRktaMVcE9fkTDawJSFeAmlr6ON4kFRpEGeWSJTAkDS8VpZQkFi"
    inbox, clock = Inbox(), Clock()
    fast = kabinet.Argon2Params(memory_kib=4096, iterations=1, parallelism=1)
    cab = kabinet.Cabinet.open_in_memory(kabinet.Config(notifier=inbox, clock=clock, locale="en", password_hashing=fast))
    account = cab.system().accounts.import_account(
        kabinet.LegacyAccount("+79161234567", None, "Иванова", "Анна", None, datetime.date(1990, 3, 14), "female",
                              "112-233-445 95", legacy_hash)
    )
    assert account
    with pytest.raises(kabinet.ValidationError) as err:
        cab.system().accounts.import_account(
            kabinet.LegacyAccount("+79261234567", None, "Петров", "Иван", None, datetime.date(1980, 1, 1), "male",
                                  "123-456-789 64", "md5$abc")
        )
    assert err.value.field == "password_hash"
    step = cab.auth.login("+79161234567", "Legacy-Pass1!", DEVICE)
    cab.auth.verify_second_factor(step.id, inbox.code("login_code"))


def test_r1_resend_phone_code(env: tuple[kabinet.Cabinet, Inbox, Clock]) -> None:
    cab, inbox, clock = env
    reg = cab.accounts.register(
        kabinet.Registration(
            phone=unique_phone(), email=f"r{uuid.uuid4().hex[:8]}@example.ru", password=PASSWORD, surname="Иванова",
            given_name="Анна", patronymic=None, birth_date=datetime.date(1990, 3, 14), sex="female",
            snils=unique_snils(), accepted_terms_version="2026-01",
        )
    )
    first = inbox.code("phone_confirmation")
    clock.now_value += datetime.timedelta(minutes=11)
    with pytest.raises(kabinet.AuthenticationError):
        cab.accounts.confirm_phone(reg.id, first)
    cab.accounts.resend_phone_code(reg.id)
    assert cab.accounts.confirm_phone(reg.id, inbox.code("phone_confirmation")) == reg.id
    with pytest.raises(kabinet.NotFound):
        cab.accounts.resend_phone_code(reg.id)
