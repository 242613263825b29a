-- Bulk import of existing licences (存量证照电子化).
--
-- import_records: which licence each source record became. (source, source_id) is the
-- idempotency key of an import: it is written in the same transaction as the licence, so
-- a run killed at any point and started again issues every source record exactly once.
-- input and line_no name where the record was read (a file, or an HTTP job), to tell a
-- resumed run (same input, same line: skipped) from a duplicate within one input (error).
CREATE TABLE import_records (
    source      TEXT    NOT NULL,
    source_id   TEXT    NOT NULL,
    licence_id  TEXT    NOT NULL REFERENCES licences (id),
    input       TEXT    NOT NULL,
    line_no     INTEGER  NOT NULL,
    imported_at INTEGER  NOT NULL,
    PRIMARY KEY (source, source_id)
);

-- Import jobs started over HTTP (POST /api/v1/imports): their state and counts. A job
-- that was running when the service stopped is marked interrupted at the next start.
CREATE TABLE import_jobs (
    id          TEXT    PRIMARY KEY,
    client_id   TEXT    REFERENCES clients (id),
    source      TEXT    NOT NULL,
    input       TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    read_count  INTEGER  NOT NULL DEFAULT 0,
    issued      INTEGER  NOT NULL DEFAULT 0,
    skipped     INTEGER  NOT NULL DEFAULT 0,
    failed      INTEGER  NOT NULL DEFAULT 0,
    message     TEXT,
    created_at  INTEGER  NOT NULL,
    updated_at  INTEGER  NOT NULL
);

-- The first error lines of each job (bounded per job).
CREATE TABLE import_errors (
    job_id      TEXT    NOT NULL REFERENCES import_jobs (id),
    line_no     INTEGER  NOT NULL,
    source_id   TEXT,
    reason      TEXT    NOT NULL,
    PRIMARY KEY (job_id, line_no)
);
