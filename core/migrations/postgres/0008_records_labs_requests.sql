-- Medical records (R12): one row per item; everything medical is in `body`, sealed with the
-- patient's data key (JSON of the kind's fields). Only what ordering and authorization need
-- stays in clear: patient, kind, clinical date, author's clinic.
CREATE TABLE medical_items (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    kind        TEXT NOT NULL CHECK (kind IN ('immunization', 'screening', 'visit', 'medication', 'allergy', 'certificate')),
    occurred_on BIGINT NOT NULL,
    clinic_id   TEXT REFERENCES clinics (id),
    author_id   TEXT,
    version     INTEGER NOT NULL DEFAULT 1,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX medical_items_patient ON medical_items (patient_id, kind, occurred_on);

-- Earlier versions of items changed by accepted corrections.
CREATE TABLE medical_item_versions (
    item_id    TEXT NOT NULL REFERENCES medical_items (id),
    version    INTEGER NOT NULL,
    body       BYTEA NOT NULL,
    replaced_at BIGINT NOT NULL,
    PRIMARY KEY (item_id, version)
);

-- Correction requests (R12): the wanted change and the staff comment are sealed.
CREATE TABLE corrections (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    item_id     TEXT NOT NULL REFERENCES medical_items (id),
    status      TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    resolved_at BIGINT,
    resolved_by TEXT
);
CREATE INDEX corrections_patient ON corrections (patient_id, created_at);
CREATE INDEX corrections_status ON corrections (status, created_at);

-- Lab results (R9): report and results sealed; times in clear for ordering.
CREATE TABLE lab_results (
    id          TEXT PRIMARY KEY,
    report_id   TEXT NOT NULL,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    clinic_id   TEXT REFERENCES clinics (id),
    sampled_at  BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    position    INTEGER NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX lab_results_patient ON lab_results (patient_id, sampled_at);
CREATE INDEX lab_results_report ON lab_results (report_id, position);

-- Patient requests (R13): subject and messages sealed; status transitions checked in core
-- and guarded by the expected old status in every UPDATE.
CREATE TABLE requests (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    clinic_id    TEXT NOT NULL REFERENCES clinics (id),
    status       TEXT NOT NULL CHECK (status IN ('in_processing', 'clarification_needed', 'completed')),
    subject      BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    updated_at   BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX requests_patient ON requests (patient_id, created_at);
CREATE INDEX requests_clinic ON requests (clinic_id, status, updated_at);
CREATE INDEX requests_retention ON requests (completed_at);

CREATE TABLE request_messages (
    id          TEXT PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES requests (id),
    author_kind TEXT NOT NULL,
    author_id   TEXT NOT NULL,
    body        BYTEA NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX request_messages_request ON request_messages (request_id, created_at);

CREATE TABLE request_documents (
    id         TEXT PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (id),
    filename   BYTEA NOT NULL,
    content    BYTEA NOT NULL,
    sha256     BYTEA NOT NULL,
    size       BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX request_documents_request ON request_documents (request_id);

-- Proxy access (R20): a proxy patient acts for a ward within scopes.
CREATE TABLE proxies (
    id               TEXT PRIMARY KEY,
    proxy_patient_id TEXT NOT NULL REFERENCES patients (id),
    ward_patient_id  TEXT NOT NULL REFERENCES patients (id),
    scopes           TEXT NOT NULL,
    granted_by       TEXT NOT NULL,
    granted_at       BIGINT NOT NULL,
    revoked_at       BIGINT
);
CREATE UNIQUE INDEX proxies_live ON proxies (proxy_patient_id, ward_patient_id) WHERE revoked_at IS NULL;
