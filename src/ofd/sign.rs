//! Signing an OFD package with a GB/T 38540 seal signature: `Signature.xml` with an SM3
//! reference to every file, the caller's `SES_Signature` as `SignedValue.dat`, and the
//! `Signatures.xml` list that `OFD.xml` already names.
//!
//! The `SES_Signature` itself is made by the caller (see [`crate::ses`]) from the exact
//! bytes of `Signature.xml` that this module hands over; nothing here judges those bytes.
//! Files are only added, never changed, after they are hashed.

use data_encoding::BASE64;
use sm3::{Digest, Sm3};
use time::{OffsetDateTime, UtcOffset, format_description::BorrowedFormatItem, macros::format_description};

use super::path::{absolute, locate};
use super::xml::{self, OFD_NS, XmlWriter};
use super::{Boundary, OfdError, Package, ReadLimits};

/// Where the one signature list of a licence OFD lives (`OFD.xml` names it).
pub const SIGNATURES_PATH: &str = "Doc_0/Signs/Signatures.xml";
/// The signature file; `TBS_Sign.propertyInfo` is this path with a leading `/`.
pub const SIGNATURE_PATH: &str = "Doc_0/Signs/Sign_0/Signature.xml";
/// The DER `SES_Signature`.
pub const SIGNED_VALUE_PATH: &str = "Doc_0/Signs/Sign_0/SignedValue.dat";
/// SM3 (GB/T 32905), written as `References/@CheckMethod`.
pub const SM3_OID: &str = "1.2.156.10197.1.401";
/// SM2 with SM3, written as `SignatureMethod`.
pub const SM2_SM3_OID: &str = "1.2.156.10197.1.501";

/// `SignatureDateTime` as written: `yyyyMMddHHmmss`, in UTC.
const DATE_TIME: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day][hour][minute][second]");

/// What the signature says about who made it, when, and where the seal shows.
#[derive(Debug, Clone, PartialEq)]
pub struct SignSpec {
    /// `Provider/@ProviderName`: the signing software.
    pub provider_name: String,
    /// `Provider/@Version` (left out when empty).
    pub provider_version: String,
    /// `Provider/@Company` (left out when empty).
    pub provider_company: String,
    /// `SignatureDateTime`, written `yyyyMMddHHmmss` after conversion to UTC (the standard
    /// names no zone; UTC agrees with `TBS_Sign.timeInfo`, a GeneralizedTime in UTC).
    pub signature_date_time: OffsetDateTime,
    /// The `ID` of the page in `Document.xml` that the seal shows on (`StampAnnot/@PageRef`).
    pub page_id: u64,
    /// Where the seal shows (`StampAnnot/@Boundary`), in mm, origin top-left, y down.
    pub stamp_boundary: Boundary,
    /// `StampAnnot/@ID` (an ID the document writer reserved below `MaxUnitID`).
    pub stamp_annot_id: u64,
}

/// What the caller's callback signs: `Signature.xml` exactly as it is stored.
#[derive(Debug, Clone, Copy)]
pub struct SignatureToSign<'a> {
    /// The bytes of `Signature.xml` (`TBS_Sign.dataHash` is their SM3).
    pub xml: &'a [u8],
    /// Its absolute path in the package, `/Doc_0/Signs/Sign_0/Signature.xml`
    /// (`TBS_Sign.propertyInfo`).
    pub property_info: &'a str,
}

/// Signs an unsigned licence package in place: writes `Signature.xml` with an SM3
/// reference to every file present now, asks `signed_value` for the DER `SES_Signature`
/// over it, and adds `SignedValue.dat` and `Signatures.xml`. The package must be unsigned
/// and its `OFD.xml` `DocBody` must already name `Doc_0/Signs/Signatures.xml` (so that
/// `OFD.xml` is final when it is hashed), and `spec.page_id` must be a page of
/// `Document.xml`. On any error the package is unchanged.
pub fn sign<E>(
    package: &mut Package,
    spec: &SignSpec,
    signed_value: impl FnOnce(&SignatureToSign<'_>) -> Result<Vec<u8>, E>,
) -> Result<(), OfdError>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let date_time = check_spec(spec)?;
    check_signable(package, spec.page_id)?;
    let xml = signature_xml(package, spec, &date_time);
    let property_info = absolute(SIGNATURE_PATH);
    let value = signed_value(&SignatureToSign { xml: &xml, property_info: &property_info })
        .map_err(|e| OfdError::SignedValue(e.into()))?;
    package.insert(SIGNATURES_PATH, signatures_xml())?;
    package.insert(SIGNATURE_PATH, xml)?;
    package.insert(SIGNED_VALUE_PATH, value)?;
    Ok(())
}

/// Checks the values that go into XML and returns the formatted date-time.
fn check_spec(spec: &SignSpec) -> Result<String, OfdError> {
    let bad = |what: &str| OfdError::BadSignSpec(what.to_owned());
    if spec.provider_name.trim().is_empty() {
        return Err(bad("the provider name is empty"));
    }
    for s in [&spec.provider_name, &spec.provider_version, &spec.provider_company] {
        if !xml::is_xml_text(s) {
            return Err(bad("a provider value has characters XML cannot carry"));
        }
    }
    if !spec.stamp_boundary.is_valid() {
        return Err(bad("the stamp boundary is not four finite numbers with a positive size"));
    }
    let utc = spec.signature_date_time.to_offset(UtcOffset::UTC);
    if !(1..=9999).contains(&utc.year()) {
        return Err(bad("the signing time is outside years 1–9999"));
    }
    utc.format(DATE_TIME).map_err(|e| bad(&e.to_string()))
}

/// An unsigned package whose `OFD.xml` names [`SIGNATURES_PATH`] and whose document has
/// the page `page_id`.
fn check_signable(package: &Package, page_id: u64) -> Result<(), OfdError> {
    let not = |why: String| OfdError::NotSignable(why);
    if let Some((p, _)) = package.files().find(|(p, _)| p.starts_with("Doc_0/Signs/")) {
        return Err(not(format!("it is already signed ({p} exists)")));
    }
    let limits = ReadLimits::default();
    let ofd_bytes = package.get("OFD.xml").ok_or(OfdError::NoOfdXml)?;
    let ofd = xml::parse("OFD.xml", ofd_bytes, &limits)?;
    let body = xml::child(xml::root(&ofd, "OFD.xml", "OFD")?, "DocBody").ok_or(OfdError::NoDocBody)?;
    let named = xml::child_text(body, "Signatures").and_then(|l| locate(package, "", &l));
    if named.as_deref() != Some(SIGNATURES_PATH) {
        return Err(not(format!("OFD.xml's DocBody does not name {SIGNATURES_PATH}")));
    }
    let root_loc = xml::child_text(body, "DocRoot").unwrap_or_default();
    let doc_path = locate(package, "", &root_loc)
        .filter(|p| package.get(p).is_some())
        .ok_or_else(|| OfdError::NoDocRoot(format!("DocRoot {root_loc:?} names no file")))?;
    let doc_bytes = package.get(&doc_path).unwrap_or_default();
    let doc = xml::parse(&doc_path, doc_bytes, &limits)?;
    let pages = xml::child(xml::root(&doc, &doc_path, "Document")?, "Pages");
    let wanted = page_id.to_string();
    let found = pages
        .into_iter()
        .flat_map(|p| xml::children(p, "Page"))
        .any(|p| xml::attr(p, "ID").as_deref() == Some(wanted.as_str()));
    if !found {
        return Err(not(format!("{doc_path} has no page with ID {page_id}")));
    }
    Ok(())
}

/// `Signature.xml`: SignedInfo (Provider, SignatureMethod, SignatureDateTime, References
/// over every file in package order, StampAnnot) then SignedValue, as the files in use.
fn signature_xml(package: &Package, spec: &SignSpec, date_time: &str) -> Vec<u8> {
    let mut w = XmlWriter::new();
    w.open("ofd:Signature", &[("xmlns:ofd", OFD_NS)]);
    w.open("ofd:SignedInfo", &[]);
    let mut provider = vec![("ProviderName", spec.provider_name.as_str())];
    if !spec.provider_version.is_empty() {
        provider.push(("Version", spec.provider_version.as_str()));
    }
    if !spec.provider_company.is_empty() {
        provider.push(("Company", spec.provider_company.as_str()));
    }
    w.empty("ofd:Provider", &provider);
    w.element("ofd:SignatureMethod", &[], SM2_SM3_OID);
    w.element("ofd:SignatureDateTime", &[], date_time);
    w.open("ofd:References", &[("CheckMethod", SM3_OID)]);
    for (path, bytes) in package.files() {
        w.open("ofd:Reference", &[("FileRef", &absolute(path))]);
        w.element("ofd:CheckValue", &[], &BASE64.encode(&Sm3::digest(bytes)));
        w.close("ofd:Reference");
    }
    w.close("ofd:References");
    let (id, page) = (spec.stamp_annot_id.to_string(), spec.page_id.to_string());
    let boundary = spec.stamp_boundary.to_string();
    w.empty("ofd:StampAnnot", &[("ID", &id), ("PageRef", &page), ("Boundary", &boundary)]);
    w.close("ofd:SignedInfo");
    w.element("ofd:SignedValue", &[], &absolute(SIGNED_VALUE_PATH));
    w.close("ofd:Signature");
    w.finish()
}

/// `Signatures.xml` with the one seal signature.
fn signatures_xml() -> Vec<u8> {
    let mut w = XmlWriter::new();
    w.open("ofd:Signatures", &[("xmlns:ofd", OFD_NS)]);
    w.element("ofd:MaxSignId", &[], "1");
    let base = absolute(SIGNATURE_PATH);
    w.empty("ofd:Signature", &[("ID", "1"), ("Type", "Seal"), ("BaseLoc", &base)]);
    w.close("ofd:Signatures");
    w.finish()
}
