//! [`SesError`], the one error of reading, making and verifying GB/T 38540 structures.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

/// What went wrong with an electronic seal or seal signature. Each variant has a stable
/// [`SesError::code`] that reports and the engine can show.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SesError {
    /// The input, or a part of it, is larger than this reader accepts.
    #[error("{what} is {len} bytes, more than the {max} allowed")]
    TooLarge {
        /// Which part.
        what: &'static str,
        /// Its size.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The bytes are not the ASN.1 (DER) structure the standard defines.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which structure or field.
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A header or `TBS_Sign` version this reader does not know (it reads 1, 4 and 5).
    #[error("unsupported electronic seal version {0} (supported: 1, 4, 5)")]
    UnsupportedVersion(i64),
    /// A signature algorithm other than SM2-with-SM3.
    #[error("unsupported signature algorithm {0} (supported: SM2-with-SM3, 1.2.156.10197.1.501)")]
    UnsupportedAlgorithm(ObjectIdentifier),
    /// A certificate in the structure cannot be read, or its key is not an SM2 key.
    #[error("unusable {which} certificate: {reason}")]
    Certificate {
        /// `"maker"`, `"signer"` or `"seal"`.
        which: &'static str,
        /// Why.
        reason: String,
    },
    /// The seal maker's signature over `SES_SealInfo` does not verify with the maker
    /// certificate's key.
    #[error("the seal maker's signature does not verify")]
    BadMakerSignature,
    /// The signature over `TBS_Sign` does not verify with the signer certificate's key.
    #[error("the seal signature does not verify with the signer certificate")]
    BadSignature,
    /// The signer certificate is not one that the seal's certificate list names.
    #[error("the signer certificate is not listed in the seal")]
    SignerNotListed,
    /// The seal is not valid at the time asked about.
    #[error("the seal is valid from {valid_start} to {valid_end}, not at {at}")]
    SealNotValid {
        /// validStart.
        valid_start: OffsetDateTime,
        /// validEnd.
        valid_end: OffsetDateTime,
        /// The time asked about.
        at: OffsetDateTime,
    },
    /// The time-stamping authority gave no usable token for the signature value.
    #[error("time-stamping the signature failed: {0}")]
    TimeStamp(String),
    /// An argument of [`super::make_seal`] or [`super::sign`] is unusable.
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// Which argument.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

impl SesError {
    /// A stable snake_case code for reports and logs.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge { .. } => "ses_too_large",
            Self::Malformed { .. } => "ses_malformed",
            Self::UnsupportedVersion(_) => "ses_unsupported_version",
            Self::UnsupportedAlgorithm(_) => "ses_unsupported_algorithm",
            Self::Certificate { .. } => "ses_certificate_unusable",
            Self::BadMakerSignature => "ses_maker_signature_invalid",
            Self::BadSignature => "ses_signature_invalid",
            Self::SignerNotListed => "ses_signer_not_listed",
            Self::SealNotValid { .. } => "ses_seal_not_valid",
            Self::TimeStamp(_) => "ses_time_stamp_failed",
            Self::Invalid { .. } => "ses_invalid_input",
        }
    }

    /// A [`SesError::Malformed`] from a DER error.
    pub(super) fn der(what: &'static str, e: der::Error) -> Self {
        Self::Malformed { what, reason: e.to_string() }
    }
}
