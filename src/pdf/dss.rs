//! The Document Security Store (PAdES B-LT structure): certificates and CRLs appended to a
//! signed PDF in a further incremental update that leaves the signature intact.

use lopdf::{Dictionary, Document, IncrementalDocument, Object};

use super::PdfError;
use super::limits::MAX_SIGN_INPUT;
use super::skeleton::Skeleton;

/// Most certificates plus CRLs one call may add.
const MAX_DSS_ITEMS: usize = 256;

/// Most bytes of one certificate or CRL.
const MAX_DSS_ITEM_BYTES: usize = 4 * 1024 * 1024;

/// Appends an incremental update with a `/DSS` dictionary holding `certs` and `crls` (DER).
///
/// An existing `/DSS` is kept: its entries come first, followed by the new ones. Validators
/// see the update as signature maintenance; the signed bytes are untouched.
pub fn add_dss(signed_pdf: &[u8], certs: &[Vec<u8>], crls: &[Vec<u8>]) -> Result<Vec<u8>, PdfError> {
    check(signed_pdf, certs, crls)?;
    let doc = super::inspect::load(signed_pdf)?;
    Ok(append(signed_pdf.to_vec(), doc, certs, crls)?.0)
}

/// [`add_dss`] for a PDF that [`super::sign_rendered`] has just signed: no parsing. Returns
/// what a further update (a document time-stamp) needs of the result.
pub(crate) fn add_dss_to(
    signed_pdf: Vec<u8>,
    skeleton: &Skeleton,
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<(Vec<u8>, Skeleton), PdfError> {
    check(&signed_pdf, certs, crls)?;
    let (out, doc) = append(signed_pdf, skeleton.document(), certs, crls)?;
    let next = skeleton.after(&doc, &out)?;
    Ok((out, next))
}

fn check(signed_pdf: &[u8], certs: &[Vec<u8>], crls: &[Vec<u8>]) -> Result<(), PdfError> {
    if signed_pdf.len() > MAX_SIGN_INPUT {
        return Err(PdfError::InputTooLarge { max: MAX_SIGN_INPUT, got: signed_pdf.len() });
    }
    let items = certs.len() + crls.len();
    if items > MAX_DSS_ITEMS {
        return Err(PdfError::TooLong { what: "DSS entries", max: MAX_DSS_ITEMS, got: items });
    }
    if let Some(big) = certs.iter().chain(crls).find(|d| d.len() > MAX_DSS_ITEM_BYTES) {
        return Err(PdfError::InputTooLarge { max: MAX_DSS_ITEM_BYTES, got: big.len() });
    }
    Ok(())
}

/// Appends the DSS update to `signed_pdf`, of which `doc` holds (at least) trailer and
/// catalog; returns the file and the update's objects.
fn append(
    signed_pdf: Vec<u8>,
    doc: Document,
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
) -> Result<(Vec<u8>, Document), PdfError> {
    let items = certs.len() + crls.len();
    let parse = |e: lopdf::Error| PdfError::Parse(e.to_string());
    let catalog_id = doc.trailer.get(b"Root").and_then(Object::as_reference).map_err(parse)?;
    let existing = |key: &[u8]| -> Vec<Object> {
        doc.catalog()
            .ok()
            .and_then(|c| c.get(b"DSS").ok())
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_dict().ok())
            .and_then(|d| d.get(key).ok())
            .and_then(|o| doc.dereference(o).ok())
            .and_then(|(_, o)| o.as_array().ok())
            .cloned()
            .unwrap_or_default()
    };
    let (mut cert_refs, mut crl_refs) = (existing(b"Certs"), existing(b"CRLs"));
    // An existing DSS dictionary is updated in place, so no object is left orphaned.
    let existing_id = doc.catalog().ok().and_then(|c| c.get(b"DSS").ok()).and_then(|o| o.as_reference().ok());

    let prev_len = signed_pdf.len();
    let mut inc = IncrementalDocument::create_from(signed_pdf, doc);
    for (list, data) in [(&mut cert_refs, certs), (&mut crl_refs, crls)] {
        for der in data {
            // Stored as they are: keys and signatures do not compress, so deflating a few
            // hundred bytes of DER saved a tenth of them at the price of a compressor reset
            // per stream, on every licence.
            let stream = lopdf::Stream::new(Dictionary::new(), der.clone());
            list.push(Object::Reference(inc.new_document.add_object(stream)));
        }
    }
    let mut dss = Dictionary::new();
    dss.set("Type", Object::Name(b"DSS".to_vec()));
    if !cert_refs.is_empty() {
        dss.set("Certs", Object::Array(cert_refs));
    }
    if !crl_refs.is_empty() {
        dss.set("CRLs", Object::Array(crl_refs));
    }
    let dss_id = match existing_id {
        Some(id) => {
            inc.new_document.set_object(id, dss);
            id
        }
        None => inc.new_document.add_object(dss),
    };
    inc.opt_clone_object_to_new_document(catalog_id).map_err(parse)?;
    inc.new_document.get_dictionary_mut(catalog_id).map_err(parse)?.set("DSS", Object::Reference(dss_id));

    let mut out = Vec::with_capacity(prev_len + items * 1024 + 1024);
    inc.save_to(&mut out).map_err(|e| PdfError::Write(e.to_string()))?;
    Ok((out, inc.new_document))
}
