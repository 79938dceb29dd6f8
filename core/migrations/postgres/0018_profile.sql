-- Issue 14: the whole personal profile (R18). The OMS insurer, the passport and the
-- registration and actual addresses join the sealed fields of a patient; a pending change
-- records how it is confirmed (the built-in SMS code or a host method) and its wrong tries.
ALTER TABLE patients ADD COLUMN insurer BYTEA;
ALTER TABLE patients ADD COLUMN passport BYTEA;
ALTER TABLE patients ADD COLUMN address BYTEA;
ALTER TABLE patients ADD COLUMN actual_address BYTEA;
ALTER TABLE pending_changes ADD COLUMN method TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE pending_changes ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
-- The password-change reminder (R4): when the last one was sent, so it goes once per period.
ALTER TABLE accounts ADD COLUMN password_reminded_at BIGINT;
-- Incidents (R6): an incident left unconfirmed blocks the account until recovery resolves it.
ALTER TABLE incidents ADD COLUMN resolved_at BIGINT;
-- Push tokens (R14): one per signed-in device of an account, sealed; removed on logout and
-- when the device's session is revoked.
CREATE TABLE push_tokens (
    account_id  TEXT NOT NULL REFERENCES accounts (id),
    device_id   TEXT NOT NULL,
    platform    TEXT NOT NULL,
    token       BYTEA NOT NULL,
    created_at  BIGINT NOT NULL,
    PRIMARY KEY (account_id, device_id)
);
-- Local time (R8, R10, R14): a region's IANA time zone, which a clinic may override.
ALTER TABLE regions ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'Europe/Moscow';
ALTER TABLE clinics ADD COLUMN time_zone TEXT;
-- Attachment rules (R11): a voluntary change of clinic is limited per year (more on a change
-- of residence), and attach/detach may be confirmed by a host method.
ALTER TABLE attachment_requests ADD COLUMN method TEXT NOT NULL DEFAULT 'sms';
ALTER TABLE attachment_requests ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE attachment_requests ADD COLUMN reason TEXT NOT NULL DEFAULT 'voluntary';
ALTER TABLE attachments ADD COLUMN reason TEXT NOT NULL DEFAULT 'voluntary';
-- Deadlines (R12, R13): a correction is due by the end of the next working day and its
-- patient is told once when it is overdue; a request never completed is closed as expired
-- (stored completed, so the five-year retention applies) after the deployment's period.
ALTER TABLE corrections ADD COLUMN due_at BIGINT;
ALTER TABLE corrections ADD COLUMN overdue_notified_at BIGINT;
ALTER TABLE requests ADD COLUMN expired_at BIGINT;
-- Integrity recovery (S3): a document whose content fails its check is quarantined until the
-- issuing clinic uploads it again.
ALTER TABLE documents ADD COLUMN quarantined_at BIGINT;
