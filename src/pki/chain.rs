//! Seal-chain validation: seal certificate → (intermediates) → trusted root, with CRLs.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;

use super::cert::{
    CertInfo, DOCUMENT_SIGNING_EKU, authority_key_id, can_sign_certs, cert_info_parsed, parse_cert,
    subject_key_id,
};
use super::crl::{RevocationReason, parse_crl};
use super::fmt_time;

/// The most certificates a path may hold, leaf and root included.
pub const MAX_PATH_CERTS: usize = 6;

/// Certificate extensions the validator understands; any other extension marked critical
/// makes the certificate unusable (RFC 5280 §4.2).
const KNOWN_CRITICAL_EXTENSIONS: [&str; 7] = [
    "2.5.29.15", // keyUsage
    "2.5.29.19", // basicConstraints
    "2.5.29.37", // extKeyUsage
    "2.5.29.14", // subjectKeyIdentifier
    "2.5.29.35", // authorityKeyIdentifier
    "2.5.29.31", // cRLDistributionPoints
    "2.5.29.17", // subjectAltName
];
/// CRL extensions the validator understands (CRL number, authority key id).
const KNOWN_CRITICAL_CRL_EXTENSIONS: [&str; 2] = ["2.5.29.20", "2.5.29.35"];
/// CRL entry extensions the validator understands (reason code, invalidity date).
const KNOWN_CRITICAL_ENTRY_EXTENSIONS: [&str; 2] = ["2.5.29.21", "2.5.29.24"];

/// Why a seal certificate chain does not validate. [`ChainError::code`] gives a stable
/// machine code for APIs and reports.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainError {
    /// No trusted root (and no supplied intermediate) issued a certificate of the chain.
    #[error("no trusted root or supplied intermediate certificate issued this certificate")]
    UnknownIssuer,
    /// A certificate's signature does not verify with its issuer's public key.
    #[error("a certificate signature does not verify with its issuer's public key")]
    BadSignature,
    /// A certificate of the chain is not valid yet at the validation time.
    #[error("a certificate in the chain is not valid before {}", fmt_time(.not_before))]
    NotYetValid {
        /// Start of that certificate's validity.
        not_before: OffsetDateTime,
    },
    /// A certificate of the chain had expired at the validation time.
    #[error("a certificate in the chain expired at {}", fmt_time(.not_after))]
    Expired {
        /// End of that certificate's validity.
        not_after: OffsetDateTime,
    },
    /// A certificate of the chain was revoked at or before the validation time.
    #[error("a certificate in the chain was revoked at {} (reason: {reason})", fmt_time(.revoked_at))]
    Revoked {
        /// When it was revoked.
        revoked_at: OffsetDateTime,
        /// Why.
        reason: RevocationReason,
    },
    /// The seal certificate's key usage allows neither digitalSignature nor
    /// contentCommitment (or it has no key usage).
    #[error("the seal certificate's key usage allows neither digitalSignature nor contentCommitment")]
    WrongKeyUsage,
    /// The seal certificate's extended key usage lacks document signing.
    #[error("the seal certificate's extended key usage lacks document signing (1.3.6.1.5.5.7.3.36)")]
    WrongExtendedKeyUsage,
    /// An issuing certificate is not a CA (basicConstraints cA and keyUsage keyCertSign).
    #[error(
        "an issuing certificate is not a certificate authority (needs basicConstraints cA=TRUE and keyUsage keyCertSign)"
    )]
    NotCa,
    /// The chain is longer than a CA's pathLenConstraint (or [`MAX_PATH_CERTS`]) allows.
    #[error("the chain has more intermediate CAs than a pathLenConstraint allows")]
    PathTooLong,
    /// No CRL issued by the issuer of a non-root certificate was supplied.
    #[error("no CRL from the certificate's issuer was supplied: revocation status unknown")]
    NoRevocationInfo,
    /// The issuer's CRLs that were supplied cannot be used (bad signature, issued after the
    /// validation time, unsupported critical extension, unparsable).
    #[error("the issuer's CRL cannot be used: {0}")]
    CrlInvalid(String),
    /// A certificate cannot be parsed or uses something unsupported.
    #[error("malformed certificate: {0}")]
    Malformed(String),
}

impl ChainError {
    /// A stable snake_case code, e.g. `"unknown_issuer"`.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::UnknownIssuer => "unknown_issuer",
            ChainError::BadSignature => "bad_signature",
            ChainError::NotYetValid { .. } => "not_yet_valid",
            ChainError::Expired { .. } => "expired",
            ChainError::Revoked { .. } => "revoked",
            ChainError::WrongKeyUsage => "wrong_key_usage",
            ChainError::WrongExtendedKeyUsage => "wrong_extended_key_usage",
            ChainError::NotCa => "not_ca",
            ChainError::PathTooLong => "path_too_long",
            ChainError::NoRevocationInfo => "no_revocation_info",
            ChainError::CrlInvalid(_) => "crl_invalid",
            ChainError::Malformed(_) => "malformed",
        }
    }
}

/// A chain that validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedChain {
    /// The seal certificate.
    pub leaf: CertInfo,
    /// Every certificate of the path, from the seal certificate to the trusted root.
    pub path: Vec<CertInfo>,
}

/// Validates a seal certificate at time `at` against `trusted_roots`, with optional
/// `intermediates` and the `crls` to check revocation with (all DER).
///
/// Checks, in this order, answering the first failure:
/// 1. parsing of every certificate given (`Malformed`);
/// 2. path building by issuer name and authority/subject key identifier, preferring a
///    trusted root, then an intermediate, each candidate's signature verified
///    (`UnknownIssuer`, `BadSignature`, `PathTooLong` past [`MAX_PATH_CERTS`]); a
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

/// How revocation is judged when a signature made at some past time is validated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationPolicy {
    /// CRLs whose thisUpdate is after this time are not used (normally: now).
    pub crls_issued_until: OffsetDateTime,
    /// Whether something other than the signer's own claim proves the signature existed at
    /// the signing time (a register entry or a timestamp). Without that proof a seal
    /// revoked LATER for key compromise (or an unspecified reason) fails too: whoever
    /// holds a compromised key can backdate a signature.
    pub signing_time_proven: bool,
    /// Whether revocation is checked at all. A caller that judges revocation itself (with
    /// [`revocation_status`]) validates the rest of the chain with `false`.
    pub check_revocation: bool,
}

/// Whether a revocation at `revoked_at` for `reason` makes a signature made at
/// `signing_time` fail: revoked at or before it, or later for key compromise (or no stated
/// reason) when nothing but the signer's claim dates the signature.
pub fn revocation_applies(
    revoked_at: OffsetDateTime,
    reason: RevocationReason,
    signing_time: OffsetDateTime,
    signing_time_proven: bool,
) -> bool {
    let compromise = matches!(reason, RevocationReason::KeyCompromise | RevocationReason::Unspecified);
    revoked_at <= signing_time || (!signing_time_proven && compromise)
}

/// What usable CRLs say about one certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RevocationStatus {
    /// The earliest revocation listed for it, if any.
    pub revoked: Option<(OffsetDateTime, RevocationReason)>,
    /// thisUpdate of the newest usable CRL: the time up to which the answer is known.
    pub known_until: OffsetDateTime,
}

/// Reads the revocation status of `cert_der` (issued by `issuer_der`) from the `crls` that
/// are usable: issued by that issuer, signature verified, thisUpdate ≤ `crls_issued_until`,
/// no unknown critical extension. `NoRevocationInfo` or `CrlInvalid` when none is.
pub fn revocation_status(
    cert_der: &[u8],
    issuer_der: &[u8],
    crls: &[Vec<u8>],
    crls_issued_until: OffsetDateTime,
) -> Result<RevocationStatus, ChainError> {
    let cert = parse_cert(cert_der).map_err(|e| ChainError::Malformed(format!("seal: {e}")))?;
    let issuer = parse_cert(issuer_der).map_err(|e| ChainError::Malformed(format!("issuer: {e}")))?;
    let parsed: Vec<Result<CertificateRevocationList<'_>, String>> =
        crls.iter().map(|d| parse_crl(d)).collect();
    let usable = usable_crls(&issuer, &parsed, crls_issued_until)?;
    let known_until =
        usable.iter().map(|c| c.last_update().to_datetime()).max().ok_or(ChainError::NoRevocationInfo)?;
    Ok(RevocationStatus { revoked: listed_revocation(&cert, &usable)?, known_until })
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

pub(super) fn parse_all<'a>(ders: &'a [Vec<u8>], what: &str) -> Result<Vec<X509Certificate<'a>>, ChainError> {
    ders.iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d).map_err(|e| ChainError::Malformed(format!("{what} {i}: {e}"))))
        .collect()
}

/// Builds leaf → … → trusted root. Returns clones of the parsed certificates (cheap: they
/// borrow the caller's DER).
pub(super) fn build_path<'a>(
    leaf: &X509Certificate<'a>,
    inters: &[X509Certificate<'a>],
    roots: &[X509Certificate<'a>],
) -> Result<Vec<X509Certificate<'a>>, ChainError> {
    let mut path = vec![leaf.clone()];
    loop {
        let Some(current) = path.last() else {
            return Err(ChainError::Malformed("empty path".to_owned()));
        };
        if path.len() >= MAX_PATH_CERTS {
            return Err(ChainError::PathTooLong);
        }
        let names_issuer = |c: &&X509Certificate<'a>| {
            c.subject().as_raw() == current.issuer().as_raw()
                && match (authority_key_id(current), subject_key_id(c)) {
                    (Some(aki), Some(ski)) => aki == ski,
                    _ => true,
                }
        };
        let not_in_path = |c: &&X509Certificate<'a>| !path.iter().any(|p| p.as_raw() == c.as_raw());
        let root_candidates: Vec<&X509Certificate<'a>> = roots.iter().filter(names_issuer).collect();
        let inter_candidates: Vec<&X509Certificate<'a>> =
            inters.iter().filter(names_issuer).filter(not_in_path).collect();
        if root_candidates.is_empty() && inter_candidates.is_empty() {
            return Err(ChainError::UnknownIssuer);
        }
        let verifies = |c: &&&X509Certificate<'a>| current.verify_signature(Some(c.public_key())).is_ok();
        if let Some(root) = root_candidates.iter().find(verifies) {
            let root = (*root).clone();
            if root.subject().as_raw() == root.issuer().as_raw() && root.verify_signature(None).is_err() {
                return Err(ChainError::BadSignature);
            }
            path.push(root);
            return Ok(path);
        }
        match inter_candidates.iter().find(verifies) {
            Some(next) => {
                let next = (*next).clone();
                path.push(next);
            }
            None => return Err(ChainError::BadSignature),
        }
    }
}

pub(super) fn check_critical_extensions(cert: &X509Certificate<'_>) -> Result<(), ChainError> {
    for ext in cert.extensions() {
        let oid = ext.oid.to_id_string();
        if ext.critical && !KNOWN_CRITICAL_EXTENSIONS.contains(&oid.as_str()) {
            return Err(ChainError::Malformed(format!("unsupported critical extension {oid}")));
        }
    }
    // Duplicate or unparsable core extensions are errors, not "absent".
    cert.basic_constraints().map_err(|e| ChainError::Malformed(format!("basicConstraints: {e}")))?;
    cert.key_usage().map_err(|e| ChainError::Malformed(format!("keyUsage: {e}")))?;
    cert.extended_key_usage().map_err(|e| ChainError::Malformed(format!("extKeyUsage: {e}")))?;
    Ok(())
}

/// Issuers are CAs with keyCertSign; pathLenConstraint bounds the intermediates below.
pub(super) fn check_ca_constraints(path: &[X509Certificate<'_>]) -> Result<(), ChainError> {
    for (i, cert) in path.iter().enumerate().skip(1) {
        if !can_sign_certs(cert) {
            return Err(ChainError::NotCa);
        }
        // Certificates below `cert` other than the leaf are intermediate CAs.
        let intermediates_below = i - 1;
        if let Ok(Some(bc)) = cert.basic_constraints()
            && let Some(max) = bc.value.path_len_constraint
            && intermediates_below > max as usize
        {
            return Err(ChainError::PathTooLong);
        }
    }
    Ok(())
}

pub(super) fn check_validity(cert: &X509Certificate<'_>, at: OffsetDateTime) -> Result<(), ChainError> {
    let not_before = cert.validity().not_before.to_datetime();
    let not_after = cert.validity().not_after.to_datetime();
    if at < not_before {
        return Err(ChainError::NotYetValid { not_before });
    }
    if at > not_after {
        return Err(ChainError::Expired { not_after });
    }
    Ok(())
}

fn check_leaf_usage(leaf: &X509Certificate<'_>) -> Result<(), ChainError> {
    let ku_ok = matches!(
        leaf.key_usage(),
        Ok(Some(ku)) if ku.value.digital_signature() || ku.value.non_repudiation()
    );
    if !ku_ok {
        return Err(ChainError::WrongKeyUsage);
    }
    let eku_ok = matches!(
        leaf.extended_key_usage(),
        Ok(Some(eku)) if eku.value.other.iter().any(|o| o.to_id_string() == DOCUMENT_SIGNING_EKU)
    );
    if !eku_ok {
        return Err(ChainError::WrongExtendedKeyUsage);
    }
    Ok(())
}

/// Checks `cert` against the CRLs issued by `issuer`.
fn check_revocation(
    cert: &X509Certificate<'_>,
    issuer: &X509Certificate<'_>,
    crls: &[Result<CertificateRevocationList<'_>, String>],
    at: OffsetDateTime,
    policy: RevocationPolicy,
) -> Result<(), ChainError> {
    if !policy.check_revocation {
        return Ok(());
    }
    let usable = usable_crls(issuer, crls, policy.crls_issued_until)?;
    match listed_revocation(cert, &usable)? {
        Some((revoked_at, reason))
            if revocation_applies(revoked_at, reason, at, policy.signing_time_proven) =>
        {
            Err(ChainError::Revoked { revoked_at, reason })
        }
        _ => Ok(()),
    }
}

/// The CRLs of `issuer` that can be used: signature verified, issued by
/// `crls_issued_until`, no unknown critical extension.
fn usable_crls<'c, 'a>(
    issuer: &X509Certificate<'_>,
    crls: &'c [Result<CertificateRevocationList<'a>, String>],
    crls_issued_until: OffsetDateTime,
) -> Result<Vec<&'c CertificateRevocationList<'a>>, ChainError> {
    let issuer_kid = subject_key_id(issuer);
    let mut problem: Option<String> = None;
    let mut usable = Vec::new();
    for crl in crls {
        let crl = match crl {
            Ok(crl) => crl,
            Err(e) => {
                problem.get_or_insert_with(|| format!("unparsable CRL: {e}"));
                continue;
            }
        };
        if crl.issuer().as_raw() != issuer.subject().as_raw() {
            continue;
        }
        let crl_kid = crl.extensions().iter().find_map(|ext| match ext.parsed_extension() {
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(aki) => {
                aki.key_identifier.as_ref().map(|k| k.0)
            }
            _ => None,
        });
        if let (Some(a), Some(b)) = (crl_kid, issuer_kid)
            && a != b
        {
            continue;
        }
        if crl.verify_signature(issuer.public_key()).is_err() {
            problem = Some("its signature does not verify with the issuer's key".to_owned());
            continue;
        }
        let this_update = crl.last_update().to_datetime();
        if this_update > crls_issued_until {
            problem.get_or_insert_with(|| {
                format!(
                    "it was issued at {}, after the validation time {}",
                    fmt_time(&this_update),
                    fmt_time(&crls_issued_until)
                )
            });
            continue;
        }
        if let Some(ext) = crl
            .extensions()
            .iter()
            .find(|e| e.critical && !KNOWN_CRITICAL_CRL_EXTENSIONS.contains(&e.oid.to_id_string().as_str()))
        {
            problem = Some(format!("unsupported critical CRL extension {}", ext.oid));
            continue;
        }
        usable.push(crl);
    }
    if usable.is_empty() {
        return Err(problem.map_or(ChainError::NoRevocationInfo, ChainError::CrlInvalid));
    }
    Ok(usable)
}

/// The earliest revocation of `cert` that the usable CRLs list.
fn listed_revocation(
    cert: &X509Certificate<'_>,
    usable: &[&CertificateRevocationList<'_>],
) -> Result<Option<(OffsetDateTime, RevocationReason)>, ChainError> {
    let serial = &cert.tbs_certificate.serial;
    let mut revoked: Option<(OffsetDateTime, RevocationReason)> = None;
    for crl in usable {
        for entry in crl.iter_revoked_certificates() {
            if entry.serial() != serial {
                continue;
            }
            if let Some(ext) = entry.extensions().iter().find(|e| {
                e.critical && !KNOWN_CRITICAL_ENTRY_EXTENSIONS.contains(&e.oid.to_id_string().as_str())
            }) {
                return Err(ChainError::CrlInvalid(format!(
                    "unsupported critical CRL entry extension {}",
                    ext.oid
                )));
            }
            let revoked_at = entry.revocation_date.to_datetime();
            let reason = entry
                .reason_code()
                .map_or(RevocationReason::Unspecified, |(_, c)| RevocationReason::from_code(c.0));
            if revoked.is_none_or(|(t, _)| revoked_at < t) {
                revoked = Some((revoked_at, reason));
            }
        }
    }
    Ok(revoked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::cert::{issuer_for, parse_cert};
    use crate::pki::test_support::*;
    use crate::pki::{Algorithm, PrivateKey, RevokedCert, SealSubject, issue_seal_cert, make_crl};
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
