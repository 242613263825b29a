//! The one error type of the OFD module, with stable snake_case codes for API clients.
//!
//! Reading errors say which limit or which rule an uploaded package broke; the limits
//! themselves are in [`super::ReadLimits`]. Codes:
//!
//! | code | when |
//! |---|---|
//! | `ofd_bad_path` | [`super::Package::insert`] of a path that is not plain, or twice |
//! | `ofd_input_too_large`, `ofd_too_many_entries`, `ofd_entry_too_large`, `ofd_total_too_large`, `ofd_compression_ratio` | a [`super::ReadLimits`] bound |
//! | `ofd_bad_entry_name`, `ofd_duplicate_entry` | zip entry names (traversal, absolute, backslash, not UTF-8; repeated, also by letter case) |
//! | `ofd_encrypted_entry`, `ofd_unsupported_compression` | an entry that is encrypted or neither stored nor deflated |
//! | `ofd_not_zip`, `ofd_corrupt_entry` | not a zip or truncated; an entry that does not inflate or fails its CRC |
//! | `ofd_xml_too_large`, `ofd_xml_doctype`, `ofd_xml_too_deep`, `ofd_xml_too_many_nodes`, `ofd_xml_unreadable` | `OFD.xml` or the document's XML (in signature files these are findings) |
//! | `ofd_no_ofd_xml`, `ofd_no_doc_body`, `ofd_no_doc_root` | the package structure |
//! | `ofd_not_signable`, `ofd_bad_sign_spec`, `ofd_signed_value_failed` | [`super::sign`] |
//! | `ofd_zip_write` | [`super::Package::to_zip`] (internal) |

/// Why an OFD could not be written, signed or read.
#[derive(Debug, thiserror::Error)]
pub enum OfdError {
    /// A package path is not a plain relative path (empty, absolute, `..`, backslash, control
    /// characters) or is given twice.
    #[error("bad package path {0:?}")]
    BadPath(String),
    /// The uploaded bytes are larger than [`super::ReadLimits::max_input_bytes`].
    #[error("the OFD is {len} bytes, more than the {max} accepted")]
    InputTooLarge {
        /// The input length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The zip directory lists more entries than [`super::ReadLimits::max_entries`].
    #[error("the OFD zip has {count} entries, more than the {max} accepted")]
    TooManyEntries {
        /// Entries announced (or found).
        count: u64,
        /// The limit.
        max: usize,
    },
    /// One entry inflates to more than [`super::ReadLimits::max_entry_bytes`].
    #[error("zip entry {name:?} inflates to more than {max} bytes")]
    EntryTooLarge {
        /// The entry name.
        name: String,
        /// The limit.
        max: u64,
    },
    /// All entries together inflate to more than [`super::ReadLimits::max_total_bytes`].
    #[error("the OFD zip inflates to more than {max} bytes in total")]
    TotalTooLarge {
        /// The limit.
        max: u64,
    },
    /// An entry inflates more than [`super::ReadLimits::max_ratio`] times its compressed
    /// size (a zip bomb).
    #[error("zip entry {name:?} inflates more than {max} times its compressed size")]
    CompressionRatio {
        /// The entry name.
        name: String,
        /// The limit.
        max: u64,
    },
    /// An entry name that is not a plain relative UTF-8 path (absolute, `..`, backslash,
    /// control characters, not UTF-8, too long).
    #[error("zip entry name {0:?} is not a plain relative path")]
    BadEntryName(String),
    /// Two entries with the same name, also when they differ only in letter case.
    #[error("zip entry {0:?} appears twice (names compared without letter case)")]
    DuplicateEntry(String),
    /// An encrypted entry.
    #[error("zip entry {0:?} is encrypted")]
    EncryptedEntry(String),
    /// An entry compressed with something else than stored or deflate.
    #[error("zip entry {name:?} uses compression method {method}, not stored or deflate")]
    UnsupportedCompression {
        /// The entry name.
        name: String,
        /// The method as the zip crate names it.
        method: String,
    },
    /// Not a zip, a truncated zip or a damaged directory.
    #[error("not a readable zip: {0}")]
    NotZip(String),
    /// An entry's data cannot be inflated or fails its CRC.
    #[error("zip entry {name:?} is damaged: {reason}")]
    CorruptEntry {
        /// The entry name.
        name: String,
        /// What the zip reader said.
        reason: String,
    },
    /// The zip writer failed (an internal error: writing to memory does not fail otherwise).
    #[error("writing the zip failed: {0}")]
    ZipWrite(String),
    /// An XML file larger than [`super::ReadLimits::max_xml_bytes`].
    #[error("{path}: XML file larger than {max} bytes")]
    XmlTooLarge {
        /// The package path.
        path: String,
        /// The limit.
        max: usize,
    },
    /// An XML file with a DOCTYPE or entity declaration: refused, never resolved.
    #[error("{path}: XML with a DOCTYPE or entity declaration is refused")]
    XmlDoctype {
        /// The package path.
        path: String,
    },
    /// Elements nested deeper than [`super::ReadLimits::max_xml_depth`].
    #[error("{path}: XML nested deeper than {max} elements")]
    XmlTooDeep {
        /// The package path.
        path: String,
        /// The limit.
        max: usize,
    },
    /// More XML nodes than [`super::ReadLimits::max_xml_nodes`].
    #[error("{path}: XML has more than {max} nodes")]
    XmlTooManyNodes {
        /// The package path.
        path: String,
        /// The limit.
        max: u32,
    },
    /// XML that is not well-formed UTF-8 XML, or whose root is not the expected element.
    #[error("{path}: unreadable XML: {reason}")]
    XmlUnreadable {
        /// The package path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// No `OFD.xml` at the package root.
    #[error("the package has no OFD.xml")]
    NoOfdXml,
    /// `OFD.xml` has no `DocBody`.
    #[error("OFD.xml has no DocBody")]
    NoDocBody,
    /// `DocBody` names no `DocRoot`, or the document file it names is absent.
    #[error("no document: {0}")]
    NoDocRoot(String),
    /// The package cannot be signed as asked (it is not an unsigned licence whose `OFD.xml`
    /// names the signature list, or the page is unknown).
    #[error("cannot sign this package: {0}")]
    NotSignable(String),
    /// A [`super::SignSpec`] value cannot be written (control characters, a boundary that is
    /// not finite and positive).
    #[error("bad signature parameter: {0}")]
    BadSignSpec(String),
    /// The caller's signing callback failed.
    #[error("making the SignedValue failed: {0}")]
    SignedValue(#[source] Box<dyn std::error::Error + Send + Sync>),

    // --- Writing the licence page (src/ofd/write.rs and its parts) ---
    /// The page cannot be laid out (empty or oversized text, missing glyph, overflow, …).
    #[error(transparent)]
    Layout(#[from] crate::layout::LayoutError),
    /// The font subset could not be built.
    #[error("could not subset the font: {0}")]
    FontSubset(String),
    /// A writer option is unusable (the argument says which and why).
    #[error("bad OFD option: {0}")]
    BadOption(String),
}

impl OfdError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadPath(_) => "ofd_bad_path",
            Self::InputTooLarge { .. } => "ofd_input_too_large",
            Self::TooManyEntries { .. } => "ofd_too_many_entries",
            Self::EntryTooLarge { .. } => "ofd_entry_too_large",
            Self::TotalTooLarge { .. } => "ofd_total_too_large",
            Self::CompressionRatio { .. } => "ofd_compression_ratio",
            Self::BadEntryName(_) => "ofd_bad_entry_name",
            Self::DuplicateEntry(_) => "ofd_duplicate_entry",
            Self::EncryptedEntry(_) => "ofd_encrypted_entry",
            Self::UnsupportedCompression { .. } => "ofd_unsupported_compression",
            Self::NotZip(_) => "ofd_not_zip",
            Self::CorruptEntry { .. } => "ofd_corrupt_entry",
            Self::ZipWrite(_) => "ofd_zip_write",
            Self::XmlTooLarge { .. } => "ofd_xml_too_large",
            Self::XmlDoctype { .. } => "ofd_xml_doctype",
            Self::XmlTooDeep { .. } => "ofd_xml_too_deep",
            Self::XmlTooManyNodes { .. } => "ofd_xml_too_many_nodes",
            Self::XmlUnreadable { .. } => "ofd_xml_unreadable",
            Self::NoOfdXml => "ofd_no_ofd_xml",
            Self::NoDocBody => "ofd_no_doc_body",
            Self::NoDocRoot(_) => "ofd_no_doc_root",
            Self::NotSignable(_) => "ofd_not_signable",
            Self::BadSignSpec(_) => "ofd_bad_sign_spec",
            Self::SignedValue(_) => "ofd_signed_value_failed",
            // The layout's codes are the same as the PDF's for the same page.
            Self::Layout(e) => e.code(),
            Self::FontSubset(_) => "font_subset",
            Self::BadOption(_) => "ofd_bad_option",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_snake_case() {
        let all = [
            OfdError::BadPath(String::new()),
            OfdError::InputTooLarge { len: 0, max: 0 },
            OfdError::TooManyEntries { count: 0, max: 0 },
            OfdError::EntryTooLarge { name: String::new(), max: 0 },
            OfdError::TotalTooLarge { max: 0 },
            OfdError::CompressionRatio { name: String::new(), max: 0 },
            OfdError::BadEntryName(String::new()),
            OfdError::DuplicateEntry(String::new()),
            OfdError::EncryptedEntry(String::new()),
            OfdError::UnsupportedCompression { name: String::new(), method: String::new() },
            OfdError::NotZip(String::new()),
            OfdError::CorruptEntry { name: String::new(), reason: String::new() },
            OfdError::ZipWrite(String::new()),
            OfdError::XmlTooLarge { path: String::new(), max: 0 },
            OfdError::XmlDoctype { path: String::new() },
            OfdError::XmlTooDeep { path: String::new(), max: 0 },
            OfdError::XmlTooManyNodes { path: String::new(), max: 0 },
            OfdError::XmlUnreadable { path: String::new(), reason: String::new() },
            OfdError::NoOfdXml,
            OfdError::NoDocBody,
            OfdError::NoDocRoot(String::new()),
            OfdError::NotSignable(String::new()),
            OfdError::BadSignSpec(String::new()),
            OfdError::SignedValue("x".into()),
        ];
        let codes: std::collections::BTreeSet<_> = all.iter().map(OfdError::code).collect();
        assert_eq!(codes.len(), all.len());
        for c in codes {
            assert!(c.starts_with("ofd_") && c.bytes().all(|b| b == b'_' || b.is_ascii_lowercase()));
        }
    }
}
