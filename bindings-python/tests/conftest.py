"""Shared fixtures: a valid patient, and cabinets on SQLite and (when configured) PostgreSQL."""

import datetime
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import kabinet


def anna(**changes: object) -> kabinet.NewPatient:
    fields: dict[str, object] = dict(
        surname="Иванова",
        given_name="Анна",
        patronymic="Сергеевна",
        birth_date=datetime.date(1990, 3, 14),
        sex="female",
        snils="112-233-445 95",
        oms_policy="8451 9991 2289 9990",
        phone="8 (916) 123-45-67",
        email="anna@example.ru",
    )
    fields.update(changes)
    return kabinet.NewPatient(**fields)  # type: ignore[arg-type]


BACKENDS = ["sqlite", "postgres"]


@pytest.fixture(params=BACKENDS)
def cabinet(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[kabinet.Cabinet]:
    """A cabinet on a fresh SQLite file, or on the PostgreSQL database scripts/test-all made
    for this run (KABINET_PY_POSTGRES_URL). Without that variable the PostgreSQL case is
    skipped, visibly."""
    keys = kabinet.KeyProvider.local_file(tmp_path / "kek.json")
    config = kabinet.Config(key_provider=keys, locale="en", max_connections=2)
    if request.param == "sqlite":
        cab = kabinet.Cabinet.open(f"sqlite://{tmp_path / 'kabinet.db'}", config)
    else:
        url = os.environ.get("KABINET_PY_POSTGRES_URL")
        if not url:
            pytest.skip("KABINET_PY_POSTGRES_URL not set")
        # One database per run: its key file lives beside the run, not per test.
        shared = Path(os.environ.get("KABINET_PY_POSTGRES_KEYS", str(tmp_path / "pg-kek.json")))
        cab = kabinet.Cabinet.open(url, kabinet.Config(key_provider=kabinet.KeyProvider.local_file(shared), locale="en", max_connections=2))
    assert cab.backend == request.param
    yield cab
    cab.close()
