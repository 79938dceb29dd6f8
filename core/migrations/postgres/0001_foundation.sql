-- Foundation: deployment metadata, wrapped keys, patients' encrypted personal data.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- Data keys and system keys, each wrapped by a KEK of the key provider (S2).
-- wrapped is NULL once a key is destroyed (crypto-shredding).
CREATE TABLE wrapped_keys (
    id           TEXT PRIMARY KEY,
    purpose      TEXT NOT NULL,
    kek_id       TEXT NOT NULL,
    wrapped      BYTEA,
    created_at   BIGINT NOT NULL,
    rotated_at   BIGINT,
    destroyed_at BIGINT,
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
CREATE INDEX wrapped_keys_kek ON wrapped_keys (kek_id);

-- Every personal field is an AES-256-GCM ciphertext under the patient's data key; *_bidx
-- are keyed blind indexes (HMAC-SHA-256) for equality lookups.
CREATE TABLE patients (
    id          TEXT PRIMARY KEY,
    key_id      TEXT NOT NULL REFERENCES wrapped_keys (id),
    surname     BYTEA NOT NULL,
    given_name  BYTEA NOT NULL,
    patronymic  BYTEA,
    birth_date  BYTEA NOT NULL,
    sex         BYTEA NOT NULL,
    snils       BYTEA,
    inn         BYTEA,
    enp         BYTEA,
    phone       BYTEA,
    email       BYTEA,
    snils_bidx  BYTEA UNIQUE,
    inn_bidx    BYTEA UNIQUE,
    enp_bidx    BYTEA UNIQUE,
    phone_bidx  BYTEA,
    email_bidx  BYTEA,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL,
    erased_at   BIGINT
);
CREATE INDEX patients_phone_bidx ON patients (phone_bidx);
CREATE INDEX patients_email_bidx ON patients (email_bidx);
