-- Deferred documents (a bulk import's storage-saving mode): the licence's record and QR
-- token are stored at issue, its PDF and/or OFD are rendered and signed on first download.
-- `deferred` names the documents still to be made ('pdf', 'ofd' or 'both'); NULL once
-- they are stored (or for licences issued with their documents, or data-only).
ALTER TABLE licences ADD COLUMN deferred TEXT;
