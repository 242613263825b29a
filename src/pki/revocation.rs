//! Revocation in chain validation: which CRLs are usable, what they list, and whether a
//! listed revocation makes a signature fail.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;
use x509_parser::revocation_list::CertificateRevocationList;

use super::cert::{parse_cert, subject_key_id};
use super::chain_error::ChainError;
use super::crl::{RevocationReason, parse_crl};
use super::error::fmt_time;
use super::signature::verify_crl;

/// CRL extensions the validator understands (CRL number, authority key id).
const KNOWN_CRITICAL_CRL_EXTENSIONS: [&str; 2] = ["2.5.29.20", "2.5.29.35"];
/// CRL entry extensions the validator understands (reason code, invalidity date).
const KNOWN_CRITICAL_ENTRY_EXTENSIONS: [&str; 2] = ["2.5.29.21", "2.5.29.24"];

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

/// Checks `cert` against the CRLs issued by `issuer`.
pub(crate) fn check_revocation(
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
        if verify_crl(crl, issuer.public_key().raw).is_err() {
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
