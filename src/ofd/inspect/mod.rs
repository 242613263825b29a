//! Reading any OFD (ours or foreign) into what a verifier needs: the document metadata,
//! the pages, and per signature its `Signature.xml` bytes, reference digests checked, the
//! stamp annotations and the `SignedValue` bytes, with [`Finding`]s under stable codes.
//!
//! Structural failures (not a zip, a limit broken, no `OFD.xml`, no `DocBody`, no
//! document, unreadable `OFD.xml` or `Document.xml`) are errors ([`OfdError`]); everything
//! a signature check judges is a finding. The `SES_Signature` is not verified here: its
//! bytes are exposed for [`crate::ses`].
//!
//! Coverage: every package file must be covered by a reference of each signature, except
//! the signature list (`Signatures.xml`, which each new signature rewrites), the
//! `Signature.xml` and `SignedValue` files of every listed signature (each protects itself:
//! `dataHash` covers its `Signature.xml`), and the seal file (`Seal/BaseLoc`) of a
//! signature listed after this one (a later signature adds it). An excused file is only as
//! good as the signature that owns it, so a verifier must fail the document when any of its
//! signatures fails.

mod coverage;
mod document;
mod finding;
mod signature;

use time::PrimitiveDateTime;

pub use finding::Finding;

use super::{Boundary, OfdError, Package, ReadLimits};

/// Everything read from an OFD.
#[derive(Debug, Clone)]
pub struct OfdInspection {
    /// The package as read (paths without a leading `/`).
    pub package: Package,
    /// `OFD.xml` `DocBody/DocInfo`.
    pub doc_info: DocInfo,
    /// The package path of the document (`DocBody/DocRoot`, e.g. `Doc_0/Document.xml`).
    pub doc_root: String,
    /// The package path of the signature list, when `DocBody/Signatures` names one.
    pub signatures_path: Option<String>,
    /// `Document.xml`.
    pub document: DocumentInfo,
    /// The custom tags (`Document/CustomTags` → tag list → tag files).
    pub custom_tags: Vec<CustomTag>,
    /// The signatures in the order `Signatures.xml` lists them.
    pub signatures: Vec<SignatureInspection>,
    /// Package-level findings (pages missing, signature list unreadable, …).
    pub findings: Vec<Finding>,
}

/// `DocInfo` of `OFD.xml`, values trimmed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocInfo {
    /// `DocID`.
    pub doc_id: Option<String>,
    /// `Title`.
    pub title: Option<String>,
    /// `Author`.
    pub author: Option<String>,
    /// `Subject`.
    pub subject: Option<String>,
    /// `Creator`.
    pub creator: Option<String>,
    /// `CreatorVersion`.
    pub creator_version: Option<String>,
    /// `CreationDate` as written (`yyyy-MM-dd`).
    pub creation_date: Option<String>,
    /// `ModDate` as written.
    pub mod_date: Option<String>,
    /// `CustomDatas/CustomData`: `Name` → text, in document order.
    pub custom_datas: Vec<(String, String)>,
}

/// What `Document.xml` says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocumentInfo {
    /// `CommonData/MaxUnitID`, when present and a number.
    pub max_unit_id: Option<u64>,
    /// `Pages/Page` in order.
    pub pages: Vec<PageEntry>,
    /// The package path of the custom tag list (`CustomTags`), when named.
    pub custom_tags_path: Option<String>,
}

/// One `Pages/Page`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageEntry {
    /// `ID` as written.
    pub id: String,
    /// `BaseLoc` as written.
    pub base_loc: String,
    /// The package path it resolves to, if usable (the file may still be absent).
    pub path: Option<String>,
}

/// One `CustomTag` and the text of its tag file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomTag {
    /// `TypeID`.
    pub type_id: Option<String>,
    /// `NameSpace`.
    pub name_space: Option<String>,
    /// The package path of the tag file (`FileLoc`), if usable.
    pub path: Option<String>,
    /// Leaf elements of the tag file: local name → trimmed text, in document order.
    pub values: Vec<(String, String)>,
}

/// One signature of `Signatures.xml` and what its files say.
#[derive(Debug, Clone)]
pub struct SignatureInspection {
    /// `Signature/@ID`.
    pub id: String,
    /// `Signature/@Type` (`Seal` or `Sign`), if given.
    pub kind: Option<String>,
    /// `Signature/@BaseLoc` as written.
    pub base_loc: String,
    /// The package path of `Signature.xml` (`TBS_Sign.propertyInfo` is usually `/` + it).
    pub path: Option<String>,
    /// `Signature.xml` exactly as stored (`TBS_Sign.dataHash` must be its SM3).
    pub signature_xml: Option<Vec<u8>>,
    /// `SignedInfo/Provider`.
    pub provider: Option<Provider>,
    /// `SignedInfo/SignatureMethod`.
    pub signature_method: Option<String>,
    /// `SignedInfo/SignatureDateTime` as written.
    pub signature_date_time: Option<String>,
    /// It read as `yyyyMMddHHmmss` or `yyyy-MM-dd HH:mm:ss` (no zone is written; ours is UTC).
    pub signature_time: Option<PrimitiveDateTime>,
    /// `References/@CheckMethod` as written (`1.2.156.10197.1.401` or `SM3` are checked).
    pub check_method: Option<String>,
    /// Each `Reference` and its digest outcome.
    pub references: Vec<ReferenceCheck>,
    /// `SignedInfo/StampAnnot`s.
    pub stamp_annots: Vec<StampAnnot>,
    /// The package path of `Seal/BaseLoc`, when given.
    pub seal_path: Option<String>,
    /// The package path of the `SignedValue` file.
    pub signed_value_path: Option<String>,
    /// Its bytes (the DER `SES_Signature`).
    pub signed_value: Option<Vec<u8>>,
    /// What is wrong with this signature at the OFD layer.
    pub findings: Vec<Finding>,
}

/// `SignedInfo/Provider`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `ProviderName`.
    pub name: String,
    /// `Version`.
    pub version: Option<String>,
    /// `Company`.
    pub company: Option<String>,
}

/// One `Reference` and how its digest compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReferenceCheck {
    /// `FileRef` as written.
    pub file_ref: String,
    /// The package path it names, if usable.
    pub path: Option<String>,
    /// `CheckValue` as written (base64 of the digest).
    pub check_value: String,
    /// The comparison.
    pub outcome: DigestOutcome,
}

/// How a reference's `CheckValue` compared with the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestOutcome {
    /// SM3 of the file equals the `CheckValue`.
    Match,
    /// It differs.
    Mismatch,
    /// The file is absent.
    MissingFile,
    /// The `FileRef` names no usable path.
    BadPath,
    /// The `CheckValue` is not base64 of 32 bytes.
    BadCheckValue,
    /// Not compared: the `CheckMethod` is not SM3.
    NotChecked,
}

/// One `StampAnnot`.
#[derive(Debug, Clone, PartialEq)]
pub struct StampAnnot {
    /// `ID`.
    pub id: Option<String>,
    /// `PageRef` (a page `ID` of `Document.xml`).
    pub page_ref: Option<String>,
    /// `Boundary` read as mm (origin top-left, y down), if readable.
    pub boundary: Option<Boundary>,
}

/// Reads an uploaded OFD under `limits` (see the module documentation).
pub fn inspect(bytes: &[u8], limits: &ReadLimits) -> Result<OfdInspection, OfdError> {
    inspect_package(Package::from_zip(bytes, limits)?, limits)
}

/// [`inspect`] for a package already in memory.
pub fn inspect_package(package: Package, limits: &ReadLimits) -> Result<OfdInspection, OfdError> {
    let mut findings = Vec::new();
    let body = document::read_ofd_xml(&package, limits, &mut findings)?;
    let (document, custom_tags) = document::read_document(&package, &body.doc_root, limits, &mut findings)?;
    let signatures = match &body.signatures_path {
        Some(path) => signature::read_all(&package, path, &document, limits, &mut findings),
        None => Vec::new(),
    };
    Ok(OfdInspection {
        doc_info: body.doc_info,
        doc_root: body.doc_root,
        signatures_path: body.signatures_path,
        document,
        custom_tags,
        signatures,
        findings,
        package,
    })
}

impl OfdInspection {
    /// Whether the package lists any signature.
    pub fn is_signed(&self) -> bool {
        !self.signatures.is_empty()
    }
}
