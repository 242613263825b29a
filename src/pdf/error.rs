//! The one error type of the PDF module, with stable snake_case codes for API clients.

/// Why a PDF could not be rendered, signed, extended or inspected.
#[derive(Debug, thiserror::Error)]
pub enum PdfError {
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
    #[error("the PDF font has no glyph for {0:?} (U+{code:04X})", code = u32::from(*.0))]
    MissingGlyph(char),
    /// The fields do not fit on one page even at the smallest type size.
    #[error("the licence fields do not fit on one page")]
    PageOverflow,
    /// A custom document-information key is not a plain ASCII name or clashes with a standard key.
    #[error(
        "bad document-information key {0:?}: use ASCII letters, digits, '_', '-', '.' and no standard key"
    )]
    BadMetadataKey(String),
    /// The QR text could not be encoded.
    #[error("could not encode the QR code: {0}")]
    QrEncode(String),
    /// The font subset could not be built.
    #[error("could not subset the font: {0}")]
    FontSubset(String),
    /// Writing the PDF failed.
    #[error("could not write the PDF: {0}")]
    Write(String),
    /// The input is not a PDF this module can read.
    #[error("not a readable PDF: {0}")]
    Parse(String),
    /// The input has more structure (streams, nesting) than a licence PDF could have;
    /// refused before parsing so that hostile input cannot take unbounded time or memory.
    #[error("the PDF is too complex to read: {0}")]
    TooComplex(String),
    /// The input is larger than the limit.
    #[error("the input has {got} bytes, more than the limit of {max}")]
    InputTooLarge {
        /// The limit in bytes.
        max: usize,
        /// The size given.
        got: usize,
    },
    /// The PDF has no page to put the seal on.
    #[error("the PDF has no page")]
    NoPage,
    /// The PDF already carries a signature field; a licence is sealed once.
    #[error("the PDF is already signed")]
    AlreadySigned,
    /// The seal rectangle lies outside the page or has no area.
    #[error("the seal rectangle is outside the page or empty")]
    BadSealRect,
    /// No certificate was given for the signer.
    #[error("the certificate chain is empty")]
    EmptyChain,
    /// A certificate could not be decoded.
    #[error("bad certificate: {0}")]
    BadCertificate(String),
    /// The signing key does not belong to the first certificate of the chain.
    #[error("the seal key does not match the seal certificate")]
    KeyMismatch,
    /// The key failed to sign.
    #[error("signing failed: {0}")]
    Signing(String),
    /// The CMS signature is larger than the room reserved for it.
    #[error("the signature needs {need} bytes but only {room} are reserved")]
    SignatureTooLarge {
        /// Bytes the DER signature needs.
        need: usize,
        /// Bytes reserved in `/Contents`.
        room: usize,
    },
    /// The PDF carries no signature.
    #[error("the PDF is not signed")]
    NotSigned,
    /// The `/ByteRange` is malformed or does not cover the whole file except `/Contents`.
    #[error("bad /ByteRange: {0}")]
    BadByteRange(String),
    /// The signature uses a `/SubFilter` this verifier does not take.
    #[error("unsupported /SubFilter {0:?}")]
    UnsupportedSubFilter(String),
    /// The CMS structure is malformed or not the expected detached SignedData.
    #[error("bad CMS signature container: {0}")]
    BadCms(String),
    /// The signature or digest algorithm is not one this service uses.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The signer's certificate is not inside the CMS.
    #[error("the signer certificate is not in the signature")]
    SignerCertMissing,
    /// A required signed attribute is missing or malformed (the argument names it).
    #[error("signed attribute {0} is missing or malformed")]
    BadAttribute(&'static str),
    /// The signing-certificate-v2 attribute does not name the signer certificate.
    #[error("the signing-certificate-v2 attribute does not match the signer certificate")]
    SigningCertificateMismatch,
    /// The signed bytes were changed: their digest differs from the signed message digest.
    #[error("the document digest does not match the signed digest: the signed bytes were changed")]
    DigestMismatch,
    /// The CMS signature does not verify with the signer certificate's key.
    #[error("the signature does not verify with the signer certificate's key")]
    BadSignature,
    /// The time-stamping authority gave no token (signing), or a document time-stamp is
    /// not a valid token over its byte ranges (inspecting).
    #[error("time-stamp: {0}")]
    TimeStamp(crate::tsa::TsaError),
}

impl From<crate::layout::LayoutError> for PdfError {
    /// The layout's errors keep the variants (and codes) they had when the PDF laid pages out.
    fn from(e: crate::layout::LayoutError) -> Self {
        use crate::layout::LayoutError as L;
        match e {
            L::EmptyText(what) => Self::EmptyText(what),
            L::TooLong { what, max, got } => Self::TooLong { what, max, got },
            L::MissingGlyph(c) => Self::MissingGlyph(c),
            L::PageOverflow => Self::PageOverflow,
            L::BadMetadataKey(k) => Self::BadMetadataKey(k),
            L::QrEncode(m) => Self::QrEncode(m),
        }
    }
}

impl PdfError {
    /// A stable snake_case code for API responses and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::EmptyText(_) => "empty_text",
            Self::TooLong { .. } => "too_long",
            Self::MissingGlyph(_) => "missing_glyph",
            Self::PageOverflow => "page_overflow",
            Self::BadMetadataKey(_) => "bad_metadata_key",
            Self::QrEncode(_) => "qr_encode",
            Self::FontSubset(_) => "font_subset",
            Self::Write(_) => "pdf_write",
            Self::Parse(_) => "pdf_parse",
            Self::TooComplex(_) => "pdf_too_complex",
            Self::InputTooLarge { .. } => "input_too_large",
            Self::NoPage => "no_page",
            Self::AlreadySigned => "already_signed",
            Self::BadSealRect => "bad_seal_rect",
            Self::EmptyChain => "empty_chain",
            Self::BadCertificate(_) => "bad_certificate",
            Self::KeyMismatch => "key_mismatch",
            Self::Signing(_) => "signing_failed",
            Self::SignatureTooLarge { .. } => "signature_too_large",
            Self::NotSigned => "not_signed",
            Self::BadByteRange(_) => "bad_byte_range",
            Self::UnsupportedSubFilter(_) => "unsupported_subfilter",
            Self::BadCms(_) => "bad_cms",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::SignerCertMissing => "signer_cert_missing",
            Self::BadAttribute(_) => "bad_signed_attribute",
            Self::SigningCertificateMismatch => "signing_certificate_mismatch",
            Self::DigestMismatch => "digest_mismatch",
            Self::BadSignature => "bad_signature",
            Self::TimeStamp(_) => "time_stamp",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_snake_case_and_messages_say_what() {
        let e = PdfError::MissingGlyph('\u{20000}');
        assert_eq!(e.code(), "missing_glyph");
        assert!(e.to_string().contains("U+20000"));
        for e in [PdfError::DigestMismatch, PdfError::NotSigned, PdfError::BadByteRange("x".into())] {
            assert!(e.code().chars().all(|c| c.is_ascii_lowercase() || c == '_'));
        }
    }
}
