-- Issue 14, item 7: certificate kinds are data an operator registers (R10): the title in each
-- language, which record sections it states, its period rule and how long it is valid. A
-- certificate names its kind by code; a retired kind keeps its certificates readable.
CREATE TABLE certificate_kinds (
    code                TEXT PRIMARY KEY,
    title_ru            TEXT NOT NULL,
    title_en            TEXT NOT NULL,
    sections            TEXT NOT NULL,
    period              TEXT NOT NULL CHECK (period IN ('optional', 'required', 'whole_record')),
    max_period_days     INTEGER,
    default_period_days INTEGER,
    validity_days       INTEGER,
    document_kind       TEXT NOT NULL CHECK (document_kind IN ('extract', 'certificate')),
    builtin             INTEGER NOT NULL DEFAULT 0,
    active              INTEGER NOT NULL DEFAULT 1,
    updated_at          BIGINT NOT NULL
);
-- The six kinds Kabinet ships with (R10: "and others"); an operator may change or retire them.
INSERT INTO certificate_kinds
    (code, title_ru, title_en, sections, period, max_period_days, default_period_days, validity_days,
     document_kind, builtin, active, updated_at)
VALUES
    ('medical_history_extract', 'Выписка из медицинской карты', 'Extract from the medical record',
     'visits,medications', 'optional', NULL, NULL, NULL, 'extract', 1, 1, 0),
    ('health_status', 'Справка о состоянии здоровья', 'Health status certificate',
     'allergies,screenings', 'optional', NULL, NULL, 365, 'certificate', 1, 1, 0),
    ('vaccination', 'Сертификат о профилактических прививках', 'Vaccination certificate',
     'immunizations', 'optional', NULL, NULL, NULL, 'certificate', 1, 1, 0),
    ('outpatient_card_extract', 'Выписка из амбулаторной карты (форма 027/у)',
     'Outpatient card extract (form 027/u)',
     'visits,medications,allergies,immunizations,lab_results', 'optional', NULL, NULL, NULL, 'extract', 1, 1, 0),
    ('vaccination_record', 'Карта профилактических прививок (форма 063/у)',
     'Vaccination record (form 063/u)', 'immunizations', 'whole_record', NULL, NULL, NULL, 'certificate', 1, 1, 0),
    ('preventive_checkup', 'Справка о прохождении профилактического медицинского осмотра (диспансеризации)',
     'Certificate of a completed preventive check-up', 'screenings', 'optional', 365, 365, 365, 'certificate',
     1, 1, 0);
-- The certificates table is rebuilt (the same way on both engines: SQLite cannot drop a CHECK)
-- with the kind referring to the registry instead of a fixed list, the validity date a
-- certificate states, and the kind's definition as it was when the patient asked (JSON:
-- titles, sections, document kind, validity) — what is issued is what was asked for.
CREATE TABLE certificates_by_kind (
    id           TEXT PRIMARY KEY,
    patient_id   TEXT NOT NULL REFERENCES patients (id),
    kind         TEXT NOT NULL REFERENCES certificate_kinds (code),
    period_from  BIGINT,
    period_until BIGINT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'ready')),
    document_id  TEXT REFERENCES documents (id),
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    ready_at     BIGINT,
    valid_until  BIGINT,
    kind_snapshot TEXT
);
INSERT INTO certificates_by_kind
    (id, patient_id, kind, period_from, period_until, status, document_id, created_at, expires_at, ready_at)
SELECT id, patient_id, kind, period_from, period_until, status, document_id, created_at, expires_at, ready_at
FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_by_kind RENAME TO certificates;
CREATE INDEX certificates_patient ON certificates (patient_id, created_at);
