//! Measuring text with the embedded font's advances: the widths the layout fits and the
//! per-glyph advances both writers place glyphs by.

use super::LayoutError;
use crate::font::face;

/// Width of `c` in em, or an error if the font lacks it.
pub fn advance_em(c: char) -> Result<f32, LayoutError> {
    let (_, adv) = crate::font::glyph(c).ok_or(LayoutError::MissingGlyph(c))?;
    Ok(f32::from(adv) / f32::from(face().units_per_em()))
}

/// Width of `text` at `size`, without extra spacing, in the unit of `size` (the layout
/// measures in points).
pub fn width_pt(text: &str, size: f32) -> Result<f32, LayoutError> {
    text.chars().try_fold(0.0, |w, c| Ok(w + advance_em(c)? * size))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_with_the_font_and_refuses_missing_glyphs() {
        let w = width_pt("许可A", 10.0).unwrap();
        assert!((w - 10.0 * (advance_em('许').unwrap() * 2.0 + advance_em('A').unwrap())).abs() < 1e-4);
        assert!(matches!(width_pt("\u{20000}", 10.0), Err(LayoutError::MissingGlyph(_))));
    }
}
