"""Quickstart for regional health-IT scripts: open a cabinet, store a patient, read back.

Run after `maturin develop` (scripts/test-all does it): `python examples/python/quickstart.py`.
"""

import datetime
import tempfile
from pathlib import Path

import kabinet


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite://{Path(tmp) / 'kabinet.db'}"
        with kabinet.Cabinet.open(url, kabinet.Config(locale="en")) as cab:
            patients = cab.system().patients
            pid = patients.create(
                kabinet.NewPatient(
                    surname="Иванова",
                    given_name="Анна",
                    patronymic="Сергеевна",
                    birth_date=datetime.date(1990, 3, 14),
                    sex="female",
                    snils=kabinet.ids.snils("112-233-445 95"),
                    phone="8 (916) 123-45-67",
                )
            )
            p = patients.get(pid)
            try:
                kabinet.ids.snils("112-233-445 96")
            except kabinet.ValidationError as e:
                print(f"refused: {e.code} {e.field} {e.reason}")
            print(f"ok: {p.surname} {p.given_name}, SNILS {p.snils}, phone {p.phone}")


if __name__ == "__main__":
    main()
