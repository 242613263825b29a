//! What inspecting an OFD found wrong, one variant per stable code. The verification engine
//! turns each into a failed check; an empty list means the check passed.
//!
//! | code | level | check it fails |
//! |---|---|---|
//! | `ofd_page_missing` | package | a page of `Document.xml` has no content file |
//! | `ofd_signatures_unreadable`, `ofd_too_many_signatures` | package | the signature list |
//! | `ofd_custom_tags_unreadable` | package | the metadata tag files |
//! | `ofd_extra_documents` | package | more than one `DocBody` (only the first is read) |
//! | `ofd_signature_xml_missing`, `ofd_signature_xml_unreadable`, `ofd_signed_value_missing` | signature | signature structure |
//! | `ofd_signature_method_unknown`, `ofd_signature_time_unreadable`, `ofd_stamp_annot_invalid` | signature | `SignedInfo` contents |
//! | `ofd_check_method_unsupported`, `ofd_no_references` | signature | reference digests (none checked) |
//! | `ofd_reference_mismatch`, `ofd_reference_missing_file`, `ofd_reference_bad_path`, `ofd_reference_bad_check_value` | signature | one reference digest |
//! | `ofd_file_not_covered`, `ofd_page_not_covered` | signature | coverage of the package |

use std::fmt;

/// One problem found in a package or in one of its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finding {
    /// A page listed in `Document.xml` whose content file is absent (or whose `BaseLoc`
    /// names no usable path). Package level.
    PageMissing {
        /// The page's `ID`.
        id: String,
        /// Its `BaseLoc` as written.
        base_loc: String,
    },
    /// `Signatures.xml` is named by `OFD.xml` but absent or unreadable. Package level.
    SignaturesUnreadable {
        /// The location or path.
        path: String,
        /// Why.
        reason: String,
    },
    /// More signatures than [`super::super::ReadLimits::max_signatures`]; the rest are not
    /// read. Package level.
    TooManySignatures {
        /// How many are listed.
        count: usize,
        /// The limit.
        max: usize,
    },
    /// A custom tag file named by `Document.xml` is absent or unreadable. Package level.
    CustomTagsUnreadable {
        /// The location or path.
        path: String,
        /// Why.
        reason: String,
    },
    /// `OFD.xml` has more than one `DocBody`; only the first is read. Package level.
    ExtraDocuments {
        /// How many `DocBody` elements there are.
        count: usize,
    },
    /// The signature's `Signature.xml` is absent (or its `BaseLoc` is unusable).
    SignatureXmlMissing {
        /// The `BaseLoc` as written.
        base_loc: String,
    },
    /// `Signature.xml` is not readable XML or has no `SignedInfo`.
    SignatureXmlUnreadable {
        /// Its package path.
        path: String,
        /// Why.
        reason: String,
    },
    /// The `SignedValue` file is absent or not named.
    SignedValueMissing {
        /// The location as written (empty when not named).
        location: String,
    },
    /// `SignatureMethod` is not SM2 with SM3 (1.2.156.10197.1.501).
    SignatureMethodUnknown {
        /// What it says.
        method: String,
    },
    /// `SignatureDateTime` is absent or in no known form.
    SignatureTimeUnreadable {
        /// What it says.
        value: String,
    },
    /// `References/@CheckMethod` is neither the SM3 OID nor `SM3`: no digest was checked.
    CheckMethodUnsupported {
        /// What it says (empty when absent).
        method: String,
    },
    /// The signature has no `Reference`.
    NoReferences,
    /// A referenced file's SM3 differs from its `CheckValue`.
    ReferenceMismatch {
        /// The package path.
        path: String,
    },
    /// A referenced file is absent.
    ReferenceMissingFile {
        /// The package path.
        path: String,
    },
    /// A `FileRef` names no usable path.
    ReferenceBadPath {
        /// The `FileRef` as written.
        file_ref: String,
    },
    /// A `CheckValue` is not base64 of a 32-byte digest.
    ReferenceBadCheckValue {
        /// The `FileRef` as written.
        file_ref: String,
    },
    /// A package file that no reference covers (other than the signature files excused, see
    /// [`super::inspect`]).
    FileNotCovered {
        /// The package path.
        path: String,
    },
    /// A page of `Document.xml` whose content file is present but not covered.
    PageNotCovered {
        /// The page's `ID`.
        id: String,
        /// Its package path.
        path: String,
    },
    /// A `StampAnnot` whose `PageRef` names no page or whose `Boundary` is unreadable.
    StampAnnotInvalid {
        /// Its `ID`.
        id: String,
        /// Why.
        reason: String,
    },
}

impl Finding {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::PageMissing { .. } => "ofd_page_missing",
            Self::SignaturesUnreadable { .. } => "ofd_signatures_unreadable",
            Self::TooManySignatures { .. } => "ofd_too_many_signatures",
            Self::CustomTagsUnreadable { .. } => "ofd_custom_tags_unreadable",
            Self::ExtraDocuments { .. } => "ofd_extra_documents",
            Self::SignatureXmlMissing { .. } => "ofd_signature_xml_missing",
            Self::SignatureXmlUnreadable { .. } => "ofd_signature_xml_unreadable",
            Self::SignedValueMissing { .. } => "ofd_signed_value_missing",
            Self::SignatureMethodUnknown { .. } => "ofd_signature_method_unknown",
            Self::SignatureTimeUnreadable { .. } => "ofd_signature_time_unreadable",
            Self::CheckMethodUnsupported { .. } => "ofd_check_method_unsupported",
            Self::NoReferences => "ofd_no_references",
            Self::ReferenceMismatch { .. } => "ofd_reference_mismatch",
            Self::ReferenceMissingFile { .. } => "ofd_reference_missing_file",
            Self::ReferenceBadPath { .. } => "ofd_reference_bad_path",
            Self::ReferenceBadCheckValue { .. } => "ofd_reference_bad_check_value",
            Self::FileNotCovered { .. } => "ofd_file_not_covered",
            Self::PageNotCovered { .. } => "ofd_page_not_covered",
            Self::StampAnnotInvalid { .. } => "ofd_stamp_annot_invalid",
        }
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::PageMissing { id, base_loc } => write!(f, "page {id} ({base_loc}) is missing"),
            Self::SignaturesUnreadable { path, reason } => write!(f, "{path}: {reason}"),
            Self::TooManySignatures { count, max } => {
                write!(f, "{count} signatures listed, only the first {max} read")
            }
            Self::CustomTagsUnreadable { path, reason } => write!(f, "{path}: {reason}"),
            Self::ExtraDocuments { count } => write!(f, "{count} documents, only the first read"),
            Self::SignatureXmlMissing { base_loc } => write!(f, "signature file {base_loc} is missing"),
            Self::SignatureXmlUnreadable { path, reason } => write!(f, "{path}: {reason}"),
            Self::SignedValueMissing { location } => write!(f, "SignedValue {location:?} is missing"),
            Self::SignatureMethodUnknown { method } => write!(f, "SignatureMethod {method:?} is not SM2/SM3"),
            Self::SignatureTimeUnreadable { value } => write!(f, "SignatureDateTime {value:?} is unreadable"),
            Self::CheckMethodUnsupported { method } => write!(f, "CheckMethod {method:?} is not SM3"),
            Self::NoReferences => write!(f, "the signature references no file"),
            Self::ReferenceMismatch { path } => write!(f, "{path} differs from its signed digest"),
            Self::ReferenceMissingFile { path } => write!(f, "referenced file {path} is missing"),
            Self::ReferenceBadPath { file_ref } => write!(f, "FileRef {file_ref:?} names no usable path"),
            Self::ReferenceBadCheckValue { file_ref } => {
                write!(f, "CheckValue of {file_ref} is not an SM3 digest")
            }
            Self::FileNotCovered { path } => write!(f, "{path} is not covered by the signature"),
            Self::PageNotCovered { id, path } => {
                write!(f, "page {id} ({path}) is not covered by the signature")
            }
            Self::StampAnnotInvalid { id, reason } => write!(f, "StampAnnot {id}: {reason}"),
        }
    }
}
