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
