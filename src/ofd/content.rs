//! The page's `Content.xml`: the layout's display list as OFD graphic objects, in mm with
//! the origin at the top-left corner and y down.
//!
//! Frames and rules are stroked `PathObject`s, the corner squares and the QR filled ones
//! (the QR's rows 1.02 modules high so no seams show, as in the PDF), and text is a `TextObject` per run with `DeltaX` = the glyph advances the layout
//! measured. Bold text is filled and stroked, as the PDF does it (fill + stroke rendering
//! mode), with the line width both on the object (`LineWidth`, as GB/T 33190 puts it on
//! every graphic unit) and in a `DrawParam` (which some readers take instead).

use super::OfdError;
use super::font::FontUse;
use super::xml::{OFD_NS, Xml};
use crate::font::face;
use crate::layout::{
    BOLD_STROKE_EM, Fill, Item, PageLayout, QUIET_MODULES, QrSymbol, RectMm, Rgb, Shape, Stroke, TextRun,
};

/// The next free ID of the document's one ID space.
#[derive(Debug)]
pub(crate) struct Ids(pub(crate) u32);

impl Ids {
    /// Takes the next ID.
    pub(crate) fn next(&mut self) -> u32 {
        self.0 += 1;
        self.0
    }
}

/// What writing a page needs to hand on to the resources.
#[derive(Debug, Default)]
pub(crate) struct PageResources {
    /// `(ID, line width in mm)` of each `DrawParam` that bold text refers to.
    pub(crate) draw_params: Vec<(u32, f32)>,
}

/// Writes the page: the layout's items in one body layer, text in font `font_id`.
pub(crate) fn page_xml(
    layout: &PageLayout,
    font_id: u32,
    font: &mut FontUse,
    ids: &mut Ids,
) -> Result<(Vec<u8>, PageResources), OfdError> {
    let mut x = Xml::new(64 * 1024);
    let mut res = PageResources::default();
    x.raw("<ofd:Page xmlns:ofd=\"").raw(OFD_NS).raw("\"><ofd:Content><ofd:Layer ID=\"");
    x.int(ids.next()).raw("\" Type=\"Body\">");
    let page_h = layout.height;
    for item in &layout.items {
        match item {
            Item::Stroke(s) => stroke(&mut x, ids.next(), s, page_h),
            Item::Fill(f) => fill(&mut x, ids.next(), f, page_h),
            Item::Text(t) => {
                font.add(&t.text)?;
                let width = t.bold.then_some(t.size * BOLD_STROKE_EM);
                let draw_param = match width {
                    Some(w) => Some(match res.draw_params.iter().find(|(_, dw)| *dw == w) {
                        Some((id, _)) => *id,
                        None => {
                            let id = ids.next();
                            res.draw_params.push((id, w));
                            id
                        }
                    }),
                    None => None,
                };
                text(&mut x, (ids.next(), font_id, draw_param), t, page_h)?;
            }
            Item::Qr(q) => qr(&mut x, ids.next(), q, page_h),
        }
    }
    x.raw("</ofd:Layer></ofd:Content></ofd:Page>");
    Ok((x.into_bytes(), res))
}

/// `<ofd:FillColor Value="r g b"/>` (or `StrokeColor`) in the default RGB colour space.
fn colour(x: &mut Xml, element: &str, (r, g, b): Rgb) {
    x.raw("<ofd:").raw(element).raw(" Value=\"");
    x.int(u32::from(r)).raw(" ").int(u32::from(g)).raw(" ").int(u32::from(b)).raw("\"/>");
}

/// A layout rectangle (origin bottom-left, y up) as `(left, top, width, height)` on the
/// OFD page (origin top-left, y down).
fn flip(r: &RectMm, page_h: f32) -> (f32, f32, f32, f32) {
    (r.x, page_h - r.y - r.height, r.width, r.height)
}

/// A stroked rectangle or line; the boundary leaves room for half the line width.
fn stroke(x: &mut Xml, id: u32, s: &Stroke, page_h: f32) {
    let (points, close): (Vec<(f32, f32)>, bool) = match s.shape {
        Shape::Rect(r) => {
            let (l, t, w, h) = flip(&r, page_h);
            (vec![(l, t), (l + w, t), (l + w, t + h), (l, t + h)], true)
        }
        Shape::Line((x0, y0), (x1, y1)) => (vec![(x0, page_h - y0), (x1, page_h - y1)], false),
    };
    let m = s.width / 2.0 + 0.1;
    let left = points.iter().map(|p| p.0).fold(f32::INFINITY, f32::min) - m;
    let top = points.iter().map(|p| p.1).fold(f32::INFINITY, f32::min) - m;
    let right = points.iter().map(|p| p.0).fold(f32::NEG_INFINITY, f32::max) + m;
    let bottom = points.iter().map(|p| p.1).fold(f32::NEG_INFINITY, f32::max) + m;
    x.raw("<ofd:PathObject ID=\"").int(id).raw("\" Boundary=\"");
    x.nums(&[left, top, right - left, bottom - top]).raw("\" LineWidth=\"").num(s.width);
    x.raw("\" Stroke=\"true\" Fill=\"false\">");
    colour(x, "StrokeColor", s.colour);
    x.raw("<ofd:AbbreviatedData>");
    for (i, (px, py)) in points.iter().enumerate() {
        x.raw(if i == 0 { "M " } else { " L " }).nums(&[px - left, py - top]);
    }
    if close {
        x.raw(" C");
    }
    x.raw("</ofd:AbbreviatedData></ofd:PathObject>");
}

/// Filled rectangles as one path.
fn fill(x: &mut Xml, id: u32, f: &Fill, page_h: f32) {
    let rects: Vec<_> = f.rects.iter().map(|r| flip(r, page_h)).collect();
    let left = rects.iter().map(|r| r.0).fold(f32::INFINITY, f32::min);
    let top = rects.iter().map(|r| r.1).fold(f32::INFINITY, f32::min);
    let right = rects.iter().map(|r| r.0 + r.2).fold(f32::NEG_INFINITY, f32::max);
    let bottom = rects.iter().map(|r| r.1 + r.3).fold(f32::NEG_INFINITY, f32::max);
    if rects.is_empty() {
        return;
    }
    x.raw("<ofd:PathObject ID=\"").int(id).raw("\" Boundary=\"");
    x.nums(&[left, top, right - left, bottom - top]).raw("\" Stroke=\"false\" Fill=\"true\">");
    colour(x, "FillColor", f.colour);
    x.raw("<ofd:AbbreviatedData>");
    for (i, (l, t, w, h)) in rects.iter().enumerate() {
        let (l, t) = (l - left, t - top);
        if i > 0 {
            x.raw(" ");
        }
        x.raw("M ").nums(&[l, t]).raw(" L ").nums(&[l + w, t]).raw(" L ").nums(&[l + w, t + h]);
        x.raw(" L ").nums(&[l, t + h]).raw(" C");
    }
    x.raw("</ofd:AbbreviatedData></ofd:PathObject>");
}

/// A text run: boundary from the font's ascender and descender, pen at the baseline.
fn text(
    x: &mut Xml,
    (id, font_id, draw_param): (u32, u32, Option<u32>),
    t: &TextRun,
    page_h: f32,
) -> Result<(), OfdError> {
    let face = face();
    let upem = f32::from(face.units_per_em());
    let (asc, desc) =
        (f32::from(face.ascender()) / upem * t.size, -f32::from(face.descender()) / upem * t.size);
    let advances = t.advances()?;
    let width: f32 = advances.iter().sum::<f32>() - t.spacing;
    let pad = t.size * 0.1;
    let baseline = page_h - t.baseline;
    let (left, top) = (t.x - pad, baseline - asc - pad);
    x.raw("<ofd:TextObject ID=\"").int(id).raw("\" Boundary=\"");
    x.nums(&[left, top, width + 2.0 * pad, asc + desc + 2.0 * pad]).raw("\" Font=\"").int(font_id);
    x.raw("\" Size=\"").num(t.size).raw("\"");
    if let Some(dp) = draw_param {
        x.raw(" DrawParam=\"").int(dp).raw("\" LineWidth=\"").num(t.size * BOLD_STROKE_EM);
        x.raw("\" Stroke=\"true\" Fill=\"true\"");
    }
    x.raw(">");
    colour(x, "FillColor", t.colour);
    if t.bold {
        colour(x, "StrokeColor", t.colour);
    }
    x.raw("<ofd:TextCode X=\"").num(pad).raw("\" Y=\"").num(asc + pad).raw("\"");
    if advances.len() > 1 {
        x.raw(" DeltaX=\"").nums(&advances[..advances.len() - 1]).raw("\"");
    }
    x.raw(">").text(&t.text).raw("</ofd:TextCode></ofd:TextObject>");
    Ok(())
}

/// The QR symbol: one filled path of its dark runs in mm from the symbol's corner (the
/// quiet zone is the boundary's margin), rows 1.02 modules high. Plain coordinates rather
/// than module units under a `CTM`: a reader that ignored a path's `CTM` would misdraw it.
fn qr(x: &mut Xml, id: u32, q: &QrSymbol, page_h: f32) {
    let (l, t, w, h) = flip(&q.area, page_h);
    let m = q.module();
    // Module counts are small (at most 177 + 8), so the casts are exact.
    let quiet = QUIET_MODULES as f32 * m;
    x.raw("<ofd:PathObject ID=\"").int(id).raw("\" Boundary=\"").nums(&[l, t, w, h]);
    x.raw("\" Stroke=\"false\" Fill=\"true\">");
    colour(x, "FillColor", q.colour);
    x.raw("<ofd:AbbreviatedData>");
    for (i, (row, start, len)) in q.runs().enumerate() {
        let (top, bottom) = (quiet + (row as f32 - 0.01) * m, quiet + (row as f32 + 1.01) * m);
        let (left, right) = (quiet + start as f32 * m, quiet + (start + len) as f32 * m);
        if i > 0 {
            x.raw(" ");
        }
        x.raw("M ").nums(&[left, top]).raw(" L ").nums(&[right, top]).raw(" L ").nums(&[right, bottom]);
        x.raw(" L ").nums(&[left, bottom]).raw(" C");
    }
    x.raw("</ofd:AbbreviatedData></ofd:PathObject>");
}
