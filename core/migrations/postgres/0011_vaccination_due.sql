-- Vaccination reminders (R14): the next due date of an immunization, in clear (a date, no
-- vaccine), and when its reminder was queued.
ALTER TABLE medical_items ADD COLUMN due_on BIGINT;
ALTER TABLE medical_items ADD COLUMN reminded_at BIGINT;
CREATE INDEX medical_items_due ON medical_items (due_on, reminded_at);
