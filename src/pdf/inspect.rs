//! Reads and checks the signature of an uploaded PDF: byte ranges, digest, CMS signature,
//! and what revisions after the signature changed.
//!
//! Trust (chain to a root, revocation, validity at the signing time) is not decided here:
//! the caller gets the signer certificate and the certificates and CRLs found, and asks the
//! PKI module. Every input is untrusted: sizes are bounded and nothing panics.

use std::collections::{BTreeSet, HashMap};

use lopdf::{Dictionary, Document, Object, ObjectId};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::PdfError;
use super::writer::decode_text_string;
use super::{cms, limits};

/// Largest PDF [`inspect`] reads, in bytes.
pub const MAX_INSPECT_BYTES: usize = 32 * 1024 * 1024;

/// Largest CMS taken from `/Contents`, in bytes.
const MAX_CMS_BYTES: usize = 512 * 1024;

/// Most form fields looked at, and how deep field trees may nest.
const MAX_FIELDS: usize = 1000;
const MAX_FIELD_DEPTH: usize = 8;

/// Most objects followed when collecting what the `/DSS` references.
const MAX_DSS_OBJECTS: usize = 10_000;

/// Most bytes the `/DSS` certificates and CRLs may decode to, together.
const MAX_DSS_BYTES: usize = 8 * 1024 * 1024;

/// What revisions appended after the signed revision changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaterRevisions {
    /// The signature covers the whole file.
    None,
    /// Later revisions only add validation data: a `/DSS` and the objects it references.
    DssOnly,
    /// Later revisions change or add other objects (each entry describes one).
    Other(Vec<String>),
}

/// A signature whose integrity and CMS signature have been checked.
#[derive(Debug, Clone)]
pub struct SignatureInfo {
    /// The signature field's name (`/T`).
    pub field_name: Option<String>,
    /// The `/SubFilter` (always `ETSI.CAdES.detached` here).
    pub sub_filter: String,
    /// The `/ByteRange`: offset and length of the bytes before and after `/Contents`.
    pub byte_range: [usize; 4],
    /// `/M` as written.
    pub signing_time_raw: Option<String>,
    /// `/M` parsed, if it is a valid PDF date.
    pub signing_time: Option<OffsetDateTime>,
    /// `/Reason`, if any.
    pub reason: Option<String>,
    /// `/Location`, if any.
    pub location: Option<String>,
    /// `/Name`, if any.
    pub name: Option<String>,
    /// The seal key's signature algorithm.
    pub algorithm: crate::signing::Algorithm,
    /// Message digest algorithm: `"sha512"` or `"sha256"`.
    pub digest_algorithm: &'static str,
    /// DER of the signer (seal) certificate.
    pub signer_cert_der: Vec<u8>,
    /// DER of every certificate inside the CMS.
    pub certificates: Vec<Vec<u8>>,
    /// Length of the signed revision (the end of the second byte range).
    pub signed_revision_len: usize,
    /// What later revisions changed.
    pub later_revisions: LaterRevisions,
    /// DER certificates in the `/DSS`, if any.
    pub dss_certs: Vec<Vec<u8>>,
    /// DER CRLs in the `/DSS`, if any.
    pub dss_crls: Vec<Vec<u8>>,
    /// Text entries of the document information dictionary (at most [`MAX_INFO_ENTRIES`],
    /// each value at most [`MAX_INFO_VALUE`] bytes), as the latest revision has them.
    pub info: std::collections::BTreeMap<String, String>,
}

/// Most document information entries [`inspect`] reads.
pub const MAX_INFO_ENTRIES: usize = 64;
/// Longest document information value [`inspect`] reads, in bytes.
pub const MAX_INFO_VALUE: usize = 4096;

/// Loads a PDF within the bounds of [`limits::load`] (streams, objects, decompressed bytes).
pub(crate) fn load(bytes: &[u8]) -> Result<Document, PdfError> {
    limits::load(bytes)
}

/// Finds the first signature of `pdf`, checks that its byte ranges cover the whole signed
/// revision except `/Contents`, verifies the CMS (digest and signature) with the embedded
/// signer certificate, and reports what later revisions changed.
///
/// Errors name the first failed check: [`PdfError::NotSigned`], [`PdfError::BadByteRange`],
/// [`PdfError::DigestMismatch`], [`PdfError::BadSignature`], ….
pub fn inspect(pdf: &[u8]) -> Result<SignatureInfo, PdfError> {
    if pdf.len() > MAX_INSPECT_BYTES {
        return Err(PdfError::InputTooLarge { max: MAX_INSPECT_BYTES, got: pdf.len() });
    }
    let doc = load(pdf)?;
    let (field_name, sig) = find_signature(&doc)?;
    let string = |key: &[u8]| match sig.get(key) {
        Ok(Object::String(bytes, _)) => Some(decode_text_string(bytes)),
        _ => None,
    };
    let sub_filter = sig
        .get(b"SubFilter")
        .and_then(Object::as_name)
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .unwrap_or_default();
    if sub_filter != "ETSI.CAdES.detached" {
        return Err(PdfError::UnsupportedSubFilter(sub_filter));
    }
    let byte_range = byte_range(&sig, pdf.len())?;
    let [a, b, c, d] = byte_range;
    let cms_der = contents(pdf, &sig, byte_range)?;
    let verified = cms::verify(&cms_der, &[&pdf[a..a + b], &pdf[c..c + d]])?;

    let signed_revision_len = c + d;
    let later_revisions = if signed_revision_len == pdf.len() {
        LaterRevisions::None
    } else {
        later_revisions(&load(&pdf[..signed_revision_len])?, &doc)
    };
    let (dss_certs, dss_crls) = dss_contents(&doc);
    let info = info_strings(&doc);
    let signing_time_raw = string(b"M");
    Ok(SignatureInfo {
        field_name,
        sub_filter,
        byte_range,
        signing_time: signing_time_raw.as_deref().and_then(parse_pdf_date),
        signing_time_raw,
        reason: string(b"Reason"),
        location: string(b"Location"),
        name: string(b"Name"),
        algorithm: verified.algorithm,
        digest_algorithm: verified.digest.name(),
        signer_cert_der: verified.signer_cert_der,
        certificates: verified.certificates,
        signed_revision_len,
        later_revisions,
        dss_certs,
        dss_crls,
        info,
    })
}

/// The text entries of the trailer's `/Info`, bounded.
fn info_strings(doc: &Document) -> std::collections::BTreeMap<String, String> {
    let Some(info) = doc.trailer.get(b"Info").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_dict().ok())
    else {
        return Default::default();
    };
    info.iter()
        .filter_map(|(k, v)| match v {
            Object::String(bytes, _) if bytes.len() <= MAX_INFO_VALUE => {
                Some((String::from_utf8_lossy(k).into_owned(), decode_text_string(bytes)))
            }
            _ => None,
        })
        .take(MAX_INFO_ENTRIES)
        .collect()
}

/// Follows a reference (one level; lopdf resolves chains itself, bounded).
fn deref<'a>(doc: &'a Document, o: &'a Object) -> Option<&'a Object> {
    doc.dereference(o).ok().map(|(_, o)| o)
}

/// The first signature field with a value: its name and its signature dictionary.
fn find_signature(doc: &Document) -> Result<(Option<String>, Dictionary), PdfError> {
    let form = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"AcroForm").ok())
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok());
    let fields =
        form.and_then(|f| f.get(b"Fields").ok()).and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok());
    let mut stack: Vec<(&Object, usize)> =
        fields.map(|f| f.iter().map(|o| (o, 0)).collect()).unwrap_or_default();
    let mut seen = 0;
    while let Some((field, depth)) = stack.pop() {
        seen += 1;
        if seen > MAX_FIELDS {
            break;
        }
        let Some(dict) = deref(doc, field).and_then(|o| o.as_dict().ok()) else { continue };
        let is_sig = dict.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig");
        if is_sig
            && let Some(v) = dict.get(b"V").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_dict().ok())
        {
            let name = match dict.get(b"T") {
                Ok(Object::String(bytes, _)) => Some(decode_text_string(bytes)),
                _ => None,
            };
            return Ok((name, v.clone()));
        }
        if depth < MAX_FIELD_DEPTH
            && let Some(kids) =
                dict.get(b"Kids").ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok())
        {
            stack.extend(kids.iter().rev().map(|k| (k, depth + 1)));
        }
    }
    Err(PdfError::NotSigned)
}

/// The `/ByteRange`, checked: it starts at 0, leaves exactly a hex string `<…>` out, and
/// ends the signed revision at a `%%EOF`.
fn byte_range(sig: &Dictionary, len: usize) -> Result<[usize; 4], PdfError> {
    let bad = |m: &str| PdfError::BadByteRange(m.to_string());
    let arr = sig.get(b"ByteRange").and_then(Object::as_array).map_err(|_| bad("missing"))?;
    let nums: Vec<usize> = arr
        .iter()
        .map(|o| o.as_i64().ok().and_then(|n| usize::try_from(n).ok()))
        .collect::<Option<_>>()
        .ok_or_else(|| bad("not four non-negative integers"))?;
    let [a, b, c, d] = nums[..] else { return Err(bad("not four numbers")) };
    if a != 0 {
        return Err(bad("does not start at the beginning of the file"));
    }
    let gap_start = b;
    let end = c.checked_add(d).ok_or_else(|| bad("overflows"))?;
    if b == 0 || c <= gap_start + 1 || end > len {
        return Err(bad("ranges overlap or run past the end of the file"));
    }
    Ok([a, b, c, d])
}

/// The CMS bytes: the hex string in the byte-range gap, which must be the `/Contents` value.
fn contents(pdf: &[u8], sig: &Dictionary, [_, b, c, d]: [usize; 4]) -> Result<Vec<u8>, PdfError> {
    let bad = |m: &str| PdfError::BadByteRange(m.to_string());
    let gap = &pdf[b..c];
    let (Some(b'<'), Some(b'>')) = (gap.first(), gap.last()) else {
        return Err(bad("the excluded bytes are not a hex string"));
    };
    let hex = &gap[1..gap.len() - 1];
    if !hex.len().is_multiple_of(2) || hex.len() / 2 > MAX_CMS_BYTES {
        return Err(bad("the excluded hex string has a bad length"));
    }
    let mut raw = Vec::with_capacity(hex.len() / 2);
    for pair in hex.chunks_exact(2) {
        let nib = |h: u8| char::from(h).to_digit(16);
        match (nib(pair[0]), nib(pair[1])) {
            // Two hex digits make one byte (< 256).
            (Some(hi), Some(lo)) => raw.push((hi * 16 + lo) as u8),
            _ => return Err(bad("the excluded bytes are not a hex string")),
        }
    }
    match sig.get(b"Contents") {
        Ok(Object::String(bytes, _)) if *bytes == raw => {}
        _ => return Err(bad("/Contents is not the string the byte ranges leave out")),
    }
    let signed_end = c + d;
    let tail = &pdf[..signed_end];
    let trimmed = tail
        .strip_suffix(b"\r\n")
        .or_else(|| tail.strip_suffix(b"\n"))
        .or_else(|| tail.strip_suffix(b"\r"))
        .unwrap_or(tail);
    if !trimmed.ends_with(b"%%EOF") {
        return Err(bad("the signed bytes do not end a revision (%%EOF)"));
    }
    // The DER is followed by zero padding: keep exactly the outer TLV.
    let len = der_len(&raw).ok_or_else(|| PdfError::BadCms("not a DER structure".into()))?;
    if raw[len..].iter().any(|&z| z != 0) {
        return Err(PdfError::BadCms("bytes other than padding after the CMS".into()));
    }
    raw.truncate(len);
    Ok(raw)
}

/// Total length of the DER TLV at the start of `der`, if it fits.
fn der_len(der: &[u8]) -> Option<usize> {
    let first = *der.get(1)?;
    let (len, header) = if first & 0x80 == 0 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let len = der.get(2..2 + n)?.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        (len, 2 + n)
    };
    let total = len.checked_add(header)?;
    (total <= der.len()).then_some(total)
}

/// Compares the signed revision with the whole file.
fn later_revisions(signed: &Document, full: &Document) -> LaterRevisions {
    let catalog_id = full.trailer.get(b"Root").and_then(Object::as_reference).ok();
    let dss_refs = dss_reachable(full);
    let mut changes = Vec::new();
    for (id, obj) in &full.objects {
        if is_xref_stream(obj) {
            continue;
        }
        match signed.objects.get(id) {
            Some(old) if old == obj => {}
            Some(old) if Some(*id) == catalog_id && only_dss_added(old, obj) => {}
            Some(_) => changes.push(format!("object {} {} changed", id.0, id.1)),
            None if dss_refs.contains(id) => {}
            None => changes.push(format!("object {} {} added", id.0, id.1)),
        }
    }
    if changes.is_empty() {
        if dss_refs.is_empty() {
            LaterRevisions::Other(vec!["revision without changes".into()])
        } else {
            LaterRevisions::DssOnly
        }
    } else {
        LaterRevisions::Other(changes)
    }
}

fn is_xref_stream(obj: &Object) -> bool {
    obj.as_stream().is_ok_and(|s| s.dict.get(b"Type").and_then(Object::as_name).is_ok_and(|n| n == b"XRef"))
}

/// Whether `new` is `old` plus a `/DSS` (and possibly `/Extensions`) entry.
fn only_dss_added(old: &Object, new: &Object) -> bool {
    let (Ok(old), Ok(new)) = (old.as_dict(), new.as_dict()) else { return false };
    if !new.has(b"DSS") {
        return false;
    }
    let strip = |d: &Dictionary| -> HashMap<Vec<u8>, Object> {
        d.iter()
            .filter(|(k, _)| k.as_slice() != b"DSS" && k.as_slice() != b"Extensions")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    };
    strip(old) == strip(new)
}

/// The ids of the `/DSS` dictionary and every object it references, transitively (bounded).
fn dss_reachable(doc: &Document) -> BTreeSet<ObjectId> {
    let mut out = BTreeSet::new();
    let Some(root) = doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()) else { return out };
    let mut stack = vec![root.clone()];
    while let Some(o) = stack.pop() {
        if out.len() > MAX_DSS_OBJECTS {
            break;
        }
        match o {
            Object::Reference(id) => {
                if out.insert(id)
                    && let Ok(target) = doc.get_object(id)
                {
                    stack.push(target.clone());
                }
            }
            Object::Array(items) => stack.extend(items),
            Object::Dictionary(d) => stack.extend(d.iter().map(|(_, v)| v.clone())),
            Object::Stream(s) => stack.extend(s.dict.iter().map(|(_, v)| v.clone())),
            _ => {}
        }
    }
    out
}

/// The certificates and CRLs the `/DSS` holds (streams that cannot be decoded are skipped).
fn dss_contents(doc: &Document) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let Some(dss) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"DSS").ok())
        .and_then(|o| deref(doc, o))
        .and_then(|o| o.as_dict().ok())
    else {
        return (Vec::new(), Vec::new());
    };
    // Decoded bytes left for both lists: many streams each under the per-stream limit
    // would otherwise add up without bound.
    let mut left = MAX_DSS_BYTES;
    let mut list = |key: &[u8]| -> Vec<Vec<u8>> {
        let items = dss.get(key).ok().and_then(|o| deref(doc, o)).and_then(|o| o.as_array().ok());
        let mut out = Vec::new();
        for item in items.into_iter().flatten().take(MAX_DSS_OBJECTS) {
            let Some(stream) = deref(doc, item).and_then(|o| o.as_stream().ok()) else { continue };
            let Ok(bytes) = stream.decompressed_content_with_limit(left.min(MAX_CMS_BYTES * 8)) else {
                continue;
            };
            left -= bytes.len();
            out.push(bytes);
        }
        out
    };
    let certs = list(b"Certs");
    (certs, list(b"CRLs"))
}

/// Parses a PDF date `D:YYYYMMDDHHmmSS+HH'mm'` (trailing parts optional, `Z` for UTC).
pub(crate) fn parse_pdf_date(s: &str) -> Option<OffsetDateTime> {
    let s = s.strip_prefix("D:").unwrap_or(s);
    let digits = |from: usize, len: usize, default: u32| -> Option<u32> {
        match s.get(from..from + len) {
            Some(part) if part.bytes().all(|b| b.is_ascii_digit()) => part.parse().ok(),
            Some(_) => None,
            None if from >= s.len() => Some(default),
            None => None,
        }
    };
    let year = i32::try_from(digits(0, 4, u32::MAX)?).ok()?;
    let month = Month::try_from(u8::try_from(digits(4, 2, 1)?).ok()?).ok()?;
    let day = u8::try_from(digits(6, 2, 1)?).ok()?;
    let hour = u8::try_from(digits(8, 2, 0)?).ok()?;
    let minute = u8::try_from(digits(10, 2, 0)?).ok()?;
    let second = u8::try_from(digits(12, 2, 0)?).ok()?;
    let date = Date::from_calendar_date(year, month, day).ok()?;
    let time = Time::from_hms(hour, minute, second).ok()?;
    let rest = s.get(14..).unwrap_or("");
    let offset = match rest.as_bytes().first() {
        None | Some(b'Z') => UtcOffset::UTC,
        Some(&sign @ (b'+' | b'-')) => {
            let tz: String = rest[1..].chars().filter(char::is_ascii_digit).collect();
            let h: i8 = tz.get(0..2)?.parse().ok()?;
            let m: i8 = tz.get(2..4).map_or(Some(0), |m| m.parse().ok())?;
            let k = if sign == b'-' { -1 } else { 1 };
            UtcOffset::from_hms(k * h, k * m, 0).ok()?
        }
        Some(_) => return None,
    };
    Some(PrimitiveDateTime::new(date, time).assume_offset(offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pdf_dates_parse() {
        let t = parse_pdf_date("D:20261122103005+08'00'").unwrap();
        assert_eq!(t, time::macros::datetime!(2026-11-22 10:30:05 +08:00));
        assert_eq!(parse_pdf_date("D:2026").unwrap(), time::macros::datetime!(2026-01-01 00:00 UTC));
        assert_eq!(
            parse_pdf_date("D:20260102030405Z").unwrap(),
            time::macros::datetime!(2026-01-02 03:04:05 UTC)
        );
        for bad in ["", "D:", "D:20261322", "D:2026112210300x", "D:20261122103005*"] {
            assert!(parse_pdf_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn der_lengths() {
        assert_eq!(der_len(&[0x30, 0x03, 1, 2, 3, 0, 0]), Some(5));
        assert_eq!(der_len(&[0x30, 0x82, 0x00, 0x02, 1, 2]), Some(6));
        assert_eq!(der_len(&[0x30, 0x82, 0x01]), None);
        assert_eq!(der_len(&[0x30, 0x05, 1]), None);
        assert_eq!(der_len(&[0x30, 0x80]), None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        for input in [&b""[..], b"%PDF-1.7\n", b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF"]
        {
            assert!(inspect(input).is_err());
        }
    }
}
