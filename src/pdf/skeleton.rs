//! What an incremental update needs of a PDF this module has just written — trailer,
//! cross-reference position, highest object number and the few objects the update
//! changes — so that the next step appends to it without parsing it again.

use lopdf::{Dictionary, Document, Object, ObjectId};

use super::PdfError;

/// The parts of a freshly written PDF (or revision) that the next incremental update reads.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Skeleton {
    /// The trailer as written (with `/Size`).
    pub(crate) trailer: Dictionary,
    /// Byte offset of the last cross-reference section.
    pub(crate) xref_start: usize,
    /// Highest object number in use.
    pub(crate) max_id: u32,
    /// The first page.
    pub(crate) page_id: ObjectId,
    /// The current versions of the objects a later update may change: catalog and page.
    pub(crate) objects: Vec<(ObjectId, Object)>,
}

impl Skeleton {
    /// Records a document just saved into `bytes` (classic cross-reference table).
    pub(crate) fn of_saved(
        doc: &Document,
        bytes: &[u8],
        page_id: ObjectId,
        keep: &[ObjectId],
    ) -> Result<Self, PdfError> {
        let mut trailer = doc.trailer.clone();
        trailer.set("Size", i64::from(doc.max_id) + 1);
        let objects = keep
            .iter()
            .map(|id| doc.get_object(*id).map(|o| (*id, o.clone())))
            .collect::<Result<_, _>>()
            .map_err(|e| PdfError::Write(e.to_string()))?;
        Ok(Self { trailer, xref_start: startxref(bytes)?, max_id: doc.max_id, page_id, objects })
    }

    /// The skeleton of `bytes`, this skeleton's PDF with the update `update` (the update's
    /// own objects, as saved) appended: kept objects the update rewrote are taken from it.
    pub(crate) fn after(&self, update: &Document, bytes: &[u8]) -> Result<Self, PdfError> {
        let mut trailer = update.trailer.clone();
        trailer.set("Size", i64::from(update.max_id) + 1);
        let objects = self
            .objects
            .iter()
            .map(|(id, old)| (*id, update.get_object(*id).cloned().unwrap_or_else(|_| old.clone())))
            .collect();
        Ok(Self {
            trailer,
            xref_start: startxref(bytes)?,
            max_id: update.max_id,
            page_id: self.page_id,
            objects,
        })
    }

    /// A document standing for the written PDF, holding only the kept objects: enough for
    /// [`lopdf::IncrementalDocument`] to append to it.
    pub(crate) fn document(&self) -> Document {
        let mut doc = Document::new();
        doc.trailer = self.trailer.clone();
        doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
        doc.xref_start = self.xref_start;
        doc.max_id = self.max_id;
        doc.objects.extend(self.objects.iter().cloned());
        doc
    }
}

/// The offset after the last `startxref` of `pdf`.
pub(crate) fn startxref(pdf: &[u8]) -> Result<usize, PdfError> {
    let tail = &pdf[pdf.len().saturating_sub(64)..];
    let at = tail
        .windows(9)
        .rposition(|w| w == b"startxref")
        .ok_or_else(|| PdfError::Write("no startxref written".into()))?;
    let digits: String = tail[at + 9..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .map(|&b| char::from(b))
        .collect();
    digits.parse().map_err(|_| PdfError::Write("bad startxref written".into()))
}
