//! The QR code as vector rectangles: each run of dark modules in a row becomes one rectangle.

use super::pt;
use super::writer::Content;
use crate::layout::{QUIET_MODULES, QrSymbol};

/// Paints `qr` in the current fill colour.
pub(crate) fn draw(content: &mut Content, qr: &QrSymbol) {
    let module = pt(qr.module());
    let left = pt(qr.area.x) + QUIET_MODULES as f32 * module;
    let bottom = pt(qr.area.y) + QUIET_MODULES as f32 * module;
    // Rectangles in module units (short integers) under a scaling matrix whose origin is
    // the symbol's bottom-left corner, lowered by a hair: rows are 1.02 modules high, so
    // they overlap and renderers leave no seams between them.
    content.raw("q\n").op(&[module, 0.0, 0.0, module, left, bottom - 0.01 * module], "cm");
    for (row, start, len) in qr.runs() {
        // Module counts are small (at most 177), so the casts are exact.
        let y0 = (qr.modules - 1 - row) as f32;
        content.op(&[start as f32, y0, len as f32, 1.02], "re");
    }
    content.raw("f\nQ\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::RectMm;

    #[test]
    fn draws_one_rectangle_per_run() {
        let qr = QrSymbol {
            colour: (0, 0, 0),
            area: RectMm { x: 0.0, y: 0.0, width: 11.0, height: 11.0 },
            modules: 3,
            dark: vec![true, true, false, true, false, false, false, true, true],
        };
        let mut c = Content::new();
        draw(&mut c, &qr);
        let s = String::from_utf8(c.into_bytes()).unwrap();
        assert_eq!(s.matches(" re\n").count(), 3);
        assert!(s.contains("0 2 2 1.02 re\n") && s.contains("1 0 2 1.02 re\n"), "{s}");
        assert!(s.ends_with("f\nQ\n"));
    }
}
