//! The platform's own RFC 3161 time-stamping authority, sans I/O: answering a DER
//! `TimeStampReq` with a DER `TimeStampResp` whose token is a CMS SignedData over a
//! `TSTInfo` ([`respond`]), making requests ([`build_request`]) and verifying tokens and
//! replies ([`verify_token`], [`verify_response`]).
//!
//! The TSA's certificate is [`crate::pki::issue_tsa_cert`] (re-exported here): a service
//! certificate of any root, its extended key usage timeStamping critical and alone.
//! Serial numbers, the time and the accuracy come in as arguments: the caller keeps a
//! unique monotonic serial (the database) and reads the clock. Tokens are signed through
//! [`crate::signing`] like the PDF signatures (`crate::pdf::cms`): Ed25519 with SHA-512,
//! P-256 with SHA-256, SM2 with SM3; signed attributes contentType (id-ct-TSTInfo),
//! messageDigest and ESS signingCertificateV2.
//!
//! A request that RFC 3161 says to refuse gets a `rejection` reply (PKIStatus 2 with a
//! PKIFailureInfo bit), not an error: unknown hash algorithm (`badAlg`), wrong digest
//! length, bad version, unparsable or oversized DER (`badDataFormat`), a policy other
//! than the TSA's (`unacceptedPolicy`), any extension (`unacceptedExtension`). Errors
//! are the TSA's own faults (a key that does not match its certificate).

mod asn1;
mod authority;
mod request;
mod respond;
mod verify;

#[cfg(test)]
mod tests;

use der::asn1::ObjectIdentifier;
use sha2::Digest as _;

pub use crate::pki::{TSA_CN, issue_tsa_cert, issue_tsa_cert_with_crl, validate_tsa_cert};
pub use authority::{Authority, FixedStamper, Stamper};
pub use request::{Request, build_request, parse_request};
pub use respond::{Outcome, Response, Stamp, rejection, respond};
pub use verify::{StampInfo, verify_response, verify_token, verify_token_parts};

/// Largest `TimeStampReq` accepted (a SHA-512 request with a policy and a 160-bit nonce is
/// under 150 bytes).
pub const MAX_REQUEST_BYTES: usize = 2048;
/// Largest `TimeStampToken` or `TimeStampResp` verified.
pub const MAX_TOKEN_BYTES: usize = 64 * 1024;
/// Most certificates a token may carry.
pub const MAX_TOKEN_CERTS: usize = 8;
/// Longest nonce accepted, in DER INTEGER content bytes (RFC 3161 asks for 64 bits at least).
pub const MAX_NONCE_BYTES: usize = 32;

pub(crate) const ID_CT_TST_INFO: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.16.1.4");
const ID_SHA256: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.1");
const ID_SHA384: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.2");
const ID_SHA512: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.16.840.1.101.3.4.2.3");

/// A hash algorithm of a message imprint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImprintAlg {
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
    /// SM3 (GB/T 32905).
    Sm3,
}

impl ImprintAlg {
    /// The algorithm's OID.
    pub fn oid(self) -> ObjectIdentifier {
        match self {
            Self::Sha256 => ID_SHA256,
            Self::Sha384 => ID_SHA384,
            Self::Sha512 => ID_SHA512,
            Self::Sm3 => crate::signing::oid::SM3,
        }
    }

    /// The algorithm of `oid`, if accepted (SHA-1 and MD5 are not).
    pub fn from_oid(oid: &ObjectIdentifier) -> Option<Self> {
        [Self::Sha256, Self::Sha384, Self::Sha512, Self::Sm3].into_iter().find(|a| a.oid() == *oid)
    }

    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 | Self::Sm3 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.digest_parts(&[data])
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest_parts(self, parts: &[&[u8]]) -> Vec<u8> {
        use crate::pdf::cms::DigestAlg;
        match self {
            Self::Sha256 => DigestAlg::Sha256.digest(parts),
            Self::Sha512 => DigestAlg::Sha512.digest(parts),
            Self::Sm3 => DigestAlg::Sm3.digest(parts),
            Self::Sha384 => {
                let mut h = sha2::Sha384::new();
                parts.iter().for_each(|p| h.update(p));
                h.finalize().to_vec()
            }
        }
    }

    /// The imprint algorithm the platform uses with a key of `algorithm`: SHA-512 with
    /// Ed25519, SHA-256 with P-256, SM3 with SM2 (the signature's own digest).
    pub fn for_algorithm(algorithm: crate::signing::Algorithm) -> Self {
        match algorithm {
            crate::signing::Algorithm::Ed25519 => Self::Sha512,
            crate::signing::Algorithm::P256 => Self::Sha256,
            crate::signing::Algorithm::Sm2 => Self::Sm3,
        }
    }

    /// The imprint algorithm of a document time-stamp over a PDF signed with a key of
    /// `algorithm`: SHA-256 for Ed25519 and P-256, SM3 for SM2. The imprint is not the
    /// signature's digest (an Ed25519 CMS signature must digest with SHA-512, RFC 8419), and
    /// it hashes the whole file: SHA-256 runs on the CPU's SHA extensions at three times
    /// SHA-512's speed here (`cargo bench --bench crypto -- crypto/digest`), with the same
    /// 128-bit security as an Ed25519 signature, and every PAdES validator accepts it.
    pub fn for_document(algorithm: crate::signing::Algorithm) -> Self {
        match algorithm {
            crate::signing::Algorithm::Ed25519 | crate::signing::Algorithm::P256 => Self::Sha256,
            crate::signing::Algorithm::Sm2 => Self::Sm3,
        }
    }
}

/// A PKIFailureInfo bit (RFC 3161 §2.4.2) of a rejection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureInfo {
    /// Unrecognized or unsupported algorithm identifier.
    BadAlg = 0,
    /// Transaction not permitted or supported.
    BadRequest = 2,
    /// The data submitted has the wrong format.
    BadDataFormat = 5,
    /// The TSA's time source is not available.
    TimeNotAvailable = 14,
    /// The requested TSA policy is not supported.
    UnacceptedPolicy = 15,
    /// The requested extension is not supported.
    UnacceptedExtension = 16,
    /// The request cannot be handled due to system failure.
    SystemFailure = 25,
}

impl FailureInfo {
    /// Stable snake_case code.
    pub fn code(self) -> &'static str {
        match self {
            Self::BadAlg => "bad_alg",
            Self::BadRequest => "bad_request",
            Self::BadDataFormat => "bad_data_format",
            Self::TimeNotAvailable => "time_not_available",
            Self::UnacceptedPolicy => "unaccepted_policy",
            Self::UnacceptedExtension => "unaccepted_extension",
            Self::SystemFailure => "system_failure",
        }
    }

    /// The bit number in PKIFailureInfo.
    pub fn bit(self) -> u8 {
        self as u8
    }
}

/// Why a request is refused: the failure bit sent back and a sentence for the log and the
/// reply's status string.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct Refusal {
    /// The PKIFailureInfo bit.
    pub fail: FailureInfo,
    /// What was wrong.
    pub reason: String,
}

impl Refusal {
    pub(crate) fn new(fail: FailureInfo, reason: impl Into<String>) -> Self {
        Self { fail, reason: reason.into() }
    }
}

/// The accuracy of a time-stamp (RFC 3161 `Accuracy`); all zero or absent means "not stated".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Accuracy {
    /// Whole seconds.
    pub seconds: Option<u32>,
    /// Milliseconds, 1..=999.
    pub millis: Option<u16>,
    /// Microseconds, 1..=999.
    pub micros: Option<u16>,
}

/// What went wrong answering or verifying (a refused request is not an error: see [`Refusal`]).
#[derive(Debug, thiserror::Error)]
pub enum TsaError {
    /// The TSA's key does not match its certificate, or the certificate is unreadable.
    #[error("TSA key or certificate: {0}")]
    BadTsaKey(String),
    /// A stamp argument is out of range (time before 1970, accuracy field out of 1..=999).
    #[error("invalid stamp argument: {0}")]
    InvalidArgument(String),
    /// DER encoding failed.
    #[error("encoding: {0}")]
    Encoding(String),
    /// The token or reply is malformed, too large or not a time-stamp token.
    #[error("malformed time-stamp token: {0}")]
    Malformed(String),
    /// The reply is not a grant.
    #[error("time-stamp not granted: status {status}{}", .fail.map(|f| format!(", {}", f.code())).unwrap_or_default())]
    NotGranted {
        /// The PKIStatus.
        status: u8,
        /// The failure bit, if one we know.
        fail: Option<FailureInfo>,
    },
    /// The token's hash algorithm, or its signature algorithm, is not supported.
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The message imprint is not the digest of the data.
    #[error("the message imprint does not match the data")]
    ImprintMismatch,
    /// The messageDigest attribute is not the digest of the TSTInfo.
    #[error("the signed digest does not match the TSTInfo")]
    DigestMismatch,
    /// A signed attribute is missing, repeated or wrong.
    #[error("bad signed attribute: {0}")]
    BadAttribute(&'static str),
    /// The signing-certificate-v2 attribute does not name the signer's certificate.
    #[error("signing-certificate-v2 does not name the signer's certificate")]
    SigningCertificateMismatch,
    /// The signer's certificate is neither in the token nor given.
    #[error("the signer's certificate is missing")]
    SignerCertMissing,
    /// The signature does not verify.
    #[error("the signature does not verify")]
    BadSignature,
    /// The signer's certificate is not a valid TSA certificate at the time of the stamp.
    #[error("TSA certificate: {0}")]
    Chain(#[from] crate::pki::ChainError),
}

impl TsaError {
    /// Stable snake_case code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::BadTsaKey(_) => "bad_tsa_key",
            Self::InvalidArgument(_) => "invalid_argument",
            Self::Encoding(_) => "encoding",
            Self::Malformed(_) => "malformed_token",
            Self::NotGranted { .. } => "not_granted",
            Self::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Self::ImprintMismatch => "imprint_mismatch",
            Self::DigestMismatch => "digest_mismatch",
            Self::BadAttribute(_) => "bad_attribute",
            Self::SigningCertificateMismatch => "signing_certificate_mismatch",
            Self::SignerCertMissing => "signer_cert_missing",
            Self::BadSignature => "bad_signature",
            Self::Chain(_) => "tsa_certificate",
        }
    }
}

pub(crate) fn enc(e: der::Error) -> TsaError {
    TsaError::Encoding(e.to_string())
}

/// A non-negative DER INTEGER.
pub(crate) fn int_u64(v: u64) -> Result<der::asn1::Int, TsaError> {
    Ok(der::asn1::Uint::new(&v.to_be_bytes()).map_err(enc)?.into())
}
