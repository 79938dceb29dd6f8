"""Foundation through the Python binding: opening, encrypted round trip, errors (S2, R21)."""

import datetime
import uuid
from pathlib import Path

import pytest

import kabinet
from conftest import anna


def unique_snils() -> str:
    """A random valid SNILS, so tests on the shared PostgreSQL database never collide."""
    body = f"{uuid.uuid4().int % 898_000_000 + 101_000_000:09d}"
    s = sum(int(c) * w for c, w in zip(body, range(9, 0, -1)))
    check = s if s < 100 else (0 if s <= 101 else s % 101 % 100)
    return f"{body}{check:02d}"


def unique_enp() -> str:
    """A random valid OMS policy number (16 digits, Luhn), unique across the shared database."""
    body = f"77{uuid.uuid4().int % 10**13:013d}"
    total = 0
    for i, c in enumerate(reversed(body)):
        x = int(c) * (2 if i % 2 == 0 else 1)
        total += x // 10 + x % 10
    return f"{body}{(10 - total % 10) % 10}"


def test_s2_round_trip(cabinet: kabinet.Cabinet) -> None:
    snils = unique_snils()
    patients = cabinet.system().patients
    pid = patients.create(anna(snils=snils, oms_policy=None))
    p = patients.get(pid)
    assert (p.surname, p.given_name, p.patronymic) == ("Иванова", "Анна", "Сергеевна")
    assert p.birth_date == datetime.date(1990, 3, 14)
    assert p.snils == snils
    assert p.phone == "+79161234567"
    assert p.created_at.tzinfo is not None
    assert patients.find_by_snils(snils) == pid
    assert "Иванова" not in repr(p)


def test_s2_no_plaintext_in_sqlite_file(tmp_path: Path) -> None:
    db = tmp_path / "k.db"
    with kabinet.Cabinet.open(f"sqlite://{db}") as cab:
        cab.system().patients.create(anna())
    raw = b"".join(f.read_bytes() for f in tmp_path.iterdir() if f.name.startswith("k.db"))
    assert len(raw) > 4096
    for secret in ["Иванова", "Сергеевна", "11223344595", "+79161234567", "anna@example.ru"]:
        assert secret.encode() not in raw
    # Default key provider: a 0600 key file next to the database.
    keyfile = tmp_path / "k.db.keys"
    assert keyfile.exists() and keyfile.stat().st_mode & 0o077 == 0


def test_s2_erasure_and_rotation(cabinet: kabinet.Cabinet) -> None:
    patients = cabinet.system().patients
    keep = patients.create(anna(snils=unique_snils(), oms_policy=None))
    gone = patients.create(anna(snils=unique_snils(), oms_policy=None))
    patients.erase(gone)
    with pytest.raises(kabinet.NotFound) as err:
        patients.get(gone)
    assert err.value.code == "crypto.key_destroyed"
    report = cabinet.system().keys.rotate()
    assert report.kek_id.startswith("kek-")
    assert report.rewrapped >= 2 and report.destroyed_skipped >= 1
    assert patients.get(keep).surname == "Иванова"


def test_r21_validation_error_names_field_and_reason(cabinet: kabinet.Cabinet) -> None:
    with pytest.raises(kabinet.ValidationError) as err:
        cabinet.system().patients.create(anna(snils="112-233-445 96"))
    e = err.value
    assert isinstance(e, kabinet.KabinetError)
    assert (e.code, e.field, e.reason) == ("validation", "snils", "checksum")
    assert "SNILS" in e.message and "112" not in e.message


def test_r21_ids_functions() -> None:
    assert kabinet.ids.snils("112-233-445 95") == "11223344595"
    assert kabinet.ids.inn("7709442668") == "7709442668"
    assert kabinet.ids.enp("8451999122899990") == "8451999122899990"
    assert kabinet.ids.passport("45 08 123456") == "4508123456"
    assert kabinet.ids.phone("8 (916) 123-45-67") == "+79161234567"
    with pytest.raises(kabinet.ValidationError) as err:
        kabinet.ids.phone("8 (495) 123-45-67")
    assert (err.value.field, err.value.reason) == ("phone", "not_mobile")
    with pytest.raises(kabinet.ValidationError):
        kabinet.ids.inn("7709442669")


def test_config_errors_are_typed(tmp_path: Path) -> None:
    with pytest.raises(kabinet.ConfigError) as err:
        kabinet.Cabinet.open("mysql://nope")
    assert err.value.code == "config.url"
    with pytest.raises(kabinet.ConfigError):
        kabinet.Config(locale="de")
    with pytest.raises(kabinet.ConfigError) as err:
        kabinet.Cabinet.open("postgres://root@localhost/x")
    assert err.value.code == "config.key_provider_required"
    # Wrong key for an existing database.
    db = f"sqlite://{tmp_path / 'a.db'}"
    kabinet.Cabinet.open(db).close()
    other = kabinet.Config(key_provider=kabinet.KeyProvider.local_file(tmp_path / "other.json"))
    with pytest.raises(kabinet.ConfigError) as err:
        kabinet.Cabinet.open(db, other)
    assert err.value.code == "crypto.key_unavailable"
    # Not a database at all.
    bogus = tmp_path / "bogus.db"
    bogus.write_bytes(b"\x42" * 8192)
    with pytest.raises(kabinet.StorageError):
        kabinet.Cabinet.open(f"sqlite://{bogus}")


def test_injected_clock_drives_timestamps() -> None:
    class Fixed:
        def now(self) -> datetime.datetime:
            return datetime.datetime(2030, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.timezone.utc)

    cab = kabinet.Cabinet.open_in_memory(kabinet.Config(clock=Fixed()))
    pid = cab.system().patients.create(anna())
    assert cab.system().patients.get(pid).created_at == Fixed().now()


def test_in_memory_and_repr_hide_secrets() -> None:
    cab = kabinet.Cabinet.open_in_memory()
    assert cab.backend == "sqlite"
    assert "redacted" in repr(kabinet.KeyProvider.ephemeral())
    assert "Иванова" not in repr(anna())
