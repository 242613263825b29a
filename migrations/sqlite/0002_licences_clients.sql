-- API clients, issued licences and idempotency keys.
CREATE TABLE clients (
    id              TEXT    PRIMARY KEY,
    department_code TEXT    NOT NULL REFERENCES departments (code),
    name            TEXT    NOT NULL,
    scopes          TEXT    NOT NULL,
    type_codes      TEXT    NOT NULL,
    key_hash        TEXT    NOT NULL UNIQUE,
    created_at      INTEGER NOT NULL,
    revoked_at      INTEGER
);

CREATE TABLE licences (
    id               TEXT    PRIMARY KEY,
    type_code        TEXT    NOT NULL,
    issuer_code      TEXT    NOT NULL REFERENCES departments (code),
    serial           TEXT    NOT NULL,
    version          INTEGER NOT NULL,
    holder_code      TEXT    NOT NULL,
    holder_code_type TEXT    NOT NULL,
    holder_name      TEXT    NOT NULL,
    seal_id          TEXT    NOT NULL REFERENCES seals (id),
    status           TEXT    NOT NULL,
    issued_at        INTEGER NOT NULL,
    valid_from       TEXT    NOT NULL,
    valid_until      TEXT,
    record_cbor      BLOB    NOT NULL,
    record_hash      BLOB    NOT NULL,
    token            BLOB    NOT NULL,
    pdf              BLOB    NOT NULL,
    replaces         TEXT    REFERENCES licences (id),
    client_id        TEXT    REFERENCES clients (id),
    UNIQUE (issuer_code, type_code, serial, version)
);
CREATE INDEX licences_holder ON licences (holder_code_type, holder_code);

CREATE TABLE idempotency (
    client_id    TEXT    NOT NULL REFERENCES clients (id),
    key          TEXT    NOT NULL,
    request_hash BLOB    NOT NULL,
    licence_id   TEXT    NOT NULL REFERENCES licences (id),
    created_at   INTEGER NOT NULL,
    PRIMARY KEY (client_id, key)
);
