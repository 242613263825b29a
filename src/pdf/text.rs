//! Text with the embedded CJK font: glyph encoding and the subset Type 0 font.
//!
//! Glyphs are addressed by their id in the subset (`Identity-H`, CID = new glyph id), the
//! subset is made by `subsetter` from [`crate::font::subset_source`], and a `ToUnicode` CMap maps
//! every used glyph back to its character so that text extraction gives the Chinese back.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use lopdf::{Dictionary, Document, Object, ObjectId};
use subsetter::GlyphRemapper;

use super::PdfError;
use crate::font::face;

/// PostScript name of the embedded face.
const BASE_FONT: &str = "WenQuanYiMicroHei";

/// The glyphs a document uses so far, in order of first use.
#[derive(Debug)]
pub(crate) struct FontUse {
    remapper: GlyphRemapper,
    /// New glyph id → the text it stands for.
    to_unicode: BTreeMap<u16, char>,
    /// New glyph id → advance in 1/1000 em.
    widths: BTreeMap<u16, u16>,
}

impl FontUse {
    /// No glyph used yet (only `.notdef`).
    pub(crate) fn new() -> Self {
        Self { remapper: GlyphRemapper::new(), to_unicode: BTreeMap::new(), widths: BTreeMap::new() }
    }

    /// The 2-byte codes (new glyph ids, big-endian) that show `text`.
    pub(crate) fn encode(&mut self, text: &str) -> Result<Vec<u8>, PdfError> {
        let face = face();
        let upem = f32::from(face.units_per_em());
        let mut out = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let (id, advance) = crate::font::glyph(c).ok_or(PdfError::MissingGlyph(c))?;
            let new = self.remapper.remap(id);
            self.to_unicode.entry(new).or_insert(c);
            self.widths.entry(new).or_insert_with(|| {
                let adv = f32::from(advance);
                // Advances are at most a few em, so this fits a u16.
                (adv * 1000.0 / upem).round() as u16
            });
            out.extend_from_slice(&new.to_be_bytes());
        }
        Ok(out)
    }

    /// Adds the subset font to `doc` and returns the id of its Type 0 font dictionary.
    pub(crate) fn embed(&self, doc: &mut Document) -> Result<ObjectId, PdfError> {
        let face = face();
        // The source has no hinting and no glyph names, so neither has the subset.
        let (source, index) = crate::font::subset_source();
        let subset = subsetter::subset(source, index, &self.remapper)
            .map_err(|e| PdfError::FontSubset(e.to_string()))?;
        let subset = if index == 0 { subset } else { crate::font::sfnt::strip(subset) };
        let subset_len = i64::try_from(subset.len()).map_err(|e| PdfError::FontSubset(e.to_string()))?;
        let file =
            super::flate_stream(Dictionary::from_iter([("Length1", Object::Integer(subset_len))]), subset);
        let file_id = doc.add_object(file);

        let name = format!("{}+{BASE_FONT}", self.tag());
        let upem = f32::from(face.units_per_em());
        let em = |v: i16| Object::Integer((f32::from(v) * 1000.0 / upem).round() as i64);
        let bbox = face.global_bounding_box();
        let descriptor = Dictionary::from_iter([
            ("Type", Object::Name(b"FontDescriptor".to_vec())),
            ("FontName", Object::Name(name.clone().into_bytes())),
            ("Flags", Object::Integer(4)),
            ("FontBBox", Object::Array(vec![em(bbox.x_min), em(bbox.y_min), em(bbox.x_max), em(bbox.y_max)])),
            ("ItalicAngle", Object::Integer(0)),
            ("Ascent", em(face.ascender())),
            ("Descent", em(face.descender())),
            ("CapHeight", em(face.capital_height().unwrap_or(face.ascender()))),
            ("StemV", Object::Integer(80)),
            ("FontFile2", Object::Reference(file_id)),
        ]);
        let descriptor_id = doc.add_object(descriptor);

        let widths: Vec<Object> = (0..self.remapper.num_gids())
            .map(|g| Object::Integer(i64::from(self.widths.get(&g).copied().unwrap_or(0))))
            .collect();
        let cid_font = Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"CIDFontType2".to_vec())),
            ("BaseFont", Object::Name(name.clone().into_bytes())),
            (
                "CIDSystemInfo",
                Object::Dictionary(Dictionary::from_iter([
                    ("Registry", Object::string_literal("Adobe")),
                    ("Ordering", Object::string_literal("Identity")),
                    ("Supplement", Object::Integer(0)),
                ])),
            ),
            ("FontDescriptor", Object::Reference(descriptor_id)),
            ("DW", Object::Integer(1000)),
            ("W", Object::Array(vec![Object::Integer(0), Object::Array(widths)])),
            ("CIDToGIDMap", Object::Name(b"Identity".to_vec())),
        ]);
        let cid_font_id = doc.add_object(cid_font);

        let cmap = super::flate_stream(Dictionary::new(), self.to_unicode_cmap().into_bytes());
        let cmap_id = doc.add_object(cmap);

        Ok(doc.add_object(Dictionary::from_iter([
            ("Type", Object::Name(b"Font".to_vec())),
            ("Subtype", Object::Name(b"Type0".to_vec())),
            ("BaseFont", Object::Name(name.into_bytes())),
            ("Encoding", Object::Name(b"Identity-H".to_vec())),
            ("DescendantFonts", Object::Array(vec![Object::Reference(cid_font_id)])),
            ("ToUnicode", Object::Reference(cmap_id)),
        ])))
    }

    /// The six-letter subset tag, derived from the glyph set so equal subsets get equal tags.
    fn tag(&self) -> String {
        // FNV-1a over the old glyph ids in subset order.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for g in self.remapper.remapped_gids() {
            for b in g.to_be_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        (0..6)
            .map(|_| {
                let c = char::from(b'A' + (h % 26) as u8);
                h /= 26;
                c
            })
            .collect()
    }

    /// The ToUnicode CMap: new glyph id → UTF-16BE of its character.
    fn to_unicode_cmap(&self) -> String {
        let mut s = String::from(
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n\
             /CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n\
             /CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n\
             1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n",
        );
        let entries: Vec<(&u16, &char)> = self.to_unicode.iter().collect();
        for chunk in entries.chunks(100) {
            let _ = writeln!(s, "{} beginbfchar", chunk.len());
            for (gid, c) in chunk {
                let _ = write!(s, "<{gid:04X}> <");
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(s, "{u:04X}");
                }
                s.push_str(">\n");
            }
            s.push_str("endbfchar\n");
        }
        s.push_str("endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_in_order_of_first_use_and_maps_back() {
        let mut f = FontUse::new();
        let a = f.encode("许可证A").unwrap();
        let b = f.encode("证").unwrap();
        assert_eq!(a, vec![0, 1, 0, 2, 0, 3, 0, 4]);
        assert_eq!(b, vec![0, 3]);
        let cmap = f.to_unicode_cmap();
        assert!(cmap.contains("<0001> <8BB8>"), "{cmap}");
        assert!(cmap.contains("<0004> <0041>"), "{cmap}");
        assert_eq!(f.tag().len(), 6);
    }

    #[test]
    fn missing_glyph_is_an_error() {
        assert!(matches!(FontUse::new().encode("a\u{E000}"), Err(PdfError::MissingGlyph('\u{E000}'))));
    }
}
