-- Clinic directory (R8, R11): public reference data, stored in clear.
CREATE TABLE regions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL
);

CREATE TABLE clinics (
    id            TEXT PRIMARY KEY,
    region_code   TEXT NOT NULL REFERENCES regions (code),
    code          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    -- Lower-cased, ё folded to е, spaces collapsed: for case- and ё-insensitive lookups.
    name_key      TEXT NOT NULL,
    address       TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX clinics_region ON clinics (region_code);
CREATE INDEX clinics_name_key ON clinics (name_key);

CREATE TABLE practitioners (
    id                 TEXT PRIMARY KEY,
    clinic_id          TEXT NOT NULL REFERENCES clinics (id),
    full_name          TEXT NOT NULL,
    specialization     TEXT NOT NULL,
    specialization_key TEXT NOT NULL,
    created_at         BIGINT NOT NULL
);
CREATE INDEX practitioners_clinic ON practitioners (clinic_id);

CREATE TABLE practitioner_visit_types (
    practitioner_id TEXT NOT NULL REFERENCES practitioners (id),
    visit_type      TEXT NOT NULL,
    PRIMARY KEY (practitioner_id, visit_type)
);

-- Documents a visit type needs (R8); a type without a row needs the OMS policy and passport.
CREATE TABLE visit_types (
    code               TEXT PRIMARY KEY,
    required_documents TEXT NOT NULL
);

-- Staff accounts (accounts.kind = 'staff'): their clinic, role and name, shown to patients
-- in their access history.
CREATE TABLE staff_members (
    account_id TEXT PRIMARY KEY REFERENCES accounts (id),
    clinic_id  TEXT NOT NULL REFERENCES clinics (id),
    role       TEXT NOT NULL,
    full_name  TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE slots (
    id              TEXT PRIMARY KEY,
    practitioner_id TEXT NOT NULL REFERENCES practitioners (id),
    starts_at       BIGINT NOT NULL,
    ends_at         BIGINT NOT NULL,
    visit_type      TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    UNIQUE (practitioner_id, starts_at),
    CHECK (ends_at > starts_at)
);
CREATE INDEX slots_time ON slots (practitioner_id, starts_at);

-- Appointments (R8). One patient per slot, always: at most one live appointment per slot is
-- a unique index, so no code path and no number of processes can double-book.
CREATE TABLE appointments (
    id                TEXT PRIMARY KEY,
    slot_id           TEXT NOT NULL REFERENCES slots (id),
    patient_id        TEXT NOT NULL REFERENCES patients (id),
    status            TEXT NOT NULL CHECK (status IN ('booked', 'cancelled')),
    confirmation_code TEXT NOT NULL,
    starts_at         BIGINT NOT NULL,
    ends_at           BIGINT NOT NULL,
    created_at        BIGINT NOT NULL,
    updated_at        BIGINT NOT NULL,
    reminder_at       BIGINT
);
CREATE UNIQUE INDEX appointments_one_per_slot ON appointments (slot_id) WHERE status = 'booked';
CREATE INDEX appointments_patient ON appointments (patient_id, starts_at);
CREATE INDEX appointments_reminders ON appointments (status, reminder_at, starts_at);

-- Clinic attachment (R11): at most one current attachment per patient (unique index).
-- details holds the confirmation (passport, SNILS, OMS policy, clinic) sealed with the
-- patient's data key.
CREATE TABLE attachments (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    clinic_id   TEXT NOT NULL REFERENCES clinics (id),
    attached_at BIGINT NOT NULL,
    detached_at BIGINT,
    details     BYTEA NOT NULL
);
CREATE UNIQUE INDEX attachments_current ON attachments (patient_id) WHERE detached_at IS NULL;
CREATE INDEX attachments_clinic ON attachments (clinic_id, detached_at);

-- Attach/detach requests waiting for their one-time code.
CREATE TABLE attachment_requests (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    action       TEXT NOT NULL CHECK (action IN ('attach', 'detach')),
    clinic_id    TEXT REFERENCES clinics (id),
    details      BYTEA,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    completed_at BIGINT
);
