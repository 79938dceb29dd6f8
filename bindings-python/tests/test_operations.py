"""Operating a deployment (issue 13): controlled migrations and the schema status."""

import os
from pathlib import Path

import pytest

import kabinet


def test_check_mode_refuses_an_outdated_schema_then_opens_a_current_one(tmp_path: Path) -> None:
    keys = kabinet.KeyProvider.local_file(tmp_path / "kek.json")
    url = f"sqlite://{tmp_path / 'kabinet.db'}"
    with pytest.raises(kabinet.ConfigError) as refused:
        kabinet.Cabinet.open(url, kabinet.Config(key_provider=keys, locale="en", migrate="check"))
    assert refused.value.code == "schema.outdated"
    assert "database 0" in refused.value.message
    kabinet.Cabinet.open(url, kabinet.Config(key_provider=keys)).close()  # auto migrates
    cab = kabinet.Cabinet.open(url, kabinet.Config(key_provider=keys, migrate=kabinet.MigrationMode.CHECK))
    status = cab.schema()
    assert status.current and status.pending == 0 and status.database == status.sdk > 0
    assert status.to_dict() == {"current": True, "database": status.sdk, "pending": 0, "sdk": status.sdk}
    cab.close()


def test_an_unknown_migrate_mode_is_a_validation_error_listing_the_modes(tmp_path: Path) -> None:
    with pytest.raises(kabinet.ValidationError) as bad:
        kabinet.Config(migrate="sometimes")  # type: ignore[arg-type]
    assert bad.value.field == "migrate"
    assert "auto" in bad.value.message and "check" in bad.value.message


def test_schema_is_current_after_open(cabinet: kabinet.Cabinet) -> None:
    status = cabinet.schema()
    assert status.current and status.pending == 0
    assert str(kabinet.MigrationMode.AUTO) == "auto"


@pytest.mark.skipif(not os.environ.get("KABINET_PY_POSTGRES_URL"), reason="KABINET_PY_POSTGRES_URL not set")
def test_check_mode_opens_the_migrated_postgres_database() -> None:
    shared = Path(os.environ["KABINET_PY_POSTGRES_KEYS"])
    config = kabinet.Config(key_provider=kabinet.KeyProvider.local_file(shared), migrate="check")
    with kabinet.Cabinet.open(os.environ["KABINET_PY_POSTGRES_URL"], config) as cab:
        assert cab.schema().current


def test_health_and_stats_of_a_fresh_deployment(cabinet: kabinet.Cabinet) -> None:
    health = cabinet.health()
    assert health.healthy and health.problems == []
    assert health.database_reachable and health.keys_available
    assert health.schema_database == health.schema_sdk
    assert health.journal_signed_size == health.journal_entries
    assert health.checked_at.tzinfo is not None
    stats = cabinet.stats()
    assert stats.patients >= 0 and stats.outbox_pending == health.outbox_pending
    assert set(health.to_dict()) >= {"healthy", "problems", "outbox_pending", "journal_entries"}


def test_a_stale_outbox_makes_the_deployment_unhealthy(tmp_path: Path) -> None:
    import datetime

    class Clock:
        def __init__(self) -> None:
            self.now_value = datetime.datetime(2026, 11, 28, 9, 0, tzinfo=datetime.timezone.utc)

        def now(self) -> datetime.datetime:
            return self.now_value

    clock = Clock()
    keys = kabinet.KeyProvider.local_file(tmp_path / "kek.json")
    config = kabinet.Config(key_provider=keys, clock=clock, locale="en")
    with kabinet.Cabinet.open(f"sqlite://{tmp_path / 'h.db'}", config) as cab:
        cab.accounts.register(
            kabinet.Registration("+79161234567", "a@example.ru", "Vek-Tor!58zeb", "Иванова", "Анна", None,
                                 datetime.date(1990, 3, 14), "female", "112-233-445 95", "2026-01")
        )
        assert cab.health().healthy and cab.health().outbox_pending == 1
        clock.now_value += datetime.timedelta(hours=2)
        health = cab.health()
        assert not health.healthy and health.problems == ["outbox.stale"]
        assert health.outbox_oldest_pending_at == datetime.datetime(2026, 11, 28, 9, 0, tzinfo=datetime.timezone.utc)


def test_config_attributes_are_readable_and_the_defaults_are_the_cores() -> None:
    config = kabinet.Config()
    assert (config.locale, config.max_connections, config.migrate) == ("ru", 8, kabinet.MigrationMode.AUTO)
    assert config.require_identity_for_booking and config.change_deadline_minutes == 120
    assert config.password_hashing == kabinet.Argon2Params()
    assert kabinet.Config(migrate="check", max_connections=3).migrate == "check"
