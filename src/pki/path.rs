//! Path building and the per-certificate checks of chain validation: issuer by name and
//! key identifier with its signature verified, critical extensions, CA constraints,
//! validity and the seal certificate's key usages.

use time::OffsetDateTime;
use x509_parser::certificate::X509Certificate;

use super::cert::{DOCUMENT_SIGNING_EKU, authority_key_id, can_sign_certs, parse_cert, subject_key_id};
use super::chain_error::ChainError;
use super::signature::verify_cert;

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

pub(crate) fn parse_all<'a>(ders: &'a [Vec<u8>], what: &str) -> Result<Vec<X509Certificate<'a>>, ChainError> {
    ders.iter()
        .enumerate()
        .map(|(i, d)| parse_cert(d).map_err(|e| ChainError::Malformed(format!("{what} {i}: {e}"))))
        .collect()
}

/// Builds leaf → … → trusted root. Returns clones of the parsed certificates (cheap: they
/// borrow the caller's DER).
pub(crate) fn build_path<'a>(
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
        let verifies = |c: &&&X509Certificate<'a>| verify_cert(current, c.public_key().raw).is_ok();
        if let Some(root) = root_candidates.iter().find(verifies) {
            let root = (*root).clone();
            if root.subject().as_raw() == root.issuer().as_raw()
                && verify_cert(&root, root.public_key().raw).is_err()
            {
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

pub(crate) fn check_critical_extensions(cert: &X509Certificate<'_>) -> Result<(), ChainError> {
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
pub(crate) fn check_ca_constraints(path: &[X509Certificate<'_>]) -> Result<(), ChainError> {
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

pub(crate) fn check_validity(cert: &X509Certificate<'_>, at: OffsetDateTime) -> Result<(), ChainError> {
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

pub(crate) fn check_leaf_usage(leaf: &X509Certificate<'_>) -> Result<(), ChainError> {
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
