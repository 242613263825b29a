//! Bounds on the work and memory `lopdf` may spend on a hostile PDF.
//!
//! lopdf bounds what each stream may inflate to (`LoadOptions::max_decompressed_size`),
//! but not the total: a file of many object streams, each just under the limit, would
//! inflate to gigabytes (deflate reaches about 1000:1). Here the per-stream limit is a
//! share of one budget among the streams the file can hold, and a file with more streams
//! than a licence PDF could plausibly have is refused as too complex. So is a file with
//! more object keywords than [`MAX_OBJECT_KEYWORDS`]: measured, lopdf holds 10^6 objects
//! in about 350 MB and takes a second (debug build) to load them.
//!
//! Memory follows the number of objects lopdf builds, not the file's size: every array
//! element, dictionary entry, number or name costs about 100–250 bytes however few bytes
//! it took (`[[][][]…]` spends two bytes on each), so 32 MB of tiny nested objects cost
//! about 7 GB. [`load`] therefore counts, before parsing, the tokens that could each become
//! an object ([`MAX_TOKENS`]) — in the file's bytes and in each object stream's decoded
//! bytes — and, while parsing, the objects actually built, summed over every object parsed
//! ([`MAX_PARSED_NODES`]: the same object named by many cross-reference entries is parsed
//! each time). Past either bound the file is refused as `pdf_too_complex`.

use std::cell::Cell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use lopdf::{Document, LoadOptions, Object, ObjectId};

use super::PdfError;

/// Largest PDF that signing and adding a DSS take, in bytes.
pub(crate) const MAX_SIGN_INPUT: usize = 16 * 1024 * 1024;

/// Most bytes all the streams of one load may decompress to, together.
pub(crate) const DECOMPRESSION_BUDGET: usize = 8 * 1024 * 1024;

/// Most bytes any one stream may decompress to while loading.
pub(crate) const MAX_DECOMPRESSED: usize = 4 * 1024 * 1024;

/// Most `stream` keywords a PDF may contain (a signed licence has a few dozen).
pub(crate) const MAX_STREAMS: usize = 20_000;

/// Most `obj` keywords (`obj` and `endobj` both count) a PDF may contain: about 100,000
/// objects (a signed licence has under a hundred).
pub(crate) const MAX_OBJECT_KEYWORDS: usize = 200_000;

/// Most tokens ([`scan`]) a PDF's bytes, or the decoded bytes of one object stream, may
/// hold. A signed licence has under 1,000 (its compressed font and content
/// streams count as noise, about one token in 14 bytes). Measured, lopdf spends up to
/// ~600 bytes per token (`[[][][]…]`, with its arrays' growth), so 250,000 cost ~150 MB.
pub(crate) const MAX_TOKENS: usize = 250_000;

/// Most objects (array elements, dictionary entries and values, counted as built) one
/// load may parse, over all the objects it parses.
pub(crate) const MAX_PARSED_NODES: usize = 2 * MAX_TOKENS;

/// Loads a PDF within the limits of this module: refuses it as [`PdfError::TooComplex`]
/// before parsing when its bytes hold too many streams, objects or tokens, or an
/// encryption dictionary (lopdf loads encrypted files without the object filter that
/// bounds the rest), and while parsing once it has built [`MAX_PARSED_NODES`] objects.
pub(crate) fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    let limit = decompression_limit(bytes)?;
    let scan = scan(bytes);
    if scan.tokens > MAX_TOKENS {
        return Err(too_many_tokens(scan.tokens));
    }
    if scan.encrypt {
        return Err(PdfError::TooComplex("the PDF is encrypted".into()));
    }
    BUDGET.set(Budget { nodes_left: MAX_PARSED_NODES, stream_limit: limit });
    // No other page-tree rebuild: lopdf reparses a damaged file whole only without a filter.
    let options =
        LoadOptions { max_decompressed_size: Some(limit), filter: Some(account), ..LoadOptions::default() };
    // `account` ends the parse by unwinding with `OverBudget` (lopdf's filter cannot stop
    // it otherwise); the document being built is dropped on the way.
    let loaded = catch_unwind(AssertUnwindSafe(|| Document::load_mem_with_options(bytes, options)));
    BUDGET.set(Budget::default());
    match loaded {
        Ok(doc) => doc.map_err(|e| PdfError::Parse(e.to_string())),
        Err(payload) => match payload.downcast::<OverBudget>() {
            Ok(over) => Err(PdfError::TooComplex(over.0)),
            Err(other) => resume_unwind(other),
        },
    }
}

/// What is left of one load's budget (per thread: lopdf parses on the calling thread,
/// without its `rayon` feature, and its filter is a plain function).
#[derive(Clone, Copy, Default)]
struct Budget {
    nodes_left: usize,
    stream_limit: usize,
}

thread_local! {
    static BUDGET: Cell<Budget> = const { Cell::new(Budget { nodes_left: 0, stream_limit: 0 }) };
}

/// The unwind payload that ends a load past its budget.
struct OverBudget(String);

fn too_many_tokens(tokens: usize) -> PdfError {
    PdfError::TooComplex(format!("{tokens} tokens, at most {MAX_TOKENS}"))
}

/// lopdf's object filter: charges each parsed object (and, before lopdf decodes it, an
/// object stream's decoded tokens) to the load's budget, and ends the load past it.
fn account(id: ObjectId, object: &mut Object) -> Option<(ObjectId, Object)> {
    let mut budget = BUDGET.get();
    let mut cost = nodes(object);
    if let Object::Stream(s) = &*object
        && s.dict.has_type(b"ObjStm")
        && let Ok(decoded) = s.decompressed_content_with_limit(budget.stream_limit)
    {
        let tokens = scan(&decoded).tokens;
        if tokens > MAX_TOKENS {
            resume_unwind(Box::new(OverBudget(format!(
                "an object stream of {tokens} tokens, at most {MAX_TOKENS}"
            ))));
        }
        cost += tokens;
    }
    let Some(left) = budget.nodes_left.checked_sub(cost) else {
        resume_unwind(Box::new(OverBudget(format!("more than {MAX_PARSED_NODES} objects parsed"))));
    };
    budget.nodes_left = left;
    BUDGET.set(budget);
    // lopdf keeps a top-level object as the filter leaves it and ignores what it answers,
    // but takes an object stream's members from the answer. Members are never streams.
    match object {
        Object::Stream(_) => Some((id, Object::Null)),
        _ => Some((id, object.clone())),
    }
}

/// The objects `object` is built of, itself included.
fn nodes(object: &Object) -> usize {
    let mut n = 0;
    let mut stack = vec![object];
    while let Some(o) = stack.pop() {
        n += 1;
        match o {
            Object::Array(items) => stack.extend(items),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v)),
            Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v)),
            _ => {}
        }
    }
    n
}

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

/// Occurrences of `needle` (non-empty, without repeated prefix) in `haystack`, with
/// `memchr`'s vectorised search (optimised even in test builds, where this crate is not).
fn count(haystack: &[u8], needle: &[u8]) -> usize {
    if needle.is_empty() {
        return 0;
    }
    memchr::memmem::find_iter(haystack, needle).count()
}

/// What [`scan`] finds in some bytes.
#[derive(Debug, PartialEq, Eq)]
struct Scan {
    /// An upper bound on the objects a PDF parser can build from the bytes (see [`scan`]).
    tokens: usize,
    /// Whether a name decodes to `/Encrypt`.
    encrypt: bool,
}

/// Counts tokens: every `[`, `(`, `<` and `/`, and every run of regular characters (numbers,
/// keywords, the rest of a name). Each object a parser builds starts with one of these,
/// so the count bounds the objects, whatever the bytes mean (strings, comments and stream
/// data count too: an overcount only refuses sooner). Also looks for a name that decodes
/// (`#xx` escapes included) to `Encrypt`.
fn scan(bytes: &[u8]) -> Scan {
    // Branch-free: on compressed stream data a branch on the byte's class mispredicts about
    // half the time, which made this loop several times slower.
    let mut tokens = 0usize;
    let mut previous = SPACE;
    for &b in bytes {
        let class = CLASSES[usize::from(b)];
        // An opener is a token; a regular byte after a non-regular one starts a token.
        tokens += usize::from(class & OPEN) + usize::from((class & !previous & REGULAR) >> 1);
        previous = class;
    }
    let encrypt = memchr::memchr_iter(b'/', bytes).any(|i| decodes_to(&bytes[i + 1..], b"Encrypt"));
    Scan { tokens, encrypt }
}

/// [`CLASSES`] of `[`, `(`, `<` and `/`: each starts a token.
const OPEN: u8 = 0b01;
/// [`CLASSES`] of the other delimiters and white space: each ends a run of regular bytes.
const SPACE: u8 = 0b00;
/// [`CLASSES`] of everything else: a run of these is one token.
const REGULAR: u8 = 0b10;

/// How [`scan`] sees each byte, looked up rather than matched in its loop.
static CLASSES: [u8; 256] = {
    let mut table = [REGULAR; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = match i as u8 {
            b'[' | b'(' | b'<' | b'/' => OPEN,
            b']' | b')' | b'>' | b'{' | b'}' | b'%' | b'\0' | b'\t' | b'\n' | b'\x0c' | b'\r' | b' ' => SPACE,
            _ => REGULAR,
        };
        i += 1;
    }
    table
};

/// Whether the name whose characters start `rest` is `want` once `#xx` escapes are decoded.
fn decodes_to(rest: &[u8], want: &[u8]) -> bool {
    let hex = |c: u8| char::from(c).to_digit(16);
    let mut at = 0;
    for &w in want {
        let got = match rest.get(at) {
            Some(b'#') => {
                match (rest.get(at + 1).copied().and_then(hex), rest.get(at + 2).copied().and_then(hex)) {
                    // Two hex digits make one byte (< 256).
                    (Some(hi), Some(lo)) => {
                        at += 3;
                        (hi * 16 + lo) as u8
                    }
                    _ => return false,
                }
            }
            Some(&c) => {
                at += 1;
                c
            }
            None => return false,
        };
        if got != w {
            return false;
        }
    }
    // The name ends here: at a delimiter, white space or the end.
    rest.get(at).is_none_or(|&c| !c.is_ascii_graphic() || b"[]()<>{}/%".contains(&c))
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

    #[test]
    fn tokens_bound_the_objects_a_parser_builds() {
        let tokens = |b: &[u8]| scan(b).tokens;
        assert_eq!(tokens(b""), 0);
        // A name is two: its `/` and the run of its characters.
        assert_eq!(tokens(b"[[]]"), 2);
        assert_eq!(tokens(b"<< /Type /Page >>"), 2 + 4);
        assert_eq!(tokens(b"1 0 obj [0 12 345] endobj"), 1 + 1 + 1 + 1 + 3 + 1);
        assert_eq!(tokens(b"(a b)"), 3);
    }

    #[test]
    fn the_branch_free_count_is_the_definition() {
        // The definition, written plainly: openers, plus runs of regular bytes.
        let plain = |bytes: &[u8]| {
            let regular = |b: u8| !b"[(</])>{}%\0\t\n\x0c\r ".contains(&b);
            let openers = bytes.iter().filter(|b| b"[(</".contains(b)).count();
            let runs =
                (0..bytes.len()).filter(|&i| regular(bytes[i]) && (i == 0 || !regular(bytes[i - 1]))).count();
            openers + runs
        };
        let mut x = 0x9e37_79b9_7f4a_7c15_u64;
        let noise: Vec<u8> = (0..100_000)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x.to_le_bytes()[0]
            })
            .collect();
        for bytes in [&noise[..], b"a", b" a", b"ab cd[ef/gh", b"<<>>", b"", b"((x))"] {
            assert_eq!(scan(bytes).tokens, plain(bytes), "{:?}", &bytes[..bytes.len().min(16)]);
        }
    }

    #[test]
    fn a_licence_is_far_under_the_token_limit() {
        for seed in ["signed-ed25519.pdf", "signed-p256-dss.pdf"] {
            let path = format!("{}/fuzz/seeds/pdf_inspect/{seed}", env!("CARGO_MANIFEST_DIR"));
            let pdf = std::fs::read(path).unwrap();
            let found = scan(&pdf);
            eprintln!("{seed}: {} bytes, {} tokens", pdf.len(), found.tokens);
            assert!(found.tokens < MAX_TOKENS / 20 && !found.encrypt, "{seed}: {found:?}");
        }
    }

    #[test]
    fn objects_in_object_streams_load_whole_through_the_filter() {
        let path = format!("{}/fuzz/seeds/pdf_inspect/signed-ed25519.pdf", env!("CARGO_MANIFEST_DIR"));
        let mut doc = Document::load_mem(&std::fs::read(path).unwrap()).unwrap();
        let mut modern = Vec::new();
        doc.save_modern(&mut modern).unwrap();
        assert!(modern.windows(7).any(|w| w == b"/ObjStm"), "saved with object streams");
        let loaded = load(&modern).unwrap();
        let reference = Document::load_mem(&modern).unwrap();
        assert_eq!(loaded.objects.len(), reference.objects.len());
        assert!(loaded.objects.iter().all(|(id, o)| reference.objects.get(id) == Some(o)));
        assert!(loaded.catalog().is_ok_and(|c| c.has(b"AcroForm")));
        assert_eq!(BUDGET.get().nodes_left, 0, "the budget is cleared after a load");
    }

    #[test]
    fn encrypt_is_found_escaped_or_not() {
        assert!(scan(b"trailer << /Encrypt 5 0 R >>").encrypt);
        assert!(scan(b"<</Encr#79pt 5 0 R>>").encrypt);
        assert!(scan(b"<</#45ncrypt[").encrypt);
        assert!(!scan(b"<< /EncryptMetadata false /Encryp /Encr#7 >>").encrypt);
        assert!(!scan(b"/Encryp").encrypt);
    }
}
