//! Ed25519 seals (PureEdDSA, RFC 8032) with `ed25519-dalek`: deterministic signatures,
//! strict verification (no small-order keys, canonical signatures only).

use pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};

use super::error::SigningError;

/// Reads the key of a PKCS#8 structure whose algorithm is id-Ed25519.
pub(super) fn signing_key(info: PrivateKeyInfoRef<'_>) -> Result<ed25519_dalek::SigningKey, SigningError> {
    ed25519_dalek::SigningKey::try_from(info)
        .map_err(|e| SigningError::MalformedKey(format!("Ed25519 PKCS#8: {e}")))
}

/// Reads the key of a SubjectPublicKeyInfo whose algorithm is id-Ed25519.
pub(super) fn verifying_key(
    info: SubjectPublicKeyInfoRef<'_>,
) -> Result<ed25519_dalek::VerifyingKey, SigningError> {
    ed25519_dalek::VerifyingKey::try_from(info)
        .map_err(|e| SigningError::MalformedKey(format!("Ed25519 public key: {e}")))
}

/// The 64-byte signature (the same bytes in COSE, JWS, CMS and X.509: RFC 8410/8419).
pub(super) fn sign(key: &ed25519_dalek::SigningKey, msg: &[u8]) -> Vec<u8> {
    ed25519_dalek::Signer::sign(key, msg).to_bytes().to_vec()
}

/// Verifies a 64-byte signature strictly.
pub(super) fn verify(key: &ed25519_dalek::VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
    let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| SigningError::BadSignature)?;
    key.verify_strict(msg, &sig).map_err(|_| SigningError::BadSignature)
}

/// The public key as DER SubjectPublicKeyInfo.
pub(super) fn spki(key: &ed25519_dalek::VerifyingKey) -> Vec<u8> {
    use pkcs8::EncodePublicKey as _;
    // Invariant: encoding a valid fixed-size public key into a growable buffer cannot fail.
    key.to_public_key_der().expect("encoding a valid Ed25519 public key as SPKI cannot fail").into_vec()
}
