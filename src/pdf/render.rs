//! The licence page: A4, double frame, centred title, label/value rows, QR bottom left,
//! issuer and date bottom right under the seal, identifier in the footer.

use lopdf::{Dictionary, Document, Object, StringFormat};
use sha2::{Digest, Sha256};

use super::info::{DocInfo, info_dict};
use super::layout::wrap;
use super::skeleton::Skeleton;
use super::text::{FontUse, width_pt};
use super::writer::Content;
use super::{PdfError, RectMm, pt, qr};

/// A4 width in millimetres.
const PAGE_W: f32 = 210.0;
/// A4 height in millimetres.
const PAGE_H: f32 = 297.0;
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
const FRAME: (u8, u8, u8) = (168, 124, 48);
/// Label colour: dark grey.
const LABEL: (u8, u8, u8) = (70, 70, 70);
/// Text colour: near black.
const INK: (u8, u8, u8) = (20, 20, 20);

/// Limits on the page content (characters unless said otherwise).
const MAX_TITLE: usize = 24;
const MAX_LINE: usize = 200;
const MAX_HOLDER_LINES: usize = 4;
const MAX_FIELDS: usize = 40;
const MAX_LABEL: usize = 12;
const MAX_VALUE: usize = 2000;
const MAX_ISSUER: usize = 40;
const MAX_IDENTIFIER: usize = 120;
const MAX_CUSTOM: usize = 64;

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
    /// The QR text (the verification URL).
    pub qr_text: String,
    /// Document information.
    pub info: DocInfo,
}

/// A rendered, unsigned licence PDF and where its seal must go.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedPdf {
    /// The PDF bytes.
    pub pdf: Vec<u8>,
    /// Where the signature widget with the seal goes: centred on the issuer name and date.
    pub seal_rect_mm: RectMm,
    /// What [`super::sign_rendered`] needs to append to `pdf` without parsing it.
    pub(crate) skeleton: Skeleton,
}

/// Renders `page` as a one-page A4 PDF with the font embedded as a subset.
///
/// Fails if a text is empty or too long, a character is not in the font, the fields do not
/// fit on the page even at 9 pt, or a metadata key is not a plain ASCII name.
pub fn render(page: &LicencePage) -> Result<RenderedPdf, PdfError> {
    check(page)?;
    let body = fit_body(page)?;
    let mut font = FontUse::new();
    let mut c = Content::new();

    frame(&mut c);
    header(&mut c, &mut font, page)?;
    rows(&mut c, &mut font, &body)?;
    footer(&mut c, &mut font, page)?;

    let mut doc = Document::with_version("1.7");
    // A classic cross-reference table: the signature's incremental updates append to it.
    doc.reference_table.cross_reference_type = lopdf::xref::XrefType::CrossReferenceTable;
    let font_id = font.embed(&mut doc)?;
    let content = c.into_bytes();
    let id_hash = file_id(page);
    let stream = super::flate_stream(Dictionary::new(), content);
    let content_id = doc.add_object(stream);
    let pages_id = doc.new_object_id();
    let resources = Dictionary::from_iter([(
        "Font",
        Object::Dictionary(Dictionary::from_iter([("F1", Object::Reference(font_id))])),
    )]);
    let page_id = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Page".to_vec())),
        ("Parent", Object::Reference(pages_id)),
        ("MediaBox", Object::Array([0.0, 0.0, pt(PAGE_W), pt(PAGE_H)].map(Object::Real).to_vec())),
        ("Contents", Object::Reference(content_id)),
        ("Resources", Object::Dictionary(resources)),
    ]));
    doc.objects.insert(
        pages_id,
        Object::Dictionary(Dictionary::from_iter([
            ("Type", Object::Name(b"Pages".to_vec())),
            ("Kids", Object::Array(vec![Object::Reference(page_id)])),
            ("Count", Object::Integer(1)),
        ])),
    );
    let catalog_id = doc.add_object(Dictionary::from_iter([
        ("Type", Object::Name(b"Catalog".to_vec())),
        ("Pages", Object::Reference(pages_id)),
        ("Lang", Object::string_literal("zh-CN")),
        (
            "ViewerPreferences",
            Object::Dictionary(Dictionary::from_iter([("DisplayDocTitle", Object::Boolean(true))])),
        ),
    ]));
    let info_id = doc.add_object(info_dict(&page.info)?);
    let file_id = Object::String(id_hash[..16].to_vec(), StringFormat::Hexadecimal);
    doc.trailer.set("Root", Object::Reference(catalog_id));
    doc.trailer.set("Info", Object::Reference(info_id));
    doc.trailer.set("ID", Object::Array(vec![file_id.clone(), file_id]));

    let mut pdf = Vec::with_capacity(24 * 1024);
    doc.save_to(&mut pdf).map_err(|e| PdfError::Write(e.to_string()))?;
    let skeleton = Skeleton::of_saved(&doc, &pdf, page_id, &[catalog_id, page_id])?;
    Ok(RenderedPdf { pdf, seal_rect_mm: seal_rect(), skeleton })
}

/// The file identifier: a hash of everything printed (the content stream follows from it),
/// so equal pages get equal identifiers — cheaper than hashing the content stream.
fn file_id(page: &LicencePage) -> [u8; 32] {
    let mut h = Sha256::new();
    let mut text = |s: &str| {
        h.update((s.len() as u64).to_be_bytes());
        h.update(s.as_bytes());
    };
    text(&page.title);
    text(page.subtitle.as_deref().unwrap_or(""));
    page.holder_lines.iter().for_each(|l| text(l));
    for (label, value) in &page.fields {
        text(label);
        text(value);
    }
    text(&page.issuer);
    text(&page.issue_date);
    text(&page.identifier);
    text(&page.qr_text);
    h.finalize().into()
}

/// Where the seal goes on every licence page.
fn seal_rect() -> RectMm {
    RectMm { x: ISSUER_CX - SEAL_D / 2.0, y: SEAL_CY - SEAL_D / 2.0, width: SEAL_D, height: SEAL_D }
}

/// Rejects empty or oversized texts before any work is done.
fn check(page: &LicencePage) -> Result<(), PdfError> {
    fn limit(what: &'static str, s: &str, max: usize, required: bool) -> Result<(), PdfError> {
        let got = s.chars().count();
        if required && s.trim().is_empty() {
            return Err(PdfError::EmptyText(what));
        }
        if got > max {
            return Err(PdfError::TooLong { what, max, got });
        }
        Ok(())
    }
    limit("title", &page.title, MAX_TITLE, true)?;
    limit("subtitle", page.subtitle.as_deref().unwrap_or(""), MAX_LINE, false)?;
    if page.holder_lines.len() > MAX_HOLDER_LINES {
        return Err(PdfError::TooLong {
            what: "holder lines",
            max: MAX_HOLDER_LINES,
            got: page.holder_lines.len(),
        });
    }
    for l in &page.holder_lines {
        limit("holder line", l, MAX_LINE, false)?;
    }
    if page.fields.len() > MAX_FIELDS {
        return Err(PdfError::TooLong { what: "field list", max: MAX_FIELDS, got: page.fields.len() });
    }
    for (label, value) in &page.fields {
        limit("field label", label, MAX_LABEL, true)?;
        limit("field value", value, MAX_VALUE, false)?;
    }
    limit("issuer", &page.issuer, MAX_ISSUER, true)?;
    limit("issue date", &page.issue_date, MAX_LINE, true)?;
    limit("identifier", &page.identifier, MAX_IDENTIFIER, true)?;
    if page.info.custom.len() > MAX_CUSTOM {
        return Err(PdfError::TooLong {
            what: "custom metadata",
            max: MAX_CUSTOM,
            got: page.info.custom.len(),
        });
    }
    Ok(())
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
fn fit_body(page: &LicencePage) -> Result<Body, PdfError> {
    let top = if page.subtitle.is_some() { 222.0 } else { 228.0 };
    for size in BODY_SIZES {
        let size_mm = size / super::PT_PER_MM;
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
        let value_x = LEFT + label_w / super::PT_PER_MM + 1.5;
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
    Err(PdfError::PageOverflow)
}

/// The double frame with small corner squares.
fn frame(c: &mut Content) {
    c.stroke_rgb(FRAME).fill_rgb(FRAME);
    c.op(&[1.8], "w").op(&[pt(10.0), pt(10.0), pt(PAGE_W - 20.0), pt(PAGE_H - 20.0)], "re").raw("S\n");
    c.op(&[0.6], "w").op(&[pt(12.5), pt(12.5), pt(PAGE_W - 25.0), pt(PAGE_H - 25.0)], "re").raw("S\n");
    for (x, y) in [(12.5, 12.5), (PAGE_W - 12.5, 12.5), (12.5, PAGE_H - 12.5), (PAGE_W - 12.5, PAGE_H - 12.5)]
    {
        c.op(&[pt(x - 1.6), pt(y - 1.6), pt(3.2), pt(3.2)], "re");
    }
    c.raw("f\n");
}

/// Draws `text` centred on `cx` (mm) at baseline `y` (mm) with `(size, spacing, bold)`.
fn centred(
    c: &mut Content,
    font: &mut FontUse,
    text: &str,
    (cx, y): (f32, f32),
    (size, spacing, bold): (f32, f32, bool),
) -> Result<(), PdfError> {
    let n = text.chars().count().saturating_sub(1) as f32;
    let w = width_pt(text, size)? + spacing * n;
    let codes = font.encode(text)?;
    c.text(pt(cx) - w / 2.0, pt(y), size, spacing, bold, &codes);
    Ok(())
}

/// Title, subtitle and the rule under them.
fn header(c: &mut Content, font: &mut FontUse, page: &LicencePage) -> Result<(), PdfError> {
    let title = page.title.trim();
    let n = title.chars().count();
    // Short official titles are letter-spaced; the size shrinks so long ones still fit.
    let mut size: f32 = 26.0;
    let spacing_em = if n <= 10 { 0.3 } else { 0.05 };
    while size > 14.0 && width_pt(title, size)? + size * spacing_em * (n as f32 - 1.0) > pt(RIGHT - LEFT) {
        size -= 1.0;
    }
    c.fill_rgb(INK).stroke_rgb(INK);
    centred(c, font, title, (PAGE_W / 2.0, 250.0), (size, size * spacing_em, true))?;
    let mut rule_y = 240.0;
    if let Some(sub) = page.subtitle.as_deref().filter(|s| !s.trim().is_empty()) {
        c.fill_rgb(LABEL);
        let mut sub_size: f32 = 11.0;
        while sub_size > 7.0 && width_pt(sub, sub_size)? > pt(RIGHT - LEFT) {
            sub_size -= 0.5;
        }
        centred(c, font, sub.trim(), (PAGE_W / 2.0, 241.5), (sub_size, 0.0, false))?;
        rule_y = 235.0;
    }
    c.stroke_rgb(FRAME).op(&[0.9], "w");
    c.op(&[pt(LEFT), pt(rule_y)], "m").op(&[pt(RIGHT), pt(rule_y)], "l").raw("S\n");
    c.op(&[0.35], "w");
    c.op(&[pt(LEFT), pt(rule_y - 0.9)], "m").op(&[pt(RIGHT), pt(rule_y - 0.9)], "l").raw("S\n");
    Ok(())
}

/// Holder lines and label/value rows.
fn rows(c: &mut Content, font: &mut FontUse, body: &Body) -> Result<(), PdfError> {
    c.fill_rgb(INK);
    for (y, line) in &body.holder {
        let codes = font.encode(line)?;
        c.text(pt(LEFT), pt(*y), body.size + 1.0, 0.0, true, &codes);
    }
    for (y, label, value) in &body.lines {
        if let Some(label) = label {
            c.fill_rgb(LABEL);
            let codes = font.encode(label)?;
            c.text(pt(LEFT), pt(*y), body.size, 0.0, false, &codes);
            c.fill_rgb(INK);
        }
        if !value.is_empty() {
            let codes = font.encode(value)?;
            c.text(pt(body.value_x), pt(*y), body.size, 0.0, false, &codes);
        }
    }
    Ok(())
}

/// QR code with its caption, issuer and date, and the identifier footer.
fn footer(c: &mut Content, font: &mut FontUse, page: &LicencePage) -> Result<(), PdfError> {
    let (qx, qy, qs) = QR_BOX;
    c.fill_rgb((0, 0, 0));
    qr::draw(c, &page.qr_text, pt(qx), pt(qy), pt(qs))?;
    c.fill_rgb(INK);
    centred(c, font, "扫码核验", (qx + qs / 2.0, qy - 3.5), (10.0, 1.5, false))?;

    let (caption, lines) = issuer_lines(page.issuer.trim())?;
    c.fill_rgb(LABEL);
    let codes = font.encode(CAPTION)?;
    c.text(pt(caption.0) - width_pt(CAPTION, CAPTION_PT)?, pt(caption.1), CAPTION_PT, 0.0, false, &codes);
    c.fill_rgb(INK);
    for (y, line) in &lines {
        centred(c, font, line, (ISSUER_CX, *y), (ISSUER_PT, 0.0, false))?;
    }
    centred(c, font, page.issue_date.trim(), (ISSUER_CX, SEAL_CY - 5.5), (ISSUER_PT, 0.0, false))?;

    c.stroke_rgb(FRAME).op(&[0.35], "w");
    c.op(&[pt(LEFT), pt(25.0)], "m").op(&[pt(RIGHT), pt(25.0)], "l").raw("S\n");
    c.fill_rgb(LABEL);
    let footer = format!("电子证照标识：{}", page.identifier.trim());
    let mut fsize: f32 = 9.0;
    while fsize > 6.0 && width_pt(&footer, fsize)? > pt(RIGHT - LEFT) {
        fsize -= 0.5;
    }
    centred(c, font, &footer, (PAGE_W / 2.0, 19.5), (fsize, 0.0, false))
}

/// Lines of text with their baselines: (y in mm, line).
type PlacedLines = Vec<(f32, String)>;

/// The issuer name at the date's size, wrapped to at most [`ISSUER_HALF_W`] either side of
/// the seal's centre (inside the text margin), its last line just above the date: where the
/// [`CAPTION`] ends (right end x, baseline y: 2 mm left of the widest line, on the first
/// line's baseline) and each (baseline, line), in mm.
fn issuer_lines(issuer: &str) -> Result<((f32, f32), PlacedLines), PdfError> {
    let lines = wrap(issuer, ISSUER_PT, pt(2.0 * ISSUER_HALF_W))?;
    let step = ISSUER_PT / super::PT_PER_MM * 1.35;
    let n = lines.len();
    let mut widest: f32 = 0.0;
    for l in &lines {
        widest = widest.max(width_pt(l, ISSUER_PT)? / super::PT_PER_MM);
    }
    let placed: Vec<(f32, String)> =
        lines.into_iter().enumerate().map(|(i, l)| (SEAL_CY + 3.5 + (n - 1 - i) as f32 * step, l)).collect();
    let top = placed.first().map_or(SEAL_CY + 3.5, |(y, _)| *y);
    Ok(((ISSUER_CX - widest / 2.0 - 2.0, top), placed))
}

/// The side of one QR module in mm when `text` is the page's QR code (quiet zone excluded).
pub fn qr_module_mm(text: &str) -> Result<f32, PdfError> {
    Ok(QR_BOX.2 / (qr::width(text)? + 2 * qr::QUIET_MODULES) as f32)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A realistic food business licence page.
    pub(crate) fn sample() -> LicencePage {
        LicencePage {
            title: "食品经营许可证".into(),
            subtitle: Some("Food Business License".into()),
            holder_lines: vec![],
            fields: vec![
                ("经营者名称".into(), "上海浦江美食餐饮管理有限公司".into()),
                ("统一社会信用代码".into(), "91310115MA1H7ABC2X".into()),
                ("法定代表人".into(), "张伟".into()),
                ("住所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
                ("经营场所".into(), "上海市浦东新区张江路123号1幢2层201室".into()),
                ("主体业态".into(), "餐饮服务经营者（中型餐馆）".into()),
                (
                    "经营项目".into(),
                    "预包装食品（含冷藏冷冻食品）销售，散装食品（含冷藏冷冻食品）销售，热食类食品制售，冷食类食品制售，生食类食品制售，糕点类食品（含裱花蛋糕）制售，自制饮品制售（不含自酿酒）".into(),
                ),
                ("许可证编号".into(), "JY23101150012345".into()),
                ("有效期至".into(), "2031年11月21日".into()),
                ("日常监督管理机构".into(), "上海市浦东新区市场监督管理局张江市场监督管理所".into()),
                ("投诉举报电话".into(), "12315".into()),
            ],
            issuer: "上海市浦东新区市场监督管理局".into(),
            issue_date: "2026年11月22日".into(),
            identifier: "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
            qr_text: "https://zhengzhao.example.gov.cn/v/1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into(),
            info: DocInfo {
                title: "食品经营许可证 JY23101150012345".into(),
                subject: "食品经营许可证".into(),
                author: "上海市浦东新区市场监督管理局".into(),
                keywords: None,
                creation_date: Some(time::macros::datetime!(2026-11-22 10:30:00 +08:00)),
                custom: vec![
                    ("LicenceIdentifier".into(), "1.2.156.3005.2.11100000000013338W032.11220000013544541J.2430599.001.F".into()),
                    ("HolderName".into(), "上海浦江美食餐饮管理有限公司".into()),
                ],
            },
        }
    }

    #[test]
    fn renders_a_small_pdf_with_the_seal_rect() {
        let out = render(&sample()).unwrap();
        assert!(out.pdf.starts_with(b"%PDF-1.7"));
        assert!(out.pdf.len() < 40_000, "{} bytes", out.pdf.len());
        assert_eq!(out.seal_rect_mm, RectMm { x: 127.0, y: 41.0, width: 42.0, height: 42.0 });
        let doc = Document::load_mem(&out.pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    #[test]
    fn rejects_bad_pages() {
        let mut p = sample();
        p.title = " ".into();
        assert!(matches!(render(&p), Err(PdfError::EmptyText("title"))));
        let mut p = sample();
        p.fields[0].1 = "甲\u{E000}".into();
        assert!(matches!(render(&p), Err(PdfError::MissingGlyph('\u{E000}'))));
        let mut p = sample();
        p.info.custom.push(("Title".into(), "x".into()));
        assert!(matches!(render(&p), Err(PdfError::BadMetadataKey(_))));
        let mut p = sample();
        p.fields = (0..40).map(|i| (format!("项目{i}"), "很长的内容".repeat(20))).collect();
        assert!(matches!(render(&p), Err(PdfError::PageOverflow)));
    }

    #[test]
    fn the_longest_department_name_stays_inside_the_margin_at_the_date_size() {
        let longest = "演".repeat(crate::seal::MAX_DEPARTMENT_CHARS);
        for name in
            [longest.as_str(), "演示市市场监督管理局", "上海市浦东新区市场监督管理局张江市场监督管理所"]
        {
            let ((caption_end, caption_y), lines) = issuer_lines(name).unwrap();
            assert_eq!(lines.iter().map(|(_, l)| l.as_str()).collect::<String>(), name);
            for (y, line) in &lines {
                let w = width_pt(line, ISSUER_PT).unwrap() / crate::pdf::PT_PER_MM;
                assert!(ISSUER_CX + w / 2.0 <= RIGHT + 0.01, "{line:?} ends at {}", ISSUER_CX + w / 2.0);
                assert!(*y > SEAL_CY - 5.5 && *y + 5.0 < BODY_FLOOR, "{line:?} at {y}");
            }
            let caption_start = caption_end - width_pt(CAPTION, CAPTION_PT).unwrap() / crate::pdf::PT_PER_MM;
            assert!(
                caption_start > QR_BOX.0 + QR_BOX.2 + 2.0,
                "caption from {caption_start} overlaps the QR"
            );
            assert!(caption_y + 4.0 < BODY_FLOOR);
        }
        assert_eq!(issuer_lines(&longest).unwrap().1.len(), 3);
        let mut p = sample();
        p.issuer = longest;
        render(&p).unwrap();
    }

    #[test]
    fn qr_modules_are_at_least_half_a_millimetre() {
        // The longest shipped URL today needs version 13; allow for a version-14 one.
        let url = format!("https://zz.example.gov.cn/v/{}", "A".repeat(480));
        let m = qr_module_mm(&url).unwrap();
        assert!(m >= 0.5, "{m} mm per module");
    }
}
