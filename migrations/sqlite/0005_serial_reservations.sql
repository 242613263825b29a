-- Serials handed out for licences being built outside the write transaction. A row with a
-- holder is reserved until `reserved_until` (Unix seconds); a row without one was given
-- back by a failed build and is handed out again before the counter moves on. Storing
-- the licence deletes its row in the same transaction, so a serial is either in use, in
-- here, or never handed out: users never see a gap.
CREATE TABLE serial_reservations (
    counter        TEXT    NOT NULL,
    value          INTEGER NOT NULL,
    holder         TEXT,
    reserved_until INTEGER,
    PRIMARY KEY (counter, value)
);
