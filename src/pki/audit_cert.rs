//! The access log's checkpoint signer: a certificate the Ed25519 root issues for a key
//! of its own (not the root key), with extended key usage timeStamping — a checkpoint is
//! a time-stamp of the log's head — and the validation of such a certificate.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use super::chain_error::{ChainError, ValidatedChain};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::service_cert::{ServiceRole, issue_service_cert, validate_service_cert};

/// OID of the extended key usage timeStamping (RFC 5280 id-kp-timeStamping).
pub const TIME_STAMPING_EKU: &str = "1.3.6.1.5.5.7.3.8";
const TIME_STAMPING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap(TIME_STAMPING_EKU);
/// The subject CN of a checkpoint signer certificate.
pub const AUDIT_SIGNER_CN: &str = "Access log checkpoint signer";

const ROLE: ServiceRole = ServiceRole {
    cn: AUDIT_SIGNER_CN,
    eku: Some(TIME_STAMPING_OID),
    eku_critical: false,
    key_field: "checkpoint signer key",
};

/// Issues the checkpoint signer's certificate (DER) for `public_key_spki_der`, signed by
/// `issuer_key` on behalf of `issuer_cert_der` (the platform's root).
///
/// Subject `C=CN, O=<platform name>, CN=Access log checkpoint signer`; basicConstraints
/// CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage timeStamping; authority
/// and subject key identifiers. Refused: the issuer's own key as the subject key (the root
/// key never signs checkpoints), an issuer key that does not match its certificate, an
/// issuer that is not a CA, a validity outside the issuer's.
pub fn issue_audit_cert(
    platform_name: &str,
    public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
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

/// Validates a checkpoint signer's certificate at `at` against `trusted_roots`: it chains
/// to one of them (signature, CA constraints, validity of every certificate), is not
/// itself a root, has keyUsage digitalSignature and extended key usage timeStamping (a
/// seal certificate, whose usage is document signing, cannot sign checkpoints).
/// Revocation is not checked: the root's CRL lists seals only.
pub fn validate_audit_signer(
    leaf_der: &[u8],
    trusted_roots: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<ValidatedChain, ChainError> {
    validate_service_cert(ROLE, leaf_der, trusted_roots, at)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // Tests: a failed unwrap is a failed test.

    use ring::rand::SystemRandom;
    use time::Duration;

    use super::*;
    use crate::pki::{Algorithm, make_root};

    #[test]
    fn the_root_certifies_a_signer_that_validates_and_nothing_else_does() {
        let rng = SystemRandom::new();
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        let root_key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
        let root =
            make_root(Algorithm::Ed25519, "测试平台", &root_key, now, now + Duration::days(3650), [1; 16])
                .unwrap();
        let key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
        let cert = issue_audit_cert(
            "测试平台",
            &key.public_key_spki_der(),
            &root,
            &root_key,
            now,
            now + Duration::days(365),
            [2; 16],
        )
        .unwrap();
        let roots = vec![root.clone()];
        let chain = validate_audit_signer(&cert, &roots, now + Duration::days(1)).unwrap();
        assert!(chain.leaf.subject.contains(AUDIT_SIGNER_CN), "{}", chain.leaf.subject);
        // Expired, or presented to another root, or the root itself: refused.
        assert!(matches!(
            validate_audit_signer(&cert, &roots, now + Duration::days(400)),
            Err(ChainError::Expired { .. })
        ));
        let other_key = PrivateKey::generate(Algorithm::Ed25519, &rng).unwrap();
        let other =
            make_root(Algorithm::Ed25519, "别的平台", &other_key, now, now + Duration::days(10), [3; 16])
                .unwrap();
        assert!(validate_audit_signer(&cert, &[other], now).is_err());
        // A root presented as its own signer has no signing key usage.
        assert_eq!(validate_audit_signer(&root, &roots, now), Err(ChainError::WrongKeyUsage));
        // The root's own key is never the signer's.
        assert!(
            issue_audit_cert(
                "测试平台",
                &root_key.public_key_spki_der(),
                &root,
                &root_key,
                now,
                now,
                [4; 16]
            )
            .is_err()
        );
    }
}
