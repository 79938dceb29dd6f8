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
    surname     BYTEA NOT NULL,
    given_name  BYTEA NOT NULL,
    patronymic  BYTEA,
    birth_date  BYTEA NOT NULL,
    sex         BYTEA NOT NULL,
    snils       BYTEA,
    inn         BYTEA,
    enp         BYTEA,
    phone       BYTEA,
    email       BYTEA,
    snils_bidx  BYTEA,
    inn_bidx    BYTEA,
    enp_bidx    BYTEA,
    phone_bidx  BYTEA,
    email_bidx  BYTEA,
    person_bidx BYTEA,
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
    body        BYTEA NOT NULL,
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
    body        BYTEA NOT NULL,
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
