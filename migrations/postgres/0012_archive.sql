-- Archive renewal (PAdES B-LTA): until when the newest document time-stamp of a licence's
-- PDF carries its proof (its TSA certificate's notAfter, Unix seconds). NULL: not yet
-- known (licences issued before this column, or not yet looked at by the renewal job).
-- The job renews the PDFs whose value is NULL or before its horizon, oldest first.
ALTER TABLE licences ADD COLUMN archive_until BIGINT;
CREATE INDEX licences_archive_due ON licences (archive_until, id) WHERE document = 'pdf';
