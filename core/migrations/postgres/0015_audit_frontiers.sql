-- Journal (S4): the Merkle frontier after each append becomes a new row, and the row before
-- it is deleted, instead of one row updated on every append. A transaction with tens of
-- thousands of appends (a large FHIR import) would otherwise pile up versions of that one
-- row on PostgreSQL and make every further append slower (measured: 5 000 updates of one
-- row in a transaction 0.7 s, 20 000 updates 11 s). `audit_state` stays as the lock row
-- that orders appends; its size and frontier are no longer kept.
CREATE TABLE audit_frontiers (
    size     BIGINT PRIMARY KEY,
    frontier BYTEA NOT NULL
);
INSERT INTO audit_frontiers (size, frontier) SELECT size, frontier FROM audit_state WHERE id = 1;
