//! Keys as the `x509-cert` builder sees them: the issuer's [`X509Signer`] signs through
//! [`SealSigner`] (the one signing path per algorithm, `crate::signing`), and a
//! [`SubjectKey`] is a public key to certify. The builder only encodes; it never signs with
//! a key of its own.
//!
//! Signatures go into certificates and CRLs in their DER form ([`SealSigner::sign_der`]):
//! `SEQUENCE { r, s }` for P-256 and SM2 (a raw `r‖s` in the BIT STRING is what OpenSSL
//! rejects), the 64 bytes of RFC 8410 for Ed25519.

use der::Decode as _;
use der::asn1::BitString;
use x509_cert::spki::{
    AlgorithmIdentifierOwned, DynSignatureAlgorithmIdentifier, EncodePublicKey, SignatureBitStringEncoding,
    SubjectPublicKeyInfoOwned,
};
use x509_parser::x509::SubjectPublicKeyInfo;

use super::error::PkiError;
use super::keys::PrivateKey;
use crate::signing::{Algorithm, SealSigner, SealVerifier};

/// The platform algorithm of a SubjectPublicKeyInfo.
pub(crate) fn spki_algorithm(spki: &SubjectPublicKeyInfo<'_>) -> Result<Algorithm, PkiError> {
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
    Algorithm::from_key_oid_bytes(spki.algorithm.algorithm.as_bytes(), curve.as_ref().map(|c| c.as_bytes()))
        .map_err(PkiError::UnsupportedAlgorithm)
}

/// The `AlgorithmIdentifier` of signatures made with a key of `alg`: the signature OID
/// without parameters, as RFC 8410 (Ed25519), RFC 5758 (ECDSA) and GM/T 0006 (SM2-with-SM3)
/// all require.
pub(crate) fn signature_algorithm(alg: Algorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned { oid: alg.signature_oid(), parameters: None }
}

/// A private key that signs certificates and CRLs for the `x509-cert` builder.
#[derive(Debug)]
pub(crate) struct X509Signer {
    signer: SealSigner,
    public: SpkiDer,
}

impl X509Signer {
    /// The signer of `key`.
    pub(crate) fn new(key: &PrivateKey) -> Result<Self, PkiError> {
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|e| PkiError::MalformedKey(format!("{} key rejected: {e}", key.algorithm().label())))?;
        let public = SpkiDer(signer.public_key_spki_der());
        Ok(X509Signer { signer, public })
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.signer.algorithm()
    }
}

/// A signature in the form certificates and CRLs carry it (see the module comment).
#[derive(Debug, Clone)]
pub(crate) struct X509Signature(Vec<u8>);

impl SignatureBitStringEncoding for X509Signature {
    fn to_bitstring(&self) -> der::Result<BitString> {
        BitString::from_bytes(&self.0)
    }
}

impl signature::Signer<X509Signature> for X509Signer {
    fn try_sign(&self, msg: &[u8]) -> Result<X509Signature, signature::Error> {
        Ok(X509Signature(self.signer.sign_der(msg)))
    }
}

impl signature::Keypair for X509Signer {
    type VerifyingKey = SpkiDer;

    fn verifying_key(&self) -> SpkiDer {
        self.public.clone()
    }
}

impl DynSignatureAlgorithmIdentifier for X509Signer {
    fn signature_algorithm_identifier(&self) -> x509_cert::spki::Result<AlgorithmIdentifierOwned> {
        Ok(signature_algorithm(self.algorithm()))
    }
}

/// A public key as SubjectPublicKeyInfo DER (what the builder asks a signer for).
#[derive(Debug, Clone)]
pub(crate) struct SpkiDer(Vec<u8>);

impl EncodePublicKey for SpkiDer {
    fn to_public_key_der(&self) -> x509_cert::spki::Result<der::Document> {
        Ok(der::Document::from_der(&self.0)?)
    }
}

/// A subject public key given as SubjectPublicKeyInfo DER: one of the platform's
/// algorithms, a valid key (a point on its curve).
#[derive(Debug)]
pub(crate) struct SubjectKey {
    alg: Algorithm,
    spki: SubjectPublicKeyInfoOwned,
}

impl SubjectKey {
    /// Parses and checks a SubjectPublicKeyInfo.
    pub(crate) fn from_spki_der(spki_der: &[u8]) -> Result<Self, PkiError> {
        use x509_parser::prelude::FromDer as _;
        let (rest, parsed) = SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| PkiError::MalformedPublicKey(e.to_string()))?;
        if !rest.is_empty() {
            return Err(PkiError::MalformedPublicKey("trailing bytes after SubjectPublicKeyInfo".to_owned()));
        }
        let alg = spki_algorithm(&parsed)?;
        SealVerifier::from_spki_der(spki_der)
            .map_err(|e| PkiError::MalformedPublicKey(format!("{} public key: {e}", alg.label())))?;
        let spki = SubjectPublicKeyInfoOwned::from_der(spki_der)
            .map_err(|e| PkiError::MalformedPublicKey(e.to_string()))?;
        Ok(SubjectKey { alg, spki })
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.alg
    }

    /// The key as the builder takes it.
    pub(crate) fn spki(&self) -> &SubjectPublicKeyInfoOwned {
        &self.spki
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::test_support::rng;

    #[test]
    fn generated_keys_reload_and_redact() {
        for alg in Algorithm::ALL {
            let key = PrivateKey::generate(alg, &rng()).unwrap();
            assert_eq!(key.algorithm(), alg);
            let again = PrivateKey::from_pkcs8_der(key.pkcs8_der()).unwrap();
            assert_eq!(again.algorithm(), alg);
            assert_eq!(again.public_key_spki_der(), key.public_key_spki_der());
            assert_eq!(key.key_id().len(), 64);
            let dbg = format!("{key:?}");
            assert!(dbg.contains("<redacted>") && dbg.contains(&format!("{alg:?}")), "{dbg}");
            let hex_key = hex::encode(key.pkcs8_der());
            assert!(!dbg.contains(&hex_key[hex_key.len() - 16..]));
            // The SPKI is valid DER that x509-parser and our own parser accept.
            let sk = SubjectKey::from_spki_der(&key.public_key_spki_der()).unwrap();
            assert_eq!(sk.algorithm(), alg);
            assert_eq!(X509Signer::new(&key).unwrap().algorithm(), alg);
        }
    }

    #[test]
    fn a_point_off_the_curve_is_refused() {
        for alg in [Algorithm::P256, Algorithm::Sm2] {
            let mut spki = PrivateKey::generate(alg, &rng()).unwrap().public_key_spki_der();
            let last = spki.len() - 1;
            spki[last] ^= 0x01;
            assert!(
                matches!(SubjectKey::from_spki_der(&spki), Err(PkiError::MalformedPublicKey(_))),
                "{alg}"
            );
        }
    }
}
