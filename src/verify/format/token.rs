//! The QR token (COSE_Sign1, see [`crate::token`]): parsed, its `kid` names a trusted
//! seal, and that seal's key verifies its signature.

use std::sync::Arc;

use time::OffsetDateTime;

use super::{Evidence, Read};
use crate::signing::SealVerifier;
use crate::token;
use crate::verify::report::{Check, Subject};
use crate::verify::trust::{TrustSet, TrustedSeal};

/// Reads COSE token bytes: `input.read`, `token.signer`, `token.signature`.
pub(crate) fn read(trust: &TrustSet, bytes: &[u8], subject: Subject) -> Read {
    let parsed = match token::parse(bytes) {
        Ok(p) => p,
        Err(e) => return Read::Stopped(vec![Check::unreadable(&format!("not a licence token: {e}"))]),
    };
    let mut checks = vec![Check::pass("input.read", "二维码令牌格式正确", "a well-formed licence token")];
    let holds = |v: &SealVerifier| token::verify(&parsed, v).is_ok();
    let Some(seal) = authenticate(trust, &parsed.kid, holds, &mut checks) else {
        return Read::Stopped(checks);
    };
    let claims = parsed.claims;
    // Without the register's word, the token's own date is all there is.
    let claimed_signing_time =
        OffsetDateTime::from_unix_timestamp(claims.issued_at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    Read::Evidence(Box::new(Evidence {
        subject,
        checks,
        claims: Some(claims),
        assessment: trust.assessment(&seal),
        seal: Some(seal),
        claimed_signing_time,
        proven_time: None,
        record_hash: None,
    }))
}

/// `token.signer` and `token.signature` of a token (a licence's or a bundle receipt's)
/// naming `kid`, whose signature `holds` for a seal's key: the seal, if it is authentic.
pub(crate) fn authenticate(
    trust: &TrustSet,
    kid: &[u8],
    holds: impl Fn(&SealVerifier) -> bool,
    checks: &mut Vec<Check>,
) -> Option<Arc<TrustedSeal>> {
    let Some(seal) = trust.seal_by_kid(kid) else {
        checks.push(Check::fail(
            "token.signer",
            "签名印章不在信任列表中：可能是伪造的二维码",
            format!("no trusted seal has key id {}: the token may be forged", hex::encode(kid)),
        ));
        return None;
    };
    let verified = seal.verifier.as_ref().is_some_and(holds);
    checks.push(if verified {
        Check::pass(
            "token.signer",
            format!("由 {}「{}」签发", seal.department_name, seal.name),
            format!("signed by seal {} of {}", seal.id, seal.department_code),
        )
    } else {
        // The kid only names a seal: without a holding signature the token merely
        // claims it, and the report must not read as if that seal had signed.
        Check::not_checked(
            "token.signer",
            format!("声称由 {}「{}」签发，但签名不成立", seal.department_name, seal.name),
            format!(
                "claims to be signed by seal {} of {}, but the signature does not hold",
                seal.id, seal.department_code
            ),
        )
    });
    checks.push(if verified {
        Check::pass(
            "token.signature",
            "二维码签名有效，内容未被篡改",
            "the token signature holds: its content is unaltered",
        )
    } else {
        Check::fail(
            "token.signature",
            "二维码签名无效：内容被篡改或为伪造",
            "the token signature does not hold: altered or forged",
        )
    });
    verified.then(|| seal.clone())
}
