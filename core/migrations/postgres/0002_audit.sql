-- Signed, tamper-evident journal (S4). Entries are leaves of an RFC 6962 Merkle tree;
-- every append stores a signed tree head. audit_state holds the size and the frontier
-- (roots of the perfect subtrees) and is the lock that orders appends.
CREATE TABLE audit_entries (
    seq           BIGINT PRIMARY KEY,
    at            BIGINT NOT NULL,
    actor_kind    TEXT NOT NULL,
    actor_id      TEXT,
    on_behalf_of  TEXT,
    patient_id    TEXT,
    action        TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_id   TEXT,
    outcome       TEXT NOT NULL,
    ip            TEXT,
    device_id     TEXT,
    leaf_hash     BYTEA NOT NULL
);
CREATE INDEX audit_entries_patient ON audit_entries (patient_id, seq);

CREATE TABLE audit_heads (
    size      BIGINT PRIMARY KEY,
    root      BYTEA NOT NULL,
    at        BIGINT NOT NULL,
    signature BYTEA NOT NULL
);

CREATE TABLE audit_state (
    id       INTEGER PRIMARY KEY CHECK (id = 1),
    size     BIGINT NOT NULL,
    frontier BYTEA NOT NULL
);
INSERT INTO audit_state (id, size, frontier) VALUES (1, 0, '\x0000000000000000'::bytea);
