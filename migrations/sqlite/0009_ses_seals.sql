-- GB/T 38540 electronic seals. The platform's seal maker (制章者): its certificate under
-- the SM2 root (one row; its key is in the key store under `key_name`). Each SM2 seal's
-- SES_Seal (DER), made when the seal is created or, for seals made before, on first need;
-- NULL until then and for other algorithms.
CREATE TABLE seal_maker (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    cert_der   BLOB    NOT NULL,
    key_name   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
ALTER TABLE seals ADD COLUMN ses_seal BLOB;
