//! The licence OFD (GB/T 33190): the page [`crate::layout`] lays out, written as an
//! unsigned [`Package`] that the seal signature is then added to.
//!
//! Files, in zip order: `OFD.xml` (`DocInfo` with the catalogue metadata in `CustomDatas`),
//! `Doc_0/Document.xml` (one ID space up to `MaxUnitID`, the A4 page area, the public
//! resources, the page, the custom tags), `Doc_0/PublicRes.xml` (the font and the draw
//! parameters), the font subset under `Doc_0/Res/`, the page's `Content.xml`, and
//! `Doc_0/Tags/` with the catalogue metadata again in the configured namespace.

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::content::{Ids, PageResources, page_xml};
use super::font::FontUse;
use super::sign::SIGNATURES_PATH;
use super::xml::{OFD_NS, Xml};
use super::{OfdError, Package};
use crate::layout::{DocInfo, LicencePage, PageLayout, RectMm, lay_out};

/// The namespace of the catalogue-metadata tag file unless configured otherwise.
pub const DEFAULT_TAG_NAMESPACE: &str = "urn:zhengzhao:licence:1";

/// The package path of the page.
const PAGE_PATH: &str = "Doc_0/Pages/Page_0/Content.xml";
/// The font file's name under the resources' `BaseLoc` (`Doc_0/Res/`).
const FONT_FILE: &str = "WenQuanYiMicroHei.ttf";
/// The font's name as readers show it.
const FONT_NAME: &str = "WenQuanYi Micro Hei";
/// The tag file with the catalogue metadata, beside `CustomTags.xml`.
const TAG_FILE: &str = "Licence.xml";
/// The ID of the page (IDs 1 and 2 are fixed; the page's objects follow).
const PAGE_ID: u32 = 1;
/// The ID of the embedded font.
const FONT_ID: u32 = 2;

/// How to write the OFD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfdOptions {
    /// Whether `OFD.xml` names [`SIGNATURES_PATH`]: set when the package will be signed
    /// (its files are hashed as written, so the pointer must be there before signing).
    pub signed: bool,
    /// The XML namespace of the catalogue-metadata tag file (an absolute URI).
    pub tag_namespace: String,
}

impl Default for OfdOptions {
    fn default() -> Self {
        Self { signed: false, tag_namespace: DEFAULT_TAG_NAMESPACE.to_owned() }
    }
}

/// A box on an OFD page in millimetres: origin at the top-left corner, y down.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BoxMm {
    /// Left edge.
    pub x: f32,
    /// Top edge.
    pub y: f32,
    /// Width.
    pub width: f32,
    /// Height.
    pub height: f32,
}

/// A rendered, unsigned licence OFD and what its signature needs.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderedOfd {
    /// The package's files, in zip order.
    pub package: Package,
    /// The page's ID (a `StampAnnot`'s `PageRef`).
    pub page_id: u32,
    /// The page's `Content.xml` path in the package.
    pub page_path: String,
    /// Where the seal goes on the page (a `StampAnnot`'s `Boundary`).
    pub seal_boundary: BoxMm,
    /// The highest ID used in the document (`Document.xml`'s `MaxUnitID`).
    pub max_unit_id: u32,
    /// For a package to be signed, the ID kept free for the signature's `StampAnnot`
    /// (the last one under `MaxUnitID`: `Document.xml` is hashed before the signature is
    /// written, so the ID must be counted already); `None` for an unsigned package.
    pub stamp_annot_id: Option<u32>,
}

/// Renders `page` as an unsigned one-page A4 OFD with a subset of the font embedded.
///
/// Fails as [`crate::pdf::render`] does for a page that cannot be laid out
/// ([`OfdError::Layout`]), and on a tag namespace that is not a plain absolute URI.
pub fn render(page: &LicencePage, opts: &OfdOptions) -> Result<RenderedOfd, OfdError> {
    check_namespace(&opts.tag_namespace)?;
    let layout = lay_out(page)?;
    let mut font = FontUse::new();
    let mut ids = Ids(FONT_ID);
    let (content, res) = page_xml(&layout, FONT_ID, &mut font, &mut ids)?;
    let font_file = font.subset()?;
    let stamp_annot_id = opts.signed.then(|| ids.0 + 1);
    let max_unit_id = stamp_annot_id.unwrap_or(ids.0);

    let mut package = Package::new();
    package.insert("OFD.xml", ofd_xml(page, opts.signed))?;
    package.insert("Doc_0/Document.xml", document_xml(&layout, max_unit_id))?;
    package.insert("Doc_0/PublicRes.xml", public_res_xml(&res))?;
    package.insert(format!("Doc_0/Res/{FONT_FILE}"), font_file)?;
    package.insert(PAGE_PATH, content)?;
    package.insert("Doc_0/Tags/CustomTags.xml", custom_tags_xml(&opts.tag_namespace))?;
    package.insert(format!("Doc_0/Tags/{TAG_FILE}"), tag_file_xml(&page.info, &opts.tag_namespace))?;
    Ok(RenderedOfd {
        package,
        page_id: PAGE_ID,
        page_path: PAGE_PATH.to_owned(),
        seal_boundary: to_box(&layout.seal, layout.height),
        max_unit_id,
        stamp_annot_id,
    })
}

/// A layout rectangle (origin bottom-left, y up) as an OFD box.
fn to_box(r: &RectMm, page_h: f32) -> BoxMm {
    BoxMm { x: r.x, y: page_h - r.y - r.height, width: r.width, height: r.height }
}

/// Refuses a namespace that is empty, long, relative or carries spaces or control characters.
fn check_namespace(ns: &str) -> Result<(), OfdError> {
    let scheme_ok = ns.split_once(':').is_some_and(|(scheme, rest)| {
        !rest.is_empty()
            && scheme.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && scheme.chars().all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
    });
    if ns.len() > 256 || !scheme_ok || ns.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(OfdError::BadOption(format!("tag namespace {ns:?} is not a plain absolute URI")));
    }
    Ok(())
}

/// The document's ID: 32 hex digits from the licence identifier, so every rendition of one
/// licence carries the same ID.
fn doc_id(page: &LicencePage) -> String {
    let mut h = Sha256::new();
    h.update(b"zhengzhao ofd DocID\0");
    h.update(page.identifier.trim().as_bytes());
    hex::encode(&h.finalize()[..16])
}

/// An `xs:date` in the date's own offset.
fn ofd_date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// `OFD.xml`: the document body with its information and root.
fn ofd_xml(page: &LicencePage, signed: bool) -> Vec<u8> {
    let info = &page.info;
    let mut x = Xml::new(2048);
    x.raw("<ofd:OFD xmlns:ofd=\"")
        .raw(OFD_NS)
        .raw("\" Version=\"1.0\" DocType=\"OFD\"><ofd:DocBody><ofd:DocInfo>");
    x.element("DocID", &doc_id(page)).element("Title", &info.title).element("Author", &info.author);
    x.element("Subject", &info.subject);
    if let Some(t) = info.creation_date {
        x.element("CreationDate", &ofd_date(t)).element("ModDate", &ofd_date(t));
    }
    let keywords: Vec<&str> = info
        .keywords
        .as_deref()
        .unwrap_or("")
        .split([',', '，', ';', '；'])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .collect();
    if !keywords.is_empty() {
        x.raw("<ofd:Keywords>");
        for k in &keywords {
            x.element("Keyword", k);
        }
        x.raw("</ofd:Keywords>");
    }
    x.element("Creator", "Zhengzhao").element("CreatorVersion", env!("CARGO_PKG_VERSION"));
    if !info.custom.is_empty() {
        x.raw("<ofd:CustomDatas>");
        for (name, value) in &info.custom {
            x.raw("<ofd:CustomData Name=\"").text(name).raw("\">").text(value).raw("</ofd:CustomData>");
        }
        x.raw("</ofd:CustomDatas>");
    }
    x.raw("</ofd:DocInfo>").element("DocRoot", "Doc_0/Document.xml");
    if signed {
        x.element("Signatures", SIGNATURES_PATH);
    }
    x.raw("</ofd:DocBody></ofd:OFD>");
    x.into_bytes()
}

/// `Doc_0/Document.xml`: common data, the page tree and the custom tags.
fn document_xml(layout: &PageLayout, max_unit_id: u32) -> Vec<u8> {
    let mut x = Xml::new(1024);
    x.raw("<ofd:Document xmlns:ofd=\"").raw(OFD_NS).raw("\"><ofd:CommonData><ofd:MaxUnitID>");
    x.int(max_unit_id).raw("</ofd:MaxUnitID><ofd:PageArea><ofd:PhysicalBox>");
    x.nums(&[0.0, 0.0, layout.width, layout.height]).raw("</ofd:PhysicalBox></ofd:PageArea>");
    x.element("PublicRes", "PublicRes.xml").raw("</ofd:CommonData><ofd:Pages><ofd:Page ID=\"");
    let base = PAGE_PATH.strip_prefix("Doc_0/").unwrap_or(PAGE_PATH);
    x.int(PAGE_ID).raw("\" BaseLoc=\"").text(base).raw("\"/></ofd:Pages>");
    x.element("CustomTags", "Tags/CustomTags.xml").raw("</ofd:Document>");
    x.into_bytes()
}

/// `Doc_0/PublicRes.xml`: the draw parameters of bold text and the embedded font.
fn public_res_xml(res: &PageResources) -> Vec<u8> {
    let mut x = Xml::new(1024);
    x.raw("<ofd:Res xmlns:ofd=\"").raw(OFD_NS).raw("\" BaseLoc=\"Res\">");
    if !res.draw_params.is_empty() {
        x.raw("<ofd:DrawParams>");
        for (id, width) in &res.draw_params {
            x.raw("<ofd:DrawParam ID=\"").int(*id).raw("\" LineWidth=\"").num(*width).raw("\"/>");
        }
        x.raw("</ofd:DrawParams>");
    }
    x.raw("<ofd:Fonts><ofd:Font ID=\"").int(FONT_ID).raw("\" FontName=\"").text(FONT_NAME);
    x.raw("\" FamilyName=\"").text(FONT_NAME).raw("\">").element("FontFile", FONT_FILE);
    x.raw("</ofd:Font></ofd:Fonts></ofd:Res>");
    x.into_bytes()
}

/// `Doc_0/Tags/CustomTags.xml`: names the tag file and its namespace.
fn custom_tags_xml(ns: &str) -> Vec<u8> {
    let mut x = Xml::new(512);
    x.raw("<ofd:CustomTags xmlns:ofd=\"").raw(OFD_NS).raw("\"><ofd:CustomTag NameSpace=\"").text(ns);
    x.raw("\" TypeID=\"Licence\">").element("FileLoc", TAG_FILE).raw("</ofd:CustomTag></ofd:CustomTags>");
    x.into_bytes()
}

/// The tag file: the document information with the catalogue metadata, in namespace `ns`.
fn tag_file_xml(info: &DocInfo, ns: &str) -> Vec<u8> {
    let mut x = Xml::new(2048);
    x.raw("<lic:Licence xmlns:lic=\"").text(ns).raw("\">");
    for (name, value) in
        [("Title", info.title.as_str()), ("Subject", &info.subject), ("Author", &info.author)]
    {
        x.raw("<lic:").raw(name).raw(">").text(value).raw("</lic:").raw(name).raw(">");
    }
    for (name, value) in &info.custom {
        x.raw("<lic:Meta Name=\"").text(name).raw("\">").text(value).raw("</lic:Meta>");
    }
    x.raw("</lic:Licence>");
    x.into_bytes()
}

#[cfg(test)]
#[path = "write_tests.rs"]
mod tests;
