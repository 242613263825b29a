-- 一件事一次办: licences issued together in one request of a one-window client, with a
-- signed receipt (办结通知书) whose QR token names every licence and its record hash.
-- A bundle is stored in the same transaction as its licences: all of them or none.
CREATE TABLE bundles (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL REFERENCES clients (id),
    idempotency_key TEXT NOT NULL,
    request_hash BYTEA NOT NULL,
    matter_code TEXT NOT NULL,
    matter_name TEXT NOT NULL,
    applicant_name TEXT NOT NULL,
    applicant_code TEXT NOT NULL,
    receipt_seal_id TEXT NOT NULL REFERENCES seals (id),
    created_at BIGINT NOT NULL,
    token BYTEA NOT NULL,
    receipt_pdf BYTEA NOT NULL,
    UNIQUE (client_id, idempotency_key)
);
CREATE TABLE bundle_licences (
    bundle_id TEXT NOT NULL REFERENCES bundles (id),
    position INTEGER NOT NULL,
    licence_id TEXT NOT NULL UNIQUE REFERENCES licences (id),
    PRIMARY KEY (bundle_id, position)
);
