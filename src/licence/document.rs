//! A licence's documents: the signed files issued beside its register entry, record and QR
//! token — the A4 PDF (PAdES, signed by an Ed25519 or P-256 seal), the OFD (GB/T 33190 with
//! a GB/T 38540 seal signature, signed by an SM2 seal), both renditions of one record, or
//! none at all (a data-only licence, for systems that exchange data and not files). Which
//! seal may sign which document is decided here ([`DocumentKind::check_seal`],
//! [`DocumentKind::check_ofd_seal`]). No I/O.

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
    /// The OFD with a GB/T 38540 electronic seal signature (SM2 seals).
    Ofd,
    /// Both renditions of one record under one identifier and one QR token: the PDF signed
    /// by the request's seal (which also signs the token), the OFD by an SM2 seal of the
    /// same department.
    Both,
    /// No file: a data-only licence (register entry, record and signed QR token).
    None,
}

impl DocumentKind {
    /// Every kind, default first.
    pub const ALL: [DocumentKind; 4] =
        [DocumentKind::Pdf, DocumentKind::Ofd, DocumentKind::Both, DocumentKind::None];

    /// The name in the API, on the command line and in the register: `pdf`, `ofd`, `both`
    /// or `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pdf => "pdf",
            Self::Ofd => "ofd",
            Self::Both => "both",
            Self::None => "none",
        }
    }

    /// Whether the licence has a PDF.
    pub fn has_pdf(self) -> bool {
        matches!(self, Self::Pdf | Self::Both)
    }

    /// Whether the licence has an OFD.
    pub fn has_ofd(self) -> bool {
        matches!(self, Self::Ofd | Self::Both)
    }

    /// The kind with these renditions.
    pub fn of(pdf: bool, ofd: bool) -> Self {
        match (pdf, ofd) {
            (true, false) => Self::Pdf,
            (false, true) => Self::Ofd,
            (true, true) => Self::Both,
            (false, false) => Self::None,
        }
    }

    /// Whether the request's seal — the one that signs the QR token, and the document when
    /// there is one — can sign this document. A PDF (alone or in `both`) needs an algorithm
    /// that PAdES validators accept ([`Algorithm::signs_pdf`]: not SM2); an OFD alone needs
    /// an SM2 seal ([`Algorithm::signs_ofd`]); a data-only licence has only its QR token,
    /// which every seal signs.
    pub fn check_seal(self, algorithm: Algorithm) -> Result<(), DocumentUnsupported> {
        let ok = match self {
            Self::Pdf | Self::Both => algorithm.signs_pdf(),
            Self::Ofd => algorithm.signs_ofd(),
            Self::None => true,
        };
        if ok { Ok(()) } else { Err(DocumentUnsupported { document: self, algorithm }) }
    }

    /// Whether a seal of `algorithm` can sign the OFD of a `both` licence: an SM2 seal.
    pub fn check_ofd_seal(algorithm: Algorithm) -> Result<(), DocumentUnsupported> {
        if algorithm.signs_ofd() {
            Ok(())
        } else {
            Err(DocumentUnsupported { document: Self::Ofd, algorithm })
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

    /// Parses `pdf`, `ofd`, `both` or `none`, exactly (the API's enum is case-sensitive).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| ParseEnumError {
            what: "document",
            value: s.to_owned(),
            allowed: "pdf, ofd, both, none",
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
        match self.document {
            DocumentKind::Pdf | DocumentKind::Both => write!(
                f,
                "{alg} seals cannot sign PDF documents (no PAdES validator accepts {alg} signatures): issue an OFD \
                 with \"document\": \"ofd\" or a data-only licence with \"document\": \"none\" (command line: \
                 --document ofd|none)"
            ),
            DocumentKind::Ofd => write!(
                f,
                "{alg} seals cannot sign OFD documents (GB/T 38540 seal signatures are SM2): sign the OFD with an \
                 SM2 seal of the department"
            ),
            DocumentKind::None => write!(f, "{alg} seals sign every data-only licence"),
        }
    }
}

impl std::error::Error for DocumentUnsupported {}

/// A licence's documents as built and stored: the signed files' bytes, or none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Document {
    /// The signed PDF.
    Pdf(Vec<u8>),
    /// The signed OFD.
    Ofd(Vec<u8>),
    /// Both renditions.
    Both {
        /// The signed PDF.
        pdf: Vec<u8>,
        /// The signed OFD.
        ofd: Vec<u8>,
    },
    /// A data-only licence: no file.
    None,
    /// Documents of this kind are rendered and signed on first download (a bulk import's
    /// storage-saving mode): the record and the token are kept, the files are not yet.
    Deferred(DocumentKind),
}

impl Document {
    /// The documents with these renditions.
    pub fn of(pdf: Option<Vec<u8>>, ofd: Option<Vec<u8>>) -> Self {
        match (pdf, ofd) {
            (Some(pdf), None) => Self::Pdf(pdf),
            (None, Some(ofd)) => Self::Ofd(ofd),
            (Some(pdf), Some(ofd)) => Self::Both { pdf, ofd },
            (None, None) => Self::None,
        }
    }

    /// Which kind of document this is.
    pub fn kind(&self) -> DocumentKind {
        match self {
            Self::Deferred(kind) => *kind,
            _ => DocumentKind::of(self.pdf().is_some(), self.ofd().is_some()),
        }
    }

    /// The signed PDF, if the licence has one, without a copy.
    pub fn into_pdf(self) -> Option<Vec<u8>> {
        match self {
            Self::Pdf(bytes) | Self::Both { pdf: bytes, .. } => Some(bytes),
            Self::Ofd(_) | Self::None | Self::Deferred(_) => None,
        }
    }

    /// The signed OFD, if the licence has one, without a copy.
    pub fn into_ofd(self) -> Option<Vec<u8>> {
        match self {
            Self::Ofd(bytes) | Self::Both { ofd: bytes, .. } => Some(bytes),
            Self::Pdf(_) | Self::None | Self::Deferred(_) => None,
        }
    }

    /// The kind of the documents still to be made on first download, if any.
    pub fn deferred(&self) -> Option<DocumentKind> {
        match self {
            Self::Deferred(kind) => Some(*kind),
            _ => None,
        }
    }

    /// The signed PDF, if the licence has one.
    pub fn pdf(&self) -> Option<&[u8]> {
        match self {
            Self::Pdf(bytes) | Self::Both { pdf: bytes, .. } => Some(bytes),
            Self::Ofd(_) | Self::None | Self::Deferred(_) => None,
        }
    }

    /// The signed OFD, if the licence has one.
    pub fn ofd(&self) -> Option<&[u8]> {
        match self {
            Self::Ofd(bytes) | Self::Both { ofd: bytes, .. } => Some(bytes),
            Self::Pdf(_) | Self::None | Self::Deferred(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_document_needs_a_seal_that_can_sign_it() {
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            assert_eq!(DocumentKind::None.check_seal(alg), Ok(()), "{alg}");
            let pades = alg != Algorithm::Sm2;
            assert_eq!(DocumentKind::Pdf.check_seal(alg).is_ok(), pades, "{alg}");
            assert_eq!(DocumentKind::Both.check_seal(alg).is_ok(), pades, "{alg}");
            assert_eq!(DocumentKind::Ofd.check_seal(alg).is_ok(), !pades, "{alg}");
            assert_eq!(DocumentKind::check_ofd_seal(alg).is_ok(), !pades, "{alg}");
        }
        let refused = DocumentKind::Pdf.check_seal(Algorithm::Sm2).unwrap_err();
        assert_eq!(refused, DocumentUnsupported { document: DocumentKind::Pdf, algorithm: Algorithm::Sm2 });
        let message = refused.to_string();
        assert_eq!(
            message,
            "SM2 seals cannot sign PDF documents (no PAdES validator accepts SM2 signatures): issue an OFD with \
             \"document\": \"ofd\" or a data-only licence with \"document\": \"none\" (command line: --document ofd|none)"
        );
        let ofd = DocumentKind::Ofd.check_seal(Algorithm::Ed25519).unwrap_err().to_string();
        assert!(ofd.starts_with("Ed25519 seals cannot sign OFD documents"), "{ofd}");
        for m in [message, ofd] {
            assert_eq!(m.lines().count(), 1, "{m}");
        }
    }

    #[test]
    fn names_round_trip_and_unknown_ones_are_refused() {
        for kind in DocumentKind::ALL {
            assert_eq!(kind.as_str().parse::<DocumentKind>(), Ok(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
            assert_eq!(DocumentKind::of(kind.has_pdf(), kind.has_ofd()), kind);
        }
        assert_eq!(DocumentKind::default(), DocumentKind::Pdf);
        for bad in ["", "PDF", "OFD", "None", " pdf", "pdf+ofd"] {
            let e = bad.parse::<DocumentKind>().unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("unknown document {bad:?}; allowed values: pdf, ofd, both, none")
            );
        }
    }

    #[test]
    fn a_document_knows_its_kind_and_bytes() {
        let (p, o) = (b"%PDF-1.7".to_vec(), b"PK\x03\x04".to_vec());
        let cases = [
            (Document::of(Some(p.clone()), None), DocumentKind::Pdf),
            (Document::of(None, Some(o.clone())), DocumentKind::Ofd),
            (Document::of(Some(p.clone()), Some(o.clone())), DocumentKind::Both),
            (Document::of(None, None), DocumentKind::None),
        ];
        for (doc, kind) in cases {
            assert_eq!(doc.kind(), kind);
            assert_eq!(doc.pdf(), kind.has_pdf().then_some(&p[..]));
            assert_eq!(doc.ofd(), kind.has_ofd().then_some(&o[..]));
        }
    }
}
