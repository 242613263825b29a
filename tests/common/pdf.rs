//! PDF revisions for the tests that take issued licence PDFs apart.

/// `pdf` as it was before its last incremental update: everything up to the `%%EOF` (and
/// its end of line) before the final one. For an issued B-LTA licence, the file without its
/// document time-stamp (B-T with DSS).
pub fn without_last_revision(pdf: &[u8]) -> Vec<u8> {
    let end = pdf[..pdf.len() - 7].windows(5).rposition(|w| w == b"%%EOF").unwrap() + 5;
    let eol = pdf[end..].iter().take_while(|b| **b == b'\r' || **b == b'\n').count();
    pdf[..end + eol].to_vec()
}
