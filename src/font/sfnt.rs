//! Shrinks a subset TrueType font for embedding: drops hinting (glyph instructions,
//! `fpgm`, `prep`, `cvt `) and glyph names (`post` version 3), which a PDF or OFD never
//! needs, and can add tables (the OFD's subset gets its Unicode `cmap` back here).
//!
//! Renderers draw CJK text at print and screen sizes unhinted anyway. For the PDF, if
//! anything in the font is not as expected, the font is returned unchanged: stripping is an
//! optimisation.

/// Tables dropped from the font.
const DROP: [&[u8; 4]; 3] = [b"fpgm", b"prep", b"cvt "];

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([*b.get(at)?, *b.get(at + 1)?, *b.get(at + 2)?, *b.get(at + 3)?]))
}

/// The font without hinting and glyph names, or `font` itself if it cannot be parsed.
pub(crate) fn strip(font: Vec<u8>) -> Vec<u8> {
    strip_adding(&font, Vec::new()).unwrap_or(font)
}

/// The font without hinting and glyph names and with the `extra` tables (replacing any of
/// the same tag), or `None` if it cannot be parsed.
pub(crate) fn strip_adding(font: &[u8], extra: Vec<([u8; 4], Vec<u8>)>) -> Option<Vec<u8>> {
    strip_face(font, 0, extra)
}

/// Face `index` of a TrueType collection (or the font itself, if `font` is no collection),
/// alone and stripped as [`strip`] strips; `None` if it cannot be parsed.
pub(crate) fn strip_collection_face(font: &[u8], index: u32) -> Option<Vec<u8>> {
    let dir = match font.get(..4)? {
        b"ttcf" => {
            let count = u32_at(font, 8)?;
            if index >= count {
                return None;
            }
            usize::try_from(u32_at(font, 12 + 4 * usize::try_from(index).ok()?)?).ok()?
        }
        _ if index == 0 => 0,
        _ => return None,
    };
    strip_face(font, dir, Vec::new())
}

/// [`strip_adding`] for the face whose table directory starts at `dir` (table offsets are
/// from the start of `font`, as in a collection).
fn strip_face(font: &[u8], dir: usize, extra: Vec<([u8; 4], Vec<u8>)>) -> Option<Vec<u8>> {
    let num_tables = usize::from(u16_at(font, dir + 4)?);
    let mut tables: Vec<([u8; 4], Vec<u8>)> = Vec::with_capacity(num_tables);
    for i in 0..num_tables {
        let rec = dir + 12 + 16 * i;
        let tag: [u8; 4] = font.get(rec..rec + 4)?.try_into().ok()?;
        let off = usize::try_from(u32_at(font, rec + 8)?).ok()?;
        let len = usize::try_from(u32_at(font, rec + 12)?).ok()?;
        tables.push((tag, font.get(off..off.checked_add(len)?)?.to_vec()));
    }
    let get = |t: &[u8; 4]| tables.iter().find(|(tag, _)| tag == t).map(|(_, d)| d.as_slice());
    let head = get(b"head")?;
    let long_loca = u16_at(head, 50)? == 1;
    let num_glyphs = usize::from(u16_at(get(b"maxp")?, 4)?);
    let (loca, glyf) = (get(b"loca")?, get(b"glyf")?);
    let offset = |i: usize| -> Option<usize> {
        if long_loca {
            usize::try_from(u32_at(loca, 4 * i)?).ok()
        } else {
            Some(usize::from(u16_at(loca, 2 * i)?) * 2)
        }
    };

    let mut new_glyf = Vec::with_capacity(glyf.len());
    let mut new_loca = Vec::with_capacity(loca.len());
    let push_offset = |loca: &mut Vec<u8>, at: usize| -> Option<()> {
        if long_loca {
            loca.extend_from_slice(&u32::try_from(at).ok()?.to_be_bytes());
        } else {
            loca.extend_from_slice(&u16::try_from(at / 2).ok()?.to_be_bytes());
        }
        Some(())
    };
    for i in 0..num_glyphs {
        push_offset(&mut new_loca, new_glyf.len())?;
        let glyph = glyf.get(offset(i)?..offset(i + 1)?)?;
        if !glyph.is_empty() {
            new_glyf.extend_from_slice(&strip_glyph(glyph)?);
            while new_glyf.len() % 4 != 0 {
                new_glyf.push(0);
            }
        }
    }
    push_offset(&mut new_loca, new_glyf.len())?;

    let mut out_tables: Vec<([u8; 4], Vec<u8>)> = Vec::with_capacity(tables.len());
    for (tag, data) in &tables {
        let data = match tag {
            t if DROP.contains(&t) => continue,
            b"glyf" => new_glyf.clone(),
            b"loca" => new_loca.clone(),
            b"post" => {
                let mut p = data.get(..32)?.to_vec();
                p[..4].copy_from_slice(&0x0003_0000u32.to_be_bytes());
                p
            }
            b"maxp" if data.len() >= 32 => {
                let mut m = data.clone();
                // maxZones 1, no twilight points, storage, functions, instruction defs, stack
                // or instructions: the font has no hinting left.
                m[14..16].copy_from_slice(&1u16.to_be_bytes());
                m[16..28].fill(0);
                m
            }
            _ => data.clone(),
        };
        out_tables.push((*tag, data));
    }
    out_tables.retain(|(tag, _)| !extra.iter().any(|(t, _)| t == tag));
    out_tables.extend(extra);
    // The table directory is sorted by tag.
    out_tables.sort_by_key(|a| a.0);
    Some(assemble(font.get(dir..dir + 4)?, out_tables))
}

/// The glyph without its instructions.
fn strip_glyph(g: &[u8]) -> Option<Vec<u8>> {
    let contours = i16::from_be_bytes([*g.first()?, *g.get(1)?]);
    if contours >= 0 {
        let n = usize::try_from(contours).ok()?;
        let ins_at = 10 + 2 * n;
        let ins_len = usize::from(u16_at(g, ins_at)?);
        let rest = g.get(ins_at + 2 + ins_len..)?;
        let mut out = Vec::with_capacity(g.len());
        out.extend_from_slice(g.get(..ins_at)?);
        out.extend_from_slice(&[0, 0]);
        out.extend_from_slice(rest);
        return Some(out);
    }
    // Composite: walk the components; the last one's flags say whether instructions follow.
    let mut at = 10;
    loop {
        let flags = u16_at(g, at)?;
        let mut len = 4 + if flags & 0x0001 != 0 { 4 } else { 2 };
        len += if flags & 0x0008 != 0 {
            2
        } else if flags & 0x0040 != 0 {
            4
        } else if flags & 0x0080 != 0 {
            8
        } else {
            0
        };
        if flags & 0x0020 == 0 {
            let mut out = g.get(..at + len)?.to_vec();
            out[at..at + 2].copy_from_slice(&(flags & !0x0100).to_be_bytes());
            return Some(out);
        }
        at += len;
    }
}

/// Table checksum: the sum of big-endian u32 words, zero padded.
fn checksum(data: &[u8]) -> u32 {
    data.chunks(4).fold(0u32, |sum, c| {
        let mut w = [0u8; 4];
        w[..c.len()].copy_from_slice(c);
        sum.wrapping_add(u32::from_be_bytes(w))
    })
}

/// Writes an sfnt with `tables` (in the given order) and a correct head checksum adjustment.
fn assemble(version: &[u8], tables: Vec<([u8; 4], Vec<u8>)>) -> Vec<u8> {
    let n = tables.len();
    // At most a few dozen tables, so these fit a u16.
    let n16 = n as u16;
    let entry_selector = 15 - n16.max(1).leading_zeros() as u16;
    let search_range = (1u16 << entry_selector) * 16;
    let mut out = Vec::new();
    out.extend_from_slice(version);
    for v in [n16, search_range, entry_selector, n16 * 16 - search_range] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let mut offset = 12 + 16 * n;
    let mut head_at = None;
    let mut body = Vec::new();
    for (tag, mut data) in tables {
        if &tag == b"head" && data.len() >= 12 {
            data[8..12].fill(0);
            head_at = Some(offset);
        }
        out.extend_from_slice(&tag);
        out.extend_from_slice(&checksum(&data).to_be_bytes());
        // Subset fonts are far below 4 GiB.
        out.extend_from_slice(&(offset as u32).to_be_bytes());
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let padded = data.len().div_ceil(4) * 4;
        offset += padded;
        body.extend_from_slice(&data);
        body.resize(body.len() + padded - data.len(), 0);
    }
    out.extend_from_slice(&body);
    if let Some(h) = head_at {
        let adjust = 0xB1B0_AFBAu32.wrapping_sub(checksum(&out));
        out[h + 8..h + 12].copy_from_slice(&adjust.to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stripped_subset_still_parses_and_draws() {
        let face = crate::font::face();
        let mut r = subsetter::GlyphRemapper::new();
        let ids: Vec<u16> = "许可证ABC".chars().map(|c| face.glyph_index(c).unwrap().0).collect();
        ids.iter().for_each(|g| {
            r.remap(*g);
        });
        let sub = subsetter::subset(crate::font::FONT_BYTES, crate::font::FACE_INDEX, &r).unwrap();
        let stripped = strip(sub.clone());
        assert!(stripped.len() < sub.len(), "{} vs {}", stripped.len(), sub.len());
        let f = ttf_parser::Face::parse(&stripped, 0).unwrap();
        // Components of composite glyphs join the subset after the requested glyphs.
        assert!(f.number_of_glyphs() >= r.num_gids());
        assert!(f.raw_face().table(ttf_parser::Tag::from_bytes(b"fpgm")).is_none());
        for new in 1..r.num_gids() {
            let mut sink = Sink(0);
            assert!(f.outline_glyph(ttf_parser::GlyphId(new), &mut sink).is_some());
            assert!(sink.0 > 0);
        }
        // Garbage is returned as is.
        assert_eq!(strip(vec![1, 2, 3]), vec![1, 2, 3]);
    }

    struct Sink(usize);
    impl ttf_parser::OutlineBuilder for Sink {
        fn move_to(&mut self, _: f32, _: f32) {
            self.0 += 1;
        }
        fn line_to(&mut self, _: f32, _: f32) {
            self.0 += 1;
        }
        fn quad_to(&mut self, _: f32, _: f32, _: f32, _: f32) {
            self.0 += 1;
        }
        fn curve_to(&mut self, _: f32, _: f32, _: f32, _: f32, _: f32, _: f32) {
            self.0 += 1;
        }
        fn close(&mut self) {}
    }
}
