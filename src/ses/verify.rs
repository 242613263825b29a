//! The checks a verifier makes of a read seal and seal signature, each on its own so the
//! engine can report them as separate checks: the maker's signature, the signature over
//! `TBS_Sign`, the signer being listed in the seal, and the seal's validity period.
//! Whether the maker and signer certificates are trusted is chain validation's question
//! (`crate::pki::validate_seal_maker`, the seal-chain functions), not this module's.

use sha2::Digest as _;
use time::OffsetDateTime;
use x509_parser::prelude::FromDer as _;

use super::MAX_CERT_BYTES;
use super::error::SesError;
use super::read::{CertList, SealFacts, SignatureFacts};
use crate::signing::{Algorithm, SealVerifier, oid};

impl SealFacts {
    /// Verifies the maker's `signedValue` over DER(`SES_SealInfo`) with the key of the
    /// maker certificate in the seal. SM2-with-SM3 only (else
    /// [`SesError::UnsupportedAlgorithm`]); the signature is DER `SEQUENCE { r, s }` or,
    /// as some older makers write it, 64 bytes `r‖s`. Says nothing about whether the
    /// maker is trusted: validate [`SealFacts::maker_cert_der`] for that.
    pub fn verify_maker_signature(&self) -> Result<(), SesError> {
        check_algorithm(&self.algorithm)?;
        let key = sm2_key_of("maker", &self.maker_cert_der)?;
        verify_sig(&key, &self.maker_signed_der, &self.maker_signature)
            .map_err(|_| SesError::BadMakerSignature)
    }

    /// Whether the seal is valid at `at`: `validStart ≤ at ≤ validEnd`.
    pub fn check_valid_at(&self, at: OffsetDateTime) -> Result<(), SesError> {
        if at < self.valid_start || at > self.valid_end {
            return Err(SesError::SealNotValid {
                valid_start: self.valid_start,
                valid_end: self.valid_end,
                at,
            });
        }
        Ok(())
    }

    /// Whether the seal's `certList` names `cert_der`: byte for byte (`certListType` 1),
    /// or by a digest (`certListType` 2; SM3, SHA-256 and SHA-1 are computed, other digest
    /// names never match).
    pub fn lists_cert(&self, cert_der: &[u8]) -> bool {
        match &self.cert_list {
            CertList::Certs(certs) => certs.iter().any(|c| c == cert_der),
            CertList::Digests(digests) => {
                digests.iter().any(|d| digest_by_name(&d.algorithm, cert_der).is_some_and(|v| v == d.value))
            }
        }
    }
}

impl SignatureFacts {
    /// Verifies the signature over DER(`TBS_Sign`) with the key of the signer certificate
    /// (SM2-with-SM3, user id `1234567812345678`).
    pub fn verify_signature(&self) -> Result<(), SesError> {
        check_algorithm(&self.algorithm)?;
        let key = sm2_key_of("signer", &self.signer_cert_der)?;
        verify_sig(&key, &self.tbs_der, &self.signature).map_err(|_| SesError::BadSignature)
    }

    /// Verifies the seal maker's signature of the seal inside ([`SealFacts::verify_maker_signature`]).
    pub fn verify_maker_signature(&self) -> Result<(), SesError> {
        self.seal.verify_maker_signature()
    }

    /// Whether the signer certificate is one the seal lists ([`SealFacts::lists_cert`]).
    pub fn signer_listed_in_seal(&self) -> Result<(), SesError> {
        if self.seal.lists_cert(&self.signer_cert_der) { Ok(()) } else { Err(SesError::SignerNotListed) }
    }

    /// Whether the seal was valid at the signature's own time (`timeInfo`); a signature
    /// without a readable time is checked at `fallback`.
    pub fn seal_valid_at_signing(&self, fallback: OffsetDateTime) -> Result<(), SesError> {
        self.seal.check_valid_at(self.time.unwrap_or(fallback))
    }
}

fn check_algorithm(alg: &der::asn1::ObjectIdentifier) -> Result<(), SesError> {
    if *alg != oid::SM2_WITH_SM3 {
        return Err(SesError::UnsupportedAlgorithm(*alg));
    }
    Ok(())
}

/// The SM2 key a certificate certifies.
pub(super) fn sm2_key_of(which: &'static str, cert_der: &[u8]) -> Result<SealVerifier, SesError> {
    let unusable = |reason: String| SesError::Certificate { which, reason };
    if cert_der.len() > MAX_CERT_BYTES {
        return Err(unusable(format!("{} bytes, more than {MAX_CERT_BYTES}", cert_der.len())));
    }
    let (rest, cert) = x509_parser::certificate::X509Certificate::from_der(cert_der)
        .map_err(|e| unusable(format!("not an X.509 certificate: {e}")))?;
    if !rest.is_empty() {
        return Err(unusable("trailing bytes after the certificate".to_owned()));
    }
    let key = SealVerifier::from_spki_der(cert.public_key().raw).map_err(|e| unusable(e.to_string()))?;
    if key.algorithm() != Algorithm::Sm2 {
        return Err(unusable(format!("a {} key, not SM2", key.algorithm().label())));
    }
    Ok(key)
}

fn verify_sig(key: &SealVerifier, msg: &[u8], sig: &[u8]) -> Result<(), crate::signing::SigningError> {
    if sig.len() == 64 { key.verify_raw(msg, sig) } else { key.verify_der(msg, sig) }
}

/// The digest of `data` by a `certList` digest name, if it is one we compute.
fn digest_by_name(name: &str, data: &[u8]) -> Option<Vec<u8>> {
    let name: String =
        name.chars().filter(|c| c.is_ascii_alphanumeric()).collect::<String>().to_ascii_lowercase();
    match name.as_str() {
        "sm3" => Some(<sm3::Sm3 as sm3::Digest>::digest(data).to_vec()),
        "sha256" => Some(sha2::Sha256::digest(data).to_vec()),
        "sha1" => Some(ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, data).as_ref().to_vec()),
        _ => None,
    }
}
