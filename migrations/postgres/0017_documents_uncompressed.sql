-- Signed documents are stored as they are: a PDF's streams and an OFD's parts are
-- compressed already, and PostgreSQL's TOAST compression (pglz) spent CPU on every
-- licence trying to shrink them further (the import benchmark: benches/import.sh).
ALTER TABLE licences ALTER COLUMN pdf SET STORAGE EXTERNAL;
ALTER TABLE licences ALTER COLUMN ofd SET STORAGE EXTERNAL;
ALTER TABLE bundles ALTER COLUMN receipt_pdf SET STORAGE EXTERNAL;
