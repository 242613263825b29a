//! [`PkiError`], the error of the PKI functions other than chain validation, and the time
//! format their messages use.

use crate::signing::Algorithm;

/// Errors of the PKI functions other than chain validation (which has [`super::ChainError`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PkiError {
    /// The key or certificate uses an algorithm this platform does not support.
    #[error("unsupported algorithm: {0} (supported: Ed25519, ECDSA P-256, SM2)")]
    UnsupportedAlgorithm(String),
    /// Two things that must share an algorithm do not (for example a P-256 seal key under
    /// the Ed25519 root: chains are homogeneous).
    #[error("algorithm mismatch: expected {expected}, found {found}")]
    AlgorithmMismatch {
        /// The algorithm required (the issuer's, or the one asked for).
        expected: Algorithm,
        /// The algorithm actually given.
        found: Algorithm,
    },
    /// The private key bytes or PEM are not a usable PKCS#8 key.
    #[error("malformed private key: {0}")]
    MalformedKey(String),
    /// The PEM holds an encrypted key and no passphrase was given.
    #[error("the private key is encrypted: a passphrase is required")]
    PassphraseRequired,
    /// The passphrase does not decrypt the key.
    #[error("wrong passphrase for the encrypted private key")]
    WrongPassphrase,
    /// An empty passphrase was given for encryption.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// The private key does not belong to the certificate it should sign for.
    #[error("the private key does not match the issuer certificate's public key")]
    KeyMismatch,
    /// The issuer certificate may not issue certificates (no cA, no keyCertSign).
    #[error("the issuer certificate is not a CA allowed to sign certificates")]
    IssuerNotCa,
    /// The issuer certificate may not sign CRLs (no cRLSign).
    #[error("the issuer certificate is not allowed to sign CRLs")]
    IssuerNotCrlSigner,
    /// A certificate or CRL could not be parsed.
    #[error("malformed certificate: {0}")]
    MalformedCertificate(String),
    /// A CRL could not be parsed.
    #[error("malformed CRL: {0}")]
    MalformedCrl(String),
    /// The subject public key (SubjectPublicKeyInfo) could not be parsed.
    #[error("malformed public key: {0}")]
    MalformedPublicKey(String),
    /// A name or other text field is unusable (empty, or not encodable).
    #[error("invalid {field}: {reason}")]
    InvalidField {
        /// Which input was wrong.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// A validity period is empty, reversed, outside years 1970–9999, or outside the
    /// issuer's own validity.
    #[error("invalid validity period: {0}")]
    InvalidValidity(String),
    /// A serial number is zero or empty.
    #[error("invalid serial number: must be positive and non-zero")]
    InvalidSerial,
    /// The random number generator failed.
    #[error("the random number generator failed")]
    Rng,
    /// PEM text could not be decoded.
    #[error("PEM: {0}")]
    Pem(String),
    /// Encrypting a key failed.
    #[error("key encryption failed: {0}")]
    Encryption(String),
    /// The certificate/CRL encoder or signer failed.
    #[error("signing failed: {0}")]
    Signing(String),
}

impl From<x509_cert::builder::Error> for PkiError {
    fn from(e: x509_cert::builder::Error) -> Self {
        PkiError::Signing(e.to_string())
    }
}

/// Formats a time as RFC 3339 for messages (falls back to `time`'s own format).
pub(super) fn fmt_time(t: &time::OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_else(|_| t.to_string())
}
