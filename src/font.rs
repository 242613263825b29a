//! The CJK font embedded in the binary (WenQuanYi Micro Hei), shared by the seal drawing and the PDF and OFD writers.
//!
//! The font ships inside the crate (`templates/fonts/wqy-microhei.ttc`, Apache-2.0 or
//! GPL-3+ with font exception; the licence lies beside it), so nothing is read from disk
//! at run time. It covers CJK Unified Ideographs (the basic block), CJK punctuation and Latin.

pub(crate) mod sfnt;

use std::sync::OnceLock;

use ttf_parser::Face;

/// The raw bytes of the embedded TrueType collection.
pub static FONT_BYTES: &[u8] = include_bytes!("../templates/fonts/wqy-microhei.ttc");

/// Index of the face used inside [`FONT_BYTES`] (WenQuanYi Micro Hei; index 1 is its monospaced twin).
pub const FACE_INDEX: u32 = 0;

/// The parsed font face, parsed once on first use.
pub fn face() -> &'static Face<'static> {
    static FACE: OnceLock<Face<'static>> = OnceLock::new();
    FACE.get_or_init(|| {
        // Invariant: FONT_BYTES is a fixed file compiled into the binary and the unit test
        // `embedded_font_parses` parses it, so a failure here is a build defect, not bad input.
        #[allow(clippy::expect_used)]
        Face::parse(FONT_BYTES, FACE_INDEX).expect("the embedded font must parse (build defect)")
    })
}

/// The font that subsets are made from, and the index of the face in it: the face alone,
/// without hinting and glyph names (see [`sfnt`]), made once on first use — so subsetting
/// neither copies instructions nor walks some 30,000 glyph names only to drop them. The
/// glyph ids are those of [`face`]. Should the file not be as expected, [`FONT_BYTES`] and
/// [`FACE_INDEX`].
pub(crate) fn subset_source() -> (&'static [u8], u32) {
    static LEAN: OnceLock<Option<Vec<u8>>> = OnceLock::new();
    match LEAN.get_or_init(|| sfnt::strip_collection_face(FONT_BYTES, FACE_INDEX)) {
        Some(lean) => (lean.as_slice(), 0),
        None => (FONT_BYTES, FACE_INDEX),
    }
}

/// Whether the font can draw `c` visibly: it maps `c` to a real glyph (not `.notdef`).
pub fn has_glyph(c: char) -> bool {
    glyph(c).is_some()
}

/// The glyph id of `c` and its advance in font units, or `None` if the font maps `c` to no
/// glyph or to `.notdef`. Characters of the Basic Multilingual Plane (every one the font
/// has) are read from a table made from the font on first use (256 KB, a few
/// milliseconds): laying out and encoding a licence looks up every character several
/// times, and the font's own lookup (a binary search of its `cmap`, then `hmtx`) was a few
/// per cent of issuing.
pub fn glyph(c: char) -> Option<(u16, u16)> {
    static BMP: OnceLock<Vec<u32>> = OnceLock::new();
    let Ok(code) = u16::try_from(u32::from(c)) else { return lookup(c) };
    let table = BMP.get_or_init(|| {
        (0..=u32::from(u16::MAX))
            .map(|u| {
                char::from_u32(u)
                    .and_then(lookup)
                    .map_or(0, |(id, advance)| (u32::from(id) << 16) | u32::from(advance))
            })
            .collect()
    });
    // A real glyph's id is not 0, so neither is its entry.
    let entry = *table.get(usize::from(code))?;
    // The two halves of the entry.
    (entry != 0).then_some(((entry >> 16) as u16, entry as u16))
}

/// [`glyph`] from the font itself.
fn lookup(c: char) -> Option<(u16, u16)> {
    let face = face();
    let id = face.glyph_index(c).filter(|id| id.0 != 0)?;
    Some((id.0, face.glyph_hor_advance(id).unwrap_or(0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_font_parses() {
        let parsed = Face::parse(FONT_BYTES, FACE_INDEX);
        assert!(parsed.is_ok(), "{parsed:?}");
        assert!(face().units_per_em() > 0);
    }

    #[test]
    fn the_subset_source_is_the_lean_face_with_the_same_glyphs() {
        let (lean, index) = subset_source();
        assert_eq!(index, 0, "the face could not be taken out of the collection");
        assert!(lean.len() < FONT_BYTES.len());
        let lean = Face::parse(lean, 0).unwrap();
        assert_eq!(lean.number_of_glyphs(), face().number_of_glyphs());
        for c in "许可证ABC".chars() {
            let id = face().glyph_index(c).unwrap();
            assert_eq!(lean.glyph_index(c), Some(id));
            assert_eq!(lean.glyph_hor_advance(id), face().glyph_hor_advance(id));
            assert_eq!(lean.glyph_bounding_box(id), face().glyph_bounding_box(id));
        }
        assert!(lean.tables().post.is_some_and(|p| p.names().next().is_none()));
    }

    #[test]
    fn the_glyph_table_answers_as_the_font_does() {
        for c in "许可证ABC 0，。龘\u{3000}\u{E000}\u{FFFF}\u{20000}\u{1F600}".chars() {
            assert_eq!(glyph(c), lookup(c), "{c:?}");
        }
        let step = 97;
        for u in (0..=0xFFFFu32).step_by(step) {
            if let Some(c) = char::from_u32(u) {
                assert_eq!(glyph(c), lookup(c), "U+{u:04X}");
            }
        }
    }

    #[test]
    fn covers_cjk_and_latin() {
        for c in "上海市浦东新区市场监督管理局行政审批专用章ABCxyz0123".chars() {
            assert!(has_glyph(c), "font lacks {c}");
        }
    }

    #[test]
    fn lacks_private_use_and_extension_b() {
        // Verified against the shipped file: no private-use glyphs, no CJK Extension B.
        assert!(!has_glyph('\u{E000}'));
        assert!(!has_glyph('\u{20000}'));
    }
}
