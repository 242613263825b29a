-- Which of a chunk's source ids were imported before is asked with
-- `source = $1 AND source_id IN (…256…)`. With the key ordered (source, source_id) and one
-- source per import, PostgreSQL's planner (no statistics yet, or a generic plan) took the
-- index for `source` alone and filtered every record of the source: each chunk read the
-- whole table, and a million-licence import slowed to under 300 licences/s by 150,000.
-- Ordered (source_id, source), the index answers each id with one probe whatever the plan.
ALTER TABLE import_records DROP CONSTRAINT import_records_pkey;
ALTER TABLE import_records ADD PRIMARY KEY (source_id, source);
