//! Licence PDFs: render the page, sign it (PAdES B-B), add validation data (B-LT), inspect signatures.
//!
//! Everything here works on bytes in memory: the caller passes in the page content, the
//! signing key, certificates, CRLs and the signing time, and gets bytes back. No file,
//! network or clock is touched.
//!
//! - [`render`] writes the A4 licence page ([`LicencePage`]) as [`crate::layout`] lays it
//!   out, with the embedded CJK font as a subset (`subsetter`), the QR code as vector
//!   rectangles and catalogue metadata in the document information; it reports where the
//!   seal goes.
//! - [`sign`] appends an incremental update (`lopdf`) with an AcroForm signature field whose
//!   widget shows the seal, and a CMS SignedData (`cms`, `der`) in `/Contents`:
//!   `/SubFilter /ETSI.CAdES.detached`, ESS signing-certificate-v2, no signing-time attribute.
//! - [`add_dss`] appends a second update with a `/DSS` dictionary (certificates, CRLs).
//! - [`inspect`] finds the signature of an uploaded PDF, checks its byte ranges, digest and
//!   CMS signature, and says what later revisions changed.

pub(crate) mod cms;
mod doc_timestamp;
mod dss;
mod error;
mod info;
mod inspect;
mod limits;
mod qr;
mod render;
mod revisions;
mod sign;
mod skeleton;
mod text;
mod writer;

#[cfg(test)]
mod lta_tests;
#[cfg(test)]
mod tests;

pub use crate::layout::{DocInfo, RectMm};
pub use doc_timestamp::{MAX_DOC_TIMESTAMPS, add_doc_timestamp};
pub use dss::add_dss;
pub use error::PdfError;
pub use inspect::{DocTimeStamp, LaterRevisions, MAX_INSPECT_BYTES, SignatureInfo, inspect};
pub use render::{LicencePage, RenderedPdf, qr_module_mm, render};
pub use sign::{Dss, MIN_CONTENTS_RESERVED, SealAppearance, SignParams, sign, sign_rendered};

pub(crate) use crate::layout::PT_PER_MM;
pub(crate) use writer::push_num;

/// Millimetres to PDF points.
pub(crate) fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// A Flate-compressed stream at level 2 ([`FLATE_LEVEL`]). lopdf's `Stream::compress`
/// always uses level 9, which the benches measured as about half of the time spent
/// signing and 40 % of rendering, for a few hundred bytes of difference.
///
/// Each thread keeps one compressor and resets it between streams: setting up a new one
/// allocates and clears some 200 KB of tables, which cost more than compressing the small
/// streams of a licence.
pub(crate) fn flate_stream(mut dict: lopdf::Dictionary, content: Vec<u8>) -> lopdf::Stream {
    match deflate(&content) {
        Some(bytes) if bytes.len() < content.len() => {
            dict.set("Filter", lopdf::Object::Name(b"FlateDecode".to_vec()));
            lopdf::Stream::new(dict, bytes)
        }
        _ => lopdf::Stream::new(dict, content),
    }
}

/// Compression level of the PDF streams. With the subset font and the content stream
/// making up most of a licence, level 6 (zlib's default) spent half of the rendering time
/// compressing; level 2 takes about a third of that for some 10 % more compressed bytes
/// (a licence PDF stays near 50 KB).
const FLATE_LEVEL: u32 = 2;

/// `data` zlib-compressed at [`FLATE_LEVEL`], or `None` if the compressor failed.
fn deflate(data: &[u8]) -> Option<Vec<u8>> {
    use flate2::{Compress, Compression, FlushCompress, Status};
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Compress> =
            std::cell::RefCell::new(Compress::new(Compression::new(FLATE_LEVEL), true));
    }
    COMPRESSOR.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        c.reset();
        // zlib's compressBound, plus room for the header.
        let mut out = Vec::with_capacity(data.len() + (data.len() >> 12) + (data.len() >> 14) + 64);
        loop {
            let consumed = usize::try_from(c.total_in()).ok()?;
            let status = c.compress_vec(data.get(consumed..)?, &mut out, FlushCompress::Finish).ok()?;
            match status {
                Status::StreamEnd => return Some(out),
                Status::Ok | Status::BufError => out.reserve(out.capacity().max(1024)),
            }
        }
    })
}
