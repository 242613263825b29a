-- Platform, roots, CRLs, departments and seals. Times are Unix seconds (UTC).
CREATE TABLE platform (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    name       TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE roots (
    algorithm  TEXT    PRIMARY KEY,
    cert_der   BLOB    NOT NULL,
    key_name   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE crls (
    algorithm   TEXT    NOT NULL REFERENCES roots (algorithm),
    number      INTEGER NOT NULL,
    this_update INTEGER NOT NULL,
    next_update INTEGER NOT NULL,
    der         BLOB    NOT NULL,
    PRIMARY KEY (algorithm, number)
);

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);

CREATE TABLE departments (
    code       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    area_code  TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE seals (
    id                TEXT    PRIMARY KEY,
    department_code   TEXT    NOT NULL REFERENCES departments (code),
    name              TEXT    NOT NULL,
    algorithm         TEXT    NOT NULL REFERENCES roots (algorithm),
    cert_der          BLOB    NOT NULL,
    serial_hex        TEXT    NOT NULL UNIQUE,
    key_name          TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at        INTEGER NOT NULL,
    revoked_at        INTEGER,
    revocation_reason TEXT
);
CREATE INDEX seals_department ON seals (department_code);
CREATE INDEX seals_revoked ON seals (algorithm, status);
