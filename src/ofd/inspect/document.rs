//! `OFD.xml` (the first `DocBody`), `Document.xml` (pages, `MaxUnitID`) and the custom tag
//! files.

use roxmltree::Node;

use super::{CustomTag, DocInfo, DocumentInfo, Finding, PageEntry};
use crate::ofd::path::{dir_of, locate};
use crate::ofd::xml;
use crate::ofd::{OfdError, Package, ReadLimits};

/// At most this many custom tag files are read (each is parsed once).
const MAX_TAG_FILES: usize = 16;

/// What the first `DocBody` says.
pub(super) struct Body {
    pub(super) doc_info: DocInfo,
    pub(super) doc_root: String,
    pub(super) signatures_path: Option<String>,
}

/// Reads `OFD.xml`: its first `DocBody` must name a document file that is present.
pub(super) fn read_ofd_xml(
    package: &Package,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
) -> Result<Body, OfdError> {
    let bytes = package.get("OFD.xml").ok_or(OfdError::NoOfdXml)?;
    let doc = xml::parse("OFD.xml", bytes, limits)?;
    let root = xml::root(&doc, "OFD.xml", "OFD")?;
    let bodies: Vec<_> = xml::children(root, "DocBody").collect();
    let body = *bodies.first().ok_or(OfdError::NoDocBody)?;
    if bodies.len() > 1 {
        findings.push(Finding::ExtraDocuments { count: bodies.len() });
    }
    let doc_info = xml::child(body, "DocInfo").map(read_doc_info).unwrap_or_default();
    let root_loc = xml::child_text(body, "DocRoot")
        .ok_or_else(|| OfdError::NoDocRoot("DocBody has no DocRoot".into()))?;
    let doc_root = locate(package, "", &root_loc)
        .filter(|p| package.get(p).is_some())
        .ok_or_else(|| OfdError::NoDocRoot(format!("DocRoot {root_loc:?} names no file")))?;
    let signatures_path = xml::child_text(body, "Signatures").and_then(|loc| {
        let path = locate(package, "", &loc);
        if path.is_none() {
            let reason = "names no usable path".to_owned();
            findings.push(Finding::SignaturesUnreadable { path: loc, reason });
        }
        path
    });
    Ok(Body { doc_info, doc_root, signatures_path })
}

fn read_doc_info(info: Node<'_, '_>) -> DocInfo {
    let field = |name| xml::child_text(info, name);
    let custom_datas = xml::child(info, "CustomDatas")
        .into_iter()
        .flat_map(|c| xml::children(c, "CustomData"))
        .map(|d| (xml::attr(d, "Name").unwrap_or_default(), xml::text(d)))
        .collect();
    DocInfo {
        doc_id: field("DocID"),
        title: field("Title"),
        author: field("Author"),
        subject: field("Subject"),
        creator: field("Creator"),
        creator_version: field("CreatorVersion"),
        creation_date: field("CreationDate"),
        mod_date: field("ModDate"),
        custom_datas,
    }
}

/// Reads `Document.xml` at `doc_root` and the custom tag files it names.
pub(super) fn read_document(
    package: &Package,
    doc_root: &str,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
) -> Result<(DocumentInfo, Vec<CustomTag>), OfdError> {
    let bytes = package.get(doc_root).unwrap_or_default();
    let doc = xml::parse(doc_root, bytes, limits)?;
    let root = xml::root(&doc, doc_root, "Document")?;
    let dir = dir_of(doc_root);
    let max_unit_id = xml::child(root, "CommonData")
        .and_then(|c| xml::child_text(c, "MaxUnitID"))
        .and_then(|t| t.parse().ok());
    let mut pages = Vec::new();
    for page in xml::child(root, "Pages").into_iter().flat_map(|p| xml::children(p, "Page")) {
        let id = xml::attr(page, "ID").unwrap_or_default();
        let base_loc = xml::attr(page, "BaseLoc").unwrap_or_default();
        let path = locate(package, dir, &base_loc);
        if path.as_deref().is_none_or(|p| package.get(p).is_none()) {
            findings.push(Finding::PageMissing { id: id.clone(), base_loc: base_loc.clone() });
        }
        pages.push(PageEntry { id, base_loc, path });
    }
    let custom_tags_path = xml::child_text(root, "CustomTags").and_then(|loc| locate(package, dir, &loc));
    let tags = match &custom_tags_path {
        Some(path) => read_custom_tags(package, path, limits, findings),
        None => Vec::new(),
    };
    Ok((DocumentInfo { max_unit_id, pages, custom_tags_path }, tags))
}

/// The tag list and each tag file's leaf values; problems become findings.
fn read_custom_tags(
    package: &Package,
    path: &str,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
) -> Vec<CustomTag> {
    let mut unreadable = |path: &str, reason: String| {
        findings.push(Finding::CustomTagsUnreadable { path: path.to_owned(), reason });
    };
    let Some(bytes) = package.get(path) else {
        unreadable(path, "file missing".into());
        return Vec::new();
    };
    let list = match xml::parse(path, bytes, limits) {
        Ok(doc) => doc,
        Err(e) => {
            unreadable(path, e.to_string());
            return Vec::new();
        }
    };
    let mut tags = Vec::new();
    for tag in xml::children(list.root_element(), "CustomTag").take(MAX_TAG_FILES) {
        let loc = xml::child_text(tag, "FileLoc").unwrap_or_default();
        let file = locate(package, dir_of(path), &loc);
        let values = match file.as_deref().map(|f| (f, package.get(f))) {
            Some((f, Some(b))) => leaf_values(f, b, limits).unwrap_or_else(|e| {
                unreadable(f, e.to_string());
                Vec::new()
            }),
            _ => {
                unreadable(&loc, "tag file missing".into());
                Vec::new()
            }
        };
        let type_id = xml::attr(tag, "TypeID");
        tags.push(CustomTag { type_id, name_space: xml::attr(tag, "NameSpace"), path: file, values });
    }
    tags
}

/// Elements without child elements: local name → trimmed text.
fn leaf_values(path: &str, bytes: &[u8], limits: &ReadLimits) -> Result<Vec<(String, String)>, OfdError> {
    let doc = xml::parse(path, bytes, limits)?;
    Ok(doc
        .root_element()
        .descendants()
        .filter(|n| n.is_element() && !n.children().any(|c| c.is_element()))
        .filter(|n| *n != doc.root_element())
        .map(|n| (n.tag_name().name().to_owned(), xml::text(n)))
        .collect())
}
