//! Seal-chain validation: seal certificate → (intermediates) → trusted root, with CRLs.
//! The steps live beside it: [`super::path`] builds and checks the path,
//! [`super::revocation`] reads the CRLs, [`super::chain_error`] names the failures.

use time::OffsetDateTime;
use x509_parser::revocation_list::CertificateRevocationList;

use super::cert::{cert_info_parsed, parse_cert};
use super::chain_error::{ChainError, ValidatedChain};
use super::crl::parse_crl;
use super::path::{
    build_path, check_ca_constraints, check_critical_extensions, check_leaf_usage, check_validity, parse_all,
};
use super::revocation::{RevocationPolicy, check_revocation};

/// Validates a seal certificate at time `at` against `trusted_roots`, with optional
/// `intermediates` and the `crls` to check revocation with (all DER).
///
/// Checks, in this order, answering the first failure:
/// 1. parsing of every certificate given (`Malformed`);
/// 2. path building by issuer name and authority/subject key identifier, preferring a
///    trusted root, then an intermediate, each candidate's signature verified
///    (`UnknownIssuer`, `BadSignature`, `PathTooLong` past [`super::MAX_PATH_CERTS`]); a
///    self-signed root's own signature is verified too; then no certificate of the path
///    may carry an unknown critical extension (`Malformed`);
/// 3. every issuer is a CA with keyCertSign (`NotCa`) and its pathLenConstraint holds
///    (`PathTooLong`);
/// 4. validity of every certificate at `at`, seal certificate first (`NotYetValid`,
///    `Expired`);
/// 5. the seal certificate's key usage (digitalSignature or contentCommitment) and
///    extended key usage (document signing; anyExtendedKeyUsage is not enough)
///    (`WrongKeyUsage`, `WrongExtendedKeyUsage`);
/// 6. revocation of every non-root certificate, seal certificate first: a CRL with the
///    issuer's name (and key identifier) must be among `crls` (`NoRevocationInfo`); it is
///    used when its signature verifies with the issuer's key and its thisUpdate ≤ `at`
///    (else `CrlInvalid`); an expired CRL (nextUpdate < `at`) is still used. A serial listed
///    in a usable CRL with a revocation date ≤ `at` gives `Revoked` (earliest date wins).
pub fn validate_seal_chain(
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    trusted_roots: &[Vec<u8>],
    crls: &[Vec<u8>],
    at: OffsetDateTime,
) -> Result<ValidatedChain, ChainError> {
    let policy =
        RevocationPolicy { crls_issued_until: at, signing_time_proven: true, check_revocation: true };
    validate_chain(leaf_der, intermediates, trusted_roots, crls, at, policy)
}

/// Validates the seal certificate of a signature made at `signing_time`, as
/// [`validate_seal_chain`] does at that time, except that CRLs issued up to
/// `policy.crls_issued_until` (typically now, after the signing) are used, so a CRL newer
/// than the signature tells whether the seal was revoked before it signed. A revocation
/// after the signing time passes unless the reason is key compromise or unspecified and
/// the signing time is not proven ([`RevocationPolicy`]).
pub fn validate_signature_chain(
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    trusted_roots: &[Vec<u8>],
    crls: &[Vec<u8>],
    signing_time: OffsetDateTime,
    policy: RevocationPolicy,
) -> Result<ValidatedChain, ChainError> {
    validate_chain(leaf_der, intermediates, trusted_roots, crls, signing_time, policy)
}

fn validate_chain(
    leaf_der: &[u8],
    intermediates: &[Vec<u8>],
    trusted_roots: &[Vec<u8>],
    crls: &[Vec<u8>],
    at: OffsetDateTime,
    policy: RevocationPolicy,
) -> Result<ValidatedChain, ChainError> {
    let leaf = parse_cert(leaf_der).map_err(|e| ChainError::Malformed(format!("seal: {e}")))?;
    let roots = parse_all(trusted_roots, "trusted root")?;
    let inters = parse_all(intermediates, "intermediate")?;

    let path = build_path(&leaf, &inters, &roots)?;
    for cert in &path {
        check_critical_extensions(cert)?;
    }
    check_ca_constraints(&path)?;
    for cert in &path {
        check_validity(cert, at)?;
    }
    check_leaf_usage(&leaf)?;
    let parsed_crls: Vec<Result<CertificateRevocationList<'_>, String>> =
        crls.iter().map(|d| parse_crl(d)).collect();
    for pair in path.windows(2) {
        check_revocation(&pair[0], &pair[1], &parsed_crls, at, policy)?;
    }

    let infos = path
        .iter()
        .map(|c| cert_info_parsed(c).map_err(|e| ChainError::Malformed(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf_info = infos.first().cloned().ok_or_else(|| ChainError::Malformed("empty path".to_owned()))?;
    Ok(ValidatedChain { leaf: leaf_info, path: infos })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cert::{issuer_for, parse_cert};
    use crate::pki::test_support::*;
    use crate::pki::{
        Algorithm, PrivateKey, RevocationReason, RevokedCert, SealSubject, issue_seal_cert, make_crl,
    };
    use rcgen::{
        CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyIdMethod, KeyUsagePurpose, SerialNumber,
    };

    const AT: (i32, u8, u8) = (2026, 6, 1);

    fn at() -> OffsetDateTime {
        date(AT.0, AT.1, AT.2)
    }

    /// The root's CRL listing `revoked`, issued 2026-05-01.
    fn crl(root: &TestRoot, revoked: &[RevokedCert]) -> Vec<u8> {
        make_crl(&root.der, &root.key, 7, date(2026, 5, 1), date(2026, 5, 8), revoked).unwrap()
    }

    fn validate(
        leaf: &[u8],
        inters: &[Vec<u8>],
        root: &TestRoot,
        crls: &[Vec<u8>],
    ) -> Result<ValidatedChain, ChainError> {
        validate_seal_chain(leaf, inters, std::slice::from_ref(&root.der), crls, at())
    }

    /// A leaf made with rcgen directly, issued by `issuer` (certificate + key).
    fn custom_leaf(
        issuer_der: &[u8],
        issuer_key: &PrivateKey,
        edit: impl FnOnce(&mut CertificateParams),
    ) -> Issued {
        let key = PrivateKey::generate(issuer_key.algorithm(), &rng()).unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "测试");
        params.not_before = date(2026, 1, 1);
        params.not_after = date(2027, 1, 1);
        params.serial_number = Some(SerialNumber::from_slice(&[0x33; 16]));
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::Other(vec![1, 3, 6, 1, 5, 5, 7, 3, 36])];
        params.use_authority_key_identifier_extension = true;
        params.key_identifier_method = KeyIdMethod::Sha256;
        edit(&mut params);
        let issuer_cert = parse_cert(issuer_der).unwrap();
        let issuer =
            issuer_for(&issuer_cert, crate::pki::rcgen_key::Signer::new(issuer_key).unwrap()).unwrap();
        let subject_key =
            crate::pki::rcgen_key::SubjectKey::from_spki_der(&key.public_key_spki_der()).unwrap();
        let der = params.signed_by(&subject_key, &issuer).unwrap().der().to_vec();
        Issued { key, der }
    }

    #[test]
    fn seal_certs_of_both_algorithms_validate() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let chain = validate(&seal.der, &[], &root, &[crl(&root, &[])]).unwrap();
            assert_eq!(chain.leaf.algorithm, alg);
            assert_eq!(chain.leaf.seal_id.as_deref(), Some("SEAL-0001"));
            assert_eq!(chain.path.len(), 2);
            assert_eq!(chain.path[0], chain.leaf);
            assert!(chain.path[1].is_ca);
            assert_eq!(chain.path[1].key_id, root.key.key_id());
        }
    }

    #[test]
    fn unknown_issuer() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        // Another platform's root, and a same-named root with another key.
        for other in [TestRoot::named(Algorithm::Ed25519, "别的平台"), TestRoot::new(Algorithm::Ed25519)]
        {
            let err = validate(&seal.der, &[], &other, &[crl(&root, &[])]).unwrap_err();
            assert_eq!(err, ChainError::UnknownIssuer);
            assert_eq!(err.code(), "unknown_issuer");
        }
    }

    #[test]
    fn bad_signature() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let mut der = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1)).der;
            // The signature BIT STRING ends the certificate: flip its last byte.
            let last = der.len() - 1;
            der[last] ^= 0x01;
            let err = validate(&der, &[], &root, &[crl(&root, &[])]).unwrap_err();
            assert_eq!(err, ChainError::BadSignature, "{alg}");
            assert_eq!(err.code(), "bad_signature");
        }
    }

    #[test]
    fn not_yet_valid_and_expired() {
        let root = TestRoot::new(Algorithm::P256);
        let crls = [crl(&root, &[])];
        let future = root.seal(SEAL_SERIAL, date(2026, 7, 1), date(2028, 1, 1));
        let err = validate(&future.der, &[], &root, &crls).unwrap_err();
        assert_eq!(err, ChainError::NotYetValid { not_before: date(2026, 7, 1) });
        assert_eq!(err.code(), "not_yet_valid");
        assert!(err.to_string().contains("2026-07-01T00:00:00Z"), "{err}");

        let past = root.seal(SEAL_SERIAL, date(2025, 1, 1), date(2026, 1, 1));
        let err = validate(&past.der, &[], &root, &crls).unwrap_err();
        assert_eq!(err, ChainError::Expired { not_after: date(2026, 1, 1) });
        assert_eq!(err.code(), "expired");
    }

    #[test]
    fn revoked_only_from_the_revocation_date() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        let revoked_before = [RevokedCert {
            serial: SEAL_SERIAL.to_vec(),
            revoked_at: date(2026, 3, 1),
            reason: RevocationReason::KeyCompromise,
        }];
        let err = validate(&seal.der, &[], &root, &[crl(&root, &revoked_before)]).unwrap_err();
        assert_eq!(
            err,
            ChainError::Revoked { revoked_at: date(2026, 3, 1), reason: RevocationReason::KeyCompromise }
        );
        assert_eq!(err.code(), "revoked");
        assert!(err.to_string().contains("key-compromise"), "{err}");

        // Revoked after `at` (a CRL issued before `at` announcing a future revocation date
        // is odd but legal): the seal was still good at `at`.
        let revoked_later = [RevokedCert {
            serial: SEAL_SERIAL.to_vec(),
            revoked_at: date(2026, 9, 1),
            reason: RevocationReason::Superseded,
        }];
        validate(&seal.der, &[], &root, &[crl(&root, &revoked_later)]).unwrap();

        // Another serial revoked: not us.
        let other = [RevokedCert { serial: vec![0x01, 0x02], ..revoked_before[0].clone() }];
        validate(&seal.der, &[], &root, &[crl(&root, &other)]).unwrap();

        // An expired CRL (nextUpdate < at) is still used.
        let stale =
            make_crl(&root.der, &root.key, 3, date(2026, 4, 1), date(2026, 4, 8), &revoked_before).unwrap();
        assert!(matches!(validate(&seal.der, &[], &root, &[stale]), Err(ChainError::Revoked { .. })));
    }

    #[test]
    fn wrong_key_usage_and_wrong_eku() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let crls = [crl(&root, &[])];
        let enc_only = custom_leaf(&root.der, &root.key, |p| {
            p.key_usages = vec![KeyUsagePurpose::KeyEncipherment];
        });
        let err = validate(&enc_only.der, &[], &root, &crls).unwrap_err();
        assert_eq!(err, ChainError::WrongKeyUsage);
        assert_eq!(err.code(), "wrong_key_usage");

        let no_ku = custom_leaf(&root.der, &root.key, |p| p.key_usages.clear());
        assert_eq!(validate(&no_ku.der, &[], &root, &crls).unwrap_err(), ChainError::WrongKeyUsage);

        let tls = custom_leaf(&root.der, &root.key, |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        });
        let err = validate(&tls.der, &[], &root, &crls).unwrap_err();
        assert_eq!(err, ChainError::WrongExtendedKeyUsage);
        assert_eq!(err.code(), "wrong_extended_key_usage");

        let any = custom_leaf(&root.der, &root.key, |p| {
            p.extended_key_usages = vec![ExtendedKeyUsagePurpose::Any];
        });
        assert_eq!(validate(&any.der, &[], &root, &crls).unwrap_err(), ChainError::WrongExtendedKeyUsage);

        // contentCommitment alone is enough; the custom leaf otherwise validates.
        let cc = custom_leaf(&root.der, &root.key, |p| {
            p.key_usages = vec![KeyUsagePurpose::ContentCommitment];
        });
        validate(&cc.der, &[], &root, &crls).unwrap();
    }

    #[test]
    fn leaf_used_as_issuer_is_not_a_ca() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        let under_seal = custom_leaf(&seal.der, &seal.key, |_| {});
        let err = validate(&under_seal.der, std::slice::from_ref(&seal.der), &root, &[crl(&root, &[])])
            .unwrap_err();
        assert_eq!(err, ChainError::NotCa);
        assert_eq!(err.code(), "not_ca");
    }

    #[test]
    fn root_pathlen_zero_forbids_an_intermediate() {
        let root = TestRoot::new(Algorithm::P256);
        let inter = custom_leaf(&root.der, &root.key, |p| {
            p.distinguished_name = rcgen::DistinguishedName::new();
            p.distinguished_name.push(DnType::CommonName, "Intermediate CA");
            p.is_ca = IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
            p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            p.extended_key_usages.clear();
            p.not_after = date(2030, 1, 1);
        });
        let seal = issue_seal_cert(
            &SealSubject { ..subject() },
            &PrivateKey::generate(Algorithm::P256, &rng()).unwrap().public_key_spki_der(),
            &inter.der,
            &inter.key,
            CRL_URL,
            date(2026, 1, 1),
            date(2027, 1, 1),
            SEAL_SERIAL,
        )
        .unwrap();
        let inter_crl = make_crl(&inter.der, &inter.key, 1, date(2026, 5, 1), date(2026, 5, 8), &[]).unwrap();
        let err = validate(&seal, std::slice::from_ref(&inter.der), &root, &[crl(&root, &[]), inter_crl])
            .unwrap_err();
        assert_eq!(err, ChainError::PathTooLong);
        assert_eq!(err.code(), "path_too_long");
    }

    #[test]
    fn no_revocation_info() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        let err = validate(&seal.der, &[], &root, &[]).unwrap_err();
        assert_eq!(err, ChainError::NoRevocationInfo);
        assert_eq!(err.code(), "no_revocation_info");
        // Another root's CRL does not count.
        let other = TestRoot::named(Algorithm::Ed25519, "别的平台");
        assert_eq!(
            validate(&seal.der, &[], &root, &[crl(&other, &[])]).unwrap_err(),
            ChainError::NoRevocationInfo
        );
    }

    #[test]
    fn crl_signed_by_the_wrong_key_is_invalid() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        // Same issuer name and key identifier as the root, signed by another key.
        let impostor = PrivateKey::generate(Algorithm::Ed25519, &rng()).unwrap();
        let root_cert = parse_cert(&root.der).unwrap();
        let issuer = issuer_for(&root_cert, crate::pki::rcgen_key::Signer::new(&impostor).unwrap()).unwrap();
        let forged = rcgen::CertificateRevocationListParams {
            this_update: date(2026, 5, 1),
            next_update: date(2026, 5, 8),
            crl_number: SerialNumber::from(9u64),
            issuing_distribution_point: None,
            revoked_certs: vec![],
            key_identifier_method: KeyIdMethod::PreSpecified(
                crate::pki::cert::subject_key_id(&root_cert).unwrap().to_vec(),
            ),
        }
        .signed_by(&issuer)
        .unwrap()
        .der()
        .to_vec();
        let err = validate(&seal.der, &[], &root, &[forged]).unwrap_err();
        assert!(matches!(err, ChainError::CrlInvalid(ref m) if m.contains("signature")), "{err}");
        assert_eq!(err.code(), "crl_invalid");

        // A CRL issued after `at` cannot vouch for `at`.
        let later = make_crl(&root.der, &root.key, 8, date(2026, 7, 1), date(2026, 7, 8), &[]).unwrap();
        assert!(matches!(
            validate(&seal.der, &[], &root, std::slice::from_ref(&later)),
            Err(ChainError::CrlInvalid(_))
        ));
        // …but with a good CRL beside it, validation passes.
        validate(&seal.der, &[], &root, &[later, crl(&root, &[])]).unwrap();
    }

    #[test]
    fn malformed_inputs() {
        let root = TestRoot::new(Algorithm::Ed25519);
        let err = validate(b"not a certificate", &[], &root, &[]).unwrap_err();
        assert!(matches!(err, ChainError::Malformed(_)));
        assert_eq!(err.code(), "malformed");
        let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
        let mut trailing = seal.der.clone();
        trailing.push(0);
        assert!(matches!(validate(&trailing, &[], &root, &[crl(&root, &[])]), Err(ChainError::Malformed(_))));
    }
}
