-- pgbench's bare equivalent of one booking: lock the patient row, check for an overlapping
-- visit, insert under the one-live-appointment-per-slot unique index, append an audit row.
-- No session check, no encryption, no Merkle tree, no signature, no outbox.
\set p random(1, 10000)
\set slot random(1, :slots)
BEGIN;
SELECT id FROM pgb_patients WHERE id = :p FOR UPDATE;
SELECT 1 FROM pgb_appointments WHERE patient_id = :p AND status = 'booked' AND starts_at < :slot + 1 AND ends_at > :slot;
INSERT INTO pgb_appointments (slot_id, patient_id, status, starts_at, ends_at) VALUES (:slot, :p, 'booked', :slot, :slot + 1) ON CONFLICT DO NOTHING;
INSERT INTO pgb_audit (at, patient_id, action) VALUES (now(), :p, 'create');
COMMIT;
