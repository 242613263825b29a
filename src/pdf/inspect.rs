//! Reads and checks the signature of an uploaded PDF: byte ranges, digest, CMS signature,
//! and what revisions after the signature changed.
//!
//! Trust (chain to a root, revocation, validity at the signing time) is not decided here:
//! the caller gets the signer certificate and the certificates and CRLs found, and asks the
//! PKI module. Every input is untrusted: sizes are bounded and nothing panics.

use lopdf::{Dictionary, Document, Object};
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, UtcOffset};

use super::PdfError;
use super::revisions::{self, deref};
use super::writer::decode_text_string;
use super::{cms, limits};

/// Largest PDF [`inspect`] reads, in bytes.
pub const MAX_INSPECT_BYTES: usize = 32 * 1024 * 1024;

/// Largest CMS taken from `/Contents`, in bytes.
const MAX_CMS_BYTES: usize = 512 * 1024;

/// What revisions appended after the signed revision changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LaterRevisions {
    /// The signature covers the whole file.
    None,
    /// Later revisions only add validation data: a `/DSS` and the objects it references.
    DssOnly,
    /// Later revisions only add validation data and document time-stamps (PAdES B-LTA):
    /// invisible signature fields whose values are `/DocTimeStamp`s (this many).
    Archival {
        /// How many document time-stamps were added.
        doc_timestamps: usize,
    },
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
    /// The CMS signature value (what [`Self::signature_timestamp`] stamps).
    pub signature_value: Vec<u8>,
    /// The signature time-stamp token (PAdES B-T), DER, as found: not verified here.
    pub signature_timestamp: Option<Vec<u8>>,
    /// The document time-stamps after the signature (PAdES B-LTA), oldest first; their byte
    /// ranges are checked, their tokens not (that needs the trusted roots).
    pub doc_timestamps: Vec<DocTimeStamp>,
    /// Text entries of the document information dictionary (at most [`MAX_INFO_ENTRIES`],
    /// each value at most [`MAX_INFO_VALUE`] bytes), as the latest revision has them.
    pub info: std::collections::BTreeMap<String, String>,
}

/// A document time-stamp: an RFC 3161 token over every byte of its revision but itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DocTimeStamp {
    /// The field's name (`/T`).
    pub field_name: Option<String>,
    /// The `/ByteRange`, checked as a signature's.
    pub byte_range: [usize; 4],
    /// The DER `TimeStampToken` from `/Contents`.
    pub token_der: Vec<u8>,
}

impl DocTimeStamp {
    /// The length of the revision it stamps.
    pub fn revision_len(&self) -> usize {
        self.byte_range[2] + self.byte_range[3]
    }

    /// The stamped bytes of `pdf` (the file it was read from), in two parts.
    pub fn parts<'p>(&self, pdf: &'p [u8]) -> [&'p [u8]; 2] {
        let [a, b, c, d] = self.byte_range;
        [&pdf[a..a + b], &pdf[c..c + d]]
    }
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
    let fields = revisions::signature_fields(&doc);
    let seal_field = fields.iter().find(|f| !f.is_doc_timestamp()).ok_or(PdfError::NotSigned)?;
    let (field_name, sig) = (seal_field.name.clone(), &seal_field.value);
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
    let byte_range = byte_range(sig, pdf.len())?;
    let [a, b, c, d] = byte_range;
    let cms_der = contents(pdf, sig, byte_range)?;
    let verified = cms::verify(&cms_der, &[&pdf[a..a + b], &pdf[c..c + d]])?;

    let signed_revision_len = c + d;
    let stamp_fields: Vec<&revisions::SigField> = fields.iter().filter(|f| f.is_doc_timestamp()).collect();
    let doc_timestamps = doc_timestamps(pdf, &stamp_fields, signed_revision_len)?;
    let later_revisions = if signed_revision_len == pdf.len() {
        LaterRevisions::None
    } else {
        let signed = load(&pdf[..signed_revision_len])?;
        let stamp_fields: Vec<&revisions::SigField> = stamp_fields
            .into_iter()
            .filter(|f| f.id.is_some_and(|id| !signed.objects.contains_key(&id)))
            .collect();
        revisions::later_revisions(&signed, &doc, &stamp_fields)
    };
    let (dss_certs, dss_crls) = revisions::dss_contents(&doc);
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
        signature_value: verified.signature_value,
        signature_timestamp: verified.signature_timestamp,
        doc_timestamps,
        info,
    })
}

/// The document time-stamps appended after the signed revision, oldest first, each with
/// its byte range and token checked as the signature's are. One that is broken (bad byte
/// range, not a hex string, not DER) is an error: it is not validation data.
fn doc_timestamps(
    pdf: &[u8],
    fields: &[&revisions::SigField],
    signed_revision_len: usize,
) -> Result<Vec<DocTimeStamp>, PdfError> {
    if fields.len() > super::MAX_DOC_TIMESTAMPS {
        return Err(PdfError::TooLong {
            what: "document time-stamps",
            max: super::MAX_DOC_TIMESTAMPS,
            got: fields.len(),
        });
    }
    let mut out = Vec::new();
    for f in fields {
        let byte_range = byte_range(&f.value, pdf.len())?;
        if byte_range[2] + byte_range[3] <= signed_revision_len {
            // Before the signature: not evidence of anything about it.
            continue;
        }
        let token_der = contents(pdf, &f.value, byte_range)?;
        out.push(DocTimeStamp { field_name: f.name.clone(), byte_range, token_der });
    }
    out.sort_by_key(DocTimeStamp::revision_len);
    Ok(out)
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
