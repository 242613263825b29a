-- The platform's RFC 3161 time-stamping authority. A unit is one TSA key (in the key store
-- under `key_name`) with its certificate under the root of `algorithm`. A unit signs only
-- during the first half of its certificate's validity; then a new unit is made and becomes
-- current (the newest of its algorithm). Old units stay, for validation. `id` is
-- `<algorithm>-<n>`, n counting the algorithm's units from 1, so that two nodes making
-- the same next unit at once conflict and one of them stands.
CREATE TABLE tsa_units (
    id         TEXT    PRIMARY KEY,
    algorithm  TEXT    NOT NULL,
    cert_der   BLOB    NOT NULL,
    key_name   TEXT    NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);
CREATE INDEX tsa_units_by_algorithm ON tsa_units (algorithm, created_at);
-- The serial numbers of time-stamp tokens, shared by every unit and every node: `last` is
-- the highest serial handed out. Blocks are reserved with one UPDATE … RETURNING, so that
-- serials are unique and only grow.
CREATE TABLE tsa_serial (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    last INTEGER NOT NULL CHECK (last >= 0)
);
INSERT INTO tsa_serial (id, last) VALUES (1, 0);
