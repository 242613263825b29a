-- PostgreSQL's import_records key is ordered (source_id, source) from this version on (its
-- planner filtered a whole source for each chunk of ids); SQLite's planner probes the
-- (source, source_id) key once per id already. Nothing to change here: the migration keeps
-- both databases' version lists alike.
SELECT 1;
