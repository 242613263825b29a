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
    face().glyph_index(c).is_some_and(|id| id.0 != 0)
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
