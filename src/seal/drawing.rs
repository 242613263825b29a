//! The data a seal is drawn as (paths in millimetres, y up) and the error drawing or
//! rendering it can give; no logic, so the drawing and rendering files both build on it.

/// The colour every path of a seal is filled with (seal red), as 8-bit RGB.
pub const SEAL_RED: (u8, u8, u8) = (230, 0, 18);

/// One segment of a path; coordinates in millimetres, origin at the seal centre, y up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Seg {
    /// Starts a new contour at `(x, y)`.
    MoveTo(f32, f32),
    /// A straight line to `(x, y)`.
    LineTo(f32, f32),
    /// A quadratic Bézier curve with control point `(x1, y1)` to `(x, y)`.
    QuadTo(f32, f32, f32, f32),
    /// A cubic Bézier curve with control points `(x1, y1)`, `(x2, y2)` to `(x, y)`.
    CubicTo(f32, f32, f32, f32, f32, f32),
    /// Closes the current contour.
    Close,
}

/// Which parts of a self-overlapping path count as inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FillRule {
    /// Non-zero winding (glyphs and the star).
    NonZero,
    /// Even-odd (the ring: two concentric circles leave an annulus).
    EvenOdd,
}

/// One filled shape of a seal, painted in [`SEAL_RED`].
#[derive(Debug, Clone, PartialEq)]
pub struct SealPath {
    /// The contours of the shape.
    pub segs: Vec<Seg>,
    /// How overlapping contours are filled.
    pub fill_rule: FillRule,
}

/// A complete seal as vector paths, ready for PDF, SVG or PNG output.
///
/// Paths come in a fixed order: the ring, the star, one path per department name glyph
/// (left to right), then one path per seal name glyph (left to right).
#[derive(Debug, Clone, PartialEq)]
pub struct SealDrawing {
    /// Outer diameter of the seal in millimetres; the drawing fits the square of this side centred on the origin.
    pub diameter_mm: f32,
    /// The filled shapes, all in [`SEAL_RED`].
    pub paths: Vec<SealPath>,
}

/// Why a seal could not be drawn or rendered.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// A name that must have text has none (the argument says which name).
    #[error("the {0} is empty")]
    EmptyName(&'static str),
    /// A name has more characters than fit on a seal.
    #[error("the {which} has {got} characters, but at most {max} fit on a seal")]
    NameTooLong {
        /// Which name: "department name" or "seal name".
        which: &'static str,
        /// The most characters allowed.
        max: usize,
        /// The characters given (whitespace not counted).
        got: usize,
    },
    /// The embedded font has no glyph for this character, so it cannot be drawn.
    #[error("the seal font has no glyph for {0:?} (U+{code:04X}); use another character", code = u32::from(*.0))]
    MissingGlyph(char),
    /// A size (seal diameter or image size) is out of range.
    #[error("{0}")]
    BadSize(String),
    /// The image could not be rendered or encoded.
    #[error("could not render the seal image: {0}")]
    Render(String),
}
