-- Issue 11 (class 10): a long FHIR import stages its rows here, sealed exactly as in the
-- tables they go to, in short transactions while it prepares; its publish copies them with
-- one INSERT … SELECT per table inside one short write transaction, then deletes them.
-- Data keys are never staged (they are wrapped at publish); staged rows are ciphertext under
-- patients' data keys, which erasure destroys — and erasure deletes them too. Rows left by
-- an import that died are purged after a day (by the next import and by run_due_jobs).
CREATE TABLE staged_patients (
    import_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    staged_at   BIGINT NOT NULL,
    id          TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    surname     BLOB NOT NULL,
    given_name  BLOB NOT NULL,
    patronymic  BLOB,
    birth_date  BLOB NOT NULL,
    sex         BLOB NOT NULL,
    snils       BLOB,
    inn         BLOB,
    enp         BLOB,
    phone       BLOB,
    email       BLOB,
    snils_bidx  BLOB,
    inn_bidx    BLOB,
    enp_bidx    BLOB,
    phone_bidx  BLOB,
    email_bidx  BLOB,
    person_bidx BLOB,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX staged_patients_import ON staged_patients (import_id, seq);
CREATE TABLE staged_medical_items (
    import_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    staged_at   BIGINT NOT NULL,
    id          TEXT NOT NULL,
    patient_id  TEXT NOT NULL,
    kind        TEXT NOT NULL,
    occurred_on BIGINT NOT NULL,
    clinic_id   TEXT,
    author_id   TEXT,
    body        BLOB NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    due_on      BIGINT
);
CREATE INDEX staged_medical_items_import ON staged_medical_items (import_id, seq);
CREATE TABLE staged_lab_results (
    import_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    staged_at   BIGINT NOT NULL,
    id          TEXT NOT NULL,
    report_id   TEXT NOT NULL,
    patient_id  TEXT NOT NULL,
    clinic_id   TEXT,
    sampled_at  BIGINT NOT NULL,
    issued_at   BIGINT NOT NULL,
    position    BIGINT NOT NULL,
    body        BLOB NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX staged_lab_results_import ON staged_lab_results (import_id, seq);
CREATE TABLE staged_fhir_sources (
    import_id   TEXT NOT NULL,
    seq         BIGINT NOT NULL,
    staged_at   BIGINT NOT NULL,
    source      TEXT NOT NULL,
    local_kind  TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    patient_id  TEXT,
    imported_at BIGINT NOT NULL
);
CREATE INDEX staged_fhir_sources_import ON staged_fhir_sources (import_id, seq);
