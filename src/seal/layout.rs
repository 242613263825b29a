//! Where each part of a seal goes: proportions, the arc of the department name and the row of the seal name.
//!
//! All lengths are millimetres with the origin at the seal centre and y pointing up.
//! Proportions follow a 42 mm official seal and scale with the diameter.

/// The reference diameter the proportions below are given for.
const REF_DIAMETER: f32 = 42.0;
/// Width of the outer ring.
const RING_WIDTH: f32 = 1.2;
/// Radius of the star's points (14 mm across).
const STAR_RADIUS: f32 = 7.0;
/// Height of the department name glyphs.
const DEPT_HEIGHT: f32 = 6.5;
/// Gap between the ring and the tops of the department name glyphs.
const DEPT_GAP: f32 = 0.9;
/// Largest width of a department glyph, as a share of its height.
const DEPT_MAX_ASPECT: f32 = 0.85;
/// Smallest width of a department glyph, as a share of its height, before the height shrinks too.
const DEPT_MIN_ASPECT: f32 = 0.5;
/// Share of the room between neighbouring glyphs' feet a department glyph may take (the rest is spacing).
const DEPT_FILL: f32 = 0.9;
/// Largest angle between neighbouring department glyphs, in degrees (short names).
const DEPT_MAX_STEP_DEG: f32 = 45.0;
/// Height of the seal name glyphs.
const NAME_HEIGHT: f32 = 4.6;
/// Largest width of a seal name glyph, as a share of its height.
const NAME_MAX_ASPECT: f32 = 0.75;
/// Smallest width of a seal name glyph, as a share of its height, before the height shrinks too.
const NAME_MIN_ASPECT: f32 = 0.45;
/// Spacing between seal name glyphs, as a share of the glyph width.
const NAME_SPACING: f32 = 0.12;
/// Vertical centre of the seal name row, as a share of the seal radius (negative: below the centre).
const NAME_CENTRE: f32 = -0.58;
/// Clearance between the seal name and the department name or ring.
const NAME_CLEARANCE: f32 = 1.2;

/// The sizes of the fixed parts of a seal with a given diameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Frame {
    /// Outer radius of the ring.
    pub(crate) outer_radius: f32,
    /// Inner radius of the ring.
    pub(crate) inner_radius: f32,
    /// Radius of the star's points.
    pub(crate) star_radius: f32,
    /// Millimetres per millimetre of the 42 mm reference seal.
    scale: f32,
}

impl Frame {
    /// The frame of a seal `diameter` millimetres across.
    pub(crate) fn new(diameter: f32) -> Self {
        let scale = diameter / REF_DIAMETER;
        let outer_radius = diameter / 2.0;
        Self {
            outer_radius,
            inner_radius: outer_radius - RING_WIDTH * scale,
            star_radius: STAR_RADIUS * scale,
            scale,
        }
    }
}

/// The box one glyph is drawn into.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct GlyphBox {
    /// Centre of the box.
    pub(crate) centre: (f32, f32),
    /// Width of a full-width ideograph drawn in this box.
    pub(crate) width: f32,
    /// Height of a full-width ideograph drawn in this box.
    pub(crate) height: f32,
    /// Counter-clockwise rotation of the glyph, in radians (0 = upright).
    pub(crate) rotation: f32,
}

impl GlyphBox {
    /// The corners of the box grown by `margin` on every side.
    fn corners(&self, margin: f32) -> [(f32, f32); 4] {
        let (sin, cos) = self.rotation.sin_cos();
        let (hw, hh) = (self.width / 2.0 + margin, self.height / 2.0 + margin);
        [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)]
            .map(|(x, y)| (self.centre.0 + x * cos - y * sin, self.centre.1 + x * sin + y * cos))
    }
}

/// The total angle the department name spans, in radians, for `count` glyphs.
///
/// Real seals spread longer names further round: 200° up to 260°; very short names keep
/// their glyphs at most 45° apart so they stay near the top.
fn arc_span(count: usize) -> f32 {
    let gaps = count.saturating_sub(1) as f32;
    let span_deg = (156.0 + 6.0 * count as f32).clamp(200.0, 260.0).min(gaps * DEPT_MAX_STEP_DEG);
    span_deg.to_radians()
}

/// Boxes for `count` department glyphs along the upper arc, left to right (clockwise).
///
/// The glyphs are spread symmetrically about the top, their tops point outward, and they
/// are condensed (and for long names made smaller) so neighbours do not touch.
pub(crate) fn arc_boxes(frame: &Frame, count: usize) -> Vec<GlyphBox> {
    if count == 0 {
        return Vec::new();
    }
    let span = arc_span(count);
    let step = if count > 1 { span / (count - 1) as f32 } else { 0.0 };
    let top = frame.inner_radius - DEPT_GAP * frame.scale;
    let mut height = DEPT_HEIGHT * frame.scale;
    let mut width = height * DEPT_MAX_ASPECT;
    // Shrinking the height moves the glyph centres outward, which widens the pitch again;
    // a few rounds settle it.
    for _ in 0..4 {
        // The room between neighbours is narrowest at the glyphs' feet, nearest the centre.
        let feet = top - height;
        let pitch = if count > 1 { 2.0 * feet * (step / 2.0).tan() } else { f32::INFINITY };
        width = (height * DEPT_MAX_ASPECT).min(pitch * DEPT_FILL);
        if width < height * DEPT_MIN_ASPECT {
            height = width / DEPT_MIN_ASPECT;
        }
    }
    let radius = top - height / 2.0;
    (0..count)
        .map(|i| {
            // Angle from the top, clockwise.
            let theta = -span / 2.0 + i as f32 * step;
            GlyphBox { centre: (radius * theta.sin(), radius * theta.cos()), width, height, rotation: -theta }
        })
        .collect()
}

/// Boxes for `count` seal name glyphs in one horizontal row under the star, centred.
///
/// The row is as wide as it may be without coming near the department name (`arc`) or
/// the ring; glyphs are condensed, and for long seal names made smaller, to fit.
pub(crate) fn row_boxes(frame: &Frame, count: usize, arc: &[GlyphBox]) -> Vec<GlyphBox> {
    if count == 0 {
        return Vec::new();
    }
    let clearance = NAME_CLEARANCE * frame.scale;
    let mut height = NAME_HEIGHT * frame.scale;
    let cy = NAME_CENTRE * frame.outer_radius;
    let half_width = widest_free_row(frame, arc, cy, height, clearance);
    let n = count as f32;
    // Total row width is n·w + (n−1)·spacing·w.
    let fit = 2.0 * half_width / (n + (n - 1.0) * NAME_SPACING);
    let width = (height * NAME_MAX_ASPECT).min(fit);
    if width < height * NAME_MIN_ASPECT {
        height = width / NAME_MIN_ASPECT;
    }
    let pitch = width * (1.0 + NAME_SPACING);
    let first = -(n - 1.0) * pitch / 2.0;
    (0..count)
        .map(|i| GlyphBox { centre: (first + i as f32 * pitch, cy), width, height, rotation: 0.0 })
        .collect()
}

/// Half the width of the widest row of `height` centred at `cy` that keeps `clearance`
/// from the department glyphs and the inside of the ring.
fn widest_free_row(frame: &Frame, arc: &[GlyphBox], cy: f32, height: f32, clearance: f32) -> f32 {
    let fits = |hw: f32| {
        let row = GlyphBox { centre: (0.0, cy), width: 2.0 * hw, height, rotation: 0.0 };
        let corners = row.corners(0.0);
        let inside_ring =
            corners.iter().all(|&(x, y)| (x * x + y * y).sqrt() <= frame.inner_radius - clearance);
        inside_ring && arc.iter().all(|g| !convex_overlap(&corners, &g.corners(clearance)))
    };
    let (mut lo, mut hi) = (0.0_f32, frame.outer_radius);
    // Bisection: `lo` always fits; 24 rounds resolve well below a micrometre.
    for _ in 0..24 {
        let mid = (lo + hi) / 2.0;
        if fits(mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

/// Whether two convex quadrilaterals overlap (separating axis test).
fn convex_overlap(a: &[(f32, f32); 4], b: &[(f32, f32); 4]) -> bool {
    let separated_along_edges_of = |p: &[(f32, f32); 4]| {
        (0..4).any(|i| {
            let (x0, y0) = p[i];
            let (x1, y1) = p[(i + 1) % 4];
            let axis = (y0 - y1, x1 - x0);
            let project = |q: &[(f32, f32); 4]| {
                q.iter().fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &(x, y)| {
                    let d = x * axis.0 + y * axis.1;
                    (lo.min(d), hi.max(d))
                })
            };
            let (alo, ahi) = project(a);
            let (blo, bhi) = project(b);
            ahi < blo || bhi < alo
        })
    };
    !(separated_along_edges_of(a) || separated_along_edges_of(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::f32::consts::PI;

    /// The y coordinate of the star's two lowest points.
    fn star_bottom(frame: &Frame) -> f32 {
        -frame.star_radius * (PI / 5.0).cos()
    }

    #[test]
    fn arc_is_symmetric_about_the_vertical_axis() {
        let frame = Frame::new(42.0);
        for n in 1..=30 {
            let boxes = arc_boxes(&frame, n);
            assert_eq!(boxes.len(), n);
            let (first, last) = (boxes[0], boxes[n - 1]);
            assert!((first.rotation + last.rotation).abs() < 1e-5, "n={n}");
            assert!((first.centre.0 + last.centre.0).abs() < 1e-4, "n={n}");
            assert!((first.centre.1 - last.centre.1).abs() < 1e-4, "n={n}");
            // Left to right: the first glyph is on the left, turned anticlockwise.
            if n > 1 {
                assert!(first.centre.0 < 0.0 && first.rotation > 0.0);
            }
        }
    }

    #[test]
    fn arc_span_grows_with_length_within_bounds() {
        assert!((arc_span(14).to_degrees() - 240.0).abs() < 1e-3);
        assert!((arc_span(8).to_degrees() - 204.0).abs() < 1e-3);
        assert!((arc_span(30).to_degrees() - 260.0).abs() < 1e-3);
        assert!(arc_span(4).to_degrees() <= 180.0 + 1e-3);
    }

    #[test]
    fn neighbouring_arc_glyphs_do_not_overlap() {
        let frame = Frame::new(42.0);
        for n in [2, 4, 8, 14, 18, 30] {
            let boxes = arc_boxes(&frame, n);
            for pair in boxes.windows(2) {
                assert!(!convex_overlap(&pair[0].corners(0.0), &pair[1].corners(0.0)), "n={n}");
            }
            // Inside the ring and clear of the star.
            for b in &boxes {
                for (x, y) in b.corners(0.0) {
                    let r = (x * x + y * y).sqrt();
                    assert!(r < frame.inner_radius && r > frame.star_radius, "n={n} r={r}");
                }
            }
        }
    }

    #[test]
    fn seal_name_row_is_centred_clear_and_below_the_star() {
        let frame = Frame::new(42.0);
        for (n, m) in [(4, 7), (14, 7), (18, 12), (30, 12), (14, 1)] {
            let arc = arc_boxes(&frame, n);
            let row = row_boxes(&frame, m, &arc);
            assert_eq!(row.len(), m);
            let left = row[0].centre.0 - row[0].width / 2.0;
            let right = row[m - 1].centre.0 + row[m - 1].width / 2.0;
            assert!((left + right).abs() < 1e-4, "row not centred");
            assert!(row[0].centre.1 + row[0].height / 2.0 < star_bottom(&frame), "row touches the star");
            for g in &row {
                for a in &arc {
                    assert!(!convex_overlap(&g.corners(0.0), &a.corners(0.0)), "n={n} m={m}");
                }
            }
        }
    }

    #[test]
    fn overlap_test_detects_rotated_boxes() {
        let a = GlyphBox { centre: (0.0, 0.0), width: 2.0, height: 2.0, rotation: 0.0 };
        let b = GlyphBox { centre: (1.5, 1.5), width: 2.0, height: 2.0, rotation: PI / 4.0 };
        let c = GlyphBox { centre: (3.0, 3.0), width: 2.0, height: 2.0, rotation: PI / 4.0 };
        assert!(convex_overlap(&a.corners(0.0), &b.corners(0.0)));
        assert!(!convex_overlap(&a.corners(0.0), &c.corners(0.0)));
    }
}
