//! The one error type of the OFD module, with stable snake_case codes for API clients.

/// Why an OFD could not be written, signed or read.
#[derive(Debug, thiserror::Error)]
pub enum OfdError {
    /// A package path is not a plain relative path (empty, absolute, `..`, backslash, control
    /// characters) or is given twice.
    #[error("bad package path {0:?}")]
    BadPath(String),
}

impl OfdError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadPath(_) => "ofd_bad_path",
        }
    }
}
