//! Renders a [`SealDrawing`] as SVG text or as an anti-aliased PNG (tiny-skia).

use std::fmt::Write as _;

use super::drawing::{FillRule, SEAL_RED, SealDrawing, SealError, Seg};

/// Smallest PNG side [`SealDrawing::to_png`] accepts, in pixels.
pub const MIN_PNG_PX: u32 = 16;

/// Largest PNG side [`SealDrawing::to_png`] accepts, in pixels.
pub const MAX_PNG_PX: u32 = 8192;

/// Empty space around the ring in the SVG and PNG renderings, in mm of the seal's own scale
/// (2 mm around a 42 mm seal: about 4.3 % of the image on each side), so that the ring is
/// not cut by the image edge or glued to whatever the image is placed beside.
pub const IMAGE_MARGIN_MM: f32 = 2.0;

impl SealDrawing {
    /// A standalone SVG document: `diameter_mm` plus [`IMAGE_MARGIN_MM`] on each side wide
    /// and high, one `<path>` per [`SealPath`](super::drawing::SealPath).
    ///
    /// The viewBox is in millimetres centred on the seal; y is flipped to SVG's downward axis.
    pub fn to_svg(&self) -> String {
        let side = self.diameter_mm + 2.0 * IMAGE_MARGIN_MM;
        let d = num(side);
        let half = num(side / 2.0);
        let (r, g, b) = SEAL_RED;
        let mut svg = format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{d}mm\" height=\"{d}mm\" viewBox=\"-{half} -{half} {d} {d}\">\n"
        );
        for path in &self.paths {
            let rule = match path.fill_rule {
                FillRule::NonZero => "nonzero",
                FillRule::EvenOdd => "evenodd",
            };
            let _ = writeln!(
                svg,
                "<path fill=\"#{r:02x}{g:02x}{b:02x}\" fill-rule=\"{rule}\" d=\"{}\"/>",
                path_data(&path.segs)
            );
        }
        svg.push_str("</svg>\n");
        svg
    }

    /// A square PNG `size_px` pixels wide: the seal with [`IMAGE_MARGIN_MM`] of transparent
    /// margin around the ring, anti-aliased.
    ///
    /// `size_px` must lie between [`MIN_PNG_PX`] and [`MAX_PNG_PX`].
    pub fn to_png(&self, size_px: u32) -> Result<Vec<u8>, SealError> {
        if !(MIN_PNG_PX..=MAX_PNG_PX).contains(&size_px) {
            return Err(SealError::BadSize(format!(
                "the image size must be between {MIN_PNG_PX} and {MAX_PNG_PX} pixels, not {size_px}"
            )));
        }
        let mut pixmap = tiny_skia::Pixmap::new(size_px, size_px)
            .ok_or_else(|| SealError::Render(format!("cannot allocate a {size_px}×{size_px} image")))?;
        let (r, g, b) = SEAL_RED;
        let mut paint = tiny_skia::Paint::default();
        paint.set_color_rgba8(r, g, b, 255);
        paint.anti_alias = true;
        let scale = size_px as f32 / (self.diameter_mm + 2.0 * IMAGE_MARGIN_MM);
        let centre = size_px as f32 / 2.0;
        // Millimetres with y up → pixels with y down, origin at the image centre.
        let transform = tiny_skia::Transform::from_row(scale, 0.0, 0.0, -scale, centre, centre);
        for path in &self.paths {
            let Some(skia_path) = skia_path(&path.segs) else {
                continue;
            };
            let rule = match path.fill_rule {
                FillRule::NonZero => tiny_skia::FillRule::Winding,
                FillRule::EvenOdd => tiny_skia::FillRule::EvenOdd,
            };
            pixmap.fill_path(&skia_path, &paint, rule, transform, None);
        }
        pixmap.encode_png().map_err(|e| SealError::Render(e.to_string()))
    }
}

/// The segments as a tiny-skia path, or `None` if they enclose nothing.
fn skia_path(segs: &[Seg]) -> Option<tiny_skia::Path> {
    let mut pb = tiny_skia::PathBuilder::new();
    for seg in segs {
        match *seg {
            Seg::MoveTo(x, y) => pb.move_to(x, y),
            Seg::LineTo(x, y) => pb.line_to(x, y),
            Seg::QuadTo(x1, y1, x, y) => pb.quad_to(x1, y1, x, y),
            Seg::CubicTo(x1, y1, x2, y2, x, y) => pb.cubic_to(x1, y1, x2, y2, x, y),
            Seg::Close => pb.close(),
        }
    }
    pb.finish()
}

/// SVG path data for the segments, with y flipped.
fn path_data(segs: &[Seg]) -> String {
    let mut d = String::new();
    for seg in segs {
        if !d.is_empty() {
            d.push(' ');
        }
        let _ = match *seg {
            Seg::MoveTo(x, y) => write!(d, "M{} {}", num(x), num(-y)),
            Seg::LineTo(x, y) => write!(d, "L{} {}", num(x), num(-y)),
            Seg::QuadTo(x1, y1, x, y) => {
                write!(d, "Q{} {} {} {}", num(x1), num(-y1), num(x), num(-y))
            }
            Seg::CubicTo(x1, y1, x2, y2, x, y) => {
                write!(d, "C{} {} {} {} {} {}", num(x1), num(-y1), num(x2), num(-y2), num(x), num(-y))
            }
            Seg::Close => write!(d, "Z"),
        };
    }
    d
}

/// A coordinate with at most three decimals (a micrometre), without trailing zeros or `-0`.
fn num(v: f32) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".to_owned() } else { s.to_owned() }
}

#[cfg(test)]
mod tests {
    use super::super::draw;
    use super::*;

    const DEPT: &str = "上海市浦东新区市场监督管理局";
    const NAME: &str = "行政审批专用章";

    /// Whether the pixel is mostly seal red and mostly opaque.
    fn is_red(p: tiny_skia::PremultipliedColorU8) -> bool {
        let c = p.demultiply();
        c.alpha() > 128 && c.red() > 200 && c.green() < 60 && c.blue() < 80
    }

    #[test]
    fn png_has_the_size_colour_and_shape_of_a_seal() {
        let size = 400;
        let png = draw(DEPT, NAME).unwrap().to_png(size).unwrap();
        let pixmap = tiny_skia::Pixmap::decode_png(&png).unwrap();
        assert_eq!((pixmap.width(), pixmap.height()), (size, size));
        let px = |x: u32, y: u32| pixmap.pixel(x, y).unwrap();

        let red = pixmap.pixels().iter().filter(|p| is_red(**p)).count();
        let share = red as f64 / f64::from(size * size);
        assert!((0.08..=0.40).contains(&share), "red share {share}");

        assert!(is_red(px(size / 2, size / 2)), "centre (star) is not red");
        for (x, y) in [(0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1)] {
            assert_eq!(px(x, y).alpha(), 0, "corner ({x}, {y}) is not transparent");
        }
        // The ring is red at the top, bottom, left and right, just inside the margin; the
        // margin itself (every pixel within it, on all four sides) is transparent.
        let margin = (IMAGE_MARGIN_MM / (42.0 + 2.0 * IMAGE_MARGIN_MM) * size as f32) as u32;
        assert!(margin >= size / 25, "margin {margin} px of {size}");
        let ring = margin + 3;
        for (x, y) in
            [(size / 2, ring), (size / 2, size - 1 - ring), (ring, size / 2), (size - 1 - ring, size / 2)]
        {
            assert!(is_red(px(x, y)), "ring missing at ({x}, {y})");
        }
        for i in 0..size {
            for j in 0..margin.saturating_sub(1) {
                for (x, y) in [(i, j), (i, size - 1 - j), (j, i), (size - 1 - j, i)] {
                    assert_eq!(px(x, y).alpha(), 0, "margin pixel ({x}, {y}) is not transparent");
                }
            }
        }
        // The star region (radius 7 of 21 mm) mirrors left to right.
        let (c, r) = (size / 2, size / 6);
        let (mut same, mut total) = (0, 0);
        for y in c - r..c + r {
            for dx in 1..r {
                total += 1;
                if is_red(px(c - dx, y)) == is_red(px(c + dx, y)) {
                    same += 1;
                }
            }
        }
        assert!(same as f64 / total as f64 > 0.97, "star not symmetric: {same}/{total}");
    }

    #[test]
    fn png_rejects_bad_sizes() {
        let d = draw(DEPT, NAME).unwrap();
        assert!(matches!(d.to_png(0), Err(SealError::BadSize(_))));
        assert!(matches!(d.to_png(MAX_PNG_PX + 1), Err(SealError::BadSize(_))));
    }

    #[test]
    fn png_is_deterministic() {
        let d = draw(DEPT, NAME).unwrap();
        assert_eq!(d.to_png(128).unwrap(), d.to_png(128).unwrap());
    }

    #[test]
    fn svg_has_one_path_per_shape() {
        let svg = draw(DEPT, NAME).unwrap().to_svg();
        assert!(svg.starts_with("<svg"), "{}", &svg[..40]);
        assert!(svg.trim_end().ends_with("</svg>"));
        assert_eq!(svg.matches("<path").count(), 2 + 14 + 7);
        assert!(
            svg.contains("width=\"46mm\"") && svg.contains("viewBox=\"-23 -23 46 46\""),
            "{}",
            &svg[..120]
        );
        assert_eq!(svg.matches("fill-rule=\"evenodd\"").count(), 1);
        assert!(svg.contains("fill=\"#e60012\""));
        // The star's top point is at y = 7 mm up, which is −7 in SVG.
        assert!(svg.contains("M0 -7 L"));
    }

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(1.0), "1");
        assert_eq!(num(-0.0001), "0");
        assert_eq!(num(2.5), "2.5");
        assert_eq!(num(-1.23456), "-1.235");
    }
}
