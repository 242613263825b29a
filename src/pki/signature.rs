//! Checking the signature of a certificate or CRL with its issuer's key, for every
//! algorithm, through [`SealVerifier`] (the one verifying path per algorithm). x509-parser
//! reads the structures; it does not verify SM2, so nothing here asks it to verify.

use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;
use x509_parser::x509::AlgorithmIdentifier;

use crate::signing::{Algorithm, SealVerifier, SigningError};

/// Why a certificate's or CRL's signature does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum SignatureError {
    /// The issuer's key is not one the platform verifies with (or not a key at all).
    #[error("the issuer's key is unusable: {0}")]
    IssuerKey(String),
    /// The signature algorithm is not the one of the issuer's key, or carries parameters.
    #[error("signature algorithm {found} does not match the issuer's {expected} key")]
    Algorithm {
        /// The issuer key's algorithm.
        expected: Algorithm,
        /// The signature AlgorithmIdentifier, as written.
        found: String,
    },
    /// The signature value does not verify.
    #[error("the signature does not verify with the issuer's key")]
    Invalid,
}

/// Verifies `cert`'s signature with the key `issuer_spki_der` (a SubjectPublicKeyInfo).
pub(crate) fn verify_cert(cert: &X509Certificate<'_>, issuer_spki_der: &[u8]) -> Result<(), SignatureError> {
    let sig = &cert.signature_value;
    if sig.unused_bits != 0 {
        return Err(SignatureError::Invalid);
    }
    verify_signed(cert.tbs_certificate.as_ref(), &cert.signature_algorithm, &sig.data, issuer_spki_der)
}

/// Verifies `crl`'s signature with the key `issuer_spki_der`.
pub(crate) fn verify_crl(
    crl: &CertificateRevocationList<'_>,
    issuer_spki_der: &[u8],
) -> Result<(), SignatureError> {
    let sig = &crl.signature_value;
    if sig.unused_bits != 0 {
        return Err(SignatureError::Invalid);
    }
    verify_signed(crl.tbs_cert_list.as_ref(), &crl.signature_algorithm, &sig.data, issuer_spki_der)
}

/// Verifies `signature` (the BIT STRING's bytes) over `tbs` (the DER of the signed part),
/// declared as `algorithm`, with the key `issuer_spki_der`.
///
/// The algorithm must be the one of the issuer's key ([`Algorithm::signature_oid`]) and
/// carry no parameters: RFC 8410 (Ed25519), RFC 5758 (ECDSA with SHA-256) and GM/T 0006
/// (SM2-with-SM3) all leave them out. The value is in the form certificates carry it: DER
/// `SEQUENCE { r, s }` for P-256 and SM2 (SM2 with the default distinguishing ID
/// `1234567812345678`), 64 bytes for Ed25519 (verified strictly).
pub(crate) fn verify_signed(
    tbs: &[u8],
    algorithm: &AlgorithmIdentifier<'_>,
    signature: &[u8],
    issuer_spki_der: &[u8],
) -> Result<(), SignatureError> {
    let verifier = SealVerifier::from_spki_der(issuer_spki_der).map_err(|e| match e {
        SigningError::UnsupportedKey(what) | SigningError::MalformedKey(what) => {
            SignatureError::IssuerKey(what)
        }
        other => SignatureError::IssuerKey(other.to_string()),
    })?;
    let expected = verifier.algorithm();
    if algorithm.algorithm.as_bytes() != expected.signature_oid().as_bytes() || algorithm.parameters.is_some()
    {
        let params = if algorithm.parameters.is_some() { " with parameters" } else { "" };
        return Err(SignatureError::Algorithm {
            expected,
            found: format!("{}{params}", algorithm.algorithm),
        });
    }
    verifier.verify_der(tbs, signature).map_err(|_| SignatureError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cert::parse_cert;
    use crate::pki::crl::parse_crl;
    use crate::pki::test_support::*;
    use crate::pki::{PrivateKey, make_crl};

    #[test]
    fn certificates_and_crls_of_every_algorithm_verify_with_their_issuer_only() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let crl_der = make_crl(&root.der, &root.key, 1, date(2026, 5, 1), date(2026, 5, 8), &[]).unwrap();
            let root_spki = root.key.public_key_spki_der();
            let (root_cert, seal_cert) = (parse_cert(&root.der).unwrap(), parse_cert(&seal.der).unwrap());
            let crl = parse_crl(&crl_der).unwrap();
            verify_cert(&root_cert, &root_spki).unwrap();
            verify_cert(&seal_cert, &root_spki).unwrap();
            verify_crl(&crl, &root_spki).unwrap();
            // Another key of the same algorithm: the signature does not verify.
            let other = PrivateKey::generate(alg, &rng()).unwrap().public_key_spki_der();
            assert_eq!(verify_cert(&seal_cert, &other), Err(SignatureError::Invalid), "{alg}");
            assert_eq!(verify_crl(&crl, &other), Err(SignatureError::Invalid), "{alg}");
            // The seal's own key signed nothing here.
            assert_eq!(
                verify_cert(&seal_cert, &seal.key.public_key_spki_der()),
                Err(SignatureError::Invalid),
                "{alg}"
            );
            assert!(matches!(verify_cert(&seal_cert, b"junk"), Err(SignatureError::IssuerKey(_))));
        }
    }

    #[test]
    fn the_algorithm_must_be_the_issuer_keys_without_parameters() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let cert = parse_cert(&root.der).unwrap();
            let spki = root.key.public_key_spki_der();
            let sig = &cert.signature_value.data;
            let tbs = cert.tbs_certificate.as_ref();
            verify_signed(tbs, &cert.signature_algorithm, sig, &spki).unwrap();
            // The right signature under another algorithm's key: refused before verifying.
            let foreign = if alg == Algorithm::Sm2 { Algorithm::P256 } else { Algorithm::Sm2 };
            let foreign_spki = PrivateKey::generate(foreign, &rng()).unwrap().public_key_spki_der();
            assert!(matches!(
                verify_signed(tbs, &cert.signature_algorithm, sig, &foreign_spki),
                Err(SignatureError::Algorithm { expected, .. }) if expected == foreign
            ));
            // The same OID with NULL parameters.
            let null = x509_parser::der_parser::asn1_rs::Any::from_tag_and_data(
                x509_parser::der_parser::asn1_rs::Tag::Null,
                &[],
            );
            let with_params =
                AlgorithmIdentifier::new(cert.signature_algorithm.algorithm.clone(), Some(null));
            assert!(matches!(
                verify_signed(tbs, &with_params, sig, &spki),
                Err(SignatureError::Algorithm { ref found, .. }) if found.ends_with("with parameters")
            ));
        }
    }
}
