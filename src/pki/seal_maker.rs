//! The electronic seal maker (制章者, GB/T 38540): a certificate the SM2 root issues for
//! a key of its own, with which the platform signs every `SES_Seal` it makes, and the
//! validation of a maker certificate found in a seal.
//!
//! The maker is told apart from seals by its certificate profile: it has no
//! extendedKeyUsage and its one subject CN is [`SEAL_MAKER_CN`], while every seal
//! certificate has the extended key usage document signing (which seal-chain validation
//! requires) and a seal name as CN (at most 12 characters, so never this one), and the
//! checkpoint signer has timeStamping. No registered OID names seal making (an OID of
//! our own under the UUID arc 2.25 does not fit the 32-bit arcs of `const-oid`).

use time::OffsetDateTime;

use super::chain_error::{ChainError, ValidatedChain};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::service_cert::{ServiceRole, issue_service_cert, validate_service_cert};
use crate::signing::Algorithm;

/// The subject CN of a seal maker certificate.
pub const SEAL_MAKER_CN: &str = "Electronic seal maker";

const ROLE: ServiceRole =
    ServiceRole { cn: SEAL_MAKER_CN, eku: None, eku_critical: false, key_field: "seal maker key" };

/// Issues the seal maker's certificate (DER) for the SM2 key `public_key_spki_der`,
/// signed by `issuer_key` on behalf of `issuer_cert_der` (the platform's SM2 root).
///
/// Subject `C=CN, O=<platform name>, CN=Electronic seal maker`; basicConstraints
/// CA:FALSE; keyUsage critical digitalSignature; no extendedKeyUsage; authority and subject key identifiers. Refused: a key or issuer that is not SM2 (GB/T
/// 38540 is SM2 only), the root's own key, an issuer key that does not match its
/// certificate, an issuer that is not a CA, a validity outside the issuer's.
pub fn issue_seal_maker_cert(
    platform_name: &str,
    public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
    if issuer_key.algorithm() != Algorithm::Sm2 {
        return Err(PkiError::AlgorithmMismatch { expected: Algorithm::Sm2, found: issuer_key.algorithm() });
    }
    let key = crate::signing::SealVerifier::from_spki_der(public_key_spki_der)
        .map_err(|e| PkiError::MalformedPublicKey(e.to_string()))?;
    if key.algorithm() != Algorithm::Sm2 {
        return Err(PkiError::AlgorithmMismatch { expected: Algorithm::Sm2, found: key.algorithm() });
    }
    issue_service_cert(
        ROLE,
        platform_name,
        public_key_spki_der,
        issuer_cert_der,
        issuer_key,
        None,
        not_before,
        not_after,
        serial,
    )
}

/// Validates a seal maker certificate (as found in an `SES_Seal`) at `at` against
/// `trusted_roots` (DER): it chains to one of them (signature, CA constraints, validity of
/// every certificate), is not itself a root, has keyUsage digitalSignature, no extended
/// key usage and [`SEAL_MAKER_CN`] as its one CN. A seal certificate, or a maker under
/// another root, fails.
/// Revocation is not checked: the roots' CRLs list seals only.
pub fn validate_seal_maker(
    maker_cert_der: &[u8],
    trusted_roots: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<ValidatedChain, ChainError> {
    validate_service_cert(ROLE, maker_cert_der, trusted_roots, at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use time::Duration;

    use super::*;
    use crate::pki::test_support::{TestRoot, date, rng};

    #[test]
    fn the_sm2_root_certifies_a_maker_that_validates_and_nothing_else_does() {
        let root = TestRoot::new(Algorithm::Sm2);
        let now = date(2026, 6, 1);
        let key = PrivateKey::generate(Algorithm::Sm2, &rng()).unwrap();
        let cert = issue_seal_maker_cert(
            "测试平台",
            &key.public_key_spki_der(),
            &root.der,
            &root.key,
            now,
            now + Duration::days(3650),
            [2; 16],
        )
        .unwrap();
        let roots = vec![root.der.clone()];
        let chain = validate_seal_maker(&cert, &roots, now + Duration::days(1)).unwrap();
        assert!(chain.leaf.subject.contains(SEAL_MAKER_CN), "{}", chain.leaf.subject);
        assert_eq!(chain.path.len(), 2);
        // Another root's maker, a seal certificate, the root itself: refused.
        let other = TestRoot::named(Algorithm::Sm2, "别的平台");
        assert_eq!(
            validate_seal_maker(&cert, std::slice::from_ref(&other.der), now),
            Err(ChainError::UnknownIssuer)
        );
        let seal = root.seal([5; 16], now, now + Duration::days(10));
        assert_eq!(validate_seal_maker(&seal.der, &roots, now), Err(ChainError::WrongExtendedKeyUsage));
        assert_eq!(validate_seal_maker(&root.der, &roots, now), Err(ChainError::WrongKeyUsage));
        // …and the maker is no seal.
        assert_eq!(
            crate::pki::validate_seal_chain(&cert, &[], &roots, &[], now).unwrap_err(),
            ChainError::WrongExtendedKeyUsage
        );
        // Expired.
        assert!(matches!(
            validate_seal_maker(&cert, &roots, date(2045, 1, 2)),
            Err(ChainError::Expired { .. })
        ));
        // Only SM2.
        let ed = TestRoot::new(Algorithm::Ed25519);
        let ed_key = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        assert!(
            issue_seal_maker_cert("p", &ed_key.public_key_spki_der(), &ed.der, &ed.key, now, now, [3; 16])
                .is_err()
        );
        assert!(
            issue_seal_maker_cert("p", &key.public_key_spki_der(), &ed.der, &ed.key, now, now, [3; 16])
                .is_err()
        );
    }
}
