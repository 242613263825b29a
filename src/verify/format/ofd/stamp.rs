//! `ofd.timestamp`: the time-stamp a GB/T 38540 seal signature carries in `timeStamp` — an
//! RFC 3161 token over the signature value — validated as every document time-stamp is
//! ([`crate::verify::timestamp::validate`]). A valid one proves when the signature existed
//! and becomes the signing time.
//!
//! The check fails when a time-stamp is there and is not one: a token of an untrusted TSA,
//! over other bytes, unreadable, or whose TSA certificate was not valid (or was revoked)
//! when it stamped. A time-stamp that held when made but whose TSA certificate has expired
//! since proves nothing any more — nothing in an OFD carries the proof on (no document
//! time-stamps, no archive renewal) — and counts as absent, saying so: a time-stamp must
//! never leave a licence worse off than none. A signature without a time-stamp passes with
//! what that means — the signing time is the signer's claim (online, the register's date) —
//! so that older licences keep their verdict.

use time::OffsetDateTime;

use crate::ofd::SignatureInspection;
use crate::ses::SignatureFacts;
use crate::verify::checks::fmt_time;
use crate::verify::report::Check;
use crate::verify::timestamp::{self, ProvenTime, StampFailure};
use crate::verify::trust::TrustSet;

/// What one signature's `timeStamp` came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Stamp {
    /// No `timeStamp`.
    Absent,
    /// A valid time-stamp: the time it proves.
    Proven(ProvenTime),
    /// A time-stamp that held when made, whose TSA certificate has expired since: why.
    Lapsed(StampFailure),
    /// It proves nothing: why (wrong, or only unproven any more).
    Failed(StampFailure),
}

impl Stamp {
    /// The time it proves, if it does.
    pub(super) fn proven(&self) -> Option<&ProvenTime> {
        match self {
            Self::Proven(p) => Some(p),
            _ => None,
        }
    }
}

/// Judges the time-stamp of the signature `f` for a verifier at `now`: over exactly the
/// signature value (the content of its `signature` BIT STRING).
pub(super) fn judge(trust: &TrustSet, f: &SignatureFacts, now: OffsetDateTime) -> Stamp {
    let Some(token) = f.timestamp.as_deref() else { return Stamp::Absent };
    match timestamp::validate(trust, token, &[&f.signature], &[], &[], None, now) {
        Ok((_, proven)) => Stamp::Proven(proven),
        Err(failure) if failure.indeterminate => Stamp::Lapsed(failure),
        Err(failure) => Stamp::Failed(failure),
    }
}

/// `ofd.timestamp` over every seal signature's stamp (`stamps` in the order of `seals`):
/// failed when any is wrong, not checked when any is only unproven, else passed, saying
/// what the licence's (first) signing time rests on.
pub(super) fn check(seals: &[&SignatureInspection], stamps: &[Stamp]) -> Check {
    let failures: Vec<(&str, &StampFailure)> = seals
        .iter()
        .zip(stamps)
        .filter_map(|(s, stamp)| match stamp {
            Stamp::Failed(f) => Some((s.id.as_str(), f)),
            _ => None,
        })
        .collect();
    if !failures.is_empty() {
        let zh: Vec<String> = failures.iter().map(|(id, f)| format!("签章 {id}：{}", f.zh)).collect();
        let en: Vec<String> = failures.iter().map(|(id, f)| format!("signature {id}: {}", f.en)).collect();
        return Check::fail(
            "ofd.timestamp",
            format!("电子签章时间戳无效：{}", zh.join("；")),
            format!("the seal signature's time-stamp is not valid: {}", en.join("; ")),
        );
    }
    if let Some(Stamp::Lapsed(f)) = stamps.first() {
        return Check::pass(
            "ofd.timestamp",
            format!("电子签章时间戳已不能证明签章时间（{}），签章时间为签章人自述的时间", f.zh),
            format!(
                "the seal signature's time-stamp proves nothing any more ({}): the signing time is the signer's own claim",
                f.en
            ),
        );
    }
    match stamps.first().and_then(Stamp::proven) {
        Some(p) => Check::pass(
            "ofd.timestamp",
            format!(
                "时间戳服务机构 {} 证明签章于 {} 已存在，以此为签章时间（时间戳服务证书有效至 {}）",
                p.tsa,
                fmt_time(p.time),
                fmt_time(p.tsa_not_after)
            ),
            format!(
                "time-stamped by {} at {}: the signing time rests on the time-stamp (its TSA certificate is valid until {})",
                p.tsa,
                fmt_time(p.time),
                fmt_time(p.tsa_not_after)
            ),
        ),
        None => Check::pass(
            "ofd.timestamp",
            "电子签章没有时间戳：签章时间为签章人自述的时间（在线核验时以证照库登记时间为准）",
            "the seal signature carries no time-stamp: the signing time is the signer's own claim (online, the register's date)",
        ),
    }
}
