//! The JWS signature step (RFC 7515) that the trust list and holder assertions share: the
//! signing input `BASE64URL(header) "." BASE64URL(payload)`, signed with a seal-type key
//! (Ed25519 → `EdDSA`, RFC 8037; P-256 → `ES256`, raw `r‖s`, RFC 7518 §3.4). No I/O.

use data_encoding::BASE64URL_NOPAD;

use crate::signing::{SealSigner, SealVerifier};

/// Why a JWS signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// A part is not unpadded base64url.
    #[error("{0} is not unpadded base64url")]
    Base64(&'static str),
    /// The signature does not verify with the key.
    #[error("the signature does not verify")]
    BadSignature,
}

/// Decodes one unpadded base64url part, naming it in the error.
pub fn decode_part(part: &str, what: &'static str) -> Result<Vec<u8>, JwsError> {
    BASE64URL_NOPAD.decode(part.as_bytes()).map_err(|_| JwsError::Base64(what))
}

/// Signs `header.payload` (both base64url already); returns the base64url signature.
pub fn sign(signer: &SealSigner, protected_b64: &str, payload_b64: &str) -> String {
    let input = format!("{protected_b64}.{payload_b64}");
    BASE64URL_NOPAD.encode(&signer.sign_raw(input.as_bytes()))
}

/// Verifies the base64url `signature` over `protected.payload` (both as sent).
pub fn verify(
    verifier: &SealVerifier,
    protected_b64: &str,
    payload_b64: &str,
    signature_b64: &str,
) -> Result<(), JwsError> {
    let signature = decode_part(signature_b64, "signature")?;
    let input = format!("{protected_b64}.{payload_b64}");
    verifier.verify_raw(input.as_bytes(), &signature).map_err(|_| JwsError::BadSignature)
}
