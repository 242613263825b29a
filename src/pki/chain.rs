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
    use der::asn1::ObjectIdentifier;
    use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};

    use super::*;
    use crate::pki::cert::{DOCUMENT_SIGNING_EKU, issuer_of, parse_cert};
    use crate::pki::crl::build_crl;
    use crate::pki::name::{NameBuilder, attr};
    use crate::pki::profile::{CertSpec, build_cert};
    use crate::pki::test_support::*;
    use crate::pki::x509_key::{SubjectKey, X509Signer};
    use crate::pki::{
        Algorithm, PrivateKey, RevocationReason, RevokedCert, SealSubject, issue_seal_cert, make_crl,
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

    fn oid(s: &str) -> ObjectIdentifier {
        ObjectIdentifier::new_unwrap(s)
    }

    /// A certificate made with the profile directly (CN=测试, digitalSignature, document
    /// signing, 2026-01-01 .. 2027-01-01, then `edit`), issued by `issuer` (certificate + key).
    fn custom_leaf(issuer_der: &[u8], issuer_key: &PrivateKey, edit: impl FnOnce(&mut CertSpec)) -> Issued {
        let key = PrivateKey::generate(issuer_key.algorithm(), &rng()).unwrap();
        let mut spec = CertSpec {
            subject: NameBuilder::new().utf8(attr::COMMON_NAME, "测试").unwrap().build().unwrap(),
            serial: vec![0x33; 16],
            not_before: date(2026, 1, 1),
            not_after: date(2027, 1, 1),
            basic_constraints: BasicConstraints { ca: false, path_len_constraint: None },
            key_usage: KeyUsages::DigitalSignature.into(),
            extended_key_usage: vec![oid(DOCUMENT_SIGNING_EKU)],
            extended_key_usage_critical: false,
            crl_url: None,
        };
        edit(&mut spec);
        let issuer = issuer_of(&parse_cert(issuer_der).unwrap()).unwrap();
        let subject_key = SubjectKey::from_spki_der(&key.public_key_spki_der()).unwrap();
        let der =
            build_cert(&spec, Some(&issuer), &subject_key, &X509Signer::new(issuer_key).unwrap()).unwrap();
        Issued { key, der }
    }

    #[test]
    fn seal_certs_of_every_algorithm_validate() {
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
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            // Another platform's root, and a same-named root with another key.
            for other in [TestRoot::named(alg, "别的平台"), TestRoot::new(alg)] {
                let err = validate(&seal.der, &[], &other, &[crl(&root, &[])]).unwrap_err();
                assert_eq!(err, ChainError::UnknownIssuer, "{alg}");
                assert_eq!(err.code(), "unknown_issuer");
            }
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
    fn a_root_whose_self_signature_fails_is_a_bad_signature() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            // The root's own signature ends its DER; its key and names are intact, so the
            // seal still chains to it.
            let mut broken = TestRoot { key: root.key.clone(), der: root.der.clone() };
            let last = broken.der.len() - 1;
            broken.der[last] ^= 0x01;
            let err = validate(&seal.der, &[], &broken, &[crl(&root, &[])]).unwrap_err();
            assert_eq!(err, ChainError::BadSignature, "{alg}");
        }
    }

    #[test]
    fn not_yet_valid_and_expired() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let crls = [crl(&root, &[])];
            let future = root.seal(SEAL_SERIAL, date(2026, 7, 1), date(2028, 1, 1));
            let err = validate(&future.der, &[], &root, &crls).unwrap_err();
            assert_eq!(err, ChainError::NotYetValid { not_before: date(2026, 7, 1) }, "{alg}");
            assert_eq!(err.code(), "not_yet_valid");
            assert!(err.to_string().contains("2026-07-01T00:00:00Z"), "{err}");

            let past = root.seal(SEAL_SERIAL, date(2025, 1, 1), date(2026, 1, 1));
            let err = validate(&past.der, &[], &root, &crls).unwrap_err();
            assert_eq!(err, ChainError::Expired { not_after: date(2026, 1, 1) }, "{alg}");
            assert_eq!(err.code(), "expired");
        }
    }

    #[test]
    fn revoked_only_from_the_revocation_date() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let revoked_before = [RevokedCert {
                serial: SEAL_SERIAL.to_vec(),
                revoked_at: date(2026, 3, 1),
                reason: RevocationReason::KeyCompromise,
            }];
            let err = validate(&seal.der, &[], &root, &[crl(&root, &revoked_before)]).unwrap_err();
            assert_eq!(
                err,
                ChainError::Revoked { revoked_at: date(2026, 3, 1), reason: RevocationReason::KeyCompromise },
                "{alg}"
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
                make_crl(&root.der, &root.key, 3, date(2026, 4, 1), date(2026, 4, 8), &revoked_before)
                    .unwrap();
            assert!(matches!(validate(&seal.der, &[], &root, &[stale]), Err(ChainError::Revoked { .. })));
        }
    }

    #[test]
    fn wrong_key_usage_and_wrong_eku() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let crls = [crl(&root, &[])];
            let enc_only = custom_leaf(&root.der, &root.key, |p| {
                p.key_usage = KeyUsages::KeyEncipherment.into();
            });
            let err = validate(&enc_only.der, &[], &root, &crls).unwrap_err();
            assert_eq!(err, ChainError::WrongKeyUsage, "{alg}");
            assert_eq!(err.code(), "wrong_key_usage");

            let no_ku = custom_leaf(&root.der, &root.key, |p| p.key_usage = Default::default());
            assert_eq!(validate(&no_ku.der, &[], &root, &crls).unwrap_err(), ChainError::WrongKeyUsage);

            // id-kp-serverAuth.
            let tls = custom_leaf(&root.der, &root.key, |p| {
                p.extended_key_usage = vec![oid("1.3.6.1.5.5.7.3.1")];
            });
            let err = validate(&tls.der, &[], &root, &crls).unwrap_err();
            assert_eq!(err, ChainError::WrongExtendedKeyUsage, "{alg}");
            assert_eq!(err.code(), "wrong_extended_key_usage");

            // anyExtendedKeyUsage.
            let any = custom_leaf(&root.der, &root.key, |p| {
                p.extended_key_usage = vec![oid("2.5.29.37.0")];
            });
            assert_eq!(validate(&any.der, &[], &root, &crls).unwrap_err(), ChainError::WrongExtendedKeyUsage);

            // contentCommitment alone is enough; the custom leaf otherwise validates.
            let cc = custom_leaf(&root.der, &root.key, |p| {
                p.key_usage = KeyUsages::NonRepudiation.into();
            });
            validate(&cc.der, &[], &root, &crls).unwrap();
        }
    }

    #[test]
    fn leaf_used_as_issuer_is_not_a_ca() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let under_seal = custom_leaf(&seal.der, &seal.key, |_| {});
            let err = validate(&under_seal.der, std::slice::from_ref(&seal.der), &root, &[crl(&root, &[])])
                .unwrap_err();
            assert_eq!(err, ChainError::NotCa, "{alg}");
            assert_eq!(err.code(), "not_ca");
        }
    }

    #[test]
    fn root_pathlen_zero_forbids_an_intermediate() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let inter = custom_leaf(&root.der, &root.key, |p| {
                p.subject =
                    NameBuilder::new().utf8(attr::COMMON_NAME, "Intermediate CA").unwrap().build().unwrap();
                p.basic_constraints = BasicConstraints { ca: true, path_len_constraint: None };
                p.key_usage = KeyUsages::KeyCertSign | KeyUsages::CRLSign;
                p.extended_key_usage.clear();
                p.not_after = date(2030, 1, 1);
            });
            let seal = issue_seal_cert(
                &SealSubject { ..subject() },
                &PrivateKey::generate(alg, &rng()).unwrap().public_key_spki_der(),
                &inter.der,
                &inter.key,
                CRL_URL,
                date(2026, 1, 1),
                date(2027, 1, 1),
                SEAL_SERIAL,
            )
            .unwrap();
            let inter_crl =
                make_crl(&inter.der, &inter.key, 1, date(2026, 5, 1), date(2026, 5, 8), &[]).unwrap();
            let err = validate(&seal, std::slice::from_ref(&inter.der), &root, &[crl(&root, &[]), inter_crl])
                .unwrap_err();
            assert_eq!(err, ChainError::PathTooLong, "{alg}");
            assert_eq!(err.code(), "path_too_long");
        }
    }

    #[test]
    fn no_revocation_info() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let err = validate(&seal.der, &[], &root, &[]).unwrap_err();
            assert_eq!(err, ChainError::NoRevocationInfo, "{alg}");
            assert_eq!(err.code(), "no_revocation_info");
            // Another root's CRL does not count.
            let other = TestRoot::named(alg, "别的平台");
            assert_eq!(
                validate(&seal.der, &[], &root, &[crl(&other, &[])]).unwrap_err(),
                ChainError::NoRevocationInfo
            );
        }
    }

    #[test]
    fn crl_signed_by_the_wrong_key_is_invalid() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            // Same issuer name and key identifier as the root, signed by another key.
            let impostor = PrivateKey::generate(alg, &rng()).unwrap();
            let root_as_issuer = issuer_of(&parse_cert(&root.der).unwrap()).unwrap();
            let forged = build_crl(
                &root_as_issuer,
                &X509Signer::new(&impostor).unwrap(),
                9,
                date(2026, 5, 1),
                date(2026, 5, 8),
                &[],
            )
            .unwrap();
            let err = validate(&seal.der, &[], &root, &[forged]).unwrap_err();
            assert!(matches!(err, ChainError::CrlInvalid(ref m) if m.contains("signature")), "{err}");
            assert_eq!(err.code(), "crl_invalid");

            // A flipped bit in the root's own CRL: its signature fails too.
            let mut flipped = crl(&root, &[]);
            let last = flipped.len() - 1;
            flipped[last] ^= 0x01;
            assert!(matches!(
                validate(&seal.der, &[], &root, &[flipped]),
                Err(ChainError::CrlInvalid(ref m)) if m.contains("signature")
            ));

            // A CRL issued after `at` cannot vouch for `at`.
            let later = make_crl(&root.der, &root.key, 8, date(2026, 7, 1), date(2026, 7, 8), &[]).unwrap();
            assert!(matches!(
                validate(&seal.der, &[], &root, std::slice::from_ref(&later)),
                Err(ChainError::CrlInvalid(_))
            ));
            // …but with a good CRL beside it, validation passes.
            validate(&seal.der, &[], &root, &[later, crl(&root, &[])]).unwrap();
        }
    }

    #[test]
    fn malformed_inputs() {
        for alg in Algorithm::ALL {
            let root = TestRoot::new(alg);
            let err = validate(b"not a certificate", &[], &root, &[]).unwrap_err();
            assert!(matches!(err, ChainError::Malformed(_)));
            assert_eq!(err.code(), "malformed");
            let seal = root.seal(SEAL_SERIAL, date(2026, 1, 1), date(2028, 1, 1));
            let mut trailing = seal.der.clone();
            trailing.push(0);
            assert!(matches!(
                validate(&trailing, &[], &root, &[crl(&root, &[])]),
                Err(ChainError::Malformed(_))
            ));
        }
    }
}
