//! Signing and verifying with a seal key, from PKCS#8 / SPKI DER: the one signing path of
//! each [`Algorithm`], shared by the QR token (COSE, raw signatures), the PDF signature
//! (CMS, DER signatures), JWS (trust list, holder assertions, audit checkpoints) and the
//! certificates and CRLs that `pki` makes with `x509-cert` and checks.
//!
//! Layout: [`alg`] names the algorithms (the enum, OIDs, COSE and JOSE identifiers); one
//! file per algorithm does the work (`ed25519.rs` with `ed25519-dalek`, [`p256`] with
//! `ring`, [`sm2`] with the RustCrypto `sm2` crate); this file dispatches. A new algorithm is a variant in [`alg`], one here in
//! [`SealSigner`] and [`SealVerifier`], and its own file.

pub mod alg;
mod ed25519;
mod error;
pub mod p256;
pub mod sm2;

use pkcs8::der::Decode as _;
use pkcs8::{PrivateKeyInfoRef, SubjectPublicKeyInfoRef};

pub use alg::{Algorithm, ParseEnumError, oid};
pub use error::SigningError;

/// A seal's private key, able to sign. Its `Debug` shows the algorithm, never key bytes.
pub enum SealSigner {
    /// Ed25519 (PureEdDSA, RFC 8032).
    Ed25519(ed25519_dalek::SigningKey),
    /// ECDSA over P-256 with SHA-256.
    P256(p256::P256Signer),
    /// SM2 with SM3, the default distinguishing identifier.
    Sm2(sm2::Sm2Signer),
}

impl std::fmt::Debug for SealSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SealSigner({}, <redacted>)", self.algorithm())
    }
}

/// The algorithm of a PKCS#8 or SPKI `AlgorithmIdentifier`, as a signing error.
fn key_algorithm(id: &pkcs8::spki::AlgorithmIdentifierRef<'_>) -> Result<Algorithm, SigningError> {
    let curve = id.parameters_oid().ok();
    Algorithm::from_key_oids(&id.oid, curve.as_ref()).map_err(SigningError::UnsupportedKey)
}

impl SealSigner {
    /// Reads an unencrypted PKCS#8 private key (v1 or v2, as ring, the `sm2` crate and OpenSSL write them).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self, SigningError> {
        let info = PrivateKeyInfoRef::from_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("not a PKCS#8 private key: {e}")))?;
        match key_algorithm(&info.algorithm)? {
            Algorithm::Ed25519 => Ok(Self::Ed25519(ed25519::signing_key(info)?)),
            Algorithm::P256 => Ok(Self::P256(p256::P256Signer::from_pkcs8_der(der)?)),
            Algorithm::Sm2 => Ok(Self::Sm2(sm2::Sm2Signer::from_pkcs8_der(der)?)),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::P256(_) => Algorithm::P256,
            Self::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// Signs `msg`. Ed25519: PureEdDSA, 64 bytes. P-256: ECDSA with SHA-256, fixed-size
    /// `r || s`, 64 bytes (the COSE / JWS form). SM2: SM2 with SM3, `r || s`, 64 bytes.
    pub fn sign_raw(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => ed25519::sign(key, msg),
            Self::P256(key) => key.sign_raw(msg),
            Self::Sm2(key) => key.sign_raw(msg),
        }
    }

    /// Signs `msg`. P-256 and SM2: DER `SEQUENCE { r, s }` (the CMS / X.509 form). Ed25519:
    /// the same 64 bytes as [`Self::sign_raw`] (RFC 8410/8419 carry them as is).
    pub fn sign_der(&self, msg: &[u8]) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => ed25519::sign(key, msg),
            Self::P256(key) => key.sign_der(msg),
            Self::Sm2(key) => key.sign_der(msg),
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
            Self::P256(key) => SealVerifier::P256(key.verifier()),
            Self::Sm2(key) => SealVerifier::Sm2(key.verifier()),
        }
    }
}

/// A seal's public key, able to verify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SealVerifier {
    /// Ed25519 (PureEdDSA, RFC 8032); verification is strict (no small-order keys,
    /// canonical signatures only).
    Ed25519(ed25519_dalek::VerifyingKey),
    /// ECDSA over P-256 with SHA-256.
    P256(p256::P256Verifier),
    /// SM2 with SM3, the default distinguishing identifier.
    Sm2(sm2::Sm2Verifier),
}

impl SealVerifier {
    /// Reads a DER `SubjectPublicKeyInfo` (e.g. from a seal certificate).
    pub fn from_spki_der(der: &[u8]) -> Result<Self, SigningError> {
        let info = SubjectPublicKeyInfoRef::from_der(der)
            .map_err(|e| SigningError::MalformedKey(format!("not a SubjectPublicKeyInfo: {e}")))?;
        match key_algorithm(&info.algorithm)? {
            Algorithm::Ed25519 => Ok(Self::Ed25519(ed25519::verifying_key(info)?)),
            Algorithm::P256 => Ok(Self::P256(p256::P256Verifier::from_spki_der(der)?)),
            Algorithm::Sm2 => Ok(Self::Sm2(sm2::Sm2Verifier::from_spki_der(der)?)),
        }
    }

    /// The key's algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self {
            Self::Ed25519(_) => Algorithm::Ed25519,
            Self::P256(_) => Algorithm::P256,
            Self::Sm2(_) => Algorithm::Sm2,
        }
    }

    /// Verifies a signature in the form [`SealSigner::sign_raw`] makes (64 bytes for all).
    pub fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        match self {
            Self::Ed25519(key) => ed25519::verify(key, msg, sig),
            Self::P256(key) => key.verify_raw(msg, sig),
            Self::Sm2(key) => key.verify_raw(msg, sig),
        }
    }

    /// Verifies a signature in the form [`SealSigner::sign_der`] makes (DER for P-256, SM2).
    pub fn verify_der(&self, msg: &[u8], sig: &[u8]) -> Result<(), SigningError> {
        match self {
            Self::Ed25519(key) => ed25519::verify(key, msg, sig),
            Self::P256(key) => key.verify_der(msg, sig),
            Self::Sm2(key) => key.verify_der(msg, sig),
        }
    }

    /// The public key as DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Vec<u8> {
        match self {
            Self::Ed25519(key) => ed25519::spki(key),
            Self::P256(key) => key.spki(),
            Self::Sm2(key) => key.spki(),
        }
    }
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
        for (der, alg) in [(ed25519_pkcs8(), Algorithm::Ed25519), (p256_pkcs8(), Algorithm::P256)] {
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
