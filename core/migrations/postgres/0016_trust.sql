-- Named leases: cross-process mutual exclusion for long operator jobs (key rotation) that
-- span several transactions. A holder that dies leaves a lease that expires at `until`.
CREATE TABLE leases (
    name   TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    until  BIGINT NOT NULL
);

-- A notifier's error text can quote the message (a phone number, a code): it is now kept
-- sealed under the outbox key; plaintext kept by earlier versions is scrubbed.
ALTER TABLE outbox ADD COLUMN error_sealed BYTEA;
UPDATE outbox SET last_error = NULL;

-- Erasure: the account of an erased patient keeps no login identifiers and no sessions.
ALTER TABLE accounts ADD COLUMN erased_at BIGINT;
