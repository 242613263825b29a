-- Holder portals (a province's citizen app), registered by the operator with the public key
-- that signs their holder assertions; the assertion ids already used (kept until they
-- expire, so that one cannot be replayed on any node); and the assertion's id and the
-- holder's authentication level in the access log.
CREATE TABLE portals (
    id         TEXT    PRIMARY KEY,
    name       TEXT    NOT NULL,
    algorithm  TEXT    NOT NULL,
    public_key BYTEA   NOT NULL,
    key_hash   TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT
);

CREATE TABLE holder_assertions (
    portal_id  TEXT    NOT NULL REFERENCES portals (id),
    jti        TEXT    NOT NULL,
    expires_at BIGINT  NOT NULL,
    PRIMARY KEY (portal_id, jti)
);
CREATE INDEX holder_assertions_expiry ON holder_assertions (expires_at);

ALTER TABLE access_log ADD COLUMN assertion_id TEXT;
ALTER TABLE access_log ADD COLUMN auth_level TEXT;

-- Department clients no longer act for holders: a client that had only holder-proxy is
-- revoked, the others lose that scope.
UPDATE clients SET revoked_at = CAST(extract(epoch FROM now()) AS BIGINT)
    WHERE revoked_at IS NULL AND scopes = 'holder-proxy';
UPDATE clients SET scopes = trim(BOTH ',' FROM replace(',' || scopes || ',', ',holder-proxy,', ','))
    WHERE ',' || scopes || ',' LIKE '%,holder-proxy,%';
