-- Security incidents (R6): raised on suspicious activity, confirmed by the patient with a
-- one-time code; if not confirmed by the deadline, run_due_jobs blocks every session.
CREATE TABLE incidents (
    id             TEXT PRIMARY KEY,
    account_id     TEXT NOT NULL REFERENCES accounts (id),
    request_number TEXT NOT NULL UNIQUE,
    kind           TEXT NOT NULL,
    ip             TEXT,
    device_id      TEXT,
    device_name    TEXT,
    created_at     BIGINT NOT NULL,
    deadline       BIGINT NOT NULL,
    confirmed_at   BIGINT,
    blocked_at     BIGINT
);
CREATE INDEX incidents_account ON incidents (account_id, created_at);
CREATE INDEX incidents_open ON incidents (confirmed_at, blocked_at, deadline);
ALTER TABLE login_steps ADD COLUMN after_failures INTEGER NOT NULL DEFAULT 0;
