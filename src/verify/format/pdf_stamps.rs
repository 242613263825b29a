//! The time-stamps of a signed PDF: the signature time-stamp (PAdES B-T, `pdf.timestamp`)
//! and the document time-stamps (B-LTA, `pdf.archive`), validated newest first, each
//! giving the one before it its proof of existence (see [`crate::verify::timestamp`]).

use time::OffsetDateTime;

use crate::pdf::SignatureInfo;
use crate::verify::checks::fmt_time;
use crate::verify::report::Check;
use crate::verify::timestamp::{self, ProvenTime};
use crate::verify::trust::TrustSet;

/// The checks for the time-stamps of `sig` (read from `pdf`) at `now`, and the signing
/// time they prove. A PDF without time-stamps gets no check and proves nothing.
pub(super) fn checks(
    trust: &TrustSet,
    pdf: &[u8],
    sig: &SignatureInfo,
    now: OffsetDateTime,
) -> (Vec<Check>, Option<ProvenTime>) {
    let mut certs = sig.certificates.clone();
    certs.extend(sig.dss_certs.iter().cloned());
    let crls = &sig.dss_crls;
    let mut checks = Vec::new();
    // Newest first: the validation time proves the newest, each proves the one before.
    let (mut newest, mut oldest): (Option<ProvenTime>, Option<ProvenTime>) = (None, None);
    for ts in sig.doc_timestamps.iter().rev() {
        let poe = oldest.as_ref().map(|p| p.time);
        match timestamp::validate(trust, &ts.token_der, &ts.parts(pdf), &certs, crls, poe, now) {
            Ok((_, proven)) => {
                newest.get_or_insert_with(|| proven.clone());
                oldest = Some(proven);
            }
            Err(failure) => {
                checks.push(failure.check("pdf.archive"));
                return (checks, None);
            }
        }
    }
    if let Some(newest) = &newest {
        checks.push(archive_pass(sig, pdf.len(), newest));
    } else if let Ok(seal) = crate::pki::cert_info(&sig.signer_cert_der)
        && now > seal.not_after
    {
        // The seal certificate has expired: its CA need no longer answer for it, so the
        // validation data must be proven to exist from before — a document time-stamp.
        checks.push(Check::not_checked(
            "pdf.archive",
            format!(
                "印章证书已于 {} 过期，文件中没有文档时间戳保护验证数据，无法确认长期有效",
                fmt_time(seal.not_after)
            ),
            format!(
                "the seal certificate expired at {} and no document time-stamp protects the validation data: long-term validity cannot be confirmed",
                fmt_time(seal.not_after)
            ),
        ));
    }
    let Some(token) = &sig.signature_timestamp else {
        // No signature time-stamp: the oldest document time-stamp still proves that the
        // signature existed by its time.
        return (checks, oldest);
    };
    let poe = oldest.as_ref().map(|p| p.time);
    match timestamp::validate(trust, token, &[&sig.signature_value], &certs, crls, poe, now) {
        Ok((_, proven)) => {
            checks.push(Check::pass(
                "pdf.timestamp",
                format!("签名时间戳有效：{} 由 {} 签发", fmt_time(proven.time), proven.tsa),
                format!("the signature time-stamp holds: {} by {}", fmt_time(proven.time), proven.tsa),
            ));
            (checks, Some(proven))
        }
        Err(failure) => {
            checks.push(failure.check("pdf.timestamp"));
            (checks, None)
        }
    }
}

/// `pdf.archive` passed: how many document time-stamps, the newest, until when it carries
/// the proof, and whether anything after it is unprotected.
fn archive_pass(sig: &SignatureInfo, len: usize, newest: &ProvenTime) -> Check {
    let n = sig.doc_timestamps.len();
    let after = sig.doc_timestamps.last().is_some_and(|t| t.revision_len() < len);
    let (tail_zh, tail_en) = if after {
        ("；其后添加的验证数据不受其保护", "; validation data added after it is not protected by it")
    } else {
        ("", "")
    };
    Check::pass(
        "pdf.archive",
        format!(
            "{n} 个文档时间戳有效，最新的为 {}（{}），须在 {} 前续期{tail_zh}",
            fmt_time(newest.time),
            newest.tsa,
            fmt_time(newest.tsa_not_after)
        ),
        format!(
            "{n} document time-stamp(s) hold; the newest, {} by {}, carries the proof until {}{tail_en}",
            fmt_time(newest.time),
            newest.tsa,
            fmt_time(newest.tsa_not_after)
        ),
    )
}
