//! The document's catalogue metadata, written by both formats: the PDF's document
//! information dictionary and the OFD's `DocInfo` (with `CustomDatas`) and tag file.

use time::OffsetDateTime;

use super::LayoutError;

/// Longest custom metadata value, in characters.
pub(crate) const MAX_META_VALUE: usize = 4096;

/// Most custom metadata entries.
pub(crate) const MAX_CUSTOM: usize = 64;

/// Keys that name standard document information in PDF, refused as custom keys so that
/// both formats carry the same custom keys.
const STANDARD: [&str; 9] =
    ["Title", "Subject", "Author", "Keywords", "Creator", "Producer", "CreationDate", "ModDate", "Trapped"];

/// The document information of a licence: standard entries and catalogue metadata.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DocInfo {
    /// The title, e.g. the licence name and number.
    pub title: String,
    /// The subject, e.g. the licence type.
    pub subject: String,
    /// The author: the issuing department.
    pub author: String,
    /// Keywords, if any.
    pub keywords: Option<String>,
    /// The creation (and modification) date, if given; the layout reads no clock.
    pub creation_date: Option<OffsetDateTime>,
    /// Catalogue metadata as custom keys (`LicenceIdentifier`, `HolderName`, …), in order.
    ///
    /// Keys must be ASCII letters, digits, `_`, `-` or `.`, at most 64 bytes, not a
    /// standard key and not repeated.
    pub custom: Vec<(String, String)>,
}

/// Refuses custom metadata that either format could not carry the same way.
pub(crate) fn check_custom(info: &DocInfo) -> Result<(), LayoutError> {
    if info.custom.len() > MAX_CUSTOM {
        return Err(LayoutError::TooLong {
            what: "custom metadata",
            max: MAX_CUSTOM,
            got: info.custom.len(),
        });
    }
    for (i, (key, value)) in info.custom.iter().enumerate() {
        let ok = !key.is_empty()
            && key.len() <= 64
            && key.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.".contains(&b))
            && !STANDARD.contains(&key.as_str())
            && !info.custom[..i].iter().any(|(k, _)| k == key);
        if !ok {
            return Err(LayoutError::BadMetadataKey(key.clone()));
        }
        let got = value.chars().count();
        if got > MAX_META_VALUE {
            return Err(LayoutError::TooLong { what: "metadata value", max: MAX_META_VALUE, got });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_keys_one_format_could_not_carry() {
        let info = |k: &str| DocInfo { custom: vec![(k.into(), "v".into())], ..DocInfo::default() };
        assert!(check_custom(&info("LicenceIdentifier")).is_ok());
        for bad in ["", "Title", "名称", "a b", &"k".repeat(65)] {
            assert!(matches!(check_custom(&info(bad)), Err(LayoutError::BadMetadataKey(_))), "{bad:?}");
        }
        let twice = DocInfo {
            custom: vec![("A".into(), "1".into()), ("A".into(), "2".into())],
            ..DocInfo::default()
        };
        assert!(matches!(check_custom(&twice), Err(LayoutError::BadMetadataKey(_))));
        let long =
            DocInfo { custom: vec![("A".into(), "x".repeat(MAX_META_VALUE + 1))], ..DocInfo::default() };
        assert!(matches!(check_custom(&long), Err(LayoutError::TooLong { .. })));
    }
}
