//! The access log's checkpoint signer: a certificate the Ed25519 root issues for a key
//! of its own (not the root key), with extended key usage timeStamping — a checkpoint is
//! a time-stamp of the log's head — and the validation of such a certificate.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};
use x509_parser::certificate::X509Certificate;

use super::cert::{
    can_sign_certs, cert_info_parsed, check_issuer_key, check_validity, issuer_of, parse_cert,
};
use super::chain_error::{ChainError, ValidatedChain};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::name::{NameBuilder, attr, check_text};
use super::profile::{CertSpec, build_cert};
use super::x509_key::{SubjectKey, X509Signer};

/// OID of the extended key usage timeStamping (RFC 5280 id-kp-timeStamping).
pub const TIME_STAMPING_EKU: &str = "1.3.6.1.5.5.7.3.8";
const TIME_STAMPING_OID: ObjectIdentifier = ObjectIdentifier::new_unwrap(TIME_STAMPING_EKU);
/// The subject CN of a checkpoint signer certificate.
pub const AUDIT_SIGNER_CN: &str = "Access log checkpoint signer";

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
    check_text("platform name", platform_name, 64)?;
    let (not_before, not_after) = check_validity(not_before, not_after)?;
    let subject_key = SubjectKey::from_spki_der(public_key_spki_der)?;
    let issuer_cert = parse_cert(issuer_cert_der).map_err(PkiError::MalformedCertificate)?;
    check_issuer_key(&issuer_cert, issuer_key)?;
    if issuer_key.public_key_spki_der() == public_key_spki_der {
        return Err(PkiError::InvalidField {
            field: "checkpoint signer key",
            reason: "must not be the root's own key".to_owned(),
        });
    }
    if !can_sign_certs(&issuer_cert) {
        return Err(PkiError::IssuerNotCa);
    }
    let (issuer_nb, issuer_na) =
        (issuer_cert.validity().not_before.to_datetime(), issuer_cert.validity().not_after.to_datetime());
    let not_before = not_before.max(issuer_nb);
    let not_after = not_after.min(issuer_na);
    if not_after <= not_before {
        return Err(PkiError::InvalidValidity("outside the issuer's validity".to_owned()));
    }
    let subject = NameBuilder::new()
        .printable_or_utf8(attr::COUNTRY, "CN")?
        .utf8(attr::ORGANIZATION, platform_name)?
        .utf8(attr::COMMON_NAME, AUDIT_SIGNER_CN)?
        .build()?;
    let spec = CertSpec {
        subject,
        serial: serial.to_vec(),
        not_before,
        not_after,
        basic_constraints: BasicConstraints { ca: false, path_len_constraint: None },
        key_usage: KeyUsages::DigitalSignature.into(),
        extended_key_usage: vec![TIME_STAMPING_OID],
        crl_url: None,
    };
    build_cert(&spec, Some(&issuer_of(&issuer_cert)?), &subject_key, &X509Signer::new(issuer_key)?)
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
    let leaf = parse_cert(leaf_der).map_err(|e| ChainError::Malformed(format!("signer: {e}")))?;
    let roots = super::path::parse_all(trusted_roots, "trusted root")?;
    let path = super::path::build_path(&leaf, &[], &roots)?;
    for cert in &path {
        super::path::check_critical_extensions(cert)?;
    }
    super::path::check_ca_constraints(&path)?;
    for cert in &path {
        super::path::check_validity(cert, at)?;
    }
    check_signer_usage(&leaf)?;
    let infos = path
        .iter()
        .map(|c| cert_info_parsed(c).map_err(|e| ChainError::Malformed(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf_info = infos.first().cloned().ok_or_else(|| ChainError::Malformed("empty path".to_owned()))?;
    Ok(ValidatedChain { leaf: leaf_info, path: infos })
}

fn check_signer_usage(leaf: &X509Certificate<'_>) -> Result<(), ChainError> {
    if !matches!(leaf.key_usage(), Ok(Some(ku)) if ku.value.digital_signature()) {
        return Err(ChainError::WrongKeyUsage);
    }
    if !matches!(leaf.extended_key_usage(), Ok(Some(eku)) if eku.value.time_stamping) {
        return Err(ChainError::WrongExtendedKeyUsage);
    }
    Ok(())
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
