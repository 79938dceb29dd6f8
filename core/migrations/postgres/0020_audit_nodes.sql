-- Issue 15, goal 5: roots of perfect subtrees of the journal's Merkle tree — 256 leaves and
-- more (level 8 and up) — kept as proofs compute them, so that a proof reads a few dozen rows
-- instead of every leaf. Derived data: an append-only log never changes them, a proof is
-- checked against the signed head before it is handed out, and verify() never reads them.
CREATE TABLE audit_nodes (
    level  INTEGER NOT NULL,
    idx    BIGINT NOT NULL,
    hash   BYTEA NOT NULL,
    PRIMARY KEY (level, idx)
);
