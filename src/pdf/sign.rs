//! PAdES baseline B-B signing as an incremental update: signature field + widget showing the
//! seal, `/Sig` dictionary with a reserved `/Contents`, then the CMS patched in.

use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId, Stream, StringFormat};
use time::OffsetDateTime;

use super::info::pdf_date;
use super::limits::MAX_SIGN_INPUT;
use super::skeleton::Skeleton;
use super::writer::{Content, text_string};
use super::{PdfError, RectMm, cms, pt};
use crate::seal::SealDrawing;
use crate::signing::SealSigner;
use crate::tsa::Stamper;

/// Fewest bytes reserved for the DER CMS in `/Contents` (written as twice as many hex digits).
pub const MIN_CONTENTS_RESERVED: usize = 1024;

/// Most bytes ever reserved for the CMS.
const MAX_CONTENTS_RESERVED: usize = 64 * 1024;

/// Bytes of a CMS besides its certificates and the seal certificate's issuer and serial
/// (written twice): content type, digest (at most 64 bytes), signed attributes, algorithm
/// identifiers, signature (at most 72 bytes) and the DER around them, with room to spare.
const CMS_STRUCTURE: usize = 512;

/// The same for a time-stamp token, which also holds its TSTInfo.
const TOKEN_STRUCTURE: usize = 640;

/// The DER bytes of a certificate's issuer name and serial number, each written twice in a
/// CMS signed with it (signer identifier, ESS certificate id); the whole certificate if it
/// does not parse (it is then refused when signing).
fn issuer_serial_len(cert: &[u8]) -> usize {
    use der::Encode as _;
    crate::pki::signing_cert(cert)
        .ok()
        .and_then(|c| {
            let tbs = c.tbs_certificate();
            let issuer = usize::try_from(tbs.issuer().encoded_len().ok()?).ok()?;
            let serial = usize::try_from(tbs.serial_number().encoded_len().ok()?).ok()?;
            Some(issuer + serial)
        })
        .unwrap_or(cert.len())
}

/// Bytes a time-stamp token of `stamper` takes at most: its TSA certificate, that
/// certificate's issuer and serial twice, and the structure.
pub(crate) fn token_room(stamper: &dyn Stamper) -> usize {
    let chain = stamper.chain();
    let cert = chain.first().map_or(&[][..], Vec::as_slice);
    cert.len() + 2 * issuer_serial_len(cert) + TOKEN_STRUCTURE
}

/// Bytes to reserve for a CMS carrying `chain`, and a time-stamp token when `stamper`.
/// Zero digits left over are bytes every licence stores for nothing, so the bound is made
/// of what the CMS holds and measured against real signatures of each algorithm in the
/// tests (`reservations_fit_and_waste_little`). A CMS that did not fit would be refused
/// with [`PdfError::SignatureTooLarge`], never written cut.
fn reservation(chain: &[Vec<u8>], stamper: Option<&dyn Stamper>) -> usize {
    let certs = chain.iter().map(Vec::len).sum::<usize>();
    let leaf = chain.first().map_or(0, |c| issuer_serial_len(c));
    let token = stamper.map_or(0, token_room);
    (certs + 2 * leaf + CMS_STRUCTURE + token).clamp(MIN_CONTENTS_RESERVED, MAX_CONTENTS_RESERVED)
}

/// The `/ByteRange` written first; patched with the real offsets, padded with spaces.
pub(super) const BYTE_RANGE_PLACEHOLDER: [i64; 4] = [0, 9_999_999_999, 9_999_999_999, 9_999_999_999];

/// What [`sign`] needs besides the PDF.
#[derive(Debug)]
pub struct SignParams<'a> {
    /// The seal key.
    pub signer: &'a SealSigner,
    /// DER certificates: the seal certificate first, then its root.
    pub cert_chain_der: Vec<Vec<u8>>,
    /// The signing time, written to `/M` (PAdES puts no signing-time in the CMS).
    pub signing_time: OffsetDateTime,
    /// The seal drawn as the widget's appearance.
    pub seal: &'a SealDrawing,
    /// `seal` made into the appearance stream once ([`SealAppearance::new`]) and reused for
    /// every signature; `None`, or one made for another rectangle, draws `seal` afresh.
    pub appearance: Option<&'a SealAppearance>,
    /// Where the widget goes on page 1 (from [`super::RenderedPdf::seal_rect_mm`]).
    pub seal_rect_mm: RectMm,
    /// Optional `/Reason`.
    pub reason: Option<String>,
    /// Optional `/Location`.
    pub location: Option<String>,
    /// Optional `/Name` (the signer's name as shown by viewers).
    pub name: Option<String>,
    /// The time-stamping authority that stamps the signature value (PAdES B-T); `None`:
    /// B-B, the signing time only as claimed in `/M`.
    pub stamper: Option<&'a dyn Stamper>,
}

/// Signs `pdf` with a visible seal as PAdES B-B, appending one incremental update.
///
/// Fails if the PDF cannot be read, is already signed, has no page, the rectangle is
/// outside the page, the key does not match the certificate, or the CMS does not fit.
pub fn sign(pdf: &[u8], params: &SignParams<'_>) -> Result<Vec<u8>, PdfError> {
    check_input(pdf, params)?;
    let doc = super::inspect::load(pdf)?;
    if has_signature_field(&doc) {
        return Err(PdfError::AlreadySigned);
    }
    let page_id = *doc.get_pages().get(&1).ok_or(PdfError::NoPage)?;
    Ok(sign_doc(pdf, doc, page_id, params)?.0)
}

/// The validation data [`sign_rendered`] adds in a `/DSS` update (see [`super::add_dss`]).
#[derive(Debug, Clone, Copy)]
pub struct Dss<'a> {
    /// Certificates, DER.
    pub certs: &'a [Vec<u8>],
    /// CRLs, DER.
    pub crls: &'a [Vec<u8>],
    /// Whether a document time-stamp from [`SignParams::stamper`] follows the DSS update
    /// (PAdES B-LTA: it protects the DSS); ignored without a stamper.
    pub doc_timestamp: bool,
}

/// Signs a PDF that [`super::render`] has just made, as [`sign`] does, and then, with `dss`,
/// appends the DSS update as [`super::add_dss`] does — the issuing path. What the renderer
/// and the signature update wrote is known, so neither PDF is parsed again.
pub fn sign_rendered(
    rendered: &super::RenderedPdf,
    params: &SignParams<'_>,
    dss: Option<Dss<'_>>,
) -> Result<Vec<u8>, PdfError> {
    check_input(&rendered.pdf, params)?;
    let skeleton = &rendered.skeleton;
    let (signed, skeleton) = sign_doc(&rendered.pdf, skeleton.document(), skeleton.page_id, params)?;
    let Some(dss) = dss else { return Ok(signed) };
    let (with_dss, skeleton) = super::dss::add_dss_to(signed, &skeleton, dss.certs, dss.crls)?;
    match params.stamper {
        Some(stamper) if dss.doc_timestamp => {
            let imprint = crate::tsa::ImprintAlg::for_document(params.signer.algorithm());
            super::doc_timestamp::add_doc_timestamp_to(with_dss, &skeleton, stamper, imprint)
        }
        _ => Ok(with_dss),
    }
}

fn check_input(pdf: &[u8], params: &SignParams<'_>) -> Result<(), PdfError> {
    if pdf.len() > MAX_SIGN_INPUT {
        return Err(PdfError::InputTooLarge { max: MAX_SIGN_INPUT, got: pdf.len() });
    }
    if params.cert_chain_der.is_empty() {
        return Err(PdfError::EmptyChain);
    }
    Ok(())
}

/// Signs `pdf`, of which `doc` holds (at least) the trailer, catalog and page; returns the
/// signed PDF and what a further update needs of it.
fn sign_doc(
    pdf: &[u8],
    doc: Document,
    page_id: ObjectId,
    params: &SignParams<'_>,
) -> Result<(Vec<u8>, Skeleton), PdfError> {
    let catalog_id = doc
        .trailer
        .get(b"Root")
        .and_then(Object::as_reference)
        .map_err(|e| PdfError::Parse(e.to_string()))?;
    let rect = page_rect(&doc, page_id, params.seal_rect_mm)?;

    let mut inc = IncrementalDocument::create_from(pdf.to_vec(), doc);
    let nd = &mut inc.new_document;
    let (w, h) = (rect[2] - rect[0], rect[3] - rect[1]);
    let ap = match params.appearance {
        Some(a) if a.width == w && a.height == h => a.stream.clone(),
        _ => appearance(params.seal, w, h),
    };
    let ap_id = nd.add_object(ap);

    let mut sig = Dictionary::new();
    sig.set("Type", Object::Name(b"Sig".to_vec()));
    sig.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    sig.set("SubFilter", Object::Name(b"ETSI.CAdES.detached".to_vec()));
    sig.set("ByteRange", Object::Array(BYTE_RANGE_PLACEHOLDER.map(Object::Integer).to_vec()));
    let reserved = reservation(&params.cert_chain_der, params.stamper);
    sig.set("Contents", contents_placeholder(reserved));
    sig.set("M", Object::string_literal(pdf_date(params.signing_time)));
    for (key, value) in [("Name", &params.name), ("Reason", &params.reason), ("Location", &params.location)] {
        if let Some(v) = value {
            sig.set(key, text_string(v));
        }
    }
    let sig_id = nd.add_object(sig);

    let widget_id = nd.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Annot".to_vec())),
        ("Subtype", Object::Name(b"Widget".to_vec())),
        ("FT", Object::Name(b"Sig".to_vec())),
        ("T", Object::string_literal("Seal1")),
        ("V", Object::Reference(sig_id)),
        ("F", Object::Integer(4 | 128)),
        ("P", Object::Reference(page_id)),
        ("Rect", Object::Array(rect.iter().map(|v| Object::Real(*v)).collect())),
        ("AP", Object::Dictionary(Dictionary::from_iter([("N", Object::Reference(ap_id))]))),
    ]));

    add_annotation(&mut inc, page_id, widget_id)?;
    inc.opt_clone_object_to_new_document(catalog_id).map_err(|e| PdfError::Parse(e.to_string()))?;
    let catalog =
        inc.new_document.get_dictionary_mut(catalog_id).map_err(|e| PdfError::Parse(e.to_string()))?;
    catalog.set(
        "AcroForm",
        Object::Dictionary(Dictionary::from_iter([
            ("Fields", Object::Array(vec![Object::Reference(widget_id)])),
            ("SigFlags", Object::Integer(3)),
        ])),
    );

    let mut out = Vec::with_capacity(pdf.len() + 2 * reserved + 16 * 1024);
    inc.save_to(&mut out).map_err(|e| PdfError::Write(e.to_string()))?;
    patch_contents(&mut out, pdf.len(), reserved, |parts| {
        let digest = cms::DigestAlg::for_algorithm(params.signer.algorithm()).digest(parts);
        cms::sign(params.signer, &params.cert_chain_der, &digest, params.stamper)
    })?;
    let skeleton = Skeleton::of_saved(&inc.new_document, &out, page_id, &[catalog_id, page_id])?;
    Ok((out, skeleton))
}

/// Whether any AcroForm field of `doc` is a signature field.
fn has_signature_field(doc: &Document) -> bool {
    let Ok(catalog) = doc.catalog() else { return false };
    let Ok(form) = catalog.get(b"AcroForm").and_then(|o| doc.dereference(o).map(|(_, o)| o)) else {
        return false;
    };
    let Ok(fields) =
        form.as_dict().and_then(|f| f.get(b"Fields")).and_then(|o| doc.dereference(o).map(|(_, o)| o))
    else {
        return false;
    };
    fields.as_array().is_ok_and(|a| {
        a.iter().any(|f| {
            doc.dereference(f)
                .ok()
                .and_then(|(_, o)| o.as_dict().ok())
                .is_some_and(|d| d.get(b"FT").and_then(Object::as_name).is_ok_and(|n| n == b"Sig"))
        })
    })
}

/// A rectangle in millimetres as `[x0, y0, x1, y1]` in points.
fn rect_pt(r: RectMm) -> [f32; 4] {
    [pt(r.x), pt(r.y), pt(r.x + r.width), pt(r.y + r.height)]
}

/// A seal's signature appearance (a Form XObject) for a widget rectangle, made once per
/// seal and reused: drawing and compressing the seal's outlines was the largest part of
/// signing.
#[derive(Debug, Clone, PartialEq)]
pub struct SealAppearance {
    width: f32,
    height: f32,
    stream: Stream,
}

impl SealAppearance {
    /// The appearance of `seal` filling a widget at `rect_mm` (as given to [`sign`] in
    /// [`SignParams::seal_rect_mm`]).
    pub fn new(seal: &SealDrawing, rect_mm: RectMm) -> Self {
        let r = rect_pt(rect_mm);
        let (width, height) = (r[2] - r[0], r[3] - r[1]);
        Self { width, height, stream: appearance(seal, width, height) }
    }
}

/// The widget rectangle in points, checked against the page's media box.
fn page_rect(doc: &Document, page_id: ObjectId, r: RectMm) -> Result<[f32; 4], PdfError> {
    let rect = rect_pt(r);
    if !rect.iter().all(|v| v.is_finite()) || r.width <= 0.0 || r.height <= 0.0 {
        return Err(PdfError::BadSealRect);
    }
    let media = doc
        .get_dictionary(page_id)
        .and_then(|p| p.get(b"MediaBox"))
        .and_then(Object::as_array)
        .map(|a| a.iter().filter_map(|o| o.as_float().ok()).collect::<Vec<f32>>())
        .unwrap_or_default();
    if let [x0, y0, x1, y1] = media[..]
        && (rect[0] < x0 - 0.5 || rect[1] < y0 - 0.5 || rect[2] > x1 + 0.5 || rect[3] > y1 + 0.5)
    {
        return Err(PdfError::BadSealRect);
    }
    Ok(rect)
}

/// The widget's normal appearance: the seal filling a `w` × `h` point box, multiplied onto
/// the page so the issuer name and date show through the red as they do on paper.
fn appearance(seal: &SealDrawing, w: f32, h: f32) -> Stream {
    // Seal coordinates are millimetres: two decimals are a hundredth of a millimetre.
    let mut c = Content::with_decimals(2);
    c.raw("/GS0 gs\n");
    c.seal(seal, w / 2.0, h / 2.0, w.min(h));
    let gs = Dictionary::from_iter([
        ("Type", Object::Name(b"ExtGState".to_vec())),
        ("BM", Object::Name(b"Multiply".to_vec())),
    ]);
    let resources = Dictionary::from_iter([(
        "ExtGState",
        Object::Dictionary(Dictionary::from_iter([("GS0", Object::Dictionary(gs))])),
    )]);
    let dict = Dictionary::from_iter([
        ("Type", Object::Name(b"XObject".to_vec())),
        ("Subtype", Object::Name(b"Form".to_vec())),
        (
            "BBox",
            Object::Array(vec![Object::Integer(0), Object::Integer(0), Object::Real(w), Object::Real(h)]),
        ),
        ("Resources", Object::Dictionary(resources)),
    ]);
    super::flate_stream(dict, c.into_bytes())
}

/// Appends `annot` to the page's `/Annots` (a direct array or a referenced one).
pub(super) fn add_annotation(
    inc: &mut IncrementalDocument,
    page_id: ObjectId,
    annot: ObjectId,
) -> Result<(), PdfError> {
    let parse = |e: lopdf::Error| PdfError::Parse(e.to_string());
    inc.opt_clone_object_to_new_document(page_id).map_err(parse)?;
    let annots_ref = inc
        .new_document
        .get_dictionary(page_id)
        .map_err(parse)?
        .get(b"Annots")
        .ok()
        .and_then(|o| o.as_reference().ok());
    if let Some(id) = annots_ref {
        inc.opt_clone_object_to_new_document(id).map_err(parse)?;
        let arr = inc.new_document.get_object_mut(id).and_then(Object::as_array_mut).map_err(parse)?;
        arr.push(Object::Reference(annot));
        return Ok(());
    }
    let page = inc.new_document.get_dictionary_mut(page_id).map_err(parse)?;
    match page.get_mut(b"Annots").and_then(Object::as_array_mut) {
        Ok(arr) => arr.push(Object::Reference(annot)),
        Err(_) => page.set("Annots", Object::Array(vec![Object::Reference(annot)])),
    }
    Ok(())
}

/// The `/Contents` value written before the signature exists: room for `reserved` bytes of
/// DER as hex digits. It is written as a literal string of `0` digits, which lopdf copies
/// as is, where a hex string of zero bytes goes through its formatter digit by digit;
/// [`patch_contents`] turns its parentheses into angle brackets, giving the same bytes.
pub(super) fn contents_placeholder(reserved: usize) -> Object {
    Object::String(vec![b'0'; 2 * reserved], StringFormat::Literal)
}

/// Finds `needle` in `hay` from `from` on.
pub(crate) fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?.windows(needle.len()).position(|w| w == needle).map(|i| i + from)
}

/// Writes the real `/ByteRange` of the update that starts at `prev_len`, has `make` turn
/// the two signed byte ranges into the DER for `/Contents` (a CMS signature, a time-stamp
/// token) and writes it there, as the hex string [`contents_placeholder`] made room for.
pub(crate) fn patch_contents(
    out: &mut [u8],
    prev_len: usize,
    reserved: usize,
    make: impl FnOnce(&[&[u8]]) -> Result<Vec<u8>, PdfError>,
) -> Result<(), PdfError> {
    let placeholder = format!(
        "[{} {} {} {}]",
        BYTE_RANGE_PLACEHOLDER[0],
        BYTE_RANGE_PLACEHOLDER[1],
        BYTE_RANGE_PLACEHOLDER[2],
        BYTE_RANGE_PLACEHOLDER[3]
    );
    let br_at = find(out, placeholder.as_bytes(), prev_len)
        .ok_or_else(|| PdfError::Write("ByteRange placeholder not found".into()))?;
    let hex_len = 2 * reserved;
    let mut zeros = vec![b'('];
    zeros.extend(std::iter::repeat_n(b'0', hex_len));
    zeros.push(b')');
    let start = find(out, &zeros, prev_len)
        .ok_or_else(|| PdfError::Write("Contents placeholder not found".into()))?;
    let end = start + zeros.len();
    out[start] = b'<';
    out[end - 1] = b'>';
    let range = [0, start, end, out.len() - end];
    let text = format!("[{} {} {} {}]", range[0], range[1], range[2], range[3]);
    if text.len() > placeholder.len() {
        return Err(PdfError::Write("ByteRange does not fit its placeholder".into()));
    }
    let field = &mut out[br_at..br_at + placeholder.len()];
    field.fill(b' ');
    field[..text.len() - 1].copy_from_slice(&text.as_bytes()[..text.len() - 1]);
    field[placeholder.len() - 1] = b']';

    let der = make(&[&out[..start], &out[end..]])?;
    if der.len() > reserved {
        return Err(PdfError::SignatureTooLarge { need: der.len(), room: reserved });
    }
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for (i, b) in der.iter().enumerate() {
        out[start + 1 + 2 * i] = HEX[usize::from(b >> 4)];
        out[start + 2 + 2 * i] = HEX[usize::from(b & 15)];
    }
    Ok(())
}
