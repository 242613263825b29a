-- Which document a licence was issued with: 'pdf' (the signed A4 PDF, in `pdf`) or 'none'
-- (a data-only licence: register entry, record and QR token; `pdf` is empty). Every
-- licence issued before is a PDF.
ALTER TABLE licences ADD COLUMN document TEXT NOT NULL DEFAULT 'pdf' CHECK (document IN ('pdf', 'none'));
