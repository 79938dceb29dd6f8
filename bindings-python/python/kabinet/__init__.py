"""Kabinet: the patient personal cabinet SDK.

Open a cabinet with :meth:`Cabinet.open` (SQLite file or PostgreSQL) or
:meth:`Cabinet.open_in_memory`; operator code uses :meth:`Cabinet.system`.
Every error is a :class:`KabinetError` with a stable ``code``.
"""

from . import audit, ids
from ._kabinet import (
    AccessEntry,
    Argon2Params,
    Audit,
    AuditReport,
    AuthenticationError,
    Cabinet,
    Config,
    ConfigError,
    Conflict,
    IntegrityError,
    KabinetError,
    KeyProvider,
    KeyRotationReport,
    Keys,
    NewPatient,
    NotFound,
    Patient,
    Patients,
    PermissionDenied,
    SessionError,
    SignedTreeHead,
    StorageError,
    SystemContext,
    ValidationError,
    __version__,
)

__all__ = [
    "AccessEntry",
    "Audit",
    "AuditReport",
    "SignedTreeHead",
    "audit",
    "Argon2Params",
    "AuthenticationError",
    "Cabinet",
    "Config",
    "ConfigError",
    "Conflict",
    "IntegrityError",
    "KabinetError",
    "KeyProvider",
    "KeyRotationReport",
    "Keys",
    "NewPatient",
    "NotFound",
    "Patient",
    "Patients",
    "PermissionDenied",
    "SessionError",
    "StorageError",
    "SystemContext",
    "ValidationError",
    "__version__",
    "ids",
]
