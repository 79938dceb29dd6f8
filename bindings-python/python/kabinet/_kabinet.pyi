"""Type stubs of the native module."""

import builtins
import datetime
import os
from collections.abc import Sequence
from decimal import Decimal
from enum import StrEnum
from types import TracebackType
from typing import Any, Literal, Self, TypeAlias, final, overload

from kabinet.host import Clock, Confirmer, IdentityRegistry, Notifier

# A lab value as given: a Decimal keeps its digits (4.10 stays 4.10); an int, a float or a
# numeric string is read through its text.
_Number: TypeAlias = Decimal | int | float | str

__version__: str

# BEGIN GENERATED CLOSED SETS (scripts/gen-enum-stubs)

@final
class Action(StrEnum):
    READ = "read"
    SEARCH = "search"
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    EXPORT = "export"
    SHARE = "share"
    LOGIN = "login"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    KEY_ROTATION = "key_rotation"

_ActionLike: TypeAlias = Action | Literal["read", "search", "create", "update", "delete", "export", "share", "login", "login_failed", "logout", "key_rotation"]

@final
class ActorKind(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    PROXY = "proxy"
    SYSTEM = "system"
    ANONYMOUS = "anonymous"

_ActorKindLike: TypeAlias = ActorKind | Literal["patient", "staff", "proxy", "system", "anonymous"]

@final
class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    CANCELLED = "cancelled"
    PAST = "past"

_AppointmentStatusLike: TypeAlias = AppointmentStatus | Literal["booked", "cancelled", "past"]

@final
class AttachmentReason(StrEnum):
    VOLUNTARY = "voluntary"
    RESIDENCE_CHANGE = "residence_change"

_AttachmentReasonLike: TypeAlias = AttachmentReason | Literal["voluntary", "residence_change"]

@final
class AttachmentStatus(StrEnum):
    ATTACHMENT_COMPLETED = "attachment_completed"
    DETACHED = "detached"

_AttachmentStatusLike: TypeAlias = AttachmentStatus | Literal["attachment_completed", "detached"]

@final
class CertificateKind(StrEnum):
    MEDICAL_HISTORY_EXTRACT = "medical_history_extract"
    HEALTH_STATUS = "health_status"
    VACCINATION = "vaccination"
    OUTPATIENT_CARD_EXTRACT = "outpatient_card_extract"
    VACCINATION_RECORD = "vaccination_record"
    PREVENTIVE_CHECKUP = "preventive_checkup"

_CertificateKindLike: TypeAlias = CertificateKind | Literal["medical_history_extract", "health_status", "vaccination", "outpatient_card_extract", "vaccination_record", "preventive_checkup"]

@final
class CertificatePeriod(StrEnum):
    OPTIONAL = "optional"
    REQUIRED = "required"
    WHOLE_RECORD = "whole_record"

_CertificatePeriodLike: TypeAlias = CertificatePeriod | Literal["optional", "required", "whole_record"]

@final
class CertificatePurpose(StrEnum):
    WORK = "work"
    STUDY = "study"
    TRAVEL = "travel"
    SPORT = "sport"
    OTHER = "other"

_CertificatePurposeLike: TypeAlias = CertificatePurpose | Literal["work", "study", "travel", "sport", "other"]

@final
class CertificateSection(StrEnum):
    VISITS = "visits"
    MEDICATIONS = "medications"
    ALLERGIES = "allergies"
    IMMUNIZATIONS = "immunizations"
    SCREENINGS = "screenings"
    HEALTH_CERTIFICATES = "health_certificates"
    LAB_RESULTS = "lab_results"

_CertificateSectionLike: TypeAlias = CertificateSection | Literal["visits", "medications", "allergies", "immunizations", "screenings", "health_certificates", "lab_results"]

@final
class CertificateStatus(StrEnum):
    PENDING = "pending"
    READY = "ready"

_CertificateStatusLike: TypeAlias = CertificateStatus | Literal["pending", "ready"]

@final
class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"
    PUSH = "push"

_ChannelLike: TypeAlias = Channel | Literal["sms", "email", "push"]

@final
class ContextRole(StrEnum):
    PATIENT = "patient"
    STAFF = "staff"
    PROXY = "proxy"

_ContextRoleLike: TypeAlias = ContextRole | Literal["patient", "staff", "proxy"]

@final
class CorrectionStatus(StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

_CorrectionStatusLike: TypeAlias = CorrectionStatus | Literal["pending", "accepted", "rejected"]

@final
class DocumentKind(StrEnum):
    EXTRACT = "extract"
    LAB_RESULT = "lab_result"
    REFERRAL = "referral"
    CONCLUSION = "conclusion"
    CERTIFICATE = "certificate"
    OTHER = "other"

_DocumentKindLike: TypeAlias = DocumentKind | Literal["extract", "lab_result", "referral", "conclusion", "certificate", "other"]

@final
class IdentityMethod(StrEnum):
    ESIGNATURE = "esignature"
    SMS = "sms"
    VIDEO = "video"
    SERVICE_CENTRE = "service_centre"

_IdentityMethodLike: TypeAlias = IdentityMethod | Literal["esignature", "sms", "video", "service_centre"]

@final
class IncidentKind(StrEnum):
    NEW_DEVICE = "new_device"
    NEW_NETWORK = "new_network"
    SUCCESS_AFTER_FAILURES = "success_after_failures"
    SIMULTANEOUS_SESSIONS = "simultaneous_sessions"
    UNUSUAL_ACCESS_RATE = "unusual_access_rate"
    CREDENTIAL_CHANGE = "credential_change"

_IncidentKindLike: TypeAlias = IncidentKind | Literal["new_device", "new_network", "success_after_failures", "simultaneous_sessions", "unusual_access_rate", "credential_change"]

@final
class IncidentStatus(StrEnum):
    OPEN = "open"
    CONFIRMED = "confirmed"
    BLOCKED = "blocked"
    RESOLVED = "resolved"

_IncidentStatusLike: TypeAlias = IncidentStatus | Literal["open", "confirmed", "blocked", "resolved"]

@final
class LabFlag(StrEnum):
    LOW = "low"
    HIGH = "high"
    NORMAL = "normal"
    ABNORMAL = "abnormal"

_LabFlagLike: TypeAlias = LabFlag | Literal["low", "high", "normal", "abnormal"]

@final
class MigrationMode(StrEnum):
    AUTO = "auto"
    CHECK = "check"

_MigrationModeLike: TypeAlias = MigrationMode | Literal["auto", "check"]

@final
class Outcome(StrEnum):
    SUCCESS = "success"
    DENIED = "denied"
    FAILURE = "failure"

_OutcomeLike: TypeAlias = Outcome | Literal["success", "denied", "failure"]

@final
class PushPlatform(StrEnum):
    FCM = "fcm"
    APNS = "apns"
    HMS = "hms"
    RUSTORE = "rustore"

_PushPlatformLike: TypeAlias = PushPlatform | Literal["fcm", "apns", "hms", "rustore"]

@final
class RequestStatus(StrEnum):
    IN_PROCESSING = "in_processing"
    CLARIFICATION_NEEDED = "clarification_needed"
    COMPLETED = "completed"
    EXPIRED = "expired"

_RequestStatusLike: TypeAlias = RequestStatus | Literal["in_processing", "clarification_needed", "completed", "expired"]

@final
class Severity(StrEnum):
    MILD = "mild"
    MODERATE = "moderate"
    SEVERE = "severe"

_SeverityLike: TypeAlias = Severity | Literal["mild", "moderate", "severe"]

@final
class Sex(StrEnum):
    MALE = "male"
    FEMALE = "female"
    UNKNOWN = "unknown"

_SexLike: TypeAlias = Sex | Literal["male", "female", "unknown"]

@final
class StaffRole(StrEnum):
    DOCTOR = "doctor"
    NURSE = "nurse"
    REGISTRAR = "registrar"
    LABORATORY = "laboratory"
    ADMINISTRATOR = "administrator"

_StaffRoleLike: TypeAlias = StaffRole | Literal["doctor", "nurse", "registrar", "laboratory", "administrator"]

__all__ = [
    "AccessEntry",
    "AccessPage",
    "Accounts",
    "Action",
    "ActorKind",
    "Allergy",
    "Appointment",
    "AppointmentStatus",
    "Appointments",
    "Argon2Params",
    "Attachment",
    "AttachmentEvent",
    "AttachmentReason",
    "AttachmentStatus",
    "Audit",
    "AuditReport",
    "Auth",
    "AuthenticationError",
    "Cabinet",
    "Certificate",
    "CertificateKind",
    "CertificateKindDefinition",
    "CertificateKindInfo",
    "CertificatePeriod",
    "CertificatePurpose",
    "CertificateSection",
    "CertificateStatus",
    "Certificates",
    "ChangeRequest",
    "Channel",
    "Clinic",
    "ClinicAppointments",
    "ClinicAttachment",
    "Config",
    "ConfigError",
    "ConfirmationRequest",
    "Conflict",
    "ContextRole",
    "CorrectionPage",
    "CorrectionRequest",
    "CorrectionStatus",
    "Device",
    "Directory",
    "DirectoryAdmin",
    "DocumentInfo",
    "DocumentKind",
    "DocumentMeta",
    "DocumentPage",
    "Documents",
    "Health",
    "HealthCertificate",
    "Identity",
    "IdentityCheck",
    "IdentityMethod",
    "Immunization",
    "ImportReport",
    "ImportedAccount",
    "ImportedEntry",
    "Incident",
    "IncidentKind",
    "IncidentStatus",
    "IntegrityError",
    "KabinetError",
    "KeyProvider",
    "KeyRotationReport",
    "Keys",
    "LabFlag",
    "LabReport",
    "LabResult",
    "LabResultInput",
    "LabResultPage",
    "Labs",
    "LegacyAccount",
    "LoginStep",
    "Me",
    "MedicalItem",
    "Medication",
    "Message",
    "MigrationMode",
    "MissingItem",
    "NewPatient",
    "NotFound",
    "Notifications",
    "Outcome",
    "Patient",
    "PatientRef",
    "PatientRefPage",
    "Patients",
    "PendingConfirmation",
    "PendingRegistration",
    "PermissionDenied",
    "Practitioner",
    "Preferences",
    "Profile",
    "ProfileChange",
    "Proxies",
    "ProxyGrant",
    "PushDevice",
    "PushPlatform",
    "Records",
    "Region",
    "Registration",
    "RegistryAnswer",
    "RegistryRequest",
    "Request",
    "RequestDocument",
    "RequestMessage",
    "RequestPage",
    "RequestStatus",
    "Requests",
    "ReuploadTask",
    "SchemaStatus",
    "Screening",
    "Security",
    "SessionError",
    "SessionInfo",
    "Severity",
    "Sex",
    "SharedMeta",
    "SignedTreeHead",
    "Slot",
    "StaffAccount",
    "StaffCorrections",
    "StaffMember",
    "StaffPatients",
    "StaffRole",
    "Stats",
    "StorageError",
    "SystemAccounts",
    "SystemCertificates",
    "SystemContext",
    "SystemFhir",
    "SystemStaff",
    "Tokens",
    "TotpSetup",
    "ValidationError",
    "Visit",
    "WardGrant",
    "__version__",
    "_restore",
    "audit_verify_consistency_proof",
    "audit_verify_inclusion_proof",
    "ids_enp",
    "ids_inn",
    "ids_passport",
    "ids_phone",
    "ids_snils",
    "open_shared_package",
]
# END GENERATED CLOSED SETS

class KabinetError(Exception):
    code: str
    message: str
    field: str | None
    reason: str | None
    retryable: bool

class ValidationError(KabinetError, ValueError): ...
class AuthenticationError(KabinetError): ...
class SessionError(KabinetError): ...
class PermissionDenied(KabinetError, PermissionError): ...
class NotFound(KabinetError, LookupError): ...
class Conflict(KabinetError): ...
class IntegrityError(KabinetError): ...
class StorageError(KabinetError): ...
class ConfigError(KabinetError): ...

def _restore(type_name: str, json: str) -> Any: ...
def ids_snils(value: str) -> str: ...
def audit_verify_inclusion_proof(public_key_pem: str, proof_json: str) -> None: ...
def audit_verify_consistency_proof(public_key_pem: str, proof_json: str) -> None: ...
def ids_inn(value: str) -> str: ...
def ids_enp(value: str) -> str: ...
def ids_passport(value: str) -> str: ...
def ids_phone(value: str) -> str: ...

@final
class RegistryRequest:
    method: IdentityMethod
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    snils: str | None
    oms_policy: str | None
    phone: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class ConfirmationRequest:
    id: str
    method: str
    patient_id: str
    purpose: str
    subject: str
    challenge: str
    def to_dict(self) -> dict[str, Any]: ...

class RegistryAnswer:
    matched: bool
    reason: str | None
    def __new__(cls, matched: bool, reason: str | None = None) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class IdentityCheck:
    confirmed: bool
    reason: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class Identity:
    def confirm(
        self, method: str, full_name: str, birth_date: datetime.date, oms_policy: str, phone: str
    ) -> IdentityCheck: ...
    def confirmed(self) -> bool: ...

@final
class Message:
    id: str
    channel: Channel
    recipient: str
    kind: str
    subject: str
    text: str
    code: str | None
    patient_id: str | None
    platform: PushPlatform | None
    def to_dict(self) -> dict[str, Any]: ...

class Registration:
    phone: str
    email: str
    password: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: Sex
    snils: str
    accepted_terms_version: str
    inn: str | None
    def __new__(cls,
        phone: str,
        email: str,
        password: str,
        surname: str,
        given_name: str,
        patronymic: str | None,
        birth_date: datetime.date,
        sex: _SexLike,
        snils: str,
        accepted_terms_version: str,
        inn: str | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class PendingRegistration:
    id: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Accounts:
    def resend_phone_code(self, registration_id: str) -> None: ...
    def register(self, registration: Registration) -> PendingRegistration: ...
    def confirm_phone(self, registration_id: str, code: str) -> str: ...
    def confirm_email(self, token: str) -> None: ...
    def start_recovery(self, identifier: str, channel: _ChannelLike) -> str: ...
    def complete_recovery(
        self, recovery_id: str, code: str, new_password: str, second_factor_code: str | None = None
    ) -> None: ...

@final
class Incident:
    id: str
    request_number: str
    kind: IncidentKind
    ip: str | None
    device: str | None
    created_at: datetime.datetime
    deadline: datetime.datetime
    status: IncidentStatus
    def to_dict(self) -> dict[str, Any]: ...

@final
class TotpSetup:
    secret_base32: str
    otpauth_uri: str
    def to_dict(self) -> dict[str, Any]: ...

class Device:
    id: str
    name: str
    ip: str
    user_agent: str
    def __new__(cls, id: str, name: str = "", ip: str = "", user_agent: str = "") -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class LoginStep:
    id: str
    second_factor: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Tokens:
    access_token: str
    refresh_token: str
    expires_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class Auth:
    def login(self, identifier: str, password: str, device: Device) -> LoginStep: ...
    def verify_second_factor(self, step_id: str, code: str) -> Tokens: ...
    def refresh(self, refresh_token: str, device: Device) -> Tokens: ...
    def logout(self, access_token: str) -> None: ...

@final
class SessionInfo:
    id: str
    device: str
    device_id: str
    ip: str
    started_at: datetime.datetime
    last_used_at: datetime.datetime
    current: bool
    def to_dict(self) -> dict[str, Any]: ...

@final
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
    def access_history_page(
        self, since: datetime.datetime | None = None, limit: int | None = None, cursor: str | None = None
    ) -> AccessPage: ...

@final
class ChangeRequest:
    id: str
    field: str
    method: str
    expires_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class ProfileChange:
    field: str
    old_value: str | None
    new_value: str
    changed_at: datetime.datetime
    confirmed_by: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Profile:
    def get(self) -> Patient: ...
    def request_change(self, field: str, value: str, method: str | None = None) -> ChangeRequest: ...
    def confirm_change(self, change_id: str, code: str) -> None: ...
    def history(self) -> list[ProfileChange]: ...
    def completeness(self) -> list[MissingItem]: ...
    def set_locale(self, tag: str) -> None: ...

@final
class Me:
    @property
    def security(self) -> Security: ...
    @property
    def identity(self) -> Identity: ...
    @property
    def account_id(self) -> str: ...
    @property
    def profile(self) -> Profile: ...
    @property
    def role(self) -> ContextRole: ...
    @property
    def directory(self) -> Directory: ...
    @property
    def appointments(self) -> Appointments: ...
    @property
    def attachment(self) -> ClinicAttachment: ...
    @property
    def staff_member(self) -> StaffMember: ...
    @property
    def patients(self) -> StaffPatients: ...
    @property
    def clinic_appointments(self) -> ClinicAppointments: ...
    @property
    def records(self) -> Records: ...
    @property
    def labs(self) -> Labs: ...
    @property
    def requests(self) -> Requests: ...
    @property
    def proxies(self) -> Proxies: ...
    @property
    def documents(self) -> Documents: ...
    @property
    def certificates(self) -> Certificates: ...
    @property
    def notifications(self) -> Notifications: ...
    @property
    def corrections(self) -> StaffCorrections: ...
    @property
    def patient_id(self) -> str: ...
    def as_ward(self, ward_patient_id: str) -> Me: ...

class Immunization:
    vaccine: str
    date: datetime.date
    dose: str | None
    lot: str | None
    performer: str | None
    next_due: datetime.date | None
    def __new__(cls, vaccine: str, date: datetime.date, dose: str | None = None, lot: str | None = None,
        performer: str | None = None, next_due: datetime.date | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class Screening:
    name: str
    date: datetime.date
    result: str
    def __new__(cls, name: str, date: datetime.date, result: str) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class Visit:
    date: datetime.date
    institution: str
    diagnoses: list[tuple[str, str]]
    procedures: list[str]
    def __new__(cls, date: datetime.date, institution: str, diagnoses: list[tuple[str, str]], procedures: list[str] = ...
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class Medication:
    name: str
    dosage: str
    schedule: str
    start: datetime.date
    end: datetime.date | None
    prescriber: str
    def __new__(cls, name: str, dosage: str, schedule: str, start: datetime.date, prescriber: str,
        end: datetime.date | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class Allergy:
    substance: str
    reaction: str
    severity: Severity | None
    noted_on: datetime.date
    def __new__(cls, substance: str, reaction: str, noted_on: datetime.date, severity: _SeverityLike | None = None) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class HealthCertificate:
    purpose: CertificatePurpose
    issued_on: datetime.date
    valid_until: datetime.date | None
    conclusion: str
    def __new__(cls, purpose: _CertificatePurposeLike, issued_on: datetime.date, conclusion: str, valid_until: datetime.date | None = None
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

_RecordData: TypeAlias = Immunization | Screening | Visit | Medication | Allergy | HealthCertificate

@final
class MedicalItem:
    id: str
    kind: str
    patient_id: str
    clinic_id: str | None
    version: int
    updated_at: datetime.datetime
    data: _RecordData
    def to_dict(self) -> dict[str, Any]: ...

@final
class CorrectionRequest:
    id: str
    item_id: str
    patient_id: str
    wanted_change: str
    status: CorrectionStatus
    comment: str | None
    created_at: datetime.datetime
    resolved_at: datetime.datetime | None
    due_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class Records:
    def immunizations(self) -> list[MedicalItem]: ...
    def screenings(self) -> list[MedicalItem]: ...
    def visits(self) -> list[MedicalItem]: ...
    def medications(self) -> list[MedicalItem]: ...
    def allergies(self) -> list[MedicalItem]: ...
    def certificates(self) -> list[MedicalItem]: ...
    def request_correction(self, item_id: str, wanted_change: str) -> CorrectionRequest: ...
    def corrections(self) -> list[CorrectionRequest]: ...
    def export_fhir(self) -> str: ...
    def add(self, patient_id: str, record: _RecordData) -> MedicalItem: ...
    def add_immunization(
        self, patient_id: str, vaccine: str, date: datetime.date, dose: str | None = None, lot: str | None = None,
        performer: str | None = None,
    ) -> MedicalItem: ...
    def add_visit(
        self, patient_id: str, date: datetime.date, institution: str, diagnoses: list[tuple[str, str]],
        procedures: list[str] = ...,
    ) -> MedicalItem: ...
    def add_medication(
        self, patient_id: str, name: str, dosage: str, schedule: str, start: datetime.date, prescriber: str,
        end: datetime.date | None = None,
    ) -> MedicalItem: ...
    def add_allergy(
        self, patient_id: str, substance: str, reaction: str, noted_on: datetime.date, severity: _SeverityLike | None = None
    ) -> MedicalItem: ...
    def of_patient(self, patient_id: str) -> list[MedicalItem]: ...

@final
class StaffCorrections:
    def inbox(self) -> list[CorrectionRequest]: ...
    def overdue(self) -> list[CorrectionRequest]: ...
    def inbox_page(self, limit: int | None = None, cursor: str | None = None) -> CorrectionPage: ...
    def resolve(
        self, correction_id: str, accepted: bool, comment: str, corrected: _RecordData | None = None
    ) -> CorrectionRequest: ...

class LabResultInput:
    test_name: str
    code: str
    sampled_at: datetime.datetime
    value: Decimal | None
    value_text: str | None
    unit: str | None
    range_low: Decimal | None
    range_high: Decimal | None
    range_text: str | None
    def __new__(cls, test_name: str, code: str, sampled_at: datetime.datetime, value: _Number | None = None,
        value_text: str | None = None, unit: str | None = None, range_low: _Number | None = None,
        range_high: _Number | None = None, range_text: str | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

class LabReport:
    title: str
    laboratory: str
    issued_at: datetime.datetime
    results: list[LabResultInput]
    def __new__(cls, title: str, laboratory: str, issued_at: datetime.datetime, results: list[LabResultInput]
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class LabResult:
    id: str
    report_id: str
    report_title: str
    laboratory: str
    test_name: str
    code: str
    value: Decimal | None
    value_text: str | None
    unit: str | None
    range_low: Decimal | None
    range_high: Decimal | None
    range_text: str | None
    reference_range: str | None
    flag: LabFlag | None
    sampled_at: datetime.datetime
    issued_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class LabResultPage:
    items: list[LabResult]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class DocumentPage:
    items: list[DocumentInfo]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class RequestPage:
    items: list[Request]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class CorrectionPage:
    items: list[CorrectionRequest]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class PatientRefPage:
    items: list[PatientRef]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class AccessPage:
    items: list[AccessEntry]
    next_cursor: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class Labs:
    def results(self, since: datetime.datetime | None = None) -> list[LabResult]: ...
    def results_page(
        self, since: datetime.datetime | None = None, limit: int | None = None, cursor: str | None = None
    ) -> LabResultPage: ...
    def publish(self, patient_id: str, report: LabReport) -> list[LabResult]: ...
    def report_pdf(self, result_id: str) -> bytes: ...

@final
class RequestMessage:
    author_kind: str
    author_name: str | None
    text: str
    at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class RequestDocument:
    id: str
    filename: str
    size: int
    sha256: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Request:
    id: str
    patient_id: str
    clinic_id: str
    subject: str
    status: RequestStatus
    created_at: datetime.datetime
    updated_at: datetime.datetime
    completed_at: datetime.datetime | None
    messages: list[RequestMessage]
    documents: list[RequestDocument]
    def to_dict(self) -> dict[str, Any]: ...

@final
class Requests:
    def create(self, clinic_id: str, subject: str, text: str) -> Request: ...
    def get(self, request_id: str) -> Request: ...
    def reply(self, request_id: str, text: str, status: _RequestStatusLike | None = None) -> Request: ...
    def add_document(self, request_id: str, filename: str, content: bytes) -> RequestDocument: ...
    def mark_completed(self, request_id: str) -> Request: ...
    def export_pdf(self, request_id: str) -> bytes: ...
    def inbox(self) -> list[Request]: ...
    def inbox_page(self, limit: int | None = None, cursor: str | None = None) -> RequestPage: ...
    def list(self) -> list[Request]: ...

@final
class ProxyGrant:
    id: str
    proxy_patient_id: str
    ward_patient_id: str
    scopes: list[str]
    granted_by: str
    granted_at: datetime.datetime
    valid_until: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

class WardGrant:
    ward_patient_id: str
    scopes: list[str]
    basis: str
    proxy_snils: str | None
    proxy_patient_id: str | None
    until: datetime.date | None
    guardianship: bool
    def __new__(
        cls, ward_patient_id: str, scopes: list[str], basis: str, proxy_snils: str | None = None,
        proxy_patient_id: str | None = None, until: datetime.date | None = None, guardianship: bool = False,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Proxies:
    @overload
    def grant(self, scopes: list[str], proxy_snils: str, until: datetime.date | None = None) -> PendingConfirmation: ...  # type: ignore[overload-overlap]  # staff grants pass ward_patient_id
    @overload
    def grant(
        self, scopes: list[str], proxy_snils: str | None = None, until: datetime.date | None = None,
        proxy_patient_id: str | None = None, *, ward_patient_id: str | None = None, basis: str | None = None,
        guardianship: bool = False,
    ) -> ProxyGrant: ...
    def grant_for_ward(self, grant: WardGrant) -> ProxyGrant: ...
    def confirm(self, pending_id: str, code: str) -> ProxyGrant: ...
    def list(self) -> list[ProxyGrant]: ...
    def revoke(self, grant_id: str) -> None: ...

@final
class MissingItem:
    code: str
    what_to_do: str
    call: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Region:
    code: str
    name: str
    time_zone: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Clinic:
    id: str
    region_code: str
    code: str
    name: str
    address: str
    opening_hours: str
    time_zone: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Practitioner:
    id: str
    clinic_id: str
    clinic_name: str
    full_name: str
    specialization: str
    visit_types: list[str]
    def to_dict(self) -> dict[str, Any]: ...

@final
class Slot:
    id: str
    practitioner_id: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    visit_type: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Appointment:
    id: str
    patient_id: str
    slot_id: str
    practitioner_id: str
    practitioner_name: str
    specialization: str
    clinic_id: str
    clinic_name: str
    clinic_address: str
    clinic_time_zone: str
    starts_at: datetime.datetime
    ends_at: datetime.datetime
    visit_type: str
    confirmation_code: str
    required_documents: list[str]
    status: AppointmentStatus
    def to_dict(self) -> dict[str, Any]: ...

@final
class Directory:
    def regions(self) -> list[Region]: ...
    def clinics(self, region_code: str) -> list[Clinic]: ...
    def find_clinic(self, code_or_name: str) -> Clinic: ...
    def practitioners(
        self, specialization: str | None = None, clinic_id: str | None = None, visit_type: str | None = None
    ) -> list[Practitioner]: ...
    def required_documents(self, visit_type: str) -> list[str]: ...

@final
class DirectoryAdmin:
    def add_region(self, code: str, name: str, time_zone: str | None = None) -> Region: ...
    def set_clinic_time_zone(self, clinic_id: str, time_zone: str | None) -> Clinic: ...
    def add_clinic(self, region_code: str, code: str, name: str, address: str, opening_hours: str) -> Clinic: ...
    def add_practitioner(
        self, clinic_id: str, full_name: str, specialization: str, visit_types: list[str]
    ) -> Practitioner: ...
    def set_required_documents(self, visit_type: str, documents: list[str]) -> None: ...
    def open_slots(
        self,
        practitioner_id: str,
        start: datetime.datetime,
        end: datetime.datetime,
        minutes: int,
        visit_type: str,
    ) -> list[Slot]: ...

@final
class Appointments:
    def free_slots(
        self, practitioner_id: str, since: datetime.datetime, until: datetime.datetime
    ) -> list[Slot]: ...
    def book(self, slot_id: str) -> Appointment: ...
    def reschedule(self, appointment_id: str, new_slot_id: str) -> Appointment: ...
    def cancel(self, appointment_id: str) -> Appointment: ...
    def card_pdf(self, appointment_id: str) -> bytes: ...
    def list(self, upcoming: bool = True) -> list[Appointment]: ...

@final
class PendingConfirmation:
    id: str
    action: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class Attachment:
    id: str
    clinic_id: str
    clinic_code: str
    clinic_name: str
    clinic_address: str
    attached_at: datetime.datetime
    detached_at: datetime.datetime | None
    status: AttachmentStatus
    document_id: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class AttachmentEvent:
    action: str
    clinic_id: str
    clinic_code: str
    clinic_name: str
    at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class ClinicAttachment:
    def current(self) -> Attachment | None: ...
    def history(self) -> list[AttachmentEvent]: ...
    def attach(
        self,
        clinic_code: str,
        passport: str,
        snils: str,
        oms_policy: str,
        reason: _AttachmentReasonLike | None = None,
        method: str | None = None,
    ) -> PendingConfirmation: ...
    def detach(self, method: str | None = None) -> PendingConfirmation: ...
    def confirm(self, pending_id: str, code: str) -> Attachment: ...

@final
class StaffAccount:
    id: str
    totp_secret_base32: str
    otpauth_uri: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class SystemStaff:
    def create(
        self, clinic_id: str, role: _StaffRoleLike, full_name: str, phone: str, email: str, password: str
    ) -> StaffAccount: ...

@final
class StaffMember:
    account_id: str
    clinic_id: str
    role: StaffRole
    full_name: str
    def to_dict(self) -> dict[str, Any]: ...

@final
class PatientRef:
    id: str
    full_name: str
    birth_date: datetime.date
    def to_dict(self) -> dict[str, Any]: ...

@final
class StaffPatients:
    def find(self, snils: str | None = None, oms_policy: str | None = None) -> list[PatientRef]: ...
    def attached(self) -> list[PatientRef]: ...
    def attached_page(self, limit: int | None = None, cursor: str | None = None) -> PatientRefPage: ...
    def record_card(
        self, patient_id: str, surname: str, given_name: str, birth_date: datetime.date, patronymic: str | None = None
    ) -> None: ...

@final
class ClinicAppointments:
    def list(self, since: datetime.datetime, until: datetime.datetime) -> list[Appointment]: ...

@final
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
    def __new__(cls, memory_kib: int = 19456, iterations: int = 2, parallelism: int = 1) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Health:
    """What `Cabinet.health()` found; `problems` names each failed check by a stable code."""
    healthy: bool
    problems: list[str]
    database_reachable: bool
    schema_database: int
    schema_sdk: int
    keys_available: bool
    journal_entries: int
    journal_signed_size: int
    journal_signed_at: datetime.datetime | None
    outbox_pending: int
    outbox_oldest_pending_at: datetime.datetime | None
    checked_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class Stats:
    """Counts of what the deployment holds (`Cabinet.stats()`), no personal data."""
    patients: int
    accounts: int
    clinics: int
    practitioners: int
    free_slots: int
    upcoming_appointments: int
    record_items: int
    lab_results: int
    documents: int
    journal_entries: int
    outbox_pending: int
    def to_dict(self) -> dict[str, Any]: ...

@final
class SchemaStatus:
    """The schema versions of the database and of this SDK (`Cabinet.schema()`)."""
    database: int
    sdk: int
    pending: int
    current: bool
    def to_dict(self) -> dict[str, Any]: ...

class Config:
    def __new__(cls,
        key_provider: KeyProvider | None = None,
        notifier: Notifier | None = None,
        identity_registry: IdentityRegistry | None = None,
        clock: Clock | None = None,
        locale: str = "ru",
        password_hashing: Argon2Params | None = None,
        max_connections: int = 8,
        require_identity_for_booking: bool = True,
        change_deadline_minutes: int = 120,
        migrate: _MigrationModeLike = MigrationMode.AUTO,
        confirmer: Confirmer | None = None,
        password_reminder_days: int = 180,
        attachment_changes_per_year: int = 1,
        holidays: list[datetime.date] = ...,
        request_expiry_days: int = 365,
    ) -> Self: ...
    @property
    def locale(self) -> str: ...
    @property
    def password_reminder_days(self) -> int: ...
    @property
    def attachment_changes_per_year(self) -> int: ...
    @property
    def holidays(self) -> list[datetime.date]: ...
    @property
    def request_expiry_days(self) -> int: ...

class NewPatient:
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: Sex
    snils: str | None
    inn: str | None
    oms_policy: str | None
    phone: str | None
    email: str | None
    def __new__(cls,
        surname: str,
        given_name: str,
        birth_date: datetime.date,
        sex: _SexLike,
        patronymic: str | None = None,
        snils: str | None = None,
        inn: str | None = None,
        oms_policy: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class Patient:
    id: str
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: Sex
    snils: str | None
    inn: str | None
    oms_policy: str | None
    phone: str | None
    email: str | None
    insurer: str | None
    passport: str | None
    address: str | None
    actual_address: str | None
    created_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class Patients:
    def create(self, patient: NewPatient) -> str: ...
    def get(self, patient_id: str) -> Patient: ...
    def find_by_snils(self, snils: str) -> str | None: ...
    def find_by_oms_policy(self, oms_policy: str) -> str | None: ...
    def erase(self, patient_id: str) -> None: ...

@final
class KeyRotationReport:
    kek_id: str
    rewrapped: int
    destroyed_skipped: int
    def to_dict(self) -> dict[str, Any]: ...

@final
class Keys:
    def rotate(self) -> KeyRotationReport: ...

@final
class SignedTreeHead:
    size: int
    root: str
    at: datetime.datetime
    signature: str
    def to_dict(self) -> dict[str, Any]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...

@final
class AuditReport:
    ok: bool
    entries: int
    first_bad_entry: int | None
    problem: str | None
    signed_head: SignedTreeHead | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class AccessEntry:
    seq: int
    at: datetime.datetime
    who: str
    actor_kind: ActorKind
    actor_role: StaffRole | None
    actor_name: str | None
    actor_clinic: str | None
    actor_id: str | None
    action: Action
    resource_type: str
    resource_id: str | None
    outcome: Outcome
    ip: str | None
    device_id: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class Audit:
    def verify(self) -> AuditReport: ...
    def public_key(self) -> str: ...
    def latest_head(self) -> SignedTreeHead | None: ...
    def inclusion_proof(self, seq: int) -> str: ...
    def consistency_proof(self, old_size: int) -> str: ...
    def access_history(self, patient_id: str, since: datetime.datetime | None = None) -> list[AccessEntry]: ...
    def access_history_page(
        self, patient_id: str, since: datetime.datetime | None = None, limit: int | None = None,
        cursor: str | None = None,
    ) -> AccessPage: ...
    def export_fhir(self, from_seq: int = 0, limit: int = 1000) -> str: ...

class LegacyAccount:
    phone: str
    email: str | None
    surname: str
    given_name: str
    patronymic: str | None
    birth_date: datetime.date
    sex: Sex
    snils: str
    password_hash: str
    inn: str | None
    def __new__(cls,
        phone: str,
        email: str | None,
        surname: str,
        given_name: str,
        patronymic: str | None,
        birth_date: datetime.date,
        sex: _SexLike,
        snils: str,
        password_hash: str,
        inn: str | None = None,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class ImportedAccount:
    account_id: str
    hash_algorithm: str
    weak_hash: bool
    def to_dict(self) -> dict[str, Any]: ...

@final
class SystemAccounts:
    def import_account(self, account: LegacyAccount) -> ImportedAccount: ...

@final
class ImportedEntry:
    path: str
    resource_type: str
    source: str | None
    outcome: str
    local_id: str | None
    def to_dict(self) -> dict[str, Any]: ...

@final
class ImportReport:
    created: dict[str, int]
    unchanged: dict[str, int]
    unsupported: dict[str, int]
    patient_ids: list[str]
    entries: list[ImportedEntry]
    def to_dict(self) -> dict[str, Any]: ...

@final
class SystemFhir:
    def import_bundle(self, json: str, source: str | None = None) -> ImportReport: ...
    def import_file(self, path: str | os.PathLike[str], source: str | None = None) -> ImportReport: ...
    def export_patient(self, patient_id: str) -> str: ...

@final
class SystemContext:
    @property
    def fhir(self) -> SystemFhir: ...
    @property
    def directory(self) -> DirectoryAdmin: ...
    @property
    def schedule(self) -> DirectoryAdmin: ...
    @property
    def staff(self) -> SystemStaff: ...
    @property
    def accounts(self) -> SystemAccounts: ...
    @property
    def certificates(self) -> SystemCertificates: ...
    @property
    def audit(self) -> Audit: ...
    @property
    def patients(self) -> Patients: ...
    @property
    def keys(self) -> Keys: ...

@final
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
    def health(self) -> Health: ...
    def stats(self) -> Stats: ...
    def schema(self) -> SchemaStatus: ...
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

class DocumentMeta:
    created_on: datetime.date
    institution: str
    study_type: str | None
    def __new__(cls, created_on: datetime.date, institution: str, study_type: str | None = None) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class DocumentInfo:
    id: str
    patient_id: str
    kind: DocumentKind
    filename: str
    content_type: str
    size: int
    sha256: str
    created_on: datetime.date
    institution: str
    study_type: str | None
    created_at: datetime.datetime
    restoring: bool
    def to_dict(self) -> dict[str, Any]: ...

@final
class Documents:
    def list(
        self, kind: _DocumentKindLike | None = None, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> list[DocumentInfo]: ...
    def list_page(
        self, kind: _DocumentKindLike | None = None, since: datetime.date | None = None,
        until: datetime.date | None = None, limit: int | None = None, cursor: str | None = None,
    ) -> DocumentPage: ...
    def download(self, document_id: str) -> bytes: ...
    def share(self, document_id: str, recipient_public_key_pem: str) -> bytes: ...
    def publish(
        self, patient_id: str, kind: _DocumentKindLike, filename: str, content: bytes, metadata: DocumentMeta
    ) -> DocumentInfo: ...
    def reupload_tasks(self) -> builtins.list[ReuploadTask]: ...
    def reupload(self, document_id: str, content: bytes) -> DocumentInfo: ...

@final
class ReuploadTask:
    document_id: str
    patient_id: str
    kind: DocumentKind
    created_on: datetime.date
    quarantined_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class SharedMeta:
    document_id: str
    filename: str
    kind: DocumentKind
    content_type: str
    size: int
    sha256: str
    created_on: str
    institution: str
    def to_dict(self) -> dict[str, Any]: ...

def open_shared_package(
    package: bytes, private_key_pem: str, expected_signer: str | None = None
) -> tuple[SharedMeta, bytes]: ...

@final
class Certificate:
    id: str
    kind: str
    title: str
    status: CertificateStatus
    document_id: str | None
    since: datetime.date | None
    until: datetime.date | None
    valid_until: datetime.date | None
    created_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...

@final
class Certificates:
    def request(
        self, kind: _CertificateKindLike | str, since: datetime.date | None = None, until: datetime.date | None = None
    ) -> PendingConfirmation: ...
    def kinds(self) -> builtins.list[CertificateKindInfo]: ...
    def confirm(self, pending_id: str, code: str) -> Certificate: ...
    def download(self, certificate_id: str) -> bytes: ...
    def list(self) -> builtins.list[Certificate]: ...

class CertificateKindDefinition:
    code: str
    title_ru: str
    title_en: str
    sections: list[CertificateSection]
    period: CertificatePeriod
    max_period_days: int | None
    default_period_days: int | None
    validity_days: int | None
    document_kind: DocumentKind
    def __new__(
        cls,
        code: str,
        title_ru: str,
        title_en: str,
        sections: Sequence[_CertificateSectionLike],
        period: _CertificatePeriodLike = CertificatePeriod.OPTIONAL,
        max_period_days: int | None = None,
        default_period_days: int | None = None,
        validity_days: int | None = None,
        document_kind: _DocumentKindLike = DocumentKind.CERTIFICATE,
    ) -> Self: ...
    def to_dict(self) -> dict[str, Any]: ...

@final
class CertificateKindInfo:
    code: str
    title: str
    title_ru: str
    title_en: str
    sections: list[CertificateSection]
    period: CertificatePeriod
    max_period_days: int | None
    default_period_days: int | None
    validity_days: int | None
    document_kind: DocumentKind
    builtin: bool
    active: bool
    def to_dict(self) -> dict[str, Any]: ...

@final
class SystemCertificates:
    def register_kind(self, definition: CertificateKindDefinition) -> CertificateKindInfo: ...
    def retire_kind(self, code: str) -> None: ...
    def kinds(self) -> list[CertificateKindInfo]: ...

@final
class Preferences:
    sms: bool
    email: bool
    push: bool
    def to_dict(self) -> dict[str, Any]: ...

@final
class Notifications:
    def preferences(self) -> Preferences: ...
    def set_preferences(self, sms: bool = True, email: bool = True, push: bool = True) -> Preferences: ...
    def register_push(self, device_id: str, platform: _PushPlatformLike, token: str) -> None: ...
    def unregister_push(self, device_id: str) -> None: ...
    def push_devices(self) -> list[PushDevice]: ...

@final
class PushDevice:
    device_id: str
    platform: PushPlatform
    registered_at: datetime.datetime
    def to_dict(self) -> dict[str, Any]: ...
