//! The licence PDF: walks the page's display list ([`crate::layout`]) and writes it as
//! PDF operators, with the font embedded as a subset.

use lopdf::{Dictionary, Document, Object, StringFormat};
use sha2::{Digest, Sha256};

use super::info::info_dict;
use super::skeleton::Skeleton;
use super::text::FontUse;
use super::writer::Content;
use super::{PdfError, RectMm, pt};
use crate::layout::{Item, PAGE_H, PAGE_W, PageLayout, Rgb, Shape};

pub use crate::layout::LicencePage;

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
    let layout = crate::layout::lay_out(page)?;
    let mut font = FontUse::new();
    let mut c = Content::new();
    paint(&mut c, &mut font, &layout)?;

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
    Ok(RenderedPdf { pdf, seal_rect_mm: layout.seal, skeleton })
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

/// The graphics state the content stream has set so far, so that colours and line widths
/// are written only when they change.
#[derive(Debug, Default)]
struct State {
    fill: Option<Rgb>,
    stroke: Option<Rgb>,
    width_pt: Option<f32>,
}

impl State {
    fn fill(&mut self, c: &mut Content, colour: Rgb) {
        if self.fill != Some(colour) {
            c.fill_rgb(colour);
            self.fill = Some(colour);
        }
    }

    fn stroke(&mut self, c: &mut Content, colour: Rgb) {
        if self.stroke != Some(colour) {
            c.stroke_rgb(colour);
            self.stroke = Some(colour);
        }
    }

    fn width(&mut self, c: &mut Content, width_pt: f32) {
        if self.width_pt != Some(width_pt) {
            c.op(&[width_pt], "w");
            self.width_pt = Some(width_pt);
        }
    }
}

/// Writes the display list as content-stream operators (points, origin bottom-left).
fn paint(c: &mut Content, font: &mut FontUse, layout: &PageLayout) -> Result<(), PdfError> {
    let mut state = State::default();
    for item in &layout.items {
        match item {
            Item::Stroke(s) => {
                state.stroke(c, s.colour);
                state.width(c, pt(s.width));
                match s.shape {
                    Shape::Rect(r) => c.op(&[pt(r.x), pt(r.y), pt(r.width), pt(r.height)], "re"),
                    Shape::Line((x0, y0), (x1, y1)) => {
                        c.op(&[pt(x0), pt(y0)], "m").op(&[pt(x1), pt(y1)], "l")
                    }
                };
                c.raw("S\n");
            }
            Item::Fill(f) => {
                state.fill(c, f.colour);
                for r in &f.rects {
                    c.op(&[pt(r.x), pt(r.y), pt(r.width), pt(r.height)], "re");
                }
                c.raw("f\n");
            }
            Item::Text(t) => {
                state.fill(c, t.colour);
                if t.bold {
                    state.stroke(c, t.colour);
                    // The text operator sets the line width of bold text itself.
                    state.width_pt = None;
                }
                let codes = font.encode(&t.text)?;
                c.text(pt(t.x), pt(t.baseline), pt(t.size), pt(t.spacing), t.bold, &codes);
            }
            Item::Qr(q) => {
                state.fill(c, q.colour);
                super::qr::draw(c, q);
            }
        }
    }
    Ok(())
}

/// The side of one QR module in mm when `text` is the page's QR code (quiet zone excluded).
pub fn qr_module_mm(text: &str) -> Result<f32, PdfError> {
    Ok(crate::layout::qr_module_mm(text)?)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    pub(crate) use crate::layout::page_sample as sample;

    #[test]
    fn renders_a_small_pdf_with_the_seal_rect() {
        let out = render(&sample()).unwrap();
        assert!(out.pdf.starts_with(b"%PDF-1.7"));
        assert!(out.pdf.len() < 40_000, "{} bytes", out.pdf.len());
        assert_eq!(out.seal_rect_mm, RectMm { x: 127.0, y: 41.0, width: 42.0, height: 42.0 });
        let doc = Document::load_mem(&out.pdf).unwrap();
        assert_eq!(doc.get_pages().len(), 1);
    }

    /// The sample's bytes, pinned so that a change of the layout model or of this writer
    /// that moves anything on the page shows up here. Moving the layout into
    /// [`crate::layout`] changed the bytes of the pre-refactor writer (SHA-256
    /// `03bd1e71…13fe6`) only by dropping four redundant colour and line-width operators
    /// (every coordinate, text and QR operator identical; the 150-dpi renders were
    /// pixel-identical). Subsetting from the face without hinting and glyph names
    /// ([`crate::font::subset_source`]) changed the font program's bytes only (hash
    /// `fd747991…0390e` before; the 150-dpi renders pixel-identical), and so did
    /// compressing with libdeflate instead of zlib-rs. Update the hash when the page
    /// changes on purpose.
    #[test]
    fn sample_bytes_are_pinned() {
        let out = render(&sample()).unwrap();
        assert_eq!(
            hex::encode(Sha256::digest(&out.pdf)),
            "0c503bcdec810f3884e9bc9a68b9ca4d8f8c06f976ca667983122ed4889028ad"
        );
    }

    #[test]
    fn layout_errors_keep_their_pdf_variants() {
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
}
