-- Platform, roots, CRLs, departments and seals. Times are Unix seconds (UTC).
CREATE TABLE platform (
    id         SMALLINT PRIMARY KEY CHECK (id = 1),
    name       TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE roots (
    algorithm  TEXT    PRIMARY KEY,
    cert_der   BYTEA   NOT NULL,
    key_name   TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE crls (
    algorithm   TEXT    NOT NULL REFERENCES roots (algorithm),
    number      BIGINT  NOT NULL,
    this_update BIGINT  NOT NULL,
    next_update BIGINT  NOT NULL,
    der         BYTEA   NOT NULL,
    PRIMARY KEY (algorithm, number)
);

CREATE TABLE counters (
    name  TEXT    PRIMARY KEY,
    value BIGINT  NOT NULL
);

CREATE TABLE departments (
    code       TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    area_code  TEXT    NOT NULL,
    created_at BIGINT  NOT NULL
);

CREATE TABLE seals (
    id                TEXT    PRIMARY KEY,
    department_code   TEXT    NOT NULL REFERENCES departments (code),
    name              TEXT    NOT NULL,
    algorithm         TEXT    NOT NULL REFERENCES roots (algorithm),
    cert_der          BYTEA   NOT NULL,
    serial_hex        TEXT    NOT NULL UNIQUE,
    key_name          TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('active', 'revoked')),
    created_at        BIGINT  NOT NULL,
    revoked_at        BIGINT ,
    revocation_reason TEXT
);
CREATE INDEX seals_department ON seals (department_code);
CREATE INDEX seals_revoked ON seals (algorithm, status);
