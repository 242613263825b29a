//! Hostile OFD uploads against `ofd::inspect`: truncated and damaged zips, zip bombs, a
//! 10,000-file package, bad entry names, encrypted and unsupported entries, deep XML,
//! entity expansion and external entities (never resolved), and broken structure. Each
//! ends in its error code within [`LIMIT`], never a panic; the fuzz seeds run too.

#![allow(clippy::unwrap_used)] // Test helpers: a failed unwrap is a failed test.

use std::io::Write as _;
use std::path::Path;
use std::time::{Duration, Instant};

use zhengzhao::ofd::{self, OfdError, OfdInspection, Package, ReadLimits};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

/// Most time any one hostile input may take (debug build of this crate).
const LIMIT: Duration = Duration::from_secs(2);

fn data(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ofd").join(name)).unwrap()
}

fn timed(bytes: &[u8], limits: &ReadLimits) -> Result<OfdInspection, OfdError> {
    let start = Instant::now();
    let out = ofd::inspect(bytes, limits);
    assert!(start.elapsed() < LIMIT, "took {:?}", start.elapsed());
    out
}

/// The error code `inspect` ends with under the default limits.
fn refused(bytes: &[u8]) -> &'static str {
    timed(bytes, &ReadLimits::default()).map(|_| ()).unwrap_err().code()
}

/// A zip written by the `zip` crate (not by our writer), entries as given.
fn zip_of(entries: &[(&str, &[u8])], method: CompressionMethod) -> Vec<u8> {
    let mut w = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        w.start_file(*name, options).unwrap();
        w.write_all(bytes).unwrap();
    }
    w.finish().unwrap().into_inner()
}

/// The helloworld OFD with `OFD.xml` replaced.
fn with_ofd_xml(ofd_xml: &[u8]) -> Vec<u8> {
    let hello = Package::from_zip(&data("ofdrw-helloworld.ofd"), &ReadLimits::default()).unwrap();
    let mut p = Package::new();
    for (name, bytes) in hello.files() {
        p.insert(name, if name == "OFD.xml" { ofd_xml.to_vec() } else { bytes.to_vec() }).unwrap();
    }
    p.to_zip().unwrap()
}

/// Sets a field of every central directory header (offset `at` from its signature).
fn patch_central_directory(zip: &mut [u8], at: usize, value: &[u8]) {
    let mut i = 0;
    while let Some(p) = zip[i..].windows(4).position(|w| w == b"PK\x01\x02") {
        let start = i + p + at;
        zip[start..start + value.len()].copy_from_slice(value);
        i += p + 4;
    }
}

#[test]
fn truncated_damaged_and_foreign_bytes_are_not_zips() {
    let good = data("vendor-v4signed.ofd");
    for cut in [0, 10, good.len() / 2, good.len() - 23, good.len() - 1] {
        assert_eq!(refused(&good[..cut]), "ofd_not_zip", "cut at {cut}");
    }
    assert_eq!(refused(b"%PDF-1.7\n%%EOF"), "ofd_not_zip");
    // One byte flipped inside a deflated entry: inflate or the CRC check fails.
    let mut bad = good.clone();
    bad[2000] ^= 0x55;
    assert_eq!(refused(&bad), "ofd_corrupt_entry");
    let limits = ReadLimits { max_input_bytes: 1000, ..ReadLimits::default() };
    assert_eq!(timed(&good, &limits).unwrap_err().code(), "ofd_input_too_large");
}

#[test]
fn zip_bombs_are_stopped_while_inflating() {
    // One entry of 64 MiB of zeros (~64 KiB compressed): the ratio stops it after 1 MiB.
    let zeros = vec![0u8; 64 << 20];
    let bomb = zip_of(&[("OFD.xml", &zeros)], CompressionMethod::Deflated);
    assert!(bomb.len() < 200_000);
    assert_eq!(refused(&bomb), "ofd_compression_ratio");
    // The same without the ratio check: the per-entry size stops it at 16 MiB.
    let no_ratio = ReadLimits { max_ratio: u64::MAX, ..ReadLimits::default() };
    assert_eq!(timed(&bomb, &no_ratio).unwrap_err().code(), "ofd_entry_too_large");
    // Many entries each under the ratio floor: the total stops them at 64 MiB.
    let mib = vec![0u8; 1 << 20];
    let names: Vec<String> = (0..80).map(|i| format!("Doc_0/Res/{i}.bin")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &mib[..])).collect();
    let spread = zip_of(&entries, CompressionMethod::Deflated);
    assert_eq!(refused(&spread), "ofd_total_too_large");
}

#[test]
fn a_ten_thousand_file_package_is_refused_before_its_directory_is_read() {
    let names: Vec<String> = (0..10_000).map(|i| format!("Doc_0/Res/f{i}.xml")).collect();
    let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let zip = zip_of(&entries, CompressionMethod::Stored);
    let start = Instant::now();
    let err = ofd::inspect(&zip, &ReadLimits::default()).unwrap_err();
    let took = start.elapsed();
    assert!(matches!(err, OfdError::TooManyEntries { count: 10_000, max: 1_000 }), "{err}");
    assert_eq!(err.to_string(), "the OFD zip has 10000 entries, more than the 1000 accepted");
    // Only the end record is read: far below the time it takes to parse 10,000 headers.
    assert!(took < Duration::from_millis(50), "took {took:?}");
}

#[test]
fn entry_names_must_be_plain_distinct_relative_paths() {
    for (names, code) in [
        (&["OFD.xml", "../evil.xml"][..], "ofd_bad_entry_name"),
        (&["/etc/OFD.xml"][..], "ofd_bad_entry_name"),
        (&["Doc_0\\Document.xml"][..], "ofd_bad_entry_name"),
        (&["Doc_0/./a.xml"][..], "ofd_bad_entry_name"),
        (&["OFD.xml", "ofd.XML"][..], "ofd_duplicate_entry"),
        (&["Doc_0/", "doc_0/"][..], "ofd_duplicate_entry"),
    ] {
        let entries: Vec<(&str, &[u8])> = names.iter().map(|n| (*n, &b"x"[..])).collect();
        assert_eq!(refused(&zip_of(&entries, CompressionMethod::Stored)), code, "{names:?}");
    }
    // A name that is not UTF-8.
    let mut zip = zip_of(&[("OFD.xml", b"x")], CompressionMethod::Stored);
    // The last copy of the name is the central directory's (the one the reader uses).
    let pos = zip.windows(7).rposition(|w| w == b"OFD.xml").unwrap();
    zip[pos] = 0xff;
    assert_eq!(refused(&zip), "ofd_bad_entry_name");
}

#[test]
fn encrypted_and_unsupported_entries_are_refused() {
    let plain = zip_of(&[("OFD.xml", b"<x/>")], CompressionMethod::Stored);
    let mut encrypted = plain.clone();
    patch_central_directory(&mut encrypted, 8, &[0x01, 0x00]); // general purpose bit 0
    assert_eq!(refused(&encrypted), "ofd_encrypted_entry");
    let mut bzip2 = plain.clone();
    patch_central_directory(&mut bzip2, 10, &[12, 0]); // method 12 = bzip2
    assert_eq!(refused(&bzip2), "ofd_unsupported_compression");
}

#[test]
fn deep_xml_nesting_is_refused() {
    let deep = format!(
        "<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\">{}{}</ofd:OFD>",
        "<a>".repeat(50_000),
        "</a>".repeat(50_000)
    );
    let err = timed(&with_ofd_xml(deep.as_bytes()), &ReadLimits::default()).unwrap_err();
    assert_eq!(err.to_string(), "OFD.xml: XML nested deeper than 64 elements");
    let wide =
        format!("<ofd:OFD xmlns:ofd=\"http://www.ofdspec.org/2016\">{}</ofd:OFD>", "<a/>".repeat(5_000));
    let few = ReadLimits { max_xml_nodes: 1_000, ..ReadLimits::default() };
    let err = timed(&with_ofd_xml(wide.as_bytes()), &few).unwrap_err();
    assert_eq!(err.code(), "ofd_xml_too_many_nodes");
}

const LAUGHS: &str = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo><ofd:Title>&lol9;</ofd:Title></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;

const XXE: &str = r#"<?xml version="1.0"?>
<!DOCTYPE ofd:OFD [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocInfo><ofd:Title>&xxe;</ofd:Title></ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;

const EXTERNAL_DTD: &str = r#"<?xml version="1.0"?>
<!DOCTYPE ofd:OFD SYSTEM "file:///etc/passwd">
<ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016"><ofd:DocBody><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"#;

#[test]
fn entities_are_never_expanded_or_resolved() {
    for xml in [LAUGHS, XXE, EXTERNAL_DTD] {
        let err = timed(&with_ofd_xml(xml.as_bytes()), &ReadLimits::default()).unwrap_err();
        assert_eq!(err.code(), "ofd_xml_doctype");
        assert!(!format!("{err} {err:?}").contains("root:"), "{err}");
    }
    // In a signature file the same is a finding of that signature, not a crash.
    let signed = Package::from_zip(&data("ofdrw-SESV4SignDoc.ofd"), &ReadLimits::default()).unwrap();
    let mut p = Package::new();
    for (name, bytes) in signed.files() {
        let bytes = if name.ends_with("Signature.xml") { XXE.as_bytes() } else { bytes };
        p.insert(name, bytes.to_vec()).unwrap();
    }
    let i = timed(&p.to_zip().unwrap(), &ReadLimits::default()).unwrap();
    let codes: Vec<_> = i.signatures[0].findings.iter().map(|f| f.code()).collect();
    assert_eq!(codes, ["ofd_signature_xml_unreadable"]);
    assert!(i.signatures[0].findings[0].to_string().contains("DOCTYPE"));
}

#[test]
fn broken_structure_is_an_error_with_its_code() {
    let ns = r#"xmlns:ofd="http://www.ofdspec.org/2016""#;
    let no_body = format!("<ofd:OFD {ns}/>");
    let no_root = format!("<ofd:OFD {ns}><ofd:DocBody/></ofd:OFD>");
    let missing_doc = format!(
        "<ofd:OFD {ns}><ofd:DocBody><ofd:DocRoot>Doc_9/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    );
    let wrong_root = format!("<ofd:Document {ns}/>");
    for (xml, code) in [
        (no_body.as_str(), "ofd_no_doc_body"),
        (no_root.as_str(), "ofd_no_doc_root"),
        (missing_doc.as_str(), "ofd_no_doc_root"),
        (wrong_root.as_str(), "ofd_xml_unreadable"),
        ("<ofd:OFD", "ofd_xml_unreadable"),
    ] {
        assert_eq!(refused(&with_ofd_xml(xml.as_bytes())), code, "{xml}");
    }
    let no_ofd_xml = zip_of(&[("Doc_0/Document.xml", b"<x/>")], CompressionMethod::Deflated);
    assert_eq!(refused(&no_ofd_xml), "ofd_no_ofd_xml");
}

#[test]
fn fuzz_seeds_and_regressions_end_without_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    let mut n = 0;
    for kind in ["seeds", "regressions"] {
        let Ok(dir) = std::fs::read_dir(root.join(kind).join("ofd_inspect")) else { continue };
        for entry in dir {
            let path = entry.unwrap().path();
            let _ = timed(&std::fs::read(&path).unwrap(), &ReadLimits::default());
            n += 1;
        }
    }
    assert!(n >= 3, "the interop seeds are in fuzz/seeds/ofd_inspect");
}

/// A small deterministic generator (xorshift) for the mutation test.
struct Rng(u64);

impl Rng {
    fn next(&mut self, below: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % below as u64) as usize
    }
}

#[test]
fn mutated_interop_packages_end_in_ok_or_err() {
    // Bytes of the files inside the package are changed (the zip stays valid), so the
    // XML, path and signature readers see the damage rather than the inflater.
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start = Instant::now();
    for name in ["ofdrw-SESV4SignDoc.ofd", "vendor-v4signed.ofd", "ofdrw-helloworld.ofd"] {
        let p = Package::from_zip(&data(name), &ReadLimits::default()).unwrap();
        let files: Vec<(String, Vec<u8>)> = p.files().map(|(n, b)| (n.to_owned(), b.to_vec())).collect();
        for _ in 0..150 {
            let mut files = files.clone();
            let (_, bytes) = &mut files[rng.next(p.len())];
            for _ in 0..=rng.next(4) {
                if bytes.is_empty() {
                    break;
                }
                let at = rng.next(bytes.len());
                match rng.next(3) {
                    0 => bytes[at] = b"<>/\"=& :x0"[rng.next(10)],
                    1 => drop(bytes.drain(at..(at + rng.next(40)).min(bytes.len()))),
                    _ => bytes.insert(at, rng.next(256) as u8),
                }
            }
            let mut q = Package::new();
            for (n, b) in files {
                q.insert(n, b).unwrap();
            }
            let _ = ofd::inspect_package(q, &ReadLimits::default());
        }
    }
    assert!(start.elapsed() < LIMIT * 10, "took {:?}", start.elapsed());
}
