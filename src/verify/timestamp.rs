//! Time-stamps inside documents (RFC 3161 tokens: a PAdES signature time-stamp, a PDF
//! document time-stamp, a GB/T 38540 signature's `timeStamp`): whether one proves a time,
//! written once for every format.
//!
//! A token proves that the data it stamps existed at its `genTime` when: it is a valid
//! token over exactly those data ([`crate::tsa::verify_token_parts`]), its signer holds a
//! time-stamping certificate of a trusted root valid at `genTime`, the roots' CRLs do not
//! list that certificate as revoked at or before `genTime` (nor for key compromise before
//! the moment the token itself is proven to exist), and that moment — the validation
//! time, or the time of a later time-stamp covering this one — is within the TSA
//! certificate's validity. That is the ETSI EN 319 102-1 past-validation of a time-stamp,
//! with proof of existence given by later time-stamps.

use time::OffsetDateTime;

use super::report::Check;
use super::trust::TrustSet;
use crate::pki::{self, RevocationReason};
use crate::tsa::{self, StampInfo};

/// A time proven by a validated time-stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ProvenTime {
    /// The stamp's time.
    pub(crate) time: OffsetDateTime,
    /// The TSA certificate's subject.
    pub(crate) tsa: String,
    /// When the TSA certificate expires: the proof must be carried on by then.
    pub(crate) tsa_not_after: OffsetDateTime,
}

/// Why a time-stamp proves nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StampFailure {
    /// Whether it is only unproven (its TSA certificate expired and nothing later carries
    /// the proof: ETSI's "no proof of existence"), not wrong.
    pub(crate) indeterminate: bool,
    /// In Chinese.
    pub(crate) zh: String,
    /// In English.
    pub(crate) en: String,
}

impl StampFailure {
    fn wrong(zh: String, en: String) -> Self {
        Self { indeterminate: false, zh, en }
    }

    /// The failure as the check `code`: failed, or not checked when only unproven.
    pub(crate) fn check(self, code: &'static str) -> Check {
        if self.indeterminate {
            Check::not_checked(code, self.zh, self.en)
        } else {
            Check::fail(code, self.zh, self.en)
        }
    }
}

/// Validates `token_der` over `parts` (concatenated) for a verifier at `now`: see the
/// module. `poe` is the time at which the token is proven to exist (a later time-stamp's
/// time), `None` when nothing later covers it (then `now`). `crls` are CRLs besides the
/// trust set's (a PDF's DSS), `certs` certificates that may hold the TSA's.
pub(crate) fn validate(
    trust: &TrustSet,
    token_der: &[u8],
    parts: &[&[u8]],
    certs: &[Vec<u8>],
    crls: &[Vec<u8>],
    poe: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(StampInfo, ProvenTime), StampFailure> {
    let info = tsa::verify_token_parts(token_der, parts, trust.roots(), certs).map_err(|e| {
        let zh = match &e {
            tsa::TsaError::ImprintMismatch => "时间戳不是对该签名（或文档）所加".to_owned(),
            tsa::TsaError::Chain(c) => format!("时间戳服务证书不受信任：{c}"),
            _ => format!("时间戳无效：{e}"),
        };
        StampFailure::wrong(zh, format!("{e} ({})", e.code()))
    })?;
    let fmt = |t: OffsetDateTime| crate::verify::checks::fmt_time(t);
    let chain = pki::validate_tsa_cert(&info.tsa_cert_der, trust.roots(), info.gen_time).map_err(|e| {
        StampFailure::wrong(
            format!("时间戳服务证书不受信任：{e}"),
            format!("TSA certificate: {e} ({})", e.code()),
        )
    })?;
    let leaf = chain.path.first().ok_or_else(|| {
        StampFailure::wrong("时间戳服务证书缺失".to_owned(), "no TSA certificate".to_owned())
    })?;
    let proven_at = poe.unwrap_or(now);
    if proven_at > leaf.not_after {
        return Err(StampFailure {
            indeterminate: true,
            zh: format!("时间戳服务证书已于 {} 过期，此后没有新的时间戳为其续期", fmt(leaf.not_after)),
            en: format!(
                "the TSA certificate expired at {} and no later time-stamp carries the proof on",
                fmt(leaf.not_after)
            ),
        });
    }
    let mut all_crls = trust.crls().to_vec();
    all_crls.extend(crls.iter().cloned());
    let issuer = super::trust::issuer_der(&chain, certs, trust.roots());
    if let Some(issuer) = issuer
        // Every CRL known now, also when the report is for an earlier moment.
        && let Ok(status) = pki::revocation_status(&info.tsa_cert_der, issuer, &all_crls, trust.built_at.max(now))
        && let Some((revoked_at, reason)) = status.revoked
    {
        let compromise = matches!(reason, RevocationReason::KeyCompromise | RevocationReason::Unspecified);
        if revoked_at <= info.gen_time || (compromise && revoked_at <= proven_at) {
            return Err(StampFailure::wrong(
                format!("时间戳服务证书已于 {} 吊销", fmt(revoked_at)),
                format!("the TSA certificate was revoked at {} ({reason})", fmt(revoked_at)),
            ));
        }
    }
    let proven = ProvenTime { time: info.gen_time, tsa: leaf.subject.clone(), tsa_not_after: leaf.not_after };
    Ok((info, proven))
}
