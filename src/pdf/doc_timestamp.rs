//! Document time-stamps (PAdES B-LTA): an incremental update with an invisible signature
//! field whose value is a `/Type /DocTimeStamp` dictionary, `/SubFilter /ETSI.RFC3161`,
//! and an RFC 3161 token over the whole file but the token itself in `/Contents`.
//!
//! Appended after a `/DSS` update it protects the validation data of every earlier
//! signature and time-stamp; appended again before its TSA certificate expires (archive
//! renewal), it carries the proof forward.

use lopdf::{Dictionary, Document, IncrementalDocument, Object, ObjectId};

use super::PdfError;
use super::limits::MAX_SIGN_INPUT;
use super::sign::{BYTE_RANGE_PLACEHOLDER, patch_contents, token_room};
use super::skeleton::Skeleton;
use crate::tsa::{ImprintAlg, Stamper};

/// Most document time-stamps a file may already hold before another is refused.
pub const MAX_DOC_TIMESTAMPS: usize = 64;

/// Appends a document time-stamp to `pdf` (any signed PDF within [`MAX_SIGN_INPUT`]): the
/// token from `stamper` stamps the digest made with `imprint` over both byte ranges.
pub fn add_doc_timestamp(
    pdf: &[u8],
    stamper: &dyn Stamper,
    imprint: ImprintAlg,
) -> Result<Vec<u8>, PdfError> {
    if pdf.len() > MAX_SIGN_INPUT {
        return Err(PdfError::InputTooLarge { max: MAX_SIGN_INPUT, got: pdf.len() });
    }
    let doc = super::inspect::load(pdf)?;
    let page_id = *doc.get_pages().get(&1).ok_or(PdfError::NoPage)?;
    append(pdf.to_vec(), doc, page_id, stamper, imprint)
}

/// [`add_doc_timestamp`] for a PDF this module has just written: no parsing.
pub(crate) fn add_doc_timestamp_to(
    pdf: Vec<u8>,
    skeleton: &Skeleton,
    stamper: &dyn Stamper,
    imprint: ImprintAlg,
) -> Result<Vec<u8>, PdfError> {
    append(pdf, skeleton.document(), skeleton.page_id, stamper, imprint)
}

fn append(
    pdf: Vec<u8>,
    doc: Document,
    page_id: ObjectId,
    stamper: &dyn Stamper,
    imprint: ImprintAlg,
) -> Result<Vec<u8>, PdfError> {
    let parse = |e: lopdf::Error| PdfError::Parse(e.to_string());
    let catalog_id = doc.trailer.get(b"Root").and_then(Object::as_reference).map_err(parse)?;
    let reserved = token_room(stamper);
    let prev_len = pdf.len();
    let mut inc = IncrementalDocument::create_from(pdf, doc);

    let mut ts = Dictionary::new();
    ts.set("Type", Object::Name(b"DocTimeStamp".to_vec()));
    ts.set("Filter", Object::Name(b"Adobe.PPKLite".to_vec()));
    ts.set("SubFilter", Object::Name(b"ETSI.RFC3161".to_vec()));
    ts.set("ByteRange", Object::Array(BYTE_RANGE_PLACEHOLDER.map(Object::Integer).to_vec()));
    ts.set("Contents", super::sign::contents_placeholder(reserved));
    let ts_id = inc.new_document.add_object(ts);

    let fields = form_fields(&mut inc, catalog_id)?;
    if fields.len() > MAX_DOC_TIMESTAMPS + 1 {
        return Err(PdfError::TooLong {
            what: "signature fields",
            max: MAX_DOC_TIMESTAMPS + 1,
            got: fields.len(),
        });
    }
    let widget_id = inc.new_document.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Annot".to_vec())),
        ("Subtype", Object::Name(b"Widget".to_vec())),
        ("FT", Object::Name(b"Sig".to_vec())),
        ("T", Object::string_literal(format!("DocTimeStamp{}", fields.len()))),
        ("V", Object::Reference(ts_id)),
        // Hidden and locked: a document time-stamp has no appearance.
        ("F", Object::Integer(2 | 128)),
        ("P", Object::Reference(page_id)),
        ("Rect", Object::Array(vec![Object::Integer(0); 4])),
    ]));
    super::sign::add_annotation(&mut inc, page_id, widget_id)?;
    push_field(&mut inc, catalog_id, widget_id)?;

    let mut out = Vec::with_capacity(prev_len + 2 * reserved + 4096);
    inc.save_to(&mut out).map_err(|e| PdfError::Write(e.to_string()))?;
    patch_contents(&mut out, prev_len, reserved, |parts| {
        stamper.stamp(imprint, &imprint.digest_parts(parts)).map_err(PdfError::TimeStamp)
    })?;
    Ok(out)
}

/// The AcroForm's `/Fields` as they are (references), read through the catalog.
fn form_fields(inc: &mut IncrementalDocument, catalog_id: ObjectId) -> Result<Vec<Object>, PdfError> {
    let parse = |e: lopdf::Error| PdfError::Parse(e.to_string());
    inc.opt_clone_object_to_new_document(catalog_id).map_err(parse)?;
    let catalog = inc.new_document.get_dictionary(catalog_id).map_err(parse)?;
    let form = match catalog.get(b"AcroForm") {
        Ok(Object::Dictionary(d)) => d.clone(),
        Ok(Object::Reference(id)) => inc.get_prev_documents().get_dictionary(*id).map_err(parse)?.clone(),
        _ => return Err(PdfError::NotSigned),
    };
    match form.get(b"Fields") {
        Ok(Object::Array(a)) => Ok(a.clone()),
        Ok(Object::Reference(id)) => {
            Ok(inc.get_prev_documents().get_object(*id).and_then(Object::as_array).map_err(parse)?.clone())
        }
        _ => Err(PdfError::NotSigned),
    }
}

/// Appends `field` to the AcroForm's `/Fields`, wherever the form and the array live.
fn push_field(inc: &mut IncrementalDocument, catalog_id: ObjectId, field: ObjectId) -> Result<(), PdfError> {
    let parse = |e: lopdf::Error| PdfError::Parse(e.to_string());
    let form_ref = inc
        .new_document
        .get_dictionary(catalog_id)
        .map_err(parse)?
        .get(b"AcroForm")
        .ok()
        .and_then(|o| o.as_reference().ok());
    let form_id = match form_ref {
        Some(id) => {
            inc.opt_clone_object_to_new_document(id).map_err(parse)?;
            id
        }
        None => catalog_id,
    };
    let fields_ref = {
        let holder = inc.new_document.get_dictionary(form_id).map_err(parse)?;
        let form = if form_ref.is_some() {
            holder
        } else {
            holder.get(b"AcroForm").and_then(Object::as_dict).map_err(parse)?
        };
        form.get(b"Fields").ok().and_then(|o| o.as_reference().ok())
    };
    if let Some(id) = fields_ref {
        inc.opt_clone_object_to_new_document(id).map_err(parse)?;
        inc.new_document
            .get_object_mut(id)
            .and_then(Object::as_array_mut)
            .map_err(parse)?
            .push(Object::Reference(field));
        return Ok(());
    }
    let holder = inc.new_document.get_dictionary_mut(form_id).map_err(parse)?;
    let form = if form_ref.is_some() {
        holder
    } else {
        holder.get_mut(b"AcroForm").and_then(Object::as_dict_mut).map_err(parse)?
    };
    form.get_mut(b"Fields").and_then(Object::as_array_mut).map_err(parse)?.push(Object::Reference(field));
    Ok(())
}
