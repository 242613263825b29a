//! What a chain validation answers: [`ChainError`] with its stable codes, and the
//! [`ValidatedChain`] of a success.

use time::OffsetDateTime;

use super::cert::CertInfo;
use super::crl::RevocationReason;
use super::error::fmt_time;

/// Why a seal certificate chain does not validate. [`ChainError::code`] gives a stable
/// machine code for APIs and reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// No trusted root (and no supplied intermediate) issued a certificate of the chain.
    #[error("no trusted root or supplied intermediate certificate issued this certificate")]
    UnknownIssuer,
    /// A certificate's signature does not verify with its issuer's public key.
    #[error("a certificate signature does not verify with its issuer's public key")]
    BadSignature,
    /// A certificate of the chain is not valid yet at the validation time.
    #[error("a certificate in the chain is not valid before {}", fmt_time(.not_before))]
    NotYetValid {
        /// Start of that certificate's validity.
        not_before: OffsetDateTime,
    },
    /// A certificate of the chain had expired at the validation time.
    #[error("a certificate in the chain expired at {}", fmt_time(.not_after))]
    Expired {
        /// End of that certificate's validity.
        not_after: OffsetDateTime,
    },
    /// A certificate of the chain was revoked at or before the validation time.
    #[error("a certificate in the chain was revoked at {} (reason: {reason})", fmt_time(.revoked_at))]
    Revoked {
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// The seal certificate's key usage allows neither digitalSignature nor
    /// contentCommitment (or it has no key usage).
    #[error("the seal certificate's key usage allows neither digitalSignature nor contentCommitment")]
    WrongKeyUsage,
    /// The seal certificate's extended key usage lacks document signing.
    #[error("the seal certificate's extended key usage lacks document signing (1.3.6.1.5.5.7.3.36)")]
    WrongExtendedKeyUsage,
    /// An issuing certificate is not a CA (basicConstraints cA and keyUsage keyCertSign).
    #[error(
        "an issuing certificate is not a certificate authority (needs basicConstraints cA=TRUE and keyUsage keyCertSign)"
    )]
    NotCa,
    /// The chain is longer than a CA's pathLenConstraint (or [`super::MAX_PATH_CERTS`]) allows.
    #[error("the chain has more intermediate CAs than a pathLenConstraint allows")]
    PathTooLong,
    /// No CRL issued by the issuer of a non-root certificate was supplied.
    #[error("no CRL from the certificate's issuer was supplied: revocation status unknown")]
    NoRevocationInfo,
    /// The issuer's CRLs that were supplied cannot be used (bad signature, issued after the
    /// validation time, unsupported critical extension, unparsable).
    #[error("the issuer's CRL cannot be used: {0}")]
    CrlInvalid(String),
    /// A certificate cannot be parsed or uses something unsupported.
    #[error("malformed certificate: {0}")]
    Malformed(String),
}

impl ChainError {
    /// A stable snake_case code, e.g. `"unknown_issuer"`.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::UnknownIssuer => "unknown_issuer",
            ChainError::BadSignature => "bad_signature",
            ChainError::NotYetValid { .. } => "not_yet_valid",
            ChainError::Expired { .. } => "expired",
            ChainError::Revoked { .. } => "revoked",
            ChainError::WrongKeyUsage => "wrong_key_usage",
            ChainError::WrongExtendedKeyUsage => "wrong_extended_key_usage",
            ChainError::NotCa => "not_ca",
            ChainError::PathTooLong => "path_too_long",
            ChainError::NoRevocationInfo => "no_revocation_info",
            ChainError::CrlInvalid(_) => "crl_invalid",
            ChainError::Malformed(_) => "malformed",
        }
    }
}

/// A chain that validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedChain {
    /// The seal certificate.
    pub leaf: CertInfo,
    /// Every certificate of the path, from the seal certificate to the trusted root.
    pub path: Vec<CertInfo>,
}
