//! Shapes of the seal as path segments: affine maps, the ring, the star and font glyph outlines.

use super::drawing::Seg;

/// An affine map `(x, y) -> (a·x + c·y + e, b·x + d·y + f)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Affine {
    a: f32,
    b: f32,
    c: f32,
    d: f32,
    e: f32,
    f: f32,
}

impl Affine {
    /// A translation by `(dx, dy)`.
    pub(crate) fn translate(dx: f32, dy: f32) -> Self {
        Self { a: 1.0, b: 0.0, c: 0.0, d: 1.0, e: dx, f: dy }
    }

    /// A scaling by `sx` horizontally and `sy` vertically.
    pub(crate) fn scale(sx: f32, sy: f32) -> Self {
        Self { a: sx, b: 0.0, c: 0.0, d: sy, e: 0.0, f: 0.0 }
    }

    /// A counter-clockwise rotation by `radians` (y axis up).
    pub(crate) fn rotate(radians: f32) -> Self {
        let (sin, cos) = radians.sin_cos();
        Self { a: cos, b: sin, c: -sin, d: cos, e: 0.0, f: 0.0 }
    }

    /// The map that applies `inner` first, then `self`.
    pub(crate) fn then_after(self, inner: Self) -> Self {
        Self {
            a: self.a * inner.a + self.c * inner.b,
            b: self.b * inner.a + self.d * inner.b,
            c: self.a * inner.c + self.c * inner.d,
            d: self.b * inner.c + self.d * inner.d,
            e: self.a * inner.e + self.c * inner.f + self.e,
            f: self.b * inner.e + self.d * inner.f + self.f,
        }
    }

    /// Maps one point.
    pub(crate) fn apply(self, x: f32, y: f32) -> (f32, f32) {
        (self.a * x + self.c * y + self.e, self.b * x + self.d * y + self.f)
    }
}

/// Bézier handle length for a quarter circle.
const KAPPA: f32 = 0.552_284_8;

/// A full circle of radius `r` around the origin, as one closed contour of four cubics.
pub(crate) fn circle(r: f32) -> Vec<Seg> {
    let k = r * KAPPA;
    vec![
        Seg::MoveTo(r, 0.0),
        Seg::CubicTo(r, k, k, r, 0.0, r),
        Seg::CubicTo(-k, r, -r, k, -r, 0.0),
        Seg::CubicTo(-r, -k, -k, -r, 0.0, -r),
        Seg::CubicTo(k, -r, r, -k, r, 0.0),
        Seg::Close,
    ]
}

/// A regular five-pointed star around `(0, cy)`, one point straight up, as a ten-corner polygon.
///
/// `outer` is the radius of the points; the inner corners sit where the star's edges cross,
/// so the outline is the classic filled star.
pub(crate) fn star(outer: f32, cy: f32) -> Vec<Seg> {
    use std::f32::consts::PI;
    // Inner radius of a regular pentagram: sin 18° / sin 54° of the outer one.
    let inner = outer * (PI / 10.0).sin() / (3.0 * PI / 10.0).sin();
    let mut segs = Vec::with_capacity(11);
    for i in 0..10 {
        let r = if i % 2 == 0 { outer } else { inner };
        // Angle from the +y axis, clockwise; corner 0 is the top point.
        let theta = i as f32 * PI / 5.0;
        let (x, y) = (r * theta.sin(), cy + r * theta.cos());
        segs.push(if i == 0 { Seg::MoveTo(x, y) } else { Seg::LineTo(x, y) });
    }
    segs.push(Seg::Close);
    segs
}

/// Collects a glyph outline from ttf-parser, mapping font units through an [`Affine`].
struct GlyphPen {
    map: Affine,
    segs: Vec<Seg>,
}

impl ttf_parser::OutlineBuilder for GlyphPen {
    fn move_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.map.apply(x, y);
        self.segs.push(Seg::MoveTo(x, y));
    }

    fn line_to(&mut self, x: f32, y: f32) {
        let (x, y) = self.map.apply(x, y);
        self.segs.push(Seg::LineTo(x, y));
    }

    fn quad_to(&mut self, x1: f32, y1: f32, x: f32, y: f32) {
        let (x1, y1) = self.map.apply(x1, y1);
        let (x, y) = self.map.apply(x, y);
        self.segs.push(Seg::QuadTo(x1, y1, x, y));
    }

    fn curve_to(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, x: f32, y: f32) {
        let (x1, y1) = self.map.apply(x1, y1);
        let (x2, y2) = self.map.apply(x2, y2);
        let (x, y) = self.map.apply(x, y);
        self.segs.push(Seg::CubicTo(x1, y1, x2, y2, x, y));
    }

    fn close(&mut self) {
        self.segs.push(Seg::Close);
    }
}

/// The outline of glyph `id` mapped by `map` (which takes font units), or `None` when the glyph has no outline.
pub(crate) fn glyph_outline(
    face: &ttf_parser::Face<'_>,
    id: ttf_parser::GlyphId,
    map: Affine,
) -> Option<Vec<Seg>> {
    let mut pen = GlyphPen { map, segs: Vec::new() };
    face.outline_glyph(id, &mut pen)?;
    (!pen.segs.is_empty()).then_some(pen.segs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: (f32, f32), b: (f32, f32)) -> bool {
        (a.0 - b.0).abs() < 1e-4 && (a.1 - b.1).abs() < 1e-4
    }

    #[test]
    fn affine_composes_inner_first() {
        let m = Affine::translate(10.0, 0.0).then_after(Affine::rotate(std::f32::consts::FRAC_PI_2));
        // (1, 0) rotated a quarter turn counter-clockwise is (0, 1), then moved right by 10.
        assert!(close(m.apply(1.0, 0.0), (10.0, 1.0)));
        let s = Affine::scale(2.0, 3.0).then_after(Affine::translate(1.0, 1.0));
        assert!(close(s.apply(0.0, 0.0), (2.0, 3.0)));
    }

    #[test]
    fn star_has_top_point_and_mirror_symmetry() {
        let segs = star(7.0, 0.0);
        assert_eq!(segs.len(), 11);
        let pts: Vec<(f32, f32)> = segs
            .iter()
            .filter_map(|s| match *s {
                Seg::MoveTo(x, y) | Seg::LineTo(x, y) => Some((x, y)),
                _ => None,
            })
            .collect();
        assert!(close(pts[0], (0.0, 7.0)));
        for i in 1..10 {
            let (x, y) = pts[i];
            let (mx, my) = pts[10 - i];
            assert!(close((x, y), (-mx, my)), "corner {i} not mirrored");
        }
    }

    #[test]
    fn circle_ends_where_it_starts() {
        let segs = circle(5.0);
        assert_eq!(segs.first(), Some(&Seg::MoveTo(5.0, 0.0)));
        assert!(matches!(segs[4], Seg::CubicTo(.., x, y) if close((x, y), (5.0, 0.0))));
    }
}
