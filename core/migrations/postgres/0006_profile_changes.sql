-- Personal data changes (R18): a pending change waits for its SMS code; applied changes
-- are kept as history, old and new values sealed under the patient's data key.
CREATE TABLE pending_changes (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    field        TEXT NOT NULL,
    value        BYTEA NOT NULL,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    applied_at   BIGINT
);

CREATE TABLE profile_changes (
    id          TEXT PRIMARY KEY,
    patient_id  TEXT NOT NULL REFERENCES patients (id),
    field       TEXT NOT NULL,
    old_value   BYTEA,
    new_value   BYTEA NOT NULL,
    changed_at  BIGINT NOT NULL,
    confirmed_by TEXT NOT NULL
);
CREATE INDEX profile_changes_patient ON profile_changes (patient_id, changed_at);
