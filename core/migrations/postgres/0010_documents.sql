-- Documents (R7, S3): content and metadata sealed with the patient's data key; the SHA-256
-- of the plaintext is checked on every read. Kind, date and size stay in clear for lists.
CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    kind         TEXT NOT NULL CHECK (kind IN ('extract', 'lab_result', 'referral', 'conclusion', 'certificate', 'other')),
    created_on   BIGINT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    sha256       BYTEA NOT NULL,
    meta         BYTEA NOT NULL,
    content      BYTEA NOT NULL,
    clinic_id    TEXT REFERENCES clinics (id),
    author_id    TEXT,
    created_at   BIGINT NOT NULL
);
CREATE INDEX documents_patient ON documents (patient_id, kind, created_on);

-- Certificates and extracts (R10): requested, confirmed by a one-time code, then ready
-- with their PDF stored as a document.
CREATE TABLE certificates (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    kind         TEXT NOT NULL CHECK (kind IN ('medical_history_extract', 'health_status', 'vaccination')),
    period_from  BIGINT,
    period_until BIGINT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'ready')),
    document_id  TEXT REFERENCES documents (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ready_at     BIGINT
);
CREATE INDEX certificates_patient ON certificates (patient_id, created_at);

ALTER TABLE attachments ADD COLUMN document_id TEXT REFERENCES documents (id);

-- Notification preferences (R14); security notices ignore them.
CREATE TABLE notification_preferences (
    patient_id TEXT PRIMARY KEY REFERENCES patients (id),
    sms        INTEGER NOT NULL,
    email      INTEGER NOT NULL,
    push       INTEGER NOT NULL,
    updated_at BIGINT NOT NULL
);
