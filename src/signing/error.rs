//! [`SigningError`]: why a seal key does not load or a signature does not verify.

/// Why a seal key could not be loaded or a signature did not verify.
#[derive(Debug, thiserror::Error)]
pub enum SigningError {
    /// The key is well-formed but of an algorithm or curve we do not support.
    #[error("unsupported seal key: {0}")]
    UnsupportedKey(String),
    /// The key bytes are not a valid key.
    #[error("malformed seal key: {0}")]
    MalformedKey(String),
    /// The signature does not verify (or is not a signature at all).
    #[error("bad signature")]
    BadSignature,
    /// The operating system's random number generator failed.
    #[error("the operating system's random number generator failed")]
    Rng,
}
