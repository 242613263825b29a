//! The display list of a laid-out page: what is painted where, in millimetres (origin at
//! the bottom-left corner of the page, y up), in painting order.

use super::{LayoutError, RectMm, advance_em};

/// An 8-bit RGB colour.
pub type Rgb = (u8, u8, u8);

/// A laid-out licence page: the display list and where the seal goes.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLayout {
    /// Page width in mm.
    pub width: f32,
    /// Page height in mm.
    pub height: f32,
    /// What to paint, in order (later items paint over earlier ones).
    pub items: Vec<Item>,
    /// Where the seal goes: centred on the issuer name and date. It is not in `items`:
    /// each format's signature draws it.
    pub seal: RectMm,
}

/// One painted thing.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// A stroked outline.
    Stroke(Stroke),
    /// Filled rectangles in one colour.
    Fill(Fill),
    /// A run of text on one baseline.
    Text(TextRun),
    /// The QR code.
    Qr(QrSymbol),
}

/// A stroked line or rectangle outline.
#[derive(Debug, Clone, PartialEq)]
pub struct Stroke {
    /// Stroke colour.
    pub colour: Rgb,
    /// Line width in mm.
    pub width: f32,
    /// What is stroked.
    pub shape: Shape,
}

/// The outline of a [`Stroke`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Shape {
    /// A rectangle's outline.
    Rect(RectMm),
    /// A straight line between two points `(x, y)` in mm.
    Line((f32, f32), (f32, f32)),
}

/// Rectangles filled with one colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Fill {
    /// Fill colour.
    pub colour: Rgb,
    /// The rectangles.
    pub rects: Vec<RectMm>,
}

/// Text on one baseline in the embedded font.
#[derive(Debug, Clone, PartialEq)]
pub struct TextRun {
    /// Left end of the baseline, mm.
    pub x: f32,
    /// Baseline height above the page's bottom edge, mm.
    pub baseline: f32,
    /// Em size in mm.
    pub size: f32,
    /// Extra space after every glyph, mm (letter-spacing).
    pub spacing: f32,
    /// Whether the glyphs are also stroked, [`super::BOLD_STROKE_EM`] × `size` wide.
    pub bold: bool,
    /// Fill (and, when bold, stroke) colour.
    pub colour: Rgb,
    /// The characters, each with a glyph in the embedded font.
    pub text: String,
}

impl TextRun {
    /// Where each glyph's pen position moves on to the next: the glyph's advance in the
    /// font at [`Self::size`] plus [`Self::spacing`], in mm, one per character.
    pub fn advances(&self) -> Result<Vec<f32>, LayoutError> {
        self.text.chars().map(|c| Ok(advance_em(c)? * self.size + self.spacing)).collect()
    }
}

/// A QR symbol: square modules, dark ones painted.
#[derive(Debug, Clone, PartialEq)]
pub struct QrSymbol {
    /// Module colour.
    pub colour: Rgb,
    /// The square the symbol fills, quiet zone included.
    pub area: RectMm,
    /// Modules per side, quiet zone excluded.
    pub modules: usize,
    /// Whether each module is dark, row by row from the top, left to right.
    pub dark: Vec<bool>,
}

impl QrSymbol {
    /// Side of one module in mm.
    pub fn module(&self) -> f32 {
        // Module counts are small (at most 177 + 8), so the cast is exact.
        self.area.width / (self.modules + 2 * super::QUIET_MODULES) as f32
    }

    /// Runs of dark modules: `(row from the top, first column, length)`, row by row.
    pub fn runs(&self) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
        let w = self.modules.max(1);
        self.dark.chunks(w).enumerate().flat_map(|(row, cells)| {
            let mut col = 0;
            std::iter::from_fn(move || {
                while col < cells.len() && !cells[col] {
                    col += 1;
                }
                if col >= cells.len() {
                    return None;
                }
                let start = col;
                while col < cells.len() && cells[col] {
                    col += 1;
                }
                Some((row, start, col - start))
            })
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn qr_runs_cover_exactly_the_dark_modules() {
        let dark = [true, true, false, true, false, false, false, true, true].to_vec();
        let q = QrSymbol {
            colour: (0, 0, 0),
            area: RectMm { x: 0.0, y: 0.0, width: 11.0, height: 11.0 },
            modules: 3,
            dark,
        };
        assert_eq!(q.runs().collect::<Vec<_>>(), [(0, 0, 2), (1, 0, 1), (2, 1, 2)]);
        assert_eq!(q.module(), 1.0);
    }
}
