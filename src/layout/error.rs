//! Why a licence page cannot be laid out, with the stable codes the PDF errors always had.

/// Why a licence page cannot be laid out.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum LayoutError {
    /// A text the page needs is empty (the argument names it).
    #[error("the {0} is empty")]
    EmptyText(&'static str),
    /// A text or list is longer than the page allows.
    #[error("the {what} is too long: {got}, at most {max}")]
    TooLong {
        /// Which text or list.
        what: &'static str,
        /// The most allowed (characters or entries).
        max: usize,
        /// What was given.
        got: usize,
    },
    /// The embedded font has no glyph for this character.
    #[error("the font has no glyph for {0:?} (U+{code:04X})", code = u32::from(*.0))]
    MissingGlyph(char),
    /// The fields do not fit on one page even at the smallest type size.
    #[error("the licence fields do not fit on one page")]
    PageOverflow,
    /// A custom metadata key is not a plain ASCII name, clashes with a standard key or is
    /// given twice.
    #[error("bad metadata key {0:?}: use ASCII letters, digits, '_', '-', '.' and no standard key")]
    BadMetadataKey(String),
    /// The QR text could not be encoded.
    #[error("could not encode the QR code: {0}")]
    QrEncode(String),
}

impl LayoutError {
    /// A stable snake_case code for API responses and logs (the same in both formats).
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyText(_) => "empty_text",
            Self::TooLong { .. } => "too_long",
            Self::MissingGlyph(_) => "missing_glyph",
            Self::PageOverflow => "page_overflow",
            Self::BadMetadataKey(_) => "bad_metadata_key",
            Self::QrEncode(_) => "qr_encode",
        }
    }
}
