//! The QR code as vector rectangles: each run of dark modules in a row becomes one rectangle.

use qrcode::{Color, EcLevel, QrCode};

use super::PdfError;
use super::writer::Content;

/// Quiet zone around the symbol, in modules (ISO/IEC 18004 asks for 4).
pub(crate) const QUIET_MODULES: usize = 4;

/// Most bytes of QR text accepted (a version-25-ish symbol at ECC M; more would not scan at print size).
pub(crate) const MAX_QR_BYTES: usize = 1200;

/// Draws the QR code of `text` (ECC M) filling the square with bottom-left `(x, y)` and side
/// `size` points, quiet zone included, in the current fill colour.
pub(crate) fn draw(content: &mut Content, text: &str, x: f32, y: f32, size: f32) -> Result<(), PdfError> {
    if text.is_empty() {
        return Err(PdfError::EmptyText("QR text"));
    }
    if text.len() > MAX_QR_BYTES {
        return Err(PdfError::TooLong { what: "QR text (bytes)", max: MAX_QR_BYTES, got: text.len() });
    }
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::QrEncode(e.to_string()))?;
    let width = code.width();
    let colors = code.to_colors();
    // Module counts are small (at most 177 + 8), so the casts are exact.
    let module = size / (width + 2 * QUIET_MODULES) as f32;
    let left = x + QUIET_MODULES as f32 * module;
    let top = y + size - QUIET_MODULES as f32 * module;
    for (row, cells) in colors.chunks(width).enumerate() {
        let y0 = top - (row + 1) as f32 * module;
        let mut col = 0;
        while col < width {
            if cells[col] == Color::Dark {
                let start = col;
                while col < width && cells[col] == Color::Dark {
                    col += 1;
                }
                // Rows overlap by a hair so that renderers leave no seams between them.
                content.op(
                    &[left + start as f32 * module, y0 - 0.01, (col - start) as f32 * module, module + 0.02],
                    "re",
                );
            } else {
                col += 1;
            }
        }
    }
    content.raw("f\n");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_rectangles_and_rejects_bad_text() {
        let mut c = Content::new();
        draw(&mut c, "https://zz.example/v/abc", 0.0, 0.0, 90.0).unwrap();
        let s = String::from_utf8(c.into_bytes()).unwrap();
        assert!(s.matches(" re\n").count() > 20);
        assert!(s.ends_with("f\n"));
        assert!(matches!(draw(&mut Content::new(), "", 0.0, 0.0, 9.0), Err(PdfError::EmptyText(_))));
        let long = "a".repeat(MAX_QR_BYTES + 1);
        assert!(matches!(draw(&mut Content::new(), &long, 0.0, 0.0, 9.0), Err(PdfError::TooLong { .. })));
    }
}
