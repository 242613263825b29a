//! Keys as rcgen sees them: the issuer's [`Signer`] signs through [`SealSigner`] (the one
//! signing path per algorithm, `crate::signing`), and a [`SubjectKey`] is a public key to
//! certify. rcgen only encodes; it never signs with a key of its own.

use x509_parser::x509::SubjectPublicKeyInfo;

use super::error::PkiError;
use super::keys::PrivateKey;
use crate::signing::{Algorithm, SealSigner};

/// The rcgen signature algorithm for certificates and CRLs signed with a key of `alg`.
///
/// rcgen's list of algorithms is closed and has no SM2: SM2 keys are refused by
/// [`Signer::new`] and [`SubjectKey::from_spki_der`], so they never get here.
fn rcgen_algorithm(alg: Algorithm) -> &'static rcgen::SignatureAlgorithm {
    match alg {
        Algorithm::Ed25519 => &rcgen::PKCS_ED25519,
        Algorithm::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        // Invariant: see above; the constructors refuse SM2 keys.
        Algorithm::Sm2 => unreachable!("rcgen is never given an SM2 key"),
    }
}

/// Refuses a key rcgen cannot encode (SM2).
fn rcgen_can_encode(alg: Algorithm) -> Result<(), PkiError> {
    match alg {
        Algorithm::Sm2 => {
            Err(PkiError::UnsupportedAlgorithm("SM2 certificates are not made with rcgen".into()))
        }
        Algorithm::Ed25519 | Algorithm::P256 => Ok(()),
    }
}

/// The platform algorithm of a SubjectPublicKeyInfo.
pub(crate) fn spki_algorithm(spki: &SubjectPublicKeyInfo<'_>) -> Result<Algorithm, PkiError> {
    let curve = spki.algorithm.parameters.as_ref().and_then(|p| p.as_oid().ok());
    Algorithm::from_key_oid_bytes(spki.algorithm.algorithm.as_bytes(), curve.as_ref().map(|c| c.as_bytes()))
        .map_err(PkiError::UnsupportedAlgorithm)
}

/// A private key that signs X.509 structures for rcgen (ECDSA signatures in DER form).
pub(crate) struct Signer {
    signer: SealSigner,
    public: SubjectKey,
}

impl Signer {
    /// The signer of `key`.
    pub(crate) fn new(key: &PrivateKey) -> Result<Self, PkiError> {
        rcgen_can_encode(key.algorithm())?;
        let signer = SealSigner::from_pkcs8_der(key.pkcs8_der())
            .map_err(|e| PkiError::MalformedKey(format!("{} key rejected: {e}", key.algorithm().label())))?;
        let public = SubjectKey::from_spki_der(&key.public_key_spki_der())?;
        Ok(Signer { signer, public })
    }
}

impl rcgen::PublicKeyData for Signer {
    fn der_bytes(&self) -> &[u8] {
        &self.public.bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        rcgen_algorithm(self.public.alg)
    }
}

impl rcgen::SigningKey for Signer {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        Ok(self.signer.sign_der(msg))
    }
}

/// A subject public key given as SubjectPublicKeyInfo DER, for rcgen.
pub(crate) struct SubjectKey {
    alg: Algorithm,
    bits: Vec<u8>,
}

impl SubjectKey {
    /// Parses an Ed25519 or P-256 SubjectPublicKeyInfo (rcgen cannot encode SM2 keys).
    pub(crate) fn from_spki_der(spki_der: &[u8]) -> Result<Self, PkiError> {
        use x509_parser::prelude::FromDer as _;
        let (rest, spki) = SubjectPublicKeyInfo::from_der(spki_der)
            .map_err(|e| PkiError::MalformedPublicKey(e.to_string()))?;
        if !rest.is_empty() {
            return Err(PkiError::MalformedPublicKey("trailing bytes after SubjectPublicKeyInfo".to_owned()));
        }
        let alg = spki_algorithm(&spki)?;
        rcgen_can_encode(alg)?;
        let bits = spki.subject_public_key.data.to_vec();
        let expected_len = match alg {
            Algorithm::Ed25519 => 32,
            Algorithm::P256 | Algorithm::Sm2 => 65,
        };
        if bits.len() != expected_len {
            return Err(PkiError::MalformedPublicKey(format!(
                "{} public key must be {expected_len} bytes, got {}",
                alg.label(),
                bits.len()
            )));
        }
        Ok(SubjectKey { alg, bits })
    }

    /// The key's algorithm.
    pub(crate) fn algorithm(&self) -> Algorithm {
        self.alg
    }
}

impl rcgen::PublicKeyData for SubjectKey {
    fn der_bytes(&self) -> &[u8] {
        &self.bits
    }

    fn algorithm(&self) -> &'static rcgen::SignatureAlgorithm {
        rcgen_algorithm(self.alg)
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
            if alg == Algorithm::Sm2 {
                assert!(SubjectKey::from_spki_der(&key.public_key_spki_der()).is_err());
                continue;
            }
            let sk = SubjectKey::from_spki_der(&key.public_key_spki_der()).unwrap();
            assert_eq!(sk.algorithm(), alg);
        }
    }
}
