//! Hostile input for the parsers of outside bytes, on the stable toolchain: every file of
//! the fuzz seed and regression folders, then generated attacks (bombs, loops, deep
//! nesting, truncation, huge sizes) against `pdf::inspect` and the token decoders. Each
//! case must end in an error (no panic) within [`LIMIT`]; peak memory is measured per
//! test with `/usr/bin/time -v` (see `fuzz/README.md`).

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use lopdf::{Dictionary, IncrementalDocument, Object, Stream};
use zhengzhao::pdf::{self, PdfError};
use zhengzhao::token::{self, TokenError};

/// Most time any one hostile input may take (debug build of this crate).
const LIMIT: Duration = Duration::from_secs(2);

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted.
fn files(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(dir) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { return Vec::new() };
    let mut out: Vec<PathBuf> =
        dir.map(|e| e.unwrap().path()).filter(|p| p.is_file() && !is_placeholder(p)).collect();
    out.sort();
    out
}

fn is_placeholder(p: &Path) -> bool {
    p.file_name().is_some_and(|n| n == ".gitkeep" || n == "README.md")
}

/// The committed Ed25519-signed seed PDF.
fn signed_pdf() -> Vec<u8> {
    std::fs::read(fuzz_dir().join("seeds/pdf_inspect/signed-ed25519.pdf")).unwrap()
}

/// Runs `inspect`, checks the time, and returns its error.
fn refused(name: &str, bytes: &[u8]) -> PdfError {
    let start = Instant::now();
    let result = pdf::inspect(bytes);
    let took = start.elapsed();
    eprintln!(
        "{name}: {} bytes, {took:?}, {:?}",
        bytes.len(),
        result.as_ref().map(|_| "signed").map_err(|e| (e.code(), e.to_string()))
    );
    assert!(took < LIMIT, "{name} took {took:?}");
    match result {
        Ok(_) => panic!("{name}: hostile input inspected as signed"),
        Err(e) => e,
    }
}

/// Runs both token paths (URL text and COSE bytes), checks the time, returns the errors.
fn token_refused(name: &str, bytes: &[u8]) -> (TokenError, TokenError) {
    let start = Instant::now();
    let text = token::decode_from_url(&String::from_utf8_lossy(bytes)).and_then(|b| token::parse(&b));
    let raw = token::parse(bytes);
    // A bundle receipt's token goes through the same URL reader and COSE reader.
    let bundle_text =
        token::decode_from_url(&String::from_utf8_lossy(bytes)).and_then(|b| token::bundle::parse_bundle(&b));
    let bundle_raw = token::bundle::parse_bundle(bytes);
    let took = start.elapsed();
    eprintln!("{name}: {} bytes, {took:?}", bytes.len());
    assert!(took < LIMIT, "{name} took {took:?}");
    assert!(bundle_text.is_err() && bundle_raw.is_err(), "{name}: read as a bundle receipt");
    (text.expect_err(name), raw.expect_err(name))
}

/// A PDF of the given object bodies (numbered from 1, object 1 the catalog unless the
/// bodies say otherwise), with a classic cross-reference table and `trailer_extra` in
/// the trailer dictionary.
fn pdf_of(objects: &[Vec<u8>], trailer_extra: &str) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref = pdf.len();
    pdf.extend_from_slice(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for off in offsets {
        pdf.extend_from_slice(format!("{off:010} 00000 n \n").as_bytes());
    }
    pdf.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer_extra} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    pdf
}

fn catalog() -> Vec<u8> {
    b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()
}

fn pages() -> Vec<u8> {
    b"<< /Type /Pages /Kids [] /Count 0 >>".to_vec()
}

fn stream(dict: &str, data: &[u8]) -> Vec<u8> {
    [format!("<< {dict} /Length {} >>\nstream\n", data.len()).as_bytes(), data, b"\nendstream"].concat()
}

/// zlib data that inflates to `size` zero bytes, made once per size and test binary.
fn bomb(size: usize) -> &'static [u8] {
    /// Sizes and their bombs.
    type Made = Vec<(usize, &'static [u8])>;
    static BOMBS: Mutex<Made> = Mutex::new(Vec::new());
    let mut bombs = BOMBS.lock().unwrap();
    if let Some((_, b)) = bombs.iter().find(|(s, _)| *s == size) {
        return b;
    }
    let mut enc = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let chunk = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(chunk.len());
        enc.write_all(&chunk[..n]).unwrap();
        left -= n;
    }
    let b: &'static [u8] = Vec::leak(enc.finish().unwrap());
    bombs.push((size, b));
    b
}

/// A PDF whose objects 1.. are `plain` (classic objects) and whose further objects live in
/// object streams, described by an uncompressed cross-reference stream. `compressed[i]` is
/// the container index (into `containers`, 0-based) of object `plain.len() + containers.len() + 2 + i`.
fn pdf_with_object_streams(plain: &[Vec<u8>], containers: &[Vec<u8>], compressed: &[usize]) -> Vec<u8> {
    let mut pdf = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in plain.iter().chain(containers).enumerate() {
        offsets.push(pdf.len());
        pdf.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        pdf.extend_from_slice(body);
        pdf.extend_from_slice(b"\nendobj\n");
    }
    let xref_id = offsets.len() + 1;
    let xref_offset = pdf.len();
    let mut rows = vec![[0u8, 0, 0, 0, 0, 0xff, 0xff]];
    for off in offsets.iter().chain([&xref_offset]) {
        let o = u32::try_from(*off).unwrap().to_be_bytes();
        rows.push([1, o[0], o[1], o[2], o[3], 0, 0]);
    }
    for (index, &container) in compressed.iter().enumerate() {
        let c = u32::try_from(plain.len() + container + 1).unwrap().to_be_bytes();
        let i = u16::try_from(index).unwrap_or(0).to_be_bytes();
        rows.push([2, c[0], c[1], c[2], c[3], i[0], i[1]]);
    }
    let size = rows.len();
    let data = rows.concat();
    pdf.extend_from_slice(format!("{xref_id} 0 obj\n").as_bytes());
    pdf.extend_from_slice(&stream(&format!("/Type /XRef /Size {size} /W [1 4 2] /Root 1 0 R"), &data));
    pdf.extend_from_slice(format!("\nendobj\nstartxref\n{xref_offset}\n%%EOF\n").as_bytes());
    pdf
}

/// Deterministic pseudo-random bytes.
fn noise(len: usize, mut x: u64) -> Vec<u8> {
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect()
}

#[test]
fn seed_and_regression_files() {
    let mut seen = 0;
    for target in ["token_decode", "pdf_inspect"] {
        for kind in ["seeds", "regressions"] {
            for path in files(kind, target) {
                let bytes = std::fs::read(&path).unwrap();
                let name = path.display().to_string();
                let start = Instant::now();
                let text =
                    token::decode_from_url(&String::from_utf8_lossy(&bytes)).and_then(|b| token::parse(&b));
                let raw = token::parse(&bytes);
                let inspected = pdf::inspect(&bytes);
                let took = start.elapsed();
                eprintln!("{name}: {took:?}");
                assert!(took < LIMIT, "{name} took {took:?}");
                // Seeds are real artefacts: they must still read as what they are.
                if kind == "seeds" && name.ends_with(".pdf") {
                    assert!(inspected.is_ok(), "{name}: {:?}", inspected.err());
                }
                if kind == "seeds" && name.ends_with(".cose") {
                    assert!(raw.is_ok(), "{name}: {:?}", raw.err());
                }
                if kind == "seeds" && name.ends_with("/sm2.cose") {
                    assert_eq!(raw.as_ref().unwrap().algorithm, zhengzhao::signing::Algorithm::Sm2, "{name}");
                }
                if kind == "seeds" && name.ends_with("-url.txt") {
                    assert!(text.is_ok(), "{name}: {:?}", text.err());
                }
                seen += 1;
            }
        }
    }
    // Tokens of three algorithms as bytes and as text, and two PDFs.
    assert!(seen >= 8, "only {seen} seed and regression files found");
}

#[test]
fn empty_and_non_pdf() {
    assert_eq!(refused("empty", b"").code(), "pdf_parse");
    refused("noise 1 MiB", &noise(1 << 20, 7));
    refused("header then noise", &[&b"%PDF-1.7\n"[..], &noise(1 << 20, 11)].concat());
    refused("header only", b"%PDF-1.7\n%%EOF\n");
    refused("text", "营业执照 not a pdf".as_bytes());
}

#[test]
fn truncated_signed_pdf() {
    let pdf = signed_pdf();
    assert!(pdf::inspect(&pdf).is_ok());
    let contents = pdf.windows(10).position(|w| w == b"/Contents<" || w == b"/Contents ").unwrap();
    let mut cuts: Vec<usize> = (1..24).map(|i| pdf.len() * i / 24).collect();
    cuts.extend([1, 8, 9, contents, contents + 100, pdf.len() - 7, pdf.len() - 6, pdf.len() - 1]);
    for cut in cuts {
        refused(&format!("cut at {cut}"), &pdf[..cut]);
    }
}

#[test]
fn deep_nesting() {
    const LEVELS: usize = 100_000;
    let arrays = [vec![b'['; LEVELS], vec![b']'; LEVELS]].concat();
    let dicts = ["<< /A ".repeat(LEVELS), ">>".repeat(LEVELS)].concat().into_bytes();
    let strings = [vec![b'('; LEVELS], vec![b')'; LEVELS]].concat();
    for (what, deep) in [("arrays", &arrays), ("dictionaries", &dicts), ("strings", &strings)] {
        // In an object, unterminated, in the catalog, and in the trailer.
        refused(&format!("nested {what} in an object"), &pdf_of(&[catalog(), pages(), deep.clone()], ""));
        refused(&format!("unclosed {what}"), &pdf_of(&[catalog(), pages(), deep[..LEVELS].to_vec()], ""));
        let cat = [&b"<< /Type /Catalog /Pages 2 0 R /X "[..], deep, b" >>"].concat();
        refused(&format!("nested {what} in the catalog"), &pdf_of(&[cat, pages()], ""));
        let trailer = format!("/X {}", String::from_utf8_lossy(deep));
        refused(&format!("nested {what} in the trailer"), &pdf_of(&[catalog(), pages()], &trailer));
        // Without a usable cross-reference table lopdf reconstructs it by scanning.
        let mut broken = pdf_of(&[catalog(), pages(), deep.clone()], "");
        let at = broken.windows(9).rposition(|w| w == b"startxref").unwrap();
        broken.truncate(at);
        refused(&format!("nested {what}, no xref"), &broken);
    }
}

#[test]
fn huge_stream_length() {
    for length in ["99999999999999", "9223372036854775807", "-1", "4294967296", "3 0 R"] {
        let body = format!("<< /Length {length} >>\nstream\nabc\nendstream").into_bytes();
        refused(&format!("/Length {length}"), &pdf_of(&[catalog(), pages(), body.clone()], ""));
        let obj = format!(
            "<< /Type /ObjStm /N 1000000000 /First 999999999 /Length {length} >>\nstream\nabc\nendstream"
        );
        refused(
            &format!("object stream /Length {length}"),
            &pdf_of(&[catalog(), pages(), obj.into_bytes()], ""),
        );
    }
    // A cross-reference section claiming four billion entries.
    let mut pdf = pdf_of(&[catalog(), pages()], "");
    let at = pdf.windows(7).position(|w| w == b"xref\n0 ").unwrap();
    pdf.splice(at + 7..at + 8, b"4294967295".iter().copied());
    refused("xref count 2^32-1", &pdf);
    refused("/Size 2^62", &pdf_of(&[catalog(), pages()], "/Size 4611686018427387904"));
}

#[test]
fn zip_bomb_object_stream() {
    // 1 GiB of zeros behind an object stream that a cross-reference stream points into.
    let b = bomb(1 << 30);
    let container = stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b);
    let err =
        refused("1 GiB object stream", &pdf_with_object_streams(&[catalog(), pages()], &[container], &[0]));
    assert_eq!(err.code(), "pdf_parse");
}

#[test]
fn zip_bomb_xref_stream() {
    let b = bomb(1 << 30);
    let mut pdf = pdf_of(&[catalog(), pages()], "");
    let at = pdf.windows(6).position(|w| w == b"\nxref\n").unwrap() + 1;
    pdf.truncate(at);
    let offset = pdf.len();
    pdf.extend_from_slice(b"3 0 obj\n");
    pdf.extend_from_slice(&stream("/Type /XRef /Size 4 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode", b));
    pdf.extend_from_slice(format!("\nendobj\nstartxref\n{offset}\n%%EOF\n").as_bytes());
    refused("1 GiB cross-reference stream", &pdf);
}

#[test]
fn zip_bombs_many_object_streams() {
    // Many object streams, each just under a per-stream cap of 64 MiB: the total matters.
    let b = bomb(60 << 20);
    let container = stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", b);
    let containers = vec![container; 100];
    let compressed: Vec<usize> = (0..100).collect();
    let pdf = pdf_with_object_streams(&[catalog(), pages()], &containers, &compressed);
    refused("100 object streams of 60 MiB", &pdf);
    // 20,001 streams: refused before parsing.
    let tiny = stream("/Type /ObjStm /N 1 /First 4 /Filter /FlateDecode", bomb(1 << 16));
    let pdf = pdf_with_object_streams(&[catalog(), pages()], &vec![tiny; 10_001], &[]);
    assert_eq!(refused("10,001 streams", &pdf).code(), "pdf_too_complex");
}

#[test]
fn zip_bomb_in_dss() {
    // A signed PDF whose later /DSS revision holds a "certificate" inflating to 1 GiB: the
    // signature stays valid, so inspect succeeds, but the bomb must be skipped, not inflated.
    let signed = signed_pdf();
    let doc = lopdf::Document::load_mem(&signed).unwrap();
    let catalog_id = doc.trailer.get(b"Root").unwrap().as_reference().unwrap();
    let mut inc = IncrementalDocument::create_from(signed.clone(), doc);
    let mut dict = Dictionary::new();
    dict.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let bomb_id = inc.new_document.add_object(Stream::new(dict, bomb(1 << 30).to_vec()));
    inc.opt_clone_object_to_new_document(catalog_id).unwrap();
    let cat = inc.new_document.get_dictionary_mut(catalog_id).unwrap();
    cat.set(
        "DSS",
        Object::Dictionary(Dictionary::from_iter([(
            "Certs",
            Object::Array(vec![Object::Reference(bomb_id)]),
        )])),
    );
    let mut out = Vec::new();
    inc.save_to(&mut out).unwrap();
    let start = Instant::now();
    let info = pdf::inspect(&out).unwrap();
    let took = start.elapsed();
    eprintln!("DSS bomb: {} bytes, {took:?}", out.len());
    assert!(took < LIMIT, "DSS bomb took {took:?}");
    assert!(info.dss_certs.is_empty());
    assert_eq!(info.later_revisions, pdf::LaterRevisions::DssOnly);
}

#[test]
fn xref_loops() {
    // A trailer whose /Prev points at its own section, and two sections pointing at each other.
    let pdf = pdf_of(&[catalog(), pages()], "");
    let xref = pdf.windows(6).position(|w| w == b"\nxref\n").unwrap() + 1;
    refused("/Prev to itself", &pdf_of(&[catalog(), pages()], &format!("/Prev {xref}")));
    let mut two = pdf_of(&[catalog(), pages()], "/Prev 0000000000");
    let first = xref;
    let second = two.len();
    two.extend_from_slice(
        format!("xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 3 /Root 1 0 R /Prev {first} >>\nstartxref\n{second}\n%%EOF\n")
            .as_bytes(),
    );
    // Make the first section point back to the second (same width, offsets unchanged).
    let patched =
        String::from_utf8(two).unwrap().replacen("/Prev 0000000000", &format!("/Prev {second:010}"), 1);
    refused("/Prev ping-pong", patched.as_bytes());
    // startxref pointing at itself and past the end.
    let mut selfref = pdf.clone();
    let at = selfref.windows(9).rposition(|w| w == b"startxref").unwrap();
    selfref.truncate(at);
    selfref.extend_from_slice(format!("startxref\n{at}\n%%EOF\n").as_bytes());
    refused("startxref at itself", &selfref);
    let mut past = pdf;
    past.truncate(at);
    past.extend_from_slice(b"startxref\n999999999999\n%%EOF\n");
    refused("startxref past the end", &past);
}

#[test]
fn reference_cycles() {
    // Self-references and cycles where the inspector follows references: AcroForm, Fields,
    // field Kids, the page tree, and /V.
    let cases: [(&str, Vec<Vec<u8>>); 5] = [
        (
            "AcroForm refers to itself",
            vec![b"<< /Type /Catalog /Pages 2 0 R /AcroForm 3 0 R >>".to_vec(), pages(), b"3 0 R".to_vec()],
        ),
        (
            "Fields cycle",
            vec![
                b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields 3 0 R >> >>".to_vec(),
                pages(),
                b"4 0 R".to_vec(),
                b"3 0 R".to_vec(),
            ],
        ),
        (
            "field Kids cycle",
            vec![
                b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] >> >>".to_vec(),
                pages(),
                b"<< /Kids [4 0 R 3 0 R] >>".to_vec(),
                b"<< /Kids [3 0 R 4 0 R] >>".to_vec(),
            ],
        ),
        (
            "page tree cycle",
            vec![
                catalog(),
                b"<< /Type /Pages /Kids [2 0 R 3 0 R] /Count 2 >>".to_vec(),
                b"<< /Type /Pages /Parent 2 0 R /Kids [2 0 R] /Count 1 >>".to_vec(),
            ],
        ),
        (
            "signature value cycle",
            vec![
                b"<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [3 0 R] >> >>".to_vec(),
                pages(),
                b"<< /FT /Sig /V 4 0 R >>".to_vec(),
                b"5 0 R".to_vec(),
                b"4 0 R".to_vec(),
            ],
        ),
    ];
    for (name, objects) in cases {
        refused(name, &pdf_of(&objects, ""));
    }
    // A field tree that fans out: 100 fields each listing all 100 as kids.
    let kids: String = (3..103).map(|i| format!("{i} 0 R ")).collect();
    let mut fan = vec![
        format!("<< /Type /Catalog /Pages 2 0 R /AcroForm << /Fields [{kids}] >> >>").into_bytes(),
        pages(),
    ];
    fan.extend((0..100).map(|_| format!("<< /Kids [{kids}] >>").into_bytes()));
    refused("field fan-out", &pdf_of(&fan, ""));
}

#[test]
fn a_million_objects() {
    // 10^6 objects behind an xref stream, and 10^6 objects with no xref (reconstruction).
    const N: usize = 1_000_000;
    let mut plain = vec![catalog(), pages()];
    plain.extend((0..N).map(|_| b"0".to_vec()));
    let pdf = pdf_with_object_streams(&plain, &[], &[]);
    assert_eq!(refused("10^6 objects, xref stream", &pdf).code(), "pdf_too_complex");
    let mut broken = pdf.clone();
    let at = broken.windows(9).rposition(|w| w == b"startxref").unwrap();
    broken.truncate(at);
    assert_eq!(refused("10^6 objects, no xref", &broken).code(), "pdf_too_complex");
    // 30,000 objects (about seven tokens each: `N 0 obj 0 endobj` and the uncompressed
    // xref stream's bytes), under the token limit of 250,000: read, and refused as
    // unsigned; 60,000, over it, refused as too complex.
    let mut plain = vec![catalog(), pages()];
    plain.extend((0..30_000).map(|_| b"0".to_vec()));
    assert_eq!(refused("30,000 objects", &pdf_with_object_streams(&plain, &[], &[])).code(), "not_signed");
    plain.extend((0..30_000).map(|_| b"0".to_vec()));
    let pdf = pdf_with_object_streams(&plain, &[], &[]);
    assert_eq!(refused("60,000 objects", &pdf).code(), "pdf_too_complex");
}

#[test]
fn fifty_megabytes_refused_by_size() {
    let mut pdf = pdf_of(&[catalog(), pages()], "");
    pdf.resize(50 * 1024 * 1024, b' ');
    let err = refused("50 MB", &pdf);
    assert_eq!(err.code(), "input_too_large");
}

#[test]
fn hostile_token_text_and_bytes() {
    // Huge strings, before and after the URL prefix, and text that is not base32.
    let huge = "A".repeat(64 * 1024 * 1024);
    assert!(matches!(token_refused("64 MiB of A", huge.as_bytes()).0, TokenError::TooLarge { .. }));
    let url_then_huge = format!("https://zz.example.gov.cn/v/{huge}");
    token_refused("URL then 64 MiB", url_then_huge.as_bytes());
    let slashes = "/".repeat(10 * 1024 * 1024);
    token_refused("10 MiB of slashes", slashes.as_bytes());
    token_refused("not base32", "https://zz.example.gov.cn/v/!!!!====".as_bytes());
    token_refused("noise", &noise(4096, 3));
    // Deeply nested CBOR inside the size limit, as bytes and as base32 text.
    for (name, cbor) in [
        ("nested arrays", [vec![0xd2], vec![0x81; 1000], vec![0x00]].concat()),
        ("nested maps", [vec![0xd2], [0xa1, 0x00].repeat(500), vec![0x00]].concat()),
        ("nested tags", [vec![0xd2; 1000], vec![0x00]].concat()),
        ("indefinite arrays", [vec![0xd2], vec![0x9f; 1000]].concat()),
        ("huge declared length", vec![0xd2, 0x84, 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]),
        ("wrong COSE: map", vec![0xd2, 0xa0]),
        ("wrong COSE: 3 items", vec![0xd2, 0x83, 0x40, 0xa0, 0xf6]),
        ("wrong COSE: text protected header", vec![0xd2, 0x84, 0x60, 0xa0, 0x40, 0x40]),
        ("wrong COSE: protected header not a map", vec![0xd2, 0x84, 0x41, 0x00, 0xa0, 0x40, 0x40]),
        ("CWT payload not a map", vec![0xd2, 0x84, 0x43, 0xa1, 0x01, 0x27, 0xa0, 0x41, 0x00, 0x40]),
    ] {
        let (text, raw) = token_refused(name, &cbor);
        assert!(matches!(text, TokenError::Encoding(_) | TokenError::TooLarge { .. }), "{name}: {text}");
        assert!(matches!(raw, TokenError::Malformed(_)), "{name}: {raw}");
        let (text, _) = token_refused(&format!("{name} (base32)"), token::encode_for_url(&cbor).as_bytes());
        assert!(matches!(text, TokenError::Malformed(_)), "{name}: {text}");
    }
}
