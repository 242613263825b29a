//! A licence's document: the signed file issued beside its register entry, record and QR
//! token — the A4 PDF, or none at all (a data-only licence, for systems that exchange data
//! and not files, and for seals whose algorithm signs no PDF). Which seal may sign which
//! document is decided here ([`DocumentKind::check_seal`]). No I/O.

use std::fmt;
use std::str::FromStr;

use crate::signing::{Algorithm, ParseEnumError};

/// Which document a licence is issued with: the `document` member of an issuing request
/// and of a licence's views, `zhengzhao issue --document`, and the register's `document`
/// column.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum DocumentKind {
    /// The A4 PDF with the seal as the appearance of a PAdES signature: the default.
    #[default]
    Pdf,
    /// No file: a data-only licence (register entry, record and signed QR token).
    None,
}

impl DocumentKind {
    /// Every kind, default first.
    pub const ALL: [DocumentKind; 2] = [DocumentKind::Pdf, DocumentKind::None];

    /// The name in the API, on the command line and in the register: `pdf` or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::None => "none",
        }
    }

    /// Whether a seal of `algorithm` can sign this document. A PDF needs an algorithm that
    /// PAdES validators accept ([`Algorithm::signs_pdf`]: not SM2); a data-only licence
    /// has only its QR token, which every seal signs.
    pub fn check_seal(self, algorithm: Algorithm) -> Result<(), DocumentUnsupported> {
        match self {
            Self::Pdf if !algorithm.signs_pdf() => Err(DocumentUnsupported { document: self, algorithm }),
            Self::Pdf | Self::None => Ok(()),
        }
    }
}

impl fmt::Display for DocumentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DocumentKind {
    type Err = ParseEnumError;

    /// Parses `pdf` or `none`, exactly (the API's enum is case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| ParseEnumError {
            what: "document",
            value: s.to_owned(),
            allowed: "pdf, none",
        })
    }
}

/// A seal of `algorithm` cannot sign a `document`: the issuing request is refused before
/// anything is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DocumentUnsupported {
    /// The document asked for.
    pub document: DocumentKind,
    /// The seal's algorithm.
    pub algorithm: Algorithm,
}

impl fmt::Display for DocumentUnsupported {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alg = self.algorithm.label();
        let why = match self.document {
            DocumentKind::Pdf => format!("no PAdES validator accepts {alg} signatures"),
            DocumentKind::None => "it signs no document at all".to_owned(),
        };
        write!(
            f,
            "{alg} seals cannot sign {} documents ({why}): issue a data-only licence with \"document\": \"none\" \
             (command line: --document none)",
            self.document.as_str().to_uppercase()
        )
    }
}

impl std::error::Error for DocumentUnsupported {}

/// A licence's document as built and stored: the signed file's bytes, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// The signed PDF.
    Pdf(Vec<u8>),
    /// A data-only licence: no file.
    None,
}

impl Document {
    /// Which kind of document this is.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Pdf(_) => DocumentKind::Pdf,
            Self::None => DocumentKind::None,
        }
    }

    /// The signed PDF, if the licence has one.
    pub fn pdf(&self) -> Option<&[u8]> {
        match self {
            Self::Pdf(bytes) => Some(bytes),
            Self::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pdf_needs_an_algorithm_pades_accepts_and_none_suits_every_seal() {
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            assert_eq!(DocumentKind::None.check_seal(alg), Ok(()), "{alg}");
        }
        assert_eq!(DocumentKind::Pdf.check_seal(Algorithm::Ed25519), Ok(()));
        assert_eq!(DocumentKind::Pdf.check_seal(Algorithm::P256), Ok(()));
        let refused = DocumentKind::Pdf.check_seal(Algorithm::Sm2).unwrap_err();
        assert_eq!(refused, DocumentUnsupported { document: DocumentKind::Pdf, algorithm: Algorithm::Sm2 });
        let message = refused.to_string();
        assert_eq!(
            message,
            "SM2 seals cannot sign PDF documents (no PAdES validator accepts SM2 signatures): issue a data-only \
             licence with \"document\": \"none\" (command line: --document none)"
        );
        assert!(
            message.contains(r#""document": "none""#) && message.contains("--document none"),
            "{message}"
        );
        assert_eq!(message.lines().count(), 1);
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for kind in DocumentKind::ALL {
            assert_eq!(kind.as_str().parse::<DocumentKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(DocumentKind::default(), DocumentKind::Pdf);
        for bad in ["", "PDF", "ofd", "None", " pdf"] {
            let e = bad.parse::<DocumentKind>().unwrap_err();
            assert_eq!(e.to_string(), format!("unknown document {bad:?}; allowed values: pdf, none"));
        }
    }

    #[test]
    fn a_document_knows_its_kind_and_bytes() {
        let pdf = Document::Pdf(b"%PDF-1.7".to_vec());
        assert_eq!((pdf.kind(), pdf.pdf()), (DocumentKind::Pdf, Some(&b"%PDF-1.7"[..])));
        assert_eq!((Document::None.kind(), Document::None.pdf()), (DocumentKind::None, None));
    }
}
