//! The OFD's embedded font: a subset of the shipped font ([`crate::font`]) as one TrueType
//! font that keeps a Unicode `cmap` for the characters used, so readers map each
//! `TextCode` character to its glyph (no `CGTransform`) and text extraction gives the
//! Chinese back.
//!
//! `subsetter` renumbers the glyphs and drops the `cmap` (a PDF brings its own); the
//! `cmap` (format 4, every licence character lies in the BMP, as the font has no others)
//! and the original `OS/2` table are added back while [`crate::font::sfnt`] strips hinting.

use std::collections::BTreeMap;

use subsetter::GlyphRemapper;

use super::OfdError;
use crate::font::face;
use crate::layout::LayoutError;

/// The characters a document uses so far and their glyphs in the subset.
#[derive(Debug)]
pub(crate) struct FontUse {
    remapper: GlyphRemapper,
    /// Character → glyph id in the subset.
    glyphs: BTreeMap<char, u16>,
}

impl FontUse {
    /// No character used yet (only `.notdef`).
    pub(crate) fn new() -> Self {
        Self { remapper: GlyphRemapper::new(), glyphs: BTreeMap::new() }
    }

    /// Records the characters of `text`; fails on one the font cannot draw.
    pub(crate) fn add(&mut self, text: &str) -> Result<(), OfdError> {
        for c in text.chars() {
            if self.glyphs.contains_key(&c) {
                continue;
            }
            let (id, _) = crate::font::glyph(c).ok_or(LayoutError::MissingGlyph(c))?;
            if u32::from(c) > 0xFFFF {
                // The shipped font has no glyph outside the BMP; a format-4 cmap could not map one.
                return Err(LayoutError::MissingGlyph(c).into());
            }
            let new = self.remapper.remap(id);
            self.glyphs.insert(c, new);
        }
        Ok(())
    }

    /// The subset font file: TrueType with the used glyphs, their advances and a Unicode `cmap`.
    pub(crate) fn subset(&self) -> Result<Vec<u8>, OfdError> {
        let (source, index) = crate::font::subset_source();
        let subset = subsetter::subset(source, index, &self.remapper)
            .map_err(|e| OfdError::FontSubset(e.to_string()))?;
        let mut extra = vec![(*b"cmap", cmap(&self.glyphs))];
        if let Some(os2) = face().raw_face().table(ttf_parser::Tag::from_bytes(b"OS/2")) {
            extra.push((*b"OS/2", os2.to_vec()));
        }
        crate::font::sfnt::strip_adding(&subset, extra)
            .ok_or_else(|| OfdError::FontSubset("the subset font could not be read back".into()))
    }
}

/// A `cmap` table with one format-4 subtable for `glyphs` (BMP characters → glyph ids),
/// listed under Unicode BMP (0, 3) and Windows Unicode BMP (3, 1).
fn cmap(glyphs: &BTreeMap<char, u16>) -> Vec<u8> {
    // Segments of consecutive characters with consecutive glyph ids: (start, end, delta).
    let mut segments: Vec<(u16, u16, u16)> = Vec::new();
    for (&c, &gid) in glyphs {
        // `FontUse::add` admits BMP characters only.
        let code = u32::from(c) as u16;
        let delta = gid.wrapping_sub(code);
        match segments.last_mut() {
            Some((_, end, d)) if *end + 1 == code && *d == delta => *end = code,
            _ => segments.push((code, code, delta)),
        }
    }
    // The required last segment maps 0xFFFF to glyph 0.
    segments.push((0xFFFF, 0xFFFF, 1));
    // At most 0xFFFF segments (one per BMP character), so these fit a u16.
    let seg_count = segments.len() as u16;
    let entry_selector = 15 - seg_count.leading_zeros() as u16;
    let search_range = 2 * (1u16 << entry_selector);
    let sub_len = 16 + 8 * segments.len();
    let mut sub = Vec::with_capacity(sub_len);
    for v in [4, sub_len as u16, 0, 2 * seg_count, search_range, entry_selector, 2 * seg_count - search_range]
    {
        sub.extend_from_slice(&v.to_be_bytes());
    }
    segments.iter().for_each(|s| sub.extend_from_slice(&s.1.to_be_bytes()));
    sub.extend_from_slice(&[0, 0]);
    segments.iter().for_each(|s| sub.extend_from_slice(&s.0.to_be_bytes()));
    segments.iter().for_each(|s| sub.extend_from_slice(&s.2.to_be_bytes()));
    segments.iter().for_each(|_| sub.extend_from_slice(&[0, 0]));

    let mut out = Vec::with_capacity(20 + sub.len());
    for v in [0u16, 2, 0, 3] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&20u32.to_be_bytes());
    for v in [3u16, 1] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(&20u32.to_be_bytes());
    out.extend_from_slice(&sub);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subset_maps_every_character_to_a_glyph_with_its_advance() {
        let text = "食品经营许可证 Food Business License 2026年11月22日，（）：1.2.156";
        let mut f = FontUse::new();
        f.add(text).unwrap();
        let bytes = f.subset().unwrap();
        let sub = ttf_parser::Face::parse(&bytes, 0).unwrap();
        let orig = face();
        assert_eq!(sub.units_per_em(), orig.units_per_em());
        assert!(sub.number_of_glyphs() < 100, "{} glyphs", sub.number_of_glyphs());
        for c in text.chars() {
            let g = sub.glyph_index(c).unwrap_or_else(|| panic!("{c:?} not in the subset's cmap"));
            assert_ne!(g.0, 0, "{c:?}");
            let og = orig.glyph_index(c).unwrap();
            assert_eq!(sub.glyph_hor_advance(g), orig.glyph_hor_advance(og), "{c:?}");
            assert_eq!(sub.glyph_bounding_box(g), orig.glyph_bounding_box(og), "{c:?}");
        }
        assert_eq!(sub.glyph_index('龘'), None);
        assert!(sub.raw_face().table(ttf_parser::Tag::from_bytes(b"fpgm")).is_none());
        assert!(sub.tables().os2.is_some());
        assert!(matches!(f.add("\u{E000}"), Err(OfdError::Layout(LayoutError::MissingGlyph('\u{E000}')))));
    }

    #[test]
    fn cmap_segments_merge_runs_and_end_with_ffff() {
        let glyphs: BTreeMap<char, u16> = [('A', 5), ('B', 6), ('D', 7), ('证', 1)].into_iter().collect();
        let t = cmap(&glyphs);
        // Segments: A–B, D, 证, 0xFFFF.
        assert_eq!(u16::from_be_bytes([t[26], t[27]]), 8);
        let sub = ttf_parser::cmap::Subtable4::parse(&t[20..]).unwrap();
        for (c, g) in glyphs {
            assert_eq!(sub.glyph_index(u32::from(c)), Some(ttf_parser::GlyphId(g)));
        }
        assert_eq!(sub.glyph_index(u32::from('C')), None);
    }
}
