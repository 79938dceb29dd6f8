-- FHIR import (issue 8): which source resource became which local record, so importing the
-- same bundle twice changes nothing and references to earlier imports resolve.
CREATE TABLE fhir_sources (
    source      TEXT PRIMARY KEY,
    local_kind  TEXT NOT NULL,
    local_id    TEXT NOT NULL,
    patient_id  TEXT REFERENCES patients (id),
    imported_at BIGINT NOT NULL
);
