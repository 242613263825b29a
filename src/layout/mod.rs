//! The licence page laid out once, independent of the file format: one layout model, two
//! writers ([`crate::pdf`] and [`crate::ofd`]), so a change of layout shows in both.
//!
//! [`lay_out`] checks a [`LicencePage`], fits its texts with the embedded font's advances
//! ([`crate::font`]) and returns a [`PageLayout`]: a display list in millimetres (frame and
//! rule strokes, filled rectangles, text runs, the QR symbol) and the seal's rectangle.
//! Coordinates are millimetres with the origin at the bottom-left corner of the page and y
//! up, as in PDF; the OFD writer flips them (OFD's origin is top-left, y down).

mod display;
mod error;
mod info;
mod page;
mod qr;
mod text;
mod wrap;

pub use display::{Fill, Item, PageLayout, QrSymbol, Rgb, Shape, Stroke, TextRun};
pub use error::LayoutError;
pub use info::DocInfo;
pub use page::{LicencePage, lay_out, qr_module_mm};
pub use qr::{MAX_QR_BYTES, QUIET_MODULES};
pub use text::{advance_em, width_pt};

/// A4 width in millimetres.
pub const PAGE_W: f32 = 210.0;
/// A4 height in millimetres.
pub const PAGE_H: f32 = 297.0;

/// Points per millimetre (a point is 1/72 inch); type sizes are chosen in points.
pub const PT_PER_MM: f32 = 72.0 / 25.4;

/// Stroke width of bold text as a fraction of its size: text is made bold by stroking the
/// glyph outlines with this width on top of filling them.
pub const BOLD_STROKE_EM: f32 = 0.03;

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

/// The sample licence page the tests of both writers render.
#[cfg(test)]
pub(crate) use page::tests::sample as page_sample;
