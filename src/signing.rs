//! Signing and verifying with a seal key (Ed25519 or ECDSA P-256), from PKCS#8 / SPKI DER.
//!
//! One place decides how a seal key signs, so that the QR token (COSE, raw signatures) and
//! the PDF signature (CMS, DER signatures) agree. ECDSA signatures are deterministic
//! (RFC 6979) and Ed25519 is deterministic by construction: no randomness is needed here.

use p256::ecdsa::signature::{Signer as _, Verifier as _};
use p256::pkcs8::der::Decode as _;
use p256::pkcs8::{
    DecodePrivateKey as _, DecodePublicKey as _, EncodePublicKey as _, ObjectIdentifier, PrivateKeyInfoRef,
    SubjectPublicKeyInfoRef,
};

/// OID of Ed25519 keys (RFC 8410).
const OID_ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
/// OID of elliptic-curve public keys (RFC 5480); the curve is in the parameters.
const OID_EC_PUBLIC_KEY: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.10045.2.1");

/// A seal's private key, able to sign. Its `Debug` shows the algorithm, never key bytes.
pub enum SealSigner {
    /// Ed25519 (PureEdDSA, RFC 8032).
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA over P-256 with SHA-256.
    P256(p256::ecdsa::SigningKey),
}

impl std::fmt::Debug for SealSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealSigner({}, <redacted>)", self.algorithm())
    }
}

impl SealSigner {
    /// Reads an unencrypted PKCS#8 private key (v1 or v2, as ring, rcgen and OpenSSL write them).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningError> {
        let info = PrivateKeyInfoRef::from_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("not a PKCS#8 private key: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == OID_ED25519 {
            let key = ed25519_dalek::SigningKey::try_from(info)
                .map_err(|e| SigningError::MalformedKey(format!("Ed25519 PKCS#8: {e}")))?;
            Ok(Self::Ed25519(key))
        } else if oid == OID_EC_PUBLIC_KEY {
            // Checks the curve parameter itself and reports other curves as an error.
            let key = p256::ecdsa::SigningKey::from_pkcs8_der(der).map_err(|e| {
                SigningError::UnsupportedKey(format!("EC key is not a usable P-256 key: {e}"))
            })?;
            Ok(Self::P256(key))
        } else {
            Err(SigningError::UnsupportedKey(format!("key algorithm {oid}")))
        }
    }

    /// `"ed25519"` or `"p256"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::P256(_) => ALG_P256,
        }
    }

    /// Signs `msg`. Ed25519: PureEdDSA, 64 bytes. P-256: ECDSA with SHA-256, fixed-size
    /// `r || s`, 64 bytes (the COSE / JWS form).
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => ed25519_dalek::Signer::sign(key, msg).to_bytes().to_vec(),
            Self::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(msg);
                sig.to_bytes().to_vec()
            }
        }
    }

    /// Signs `msg`. P-256: DER `ECDSA-Sig-Value` (the CMS / X.509 form). Ed25519: the same
    /// 64 bytes as [`Self::sign_raw`] (RFC 8410/8419 carry them as is).
    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(_) => self.sign_raw(msg),
            Self::P256(key) => {
                let sig: p256::ecdsa::Signature = key.sign(msg);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo` (P-256 as an uncompressed point).
    pub fn public_key_spki_der(&self) -> Vec<u8> {
        self.verifier().to_spki_der()
    }

    /// The matching verifier.
    pub fn verifier(&self) -> SealVerifier {
        match self {
            Self::Ed25519(key) => SealVerifier::Ed25519(key.verifying_key()),
            Self::P256(key) => SealVerifier::P256(*key.verifying_key()),
        }
    }
}

/// Algorithm name of Ed25519 seals.
pub const ALG_ED25519: &str = "ed25519";
/// Algorithm name of ECDSA P-256 seals.
pub const ALG_P256: &str = "p256";

/// A seal's public key, able to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealVerifier {
    /// Ed25519 (PureEdDSA, RFC 8032); verification is strict (no small-order keys,
    /// canonical signatures only).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA over P-256 with SHA-256.
    P256(p256::ecdsa::VerifyingKey),
}

impl SealVerifier {
    /// Reads a DER `SubjectPublicKeyInfo` (e.g. from a seal certificate).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SigningError> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
        let oid = info.algorithm.oid;
        if oid == OID_ED25519 {
            let key = ed25519_dalek::VerifyingKey::try_from(info)
                .map_err(|e| SigningError::MalformedKey(format!("Ed25519 public key: {e}")))?;
            Ok(Self::Ed25519(key))
        } else if oid == OID_EC_PUBLIC_KEY {
            let key = p256::ecdsa::VerifyingKey::from_public_key_der(der).map_err(|e| {
                SigningError::UnsupportedKey(format!("EC key is not a usable P-256 key: {e}"))
            })?;
            Ok(Self::P256(key))
        } else {
            Err(SigningError::UnsupportedKey(format!("key algorithm {oid}")))
        }
    }

    /// `"ed25519"` or `"p256"`.
    pub fn algorithm(&self) -> &'static str {
        match self {
            Self::Ed25519(_) => ALG_ED25519,
            Self::P256(_) => ALG_P256,
        }
    }

    /// Verifies a signature in the form [`SealSigner::sign_raw`] makes (64 bytes for both).
    pub fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        match self {
            Self::Ed25519(key) => verify_ed25519(key, msg, sig),
            Self::P256(key) => {
                let sig = p256::ecdsa::Signature::from_slice(sig).map_err(|_| SigningError::BadSignature)?;
                key.verify(msg, &sig).map_err(|_| SigningError::BadSignature)
            }
        }
    }

    /// Verifies a signature in the form [`SealSigner::sign_der`] makes (DER for P-256).
    pub fn verify_der(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        match self {
            Self::Ed25519(key) => verify_ed25519(key, msg, sig),
            Self::P256(key) => {
                let sig = p256::ecdsa::Signature::from_der(sig).map_err(|_| SigningError::BadSignature)?;
                key.verify(msg, &sig).map_err(|_| SigningError::BadSignature)
            }
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let doc = match self {
            Self::Ed25519(key) => key.to_public_key_der(),
            Self::P256(key) => key.to_public_key_der(),
        };
        // Invariant: encoding a valid fixed-size public key into a growable buffer cannot
        // fail (the key types check their points on construction).
        doc.expect("encoding a valid public key as SPKI cannot fail").into_vec()
    }
}

fn verify_ed25519(key: &ed25519_dalek::VerifyingKey, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
    let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| SigningError::BadSignature)?;
    key.verify_strict(msg, &sig).map_err(|_| SigningError::BadSignature)
}

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
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ed25519_pkcs8() -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap().as_ref().to_vec()
    }

    fn p256_pkcs8() -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        ring::signature::EcdsaKeyPair::generate_pkcs8(&ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec()
    }

    #[test]
    fn ring_keys_load_and_round_trip() {
        for (der, alg) in [(ed25519_pkcs8(), "ed25519"), (p256_pkcs8(), "p256")] {
            let signer = SealSigner::from_pkcs8_der(&der).unwrap();
            assert_eq!(signer.algorithm(), alg);
            assert!(!format!("{signer:?}").contains(&format!("{:?}", &der[der.len() - 8..])));
            let verifier = SealVerifier::from_spki_der(&signer.public_key_spki_der()).unwrap();
            assert_eq!(verifier.algorithm(), alg);
            assert_eq!(verifier, signer.verifier());
            let raw = signer.sign_raw(b"msg");
            assert_eq!(raw.len(), 64);
            verifier.verify_raw(b"msg", &raw).unwrap();
            assert!(matches!(verifier.verify_raw(b"msh", &raw), Err(SigningError::BadSignature)));
            let der_sig = signer.sign_der(b"msg");
            verifier.verify_der(b"msg", &der_sig).unwrap();
            assert!(matches!(verifier.verify_der(b"msh", &der_sig), Err(SigningError::BadSignature)));
            assert!(matches!(verifier.verify_raw(b"msg", &[]), Err(SigningError::BadSignature)));
            assert!(matches!(verifier.verify_der(b"msg", &[0x30, 0xff]), Err(SigningError::BadSignature)));
        }
    }

    #[test]
    fn ring_verifies_our_signatures_and_spki() {
        use ring::signature::{ECDSA_P256_SHA256_ASN1, ECDSA_P256_SHA256_FIXED, ED25519, UnparsedPublicKey};
        let ed = SealSigner::from_pkcs8_der(&ed25519_pkcs8()).unwrap();
        let p = SealSigner::from_pkcs8_der(&p256_pkcs8()).unwrap();
        // The raw key is the BIT STRING content at the end of the SPKI (32 or 65 bytes).
        let raw_key = |s: &SealSigner, n: usize| {
            let spki = s.public_key_spki_der();
            spki[spki.len() - n..].to_vec()
        };
        UnparsedPublicKey::new(&ED25519, raw_key(&ed, 32)).verify(b"m", &ed.sign_raw(b"m")).unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, raw_key(&p, 65))
            .verify(b"m", &p.sign_raw(b"m"))
            .unwrap();
        UnparsedPublicKey::new(&ECDSA_P256_SHA256_ASN1, raw_key(&p, 65))
            .verify(b"m", &p.sign_der(b"m"))
            .unwrap();
    }

    #[test]
    fn bad_keys_are_errors() {
        assert!(matches!(SealSigner::from_pkcs8_der(&[]), Err(SigningError::MalformedKey(_))));
        assert!(matches!(
            SealSigner::from_pkcs8_der(&[0x30, 0x82, 0xff, 0xff]),
            Err(SigningError::MalformedKey(_))
        ));
        assert!(SealVerifier::from_spki_der(b"nonsense").is_err());
        let spki = SealSigner::from_pkcs8_der(&p256_pkcs8()).unwrap().public_key_spki_der();
        assert!(SealSigner::from_pkcs8_der(&spki).is_err());
        let pk = ed25519_pkcs8();
        assert!(SealSigner::from_pkcs8_der(&pk[..pk.len() - 1]).is_err());
    }
}
