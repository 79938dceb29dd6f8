-- Named leases: cross-process mutual exclusion for long operator jobs (key rotation) that
-- span several transactions. A holder that dies leaves a lease that expires at `until`.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);

-- A notifier's error text can quote the message (a phone number, a code): it is now kept
-- sealed under the outbox key; plaintext kept by earlier versions is scrubbed.
ALTER TABLE outbox ADD COLUMN error_sealed BLOB;
UPDATE outbox SET last_error = NULL;

-- Erasure: the account of an erased patient keeps no login identifiers and no sessions.
ALTER TABLE accounts ADD COLUMN erased_at BIGINT;

-- Proxy grants (R20) have an end date, a basis (the document, sealed under the ward's key)
-- when staff register them, and a daily use summary for the ward. Grants made before are
-- given a year from when they were made.
ALTER TABLE proxies ADD COLUMN valid_until BIGINT;
ALTER TABLE proxies ADD COLUMN basis BLOB;
ALTER TABLE proxies ADD COLUMN summary_at BIGINT;
UPDATE proxies SET valid_until = granted_at + 31536000000000 WHERE valid_until IS NULL;

-- An adult's grant waits for the adult's own SMS code.
CREATE TABLE proxy_requests (
    id               TEXT PRIMARY KEY,
    ward_patient_id  TEXT NOT NULL REFERENCES patients (id),
    proxy_patient_id TEXT NOT NULL REFERENCES patients (id),
    scopes           TEXT NOT NULL,
    valid_until      BIGINT NOT NULL,
    created_at       BIGINT NOT NULL,
    expires_at       BIGINT NOT NULL,
    confirmed_at     BIGINT
);

-- Wrong second factors counted per account across login steps (issue 11, class 8).
ALTER TABLE accounts ADD COLUMN factor_failures INTEGER NOT NULL DEFAULT 0;
