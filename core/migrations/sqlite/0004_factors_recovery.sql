-- TOTP enrollment waiting for its first code, recovery codes, and password recovery.
ALTER TABLE accounts ADD COLUMN totp_pending BLOB;

CREATE TABLE recovery_codes (
    digest     BLOB PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts (id),
    created_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX recovery_codes_account ON recovery_codes (account_id);

-- A recovery request; account_id is NULL when the identifier matched nobody, so that the
-- answer never reveals whether an account exists.
CREATE TABLE recoveries (
    id         TEXT PRIMARY KEY,
    account_id TEXT REFERENCES accounts (id),
    channel    TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
