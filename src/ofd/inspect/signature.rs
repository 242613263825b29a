//! `Signatures.xml` and each signature's `Signature.xml`: what they say, with the reference
//! digests compared (through [`super::coverage`]).

use roxmltree::Node;
use time::PrimitiveDateTime;
use time::macros::format_description;

use super::coverage::{Digests, check_coverage, check_reference};
use super::{DocumentInfo, Finding, Provider, SignatureInspection, StampAnnot};
use crate::ofd::path::{dir_of, locate};
use crate::ofd::sign::{SM2_SM3_OID, SM3_OID};
use crate::ofd::xml;
use crate::ofd::{Boundary, Package, ReadLimits};

/// Reads the signature list at `list_path` and every signature it names (up to the limit).
pub(super) fn read_all(
    package: &Package,
    list_path: &str,
    document: &DocumentInfo,
    limits: &ReadLimits,
    findings: &mut Vec<Finding>,
) -> Vec<SignatureInspection> {
    let mut unreadable = |reason: String| {
        findings.push(Finding::SignaturesUnreadable { path: list_path.to_owned(), reason });
    };
    let Some(bytes) = package.get(list_path) else {
        unreadable("file missing".into());
        return Vec::new();
    };
    let doc = match xml::parse(list_path, bytes, limits) {
        Ok(doc) => doc,
        Err(e) => {
            unreadable(e.to_string());
            return Vec::new();
        }
    };
    let root = doc.root_element();
    if !xml::is_ofd(root, "Signatures") {
        unreadable("root element is not ofd:Signatures".into());
        return Vec::new();
    }
    let count = xml::children(root, "Signature").count();
    if count > limits.max_signatures {
        findings.push(Finding::TooManySignatures { count, max: limits.max_signatures });
    }
    let mut digests = Digests::new(package);
    let mut signatures: Vec<_> = xml::children(root, "Signature")
        .take(limits.max_signatures)
        .map(|s| read_one(package, list_path, s, document, limits, &mut digests))
        .collect();
    check_coverage(package, list_path, document, &mut signatures);
    signatures
}

/// One `Signatures/Signature` entry and its `Signature.xml`.
fn read_one(
    package: &Package,
    list_path: &str,
    entry: Node<'_, '_>,
    document: &DocumentInfo,
    limits: &ReadLimits,
    digests: &mut Digests<'_>,
) -> SignatureInspection {
    let base_loc = xml::attr(entry, "BaseLoc").unwrap_or_default();
    let path = locate(package, dir_of(list_path), &base_loc);
    let mut sig = SignatureInspection {
        id: xml::attr(entry, "ID").unwrap_or_default(),
        kind: xml::attr(entry, "Type"),
        base_loc,
        path: path.clone(),
        signature_xml: None,
        provider: None,
        signature_method: None,
        signature_date_time: None,
        signature_time: None,
        check_method: None,
        references: Vec::new(),
        stamp_annots: Vec::new(),
        seal_path: None,
        signed_value_path: None,
        signed_value: None,
        findings: Vec::new(),
    };
    let Some((path, bytes)) = path.and_then(|p| package.get(&p).map(|b| (p, b))) else {
        sig.findings.push(Finding::SignatureXmlMissing { base_loc: sig.base_loc.clone() });
        return sig;
    };
    sig.signature_xml = Some(bytes.to_vec());
    let unreadable = |reason: String| Finding::SignatureXmlUnreadable { path: path.clone(), reason };
    let doc = match xml::parse(&path, bytes, limits) {
        Ok(doc) => doc,
        Err(e) => {
            sig.findings.push(unreadable(e.to_string()));
            return sig;
        }
    };
    let info = xml::root(&doc, &path, "Signature")
        .map_err(|e| e.to_string())
        .and_then(|r| xml::child(r, "SignedInfo").map(|i| (r, i)).ok_or("no SignedInfo".into()));
    match info {
        Ok((root, info)) => {
            let dir = dir_of(&path);
            read_signed_info(package, dir, info, document, digests, &mut sig);
            read_signed_value(package, dir, root, &mut sig);
        }
        Err(reason) => sig.findings.push(unreadable(reason)),
    }
    sig
}

/// Provider, method, time, references, stamp annotations and seal of `SignedInfo`.
fn read_signed_info(
    package: &Package,
    dir: &str,
    info: Node<'_, '_>,
    document: &DocumentInfo,
    digests: &mut Digests<'_>,
    sig: &mut SignatureInspection,
) {
    sig.provider = xml::child(info, "Provider").map(|p| Provider {
        name: xml::attr(p, "ProviderName").unwrap_or_default(),
        version: xml::attr(p, "Version"),
        company: xml::attr(p, "Company"),
    });
    sig.signature_method = xml::child_text(info, "SignatureMethod");
    if sig.signature_method.as_deref() != Some(SM2_SM3_OID) {
        let method = sig.signature_method.clone().unwrap_or_default();
        sig.findings.push(Finding::SignatureMethodUnknown { method });
    }
    sig.signature_date_time = xml::child_text(info, "SignatureDateTime");
    sig.signature_time = sig.signature_date_time.as_deref().and_then(parse_time);
    if sig.signature_time.is_none() {
        let value = sig.signature_date_time.clone().unwrap_or_default();
        sig.findings.push(Finding::SignatureTimeUnreadable { value });
    }
    let refs = xml::child(info, "References");
    sig.check_method = refs.and_then(|r| xml::attr(r, "CheckMethod"));
    let supported =
        sig.check_method.as_deref().is_some_and(|m| m == SM3_OID || m.eq_ignore_ascii_case("SM3"));
    if !supported {
        let method = sig.check_method.clone().unwrap_or_default();
        sig.findings.push(Finding::CheckMethodUnsupported { method });
    }
    for r in refs.into_iter().flat_map(|r| xml::children(r, "Reference")) {
        let file_ref = xml::attr(r, "FileRef").unwrap_or_default();
        let value = xml::child_text(r, "CheckValue").unwrap_or_default();
        let (check, finding) = check_reference(package, dir, file_ref, &value, supported, digests);
        sig.references.push(check);
        sig.findings.extend(finding);
    }
    if sig.references.is_empty() {
        sig.findings.push(Finding::NoReferences);
    }
    for s in xml::children(info, "StampAnnot") {
        sig.stamp_annots.push(read_stamp_annot(s, document, &mut sig.findings));
    }
    sig.seal_path = xml::child(info, "Seal")
        .and_then(|s| xml::child_text(s, "BaseLoc"))
        .and_then(|loc| locate(package, dir, &loc));
}

fn read_stamp_annot(s: Node<'_, '_>, document: &DocumentInfo, findings: &mut Vec<Finding>) -> StampAnnot {
    let annot = StampAnnot {
        id: xml::attr(s, "ID"),
        page_ref: xml::attr(s, "PageRef"),
        boundary: xml::attr(s, "Boundary").as_deref().and_then(Boundary::parse),
    };
    let id = annot.id.clone().unwrap_or_default();
    let page_known = |r: &String| document.pages.iter().any(|p| &p.id == r);
    if !annot.page_ref.as_ref().is_some_and(page_known) {
        let reason = format!("PageRef {:?} names no page", annot.page_ref.clone().unwrap_or_default());
        findings.push(Finding::StampAnnotInvalid { id: id.clone(), reason });
    }
    if annot.boundary.is_none() {
        findings.push(Finding::StampAnnotInvalid { id, reason: "Boundary is unreadable".into() });
    }
    annot
}

/// `Signature/SignedValue` → its path and bytes.
fn read_signed_value(package: &Package, dir: &str, root: Node<'_, '_>, sig: &mut SignatureInspection) {
    let location = xml::child_text(root, "SignedValue").unwrap_or_default();
    sig.signed_value_path = locate(package, dir, &location);
    sig.signed_value = sig.signed_value_path.as_deref().and_then(|p| package.get(p)).map(<[u8]>::to_vec);
    if sig.signed_value.is_none() {
        sig.findings.push(Finding::SignedValueMissing { location });
    }
}

/// `SignatureDateTime` as `yyyyMMddHHmmss` (GB/T 38540) or `yyyy-MM-dd HH:mm:ss` (ofdrw).
pub(super) fn parse_time(s: &str) -> Option<PrimitiveDateTime> {
    let compact = format_description!("[year][month][day][hour][minute][second]");
    let spaced = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let s = s.trim();
    PrimitiveDateTime::parse(s, compact).or_else(|_| PrimitiveDateTime::parse(s, spaced)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_both_time_forms() {
        let t = time::macros::datetime!(2020-10-10 15:11:20);
        assert_eq!(parse_time("20201010151120"), Some(t));
        assert_eq!(parse_time(" 2020-10-10 15:11:20 "), Some(t));
        for bad in ["", "2020101015112", "202010101511200", "2020-13-10 15:11:20", "x"] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }
}
