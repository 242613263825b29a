//! The licence page: A4, double frame, centred title, label/value rows, QR bottom left,
//! issuer and date bottom right under the seal, identifier in the footer.

use super::display::{Fill, Item, PageLayout, Rgb, Shape, Stroke, TextRun};
use super::info::check_custom;
use super::text::width_pt;
use super::wrap::wrap;
use super::{DocInfo, LayoutError, PAGE_H, PAGE_W, PT_PER_MM, RectMm, qr};

/// Left edge of the text block.
const LEFT: f32 = 28.0;
/// Right edge of the text block.
const RIGHT: f32 = 182.0;
/// Lowest baseline the label/value rows may use (the issuer block lies below).
const BODY_FLOOR: f32 = 92.0;
/// Centre of the issuer name, date and seal.
const ISSUER_CX: f32 = 148.0;
/// Vertical centre of the seal.
const SEAL_CY: f32 = 62.0;
/// Seal diameter.
const SEAL_D: f32 = 42.0;
/// QR code square (quiet zone included): left, bottom, side. 50 mm keeps the modules of a
/// version-13 symbol (the longest shipped licence URL) at 0.65 mm, about 2.5 pixels at
/// 100 dpi, which `zbarimg` reads from a 100-dpi render of the page (a photo of a licence on a
/// shop wall); at 32 mm (version 14, 0.39 mm a module) it needed 130 dpi.
const QR_BOX: (f32, f32, f32) = (25.0, 33.0, 50.0);
/// Type size of the issue date, and of the issuer name, which wraps rather than shrinks.
const ISSUER_PT: f32 = 13.0;
/// Half the width the issuer name may take on either side of [`ISSUER_CX`]: up to the
/// text block's right edge.
const ISSUER_HALF_W: f32 = RIGHT - ISSUER_CX;
/// The caption before the issuer name.
const CAPTION: &str = "发证机关：";
/// Type size of the [`CAPTION`], which ends just left of the issuer name's first line.
const CAPTION_PT: f32 = 10.5;
/// Type sizes tried for the body, largest first, until the rows fit.
const BODY_SIZES: [f32; 5] = [12.0, 11.0, 10.5, 10.0, 9.0];

/// Frame colour: a muted gold.
const FRAME: Rgb = (168, 124, 48);
/// Label colour: dark grey.
const LABEL: Rgb = (70, 70, 70);
/// Text colour: near black.
const INK: Rgb = (20, 20, 20);

/// Limits on the page content (characters unless said otherwise).
const MAX_TITLE: usize = 24;
const MAX_LINE: usize = 200;
const MAX_HOLDER_LINES: usize = 4;
const MAX_FIELDS: usize = 40;
const MAX_LABEL: usize = 12;
const MAX_VALUE: usize = 2000;
const MAX_ISSUER: usize = 40;
const MAX_IDENTIFIER: usize = 120;
/// Longest footer caption of the identifier (电子证照标识, 办件编号).
const MAX_CAPTION: usize = 16;

/// Everything printed on a licence page.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LicencePage {
    /// The licence name as the big title, e.g. 食品经营许可证.
    pub title: String,
    /// An optional English subtitle under the title.
    pub subtitle: Option<String>,
    /// Lines naming the holder, printed above the fields (e.g. 持证主体：…).
    pub holder_lines: Vec<String>,
    /// (Chinese label, value) rows in order; long values wrap.
    pub fields: Vec<(String, String)>,
    /// The issuing department, printed bottom right under the seal.
    pub issuer: String,
    /// The issue date as printed, e.g. 2026年11月22日.
    pub issue_date: String,
    /// The licence identifier (电子证照标识), printed in the footer.
    pub identifier: String,
    /// What the footer calls the identifier: 电子证照标识 on a licence, 办件编号 on a bundle
    /// receipt (whose identifier names the bundle, not a licence).
    pub identifier_caption: String,
    /// The QR text (the verification URL).
    pub qr_text: String,
    /// Document information.
    pub info: DocInfo,
}

/// Lays `page` out on A4: checks it, fits the rows at the largest body size that leaves
/// room for the issuer block, and returns the display list.
///
/// Fails if a text is empty or too long, a character is not in the font, the fields do not
/// fit on the page even at 9 pt, the QR text cannot be encoded, or a metadata key is not a
/// plain ASCII name.
pub fn lay_out(page: &LicencePage) -> Result<PageLayout, LayoutError> {
    check(page)?;
    let body = fit_body(page)?;
    let mut p = Painter { items: Vec::with_capacity(64) };
    frame(&mut p);
    header(&mut p, page)?;
    rows(&mut p, &body);
    footer(&mut p, page)?;
    Ok(PageLayout { width: PAGE_W, height: PAGE_H, items: p.items, seal: seal_rect() })
}

/// Where the seal goes on every licence page.
fn seal_rect() -> RectMm {
    RectMm { x: ISSUER_CX - SEAL_D / 2.0, y: SEAL_CY - SEAL_D / 2.0, width: SEAL_D, height: SEAL_D }
}

/// Rejects empty or oversized texts before any work is done.
fn check(page: &LicencePage) -> Result<(), LayoutError> {
    fn limit(what: &'static str, s: &str, max: usize, required: bool) -> Result<(), LayoutError> {
        let got = s.chars().count();
        if required && s.trim().is_empty() {
            return Err(LayoutError::EmptyText(what));
        }
        if got > max {
            return Err(LayoutError::TooLong { what, max, got });
        }
        Ok(())
    }
    limit("title", &page.title, MAX_TITLE, true)?;
    limit("subtitle", page.subtitle.as_deref().unwrap_or(""), MAX_LINE, false)?;
    if page.holder_lines.len() > MAX_HOLDER_LINES {
        return Err(LayoutError::TooLong {
            what: "holder lines",
            max: MAX_HOLDER_LINES,
            got: page.holder_lines.len(),
        });
    }
    for l in &page.holder_lines {
        limit("holder line", l, MAX_LINE, false)?;
    }
    if page.fields.len() > MAX_FIELDS {
        return Err(LayoutError::TooLong { what: "field list", max: MAX_FIELDS, got: page.fields.len() });
    }
    for (label, value) in &page.fields {
        limit("field label", label, MAX_LABEL, true)?;
        limit("field value", value, MAX_VALUE, false)?;
    }
    limit("issuer", &page.issuer, MAX_ISSUER, true)?;
    limit("issue date", &page.issue_date, MAX_LINE, true)?;
    limit("identifier", &page.identifier, MAX_IDENTIFIER, true)?;
    limit("identifier_caption", &page.identifier_caption, MAX_CAPTION, true)?;
    check_custom(&page.info)
}

/// The label/value rows laid out at the largest size that fits.
#[derive(Debug)]
struct Body {
    size: f32,
    value_x: f32,
    /// (baseline y in mm, label if first line of a row, value line).
    lines: Vec<(f32, Option<String>, String)>,
    /// (baseline y in mm, holder line).
    holder: Vec<(f32, String)>,
}

/// Finds the largest body size at which the holder lines and rows end above the issuer block.
fn fit_body(page: &LicencePage) -> Result<Body, LayoutError> {
    let top = if page.subtitle.is_some() { 222.0 } else { 228.0 };
    for size in BODY_SIZES {
        let size_mm = size / PT_PER_MM;
        let (line, gap) = (size_mm * 1.55, size_mm * 0.7);
        let mut y = top;
        let mut holder = Vec::new();
        for l in &page.holder_lines {
            for part in wrap(l, size + 1.0, pt(RIGHT - LEFT))? {
                holder.push((y, part));
                y -= line * 1.08;
            }
        }
        if !holder.is_empty() {
            y -= gap;
        }
        let mut label_w: f32 = 0.0;
        for (label, _) in &page.fields {
            label_w = label_w.max(width_pt(&format!("{label}："), size)?);
        }
        let value_x = LEFT + label_w / PT_PER_MM + 1.5;
        let mut lines = Vec::new();
        for (label, value) in &page.fields {
            let wrapped = wrap(value, size, pt(RIGHT - value_x))?;
            for (i, part) in wrapped.into_iter().enumerate() {
                lines.push((y, (i == 0).then(|| format!("{label}：")), part));
                y -= line;
            }
            y -= gap;
        }
        if y + line + gap >= BODY_FLOOR {
            return Ok(Body { size, value_x, lines, holder });
        }
    }
    Err(LayoutError::PageOverflow)
}

/// Millimetres to points.
fn pt(mm: f32) -> f32 {
    mm * PT_PER_MM
}

/// The display list being built; sizes are given in points, as typographers choose them,
/// and stored in millimetres.
struct Painter {
    items: Vec<Item>,
}

impl Painter {
    /// A stroked outline `width_pt` points wide.
    fn stroke(&mut self, colour: Rgb, width_pt: f32, shape: Shape) {
        self.items.push(Item::Stroke(Stroke { colour, width: width_pt / PT_PER_MM, shape }));
    }

    /// A horizontal rule from [`LEFT`] to [`RIGHT`] at `y` mm.
    fn rule(&mut self, width_pt: f32, y: f32) {
        self.stroke(FRAME, width_pt, Shape::Line((LEFT, y), (RIGHT, y)));
    }

    /// `text` from `(x, y)` (mm) at `size` points with `spacing` points after each glyph.
    fn text(&mut self, (x, y): (f32, f32), (size, spacing, bold): (f32, f32, bool), colour: Rgb, text: &str) {
        self.items.push(Item::Text(TextRun {
            x,
            baseline: y,
            size: size / PT_PER_MM,
            spacing: spacing / PT_PER_MM,
            bold,
            colour,
            text: text.to_owned(),
        }));
    }

    /// `text` centred on `cx` (mm) at baseline `y` (mm) with `(size, spacing, bold)` in points.
    fn centred(
        &mut self,
        text: &str,
        (cx, y): (f32, f32),
        style: (f32, f32, bool),
        colour: Rgb,
    ) -> Result<(), LayoutError> {
        let n = text.chars().count().saturating_sub(1) as f32;
        let w = width_pt(text, style.0)? + style.1 * n;
        self.text((cx - w / PT_PER_MM / 2.0, y), style, colour, text);
        Ok(())
    }
}

/// The double frame with small corner squares.
fn frame(p: &mut Painter) {
    let rect =
        |inset: f32| RectMm { x: inset, y: inset, width: PAGE_W - 2.0 * inset, height: PAGE_H - 2.0 * inset };
    p.stroke(FRAME, 1.8, Shape::Rect(rect(10.0)));
    p.stroke(FRAME, 0.6, Shape::Rect(rect(12.5)));
    let corners =
        [(12.5, 12.5), (PAGE_W - 12.5, 12.5), (12.5, PAGE_H - 12.5), (PAGE_W - 12.5, PAGE_H - 12.5)];
    let rects = corners.map(|(x, y)| RectMm { x: x - 1.6, y: y - 1.6, width: 3.2, height: 3.2 }).to_vec();
    p.items.push(Item::Fill(Fill { colour: FRAME, rects }));
}

/// Title, subtitle and the rule under them.
fn header(p: &mut Painter, page: &LicencePage) -> Result<(), LayoutError> {
    let title = page.title.trim();
    let n = title.chars().count();
    // Short official titles are letter-spaced; the size shrinks so long ones still fit.
    let mut size: f32 = 26.0;
    let spacing_em = if n <= 10 { 0.3 } else { 0.05 };
    while size > 14.0 && width_pt(title, size)? + size * spacing_em * (n as f32 - 1.0) > pt(RIGHT - LEFT) {
        size -= 1.0;
    }
    p.centred(title, (PAGE_W / 2.0, 250.0), (size, size * spacing_em, true), INK)?;
    let mut rule_y = 240.0;
    if let Some(sub) = page.subtitle.as_deref().filter(|s| !s.trim().is_empty()) {
        let mut sub_size: f32 = 11.0;
        while sub_size > 7.0 && width_pt(sub, sub_size)? > pt(RIGHT - LEFT) {
            sub_size -= 0.5;
        }
        p.centred(sub.trim(), (PAGE_W / 2.0, 241.5), (sub_size, 0.0, false), LABEL)?;
        rule_y = 235.0;
    }
    p.rule(0.9, rule_y);
    p.rule(0.35, rule_y - 0.9);
    Ok(())
}

/// Holder lines and label/value rows.
fn rows(p: &mut Painter, body: &Body) {
    for (y, line) in &body.holder {
        p.text((LEFT, *y), (body.size + 1.0, 0.0, true), INK, line);
    }
    for (y, label, value) in &body.lines {
        if let Some(label) = label {
            p.text((LEFT, *y), (body.size, 0.0, false), LABEL, label);
        }
        if !value.is_empty() {
            p.text((body.value_x, *y), (body.size, 0.0, false), INK, value);
        }
    }
}

/// QR code with its caption, issuer and date, and the identifier footer.
fn footer(p: &mut Painter, page: &LicencePage) -> Result<(), LayoutError> {
    let (qx, qy, qs) = QR_BOX;
    let area = RectMm { x: qx, y: qy, width: qs, height: qs };
    p.items.push(Item::Qr(qr::symbol(&page.qr_text, area, (0, 0, 0))?));
    p.centred("扫码核验", (qx + qs / 2.0, qy - 3.5), (10.0, 1.5, false), INK)?;

    let (caption, lines) = issuer_lines(page.issuer.trim())?;
    let caption_x = caption.0 - width_pt(CAPTION, CAPTION_PT)? / PT_PER_MM;
    p.text((caption_x, caption.1), (CAPTION_PT, 0.0, false), LABEL, CAPTION);
    for (y, line) in &lines {
        p.centred(line, (ISSUER_CX, *y), (ISSUER_PT, 0.0, false), INK)?;
    }
    p.centred(page.issue_date.trim(), (ISSUER_CX, SEAL_CY - 5.5), (ISSUER_PT, 0.0, false), INK)?;

    p.rule(0.35, 25.0);
    let footer = format!("{}：{}", page.identifier_caption.trim(), page.identifier.trim());
    let mut fsize: f32 = 9.0;
    while fsize > 6.0 && width_pt(&footer, fsize)? > pt(RIGHT - LEFT) {
        fsize -= 0.5;
    }
    p.centred(&footer, (PAGE_W / 2.0, 19.5), (fsize, 0.0, false), LABEL)
}

/// Lines of text with their baselines: (y in mm, line).
type PlacedLines = Vec<(f32, String)>;

/// The issuer name at the date's size, wrapped to at most [`ISSUER_HALF_W`] either side of
/// the seal's centre (inside the text margin), its last line just above the date: where the
/// [`CAPTION`] ends (right end x, baseline y: 2 mm left of the widest line, on the first
/// line's baseline) and each (baseline, line), in mm.
fn issuer_lines(issuer: &str) -> Result<((f32, f32), PlacedLines), LayoutError> {
    let lines = wrap(issuer, ISSUER_PT, pt(2.0 * ISSUER_HALF_W))?;
    let step = ISSUER_PT / PT_PER_MM * 1.35;
    let n = lines.len();
    let mut widest: f32 = 0.0;
    for l in &lines {
        widest = widest.max(width_pt(l, ISSUER_PT)? / PT_PER_MM);
    }
    let placed: Vec<(f32, String)> =
        lines.into_iter().enumerate().map(|(i, l)| (SEAL_CY + 3.5 + (n - 1 - i) as f32 * step, l)).collect();
    let top = placed.first().map_or(SEAL_CY + 3.5, |(y, _)| *y);
    Ok(((ISSUER_CX - widest / 2.0 - 2.0, top), placed))
}

/// The side of one QR module in mm when `text` is the page's QR code (quiet zone excluded).
pub fn qr_module_mm(text: &str) -> Result<f32, LayoutError> {
    Ok(QR_BOX.2 / (qr::width(text)? + 2 * qr::QUIET_MODULES) as f32)
}

#[cfg(test)]
#[path = "page_tests.rs"]
pub(crate) mod tests;
