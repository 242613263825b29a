-- PostgreSQL stores signed documents without TOAST compression from this version on;
-- SQLite never compresses them. Nothing to change here: the migration keeps both
-- databases' version lists alike.
SELECT 1;
