//! Certificates the platform's roots issue to the platform's own services (not to seals):
//! one profile, told apart by subject CN and extended key usage — the access log's
//! checkpoint signer (`audit_cert.rs`, timeStamping), the electronic seal maker
//! (`seal_maker.rs`, none) and the time-stamping authority (`tsa_cert.rs`, timeStamping
//! critical, with the root's CRL distribution point) — and their validation up to a
//! trusted root.

use der::asn1::ObjectIdentifier;
use time::OffsetDateTime;
use x509_cert::ext::pkix::{BasicConstraints, KeyUsages};
use x509_parser::certificate::X509Certificate;

use super::cert::{
    can_sign_certs, cert_info_parsed, check_crl_url, check_issuer_key, check_validity, issuer_of, parse_cert,
};
use super::chain_error::{ChainError, ValidatedChain};
use super::error::PkiError;
use super::keys::PrivateKey;
use super::name::{NameBuilder, attr, check_text};
use super::profile::{CertSpec, build_cert};
use super::x509_key::{SubjectKey, X509Signer};

/// What a service certificate is for.
#[derive(Debug, Clone, Copy)]
pub(super) struct ServiceRole {
    /// The subject CN.
    pub(super) cn: &'static str,
    /// The one extended key usage; `None`: the certificate has no extendedKeyUsage and
    /// is recognised by its exact subject CN instead.
    pub(super) eku: Option<ObjectIdentifier>,
    /// Whether the extended key usage is critical and the only purpose (a time-stamping
    /// authority, RFC 3161 §2.3); validation then requires both.
    pub(super) eku_critical: bool,
    /// How errors name the key (`"checkpoint signer key"`).
    pub(super) key_field: &'static str,
}

/// Issues a service certificate (DER) for `public_key_spki_der`, signed by `issuer_key`
/// on behalf of `issuer_cert_der` (a root).
///
/// Subject `C=CN, O=<platform name>, CN=<role CN>`; basicConstraints CA:FALSE; keyUsage
/// critical digitalSignature; extendedKeyUsage the role's (if it has one); the CRL
/// distribution point `crl_url` if given; authority and subject key identifiers; validity
/// cut to the issuer's. Refused: the issuer's own key as the subject key, an issuer key that
/// does not match its certificate, an issuer that is not a CA, a validity outside the
/// issuer's, a `crl_url` that is not an absolute ASCII URI.
#[allow(clippy::too_many_arguments)] // the role plus the arguments of every issuing function
pub(super) fn issue_service_cert(
    role: ServiceRole,
    platform_name: &str,
    public_key_spki_der: &[u8],
    issuer_cert_der: &[u8],
    issuer_key: &PrivateKey,
    crl_url: Option<&str>,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    serial: [u8; 16],
) -> Result<Vec<u8>, PkiError> {
    check_text("platform name", platform_name, 64)?;
    crl_url.map(check_crl_url).transpose()?;
    let (not_before, not_after) = check_validity(not_before, not_after)?;
    let subject_key = SubjectKey::from_spki_der(public_key_spki_der)?;
    let issuer_cert = parse_cert(issuer_cert_der).map_err(PkiError::MalformedCertificate)?;
    check_issuer_key(&issuer_cert, issuer_key)?;
    if issuer_key.public_key_spki_der() == public_key_spki_der {
        return Err(PkiError::InvalidField {
            field: role.key_field,
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
        .utf8(attr::COMMON_NAME, role.cn)?
        .build()?;
    let spec = CertSpec {
        subject,
        serial: serial.to_vec(),
        not_before,
        not_after,
        basic_constraints: BasicConstraints { ca: false, path_len_constraint: None },
        key_usage: KeyUsages::DigitalSignature.into(),
        extended_key_usage: role.eku.into_iter().collect(),
        extended_key_usage_critical: role.eku_critical,
        crl_url: crl_url.map(str::to_owned),
    };
    build_cert(&spec, Some(&issuer_of(&issuer_cert)?), &subject_key, &X509Signer::new(issuer_key)?)
}

/// Validates a service certificate at `at` against `trusted_roots`: it chains to one of
/// them (signature, CA constraints, validity of every certificate), is not itself a
/// root, has keyUsage digitalSignature and the role's extended key usage (or, for a role
/// without one, no extendedKeyUsage and the role's CN as its only CN). Revocation is
/// not checked: the roots' CRLs list seals only.
pub(super) fn validate_service_cert(
    role: ServiceRole,
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
    check_usage(&leaf, role)?;
    let infos = path
        .iter()
        .map(|c| cert_info_parsed(c).map_err(|e| ChainError::Malformed(e.to_string())))
        .collect::<Result<Vec<_>, _>>()?;
    let leaf_info = infos.first().cloned().ok_or_else(|| ChainError::Malformed("empty path".to_owned()))?;
    Ok(ValidatedChain { leaf: leaf_info, path: infos })
}

fn check_usage(leaf: &X509Certificate<'_>, role: ServiceRole) -> Result<(), ChainError> {
    if !matches!(leaf.key_usage(), Ok(Some(ku)) if ku.value.digital_signature()) {
        return Err(ChainError::WrongKeyUsage);
    }
    let eku =
        leaf.extended_key_usage().map_err(|e| ChainError::Malformed(format!("extendedKeyUsage: {e}")))?;
    let Some(wanted) = role.eku else {
        let mut cns = leaf.subject().iter_common_name().map(|cn| cn.as_str().ok());
        let only_cn = (cns.next(), cns.next()) == (Some(Some(role.cn)), None);
        return if eku.is_none() && only_cn { Ok(()) } else { Err(ChainError::WrongExtendedKeyUsage) };
    };
    let Some(ext) = eku else {
        return Err(ChainError::WrongExtendedKeyUsage);
    };
    let wanted = wanted.to_string();
    let has = match wanted.as_str() {
        super::audit_cert::TIME_STAMPING_EKU => ext.value.time_stamping,
        _ => ext.value.other.iter().any(|o| o.to_id_string() == wanted),
    };
    if !has {
        return Err(ChainError::WrongExtendedKeyUsage);
    }
    if role.eku_critical && !(ext.critical && only_purpose(ext.value)) {
        return Err(ChainError::WrongExtendedKeyUsage);
    }
    Ok(())
}

/// Whether `eku` names exactly one purpose (RFC 3161 §2.3: a TSA's certificate has
/// id-kp-timeStamping alone).
fn only_purpose(eku: &x509_parser::extensions::ExtendedKeyUsage<'_>) -> bool {
    let flags = [
        eku.any,
        eku.server_auth,
        eku.client_auth,
        eku.code_signing,
        eku.email_protection,
        eku.time_stamping,
        eku.ocsp_signing,
    ];
    flags.iter().filter(|f| **f).count() + eku.other.len() == 1
}
