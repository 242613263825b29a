-- The licence types a department may issue (comma-separated type codes, '*' = any); the
-- issuing service and every verifier check it.
ALTER TABLE departments ADD COLUMN type_codes TEXT NOT NULL DEFAULT '*';
