//! The electronic seal image (电子印章): a red official seal drawn as filled vector paths.
//!
//! [`draw`] lays out a round official seal (公章) from a department name and a seal name:
//! an outer ring, a five-pointed star in the centre, the department name along the upper
//! arc (each glyph turned to the tangent, tops outward, reading clockwise) and the seal name
//! in a row under the star. The result, [`SealDrawing`], is plain data in millimetres with
//! the y axis up, so a PDF content stream can use it as is; [`SealDrawing::to_svg`] and
//! [`SealDrawing::to_png`] render it for screens. Glyphs come from the embedded font
//! ([`crate::font::face`]); no I/O happens here.

mod drawing;
mod geometry;
mod layout;
mod render;

pub use drawing::{FillRule, SEAL_RED, SealDrawing, SealError, SealPath, Seg};
pub use render::{IMAGE_MARGIN_MM, MAX_PNG_PX, MIN_PNG_PX};

use geometry::Affine;
use layout::{Frame, GlyphBox};

/// Diameter of a seal when none is given: the common 42 mm official seal.
pub const DEFAULT_DIAMETER_MM: f32 = 42.0;

/// Smallest diameter [`draw_with_diameter`] accepts, in millimetres.
pub const MIN_DIAMETER_MM: f32 = 10.0;

/// Largest diameter [`draw_with_diameter`] accepts, in millimetres.
pub const MAX_DIAMETER_MM: f32 = 100.0;

/// Most characters a department name may have (whitespace not counted).
pub const MAX_DEPARTMENT_CHARS: usize = 30;

/// Most characters a seal name may have (whitespace not counted).
pub const MAX_SEAL_NAME_CHARS: usize = 12;

/// Draws a seal of [`DEFAULT_DIAMETER_MM`] for `department_name` with `seal_name` under the star.
///
/// See [`draw_with_diameter`] for the rules on names.
pub fn draw(department_name: &str, seal_name: &str) -> Result<SealDrawing, SealError> {
    draw_with_diameter(department_name, seal_name, DEFAULT_DIAMETER_MM)
}

/// Draws a seal `diameter_mm` across for `department_name` with `seal_name` under the star.
///
/// Whitespace anywhere in a name is ignored (seal text has no spaces). The department name
/// needs 1 to [`MAX_DEPARTMENT_CHARS`] characters; the seal name 0 to
/// [`MAX_SEAL_NAME_CHARS`] (an empty one leaves the space under the star blank). Every
/// character must be in the embedded font, otherwise [`SealError::MissingGlyph`]. The
/// diameter must lie between [`MIN_DIAMETER_MM`] and [`MAX_DIAMETER_MM`]. The same input
/// always gives the same drawing.
pub fn draw_with_diameter(
    department_name: &str,
    seal_name: &str,
    diameter_mm: f32,
) -> Result<SealDrawing, SealError> {
    if !(MIN_DIAMETER_MM..=MAX_DIAMETER_MM).contains(&diameter_mm) {
        return Err(SealError::BadSize(format!(
            "the seal diameter must be between {MIN_DIAMETER_MM} and {MAX_DIAMETER_MM} mm, not {diameter_mm}"
        )));
    }
    let face = crate::font::face();
    let department = glyphs_of(face, department_name, "department name", MAX_DEPARTMENT_CHARS, true)?;
    let seal = glyphs_of(face, seal_name, "seal name", MAX_SEAL_NAME_CHARS, false)?;

    let frame = Frame::new(diameter_mm);
    let arc = layout::arc_boxes(&frame, department.len());
    let row = layout::row_boxes(&frame, seal.len(), &arc);

    let mut ring = geometry::circle(frame.outer_radius);
    ring.extend(geometry::circle(frame.inner_radius));
    let mut paths = vec![
        SealPath { segs: ring, fill_rule: FillRule::EvenOdd },
        SealPath { segs: geometry::star(frame.star_radius, 0.0), fill_rule: FillRule::NonZero },
    ];
    let metrics = IdeographMetrics::of(face);
    for (glyph, place) in department.iter().chain(&seal).zip(arc.iter().chain(&row)) {
        let segs = geometry::glyph_outline(face, glyph.id, metrics.placement(glyph.advance, place))
            .ok_or(SealError::MissingGlyph(glyph.c))?;
        paths.push(SealPath { segs, fill_rule: FillRule::NonZero });
    }
    Ok(SealDrawing { diameter_mm, paths })
}

/// A character of a name with its glyph in the font.
#[derive(Debug, Clone, Copy)]
struct Glyph {
    c: char,
    id: ttf_parser::GlyphId,
    /// Horizontal advance in font units.
    advance: f32,
}

/// The non-whitespace characters of `name` with their glyphs, checked against the limits.
fn glyphs_of(
    face: &ttf_parser::Face<'_>,
    name: &str,
    which: &'static str,
    max: usize,
    required: bool,
) -> Result<Vec<Glyph>, SealError> {
    let chars: Vec<char> = name.chars().filter(|c| !c.is_whitespace()).collect();
    if chars.is_empty() && required {
        return Err(SealError::EmptyName(which));
    }
    if chars.len() > max {
        return Err(SealError::NameTooLong { which, max, got: chars.len() });
    }
    chars
        .into_iter()
        .map(|c| {
            let id = face.glyph_index(c).filter(|id| id.0 != 0).ok_or(SealError::MissingGlyph(c))?;
            let advance = face.glyph_hor_advance(id).map_or(f32::from(face.units_per_em()), f32::from);
            Ok(Glyph { c, id, advance })
        })
        .collect()
}

/// The ink box of a full-width ideograph in font units, which [`GlyphBox`] sizes refer to.
#[derive(Debug, Clone, Copy)]
struct IdeographMetrics {
    width: f32,
    height: f32,
    /// Vertical centre of the ideographic face above the baseline.
    centre_y: f32,
}

impl IdeographMetrics {
    /// Measures 国, the fullest ideograph, falling back to the em box.
    fn of(face: &ttf_parser::Face<'_>) -> Self {
        face.glyph_index('国')
            .and_then(|id| face.glyph_bounding_box(id))
            .filter(|b| b.width() > 0 && b.height() > 0)
            .map(|b| Self {
                width: f32::from(b.width()),
                height: f32::from(b.height()),
                centre_y: (f32::from(b.y_min) + f32::from(b.y_max)) / 2.0,
            })
            .unwrap_or_else(|| {
                let em = f32::from(face.units_per_em());
                Self { width: em * 0.9, height: em * 0.9, centre_y: em * 0.38 }
            })
    }

    /// The map from font units of a glyph with `advance` into its box on the seal.
    ///
    /// The glyph is centred horizontally on its advance and vertically on the ideographic
    /// face, so glyphs of different shapes line up the way type does.
    fn placement(&self, advance: f32, place: &GlyphBox) -> Affine {
        Affine::translate(place.centre.0, place.centre.1)
            .then_after(Affine::rotate(place.rotation))
            .then_after(Affine::scale(place.width / self.width, place.height / self.height))
            .then_after(Affine::translate(-advance / 2.0, -self.centre_y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEPT: &str = "上海市浦东新区市场监督管理局";
    const NAME: &str = "行政审批专用章";

    /// Bounding box (min x, min y, max x, max y) of a path's end points.
    fn bounds(path: &SealPath) -> (f32, f32, f32, f32) {
        let mut b = (f32::INFINITY, f32::INFINITY, f32::NEG_INFINITY, f32::NEG_INFINITY);
        for seg in &path.segs {
            let (x, y) = match *seg {
                Seg::MoveTo(x, y)
                | Seg::LineTo(x, y)
                | Seg::QuadTo(_, _, x, y)
                | Seg::CubicTo(_, _, _, _, x, y) => (x, y),
                Seg::Close => continue,
            };
            b = (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y));
        }
        b
    }

    #[test]
    fn drawing_has_ring_star_and_one_path_per_glyph() {
        let d = draw(DEPT, NAME).unwrap();
        assert_eq!(d.diameter_mm, DEFAULT_DIAMETER_MM);
        assert_eq!(d.paths.len(), 2 + 14 + 7);
        // Ring: two closed circles, even-odd, reaching the full diameter.
        let ring = &d.paths[0];
        assert_eq!(ring.fill_rule, FillRule::EvenOdd);
        assert_eq!(ring.segs.iter().filter(|s| matches!(s, Seg::MoveTo(..))).count(), 2);
        let (x0, y0, x1, y1) = bounds(ring);
        assert!(
            (x1 - 21.0).abs() < 1e-4
                && (x0 + 21.0).abs() < 1e-4
                && (y1 - 21.0).abs() < 1e-4
                && (y0 + 21.0).abs() < 1e-4
        );
        // Star: one ten-corner polygon about 14 mm tall-ish, centred.
        let star = &d.paths[1];
        assert_eq!(star.segs.len(), 11);
        let (sx0, _, sx1, sy1) = bounds(star);
        assert!((sx0 + sx1).abs() < 1e-4 && (sy1 - 7.0).abs() < 1e-4);
        // Glyphs: non-zero, each a separate path, all within the ring.
        for p in &d.paths[2..] {
            assert_eq!(p.fill_rule, FillRule::NonZero);
            assert!(matches!(p.segs.first(), Some(Seg::MoveTo(..))));
            for seg in &p.segs {
                if let Seg::MoveTo(x, y) | Seg::LineTo(x, y) | Seg::QuadTo(_, _, x, y) = *seg {
                    let r = x.hypot(y);
                    assert!(r < 21.0 - 1.2 - 0.3, "glyph pokes into the ring: r={r}");
                    assert!(r > 7.0, "glyph overlaps the star: r={r}");
                }
            }
        }
        // Department glyphs stay above the seal name; seal name glyphs are below the star.
        for p in &d.paths[16..] {
            let (_, _, _, y1) = bounds(p);
            assert!(y1 < -5.7, "seal name touches the star");
        }
    }

    #[test]
    fn drawing_is_deterministic() {
        assert_eq!(draw(DEPT, NAME).unwrap(), draw(DEPT, NAME).unwrap());
    }

    #[test]
    fn whitespace_is_ignored() {
        assert_eq!(
            draw(" 上海市 浦东新区\t市场监督管理局 ", "行政审批 专用章").unwrap(),
            draw("上海市浦东新区市场监督管理局", NAME).unwrap()
        );
    }

    #[test]
    fn empty_seal_name_draws_nothing_under_the_star() {
        let d = draw("某某局", "  ").unwrap();
        assert_eq!(d.paths.len(), 2 + 3);
    }

    #[test]
    fn first_and_last_arc_glyphs_mirror_each_other() {
        // 中 is left-right symmetric, so its two copies mirror about the vertical axis.
        let d = draw("中国人民中", "").unwrap();
        let (a, b) = (bounds(&d.paths[2]), bounds(&d.paths[6]));
        assert!((a.0 + b.2).abs() < 0.15 && (a.2 + b.0).abs() < 0.15, "{a:?} vs {b:?}");
        assert!((a.1 - b.1).abs() < 0.15 && (a.3 - b.3).abs() < 0.15, "{a:?} vs {b:?}");
    }

    #[test]
    fn rejects_empty_and_too_long_names() {
        assert!(matches!(draw("", NAME), Err(SealError::EmptyName("department name"))));
        assert!(matches!(draw(" \t ", NAME), Err(SealError::EmptyName("department name"))));
        let long = "国".repeat(31);
        assert!(matches!(
            draw(&long, NAME),
            Err(SealError::NameTooLong { which: "department name", max: 30, got: 31 })
        ));
        assert!(draw(&"国".repeat(30), NAME).is_ok());
        assert!(matches!(
            draw(DEPT, "一二三四五六七八九十一二三"),
            Err(SealError::NameTooLong { which: "seal name", max: 12, got: 13 })
        ));
        assert!(draw(DEPT, "一二三四五六七八九十一二").is_ok());
    }

    #[test]
    fn rejects_characters_the_font_lacks() {
        // U+20000 (CJK Extension B) and U+E000 (private use) are not in the embedded font.
        assert!(matches!(draw("上海\u{20000}局", NAME), Err(SealError::MissingGlyph('\u{20000}'))));
        assert!(matches!(draw(DEPT, "专用\u{E000}"), Err(SealError::MissingGlyph('\u{E000}'))));
        let msg = SealError::MissingGlyph('\u{20000}').to_string();
        assert!(msg.contains("U+20000"), "{msg}");
    }

    #[test]
    fn rejects_bad_diameters() {
        for d in [0.0, 5.0, 150.0, f32::NAN, f32::INFINITY] {
            assert!(matches!(draw_with_diameter(DEPT, NAME, d), Err(SealError::BadSize(_))), "{d}");
        }
        let small = draw_with_diameter(DEPT, NAME, 21.0).unwrap();
        let (x0, _, x1, _) = bounds(&small.paths[0]);
        assert!((x1 - x0 - 21.0).abs() < 1e-4);
    }

    #[test]
    fn error_messages_say_what_is_wrong() {
        assert_eq!(SealError::EmptyName("department name").to_string(), "the department name is empty");
        assert_eq!(
            SealError::NameTooLong { which: "seal name", max: 12, got: 13 }.to_string(),
            "the seal name has 13 characters, but at most 12 fit on a seal"
        );
    }
}
