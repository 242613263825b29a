//! Cheap byte scans that bound the work `lopdf` may do on a hostile PDF before it parses it.
//!
//! lopdf bounds what each stream may inflate to (`LoadOptions::max_decompressed_size`),
//! but not the total: a file of many object streams, each just under the limit, would
//! inflate to gigabytes (deflate reaches about 1000:1). Here the per-stream limit is a
//! share of one budget among the streams the file can hold, and a file with more streams
//! than a licence PDF could plausibly have is refused as too complex. So is a file with
//! more object keywords than [`MAX_OBJECT_KEYWORDS`]: measured, lopdf holds 10^6 objects
//! in about 350 MB and takes a second (debug build) to load them.

use super::PdfError;

/// Most bytes all the streams of one load may decompress to, together.
pub(crate) const DECOMPRESSION_BUDGET: usize = 32 * 1024 * 1024;

/// Most bytes any one stream may decompress to while loading.
pub(crate) const MAX_DECOMPRESSED: usize = 16 * 1024 * 1024;

/// Most `stream` keywords a PDF may contain (a signed licence has a few dozen).
pub(crate) const MAX_STREAMS: usize = 20_000;

/// Most `obj` keywords (`obj` and `endobj` both count) a PDF may contain: about 100,000
/// objects (a signed licence has under a hundred).
pub(crate) const MAX_OBJECT_KEYWORDS: usize = 200_000;

/// The decompression limit per stream for `pdf`: [`DECOMPRESSION_BUDGET`] shared among its
/// streams, at most [`MAX_DECOMPRESSED`]. Refuses a file with more than [`MAX_STREAMS`]
/// streams or [`MAX_OBJECT_KEYWORDS`] object keywords.
///
/// Every stream, whatever its dictionary says, needs the literal keyword `stream` (keywords
/// cannot be escaped), so counting that keyword (in `endstream` too, and inside strings:
/// an overcount only lowers the limit) bounds the number of streams lopdf can decode.
pub(crate) fn decompression_limit(pdf: &[u8]) -> Result<usize, PdfError> {
    let streams = count(pdf, b"stream");
    if streams > MAX_STREAMS {
        return Err(PdfError::TooComplex(format!("{streams} stream keywords, at most {MAX_STREAMS}")));
    }
    let objects = count(pdf, b"obj");
    if objects > MAX_OBJECT_KEYWORDS {
        return Err(PdfError::TooComplex(format!(
            "{objects} object keywords, at most {MAX_OBJECT_KEYWORDS}"
        )));
    }
    Ok((DECOMPRESSION_BUDGET / streams.max(1)).min(MAX_DECOMPRESSED))
}

/// Occurrences of `needle` (non-empty, without repeated prefix) in `haystack`.
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    let Some((&first, rest)) = needle.split_first() else { return 0 };
    let mut n = 0;
    let mut at = 0;
    // `position` on a byte slice is a tight loop even unoptimised; compare the tail only there.
    while let Some(i) = haystack.get(at..).and_then(|h| h.iter().position(|&b| b == first)) {
        let start = at + i + 1;
        if haystack.get(start..start + rest.len()) == Some(rest) {
            n += 1;
            at = start + rest.len();
        } else {
            at = start;
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_keywords() {
        assert_eq!(count(b"", b"stream"), 0);
        assert_eq!(count(b"stream", b"stream"), 1);
        assert_eq!(count(b"1 0 obj<<>>stream\nabc\nendstream endobj streamstream", b"stream"), 4);
        assert_eq!(count(b"strea", b"stream"), 0);
    }

    #[test]
    fn limit_is_a_share_of_the_budget() {
        assert_eq!(decompression_limit(b"%PDF-1.7").unwrap(), MAX_DECOMPRESSED);
        let many = b"stream ".repeat(1024);
        assert_eq!(decompression_limit(&many).unwrap(), DECOMPRESSION_BUDGET / 1024);
        let too_many = b"stream".repeat(MAX_STREAMS + 1);
        assert_eq!(decompression_limit(&too_many).unwrap_err().code(), "pdf_too_complex");
        let objects = b"1 0 obj 0 endobj\n".repeat(MAX_OBJECT_KEYWORDS / 2 + 1);
        assert_eq!(decompression_limit(&objects).unwrap_err().code(), "pdf_too_complex");
    }
}
