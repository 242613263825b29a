-- Listings by holder come back in identifier order: let the index give that order.
DROP INDEX licences_holder;
CREATE INDEX licences_holder ON licences (holder_code_type, holder_code, id);
