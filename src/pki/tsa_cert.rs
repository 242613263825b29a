//! The platform's time-stamping authority (RFC 3161): a certificate a root issues for a
//! key of its own, with extended key usage timeStamping, critical and alone (RFC 3161
//! §2.3), and the validation of such a certificate. The profile is the service
//! certificates' (`service_cert.rs`); only the CN and the critical EKU differ.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;

use super::audit_cert::TIME_STAMPING_EKU;
use super::chain_error::{ChainError, ValidatedChain};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::service_cert::{ServiceRole, issue_service_cert, validate_service_cert};

/// The subject CN of a time-stamping authority certificate.
pub const TSA_CN: &str = "Time-stamping authority";

const ROLE: ServiceRole = ServiceRole {
    cn: TSA_CN,
    eku: Some(ObjectIdentifier::new_unwrap(TIME_STAMPING_EKU)),
    eku_critical: true,
    key_field: "time-stamping authority key",
};

/// Issues a time-stamping authority's certificate (DER) for `public_key_spki_der`, signed
/// by `issuer_key` on behalf of `issuer_cert_der` (one of the platform's roots, of any
/// algorithm).
///
/// Subject `C=CN, O=<platform name>, CN=Time-stamping authority`; basicConstraints
/// CA:FALSE; keyUsage critical digitalSignature; extendedKeyUsage critical timeStamping
/// only; authority and subject key identifiers; validity cut to the issuer's. Refused:
/// the issuer's own key as the subject key, an issuer key that does not match its
/// certificate, an issuer that is not a CA, a validity outside the issuer's.
pub fn issue_tsa_cert(
    platform_name: &str,
    public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
    let args = (public_key_spki_der, issuer_cert_der, issuer_key);
    issue_tsa_cert_with_crl(platform_name, args.0, args.1, args.2, None, not_before, not_after, serial)
}

/// [`issue_tsa_cert`] with the CRL distribution point `crl_url`, if given (the issuing
/// root's CRL, as seal certificates name it), so that the root's CRL can revoke the TSA:
/// what the platform's time-stamping units get. Refused besides: a `crl_url` that is not
/// an absolute ASCII URI.
#[allow(clippy::too_many_arguments)] // issue_tsa_cert's arguments and the CRL URL
pub fn issue_tsa_cert_with_crl(
    platform_name: &str,
    public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    crl_url: Option<&str>,
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
        crl_url,
        not_before,
        not_after,
        serial,
    )
}

/// Validates a time-stamping authority's certificate at `at` against `trusted_roots`: it
/// chains to one of them (signature, CA constraints, validity of every certificate), is
/// not itself a root, has keyUsage digitalSignature and a critical extendedKeyUsage
/// whose only purpose is timeStamping (RFC 3161 §2.3; the access log's checkpoint
/// signer, whose timeStamping is not critical, is refused). Revocation is not checked here:
/// a caller holding the root's CRL checks it (the platform's TSA certificates name it).
pub fn validate_tsa_cert(
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
    use x509_parser::prelude::FromDer as _;

    use super::*;
    use crate::pki::{Algorithm, issue_audit_cert, make_root};

    #[test]
    fn every_root_certifies_a_tsa_with_critical_time_stamping_and_nothing_else_passes() {
        let rng = SystemRandom::new();
        let now = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
        for alg in [Algorithm::Ed25519, Algorithm::P256, Algorithm::Sm2] {
            let root_key = PrivateKey::generate(alg, &rng).unwrap();
            let root =
                make_root(alg, "测试平台", &root_key, now, now + Duration::days(3650), [1; 16]).unwrap();
            let key = PrivateKey::generate(alg, &rng).unwrap();
            let spki = key.public_key_spki_der();
            let end = now + Duration::days(365);
            let cert = issue_tsa_cert("测试平台", &spki, &root, &root_key, now, end, [2; 16]).unwrap();
            let (_, parsed) = x509_parser::certificate::X509Certificate::from_der(&cert).unwrap();
            let eku = parsed.extended_key_usage().unwrap().unwrap();
            assert!(eku.critical && eku.value.time_stamping && eku.value.other.is_empty(), "{alg}");
            let roots = vec![root.clone()];
            let chain = validate_tsa_cert(&cert, &roots, now + Duration::days(1)).unwrap();
            assert!(chain.leaf.subject.contains(TSA_CN), "{}", chain.leaf.subject);
            assert!(matches!(
                validate_tsa_cert(&cert, &roots, now + Duration::days(400)),
                Err(ChainError::Expired { .. })
            ));
            assert_eq!(validate_tsa_cert(&root, &roots, now), Err(ChainError::WrongKeyUsage));
            // The checkpoint signer's timeStamping is not critical: not a TSA.
            let audit = issue_audit_cert("测试平台", &spki, &root, &root_key, now, end, [3; 16]).unwrap();
            assert_eq!(validate_tsa_cert(&audit, &roots, now), Err(ChainError::WrongExtendedKeyUsage));
            let own = root_key.public_key_spki_der();
            assert!(issue_tsa_cert("测试平台", &own, &root, &root_key, now, end, [4; 16]).is_err());
            // With the root's CRL: the same profile, and the distribution point.
            let url = format!("https://zz.example.gov.cn/pki/crl-{alg}.crl");
            let with =
                issue_tsa_cert_with_crl("测试平台", &spki, &root, &root_key, Some(&url), now, end, [5; 16]);
            let with = with.unwrap();
            assert_eq!(crate::pki::cert_info(&with).unwrap().crl_urls, vec![url]);
            assert!(crate::pki::cert_info(&cert).unwrap().crl_urls.is_empty());
            validate_tsa_cert(&with, &roots, now + Duration::days(1)).unwrap();
            let bad =
                issue_tsa_cert_with_crl("测试平台", &spki, &root, &root_key, Some("证照"), now, end, [6; 16]);
            assert!(matches!(bad, Err(PkiError::InvalidField { field: "CRL URL", .. })), "{bad:?}");
        }
    }
}
