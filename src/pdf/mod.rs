//! Licence PDFs: render the page, sign it (PAdES B-B), add validation data (B-LT), inspect signatures.
//!
//! Everything here works on bytes in memory: the caller passes in the page content, the
//! signing key, certificates, CRLs and the signing time, and gets bytes back. No file,
//! network or clock is touched.
//!
//! - [`render`] lays out an A4 licence page ([`LicencePage`]) with the embedded CJK font
//!   embedded as a subset (`subsetter`), the QR code as vector rectangles (`qrcode`) and
//!   catalogue metadata in the document information; it reports where the seal goes.
//! - [`sign`] appends an incremental update (`lopdf`) with an AcroForm signature field whose
//!   widget shows the seal, and a CMS SignedData (`cms`, `der`) in `/Contents`:
//!   `/SubFilter /ETSI.CAdES.detached`, ESS signing-certificate-v2, no signing-time attribute.
//! - [`add_dss`] appends a second update with a `/DSS` dictionary (certificates, CRLs).
//! - [`inspect`] finds the signature of an uploaded PDF, checks its byte ranges, digest and
//!   CMS signature, and says what later revisions changed.

mod cms;
mod dss;
mod error;
mod fontstrip;
mod inspect;
mod layout;
mod limits;
mod qr;
mod render;
mod sign;
mod text;
mod writer;

#[cfg(test)]
mod tests;

pub use dss::add_dss;
pub use error::PdfError;
pub use inspect::{LaterRevisions, MAX_INSPECT_BYTES, SignatureInfo, inspect};
pub use render::{DocInfo, LicencePage, RenderedPdf, render};
pub use sign::{MIN_CONTENTS_RESERVED, SignParams, sign};

/// A rectangle on the page in millimetres, origin at the bottom-left corner of the page, y up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RectMm {
    /// Left edge.
    pub x: f32,
    /// Bottom edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// Points per millimetre (PDF user space unit is 1/72 inch).
pub(crate) const PT_PER_MM: f32 = 72.0 / 25.4;

/// Millimetres to PDF points.
pub(crate) fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// A Flate-compressed stream at zlib's default level. lopdf's `Stream::compress` always
/// uses level 9, which the benches measured as about half of the time spent signing and
/// 40 % of rendering, for a few hundred bytes of difference.
pub(crate) fn flate_stream(mut dict: lopdf::Dictionary, content: Vec<u8>) -> lopdf::Stream {
    use std::io::Write;
    let mut encoder = flate2::write::ZlibEncoder::new(
        Vec::with_capacity(content.len() / 2),
        flate2::Compression::default(),
    );
    let compressed = encoder.write_all(&content).ok().and_then(|()| encoder.finish().ok());
    match compressed {
        Some(bytes) if bytes.len() < content.len() => {
            dict.set("Filter", lopdf::Object::Name(b"FlateDecode".to_vec()));
            lopdf::Stream::new(dict, bytes)
        }
        _ => lopdf::Stream::new(dict, content),
    }
}
