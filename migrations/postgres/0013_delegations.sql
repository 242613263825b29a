-- Delegations (一件事一次办): a department lets another department's API client (a
-- one-window system, 综合窗口) issue the named licence types with the named seals of the
-- department. Lists are comma-separated; a revoked delegation stays, with when and why.
CREATE TABLE delegations (
    id              TEXT    PRIMARY KEY,
    department_code TEXT    NOT NULL REFERENCES departments (code),
    client_id       TEXT    NOT NULL REFERENCES clients (id),
    type_codes      TEXT    NOT NULL,
    seal_ids        TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL,
    revoked_at      BIGINT,
    revoke_reason   TEXT
);
-- Every issuing request of a client with another department's seal looks here.
CREATE INDEX delegations_active ON delegations (client_id, department_code) WHERE revoked_at IS NULL;
CREATE INDEX delegations_department ON delegations (department_code);
