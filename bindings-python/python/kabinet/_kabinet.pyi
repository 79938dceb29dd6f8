"""Type stubs of the native module."""

import datetime
import os
from types import TracebackType
from typing import Protocol

__version__: str

class KabinetError(Exception):
    code: str
    message: str
    field: str | None
    reason: str | None

class ValidationError(KabinetError): ...
class AuthenticationError(KabinetError): ...
class SessionError(KabinetError): ...
class PermissionDenied(KabinetError): ...
class NotFound(KabinetError): ...
class Conflict(KabinetError): ...
class IntegrityError(KabinetError): ...
class StorageError(KabinetError): ...
class ConfigError(KabinetError): ...

def ids_snils(value: str) -> str: ...
def audit_verify_inclusion_proof(public_key_pem: str, proof_json: str) -> None: ...
def audit_verify_consistency_proof(public_key_pem: str, proof_json: str) -> None: ...
def ids_inn(value: str) -> str: ...
def ids_enp(value: str) -> str: ...
def ids_passport(value: str) -> str: ...
def ids_phone(value: str) -> str: ...

class Clock(Protocol):
    def now(self) -> datetime.datetime: ...

class Notifier(Protocol):
    def deliver(self, message: Message) -> None: ...

class IdentityRegistry(Protocol):
    def check(self, request: RegistryRequest) -> RegistryAnswer: ...

class RegistryRequest:
    method: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    snils: str | None
    oms_policy: str | None
    phone: str | None

class RegistryAnswer:
    matched: bool
    reason: str | None
    def __init__(self, matched: bool, reason: str | None = None) -> None: ...

class IdentityCheck:
    confirmed: bool
    reason: str | None

class Identity:
    def confirm(
        self, method: str, full_name: str, birth_date: datetime.date, oms_policy: str, phone: str
    ) -> IdentityCheck: ...
    def confirmed(self) -> bool: ...

class Message:
    id: str
    channel: str
    recipient: str
    kind: str
    subject: str
    text: str
    code: str | None
    patient_id: str | None

class Registration:
    def __init__(
        self,
        phone: str,
        email: str,
        password: str,
        surname: str,
        given_name: str,
        patronymic: str | None,
        birth_date: datetime.date,
        sex: str,
        snils: str,
        accepted_terms_version: str,
    ) -> None: ...

class PendingRegistration:
    id: str

class Accounts:
    def register(self, registration: Registration) -> PendingRegistration: ...
    def confirm_phone(self, registration_id: str, code: str) -> str: ...
    def confirm_email(self, token: str) -> None: ...
    def start_recovery(self, identifier: str, channel: str) -> str: ...
    def complete_recovery(
        self, recovery_id: str, code: str, new_password: str, second_factor_code: str | None = None
    ) -> None: ...

class Incident:
    id: str
    request_number: str
    kind: str
    ip: str | None
    device: str | None
    created_at: datetime.datetime
    deadline: datetime.datetime
    status: str

class TotpSetup:
    secret_base32: str
    otpauth_uri: str

class Device:
    id: str
    name: str
    ip: str
    user_agent: str
    def __init__(self, id: str, name: str = "", ip: str = "", user_agent: str = "") -> None: ...

class LoginStep:
    id: str
    second_factor: str

class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime.datetime

class Auth:
    def login(self, identifier: str, password: str, device: Device) -> LoginStep: ...
    def verify_second_factor(self, step_id: str, code: str) -> Tokens: ...
    def refresh(self, refresh_token: str, device: Device) -> Tokens: ...
    def logout(self, access_token: str) -> None: ...

class SessionInfo:
    id: str
    device: str
    device_id: str
    ip: str
    started_at: datetime.datetime
    last_used_at: datetime.datetime
    current: bool

class Security:
    def sessions(self) -> list[SessionInfo]: ...
    def revoke(self, session_id: str) -> None: ...
    def revoke_all(self) -> None: ...
    def incidents(self) -> list[Incident]: ...
    def confirm_incident(self, incident_id: str, code: str) -> None: ...
    def enable_totp(self) -> TotpSetup: ...
    def confirm_totp(self, code: str) -> list[str]: ...
    def change_password(self, old: str, new: str) -> None: ...
    def access_history(self, since: datetime.datetime | None = None) -> list[AccessEntry]: ...

class ChangeRequest:
    id: str
    field: str

class ProfileChange:
    field: str
    old_value: str | None
    new_value: str
    changed_at: datetime.datetime
    confirmed_by: str

class Profile:
    def get(self) -> Patient: ...
    def request_change(self, field: str, value: str) -> ChangeRequest: ...
    def confirm_change(self, change_id: str, code: str) -> None: ...
    def history(self) -> list[ProfileChange]: ...

class Me:
    @property
    def security(self) -> Security: ...
    @property
    def identity(self) -> Identity: ...
    @property
    def account_id(self) -> str: ...
    @property
    def profile(self) -> Profile: ...

class KeyProvider:
    @staticmethod
    def local_file(path: str | os.PathLike[str]) -> KeyProvider: ...
    @staticmethod
    def passphrase(passphrase: str) -> KeyProvider: ...
    @staticmethod
    def ephemeral() -> KeyProvider: ...

class Argon2Params:
    memory_kib: int
    iterations: int
    parallelism: int
    def __init__(self, memory_kib: int = 19456, iterations: int = 2, parallelism: int = 1) -> None: ...

class Config:
    def __init__(
        self,
        key_provider: KeyProvider | None = None,
        notifier: Notifier | None = None,
        identity_registry: IdentityRegistry | None = None,
        clock: Clock | None = None,
        locale: str = "ru",
        password_hashing: Argon2Params | None = None,
        max_connections: int = 8,
    ) -> None: ...
    @property
    def locale(self) -> str: ...

class NewPatient:
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: str
    snils: str | None
    inn: str | None
    oms_policy: str | None
    phone: str | None
    email: str | None
    def __init__(
        self,
        surname: str,
        given_name: str,
        birth_date: datetime.date,
        sex: str,
        patronymic: str | None = None,
        snils: str | None = None,
        inn: str | None = None,
        oms_policy: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> None: ...

class Patient:
    id: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: str
    snils: str | None
    inn: str | None
    oms_policy: str | None
    phone: str | None
    email: str | None
    created_at: datetime.datetime

class Patients:
    def create(self, patient: NewPatient) -> str: ...
    def get(self, patient_id: str) -> Patient: ...
    def find_by_snils(self, snils: str) -> str | None: ...
    def find_by_oms_policy(self, oms_policy: str) -> str | None: ...
    def erase(self, patient_id: str) -> None: ...

class KeyRotationReport:
    kek_id: str
    rewrapped: int
    destroyed_skipped: int

class Keys:
    def rotate(self) -> KeyRotationReport: ...

class SignedTreeHead:
    size: int
    root: str
    at: datetime.datetime
    signature: str

class AuditReport:
    ok: bool
    entries: int
    first_bad_entry: int | None
    problem: str | None
    signed_head: SignedTreeHead | None

class AccessEntry:
    seq: int
    at: datetime.datetime
    who: str
    actor_kind: str
    actor_id: str | None
    action: str
    resource_type: str
    resource_id: str | None
    outcome: str
    ip: str | None
    device_id: str | None

class Audit:
    def verify(self) -> AuditReport: ...
    def public_key(self) -> str: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def inclusion_proof(self, seq: int) -> str: ...
    def consistency_proof(self, old_size: int) -> str: ...
    def access_history(self, patient_id: str, since: datetime.datetime | None = None) -> list[AccessEntry]: ...
    def export_fhir(self, from_seq: int = 0, limit: int = 1000) -> str: ...

class LegacyAccount:
    def __init__(
        self,
        phone: str,
        email: str | None,
        surname: str,
        given_name: str,
        patronymic: str | None,
        birth_date: datetime.date,
        sex: str,
        snils: str,
        password_hash: str,
    ) -> None: ...

class SystemAccounts:
    def import_account(self, account: LegacyAccount) -> str: ...

class SystemContext:
    @property
    def accounts(self) -> SystemAccounts: ...
    @property
    def audit(self) -> Audit: ...
    @property
    def patients(self) -> Patients: ...
    @property
    def keys(self) -> Keys: ...

class Cabinet:
    @staticmethod
    def open(url: str, config: Config | None = None) -> Cabinet: ...
    @staticmethod
    def open_in_memory(config: Config | None = None) -> Cabinet: ...
    def system(self) -> SystemContext: ...
    @property
    def accounts(self) -> Accounts: ...
    @property
    def auth(self) -> Auth: ...
    def session(self, access_token: str, device: Device) -> Me: ...
    def run_due_jobs(self) -> dict[str, int]: ...
    @property
    def backend(self) -> str: ...
    def close(self) -> None: ...
    def __enter__(self) -> Cabinet: ...
    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> bool: ...
