-- The register: licence history, holder authorisations, and the hash-chained access log.
ALTER TABLE licences ADD COLUMN superseded_by TEXT;

CREATE TABLE licence_events (
    licence_id  TEXT    NOT NULL REFERENCES licences (id),
    seq         BIGINT  NOT NULL,
    at          BIGINT  NOT NULL,
    kind        TEXT    NOT NULL,
    from_status TEXT,
    to_status   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    PRIMARY KEY (licence_id, seq)
);

CREATE TABLE authorisations (
    code_hash          TEXT    PRIMARY KEY,
    holder_code_type   TEXT    NOT NULL,
    holder_code        TEXT    NOT NULL,
    licence_ids        TEXT    NOT NULL,
    relying_department TEXT,
    created_by         TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    expires_at         BIGINT  NOT NULL,
    uses_left          BIGINT  NOT NULL,
    revoked_at         BIGINT 
);
CREATE INDEX authorisations_holder ON authorisations (holder_code_type, holder_code);

CREATE TABLE access_log (
    seq              BIGINT  PRIMARY KEY,
    at               BIGINT  NOT NULL,
    client_id        TEXT,
    department_code  TEXT,
    action           TEXT    NOT NULL,
    purpose          TEXT,
    basis            TEXT,
    licence_id       TEXT,
    holder_code_type TEXT,
    holder_code      TEXT,
    result           TEXT    NOT NULL,
    prev_hash        BYTEA   NOT NULL,
    hash             BYTEA   NOT NULL
);
CREATE INDEX access_log_holder ON access_log (holder_code_type, holder_code, seq);

CREATE TABLE access_log_head (
    id   SMALLINT PRIMARY KEY CHECK (id = 1),
    seq  BIGINT  NOT NULL,
    hash BYTEA   NOT NULL
);
INSERT INTO access_log_head (id, seq, hash) VALUES (1, 0, decode(repeat('00', 32), 'hex'));
