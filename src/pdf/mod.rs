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

/// A Flate-compressed stream, made by libdeflate at level 1 ([`FLATE_LEVEL`]). lopdf's
/// `Stream::compress` always uses level 9, which the benches measured as about half of
/// the time spent signing and 40 % of rendering, for a few hundred bytes of difference.
///
/// Each thread keeps one compressor: setting one up allocates its tables, which cost more
/// than compressing the small streams of a licence.
pub(crate) fn flate_stream(mut dict: lopdf::Dictionary, content: Vec<u8>) -> lopdf::Stream {
    match deflate(&content) {
        Some(bytes) if bytes.len() < content.len() => {
            dict.set("Filter", lopdf::Object::Name(b"FlateDecode".to_vec()));
            lopdf::Stream::new(dict, bytes)
        }
        _ => lopdf::Stream::new(dict, content),
    }
}

/// Compression level of the PDF streams (libdeflate's scale). The subset font is most of
/// a licence and compresses poorly (to some two thirds); compressing it was the largest
/// part of rendering. libdeflate at level 1 makes the sample page smaller than zlib-rs did
/// at level 2 (24,290 bytes against 24,426) in three quarters of the rendering time
/// (`cargo bench --bench issue -- render/licence_page`: 519 µs against 680 µs); level 4
/// saves another 440 bytes for 150 µs more.
const FLATE_LEVEL: i32 = 1;

/// `data` zlib-compressed at [`FLATE_LEVEL`], or `None` if the compressor failed.
fn deflate(data: &[u8]) -> Option<Vec<u8>> {
    thread_local! {
        static COMPRESSOR: std::cell::RefCell<Option<libdeflater::Compressor>> =
            const { std::cell::RefCell::new(None) };
    }
    COMPRESSOR.with(|c| {
        let mut c = c.try_borrow_mut().ok()?;
        let level = libdeflater::CompressionLvl::new(FLATE_LEVEL).ok()?;
        let c = c.get_or_insert_with(|| libdeflater::Compressor::new(level));
        let mut out = vec![0; c.zlib_compress_bound(data.len())];
        let n = c.zlib_compress(data, &mut out).ok()?;
        out.truncate(n);
        Some(out)
    })
}
