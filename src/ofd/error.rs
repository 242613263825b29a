//! The one error type of the OFD module, with stable snake_case codes for API clients.

/// Why an OFD could not be written, signed or read.
#[derive(Debug, thiserror::Error)]
pub enum OfdError {
    /// A package path is not a plain relative path (empty, absolute, `..`, backslash, control
    /// characters) or is given twice.
    #[error("bad package path {0:?}")]
    BadPath(String),

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
            // The layout's codes are the same as the PDF's for the same page.
            Self::Layout(e) => e.code(),
            Self::FontSubset(_) => "font_subset",
            Self::BadOption(_) => "ofd_bad_option",
        }
    }
}
