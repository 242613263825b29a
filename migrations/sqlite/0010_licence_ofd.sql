-- OFD renditions (GB/T 33190, signed with a GB/T 38540 seal signature by an SM2 seal).
-- `ofd` holds the signed OFD, empty when the licence has none; `ofd_seal_id` the seal that
-- signed it (NULL without an OFD; for a PDF + OFD licence an SM2 seal of the same
-- department, while `seal_id` names the seal of the PDF and the QR token).
-- `document` keeps its meaning for the PDF: 'pdf' when `pdf` holds one, else 'none'; the
-- licence's document kind (pdf, ofd, both, none) follows from the two columns. (SQLite
-- cannot widen the column's CHECK constraint without rebuilding the table.)
ALTER TABLE licences ADD COLUMN ofd BLOB NOT NULL DEFAULT x'';
ALTER TABLE licences ADD COLUMN ofd_seal_id TEXT REFERENCES seals (id);
