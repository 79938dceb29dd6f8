-- Durable outbox (R14): payloads (recipient, text, code) are sealed with a system key.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    patient_id      TEXT,
    kind            TEXT NOT NULL,
    channel         TEXT NOT NULL,
    payload         BLOB NOT NULL,
    created_at      BIGINT NOT NULL,
    next_attempt_at BIGINT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    claimed_until   BIGINT,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_due ON outbox (delivered_at, next_attempt_at);

-- Accounts (R1, R3, R4): login identifiers are blind indexes; personal data lives in
-- patients (encrypted). failed_attempts and blocked_at are updated atomically in SQL so the
-- lockout holds across processes.
CREATE TABLE accounts (
    id                    TEXT PRIMARY KEY,
    kind                  TEXT NOT NULL CHECK (kind IN ('patient', 'staff')),
    patient_id            TEXT REFERENCES patients (id),
    status                TEXT NOT NULL CHECK (status IN ('pending', 'active')),
    phone_bidx            BLOB UNIQUE,
    email_bidx            BLOB UNIQUE,
    snils_bidx            BLOB UNIQUE,
    inn_bidx              BLOB UNIQUE,
    password_hash         TEXT NOT NULL,
    failed_attempts       INTEGER NOT NULL DEFAULT 0,
    blocked_at            BIGINT,
    second_factor         TEXT NOT NULL DEFAULT 'sms',
    totp_secret           BLOB,
    totp_last_step        BIGINT,
    identity_confirmed_at BIGINT,
    phone_confirmed_at    BIGINT,
    email_confirmed_at    BIGINT,
    terms_version         TEXT NOT NULL,
    terms_accepted_at     BIGINT NOT NULL,
    password_changed_at   BIGINT NOT NULL,
    locale                TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);

-- One-time codes and tokens: only keyed digests are stored; single use, expiring, limited tries.
CREATE TABLE one_time_codes (
    id         TEXT PRIMARY KEY,
    purpose    TEXT NOT NULL,
    owner_id   TEXT NOT NULL,
    digest     BLOB NOT NULL UNIQUE,
    expires_at BIGINT NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0,
    used_at    BIGINT
);
CREATE INDEX one_time_codes_owner ON one_time_codes (owner_id, purpose);

-- Half-finished logins waiting for the second factor.
CREATE TABLE login_steps (
    id          TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    factor      TEXT NOT NULL,
    device_id   TEXT,
    device_name TEXT,
    ip          TEXT,
    user_agent  TEXT,
    created_at  BIGINT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    used_at     BIGINT,
    cancelled_at BIGINT
);

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL REFERENCES accounts (id),
    device_id    TEXT,
    device_name  TEXT,
    ip           TEXT,
    user_agent   TEXT,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL,
    revoked_at   BIGINT,
    blocked_at   BIGINT
);
CREATE INDEX sessions_account ON sessions (account_id);

-- Refresh tokens: stored as digests; each is used once; reuse revokes the session.
CREATE TABLE refresh_tokens (
    digest     BLOB PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_session ON refresh_tokens (session_id);
