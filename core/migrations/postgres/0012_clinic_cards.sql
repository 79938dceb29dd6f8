-- The clinic's own record of a patient's name and birth date (R19 compares it with the
-- cabinet's); sealed with the patient's data key.
CREATE TABLE clinic_cards (
    patient_id TEXT NOT NULL REFERENCES patients (id),
    clinic_id  TEXT NOT NULL REFERENCES clinics (id),
    body       BYTEA NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (patient_id, clinic_id)
);
